//! Attachments: after a batch is stored, each run's `_Attachments` are uploaded to Spira's
//! documents and attached to the created test run (artifact type 5): a file through
//! `documents/file` (its content in base64), a link through `documents/url`. A missing or
//! unreadable file is a warning, not a failure.

use serde_json::json;

use crate::cli;
use crate::client::send::{Answer, Sender};
use crate::config::base64;

/// The test run artifact type.
const TEST_RUN: u64 = 5;

/// What became of the attachments of one batch.
#[derive(Default, Clone, Copy)]
pub(crate) struct Attached {
    pub(crate) uploaded: u64,
    pub(crate) missing: u64,
    pub(crate) failed: u64,
    pub(crate) retries: u64,
}

/// Whether `s` is a link rather than a file path.
pub(crate) fn is_url(s: &str) -> bool {
    match s.find("://") {
        Some(i) => {
            i > 0
                && s[..i]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+')
        }
        None => false,
    }
}

/// Uploads `lists[i]` for the run `ids[i]`. Stops early (returning what was done) when the
/// credentials are refused or the server redirects: that is `Err` with the error.
pub(crate) fn upload(
    sender: &Sender<'_>,
    base: &str,
    ids: &[u64],
    lists: &[Vec<String>],
    where_: &str,
    rng: &mut u64,
) -> std::result::Result<Attached, (Attached, crate::error::Error)> {
    let mut done = Attached::default();
    // A run not stored (rejected, or left unsent) has no ID: nothing to attach to.
    for (id, list) in ids.iter().zip(lists).filter(|(id, _)| **id > 0) {
        for a in list {
            let (url, body) = if is_url(a) {
                (
                    format!("{base}/documents/url"),
                    json!({
                        "ProjectId": sender.conn.project, "AttachmentTypeId": 2,
                        "FilenameOrUrl": a, "Description": "Attached by spira-post",
                        "AttachedArtifacts": [{"ArtifactId": id, "ArtifactTypeId": TEST_RUN}],
                    }),
                )
            } else {
                let data = match std::fs::read(a) {
                    Ok(d) => d,
                    Err(e) => {
                        cli::warn(format_args!(
                            "{where_}: attachment '{a}' of test run TR:{id} not uploaded: {}",
                            cli::io_reason(&e)
                        ));
                        done.missing += 1;
                        continue;
                    }
                };
                let file_name = std::path::Path::new(a)
                    .file_name()
                    .map_or_else(|| a.clone(), |n| n.to_string_lossy().into_owned());
                (
                    format!("{base}/documents/file"),
                    json!({
                        "ProjectId": sender.conn.project, "AttachmentTypeId": 1,
                        "FilenameOrUrl": file_name, "Description": "Attached by spira-post",
                        "BinaryData": base64(&data),
                        "AttachedArtifacts": [{"ArtifactId": id, "ArtifactTypeId": TEST_RUN}],
                    }),
                )
            };
            let sent = sender.post_blind(&url, &body.to_string(), rng);
            done.retries += sent.retries;
            match sent.answer {
                Answer::Ok(_) => done.uploaded += 1,
                Answer::Denied(status) => {
                    return Err((done, super::deliver::denied(status, sender.conn.project)))
                }
                Answer::Redirected(status, to) => {
                    return Err((done, crate::client::redirected(status, &to)))
                }
                Answer::Stopped => return Ok(done),
                Answer::Rejected(status, why) => {
                    cli::warn(format_args!(
                        "{where_}: attachment '{a}' of test run TR:{id} not uploaded: {status} {why}"
                    ));
                    done.failed += 1;
                }
                Answer::GaveUp(why) | Answer::Uncertain(why) => {
                    cli::warn(format_args!(
                        "{where_}: attachment '{a}' of test run TR:{id} not uploaded: {why}"
                    ));
                    done.failed += 1;
                }
            }
        }
    }
    Ok(done)
}
