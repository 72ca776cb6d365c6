//! `dart test` / `flutter test` `--reporter json`: JSON lines of events. One result per
//! `testDone` of a test that is not hidden (the "loading …" pseudo-tests are); its `error`
//! events join the details, its `print` events the output; groups are suites under the test
//! file. A stream without a `done` event is complete as far as it goes (Flutter omits it).

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use serde::Deserialize;

use super::doc::{each_line, emit, lenient, Ctx, Text};
use crate::error::{Error, Result};
use crate::parse::report::Report;
use crate::record::{Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "dart";

/// A test that has started.
struct Test {
    name: String,
    suite: Option<u64>,
    groups: Vec<u64>,
    start_ms: Option<f64>,
    line: Option<u64>,
    errors: Vec<String>,
    first_error: Option<String>,
    printed: String,
    /// Why it was skipped: the runner's `skip` message, else the test's `skipReason`.
    skip: Option<String>,
}

#[derive(Default)]
struct State {
    suites: HashMap<u64, String>,
    groups: HashMap<u64, String>,
    tests: HashMap<u64, Test>,
}

pub(super) fn parse(reader: impl Read, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let mut st = State::default();
    let name = report.name.clone();
    each_line(reader, &name, |n, line| {
        let Some(line) = line else {
            return report.hand_on();
        };
        let t = line.bytes.trim_ascii();
        if t.is_empty() {
            return Ok(());
        }
        let read = match line.text {
            Some(text) => serde_json::from_str(text.trim_ascii()),
            None => serde_json::from_slice(t),
        };
        let v: Event<'_> = read.map_err(|e| {
            let reason = crate::json::reason(&e).replace("struct Event", "a JSON object");
            Error::Data(format!(
                "{}:{n}:{}: not a valid dart --reporter json event: {reason}",
                report.name,
                e.column(),
            ))
        })?;
        event(&mut st, v, report, ctx)
    })
}

/// An event: the fields of every kind the reader uses, in one flat record.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Text<'a>>,
    #[serde(borrow)]
    suite: Option<Suite<'a>>,
    #[serde(borrow)]
    group: Option<Suite<'a>>,
    #[serde(borrow)]
    test: Option<Start<'a>>,
    #[serde(rename = "testID", default, deserialize_with = "lenient")]
    test_id: Option<u64>,
    #[serde(borrow)]
    error: Option<Text<'a>>,
    #[serde(borrow)]
    stack_trace: Option<Text<'a>>,
    #[serde(borrow)]
    message: Option<Text<'a>>,
    /// A `print` event's kind: `print` (the test's output) or `skip` (the runner's note of why).
    #[serde(borrow)]
    message_type: Option<Text<'a>>,
    #[serde(borrow)]
    result: Option<Text<'a>>,
    #[serde(default, deserialize_with = "lenient")]
    skipped: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    hidden: Option<bool>,
    time: Option<f64>,
}

/// A suite's or a group's `id` with its `path` (suites) or `name` (groups).
#[derive(Deserialize)]
struct Suite<'a> {
    #[serde(default, deserialize_with = "lenient")]
    id: Option<u64>,
    #[serde(borrow)]
    path: Option<Text<'a>>,
    #[serde(borrow)]
    name: Option<Text<'a>>,
}

/// The `test` of a `testStart`.
#[derive(Deserialize)]
struct Start<'a> {
    #[serde(default, deserialize_with = "lenient")]
    id: Option<u64>,
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(rename = "suiteID", default, deserialize_with = "lenient")]
    suite_id: Option<u64>,
    #[serde(rename = "groupIDs", default, deserialize_with = "lenient")]
    group_ids: Option<Vec<u64>>,
    #[serde(default, deserialize_with = "lenient")]
    root_line: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    line: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    metadata: Option<Metadata>,
}

/// A test's `metadata`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    #[serde(default, deserialize_with = "lenient")]
    skip_reason: Option<String>,
}

fn event(st: &mut State, v: Event<'_>, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let test = v.test_id.and_then(|i| st.tests.get_mut(&i));
    match v.kind.as_deref().unwrap_or("") {
        "suite" => {
            if let Some(Suite {
                id: Some(i),
                path: Some(p),
                ..
            }) = v.suite
            {
                st.suites.insert(i, p.0.into_owned());
            }
        }
        "group" => {
            if let Some(Suite {
                id: Some(i), name, ..
            }) = v.group
            {
                st.groups.insert(i, name.unwrap_or_default().0.into_owned());
            }
        }
        "testStart" => {
            if let Some(t) = v.test {
                start(st, t, v.time);
            }
        }
        "error" => {
            if let Some(t) = test {
                let e = v.error.unwrap_or_default();
                t.first_error.get_or_insert_with(|| e.to_string());
                let trace = v.stack_trace.unwrap_or_default();
                t.errors.push(format!("{}\n{}", &*e, &*trace));
            }
        }
        "print" => {
            if let Some(t) = test {
                let m = v.message.unwrap_or_default();
                if v.message_type.as_deref() == Some("skip") {
                    t.skip = Some(m.to_string());
                } else {
                    t.printed.push_str(&m);
                    t.printed.push('\n');
                }
            }
        }
        "testDone" => {
            let Some(t) = v.test_id.and_then(|i| st.tests.remove(&i)) else {
                return Ok(());
            };
            if v.hidden == Some(true) {
                return Ok(());
            }
            done(st, t, &v, report, ctx)?;
        }
        _ => {}
    }
    Ok(())
}

fn start(st: &mut State, t: Start<'_>, time: Option<f64>) {
    let Some(i) = t.id else {
        return;
    };
    st.tests.insert(
        i,
        Test {
            name: t.name.unwrap_or_default().0.into_owned(),
            suite: t.suite_id,
            groups: t.group_ids.unwrap_or_default(),
            start_ms: time,
            line: t.root_line.or(t.line),
            errors: Vec::new(),
            first_error: None,
            printed: String::new(),
            skip: t.metadata.and_then(|m| m.skip_reason),
        },
    );
}

fn done(st: &State, t: Test, v: &Event<'_>, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let file = t.suite.and_then(|s| st.suites.get(&s)).cloned();
    let mut suites: Vec<String> = file.iter().cloned().collect();
    suites.extend(
        t.groups
            .iter()
            .filter_map(|g| st.groups.get(g))
            .filter(|g| !g.is_empty())
            .cloned(),
    );
    let mut r = TestResult::in_suites(FORMAT, &report.name, Arc::from(suites), Arc::from([]), None);
    r.classname = file.clone();
    r.name = Some(t.name);
    r.file = file;
    r.line = t.line;
    let word = v.result.as_deref().unwrap_or("");
    r.status = match word {
        "success" if v.skipped == Some(true) => Status::Skipped,
        "success" => Status::Passed,
        "failure" => Status::Failed,
        _ => Status::Error,
    };
    r.outcome = Some(
        if r.status == Status::Skipped {
            "skipped"
        } else {
            word
        }
        .to_string(),
    );
    if let (Some(a), Some(b)) = (t.start_ms, v.time) {
        r.duration = Some(((b - a) / 1000.0).max(0.0));
    }
    r.message = t.first_error.as_deref().and_then(|e| ctx.first_line(e));
    if r.status == Status::Skipped && r.message.is_none() {
        r.message = t.skip.and_then(|m| ctx.first_line(&m));
    }
    r.details = ctx.text(t.errors.join("\n"));
    r.stdout = ctx.text(t.printed);
    emit(report, &r)
}
