//! `--create-build`: one build per release the runs go to, created before the first batch.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::args::Args;
use super::journal::Journal;
use super::plan;
use crate::cli;
use crate::client::send::{self, Answer, Sender};
use crate::error::{Error, Result};

/// One build per release the runs go to (reusing one an earlier run of the journal created).
pub(super) fn create_builds(
    sender: &Sender<'_>,
    args: &Args,
    name: &str,
    plan: &plan::Plan,
    journal: Option<&Journal>,
) -> Result<HashMap<u64, u64>> {
    let base = sender.conn.project_base(args.conn.api_version);
    let mut builds = HashMap::new();
    let mut rng = send::seed(99);
    for (&release, &failed) in &plan.releases {
        if let Some(&b) = journal.and_then(|j| j.builds.get(&release)) {
            if !args.quiet {
                cli::info(format_args!(
                    "using build BL:{b} in release RL:{release}, created by an earlier run (journal)"
                ));
            }
            builds.insert(release, b);
            continue;
        }
        let body = build_body(sender.conn.project, release, failed, name, plan);
        let url = format!("{base}/releases/{release}/builds");
        let sent = sender.post_blind(&url, &body.to_string(), &mut rng);
        let text = match sent.answer {
            Answer::Ok(t) => t,
            Answer::Denied(s) => {
                return Err(Error::Server(format!(
                    "{s} from Spira when creating the build: check the credentials and that the user may create builds in project PR:{} (nothing was sent)",
                    sender.conn.project
                )))
            }
            Answer::Rejected(s, m) => {
                return Err(Error::Data(format!(
                    "cannot create the build in release RL:{release}: {s} {m} (nothing was sent)"
                )))
            }
            Answer::Redirected(status, to) => return Err(crate::client::redirected(status, &to)),
            Answer::GaveUp(why) | Answer::Uncertain(why) => {
                return Err(Error::Server(format!(
                    "cannot create the build in release RL:{release}: {why} (nothing was sent)"
                )))
            }
            Answer::Stopped => return Err(Error::Exit(3)),
        };
        let id = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("BuildId").and_then(plan::id))
            .ok_or_else(|| {
                Error::Server(format!(
                    "the answer to the build creation has no BuildId: {}",
                    send::first_line(&text)
                ))
            })?;
        if let Some(j) = journal {
            j.build(release, id, name)?;
        }
        if !args.quiet {
            cli::info(format_args!(
                "created build BL:{id} '{name}' in release RL:{release} ({})",
                if failed { "failed" } else { "passed" }
            ));
        }
        builds.insert(release, id);
    }
    Ok(builds)
}

pub(super) fn build_body(
    project: u64,
    release: u64,
    failed: bool,
    name: &str,
    plan: &plan::Plan,
) -> Value {
    json!({
        "ProjectId": project, "ReleaseId": release,
        "BuildStatusId": if failed { 1 } else { 2 },
        "Name": name,
        "Description": format!("{} runs, {} failed or blocked; recorded by spira-post", plan.runs, plan.failed),
    })
}
