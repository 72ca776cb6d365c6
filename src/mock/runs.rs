//! Test runs: each checked as Spira checks it, stored with an ID, counted (duplicates too),
//! and answered as Spira answers.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

use serde_json::value::RawValue;
use serde_json::Value;

use super::catalog::{case_exists, in_set};
use super::conform::taken;
use super::http::{plain, Reply};
use super::openapi::Op;
use super::state::{Config, Index, State, Stored};
use crate::{date, spira};

/// A numeric field, as a number or a numeric string (Spira's JSON reader takes both).
pub(super) fn number(v: &Value, key: &str) -> Option<u64> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A numeric field's value from its raw JSON: a number or a numeric string (Spira's JSON
/// reader takes both).
pub(super) fn raw_number(raw: &RawValue) -> Option<u64> {
    let t = raw.get().trim();
    let t = t
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(t);
    t.trim().parse().ok()
}

pub(super) fn raw_str(raw: &RawValue) -> Option<std::borrow::Cow<'_, str>> {
    serde_json::from_str::<std::borrow::Cow<'_, str>>(raw.get()).ok()
}

pub(super) const ID_FIELDS: [&str; 11] = [
    "TestCaseId",
    "ExecutionStatusId",
    "TestRunFormatId",
    "RunnerAssertCount",
    "ReleaseId",
    "TestSetId",
    "TestSetTestCaseId",
    "BuildId",
    "TestConfigurationId",
    "AutomationHostId",
    "AutomationEngineId",
];

/// A run as the request holds it: fields in key order, values as raw JSON.
type RawRun<'a> = BTreeMap<&'a str, &'a RawValue>;

/// The fields of a run the server checks, read in one pass: numbers read, texts and dates
/// kept for their checks.
#[derive(Default)]
struct Fields<'a> {
    tc: Option<u64>,
    status: Option<u64>,
    release: Option<u64>,
    build: Option<u64>,
    set: Option<u64>,
    numbers: Vec<(&'a str, u64)>,
    runner: Option<&'a RawValue>,
    texts: Vec<(&'a str, &'a RawValue)>,
    dates: Vec<(&'a str, &'a RawValue)>,
    steps: Option<&'a RawValue>,
}

/// A refusal: status and Spira's message.
type Refused = (u16, String);

fn bad<T>(m: String) -> Result<T, Refused> {
    Err((400, m))
}

fn read_fields<'a>(o: &RawRun<'a>) -> Result<Fields<'a>, Refused> {
    let mut f = Fields::default();
    for (&k, &v) in o {
        if v.get() == "null" {
            continue;
        }
        if ID_FIELDS.contains(&k) {
            let n = raw_number(v)
                .ok_or_else(|| (400, format!("Field {k} has an invalid value: {}", v.get())))?;
            match k {
                "TestCaseId" => f.tc = Some(n),
                "ExecutionStatusId" => f.status = Some(n),
                "ReleaseId" => f.release = Some(n),
                "BuildId" => f.build = Some(n),
                "TestSetId" => f.set = Some(n),
                _ => {}
            }
            f.numbers.push((k, n));
            continue;
        }
        match k {
            "RunnerName" => f.runner = Some(v),
            "RunnerTestName" | "RunnerMessage" => f.texts.push((k, v)),
            "StartDate" | "EndDate" => f.dates.push((k, v)),
            "TestRunSteps" => f.steps = Some(v),
            _ => {}
        }
    }
    Ok(f)
}

