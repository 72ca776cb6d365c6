//! `jest --json`, Vitest's `--reporter=json`, and the reporter / testResultsProcessor shape
//! (`testResults[].testResults`). One result per assertion result; suites are the test file,
//! then `ancestorTitles`. A test file that failed to run is one error result named after the
//! file. `testResults` is streamed one test file at a time.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::doc::{emit, lenient, str_of, Ctx, Doc, Raw, Text, Want};
use super::split::document;
use crate::error::Result;
use crate::parse::report::Report;
use crate::record::{Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "jest";

struct Jest<'r, 'w> {
    report: &'r mut Report<'w>,
    ctx: &'r Ctx,
}

pub(super) fn parse(reader: impl std::io::Read, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let name = report.name.clone();
    document(reader, &mut Jest { report, ctx }, &name, "Jest JSON")
}

impl Doc for Jest<'_, '_> {
    fn required(&self) -> &'static str {
        "testResults"
    }
    fn want(&self, path: &str) -> Want {
        match path {
            "testResults" => Want::Items,
            _ => Want::Skip,
        }
    }
    fn whole(&mut self, _: &Raw<'_>) -> Result<()> {
        Ok(())
    }
    fn item(&mut self, raw: &Raw<'_>) -> Result<()> {
        file_results(raw.read()?, self.report, self.ctx)
    }
}

/// An element of `testResults`: a test file.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct File<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    test_file_path: Option<Text<'a>>,
    #[serde(borrow)]
    assertion_results: Option<Vec<Assertion<'a>>>,
    /// The reporter shape's name for `assertionResults`.
    #[serde(borrow)]
    test_results: Option<Vec<Assertion<'a>>>,
    #[serde(borrow)]
    failure_message: Option<Text<'a>>,
    #[serde(borrow)]
    message: Option<Text<'a>>,
    /// A string or an object with `message` and `stack`.
    test_exec_error: Option<Value>,
    #[serde(borrow)]
    status: Option<Text<'a>>,
    start_time: Option<f64>,
    perf_stats: Option<PerfStats>,
}

#[derive(Deserialize)]
struct PerfStats {
    start: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Assertion<'a> {
    #[serde(borrow)]
    ancestor_titles: Option<Vec<Text<'a>>>,
    #[serde(borrow)]
    title: Option<Text<'a>>,
    #[serde(borrow)]
    full_name: Option<Text<'a>>,
    #[serde(borrow)]
    status: Option<Text<'a>>,
    duration: Option<f64>,
    #[serde(default, deserialize_with = "lenient")]
    location: Option<Location>,
    #[serde(borrow)]
    failure_messages: Option<Vec<Text<'a>>>,
}

#[derive(Deserialize)]
struct Location {
    line: Option<u64>,
}

/// The results of one test file.
fn file_results(f: File<'_>, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let path = f
        .name
        .or(f.test_file_path)
        .unwrap_or_default()
        .0
        .into_owned();
    let tests = f.assertion_results.or(f.test_results).unwrap_or_default();
    let message = f.failure_message.or(f.message).unwrap_or_default();
    let failed = f.status.as_deref() == Some("failed");
    if f.test_exec_error.is_some() || (tests.is_empty() && (!message.trim().is_empty() || failed)) {
        failed_to_run(&path, &message, f.test_exec_error.as_ref(), report, ctx)?;
    }
    let start = f.start_time.or(f.perf_stats.and_then(|p| p.start));
    let start = start.map(|ms| crate::date::format_iso(ms as i64));
    let suite: Arc<[String]> = Arc::from(vec![path.clone()]);
    for t in tests {
        assertion(t, &path, &suite, start.as_deref(), report, ctx)?;
    }
    Ok(())
}

/// The error result of a test file that failed to run.
fn failed_to_run(
    path: &str,
    message: &str,
    exec_error: Option<&Value>,
    report: &mut Report<'_>,
    ctx: &Ctx,
) -> Result<()> {
    let mut r = TestResult::in_suites(
        FORMAT,
        &report.name,
        Arc::from(vec![path.to_string()]),
        Arc::from([]),
        None,
    );
    r.classname = Some(path.to_string());
    r.name = Some(path.to_string());
    r.file = Some(path.to_string());
    r.status = Status::Error;
    r.outcome = Some("failed to run".into());
    let exec = exec_error.map(|e| match e {
        Value::String(s) => s.clone(),
        e => str_of(e, "message")
            .map(|m| format!("{m}\n{}", str_of(e, "stack").unwrap_or("")))
            .unwrap_or_else(|| e.to_string()),
    });
    let details = if message.trim().is_empty() {
        exec.unwrap_or_default()
    } else {
        message.to_string()
    };
    r.message = ctx.first_line(&details);
    r.details = ctx.text(details);
    emit(report, &r)
}

fn assertion(
    t: Assertion<'_>,
    path: &str,
    suite: &Arc<[String]>,
    start: Option<&str>,
    report: &mut Report<'_>,
    ctx: &Ctx,
) -> Result<()> {
    let ancestors = t.ancestor_titles.unwrap_or_default();
    let suites = if ancestors.is_empty() {
        suite.clone()
    } else {
        let mut suites = vec![path.to_string()];
        suites.extend(ancestors.iter().map(|a| a.to_string()));
        Arc::from(suites)
    };
    let mut r = TestResult::in_suites(FORMAT, &report.name, suites, Arc::from([]), None);
    let title = t.title.unwrap_or_default();
    r.classname = Some(path.to_string());
    r.name = Some(match t.full_name.filter(|s| !s.is_empty()) {
        Some(n) => n.0.into_owned(),
        None => {
            let mut a: Vec<&str> = ancestors.iter().map(|a| &**a).collect();
            a.push(&title);
            a.join(" ")
        }
    });
    r.file = Some(path.to_string());
    let word = t.status.unwrap_or_default();
    r.status = match &*word {
        "passed" => Status::Passed,
        "failed" => Status::Failed,
        "pending" | "skipped" | "disabled" | "todo" => Status::Skipped,
        _ => Status::Error,
    };
    r.outcome = Some(word.0.into_owned());
    r.duration = t.duration.map(|ms| ms / 1000.0);
    r.start = start.map(str::to_string);
    r.line = t.location.and_then(|l| l.line);
    let failures: Vec<&str> = t.failure_messages.iter().flatten().map(|m| &**m).collect();
    if !failures.is_empty() {
        let details = failures.join("\n");
        r.message = ctx.first_line(&details);
        r.details = ctx.text(details);
    }
    emit(report, &r)
}
