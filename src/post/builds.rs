//! Builds: `--create-build` creates one per release the runs go to; `--build-name` finds the
//! build of that name in each release and creates it only where there is none, so that the
//! shards of one CI run, and its reruns, share one build. Both run before the first batch.
//!
//! Shards started at once may each create the build: every process lists the release's builds
//! again after creating one and takes the one of that name with the lowest `BuildId` (the first
//! created, which every later listing shows), so that all converge on it before sending a run;
//! a build left empty so is said on stderr.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::args::{Args, BuildStatus};
use super::journal::Journal;
use super::plan;
use crate::cli;
use crate::client::send::{self, Answer, Sender};
use crate::config::Connection;
use crate::error::{Error, Result};

/// The builds the runs go to.
#[derive(Default)]
pub(super) struct Builds {
    /// The build of each release.
    pub(super) ids: HashMap<u64, u64>,
    /// Builds that existed before this process (found by name, or created by another at the
    /// same time): the runs they hold are read before anything is sent.
    pub(super) found: Vec<u64>,
}

/// What a created build carries besides its name: its status, and the CI run.
pub(super) struct Meta {
    status: BuildStatus,
    /// The CI run, as one line: system, name, page.
    ci: Option<String>,
    revisions: Vec<String>,
}

impl Meta {
    /// From `--build-status`, `--build-url`, `--revision`, and the CI system's variables.
    pub(super) fn of(args: &Args) -> Meta {
        let ci = crate::ci::from_env();
        let line = match (&args.build_url, &ci) {
            (Some(url), Some(c)) => Some(format!("{}: {} ({url})", c.system, c.name)),
            (Some(url), None) => Some(format!("CI job: {url}")),
            (None, Some(c)) => Some(c.line()),
            (None, None) => None,
        };
        let revisions = if args.revision.is_empty() {
            ci.and_then(|c| c.revision).into_iter().collect()
        } else {
            args.revision.clone()
        };
        Meta {
            status: args.build_status,
            ci: line,
            revisions,
        }
    }
}

/// What finding and creating builds needs.
pub(super) struct Maker<'a> {
    pub(super) sender: &'a Sender<'a>,
    pub(super) args: &'a Args,
    pub(super) name: &'a str,
    pub(super) plan: &'a plan::Plan,
    pub(super) meta: &'a Meta,
    /// `--build-name`: find before creating, and converge after.
    pub(super) find: bool,
}

impl Maker<'_> {
    /// The build of each release the runs go to (reusing one an earlier run of the journal
    /// created).
    pub(super) fn builds(&self, journal: Option<&Journal>) -> Result<Builds> {
        let mut builds = Builds::default();
        let mut rng = send::seed(99);
        for (&release, &failed) in &self.plan.releases {
            if let Some(&b) = journal.and_then(|j| j.builds.get(&release)) {
                self.say(format_args!(
                    "using build BL:{b} in release RL:{release}, created by an earlier run (journal)"
                ));
                builds.ids.insert(release, b);
                continue;
            }
            let found = if self.find {
                self.lowest(release, &mut rng)?
            } else {
                None
            };
            let id = match found {
                Some(b) => {
                    self.say(format_args!(
                        "found build BL:{b} '{}' in release RL:{release}: the runs it holds are not sent again",
                        self.name
                    ));
                    builds.found.push(b);
                    b
                }
                None => self.create(release, failed, &mut rng, &mut builds)?,
            };
            if let Some(j) = journal {
                j.build(release, id, self.name)?;
            }
            builds.ids.insert(release, id);
        }
        Ok(builds)
    }

    /// Creates the build in `release`; with `--build-name`, the one of that name with the
    /// lowest ID after it (another process's, created at the same time) is used instead.
    fn create(
        &self,
        release: u64,
        failed: bool,
        rng: &mut u64,
        builds: &mut Builds,
    ) -> Result<u64> {
        let conn = self.sender.conn;
        let body = build_body(
            conn.project,
            release,
            failed,
            self.name,
            self.plan,
            self.meta,
        );
        let url = builds_url(self.sender.conn, self.args, release);
        let text = ok(
            self.sender.post_blind(&url, &body.to_string(), rng).answer,
            release,
            conn,
        )?;
        let id = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("BuildId").and_then(plan::id))
            .ok_or_else(|| {
                Error::Server(format!(
                    "the answer to the build creation has no BuildId: {}",
                    send::first_line(&text)
                ))
            })?;
        self.say(format_args!(
            "created build BL:{id} '{}' in release RL:{release} ({})",
            self.name,
            status_name(build_status(self.meta.status, failed))
        ));
        if !self.find {
            return Ok(id);
        }
        let lowest = self.lowest(release, rng)?.unwrap_or(id).min(id);
        if lowest != id {
            cli::warn(format_args!(
                "build BL:{id} '{}' in release RL:{release} is left empty: another upload created BL:{lowest} of that name first, and every run goes there",
                self.name
            ));
            builds.found.push(lowest);
        }
        Ok(lowest)
    }

    /// The lowest `BuildId` of the release's builds named exactly `self.name`.
    fn lowest(&self, release: u64, rng: &mut u64) -> Result<Option<u64>> {
        let url = builds_url(self.sender.conn, self.args, release);
        let text = ok(self.sender.get(&url, rng).answer, release, self.sender.conn)?;
        let list: Vec<Value> = serde_json::from_str(&text).map_err(|e| {
            Error::Server(format!(
                "the builds of release RL:{release} are not a JSON array: {e}"
            ))
        })?;
        Ok(list
            .iter()
            .filter(|b| b.get("Name").and_then(Value::as_str) == Some(self.name))
            .filter_map(|b| b.get("BuildId").and_then(plan::id))
            .min())
    }

    fn say(&self, msg: std::fmt::Arguments<'_>) {
        if !self.args.quiet {
            cli::info(msg);
        }
    }
}