/// Checks one run as the server does, and returns it normalised for storing (JSON text of an
/// object without `TestRunId`, keys in order), or the server's error (status and message).
/// Values are taken from the request as raw JSON, so nothing is parsed that is not checked.
pub(super) fn check_run(
    o: &RawRun<'_>,
    config: &Config,
    st: &State,
) -> Result<(String, Index), Refused> {
    let mut f = read_fields(o)?;
    let Some(tc) = f.tc else {
        return bad("TestCaseId is required".into());
    };
    if !case_exists(config, st, tc) {
        return Err((
            404,
            format!(
                "Test case TC:{tc} does not exist in project PR:{}",
                config.args.project
            ),
        ));
    }
    match f.status {
        Some(1..=6) => {}
        Some(s) => {
            return bad(format!(
                "ExecutionStatusId {s} is not a valid execution status"
            ))
        }
        None => return bad("ExecutionStatusId is required".into()),
    }
    match (f.runner, f.runner.and_then(raw_str)) {
        (Some(r), Some(n)) if !n.is_empty() => f.texts.push(("RunnerName", r)),
        _ => return bad("RunnerName is required".into()),
    }
    check_lengths(&f.texts)?;
    if let Some(steps) = f.steps {
        check_steps(steps)?;
    }
    let dates = normal_dates(&f.dates)?;
    if let Some(r) = f.release.filter(|r| !config.releases.contains(r)) {
        return bad(format!("Release RL:{r} does not exist in the project"));
    }
    if let Some(b) = f.build.filter(|b| !st.builds.contains_key(b)) {
        return bad(format!("Build BL:{b} does not exist in the project"));
    }
    // A test set without this test case is dropped, silently, as Spira does.
    let drop_set = f.set.is_some_and(|s| !in_set(config, st, s, tc));
    let when = |k: &str| dates.iter().find(|(n, _, _)| *n == k).map(|(_, t, _)| *t);
    let index = Index {
        test_case: tc,
        status: f.status.unwrap_or(0),
        release: f.release,
        test_set: f.set.filter(|_| !drop_set),
        build: f.build,
        start: when("StartDate").unwrap_or(0),
        end: when("EndDate"),
    };
    Ok((stored_form(o, &f.numbers, &dates, drop_set), index))
}

/// Each step of a run needs a Description that is not empty and a valid status, as Spira's
/// step table does.
fn check_steps(steps: &RawValue) -> Result<(), Refused> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Step {
        description: Option<String>,
        execution_status_id: Option<u64>,
    }
    let steps: Vec<Step> = serde_json::from_str(steps.get())
        .map_err(|e| (400, format!("TestRunSteps has an invalid value: {e}")))?;
    for (i, s) in steps.iter().enumerate() {
        if s.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
            return bad(format!("Test run step {}: Description is required", i + 1));
        }
        if !matches!(s.execution_status_id, Some(1..=6)) {
            return bad(format!(
                "Test run step {}: ExecutionStatusId is not a valid execution status",
                i + 1
            ));
        }
    }
    Ok(())
}

/// Texts longer than their columns are refused with SQL Server's own message.
fn check_lengths(texts: &[(&str, &RawValue)]) -> Result<(), Refused> {
    for (field, v) in texts {
        let max = if *field == "RunnerName" {
            spira::RUNNER_NAME_MAX
        } else {
            spira::TEXT_255
        };
        // A character is never more UTF-16 units than its JSON text's bytes.
        if v.get().len() <= max {
            continue;
        }
        if let Some(s) = raw_str(v) {
            if spira::utf16_len(&s) > max {
                return bad(format!("String or binary data would be truncated in table 'TST_TEST_RUN', column '{}'. Truncated value: '{}'.", field.to_uppercase(), s.chars().take(20).collect::<String>()));
            }
        }
    }
    Ok(())
}

