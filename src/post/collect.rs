//! The collector: outcomes back in input order, created lines to stdout, dead letters to their
//! file, the tally and the releases and test sets touched.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::args::Args;
use super::deliver::Delivery;
use super::job::{Job, Work};
use super::journal::State;
use super::summary::{Tally, Touched};
use super::worker::{Done, Outcome};
use crate::cli;
use crate::error::{Error, Result};

/// What the collector leaves: the tally, what was touched, and the first fatal error.
pub(super) type Collected = (Tally, Touched, Option<Error>);

/// The collector's state while outcomes come in.
struct Collector<'a> {
    args: &'a Args,
    /// Every form of the key: a server that echoes it gets it redacted from the created lines.
    secrets: Vec<memchr::memmem::Finder<'static>>,
    out: cli::LineOut,
    /// The dead-letter file, opened at its first record.
    dead: Option<std::io::BufWriter<std::fs::File>>,
    tally: Tally,
    touched: Touched,
    fatal: Option<Error>,
    /// Standard output could not be written: nothing more is.
    out_closed: bool,
    /// Stops the upload.
    stop: &'a AtomicBool,
}

/// Puts the outcomes back in input order: created lines to stdout, dead letters to their file,
/// the tally, the progress line. `emitted` tells the reading thread how far it has come.
pub(super) fn collect(
    args: &Args,
    secrets: Vec<String>,
    done_rx: mpsc::Receiver<Done>,
    emitted: &(Mutex<u64>, Condvar),
    stop: &AtomicBool,
    started: Instant,
) -> Result<Collected> {
    let mut c = Collector {
        args,
        secrets: secrets
            .into_iter()
            .map(|f| memchr::memmem::Finder::new(f.as_bytes()).into_owned())
            .collect(),
        out: cli::LineOut::stdout(),
        dead: None,
        tally: Tally::default(),
        touched: Touched::default(),
        fatal: None,
        out_closed: false,
        stop,
    };
    let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
    let mut next = 1u64;
    let mut progress = Progress::new(!args.quiet && !args.verbose, started);
    for d in done_rx {
        pending.insert(d.job.index, d);
        while let Some(d) = pending.remove(&next) {
            progress.clear();
            if let Err(e) = c.one(d) {
                // stdout or the dead-letter file failed: nothing more can be kept.
                stop.store(true, Ordering::SeqCst);
                c.fatal.get_or_insert(e);
            }
            next += 1;
            let (lock, cv) = emitted;
            *lock.lock().unwrap_or_else(|p| p.into_inner()) = next - 1;
            cv.notify_all();
        }
        if !c.out_closed {
            // A batch's created lines go out as soon as it is stored, not when a block is full:
            // a later stage may be waiting for them while the input is idle.
            if let Err(e) = c.out.hand_on() {
                c.out_closed = true;
                stop.store(true, Ordering::SeqCst);
                c.fatal.get_or_insert(e);
            }
            progress.draw(&mut c.out, &c.tally);
        }
    }
    progress.clear();
    if !c.out_closed {
        if let Err(e) = c.out.flush() {
            c.fatal.get_or_insert(e);
        }
    }
    Ok((c.tally, c.touched, c.fatal))
}

/// The progress line on a terminal: redrawn at most five times a second, cleared before any
/// other message.
struct Progress {
    on: bool,
    started: Instant,
    shown: Instant,
    drawn: bool,
}

impl Progress {
    fn new(wanted: bool, started: Instant) -> Progress {
        Progress {
            on: wanted && std::io::stderr().is_terminal(),
            started,
            shown: Instant::now(),
            drawn: false,
        }
    }

    fn draw(&mut self, out: &mut cli::LineOut, t: &Tally) {
        if !self.on || self.shown.elapsed() <= Duration::from_millis(200) {
            return;
        }
        let _ = out.flush();
        let _ = write!(
            std::io::stderr(),
            "\r{}: {} batches, {} runs stored, {} retries, {:.0} s\x1b[K",
            cli::tool(),
            t.batches,
            t.runs,
            t.retries,
            self.started.elapsed().as_secs_f64()
        );
        self.shown = Instant::now();
        self.drawn = true;
    }

    fn clear(&mut self) {
        if self.drawn {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
            self.drawn = false;
        }
    }
}