/// `…/releases/{release}/builds`: listed with GET, a build created with POST.
pub(super) fn builds_url(conn: &Connection, args: &Args, release: u64) -> String {
    format!(
        "{}/releases/{release}/builds",
        conn.project_base(args.conn.api_version)
    )
}

/// The text of a 200, or the error that stops the upload before anything was sent.
fn ok(answer: Answer, release: u64, conn: &Connection) -> Result<String> {
    match answer {
        Answer::Ok(t) => Ok(t),
        Answer::Denied(s) => Err(Error::Server(format!(
            "{s} from Spira for the builds of release RL:{release}: check the credentials and that the user may read and create builds in project PR:{} (nothing was sent)",
            conn.project
        ))),
        Answer::Rejected(s, m) => Err(Error::Data(format!(
            "the builds of release RL:{release}: {s} {m} (nothing was sent)"
        ))),
        Answer::Redirected(status, to) => Err(crate::client::redirected(status, &to)),
        Answer::GaveUp(why) | Answer::Uncertain(why) => Err(Error::Server(format!(
            "the builds of release RL:{release}: {why} (nothing was sent)"
        ))),
        Answer::Stopped => Err(Error::Exit(3)),
    }
}

/// The `BuildStatusId` of a build: 1 failed, 2 passed.
fn build_status(status: BuildStatus, failed: bool) -> u64 {
    match status {
        BuildStatus::Failed => 1,
        BuildStatus::Passed => 2,
        BuildStatus::FromRuns if failed => 1,
        BuildStatus::FromRuns => 2,
    }
}

fn status_name(id: u64) -> &'static str {
    if id == 1 {
        "failed"
    } else {
        "passed"
    }
}

pub(super) fn build_body(
    project: u64,
    release: u64,
    failed: bool,
    name: &str,
    plan: &plan::Plan,
    meta: &Meta,
) -> Value {
    let counts = format!(
        "{} runs, {} failed or blocked; recorded by spira-post",
        plan.runs, plan.failed
    );
    let description = match &meta.ci {
        Some(ci) => format!("{ci}\n{counts}"),
        None => counts,
    };
    let mut body = json!({
        "ProjectId": project, "ReleaseId": release,
        "BuildStatusId": build_status(meta.status, failed),
        "Name": name,
        "Description": description,
    });
    if !meta.revisions.is_empty() {
        body["Revisions"] = meta
            .revisions
            .iter()
            .map(|r| json!({"RevisionKey": r}))
            .collect();
    }
    body
}
