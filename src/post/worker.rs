//! A sender thread's work: one batch delivered (or its attachments uploaded), journaled, and
//! its outcome handed to the collector.

use std::sync::atomic::Ordering;

use super::attach::{self, Attached};
use super::deliver::{Batch, Deliverer, Delivery};
use super::job::{Job, Work};
use super::journal::Journal;
use super::reconcile::{Identity, InFlight, Known};
use crate::error::{Error, Result};

/// A batch's outcome.
pub(super) enum Outcome {
    /// It went through delivery: what became of each run.
    Delivered(Delivery),
    /// Nothing to send, or the upload stopped before it.
    Nothing,
    /// It could not be delivered (the journal cannot be written, attachments refused).
    Fatal(Error),
}

pub(super) struct Done {
    pub(super) job: Job,
    pub(super) outcome: Outcome,
    pub(super) attached: Attached,
    /// What went wrong after the batch was stored (the journal, the attachments' credentials).
    pub(super) after: Option<Error>,
}

/// What a sender thread needs to send a batch.
pub(super) struct Worker<'a> {
    pub(super) deliverer: &'a Deliverer<'a>,
    pub(super) journal: Option<&'a Journal>,
    /// What the upload knows the server holds.
    pub(super) known: &'a Known,
    /// The runs in flight.
    pub(super) in_flight: &'a InFlight,
    /// The project's API base, for the attachments.
    pub(super) base: &'a str,
}

impl Worker<'_> {
    /// Delivers one job (or uploads the attachments an earlier run left), journals it, and
    /// says what happened.
    pub(super) fn work(&self, job: Job, rng: &mut u64) -> Done {
        let mut done = Done {
            job,
            outcome: Outcome::Nothing,
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
        let sender = self.deliverer.sender;
        if sender.stop.load(Ordering::SeqCst) {
            done.job.work = Work::NotSent;
            return done;
        }
        if done.job.runs == 0 {
            // Every run was refused by the pre-flight: nothing to send.
            let job = &done.job;
            done.outcome = match self.journaled(|j| j.stored(job.index, &job.hash, &[], true)) {
                Some(e) => Outcome::Fatal(e),
                None => Outcome::Delivered(Delivery::empty()),
            };
            return done;
        }
        self.deliver(&mut done, rng);
        done
    }

    /// The delivery proper: in flight alone with any run that may be the same as one of its
    /// own, journaled before and after.
    fn deliver(&self, done: &mut Done, rng: &mut u64) {
        let job = &done.job;
        let keys = job.ids.iter().map(Identity::key).collect();
        let _held = self.in_flight.hold(keys);
        let watermark = job.watermark.or_else(|| self.known.watermark());
        if let Some(e) = self.journaled(|j| j.sending(job.index, &job.hash, job.runs, watermark)) {
            done.outcome = Outcome::Fatal(e);
            return;
        }
        let at = format!("{}:{}", job.name, job.line);
        let index = job.index;
        let before = move || fault_point("before-request", index);
        let after = move || fault_point("after-answer", index);
        let batch = Batch {
            ids: &job.ids,
            texts: &job.texts,
            body: &job.body,
            watermark,
            resend: job.resend,
            at: &at,
        };
        let d = self.deliverer.deliver(batch, rng, &before, &after);
        let ids = d.ids();
        self.known.stored(&ids);
        let has_files = job.attachments.iter().any(|a| !a.is_empty());
        if let Some(e) = self.journaled(|j| j.delivered(job.index, &job.hash, &d, !has_files)) {
            done.after = Some(e);
        }
        if has_files && done.after.is_none() && d.stored() > 0 {
            done.after = self.attach(done, &ids, rng);
        }
        done.outcome = Outcome::Delivered(d);
    }

    /// A journal entry written, or the error of a journal that cannot be written (which stops
    /// the upload).
    fn journaled(&self, write: impl FnOnce(&Journal) -> Result<()>) -> Option<Error> {
        let e = self.journal.map(write)?.err()?;
        self.deliverer.sender.stop.store(true, Ordering::SeqCst);
        Some(e)
    }

    /// Uploads the attachments of the runs `ids` of a stored batch; a refusal stops the upload.
    /// The error is what stopped it (the refusal, or a journal that cannot be written).
    fn attach(&self, done: &mut Done, ids: &[u64], rng: &mut u64) -> Option<Error> {
        let job = &done.job;
        let sender = self.deliverer.sender;
        let at = format!("{}:{}", job.name, job.line);
        match attach::upload(sender, self.base, ids, &job.attachments, &at, rng) {
            Ok(a) => {
                done.attached = a;
                self.journaled(|j| j.attached(job.index, &job.hash))
            }
            Err((a, e)) => {
                done.attached = a;
                sender.stop.store(true, Ordering::SeqCst);
                Some(e)
            }
        }
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