/// The dates as instants, each with its text in the form the server answers with when it is
/// not in that form already; a start date is required.
fn normal_dates<'a>(dates: &[(&'a str, &RawValue)]) -> Result<Vec<Dated<'a>>, Refused> {
    if !dates.iter().any(|(k, _)| *k == "StartDate") {
        return bad("StartDate is required".into());
    }
    let mut normal = Vec::with_capacity(2);
    for (field, v) in dates {
        let raw = v.get();
        // Already in the form the server answers with: kept as it is.
        let canonical = raw.len() == 26 && raw.ends_with("Z\"") && raw.as_bytes()[20] == b'.';
        if let Some(t) = raw
            .get(1..25)
            .filter(|_| canonical)
            .and_then(|r| date::parse_iso(r, 0))
        {
            normal.push((*field, t, None));
            continue;
        }
        match raw_str(v).and_then(|s| date::parse_any(&s)) {
            Some(t) => normal.push((*field, t, Some(date::format_iso(t)))),
            None => return bad(format!("{field} {raw} is not a valid date")),
        }
    }
    Ok(normal)
}

/// The run fields Spira's API description marks required.
const REQUIRED: [&str; 5] = [
    "TestRunFormatId",
    "RunnerName",
    "RunnerTestName",
    "RunnerMessage",
    "RunnerStackTrace",
];

/// A date field: its name, its instant, and its text when it must be written anew.
type Dated<'a> = (&'a str, i64, Option<String>);

