//! TestNG (`<testng-results>`): `suite/test/class/test-method`.
//!
//! Configuration methods (`is-config="true"`: @Before/@After) are not tests. A failed one
//! skips its dependants, so it must be seen: it becomes a result with status `error` and
//! `extra["is-config"] = "true"`. Configuration methods that passed or were skipped are left out.

use std::collections::HashMap;

use super::report::Report;
use super::suites::SuiteStack;
use super::values::OddValues;
use super::xml::Root;
use super::xml::{self, attr, Item, XmlDoc};
use crate::error::Result;
use crate::record::{Property, Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "testng";

/// A TestNG status: PASS, FAIL, SKIP; SUCCESS_PERCENTAGE_FAILURE (a test allowed to fail some
/// of its invocations) is a warning.
pub(crate) fn status(raw: Option<&str>) -> Status {
    match raw.unwrap_or("") {
        "PASS" => Status::Passed,
        "FAIL" => Status::Failed,
        "SKIP" => Status::Skipped,
        "SUCCESS_PERCENTAGE_FAILURE" => Status::Warning,
        _ => Status::Error,
    }
}

/// Parses a TestNG document whose root start tag has just been read.
pub(crate) fn parse(doc: &mut XmlDoc, root: Root, report: &mut Report<'_>) -> Result<()> {
    let mut suites = SuiteStack::default();
    let mut odd = OddValues::default();
    // Method signature → groups, from `suite/groups`, which comes before the tests.
    let mut groups: HashMap<String, Vec<String>> = HashMap::new();
    let mut class: Option<(usize, String)> = None;
    if !root.empty {
        loop {
            match xml::next_item(doc, None)? {
                Item::Open { name, attrs, empty } => match &*name {
                    "suite" | "test" => {
                        let start = attr(&attrs, "started-at")
                            .and_then(|t| odd.timestamp(t, || doc.here()));
                        let n = attr(&attrs, "name").unwrap_or("").to_string();
                        suites.push(doc.ctx.depth, n, start);
                        if empty {
                            suites.pop();
                        }
                    }
                    "groups" if !empty => read_groups(doc, &mut groups)?,
                    "class" if !empty => {
                        let n = attr(&attrs, "name").unwrap_or("").to_string();
                        class = Some((doc.ctx.depth, n));
                    }
                    "test-method" => {
                        let cls = class.as_ref().map(|c| c.1.clone());
                        let r = test_method(doc, &mut suites, &mut odd, report, cls, attrs, empty)?;
                        if let Some(mut r) = r {
                            if let Some(sig) = r.extra.get("signature") {
                                for g in groups.get(sig).into_iter().flatten() {
                                    r.properties.push(Property {
                                        name: "group".into(),
                                        value: g.clone(),
                                    });
                                }
                            }
                            suites.saw_case();
                            report.emit(&r)?;
                        }
                    }
                    _ if !empty => xml::skip(doc)?,
                    _ => {}
                },
                Item::Close => {
                    let depth = doc.ctx.depth;
                    suites.close_to(depth);
                    if class.as_ref().is_some_and(|c| c.0 > depth) {
                        class = None;
                    }
                    if depth == 0 {
                        break;
                    }
                }
                Item::Eof => break,
            }
        }
    }
    doc.finish()
}

/// `groups/group@name/method@signature`.
fn read_groups(doc: &mut XmlDoc, groups: &mut HashMap<String, Vec<String>>) -> Result<()> {
    xml::each_child(doc, None, |doc, name, attrs, empty| {
        if name != "group" || empty {
            return Ok(());
        }
        let group = attr(&attrs, "name").unwrap_or("").to_string();
        xml::each_child(doc, None, |_, n, a, _| {
            if let (true, Some(sig)) = (n == "method", attr(&a, "signature")) {
                groups
                    .entry(sig.to_string())
                    .or_default()
                    .push(group.clone());
            }
            Ok(())
        })
    })
}

/// One `<test-method>` element: its attributes, then its children, into a result.
/// Long: one arm per attribute and child element TestNG writes, kept together so that it reads
/// as the format's table.
#[allow(clippy::too_many_arguments)]
fn test_method(
    doc: &mut XmlDoc,
    suites: &mut SuiteStack,
    odd: &mut OddValues,
    report: &Report<'_>,
    class: Option<String>,
    attrs: xml::Attrs,
    empty: bool,
) -> Result<Option<TestResult>> {
    let mut r = suites.result(FORMAT, &report.name);
    r.classname = class;
    let (mut raw, mut ms, mut config) = (None, None, false);
    for (k, v) in attrs {
        match k.as_ref() {
            "name" => r.name = Some(v),
            "status" => raw = Some(v),
            "duration-ms" => ms = Some(v),
            "is-config" => {
                config = v == "true";
                r.extra.insert(k, v);
            }
            "started-at" => {
                r.start = odd.timestamp(&v, || doc.here());
                if r.start.is_none() {
                    r.extra.insert(k, v);
                }
            }
            _ => {
                r.extra.insert(k, v);
            }
        }
    }
    r.status = status(raw.as_deref());
    r.outcome = raw;
    r.duration = odd.seconds(ms.as_deref(), 1000.0, "test-method", "duration-ms", || {
        doc.here()
    });
    if !empty {
        xml::each_child(doc, None, |doc, name, attrs, empty| {
            match &*name {
                "exception" => {
                    r.failure_type = attr(&attrs, "class").map(str::to_string);
                    let mut t = xml::child_texts(doc, &["message", "full-stacktrace"])?;
                    r.details = t.pop().flatten();
                    r.message = t.pop().flatten();
                }
                "params" if !empty => xml::each_child(doc, None, |doc, n, a, _| {
                    if n == "param" {
                        let index = attr(&a, "index").unwrap_or("").to_string();
                        let value = xml::child_texts(doc, &["value"])?.remove(0);
                        r.properties.push(Property {
                            name: format!("param[{index}]"),
                            value: value.unwrap_or_default(),
                        });
                    }
                    Ok(())
                })?,
                "reporter-output" if !empty => {
                    let mut lines = Vec::new();
                    xml::each_child(doc, None, |doc, n, _, e| {
                        if n == "line" {
                            lines.push(xml::trimmed_text(doc, e)?.unwrap_or_default());
                        }
                        Ok(())
                    })?;
                    if !lines.is_empty() {
                        r.stdout = Some(lines.join("\n"));
                    }
                }
                _ => xml::keep_unknown(doc, &mut r.extra, name, attrs, empty)?,
            }
            Ok(())
        })?;
    }
    if config {
        if r.status != Status::Failed {
            return Ok(None);
        }
        r.status = Status::Error;
    }
    Ok(Some(r))
}
