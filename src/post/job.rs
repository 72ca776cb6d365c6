//! Preparing a batch line: what the journal says of it, and (when it is to be sent) the body
//! with spira-pipe's own `_` fields stripped, the pre-flight and the build applied.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::args::Args;
use super::journal::{self, Journal, Resume, State};
use super::plan;
use crate::error::{Error, Result};

/// What a batch needs done.
pub(super) enum Work {
    /// Send it.
    Send,
    /// Stored by an earlier run; upload the attachments of these test runs.
    AttachOnly(Vec<u64>),
    /// Nothing: stored or rejected earlier.
    Earlier(State),
    /// Nothing: it may have been stored earlier (`--skip-uncertain`).
    Uncertain,
    /// Nothing: the upload stopped before it.
    NotSent,
}

/// One batch on its way.
pub(super) struct Job {
    pub(super) index: u64,
    pub(super) name: String,
    pub(super) line: u64,
    pub(super) hash: String,
    pub(super) work: Work,
    /// The JSON array sent: the runs without their `_` fields.
    pub(super) body: String,
    /// The same runs, one by one: what is sent again, in part, after an uncertain outcome.
    pub(super) sent: Vec<Map<String, Value>>,
    /// The watermark an earlier run sent it with, when it is resumed as uncertain.
    pub(super) watermark: Option<u64>,
    /// The runs sent, as given (with `_Attachments`): what a dead letter keeps.
    pub(super) originals: Vec<Map<String, Value>>,
    pub(super) runs: u64,
    /// Each sent run's attachments.
    pub(super) attachments: Vec<Vec<String>>,
    /// Runs the pre-flight refused (unknown test cases), and the IDs they name.
    pub(super) refused: Vec<Map<String, Value>>,
    pub(super) refused_ids: BTreeSet<u64>,
    /// Sent again after an earlier run lost its answer.
    pub(super) resend: bool,
    pub(super) releases: Vec<u64>,
    pub(super) sets: Vec<u64>,
}

/// What the reader applies to each batch.
pub(super) struct Prep<'a> {
    pub(super) known: Option<&'a HashSet<u64>>,
    pub(super) builds: &'a HashMap<u64, u64>,
    pub(super) release: Option<u64>,
}

/// Reads one batch line into a job: what the journal says of it, and (when it is to be sent)
/// the body with spira-pipe's `_` fields stripped, the pre-flight and the build applied.
pub(super) fn prepare(
    args: &Args,
    journal: Option<&Journal>,
    prep: &Prep<'_>,
    index: u64,
    name: &str,
    n: u64,
    line: &[u8],
) -> Result<Job> {
    let not_batch = |why: String| {
        Error::Data(format!(
            "{name}:{n}: not a batch: expected a JSON array of run objects ({why})"
        ))
    };
    let mut job = Job {
        index,
        name: name.to_string(),
        line: n,
        hash: String::new(),
        work: Work::Send,
        body: String::new(),
        sent: Vec::new(),
        watermark: None,
        originals: Vec::new(),
        runs: 0,
        attachments: Vec::new(),
        refused: Vec::new(),
        refused_ids: BTreeSet::new(),
        resend: false,
        releases: Vec::new(),
        sets: Vec::new(),
    };
    if let Some(j) = journal {
        job.hash = journal::hash(line);
        match j.resume(index, &job.hash, name, n)? {
            Resume::Send => {}
            Resume::Attach(ids) => job.work = Work::AttachOnly(ids),
            Resume::Done(state) => job.work = Work::Earlier(state),
            Resume::Uncertain(_) if args.skip_uncertain && args.no_reconcile => {
                job.work = Work::Uncertain
            }
            Resume::Uncertain(watermark) => {
                job.resend = true;
                job.watermark = watermark;
            }
        }
    }
    if matches!(job.work, Work::Earlier(_) | Work::Uncertain) {
        job.runs = serde_json::from_slice::<Vec<&RawValue>>(line)
            .map_err(|e| not_batch(e.to_string()))?
            .len() as u64;
        return Ok(job);
    }
    let runs: Vec<Map<String, Value>> =
        serde_json::from_slice(line).map_err(|e| not_batch(e.to_string()))?;
    let mut body = Vec::with_capacity(runs.len());
    for run in runs {
        if let Some(sent) = prep.apply(&mut job, run) {
            body.push(sent);
        }
    }
    job.runs = body.len() as u64;
    job.body = serde_json::to_string(&body).map_err(|e| not_batch(e.to_string()))?;
    job.sent = body;
    Ok(job)
}

impl Prep<'_> {
    /// One run of a batch: kept back by the pre-flight, or given its build, recorded in the job
    /// (what it touches, its attachments, itself as given) and returned as it is sent.
    fn apply(&self, job: &mut Job, mut run: Map<String, Value>) -> Option<Map<String, Value>> {
        let tc = run.get("TestCaseId").and_then(plan::id);
        if let Some(known) = self.known {
            if !tc.is_some_and(|tc| known.contains(&tc)) {
                job.refused_ids.extend(tc);
                job.refused.push(run);
                return None;
            }
        }
        if !self.builds.is_empty() {
            let release = run.get("ReleaseId").and_then(plan::id).or(self.release);
            if let Some(r) = release {
                if !run.contains_key("ReleaseId") {
                    run.insert("ReleaseId".into(), json!(r));
                }
                if let Some(b) = self.builds.get(&r) {
                    run.insert("BuildId".into(), json!(b));
                }
            }
        }
        job.releases.extend(run.get("ReleaseId").and_then(plan::id));
        job.sets.extend(run.get("TestSetId").and_then(plan::id));
        let files: Vec<String> = match run.get("_Attachments") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        job.attachments.push(files);
        let sent: Map<String, Value> = run
            .iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        job.originals.push(run);
        Some(sent)
    }
}
