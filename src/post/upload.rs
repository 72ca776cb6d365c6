//! The upload: the reading thread prepares each batch and hands it to `--jobs` senders; one
//! collector puts the answers back in input order.

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use super::args::Args;
use super::attach::Attached;
use super::collect::{collect, Collected};
use super::deliver::{Deliverer, Gate};
use super::job::{prepare, Job, Prep, Work};
use super::journal::Journal;
use super::reconcile::{InFlight, Known, Pool, Reconciler};
use super::refresh::refresh;
use super::signals::{self, Interrupted};
use super::summary::{self, summary, Tally, Touched};
use super::worker::{Done, Outcome, Worker};
use crate::cli::{self, Input};
use crate::client::send::{self, Sender};
use crate::config::Connection;
use crate::error::{Error, Result, EXIT_DATA};

/// The batches through the senders and back in order.
pub(super) fn upload(
    args: &Args,
    conn: &Connection,
    sender: &Sender<'_>,
    journal: Option<&Journal>,
    inputs: &[Input],
    prep: &Prep<'_>,
    interrupted: &Interrupted,
) -> Result<()> {
    let started = Instant::now();
    let base = conn.project_base(args.conn.api_version);
    let url = format!("{base}/test-runs/record-multiple");
    let jobs = usize::try_from(args.jobs).unwrap_or(1);
    let (work_tx, work_rx) = mpsc::sync_channel::<Job>(jobs);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    let stop = sender.stop;
    let known = match journal {
        Some(j) => Known::new(j.watermark(), j.stored_ids()),
        None => Known::default(),
    };
    let in_flight = InFlight::default();
    let gate = Gate::default();
    let reconciler = Reconciler {
        sender,
        base: &base,
        known: &known,
    };
    let pool = pool(&reconciler, prep.found_builds, args)?;
    let deliverer = Deliverer {
        sender,
        reconciler,
        pool: &pool,
        url: &url,
        reconcile: !args.no_reconcile,
        skip_uncertain: args.skip_uncertain,
        fail_fast: args.fail_fast,
        rounds: args.retry.retries,
        gate: &gate,
    };
    let reading = Reading {
        args,
        journal,
        prep,
        emitted: (Mutex::new(0u64), Condvar::new()),
    };
    let (read, collected) = std::thread::scope(|s| {
        for w in 0..jobs {
            let done_tx = done_tx.clone();
            let work_rx = &work_rx;
            let worker = Worker {
                deliverer: &deliverer,
                journal,
                known: &known,
                in_flight: &in_flight,
                base: &base,
            };
            s.spawn(move || sender_thread(&worker, work_rx, &done_tx, w as u64));
        }
        let emitted = &reading.emitted;
        let secrets = conn.secret_forms();
        let collector = s.spawn(move || collect(args, secrets, done_rx, emitted, stop, started));
        let read = reading.read(inputs, &work_tx, &done_tx);
        drop(work_tx);
        drop(done_tx);
        let collected = collector
            .join()
            .unwrap_or_else(|_| Err(Error::Server("the collector failed".into())));
        (read, collected)
    });
    let ending = Ending {
        args,
        conn,
        sender,
        prep,
        started,
        interrupted,
    };
    ending.finish(collected?, read)
}

/// The runs the builds found by name hold, read once before the first batch.
fn pool(r: &Reconciler<'_>, builds: &[u64], args: &Args) -> Result<Pool> {
    if builds.is_empty() {
        return Ok(Pool::default());
    }
    let (pool, _requests) = Pool::fill(r, builds, &mut send::seed(98))?;
    if !args.quiet {
        cli::info(format_args!(
            "the build holds {} runs already: those among the input are not sent again",
            pool.runs
        ));
    }
    Ok(pool)
}

/// The reading thread's part: each batch line prepared and handed over, no further ahead of
/// the collector than a window of batches.
struct Reading<'a> {
    args: &'a Args,
    journal: Option<&'a Journal>,
    prep: &'a Prep<'a>,
    /// How many batches the collector has put out (with its condition variable).
    emitted: (Mutex<u64>, Condvar),
}

