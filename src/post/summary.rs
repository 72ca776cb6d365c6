//! What happened, counted, and the summary line on stderr.

use std::time::Instant;

use super::args::Args;
use super::attach::Attached;

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
