//! Delivering one batch exactly once: the request, what its answer says of each run, and what
//! is done when it says too little. An answer that confirms every run stores the batch. When
//! the outcome is uncertain (the connection broke after the request was written, a timeout,
//! 500, 502, 504, a 200 that does not confirm every run), the server is asked what it holds
//! ([`super::reconcile`]) and only the runs it does not hold are sent again. A 400 is narrowed
//! down: what the server stored before the bad run is found the same way, the rest is sent in
//! halves until the runs it rejects on their own are known, each with its own message.
//!
//! The outcomes, as the docs' table has them, are [`Fate`].

use serde_json::value::RawValue;
use serde_json::Value;

use super::plan;
use super::reconcile::{Identity, Pool, Reconciler};
use crate::cli;
use crate::client::send::{Answer, Sender};
use crate::error::Error;

/// What happened to a batch: the rows of the outcome table (docs/guarantees.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fate {
    /// Every run confirmed by the answer.
    Stored,
    /// Uncertain, then reconciled: every run stored once (some found, the rest sent again).
    Reconciled,
    /// Uncertain, and sent again without knowing (reconciliation failed, or `--no-reconcile`).
    PossiblyDuplicated,
    /// Rejected, narrowed down: the good runs stored, the bad ones in the dead-letter file.
    Narrowed,
    /// Uncertain, and left so (`--skip-uncertain` when it could not be reconciled).
    Uncertain,
    /// Not stored, or not all of it: the server refused the credentials, or retries ran out.
    NotStored,
}

/// What became of each run of a batch.
pub(super) struct Delivery {
    /// Each run's created line (as the server answered or lists it), once stored.
    pub(super) created: Vec<Option<Box<RawValue>>>,
    /// Each run's `TestRunId`, once stored (0 before).
    run_ids: Vec<u64>,
    /// Runs rejected: their positions, the status and the server's message.
    pub(super) rejected: Vec<(Vec<usize>, u16, String)>,
    /// Runs found stored by a reconciliation.
    pub(super) reconciled: u64,
    /// Runs found already stored in a build found by name: not sent.
    pub(super) found: u64,
    /// Requests beyond the batch's one: listings, re-sends, narrowing.
    pub(super) extra: u64,
    /// Extra copies that may now be stored: runs × blind re-sends.
    pub(super) duplicated: u64,
    /// Runs left uncertain (`--skip-uncertain`).
    pub(super) uncertain: u64,
    /// Retries of single requests (429, 503, connections that could not be made).
    pub(super) retries: u64,
    /// What stopped the delivery before every run was settled.
    pub(super) fatal: Option<Error>,
}

impl Delivery {
    /// A batch with no runs: nothing to deliver.
    pub(super) fn empty() -> Delivery {
        Delivery::new(0)
    }

    fn new(runs: usize) -> Delivery {
        Delivery {
            created: vec![None; runs],
            run_ids: vec![0; runs],
            rejected: Vec::new(),
            reconciled: 0,
            found: 0,
            extra: 0,
            duplicated: 0,
            uncertain: 0,
            retries: 0,
            fatal: None,
        }
    }

    /// Runs stored.
    pub(super) fn stored(&self) -> u64 {
        self.created.iter().filter(|c| c.is_some()).count() as u64
    }

    /// Runs rejected.
    pub(super) fn rejected_runs(&self) -> u64 {
        self.rejected.iter().map(|(p, _, _)| p.len() as u64).sum()
    }

    /// Each run's `TestRunId` (0 for a run not stored), in order.
    pub(super) fn ids(&self) -> Vec<u64> {
        self.run_ids.clone()
    }

    /// Run `i` stored as `TestRunId` `id`, created as `line` says.
    fn store(&mut self, i: usize, id: u64, line: Option<Box<RawValue>>) {
        self.run_ids[i] = id;
        self.created[i] = line;
    }

    /// The row of the outcome table.
    pub(super) fn fate(&self) -> Fate {
        let settled = self.stored() + self.rejected_runs() == self.created.len() as u64;
        match () {
            _ if self.uncertain > 0 => Fate::Uncertain,
            _ if self.fatal.is_some() || !settled => Fate::NotStored,
            _ if !self.rejected.is_empty() => Fate::Narrowed,
            _ if self.duplicated > 0 => Fate::PossiblyDuplicated,
            _ if self.reconciled > 0 || self.extra > 0 => Fate::Reconciled,
            _ => Fate::Stored,
        }
    }
}

