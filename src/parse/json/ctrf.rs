//! Common Test Report Format: `results.tool`, `results.summary`, `results.tests` (streamed).
//! One result per entry of `results.tests`: passed; failed; skipped and pending → skipped;
//! any other status → a result with status `warning` (the word kept as the outcome); `flaky`
//! → passed and flaky, its failed retry attempts kept as reruns. `suite` as an array or an
//! `"a > b"` string gives the suites.

use std::sync::Arc;

use serde_json::Value;

use super::doc::{arr_of, emit, num_of, str_of, Ctx, Doc, Want};
use super::split::document;
use crate::error::Result;
use crate::parse::report::Report;
use crate::parse::values::resolve_attachment;
use crate::record::{Property, Rerun, Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "ctrf";

struct Ctrf<'r, 'w> {
    report: &'r mut Report<'w>,
    ctx: &'r Ctx,
}

pub(super) fn parse(reader: impl std::io::Read, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let name = report.name.clone();
    document(reader, &mut Ctrf { report, ctx }, &name, "CTRF")
}

impl Doc for Ctrf<'_, '_> {
    fn required(&self) -> &'static str {
        "results.tests"
    }
    fn want(&self, path: &str) -> Want {
        match path {
            "results" => Want::Object,
            "results.tests" => Want::Items,
            _ => Want::Skip,
        }
    }
    fn whole(&mut self, _: &str, _: Value) -> Result<()> {
        Ok(())
    }
    fn item(&mut self, _: &str, t: Value) -> Result<()> {
        let ctx = self.ctx;
        let suites: Vec<String> = match &t["suite"] {
            Value::Array(a) => a
                .iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect(),
            Value::String(s) => s
                .split(" > ")
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect(),
            _ => Vec::new(),
        };
        let mut r = TestResult::in_suites(
            FORMAT,
            &self.report.name,
            Arc::from(suites.clone()),
            Arc::from([]),
            None,
        );
        r.classname = (!suites.is_empty()).then(|| suites.join(" > "));
        r.name = str_of(&t, "name").map(str::to_string);
        r.file = str_of(&t, "filePath").map(str::to_string);
        r.line = t["line"].as_u64();
        let word = str_of(&t, "status").unwrap_or("");
        r.status = match word {
            "passed" => Status::Passed,
            "failed" => Status::Failed,
            "skipped" | "pending" => Status::Skipped,
            _ => Status::Warning,
        };
        r.outcome = Some(str_of(&t, "rawStatus").unwrap_or(word).to_string());
        r.flaky = t["flaky"] == Value::Bool(true) && r.status == Status::Passed;
        r.duration = num_of(&t, "duration").map(|ms| ms / 1000.0);
        r.start = num_of(&t, "start")
            .filter(|ms| *ms > 0.0)
            .map(|ms| crate::date::format_iso(ms as i64));
        r.message = str_of(&t, "message").and_then(|m| ctx.text(m));
        r.details = str_of(&t, "trace").and_then(|m| ctx.text(m));
        r.stdout = ctx.text(lines(&t["stdout"]));
        r.stderr = ctx.text(lines(&t["stderr"]));
        for tag in t["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            r.properties.push(Property {
                name: "tag".into(),
                value: tag.to_string(),
            });
        }
        for a in arr_of(&t, "attachments").into_iter().flatten() {
            if let Some(p) = str_of(a, "path").and_then(|p| resolve_attachment(p, self.report.dir))
            {
                r.attachments.push(p);
            }
        }
        r.reruns = retries(&t, r.flaky, ctx);
        if let Some(n) = t["retries"].as_u64().filter(|n| *n > 0) {
            r.properties.push(Property {
                name: "retries".into(),
                value: n.to_string(),
            });
        }
        emit(&mut *self.report, &r)
    }
}

/// The failed retry attempts of a test.
fn retries(t: &Value, flaky: bool, ctx: &Ctx) -> Vec<Rerun> {
    t["retryAttempts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| str_of(a, "status") != Some("passed"))
        .map(|a| Rerun {
            kind: if flaky {
                "flakyFailure"
            } else {
                "rerunFailure"
            }
            .into(),
            status: Some(Status::Failed),
            message: str_of(a, "message").and_then(|m| ctx.text(m)),
            failure_type: None,
            details: str_of(a, "trace").and_then(|m| ctx.text(m)),
            stdout: None,
            stderr: None,
            duration: num_of(a, "duration").map(|ms| ms / 1000.0),
        })
        .collect()
}

/// Output lines (an array of strings), joined.
fn lines(v: &Value) -> String {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}
