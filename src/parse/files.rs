//! Many inputs at once: `-j N` workers take the inputs in order and parse each on their own
//! thread, and their output is written in exactly the order one thread writes it (result
//! lines, warnings and errors, and the exit code).
//!
//! Each input's output is held ([`cli::LineOut::held`]) until its turn: all inputs before it
//! written. The input whose turn it is writes straight through, as one thread would; an input
//! whose output outgrows its share ([`HELD_BYTES`]) waits for its turn there. At most
//! [`WINDOW`] inputs past the one being written are taken, so memory stays flat however many
//! inputs there are. A stream (standard input, a FIFO) waits for its turn before it is read,
//! so its results leave as they are read. A worker that takes a large file while a core is
//! free reads it with the reader thread as well (`stream`).
//!
//! The pen: whoever writes holds it ([`State::writing`]); on finishing its own input it writes
//! the finished inputs that follow, in order, then puts it down.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::report::Counts;
use super::walk::{Entry, Kind};
use crate::cli;
use crate::error::Result;

/// The inputs a worker may run ahead of the one being written.
const WINDOW: usize = 64;

/// The most output (and diagnostics) an input holds before it waits for its turn.
const HELD_BYTES: usize = 256 * 1024;

/// What an input's reading left, for its turn.
pub(super) struct Done {
    pub(super) counts: Counts,
    pub(super) outcome: Result<()>,
}

/// An input's end, written at its turn: what was held of it, then its outcome.
struct Finished {
    held: Option<(Vec<u8>, Vec<u8>)>,
    done: Done,
}

/// What is decided at each input's turn: how its outcome counts, and whether the run goes
/// on. It may print (the input's turn is the time to).
pub(super) trait Outcomes: Send + 'static {
    /// False stops the run: nothing after this input is written.
    fn take(&mut self, entry: &Entry, done: Done) -> bool;
}

struct State<O> {
    /// The next input to take.
    next: usize,
    /// The input to write next.
    turn: usize,
    /// Someone holds the pen.
    writing: bool,
    stopped: bool,
    finished: BTreeMap<usize, Finished>,
    outcomes: O,
}

/// Where the output goes: a new handle on it for each input (standard output, or in memory
/// for the fuzz target), and whether it is a terminal.
pub(super) struct Out {
    pub(super) open: Box<dyn Fn() -> Box<dyn std::io::Write> + Send + Sync>,
    pub(super) eager: bool,
}

impl Out {
    /// Standard output.
    pub(super) fn stdout() -> Out {
        use std::io::IsTerminal;
        Out {
            open: Box::new(|| Box::new(std::io::stdout())),
            eager: std::io::stdout().is_terminal(),
        }
    }
}

struct Order<O> {
    out: Out,
    state: Mutex<State<O>>,
    cv: Condvar,
    /// Threads at work, reader threads included: a worker starts a reader thread only while
    /// this is below the jobs.
    busy: AtomicUsize,
    jobs: usize,
}

impl<O> Order<O> {
    fn lock(&self) -> MutexGuard<'_, State<O>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'a>(&self, g: MutexGuard<'a, State<O>>) -> MutexGuard<'a, State<O>> {
        self.cv.wait(g).unwrap_or_else(|p| p.into_inner())
    }
}

impl<O: Send> cli::Turn for Order<O> {
    fn wait(&self, index: usize) -> bool {
        let mut st = self.lock();
        while !st.stopped && (st.turn != index || st.writing) {
            st = Order::wait(self, st);
        }
        st.writing = !st.stopped;
        !st.stopped
    }
}

/// A core for a reader thread, while one is free: released when dropped.
pub(super) struct Core<'a>(Option<&'a AtomicUsize>);

impl Core<'_> {
    pub(super) fn free(&self) -> bool {
        self.0.is_some()
    }
}

