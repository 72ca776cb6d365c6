//! Common Test Report Format: `results.tool`, `results.summary`, `results.tests` (streamed).
//! One result per entry of `results.tests`: passed; failed; skipped and pending → skipped;
//! any other status → a result with status `warning` (the word kept as the outcome); `flaky`
//! → passed and flaky, its failed retry attempts kept as reruns. `suite` as an array or an
//! `"a > b"` string gives the suites.

use std::sync::Arc;

use serde::Deserialize;

use super::doc::{emit, lenient, Ctx, Doc, LastSuites, Raw, Text, Want};
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
    last: LastSuites,
}

pub(super) fn parse(reader: impl std::io::Read, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let name = report.name.clone();
    let last = LastSuites::default();
    document(reader, &mut Ctrf { report, ctx, last }, &name, "CTRF")
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
    fn whole(&mut self, _: &Raw<'_>) -> Result<()> {
        Ok(())
    }
    fn item(&mut self, raw: &Raw<'_>) -> Result<()> {
        let t: Test<'_> = raw.read()?;
        let ctx = self.ctx;
        let suites: Vec<String> = t.suite.map(|s| s.0).unwrap_or_default();
        let shared = self.last.of(suites.iter().map(String::as_str));
        let mut r = TestResult::in_suites(FORMAT, &self.report.name, shared, Arc::from([]), None);
        r.classname = (!suites.is_empty()).then(|| suites.join(" > "));
        r.name = t.name.map(|n| n.0.into_owned());
        r.file = t.file_path.map(|n| n.0.into_owned());
        r.line = t.line;
        let word = t.status.unwrap_or_default();
        r.status = match &*word {
            "passed" => Status::Passed,
            "failed" => Status::Failed,
            "skipped" | "pending" => Status::Skipped,
            _ => Status::Warning,
        };
        r.outcome = Some(t.raw_status.unwrap_or(word).0.into_owned());
        r.flaky = t.flaky == Some(true) && r.status == Status::Passed;
        r.duration = t.duration.map(|ms| ms / 1000.0);
        r.start = t
            .start
            .filter(|ms| *ms > 0.0)
            .map(|ms| crate::date::format_iso(ms as i64));
        r.message = t.message.and_then(|m| ctx.message(&m));
        r.details = t.trace.and_then(|m| ctx.text(&*m));
        r.stdout = ctx.text(lines(t.stdout));
        r.stderr = ctx.text(lines(t.stderr));
        for tag in t.tags.into_iter().flatten().flatten() {
            r.properties.push(Property {
                name: "tag".into(),
                value: tag,
            });
        }
        for a in t.attachments.into_iter().flatten() {
            if let Some(p) = a.path.and_then(|p| resolve_attachment(&p, self.report.dir)) {
                r.attachments.push(p);
            }
        }
        r.reruns = retries(t.retry_attempts.unwrap_or_default(), r.flaky, ctx);
        if let Some(n) = t.retries.filter(|n| *n > 0) {
            r.properties.push(Property {
                name: "retries".into(),
                value: n.to_string(),
            });
        }
        emit(&mut *self.report, &r)
    }
}

/// An entry of `results.tests`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Test<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    status: Option<Text<'a>>,
    #[serde(borrow)]
    raw_status: Option<Text<'a>>,
    suite: Option<Suites>,
    #[serde(borrow)]
    file_path: Option<Text<'a>>,
    #[serde(default, deserialize_with = "lenient")]
    line: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    flaky: Option<bool>,
    duration: Option<f64>,
    start: Option<f64>,
    #[serde(borrow)]
    message: Option<Text<'a>>,
    #[serde(borrow)]
    trace: Option<Text<'a>>,
    #[serde(default, deserialize_with = "lenient")]
    stdout: Option<Vec<Option<String>>>,
    #[serde(default, deserialize_with = "lenient")]
    stderr: Option<Vec<Option<String>>>,
    #[serde(default, deserialize_with = "lenient")]
    tags: Option<Vec<Option<String>>>,
    #[serde(borrow)]
    attachments: Option<Vec<Attachment<'a>>>,
    #[serde(borrow)]
    retry_attempts: Option<Vec<Attempt<'a>>>,
    #[serde(default, deserialize_with = "lenient")]
    retries: Option<u64>,
}

#[derive(Deserialize)]
struct Attachment<'a> {
    #[serde(borrow)]
    path: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct Attempt<'a> {
    #[serde(borrow)]
    status: Option<Text<'a>>,
    #[serde(borrow)]
    message: Option<Text<'a>>,
    #[serde(borrow)]
    trace: Option<Text<'a>>,
    duration: Option<f64>,
}

/// `suite`: an array of names, or one `"a > b"` string.
struct Suites(Vec<String>);

impl<'de> Deserialize<'de> for Suites {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Suites;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a suite name or an array of them")
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<Suites, E> {
                Ok(Suites(
                    s.split(" > ")
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect(),
                ))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Suites, A::Error> {
                let mut names = Vec::new();
                while let Some(n) = seq.next_element::<Option<String>>()? {
                    names.extend(n);
                }
                Ok(Suites(names))
            }
        }
        de.deserialize_any(V)
    }
}

/// The failed retry attempts of a test.
fn retries(attempts: Vec<Attempt<'_>>, flaky: bool, ctx: &Ctx) -> Vec<Rerun> {
    attempts
        .into_iter()
        .filter(|a| a.status.as_deref() != Some("passed"))
        .map(|a| Rerun {
            kind: if flaky {
                "flakyFailure"
            } else {
                "rerunFailure"
            }
            .into(),
            status: Some(Status::Failed),
            message: a.message.and_then(|m| ctx.message(&m)),
            failure_type: None,
            details: a.trace.and_then(|m| ctx.text(&*m)),
            stdout: None,
            stderr: None,
            duration: a.duration.map(|ms| ms / 1000.0),
        })
        .collect()
}

/// Output lines (an array of strings), joined.
fn lines(v: Option<Vec<Option<String>>>) -> String {
    v.into_iter()
        .flatten()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n")
}
