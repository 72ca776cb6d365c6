//! What happened, counted, and the summary line on stderr.

use std::time::Instant;

use super::args::Args;
use super::attach::Attached;

/// The releases and test sets that received runs: their summaries need refreshing.
#[derive(Default)]
pub(super) struct Touched {
    pub(super) releases: std::collections::BTreeSet<u64>,
    pub(super) sets: std::collections::BTreeSet<u64>,
}

/// What happened, for the summary.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) batches: u64,
    pub(super) runs: u64,
    pub(super) retries: u64,
    pub(super) rejected_batches: u64,
    pub(super) rejected_runs: u64,
    pub(super) refused_runs: u64,
    pub(super) possibly_duplicated: u64,
    /// Requests beyond one per batch: listings, re-sends, narrowing.
    pub(super) extra_requests: u64,
    /// Runs found stored by reconciliation.
    pub(super) reconciled_runs: u64,
    /// Runs found already stored in a build found by name (`--build-name`): not sent.
    pub(super) found_in_build: u64,
    pub(super) journal_batches: u64,
    pub(super) journal_runs: u64,
    pub(super) uncertain_skipped: u64,
    pub(super) uncertain_runs: u64,
    pub(super) not_sent_batches: u64,
    pub(super) not_sent_runs: u64,
    pub(super) attached: Attached,
}

pub(super) fn summary(t: &Tally, args: &Args, started: Instant) -> String {
    let dead = args.dead_letter.display();
    let mut s = format!(
        "{} batches, {} runs stored in {:.1} s; {} retries; {} runs rejected{}; {} runs possibly duplicated",
        t.batches,
        t.runs,
        started.elapsed().as_secs_f64(),
        t.retries,
        t.rejected_runs,
        if t.rejected_runs > 0 { format!(" into {dead}") } else { String::new() },
        t.possibly_duplicated,
    );
    if t.extra_requests > 0 {
        s.push_str(&format!(
            "; reconciled {} runs found stored, {} extra requests (listing what the server holds, sending again only what it does not, narrowing rejections)",
            t.reconciled_runs, t.extra_requests
        ));
    }
    if t.found_in_build > 0 {
        s.push_str(&format!(
            "; {} runs found already stored in the build, not sent again",
            t.found_in_build
        ));
    }
    if t.refused_runs > 0 {
        s.push_str(&format!(
            "; {} runs of unknown test cases kept unsent in {dead}",
            t.refused_runs
        ));
    }
    if t.journal_batches > 0 {
        s.push_str(&format!(
            "; {} batches ({} runs) done before, per the journal",
            t.journal_batches, t.journal_runs
        ));
    }
    if t.uncertain_skipped > 0 {
        s.push_str(&format!(
            "; {} uncertain batches ({} runs) left unsent (--skip-uncertain): they may or may not be stored",
            t.uncertain_skipped, t.uncertain_runs
        ));
    }
    if t.not_sent_batches > 0 {
        s.push_str(&format!(
            "; {} batches ({} runs) not stored{}",
            t.not_sent_batches,
            t.not_sent_runs,
            if args.journal.is_some() {
                ": run again with the same input and journal to send them"
            } else {
                ""
            }
        ));
    }
    let a = &t.attached;
    if a.uploaded + a.missing + a.failed > 0 {
        s.push_str(&format!(
            "; {} attachments uploaded, {} missing, {} failed",
            a.uploaded, a.missing, a.failed
        ));
    }
    s
}

/// What `--summary-json` writes: the summary as one JSON object (schemas/post-summary.schema.json).
pub(super) struct Report<'a> {
    pub(super) tally: &'a Tally,
    pub(super) touched: &'a Touched,
    /// The build of each release the runs went to (`--create-build`).
    pub(super) builds: &'a std::collections::HashMap<u64, u64>,
    pub(super) build_name: Option<&'a str>,
    pub(super) conn: &'a crate::config::Connection,
    pub(super) seconds: f64,
    /// How the upload ended: its exit code, and the signal that stopped it.
    pub(super) exit_code: u8,
    pub(super) signal: Option<i32>,
}

impl Report<'_> {
    pub(super) fn to_json(&self) -> serde_json::Value {
        use crate::spira::web::{url, Page};
        use serde_json::json;
        let (t, c) = (self.tally, self.conn);
        let page = |kind, id: u64| url(&c.url, c.project, kind, id);
        let mut builds: Vec<(u64, u64)> = self.builds.iter().map(|(&r, &b)| (r, b)).collect();
        builds.sort_unstable();
        let one_build = (builds.len() == 1).then(|| builds[0]);
        let releases: Vec<u64> = self.touched.releases.iter().copied().collect();
        let one_release = match (one_build, releases.as_slice()) {
            (Some((r, _)), _) => Some(r),
            (None, [r]) => Some(*r),
            _ => None,
        };
        let a = &t.attached;
        json!({
            "tool": "spira-post",
            "version": crate::cli::VERSION,
            "project_id": c.project,
            "build_id": one_build.map(|(_, b)| b),
            "build_url": one_build.map(|(_, b)| page(Page::Build, b)),
            "build_name": self.build_name.filter(|_| !builds.is_empty()),
            "release_id": one_release,
            "release_url": one_release.map(|r| page(Page::Release, r)),
            "builds": builds.iter().map(|&(r, b)| json!({
                "release_id": r, "build_id": b, "build_url": page(Page::Build, b),
            })).collect::<Vec<_>>(),
            "releases": releases,
            "test_sets": self.touched.sets.iter().collect::<Vec<_>>(),
            "batches": t.batches,
            "runs_stored": t.runs,
            "runs_found_stored": t.found_in_build + t.journal_runs,
            "runs_rejected": t.rejected_runs,
            "runs_refused": t.refused_runs,
            "runs_unsent": t.not_sent_runs,
            "runs_uncertain": t.uncertain_runs,
            "runs_possibly_duplicated": t.possibly_duplicated,
            "retries": t.retries,
            "attachments": {"uploaded": a.uploaded, "missing": a.missing, "failed": a.failed},
            "seconds": (self.seconds * 1000.0).round() / 1000.0,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "ci": crate::ci::from_env().map(|c| json!({
                "system": c.system, "name": c.name, "url": c.url, "revision": c.revision,
            })),
        })
    }
}

/// Writes the summary to `path` whole or not at all (a temporary file beside it, renamed).
pub(super) fn write_json(
    path: &std::path::Path,
    v: &serde_json::Value,
) -> crate::error::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let fail = |e: std::io::Error| {
        crate::error::Error::Usage(format!(
            "cannot write the summary '{}': {}",
            path.display(),
            crate::cli::io_reason(&e)
        ))
    };
    let mut f = tempfile::Builder::new()
        .prefix(".spira-post-summary")
        .tempfile_in(dir)
        .map_err(fail)?;
    let mut text = serde_json::to_vec(v).unwrap_or_default();
    text.push(b'\n');
    f.write_all(&text).map_err(fail)?;
    f.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
