//! Playwright's JSON reporter: `config`, `suites` (streamed one file suite at a time),
//! `errors`. One result per test of a spec, that is per spec and project. expected → passed
//! (skipped when the expected status is skipped); unexpected → failed, or error when the last
//! attempt timed out or was interrupted; flaky → passed and flaky, the failed attempts kept
//! as reruns; skipped → skipped. Top-level errors (global setup) are one error result.

use std::sync::Arc;

use serde_json::Value;

use super::doc::{arr_of, emit, num_of, str_of, Ctx, Doc, Raw, Want};
use super::split::document;
use crate::error::Result;
use crate::parse::report::Report;
use crate::parse::values::resolve_attachment;
use crate::record::{Rerun, Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "playwright";

struct Playwright<'r, 'w> {
    report: &'r mut Report<'w>,
    ctx: &'r Ctx,
    errors: Vec<String>,
}

pub(super) fn parse(reader: impl std::io::Read, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let name = report.name.clone();
    let mut p = Playwright {
        report,
        ctx,
        errors: Vec::new(),
    };
    document(reader, &mut p, &name, "Playwright JSON")?;
    if !p.errors.is_empty() {
        let mut e = TestResult::new(FORMAT, &p.report.name);
        e.name = Some("global errors".into());
        e.status = Status::Error;
        e.outcome = Some("errors".into());
        e.message = p.errors.first().and_then(|m| p.ctx.first_line(m));
        e.details = p.ctx.text(p.errors.join("\n\n"));
        emit(&mut *p.report, &e)?;
    }
    Ok(())
}

impl Doc for Playwright<'_, '_> {
    fn required(&self) -> &'static str {
        "suites"
    }
    fn want(&self, path: &str) -> Want {
        match path {
            "suites" => Want::Items,
            "errors" => Want::Whole,
            _ => Want::Skip,
        }
    }
    fn whole(&mut self, raw: &Raw<'_>) -> Result<()> {
        let v: Value = raw.read()?;
        self.errors = v
            .as_array()
            .map(|a| a.iter().map(error_text).collect())
            .unwrap_or_default();
        Ok(())
    }
    fn item(&mut self, raw: &Raw<'_>) -> Result<()> {
        let suite: Value = raw.read()?;
        self.suite(&suite, &[])
    }
}

/// An error object's text: its message and stack.
fn error_text(e: &Value) -> String {
    match (str_of(e, "message"), str_of(e, "stack")) {
        (_, Some(s)) => s.to_string(),
        (Some(m), None) => m.to_string(),
        _ => e
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string()),
    }
}

impl Playwright<'_, '_> {
    fn suite(&mut self, s: &Value, outer: &[String]) -> Result<()> {
        let mut path = outer.to_vec();
        if let Some(t) = str_of(s, "title").filter(|t| !t.is_empty()) {
            path.push(t.to_string());
        }
        for spec in arr_of(s, "specs").into_iter().flatten() {
            for test in arr_of(spec, "tests").into_iter().flatten() {
                self.test(spec, test, &path)?;
            }
        }
        for inner in arr_of(s, "suites").into_iter().flatten() {
            self.suite(inner, &path)?;
        }
        Ok(())
    }

    fn test(&mut self, spec: &Value, test: &Value, path: &[String]) -> Result<()> {
        let ctx = self.ctx;
        let mut r = TestResult::in_suites(
            FORMAT,
            &self.report.name,
            Arc::from(path.to_vec()),
            Arc::from([]),
            None,
        );
        let file = str_of(spec, "file").map(str::to_string);
        let project = str_of(test, "projectName").filter(|p| !p.is_empty());
        r.classname = Some(match project {
            Some(p) => format!("{} [{p}]", path.join(" > ")),
            None => path.join(" > "),
        });
        r.name = str_of(spec, "title").map(str::to_string);
        r.file = file;
        r.line = spec["line"].as_u64();
        if let Some(p) = project {
            r.properties.push(crate::record::Property {
                name: "project".into(),
                value: p.to_string(),
            });
        }
        let results: Vec<&Value> = arr_of(test, "results").into_iter().flatten().collect();
        let last = results.last().copied();
        let last_status = last.and_then(|l| str_of(l, "status")).unwrap_or("");
        let word = str_of(test, "status").unwrap_or("");
        r.status = match word {
            "expected" if str_of(test, "expectedStatus") == Some("skipped") => Status::Skipped,
            "expected" | "flaky" => Status::Passed,
            "unexpected" if matches!(last_status, "timedOut" | "interrupted") => Status::Error,
            "unexpected" => Status::Failed,
            "skipped" => Status::Skipped,
            _ => Status::Error,
        };
        r.outcome = Some(word.to_string());
        r.flaky = word == "flaky";
        if let Some(l) = last {
            self.last_attempt(&mut r, l);
        }
        if let Some((_, earlier)) = results.split_last() {
            r.reruns = earlier.iter().map(|a| attempt(a, r.flaky, ctx)).collect();
        }
        emit(&mut *self.report, &r)
    }
}

impl Playwright<'_, '_> {
    /// What the last attempt says: the test's time, errors, output and attachments.
    fn last_attempt(&self, r: &mut TestResult, l: &Value) {
        let ctx = self.ctx;
        r.duration = num_of(l, "duration").map(|ms| ms / 1000.0);
        r.start = str_of(l, "startTime").and_then(|t| crate::date::normalize(t).ok().flatten());
        let errors: Vec<String> = l["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(error_text)
            .collect();
        if r.status != Status::Passed {
            r.message = errors.first().and_then(|e| ctx.first_line(e));
            r.details = ctx.text(errors.join("\n\n"));
        }
        r.stdout = ctx.text(output(&l["stdout"]));
        r.stderr = ctx.text(output(&l["stderr"]));
        for a in arr_of(l, "attachments").into_iter().flatten() {
            if let Some(p) = str_of(a, "path") {
                if let Some(p) = resolve_attachment(p, self.report.dir) {
                    r.attachments.push(p);
                }
            }
        }
    }
}

/// An earlier, failed attempt of a test that was retried.
fn attempt(a: &Value, flaky: bool, ctx: &Ctx) -> Rerun {
    let errors: Vec<String> = a["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(error_text)
        .collect();
    Rerun {
        kind: if flaky {
            "flakyFailure"
        } else {
            "rerunFailure"
        }
        .into(),
        status: Some(match str_of(a, "status").unwrap_or("") {
            "timedOut" | "interrupted" => Status::Error,
            _ => Status::Failed,
        }),
        message: errors.first().and_then(|e| ctx.first_line(e)),
        failure_type: None,
        details: ctx.text(errors.join("\n\n")),
        stdout: ctx.text(output(&a["stdout"])),
        stderr: ctx.text(output(&a["stderr"])),
        duration: num_of(a, "duration").map(|ms| ms / 1000.0),
    }
}

/// Playwright's output chunks (`{"text": …}` or `{"buffer": base64}`), joined.
fn output(v: &Value) -> String {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| str_of(c, "text").or_else(|| c.as_str()))
        .collect()
}
