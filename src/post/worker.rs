//! A sender thread's work: one batch sent (or its attachments uploaded), journaled, and its
//! outcome handed to the collector.

use std::sync::atomic::Ordering;

use serde_json::value::RawValue;

use super::args::Args;
use super::attach::{self, Attached};
use super::job::{created_id, Job, Work};
use super::journal::Journal;
use super::send::{Answer, Sender};
use crate::cli;
use crate::config::Connection;
use crate::error::{Error, Result};

/// A batch's outcome.
pub(super) enum Outcome {
    Stored { created: String, duplicate: bool },
    Rejected(u16, String),
    Fatal(Error),
    Nothing,
}

pub(super) struct Done {
    pub(super) job: Job,
    pub(super) outcome: Outcome,
    pub(super) retries: u64,
    pub(super) attached: Attached,
    /// What went wrong after the batch was stored (the journal, the attachments' credentials).
    pub(super) after: Option<Error>,
}

/// What a sender thread needs to send a batch.
pub(super) struct Worker<'a> {
    pub(super) args: &'a Args,
    pub(super) sender: &'a Sender<'a>,
    pub(super) journal: Option<&'a Journal>,
    /// `record-multiple`'s URL.
    pub(super) url: &'a str,
    /// The project's API base, for the attachments.
    pub(super) base: &'a str,
}

impl Worker<'_> {
    /// Sends one job (or uploads the attachments an earlier run left), journals it, and says
    /// what happened.
    pub(super) fn work(&self, job: Job, rng: &mut u64) -> Done {
        let mut done = Done {
            job,
            outcome: Outcome::Nothing,
            retries: 0,
            attached: Attached::default(),
            after: None,
        };
        if let Work::AttachOnly(ids) = &done.job.work {
            let ids = ids.clone();
            if let Some(e) = self.attach(&mut done, &ids, rng) {
                done.outcome = Outcome::Fatal(e);
            }
            return done;
        }
        if self.sender.stop.load(Ordering::SeqCst) {
            done.job.work = Work::NotSent;
            return done;
        }
        let job = &done.job;
        if job.runs == 0 {
            // Every run was refused by the pre-flight: nothing to send.
            done.outcome = match self.journaled(|j| j.stored(job.index, &job.hash, &[], true)) {
                Some(fatal) => fatal,
                None => Outcome::Stored {
                    created: "[]".into(),
                    duplicate: false,
                },
            };
            return done;
        }
        if let Some(fatal) = self.journaled(|j| j.sending(job.index, &job.hash, job.runs)) {
            done.outcome = fatal;
            return done;
        }
        self.send(&mut done, rng);
        done
    }

    /// A journal entry written, or the fatal outcome of a journal that cannot be written (which
    /// stops the upload).
    fn journaled(&self, write: impl FnOnce(&Journal) -> Result<()>) -> Option<Outcome> {
        let e = self.journal.map(write)?.err()?;
        self.sender.stop.store(true, Ordering::SeqCst);
        Some(Outcome::Fatal(e))
    }

    /// Uploads the attachments of the runs `ids` of a stored batch; a refusal stops the upload.
    /// The error is what stopped it (the refusal, or a journal that cannot be written).
    fn attach(&self, done: &mut Done, ids: &[u64], rng: &mut u64) -> Option<Error> {
        let job = &done.job;
        let at = format!("{}:{}", job.name, job.line);
        match attach::upload(self.sender, self.base, ids, &job.attachments, &at, rng) {
            Ok(a) => {
                done.attached = a;
                self.journaled(|j| j.attached(job.index, &job.hash))
                    .map(fatal_error)
            }
            Err((a, status)) => {
                done.attached = a;
                self.sender.stop.store(true, Ordering::SeqCst);
                Some(denied(status, self.sender.conn))
            }
        }
    }

    /// The request, and what its final answer makes of the batch.
    fn send(&self, done: &mut Done, rng: &mut u64) {
        let job = &done.job;
        fault_point("before-request", job.index);
        let sent = self.sender.post(self.url, &job.body, rng);
        if matches!(sent.answer, Answer::Ok(_)) {
            fault_point("after-answer", job.index);
        }
        done.retries = sent.retries;
        let at = format!("{}:{}", job.name, job.line);
        let (index, hash) = (job.index, job.hash.clone());
        let uncertain = sent.maybe_stored || job.resend;
        let stop = || self.sender.stop.store(true, Ordering::SeqCst);
        done.outcome = match sent.answer {
            Answer::Ok(text) => return self.stored(done, text, sent.maybe_stored, rng),
            Answer::Rejected(status, message) => {
                if self.args.fail_fast {
                    stop();
                }
                self.journaled(|j| j.rejected(index, &hash, status))
                    .unwrap_or(Outcome::Rejected(status, message))
            }
            Answer::Denied(status) => {
                stop();
                if let Some(j) = self.journal {
                    let _ = j.failed(index, &hash, sent.maybe_stored);
                }
                Outcome::Fatal(denied(status, self.sender.conn))
            }
            Answer::GaveUp(why) => {
                stop();
                if let Some(j) = self.journal {
                    let _ = j.failed(index, &hash, uncertain);
                }
                Outcome::Fatal(Error::Server(format!("{at}: {why}")))
            }
            Answer::Stopped => {
                if let Some(j) = self.journal {
                    let _ = j.failed(index, &hash, uncertain);
                }
                done.job.work = Work::NotSent;
                Outcome::Nothing
            }
        };
    }

    /// A 200: the created runs journaled, then the attachments uploaded. The created lines are
    /// written even when a later step failed: the runs are stored.
    fn stored(&self, done: &mut Done, text: String, maybe_stored: bool, rng: &mut u64) {
        let job = &done.job;
        let at = format!("{}:{}", job.name, job.line);
        let created: Vec<&RawValue> = match serde_json::from_str(&text) {
            Ok(c) => c,
            Err(e) => {
                // Stored all the same: never send it again.
                if let Some(j) = self.journal {
                    let _ = j.stored(job.index, &job.hash, &[], true);
                }
                self.sender.stop.store(true, Ordering::SeqCst);
                done.outcome = Outcome::Fatal(Error::Server(format!(
                    "{at}: the batch was stored, but the answer is not a JSON array: {e}"
                )));
                return;
            }
        };
        let has_files = job.attachments.iter().any(|a| !a.is_empty());
        let ids: Vec<u64> = if self.journal.is_some() || has_files {
            created.iter().map(|c| created_id(c)).collect()
        } else {
            Vec::new()
        };
        if created.len() as u64 != job.runs {
            cli::warn(format_args!(
                "{at}: {} runs sent, {} created in the answer",
                job.runs,
                created.len()
            ));
        }
        let failed = self.journaled(|j| j.stored(job.index, &job.hash, &ids, !has_files));
        let duplicate = maybe_stored || job.resend;
        done.after = failed.map(fatal_error);
        if has_files && done.after.is_none() {
            done.after = self.attach(done, &ids, rng);
        }
        done.outcome = Outcome::Stored {
            created: text.clone(),
            duplicate,
        };
    }
}