impl Collector<'_> {
    /// One outcome, in its turn.
    fn one(&mut self, d: Done) -> Result<()> {
        let job = d.job;
        let at = format!("{}:{}", job.name, job.line);
        let t = &mut self.tally;
        t.attached.uploaded += d.attached.uploaded;
        t.attached.missing += d.attached.missing;
        t.attached.failed += d.attached.failed;
        if !job.refused.is_empty() {
            self.refused(&job, &at)?;
        }
        self.count_work(&job, &at);
        match d.outcome {
            Outcome::Delivered(delivery) => self.delivered(&job, &at, delivery)?,
            Outcome::Fatal(e) => {
                self.tally.not_sent_batches += 1;
                self.tally.not_sent_runs += job.runs;
                self.fatal.get_or_insert(e);
            }
            Outcome::Nothing => {}
        }
        if let Some(e) = d.after {
            self.fatal.get_or_insert(e);
        }
        Ok(())
    }

    /// A delivered batch: its created lines out at once (they must survive a kill), the runs
    /// rejected on their own into the dead-letter file, one record each, and all of it counted.
    fn delivered(&mut self, job: &Job, at: &str, d: Delivery) -> Result<()> {
        if let Err(e) = self.write_created(&d) {
            // stdout is closed or full: nothing more is written, but all is still counted.
            self.out_closed = true;
            self.stop.store(true, Ordering::SeqCst);
            self.fatal.get_or_insert(e);
        }
        let t = &mut self.tally;
        let stored = d.stored();
        t.batches += u64::from(stored > 0 || job.runs == 0);
        t.runs += stored - d.found;
        t.found_in_build += d.found;
        t.retries += d.retries;
        t.extra_requests += d.extra;
        t.reconciled_runs += d.reconciled;
        t.rejected_runs += d.rejected_runs();
        t.rejected_batches += u64::from(!d.rejected.is_empty());
        t.possibly_duplicated += d.duplicated;
        t.uncertain_runs += d.uncertain;
        t.uncertain_skipped += u64::from(d.uncertain > 0);
        let unsettled = job.runs - stored - d.rejected_runs() - d.uncertain;
        if unsettled > 0 {
            t.not_sent_batches += 1;
            t.not_sent_runs += unsettled;
        }
        if stored > 0 {
            self.touched.releases.extend(&job.releases);
            self.touched.sets.extend(&job.sets);
        }
        if let Some(e) = d.fatal {
            self.fatal.get_or_insert(e);
        }
        for (runs, status, message) in &d.rejected {
            let originals: Vec<Box<RawValue>> = runs
                .iter()
                .filter_map(|&i| job.originals.get(i).cloned())
                .collect();
            cli::error(format_args!(
                "{at}: {} run{} rejected ({status}): {message}; in {}",
                runs.len(),
                if runs.len() == 1 { "" } else { "s" },
                self.args.dead_letter.display()
            ));
            self.dead_letter(json!(status), message, &originals, at)?;
        }
        Ok(())
    }

    /// A delivered batch's created lines, out at once (they must survive a kill), the key
    /// redacted if a server echoed it.
    fn write_created(&mut self, d: &Delivery) -> Result<()> {
        if self.out_closed {
            return Ok(());
        }
        for c in d.created.iter().flatten() {
            let line = c.get();
            if self
                .secrets
                .iter()
                .any(|f| f.find(line.as_bytes()).is_some())
            {
                let mut clean = line.to_string();
                for f in &self.secrets {
                    let form = String::from_utf8_lossy(f.needle()).into_owned();
                    clean = clean.replace(&form, "***");
                }
                self.out
                    .line(|buf| buf.extend_from_slice(clean.as_bytes()))?;
                continue;
            }
            self.out
                .line(|buf| buf.extend_from_slice(line.as_bytes()))?;
        }
        self.out.flush()
    }

    /// Runs the pre-flight kept back: to the dead-letter file, unsent.
    fn refused(&mut self, job: &Job, at: &str) -> Result<()> {
        let ids: Vec<String> = job.refused_ids.iter().map(|i| format!("TC:{i}")).collect();
        let message = format!(
            "preflight: {} runs name test cases that are not in the project ({}); they were not sent",
            job.refused.len(),
            ids.join(", ")
        );
        cli::error(format_args!(
            "{at}: {message}; they are in {}",
            self.args.dead_letter.display()
        ));
        self.dead_letter(Value::Null, &message, &job.refused, at)?;
        self.tally.refused_runs += job.refused.len() as u64;
        Ok(())
    }

    /// What an earlier run of the journal did, or the upload's stop, counted.
    fn count_work(&mut self, job: &Job, at: &str) {
        let t = &mut self.tally;
        match &job.work {
            Work::Earlier(State::Stored(_)) | Work::Earlier(State::Rejected) => {
                t.journal_batches += 1;
                t.journal_runs += job.runs;
            }
            Work::Earlier(_) | Work::Send => {}
            Work::AttachOnly(_) => {
                t.journal_batches += 1;
                t.journal_runs += job.runs;
                cli::warn(format_args!(
                    "{at}: stored by an earlier run whose attachments were cut short: they were uploaded again (some may now be there twice)"
                ));
            }
            Work::Uncertain => {
                t.uncertain_skipped += 1;
                t.uncertain_runs += job.runs;
                cli::warn(format_args!(
                    "{at}: its answer never arrived in an earlier run: it may or may not be stored; skipped (--skip-uncertain)"
                ));
            }
            Work::NotSent => {
                t.not_sent_batches += 1;
                t.not_sent_runs += job.runs;
            }
        }
    }

    /// Appends one dead-letter record, flushed at once. When it cannot be written the upload
    /// stops: the runs are counted in the summary and the journal, and the error says plainly
    /// that they were not saved.
    fn dead_letter(
        &mut self,
        status: Value,
        message: &str,
        runs: &[Box<RawValue>],
        at: &str,
    ) -> Result<()> {
        // The runs byte for byte as they came (a RawValue is written as it is).
        #[derive(serde::Serialize)]
        struct Record<'a> {
            status: Value,
            message: &'a str,
            time: String,
            runs: &'a [Box<RawValue>],
        }
        let record = Record {
            status,
            message,
            time: crate::date::format_iso(crate::date::now()),
            runs,
        };
        let path = &self.args.dead_letter;
        let written = (|| -> std::io::Result<()> {
            let w = match self.dead.as_mut() {
                Some(w) => w,
                None => self.dead.insert(std::io::BufWriter::new(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)?,
                )),
            };
            serde_json::to_writer(&mut *w, &record)?;
            w.write_all(b"\n")?;
            w.flush()
        })();
        written.map_err(|e| {
            Error::Usage(format!(
                "cannot write the dead-letter file '{}': {}: the {} rejected runs of {at} were NOT saved anywhere (the summary and the journal count them); the upload stopped",
                path.display(),
                cli::io_reason(&e),
                runs.len()
            ))
        })
    }
}
