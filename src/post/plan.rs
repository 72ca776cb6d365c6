//! The first reading of the whole input, for `--preflight` and `--create-build`: which test
//! cases the runs name, which releases they go to, and whether any failed. Standard input is
//! copied to a temporary file on the way (not kept in memory), and read again from there.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::cli::{self, Input};
use crate::error::{Error, Result};
use crate::record::Kind;

/// What the whole input holds.
#[derive(Default)]
pub(crate) struct Plan {
    /// Every TestCaseId named.
    pub(crate) test_cases: BTreeSet<u64>,
    /// Each release the runs go to (their own, or `--release`), and whether any run in it
    /// failed (Failed or Blocked).
    pub(crate) releases: BTreeMap<u64, bool>,
    /// Where the first run without a release is, if any.
    pub(crate) no_release: Option<String>,
    /// The first run's RunnerName, for a generated build name.
    pub(crate) runner: Option<String>,
    /// Runs in all.
    pub(crate) runs: u64,
    /// Runs that failed or were blocked.
    pub(crate) failed: u64,
}

/// The fields the first reading looks at; the rest is skipped unparsed.
#[derive(Deserialize)]
struct Peek {
    #[serde(rename = "TestCaseId", default)]
    test_case: Option<Value>,
    #[serde(rename = "ReleaseId", default)]
    release: Option<Value>,
    #[serde(rename = "ExecutionStatusId", default)]
    status: Option<Value>,
    #[serde(rename = "RunnerName", default)]
    runner: Option<String>,
}

/// A number as JSON gives it: a number or a numeric string.
pub(crate) fn id(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str()?.trim().parse().ok())
}

/// Reads every input once. Returns the plan and the inputs to read for the upload: standard
/// input is copied on the way to an unlinked temporary file (the tempfile crate: a kill cannot
/// leave it behind), which the second reading reads under the same name.
pub(crate) fn first_pass(inputs: &[Input], release: Option<u64>) -> Result<(Plan, Vec<Input>)> {
    let mut again = Vec::new();
    for input in inputs {
        if input.path.is_some() {
            again.push(Input::new(input.path.as_deref().unwrap_or(Path::new("-"))));
            continue;
        }
        if again.iter().any(|i: &Input| i.spooled.is_some()) {
            return Err(Error::Usage("standard input is named twice".into()));
        }
        let tmp = |e: std::io::Error| {
            Error::Usage(format!(
                "cannot copy standard input to a temporary file in {}: {}",
                std::env::temp_dir().display(),
                cli::io_reason(&e)
            ))
        };
        let mut f = tempfile::tempfile().map_err(tmp)?;
        std::io::copy(&mut input.open_raw()?, &mut f).map_err(tmp)?;
        f.flush().map_err(tmp)?;
        again.push(Input {
            name: input.name.clone(),
            path: None,
            spooled: Some(f),
        });
    }
    let mut plan = Plan::default();
    cli::each_line(&again, |name, n, line| {
        let runs: Vec<Peek> = serde_json::from_slice(line).map_err(|e| {
            Error::Data(match Kind::hint(line, Kind::Batch) {
                Some(hint) => format!("{name}:{n}: not a batch: {hint}"),
                None => {
                    format!("{name}:{n}: not a batch: expected a JSON array of run objects ({e})")
                }
            })
        })?;
        for r in runs {
            plan.runs += 1;
            if let Some(tc) = r.test_case.as_ref().and_then(id) {
                plan.test_cases.insert(tc);
            }
            let failed = matches!(r.status.as_ref().and_then(id), Some(1 | 5));
            plan.failed += u64::from(failed);
            match r.release.as_ref().and_then(id).or(release) {
                Some(rl) => *plan.releases.entry(rl).or_default() |= failed,
                None => {
                    plan.no_release.get_or_insert_with(|| format!("{name}:{n}"));
                }
            }
            if plan.runner.is_none() {
                plan.runner = r.runner.filter(|s| !s.is_empty());
            }
        }
        Ok(())
    })?;
    Ok((plan, again))
}