/// The `TestRunId` of one created run (0 when it has none).
pub(super) fn created_id(raw: &RawValue) -> u64 {
    // The usual answer, a number, found in one pass; anything else read in full.
    if let Some(id) = crate::json::member_u64(raw.get(), "TestRunId") {
        return id;
    }
    #[derive(serde::Deserialize)]
    struct Id {
        #[serde(rename = "TestRunId")]
        id: Option<Value>,
    }
    serde_json::from_str::<Id>(raw.get())
        .ok()
        .and_then(|i| i.id.as_ref().and_then(plan::id))
        .unwrap_or(0)
}

/// What a delivery needs.
pub(super) struct Deliverer<'a> {
    pub(super) sender: &'a Sender<'a>,
    pub(super) reconciler: Reconciler<'a>,
    /// The runs the builds found by name already hold.
    pub(super) pool: &'a Pool,
    /// `record-multiple`'s URL.
    pub(super) url: &'a str,
    /// Ask the server what it holds before sending again (off: `--no-reconcile`).
    pub(super) reconcile: bool,
    /// Leave an uncertain batch that cannot be reconciled (`--skip-uncertain`).
    pub(super) skip_uncertain: bool,
    /// `--fail-fast`: stop the upload at the first rejection.
    pub(super) fail_fast: bool,
    /// How many times a set of runs is sent again after uncertain outcomes (`--retries`).
    pub(super) rounds: u32,
    /// The first request goes alone.
    pub(super) gate: &'a Gate,
}

/// The first request of an upload goes alone: the other senders wait until it has its answer,
/// so that a key the server refuses is sent once, not once per job (Spira locks an account
/// after a few failures).
#[derive(Default)]
pub(super) struct Gate {
    /// 0: nobody sent yet; 1: the first request is out; 2: open to all.
    state: std::sync::Mutex<u8>,
    opened: std::sync::Condvar,
}

impl Gate {
    /// True for the first caller, who sends alone; the others wait until it is open.
    fn enter(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            match *s {
                0 => {
                    *s = 1;
                    return true;
                }
                2 => return false,
                _ => s = self.opened.wait(s).unwrap_or_else(|p| p.into_inner()),
            }
        }
    }

    fn open(&self) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = 2;
        self.opened.notify_all();
    }
}

/// The batch a delivery is for.
pub(super) struct Batch<'b> {
    /// What tells each run apart from others (for reconciliation).
    pub(super) ids: &'b [Identity],
    /// The runs as sent (without spira-pipe's own `_` fields): their bytes as given.
    pub(super) texts: &'b [String],
    /// The whole batch as it came, sent as it is the first time.
    pub(super) body: &'b str,
    /// The highest `TestRunId` known before it was first sent.
    pub(super) watermark: Option<u64>,
    /// An earlier run lost its answer: what the server holds is found first.
    pub(super) resend: bool,
    /// `FILE:LINE`, for messages.
    pub(super) at: &'b str,
}

/// Runs of a batch to send together.
struct Part {
    runs: Vec<usize>,
    /// A rejection of this part is known to store nothing (it is the first half of a part
    /// rejected with nothing stored: a server that stores runs one by one stopped at its
    /// first run), so it needs no listing.
    clean: bool,
}

/// A delivery in progress.
struct Work<'b> {
    b: Batch<'b>,
    d: Delivery,
    todo: Vec<Part>,
    /// Uncertain outcomes so far.
    rounds: u32,
    /// The server was seen storing nothing of a rejected request: it is atomic, and no
    /// rejection needs a listing from then on.
    atomic: bool,
}