impl Drop for Core<'_> {
    fn drop(&mut self) {
        if let Some(b) = self.0 {
            b.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Parses `entries` with `jobs` workers (the calling thread one of them): `parse` reads one
/// input (its index and entry) into the output it is given, with a core for a reader thread when one is free;
/// `outcomes` takes each input's end, in order. Returns `outcomes`.
pub(super) fn parse_all<O, F>(entries: &[Entry], jobs: usize, out: Out, outcomes: O, parse: F) -> O
where
    O: Outcomes + Default,
    F: Fn(usize, &Entry, &mut cli::LineOut, &mut Counts, &Core<'_>) -> Result<()> + Sync,
{
    let jobs = jobs.max(1);
    let workers = jobs.min(entries.len().max(1));
    let order = Arc::new(Order {
        out,
        state: Mutex::new(State {
            next: 0,
            turn: 0,
            writing: false,
            stopped: false,
            finished: BTreeMap::new(),
            outcomes,
        }),
        cv: Condvar::new(),
        busy: AtomicUsize::new(0),
        jobs,
    });
    std::thread::scope(|s| {
        for _ in 1..workers {
            let order = order.clone();
            let parse = &parse;
            s.spawn(move || work(&order, entries, parse));
        }
        work(&order, entries, &parse);
    });
    let mut st = order.lock();
    std::mem::take(&mut st.outcomes)
}

/// One worker: takes the next input (within the window), reads it, and hands its end over.
fn work<O, F>(order: &Arc<Order<O>>, entries: &[Entry], parse: &F)
where
    O: Outcomes,
    F: Fn(usize, &Entry, &mut cli::LineOut, &mut Counts, &Core<'_>) -> Result<()> + Sync,
{
    loop {
        let (i, ours) = {
            let mut st = order.lock();
            while !st.stopped && st.next < entries.len() && st.next >= st.turn + WINDOW {
                st = order.wait(st);
            }
            if st.stopped || st.next >= entries.len() {
                return;
            }
            let i = st.next;
            st.next += 1;
            // The input whose turn it is (and every input with one job) writes at once: no
            // one else takes the pen before it, as every input before it is written.
            (i, st.turn == i && !st.writing)
        };
        let entry = &entries[i];
        let turn: Arc<dyn cli::Turn> = order.clone();
        let mut out = cli::LineOut::held((order.out.open)(), order.out.eager, turn, i, HELD_BYTES);
        if ours {
            let _ = out.open();
        }
        order.busy.fetch_add(1, Ordering::AcqRel);
        let core = reserve(order);
        let mut counts = Counts::default();
        let mut outcome = match entry.kind {
            // A stream is read at its turn, so that its results leave as they come.
            Kind::Stream => out.open(),
            _ => Ok(()),
        };
        if outcome.is_ok() {
            outcome = parse(i, entry, &mut out, &mut counts, &core);
        }
        drop(core);
        order.busy.fetch_sub(1, Ordering::AcqRel);
        let held = match out.finish() {
            Ok(h) => h,
            Err(e) => {
                if outcome.is_ok() {
                    outcome = Err(e);
                }
                None
            }
        };
        let done = Done { counts, outcome };
        hand_over(order, entries, i, Finished { held, done });
    }
}

/// A core for a reader thread, if one is free.
fn reserve<O>(order: &Order<O>) -> Core<'_> {
    let got = order
        .busy
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
            (b < order.jobs).then_some(b + 1)
        })
        .is_ok();
    Core(got.then_some(&order.busy))
}

/// Input `i` has ended: written at once when the pen is (or may be) ours, else kept for its
/// turn.
fn hand_over<O: Outcomes>(order: &Order<O>, entries: &[Entry], i: usize, f: Finished) {
    let mut st = order.lock();
    if st.stopped {
        return;
    }
    // Held output: ours to write only if it is our turn and nobody writes.
    let ours = match f.held {
        None => true,
        Some(_) => st.turn == i && !st.writing,
    };
    if !ours {
        st.finished.insert(i, f);
        return;
    }
    st.writing = true;
    let mut next = Some(f);
    while let Some(mut f) = next.take() {
        let index = st.turn;
        drop(st);
        if let Some((out, err)) = &f.held {
            if let Err(e) = write_held(&mut *(order.out.open)(), out, err) {
                f.done.outcome = Err(e.into());
            }
        }
        st = order.lock();
        if !st.outcomes.take(&entries[index], f.done) {
            st.stopped = true;
        }
        st.turn += 1;
        if !st.stopped {
            let turn = st.turn;
            next = st.finished.remove(&turn);
        }
    }
    st.writing = false;
    order.cv.notify_all();
}

/// What an input held, written at its turn: its output, then its diagnostics.
fn write_held(o: &mut dyn std::io::Write, out: &[u8], err: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    o.write_all(out)?;
    o.flush()?;
    std::io::stderr().lock().write_all(err)
}