/// The error of a fatal outcome.
fn fatal_error(o: Outcome) -> Error {
    match o {
        Outcome::Fatal(e) => e,
        _ => Error::Exit(crate::error::EXIT_SERVER),
    }
}

/// Crash testing: `SPIRA_POST_KILL_AT=POINT:N` (POINT `before-request` or `after-answer`, N a
/// batch number) makes spira-post SIGKILL itself at that point of batch N, as a power cut or
/// the OOM killer would. Only the tests set it.
pub(super) fn fault_point(point: &str, index: u64) {
    static AT: std::sync::OnceLock<Option<(String, u64)>> = std::sync::OnceLock::new();
    let at = AT.get_or_init(|| {
        let v = std::env::var("SPIRA_POST_KILL_AT").ok()?;
        let (p, n) = v.split_once(':')?;
        Some((p.to_string(), n.parse().ok()?))
    });
    if at.as_ref().is_some_and(|(p, n)| p == point && *n == index) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &std::process::id().to_string()])
            .status();
        std::process::abort();
    }
}

pub(super) fn denied(status: u16, conn: &Connection) -> Error {
    Error::Server(format!(
        "{status} from Spira: check the user name and API key (RSS token), whether the account is locked, and that the user has the \"Create Test Runs\" permission in project PR:{} (nothing more was sent)",
        conn.project
    ))
}
