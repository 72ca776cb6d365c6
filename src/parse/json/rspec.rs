//! RSpec's JSON formatter: `examples` (streamed), `summary`, `messages`. One result per
//! example, classname its `file_path`; pending → skipped with its message kept. Errors
//! outside of examples (`summary.errors_outside_of_examples_count` > 0) are one error result
//! carrying `messages`.

use std::sync::Arc;

use serde_json::Value;

use super::doc::{emit, num_of, str_of, Ctx, Doc, Want};
use super::split::document;
use crate::error::Result;
use crate::parse::report::Report;
use crate::record::{Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "rspec";

struct Rspec<'r, 'w> {
    report: &'r mut Report<'w>,
    ctx: &'r Ctx,
    outside: u64,
    messages: Vec<String>,
}

pub(super) fn parse(reader: impl std::io::Read, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let name = report.name.clone();
    let mut r = Rspec {
        report,
        ctx,
        outside: 0,
        messages: Vec::new(),
    };
    document(reader, &mut r, &name, "RSpec JSON")?;
    if r.outside > 0 {
        let mut e = TestResult::new(FORMAT, &r.report.name);
        e.name = Some("errors outside of examples".into());
        e.status = Status::Error;
        e.outcome = Some("errors outside of examples".into());
        e.message = Some(format!("{} errors occurred outside of examples", r.outside));
        e.details = r.ctx.text(r.messages.join("\n"));
        emit(&mut *r.report, &e)?;
    }
    Ok(())
}

impl Doc for Rspec<'_, '_> {
    fn required(&self) -> &'static str {
        "examples"
    }
    fn want(&self, path: &str) -> Want {
        match path {
            "examples" => Want::Items,
            "summary" | "messages" => Want::Whole,
            _ => Want::Skip,
        }
    }
    fn whole(&mut self, path: &str, v: Value) -> Result<()> {
        match path {
            "summary" => {
                self.outside = v["errors_outside_of_examples_count"].as_u64().unwrap_or(0);
            }
            _ => {
                self.messages = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|m| m.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
            }
        }
        Ok(())
    }
    fn item(&mut self, _: &str, x: Value) -> Result<()> {
        let file = str_of(&x, "file_path").map(str::to_string);
        let mut r = TestResult::in_suites(
            FORMAT,
            &self.report.name,
            Arc::from(file.iter().cloned().collect::<Vec<_>>()),
            Arc::from([]),
            None,
        );
        r.classname = file.clone();
        r.name = str_of(&x, "full_description")
            .or_else(|| str_of(&x, "description"))
            .map(str::to_string);
        r.file = file;
        r.line = x["line_number"].as_u64();
        r.duration = num_of(&x, "run_time");
        let word = str_of(&x, "status").unwrap_or("");
        r.status = match word {
            "passed" => Status::Passed,
            "failed" => Status::Failed,
            "pending" => Status::Skipped,
            _ => Status::Error,
        };
        r.outcome = Some(word.to_string());
        let ex = &x["exception"];
        if let Some(m) = str_of(&x, "pending_message") {
            r.message = self.ctx.text(m);
        } else if let Some(m) = str_of(ex, "message") {
            r.message = m
                .lines()
                .find(|l| !l.trim().is_empty())
                .and_then(|l| self.ctx.text(l.trim()));
            let trace: Vec<&str> = ex["backtrace"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            r.details = self.ctx.text(format!("{m}\n{}", trace.join("\n")));
            r.failure_type = str_of(ex, "class").map(str::to_string);
        }
        emit(&mut *self.report, &r)
    }
}