impl Deliverer<'_> {
    /// Delivers a batch. `first` is called before the first request and `answered` after a
    /// 200 to it (the crash tests' kill points).
    pub(super) fn deliver(
        &self,
        b: Batch<'_>,
        rng: &mut u64,
        first: &dyn Fn(),
        answered: &dyn Fn(),
    ) -> Delivery {
        let n = b.texts.len();
        let mut w = Work {
            d: Delivery::new(n),
            todo: Vec::new(),
            rounds: 0,
            atomic: false,
            b,
        };
        let mut all: Vec<usize> = (0..n).collect();
        if !self.pool.is_empty() {
            all = self.pooled(&mut w, all);
        }
        // The batch goes as it came unless the build held some of its runs.
        let whole = all.len() == n;
        if all.is_empty() {
            // Every run is in the build already: nothing to send.
        } else if w.b.resend {
            self.uncertain(
                &mut w,
                all,
                "its answer never arrived in an earlier run",
                rng,
            );
        } else {
            first();
            let part = Part {
                runs: all,
                clean: false,
            };
            self.send(&mut w, part, whole, rng, answered);
        }
        while let Some(part) = w.todo.pop() {
            if w.d.fatal.is_some() || self.sender.stop.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            w.d.extra += 1;
            self.send(&mut w, part, false, rng, &|| {});
        }
        w.d
    }

    /// Sends a part (`whole`: the batch as it came) and settles what the answer says.
    fn send(&self, w: &mut Work<'_>, part: Part, whole: bool, rng: &mut u64, answered: &dyn Fn()) {
        let body = if whole {
            w.b.body.to_string()
        } else {
            crate::json::array(part.runs.iter().map(|&i| w.b.texts[i].as_str()))
        };
        let leading = self.gate.enter();
        let sent = self.sender.post(self.url, &body, rng);
        if matches!(
            sent.answer,
            Answer::Denied(_) | Answer::Redirected(..) | Answer::Rejected(404, _)
        ) {
            self.stop();
        }
        if leading {
            self.gate.open();
        }
        w.d.retries += sent.retries;
        match sent.answer {
            Answer::Ok(text) => {
                answered();
                // The first half of a part rejected with nothing stored went through: the
                // server stores nothing of a rejected request.
                w.atomic |= part.clean;
                let left = confirm(&mut w.d, &part.runs, &text);
                if !left.is_empty() {
                    let n = part.runs.len();
                    let why = format!("the answer confirms {} of {n} runs", n - left.len());
                    self.uncertain(w, left, &why, rng);
                }
            }
            Answer::Uncertain(why) => self.uncertain(w, part.runs, &why, rng),
            Answer::Rejected(400, message) => self.rejected(w, part, message, rng),
            // The endpoint is not there: nothing was stored, and no batch will be.
            Answer::Rejected(404, message) => {
                w.d.fatal = Some(crate::client::not_found(
                    &self.sender.conn.redact(self.url),
                    &message,
                ));
            }
            Answer::Rejected(status, message) => {
                if self.fail_fast {
                    self.stop();
                }
                w.d.rejected.push((part.runs, status, message));
            }
            Answer::Denied(status) => {
                self.stop();
                w.d.fatal = Some(denied(status, self.sender.conn.project));
            }
            Answer::Redirected(status, to) => {
                self.stop();
                w.d.fatal = Some(crate::client::redirected(status, &to));
            }
            Answer::GaveUp(why) => {
                self.stop();
                w.d.fatal = Some(Error::Server(format!("{}: {why}", w.b.at)));
            }
            Answer::Stopped => {}
        }
    }

    /// The runs at `set` may or may not be stored: found by reconciliation, and only those the
    /// server does not hold sent again; or, when that cannot be done, sent again blindly
    /// (counted as possible duplicates) or left (`--skip-uncertain`).
    fn uncertain(&self, w: &mut Work<'_>, set: Vec<usize>, why: &str, rng: &mut u64) {
        w.rounds += 1;
        if w.rounds > self.rounds {
            self.stop();
            w.d.fatal = Some(Error::Server(format!(
                "{}: {} runs still uncertain after {} attempts: {why}",
                w.b.at,
                set.len(),
                w.rounds
            )));
            return;
        }
        if self.reconcile {
            if self.sender.verbose {
                cli::info(format_args!(
                    "{}: {why}; listing what the server holds to settle {} runs",
                    w.b.at,
                    set.len()
                ));
            }
            match self.find(w, &set, rng) {
                Ok(left) => {
                    if !left.is_empty() {
                        w.todo.push(Part {
                            runs: left,
                            clean: false,
                        });
                    }
                    return;
                }
                Err(e) => cli::warn(format_args!(
                    "{}: {why}; what the server holds could not be listed ({e})",
                    w.b.at
                )),
            }
        }
        if self.skip_uncertain {
            w.d.uncertain += set.len() as u64;
            cli::warn(format_args!(
                "{}: {why}: it may or may not be stored; its {} runs are left (--skip-uncertain)",
                w.b.at,
                set.len()
            ));
            return;
        }
        cli::warn(format_args!(
            "{}: {why}; its {} runs are sent again and may be stored twice",
            w.b.at,
            set.len()
        ));
        w.d.duplicated += set.len() as u64;
        w.todo.push(Part {
            runs: set,
            clean: false,
        });
    }

    /// A 400 for a part: the runs stored before the bad one are found (unless the part is
    /// known to store nothing when rejected), and the rest narrowed down to the runs rejected
    /// on their own. The run the message names, or, when a part was stored (the server stores
    /// runs one by one), the first run left, is most likely the bad one: it is tried alone
    /// first; else the rest is halved.
    fn rejected(&self, w: &mut Work<'_>, part: Part, message: String, rng: &mut u64) {
        let set = part.runs;
        if self.fail_fast || set.len() == 1 {
            if self.fail_fast {
                self.stop();
            }
            w.d.rejected.push((set, 400, message));
            return;
        }
        let left = if part.clean || w.atomic {
            set.clone()
        } else {
            match self.find(w, &set, rng) {
                Ok(left) => left,
                Err(e) => {
                    // Not knowing what was stored, nothing is sent again: the runs are set aside.
                    cli::warn(format_args!(
                        "{}: what the server stored of a rejected batch could not be listed ({e})",
                        w.b.at
                    ));
                    w.d.rejected.push((set, 400, message));
                    return;
                }
            }
        };
        let push = |w: &mut Work<'_>, runs: Vec<usize>, clean: bool| {
            if !runs.is_empty() {
                w.todo.push(Part { runs, clean });
            }
        };
        // The message may name the bad run ("Test run 3 of 4: ..."): it is tried alone first.
        if let Some(bad) = named_run(&message, &set).filter(|i| left.contains(i)) {
            push(
                w,
                left.iter().copied().filter(|&i| i != bad).collect(),
                false,
            );
            push(w, vec![bad], false);
            return;
        }
        let n = left.len();
        if n < set.len() {
            push(w, left[1.min(n)..].to_vec(), false);
            push(w, left[..1.min(n)].to_vec(), false);
        } else {
            push(w, left[n / 2..].to_vec(), false);
            push(w, left[..n / 2].to_vec(), true);
        }
    }

    /// The runs at `set` that the builds found by name already hold are stored as found;
    /// returns the others.
    fn pooled(&self, w: &mut Work<'_>, set: Vec<usize>) -> Vec<usize> {
        let ids: Vec<Identity> = set.iter().map(|&i| w.b.ids[i].clone()).collect();
        let found = self.pool.claim(self.reconciler.known, &ids);
        let mut left = Vec::new();
        for (i, f) in set.into_iter().zip(found) {
            match f {
                Some((id, listed)) => {
                    w.d.found += 1;
                    w.d.store(i, id, serde_json::value::to_raw_value(&listed).ok());
                }
                None => left.push(i),
            }
        }
        left
    }

    /// Reconciles the runs at `set`: those found are stored; returns those that are not.
    fn find(&self, w: &mut Work<'_>, set: &[usize], rng: &mut u64) -> Result<Vec<usize>, Error> {
        let ids: Vec<Identity> = set.iter().map(|&i| w.b.ids[i].clone()).collect();
        let found = self.reconciler.find(&ids, w.b.watermark, rng);
        let found = found.inspect(|f| w.d.extra += f.requests)?;
        let mut left = Vec::new();
        for (&i, f) in set.iter().zip(found.runs) {
            match f {
                Some((id, listed)) => {
                    w.d.reconciled += 1;
                    w.d.store(i, id, serde_json::value::to_raw_value(&listed).ok());
                }
                None => left.push(i),
            }
        }
        Ok(left)
    }

    fn stop(&self) {
        self.sender
            .stop
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The error of a 401 or 403.
pub(super) fn denied(status: u16, project: u64) -> Error {
    Error::Server(format!(
        "{status} from Spira: check the user name and API key (RSS token), whether the account is locked, and that the user has the \"Create Test Runs\" permission in project PR:{project} (nothing more was sent)"
    ))
}

/// The run of `set` a rejection's message names, as Spira words it: `Test run K of N`, with N
/// the number of runs sent.
fn named_run(message: &str, set: &[usize]) -> Option<usize> {
    let lower = message.to_ascii_lowercase();
    let rest = &lower[lower.find("test run ")? + 9..];
    let (k, rest) = rest.split_once(" of ")?;
    let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let (k, n): (usize, usize) = (k.trim().parse().ok()?, n.parse().ok()?);
    (n == set.len() && (1..=n).contains(&k)).then(|| set[k - 1])
}

/// Takes the created runs of a 200 for the runs at `set`: one per run, in order, each with a
/// `TestRunId` of its own; returns the runs the answer does not confirm.
fn confirm(d: &mut Delivery, set: &[usize], text: &str) -> Vec<usize> {
    let created: Vec<&RawValue> = serde_json::from_str(text).unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    let mut left = Vec::new();
    for (k, &i) in set.iter().enumerate() {
        let id = created.get(k).map_or(0, |c| created_id(c));
        match created.get(k) {
            Some(c) if id > 0 && seen.insert(id) => d.store(i, id, Some((*c).to_owned())),
            _ => left.push(i),
        }
    }
    left
}
