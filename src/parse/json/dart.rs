//! `dart test` / `flutter test` `--reporter json`: JSON lines of events. One result per
//! `testDone` of a test that is not hidden (the "loading …" pseudo-tests are); its `error`
//! events join the details, its `print` events the output; groups are suites under the test
//! file. A stream without a `done` event is complete as far as it goes (Flutter omits it).

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use serde_json::Value;

use super::doc::{each_line, emit, mismatch, num_of, str_of, Ctx};
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
    each_line(reader, &name, |n, buf| {
        let t = buf.trim_ascii();
        if t.is_empty() {
            return Ok(());
        }
        let v: Value = serde_json::from_slice(t).map_err(|e| {
            Error::Data(format!(
                "{}:{n}:{}: not a valid dart --reporter json event: {}",
                report.name,
                e.column(),
                e.to_string()
                    .rsplit_once(" at line ")
                    .map_or("", |(r, _)| r)
            ))
        })?;
        if !v.is_object() {
            return Err(Error::Data(format!(
                "{}:{n}: not a valid dart --reporter json event: expected a JSON object",
                report.name
            )));
        }
        event(&mut st, &v, report, ctx)?;
        match mismatch() {
            None => Ok(()),
            Some(m) => Err(Error::Data(format!(
                "{}:{n}: not a valid dart --reporter json event: {m}",
                report.name
            ))),
        }
    })
}

fn id(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

fn event(st: &mut State, v: &Value, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    match str_of(v, "type").unwrap_or("") {
        "suite" => {
            let s = &v["suite"];
            if let (Some(i), Some(p)) = (id(s, "id"), str_of(s, "path")) {
                st.suites.insert(i, p.to_string());
            }
        }
        "group" => {
            let g = &v["group"];
            if let Some(i) = id(g, "id") {
                st.groups
                    .insert(i, str_of(g, "name").unwrap_or("").to_string());
            }
        }
        "testStart" => {
            let t = &v["test"];
            if let Some(i) = id(t, "id") {
                st.tests.insert(
                    i,
                    Test {
                        name: str_of(t, "name").unwrap_or("").to_string(),
                        suite: id(t, "suiteID"),
                        groups: t["groupIDs"]
                            .as_array()
                            .map(|a| a.iter().filter_map(Value::as_u64).collect())
                            .unwrap_or_default(),
                        start_ms: num_of(v, "time"),
                        line: id(t, "root_line").or_else(|| id(t, "line")),
                        errors: Vec::new(),
                        first_error: None,
                        printed: String::new(),
                    },
                );
            }
        }
        "error" => {
            if let Some(t) = id(v, "testID").and_then(|i| st.tests.get_mut(&i)) {
                let e = str_of(v, "error").unwrap_or("");
                t.first_error.get_or_insert_with(|| e.to_string());
                t.errors
                    .push(format!("{e}\n{}", str_of(v, "stackTrace").unwrap_or("")));
            }
        }
        "print" => {
            if let Some(t) = id(v, "testID").and_then(|i| st.tests.get_mut(&i)) {
                t.printed.push_str(str_of(v, "message").unwrap_or(""));
                t.printed.push('\n');
            }
        }
        "testDone" => {
            let Some(t) = id(v, "testID").and_then(|i| st.tests.remove(&i)) else {
                return Ok(());
            };
            if v["hidden"] == Value::Bool(true) {
                return Ok(());
            }
            done(st, t, v, report, ctx)?;
        }
        _ => {}
    }
    Ok(())
}

fn done(st: &State, t: Test, v: &Value, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
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
    let word = str_of(v, "result").unwrap_or("");
    r.status = match word {
        "success" if v["skipped"] == Value::Bool(true) => Status::Skipped,
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
    if let (Some(a), Some(b)) = (t.start_ms, num_of(v, "time")) {
        r.duration = Some(((b - a) / 1000.0).max(0.0));
    }
    r.message = t
        .first_error
        .as_deref()
        .and_then(|e| e.lines().find(|l| !l.trim().is_empty()))
        .and_then(|m| ctx.text(m));
    r.details = ctx.text(t.errors.join("\n"));
    r.stdout = ctx.text(t.printed);
    emit(report, &r)
}