impl Reading<'_> {
    /// Reads every batch line. A line that is not a batch stops the upload; the lines after it
    /// are counted, and the error says how many were not sent.
    fn read(
        &self,
        inputs: &[Input],
        work_tx: &mpsc::SyncSender<Job>,
        done_tx: &mpsc::Sender<Done>,
    ) -> Result<()> {
        // How far the reader may run ahead of the collector: bounds the memory the reordering uses.
        let window = 2 * self.args.jobs + 2;
        let mut index = 0u64;
        let mut bad: Option<Error> = None;
        let mut after_bad = 0u64;
        let read = cli::each_line(inputs, |name, n, line| {
            if bad.is_some() {
                after_bad += 1;
                return Ok(());
            }
            index += 1;
            self.wait_below(index, window);
            match prepare(self.args, self.journal, self.prep, index, name, n, line) {
                Ok(job) => hand_over(job, work_tx, done_tx),
                Err(e @ Error::Data(_)) => {
                    bad = Some(e);
                    Ok(())
                }
                Err(e) => Err(e),
            }
        });
        match bad {
            Some(Error::Data(m)) => Err(Error::Data(format!(
                "{m}; the upload stopped there: {after_bad} batch line{} after it were not sent",
                if after_bad == 1 { "" } else { "s" }
            ))),
            _ => read,
        }
    }

    /// Waits until batch `index` is within `window` of the last one put out.
    fn wait_below(&self, index: u64, window: u64) {
        let (lock, cv) = &self.emitted;
        let mut e = lock.lock().unwrap_or_else(|p| p.into_inner());
        while index > *e + window {
            e = cv.wait(e).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// A prepared job to the senders, or, when there is nothing to send, straight to the
/// collector.
fn hand_over(
    job: Job,
    work_tx: &mpsc::SyncSender<Job>,
    done_tx: &mpsc::Sender<Done>,
) -> Result<()> {
    match job.work {
        Work::Send | Work::AttachOnly(_) => work_tx
            .send(job)
            .map_err(|_| Error::Server("the senders stopped".into())),
        _ => done_tx
            .send(Done {
                job,
                outcome: Outcome::Nothing,
                attached: Attached::default(),
                after: None,
            })
            .map_err(|_| Error::Server("the collector stopped".into())),
    }
}

/// A sender thread: jobs from the queue until it closes, each worked and its outcome handed to
/// the collector.
fn sender_thread(
    worker: &Worker<'_>,
    work_rx: &Mutex<mpsc::Receiver<Job>>,
    done_tx: &mpsc::Sender<Done>,
    salt: u64,
) {
    let mut rng = send::seed(salt);
    loop {
        let job = match work_rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(j) => j,
            Err(_) => return,
        };
        let done = worker.work(job, &mut rng);
        if done_tx.send(done).is_err() {
            return;
        }
    }
}

/// What the end of the upload needs.
struct Ending<'a, 's> {
    args: &'a Args,
    conn: &'a Connection,
    sender: &'a Sender<'s>,
    prep: &'a Prep<'a>,
    started: Instant,
    interrupted: &'a Interrupted,
}

impl Ending<'_, '_> {
    /// The end, and the `--summary-json` file of how it went.
    fn finish(&self, (tally, touched, fatal): Collected, read: Result<()>) -> Result<()> {
        let result = self.settle((&tally, &touched, fatal), read);
        if let Some(path) = &self.args.summary_json {
            let report = summary::Report {
                tally: &tally,
                touched: &touched,
                builds: self.prep.builds,
                build_name: self.prep.build_name,
                conn: self.conn,
                seconds: self.started.elapsed().as_secs_f64(),
                exit_code: result.as_ref().err().map_or(0, Error::exit_code),
                signal: self.interrupted.signal(),
            };
            summary::write_json(path, &report.to_json())?;
        }
        result
    }

    /// After the upload: what was touched, the error first and then the summary of what was
    /// done before it, the refresh, and the exit.
    fn settle(
        &self,
        (tally, touched, fatal): (&Tally, &Touched, Option<Error>),
        read: Result<()>,
    ) -> Result<()> {
        let Ending {
            args,
            conn,
            sender,
            started,
            interrupted,
            ..
        } = *self;
        say_touched(args, touched);
        // The error first, then the summary of what was done before it.
        let failure = fatal.or(read.err());
        if let Some(sig) = interrupted.signal() {
            if let Some(e) = failure.filter(|e| !matches!(e, Error::Exit(_))) {
                cli::error(format_args!("{e}"));
            }
            cli::error(format_args!(
                "{}: the upload stopped; {} runs were stored before{}, {} were not sent",
                signals::name(sig),
                tally.runs,
                journaled(args),
                tally.not_sent_runs
            ));
            if !args.quiet {
                cli::info(format_args!("{}", summary(tally, args, started)));
            }
            return Err(Error::Exit(u8::try_from(128 + sig).unwrap_or(1)));
        }
        let result = match failure {
            // stdout was closed or cannot be written: the upload stopped; an uploader that stops
            // early says so, and exits 1 when runs were left unsent (not 0, as a closed pipe is
            // for the other tools).
            Some(Error::Io(e)) => {
                let what = if e.kind() == std::io::ErrorKind::BrokenPipe {
                    "standard output was closed".to_string()
                } else {
                    format!("cannot write to standard output: {}", cli::io_reason(&e))
                };
                cli::error(format_args!(
                    "{what}: the upload stopped; {} runs were stored before{}, {} were not sent",
                    tally.runs,
                    journaled(args),
                    tally.not_sent_runs
                ));
                if tally.not_sent_runs > 0 {
                    Err(Error::Exit(EXIT_DATA))
                } else {
                    Ok(())
                }
            }
            Some(e) if !matches!(e, Error::Exit(_)) => {
                cli::error(format_args!("{e}"));
                Err(Error::Exit(e.exit_code()))
            }
            Some(e) => Err(e),
            None => Ok(()),
        };
        if !args.quiet {
            cli::info(format_args!("{}", summary(tally, args, started)));
        }
        result?;
        if tally.runs > 0 && args.refresh {
            let releases: Vec<u64> = touched.releases.iter().copied().collect();
            refresh(&sender.agent, conn, args, &releases)?;
        }
        if tally.rejected_batches > 0 || tally.refused_runs > 0 {
            return Err(Error::Exit(EXIT_DATA));
        }
        Ok(())
    }
}

/// Which releases and test sets received runs, for their refresh.
fn say_touched(args: &Args, touched: &Touched) {
    let touched_any = !touched.releases.is_empty() || !touched.sets.is_empty();
    if !args.quiet && touched_any {
        let list = |s: &BTreeSet<u64>, p: &str| {
            s.iter()
                .map(|i| format!("{p}{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        cli::info(format_args!(
        "runs went to releases [{}] and test sets [{}]: their summary status needs a refresh (record-multiple does not do it){}",
        list(&touched.releases, "RL:"),
        list(&touched.sets, "TX:"),
        if args.refresh { "" } else { "; --refresh asks for it, or run spira-post --refresh-only nightly" }
    ));
    }
}

/// Where the runs stored are on record, for a message about an upload that stopped early.
fn journaled(args: &Args) -> &'static str {
    if args.journal.is_some() {
        " (the journal has them)"
    } else {
        ""
    }
}
