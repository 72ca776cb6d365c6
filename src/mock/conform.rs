//! The two verdicts on a request the API description refuses, kept apart: would Spira take it
//! (this decides the answer), and what in it the description does not allow (this is counted,
//! never answered). Spira's WCF JSON reader takes a number written as a string (`"7"` for
//! `TestCaseId`), as Inflectra's own pytest and Robot Framework clients send it; every other
//! refusal stands. docs/tools.md (spira-mock) lists each leniency with the client that needs it.

use std::sync::Mutex;

use super::http::{plain, Reply};
use super::openapi::Op;
use super::state::State;

/// What a leniency is called in `/__mock/stats`' `leniencies`.
const NUMBER_AS_STRING: &str = "a number written as a string";

/// The body to handle, for a request whose body the description refused with `reason`: the
/// body as Spira reads it, the leniencies counted; or the 400 Spira answers, counted too (a
/// refused record or record-multiple is a rejected run).
pub(super) fn taken(
    op: &Op,
    body: &[u8],
    reason: String,
    state: &Mutex<State>,
) -> Result<Vec<u8>, Reply> {
    let (read, fields) = op.lenient(body).map_err(|why| {
        if op.records_runs() {
            lock(state).stats.rejected += 1;
        }
        refused(op, body, &why, state)
    })?;
    let mut st = lock(state);
    st.stats.nonconforming_requests += 1;
    for f in &fields {
        let key = format!("{}: {f}: {NUMBER_AS_STRING}", op.name);
        *st.stats.leniencies.entry(key).or_default() += 1;
    }
    st.stats.last_nonconforming_request = Some(format!("{}: {reason} (taken)", op.name));
    Ok(read)
}

/// The 400 of a request Spira refuses too, for `reason`, counted.
pub(super) fn refused(op: &Op, body: &[u8], reason: &str, state: &Mutex<State>) -> Reply {
    let mut st = lock(state);
    st.stats.nonconforming_requests += 1;
    st.stats.last_nonconforming_request = Some(format!("{}: {reason} (refused)", op.name));
    plain(400, op.refusal(body, reason))
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}
