//! SIGINT and SIGTERM during an upload. The first one stops the upload as a closed stdout
//! does: no new request is sent, the requests in flight are finished and journaled, the summary
//! says what was stored and what was not sent, and the exit code is 128 + the signal (130,
//! 143). A second one ends the process at once, by the signal's default action; with
//! `--journal` that is safe too: the next run settles what was in flight.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::error::Result;

/// Which signal stopped the upload, if any.
pub(super) struct Interrupted(Arc<AtomicUsize>);

impl Interrupted {
    /// The signal's number, once one came.
    pub(super) fn signal(&self) -> Option<i32> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            n => i32::try_from(n).ok(),
        }
    }
}

/// Makes SIGINT and SIGTERM set `stop` (and say so on stderr), a second one end the process.
#[cfg(unix)]
pub(super) fn on_signals(stop: &Arc<AtomicBool>) -> Result<Interrupted> {
    use crate::cli;
    use crate::error::Error;
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::flag;
    let which = Arc::new(AtomicUsize::new(0));
    let armed = Arc::new(AtomicBool::new(false));
    let failed = |e: std::io::Error| Error::Usage(format!("cannot handle signals: {e}"));
    for sig in [SIGINT, SIGTERM] {
        // Registered first, so it sees `armed` as the previous signal left it.
        flag::register_conditional_default(sig, Arc::clone(&armed)).map_err(failed)?;
        flag::register(sig, Arc::clone(&armed)).map_err(failed)?;
        flag::register(sig, Arc::clone(stop)).map_err(failed)?;
        flag::register_usize(sig, Arc::clone(&which), sig as usize).map_err(failed)?;
    }
    // Nothing may be printed in a handler: a thread says it.
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).map_err(failed)?;
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            cli::info(format_args!(
                "{}: stopping: no new request is sent; the requests in flight are finished (send it again to quit at once)",
                name(sig)
            ));
        }
    });
    Ok(Interrupted(which))
}

/// Elsewhere (Windows) Ctrl+C ends the process at once, as a second signal does on Unix: with
/// `--journal` the next run settles what was in flight.
#[cfg(not(unix))]
pub(super) fn on_signals(_: &Arc<AtomicBool>) -> Result<Interrupted> {
    Ok(Interrupted(Arc::new(AtomicUsize::new(0))))
}

/// A signal's name.
pub(super) fn name(sig: i32) -> &'static str {
    match sig {
        2 => "SIGINT",
        15 => "SIGTERM",
        _ => "a signal",
    }
}