/// The run as stored: its fields in key order, without spira-pipe's `_` fields, nulls (but for
/// the fields Spira's API description requires, which it answers as sent), a `TestRunId` or a
/// dropped test set; numbers as numbers, dates in the answer's form.
fn stored_form(
    o: &RawRun<'_>,
    numbers: &[(&str, u64)],
    dates: &[Dated<'_>],
    drop_set: bool,
) -> String {
    let mut out = String::with_capacity(o.values().map(|v| v.get().len() + 24).sum());
    out.push('{');
    let mut first = true;
    for (&k, &v) in o {
        if k.starts_with('_')
            || (v.get() == "null" && !REQUIRED.contains(&k))
            || k == "TestRunId"
            || (drop_set && k == "TestSetId")
        {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        // Keys were borrowed from the request, so they hold no escapes.
        out.push('"');
        out.push_str(k);
        out.push_str("\":");
        if let Some((_, n)) = numbers.iter().find(|(n, _)| *n == k) {
            out.push_str(&n.to_string());
        } else if let Some((_, _, Some(d))) = dates.iter().find(|(n, _, _)| *n == k) {
            out.push('"');
            out.push_str(d);
            out.push('"');
        } else {
            out.push_str(v.get());
        }
    }
    out.push('}');
    out
}

/// Stores a checked run: its ID, the duplicate check, the record file; and appends the stored
/// run's JSON to `reply`.
pub(super) fn store(st: &mut State, (content, index): (String, Index), reply: &mut Vec<u8>) {
    // Keys are in order, so equal content is equal text.
    if !st.seen.insert(content_hash(content.as_bytes())) {
        st.stats.duplicates += 1;
    }
    let id = st.next_run;
    st.next_run += 1;
    st.stats.runs += 1;
    // The stored line is written once into the reply, then copied to the store and the record.
    let start = reply.len();
    reply.extend_from_slice(b"{\"TestRunId\":");
    crate::json::uint(reply, id);
    if content.len() > 2 {
        reply.push(b',');
        reply.extend_from_slice(&content.as_bytes()[1..]);
    } else {
        reply.push(b'}');
    }
    let line = &reply[start..];
    if let Some(w) = st.record.as_mut() {
        let _ = w.write_all(line);
        let _ = w.write_all(b"\n");
    }
    st.runs.push(Stored {
        id,
        // Only bytes of the request's JSON and of a number were written: UTF-8.
        json: String::from_utf8_lossy(line).into_owned(),
        index,
    });
}

/// A quick 64-bit hash of stored content, for the duplicate count.
pub(super) fn content_hash(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h ^ w).wrapping_mul(0x0000_0100_0000_01B3).rotate_left(29);
    }
    for &c in chunks.remainder() {
        h = (h ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

pub(super) fn record_multiple(body: &[u8], config: &Config, state: &Mutex<State>) -> Reply {
    // One pass over the body; only a body that is not an array of objects is read again, to
    // say which element is wrong.
    let list: Vec<RawRun<'_>> = match serde_json::from_slice(body) {
        Ok(a) => a,
        Err(e) => {
            let described = config
                .description
                .record_multiple()
                .map(|op| (op, op.check_body(body)));
            return match described {
                Some((op, Err(reason))) => record_as_read(op, body, reason, config, state),
                _ => plain(400, not_runs(body, e)),
            };
        }
    };
    if let Some(op) = config.description.record_multiple() {
        if let Err(reason) = op.check_runs(&list, body) {
            return record_as_read(op, body, reason, config, state);
        }
    }
    store_runs(&list, config, state)
}

/// record-multiple with a body the description refused (`reason`): stored as Spira reads it
/// (`conform`), or refused as Spira refuses it.
fn record_as_read(
    op: &Op,
    body: &[u8],
    reason: String,
    config: &Config,
    state: &Mutex<State>,
) -> Reply {
    let read = match taken(op, body, reason, state) {
        Ok(read) => read,
        Err(reply) => return reply,
    };
    match serde_json::from_slice::<Vec<RawRun<'_>>>(&read) {
        Ok(list) => store_runs(&list, config, state),
        Err(e) => plain(400, not_runs(&read, e)),
    }
}

/// Each run checked as the server checks it and stored, one by one (or all, `--atomic`).
fn store_runs(list: &[RawRun<'_>], config: &Config, state: &Mutex<State>) -> Reply {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let mut reply: Vec<u8> = Vec::with_capacity(list.len() * 400);
    reply.push(b'[');
    let mut pending: Vec<(String, Index)> = Vec::new();
    for (i, v) in list.iter().enumerate() {
        match check_run(v, config, &st) {
            // Saved one by one, no rollback: what came before a bad run stays (unless --atomic).
            Ok(run) if config.args.atomic => pending.push(run),
            Ok(run) => {
                if reply.len() > 1 {
                    reply.push(b',');
                }
                store(&mut st, run, &mut reply);
            }
            Err((_, msg)) => {
                st.stats.rejected += 1;
                if let Some(w) = st.record.as_mut() {
                    let _ = w.flush();
                }
                if config.args.terse_errors {
                    return plain(400, msg);
                }
                return plain(400, format!("Test run {} of {}: {msg}", i + 1, list.len()));
            }
        }
    }
    for run in pending {
        if reply.len() > 1 {
            reply.push(b',');
        }
        store(&mut st, run, &mut reply);
    }
    reply.push(b']');
    if let Some(w) = st.record.as_mut() {
        let _ = w.flush();
    }
    (200, reply, true)
}

/// Why a record-multiple body is not an array of run objects.
pub(super) fn not_runs(body: &[u8], e: serde_json::Error) -> String {
    match serde_json::from_slice::<Vec<&RawValue>>(body) {
        Ok(items) => {
            let n = items.len();
            let i = items
                .iter()
                .position(|v| serde_json::from_str::<RawRun<'_>>(v.get()).is_err())
                .unwrap_or(0);
            format!(
                "Test run {} of {n}: A test run must be a JSON object",
                i + 1
            )
        }
        Err(_) if body.trim_ascii().first() == Some(&b'[') => {
            format!("The request body is not valid JSON: {e}")
        }
        Err(_) => "The request body must be an array of RemoteAutomatedTestRun".into(),
    }
}

pub(super) fn record_one(body: &[u8], config: &Config, state: &Mutex<State>) -> Reply {
    let v: RawRun<'_> = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return plain(400, format!("The request body is not a JSON object: {e}")),
    };
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    match check_run(&v, config, &st) {
        Ok(run) => {
            let mut reply = Vec::new();
            store(&mut st, run, &mut reply);
            if let Some(w) = st.record.as_mut() {
                let _ = w.flush();
            }
            (200, reply, true)
        }
        Err((status, msg)) => {
            st.stats.rejected += 1;
            plain(status, msg)
        }
    }
}
