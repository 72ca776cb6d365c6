//! `jest --json`, Vitest's `--reporter=json`, and the reporter / testResultsProcessor shape
//! (`testResults[].testResults`). One result per assertion result; suites are the test file,
//! then `ancestorTitles`. A test file that failed to run is one error result named after the
//! file. `testResults` is streamed one test file at a time.

use std::sync::Arc;

use serde_json::Value;

use super::doc::{arr_of, emit, num_of, str_of, Ctx, Doc, Want};
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
    fn whole(&mut self, _: &str, _: Value) -> Result<()> {
        Ok(())
    }
    fn item(&mut self, _: &str, file: Value) -> Result<()> {
        file_results(&file, self.report, self.ctx)
    }
}

/// The results of one test file.
fn file_results(f: &Value, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let path = str_of(f, "name")
        .or_else(|| str_of(f, "testFilePath"))
        .unwrap_or("")
        .to_string();
    let empty = Vec::new();
    let tests = arr_of(f, "assertionResults")
        .or_else(|| arr_of(f, "testResults"))
        .unwrap_or(&empty);
    let message = str_of(f, "failureMessage")
        .or_else(|| str_of(f, "message"))
        .unwrap_or("");
    let exec_error = f.get("testExecError").filter(|e| !e.is_null());
    let failed = str_of(f, "status") == Some("failed");
    if exec_error.is_some() || (tests.is_empty() && (!message.trim().is_empty() || failed)) {
        let mut r = TestResult::in_suites(
            FORMAT,
            &report.name,
            Arc::from(vec![path.clone()]),
            Arc::from([]),
            None,
        );
        r.classname = Some(path.clone());
        r.name = Some(path.clone());
        r.file = Some(path.clone());
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
        r.message = details
            .lines()
            .find(|l| !l.trim().is_empty())
            .and_then(|m| ctx.text(m.trim()));
        r.details = ctx.text(details);
        emit(report, &r)?;
    }
    let start = num_of(f, "startTime").or_else(|| num_of(&f["perfStats"], "start"));
    let start = start.map(|ms| crate::date::format_iso(ms as i64));
    for t in tests {
        assertion(t, &path, start.as_deref(), report, ctx)?;
    }
    Ok(())
}

fn assertion(
    t: &Value,
    path: &str,
    start: Option<&str>,
    report: &mut Report<'_>,
    ctx: &Ctx,
) -> Result<()> {
    let ancestors: Vec<String> = t["ancestorTitles"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut suites = vec![path.to_string()];
    suites.extend(ancestors.iter().cloned());
    let mut r = TestResult::in_suites(FORMAT, &report.name, Arc::from(suites), Arc::from([]), None);
    let title = str_of(t, "title").unwrap_or("");
    r.classname = Some(path.to_string());
    r.name = Some(
        str_of(t, "fullName")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| {
                let mut a = ancestors.clone();
                a.push(title.to_string());
                a.join(" ")
            }),
    );
    r.file = Some(path.to_string());
    let word = str_of(t, "status").unwrap_or("");
    r.status = match word {
        "passed" => Status::Passed,
        "failed" => Status::Failed,
        "pending" | "skipped" | "disabled" | "todo" => Status::Skipped,
        _ => Status::Error,
    };
    r.outcome = Some(word.to_string());
    r.duration = num_of(t, "duration").map(|ms| ms / 1000.0);
    r.start = start.map(str::to_string);
    r.line = t["location"].get("line").and_then(Value::as_u64);
    let failures: Vec<&str> = t["failureMessages"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let details = failures.join("\n");
    r.message = details
        .lines()
        .find(|l| !l.trim().is_empty())
        .and_then(|m| ctx.text(m.trim()));
    r.details = ctx.text(details);
    emit(report, &r)
}
