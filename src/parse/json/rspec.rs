//! RSpec's JSON formatter: `examples` (streamed), `summary`, `messages`. One result per
//! example, classname its `file_path`; pending → skipped with its message kept. Errors
//! outside of examples (`summary.errors_outside_of_examples_count` > 0) are one error result
//! carrying `messages`.

use std::sync::Arc;

use serde::Deserialize;

use serde_json::Value;

use super::doc::{emit, lenient, Ctx, Doc, LastSuites, Raw, Text, Want};
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
    last: LastSuites,
}

pub(super) fn parse(reader: impl std::io::Read, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let name = report.name.clone();
    let mut r = Rspec {
        report,
        ctx,
        outside: 0,
        messages: Vec::new(),
        last: LastSuites::default(),
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
    fn whole(&mut self, raw: &Raw<'_>) -> Result<()> {
        let path = raw.path;
        let v: Value = raw.read()?;
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
    fn item(&mut self, raw: &Raw<'_>) -> Result<()> {
        let x: Example<'_> = raw.read()?;
        let suites = self.last.of(x.file_path.as_deref().into_iter());
        let file = x.file_path.map(|t| t.0.into_owned());
        let mut r = TestResult::in_suites(FORMAT, &self.report.name, suites, Arc::from([]), None);
        r.classname = file.clone();
        r.name = x
            .full_description
            .or(x.description)
            .map(|t| t.0.into_owned());
        r.file = file;
        r.line = x.line_number;
        r.duration = x.run_time;
        let word = x.status.as_deref().unwrap_or("");
        r.status = match word {
            "passed" => Status::Passed,
            "failed" => Status::Failed,
            "pending" => Status::Skipped,
            _ => Status::Error,
        };
        r.outcome = Some(word.to_string());
        if let Some(m) = x.pending_message {
            r.message = self.ctx.message(&m);
        } else if let Some(ex) = x.exception {
            let m = ex.message.unwrap_or_default();
            r.message = self.ctx.first_line(&m);
            let trace: Vec<&str> = ex.backtrace.iter().flatten().map(|l| &**l).collect();
            r.details = self.ctx.text(format!("{}\n{}", &*m, trace.join("\n")));
            r.failure_type = ex.class.map(|t| t.0.into_owned());
        }
        emit(&mut *self.report, &r)
    }
}

/// An element of `examples`: the fields read, borrowed from the document where they can be.
#[derive(Deserialize)]
struct Example<'a> {
    #[serde(borrow)]
    file_path: Option<Text<'a>>,
    #[serde(borrow)]
    full_description: Option<Text<'a>>,
    #[serde(borrow)]
    description: Option<Text<'a>>,
    #[serde(default, deserialize_with = "lenient")]
    line_number: Option<u64>,
    run_time: Option<f64>,
    #[serde(borrow)]
    status: Option<Text<'a>>,
    #[serde(borrow)]
    pending_message: Option<Text<'a>>,
    #[serde(borrow)]
    exception: Option<Exception<'a>>,
}

#[derive(Deserialize)]
struct Exception<'a> {
    #[serde(borrow)]
    class: Option<Text<'a>>,
    #[serde(borrow)]
    message: Option<Text<'a>>,
    #[serde(borrow)]
    backtrace: Option<Vec<Text<'a>>>,
}
