//! NUnit 3 (`<test-run>`): nested `test-suite` elements, one result per `test-case`.

use super::report::Report;
use super::suites::{self, SuiteStack};
use super::values::{self, count, OddValues};
use super::xml::Root;
use super::xml::{self, attr, XmlDoc};
use crate::error::Result;
use crate::record::{Property, Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "nunit3";

/// NUnit 3's `result` and `label` as a status: Failed with label Error, Cancelled or Invalid is
/// an error; Skipped (Ignored, Explicit) and Inconclusive are skipped; Warning is a warning.
pub(crate) fn status(result: Option<&str>, label: Option<&str>) -> Status {
    match result.unwrap_or("") {
        "Passed" => Status::Passed,
        "Failed" => match label {
            Some("Error" | "Cancelled" | "Invalid") => Status::Error,
            _ => Status::Failed,
        },
        "Skipped" | "Inconclusive" => Status::Skipped,
        "Warning" => Status::Warning,
        // No result at all: the test did not complete.
        _ => Status::Error,
    }
}

/// Parses an NUnit 3 document whose root start tag has just been read.
pub(crate) fn parse(doc: &mut XmlDoc, root: Root, report: &mut Report<'_>) -> Result<()> {
    let mut suites = SuiteStack::default();
    let mut odd = OddValues::default();
    if !root.empty {
        suites::walk(doc, &mut suites, |doc, suites, name, attrs, empty| {
            match &*name {
                "test-suite" => {
                    let start =
                        attr(&attrs, "start-time").and_then(|t| odd.timestamp(t, || doc.here()));
                    let name = attr(&attrs, "name").unwrap_or("").to_string();
                    suites.push(doc.ctx.depth, name, start);
                    if empty {
                        suites.pop();
                    }
                }
                "properties" if !empty && suites.before_first_case() => {
                    let props = properties(doc)?;
                    suites.add_properties(props);
                }
                "test-case" => {
                    let r = test_case(doc, suites, &mut odd, report, attrs, empty)?;
                    suites.saw_case();
                    report.emit(&r)?;
                }
                // Suite failures, output, settings and environment are not per-test data.
                _ if !empty && name != "results" => xml::skip(doc)?,
                _ => {}
            }
            Ok(())
        })?;
    }
    doc.finish()
}

/// `properties/property@name,@value`.
pub(crate) fn properties(doc: &mut XmlDoc) -> Result<Vec<Property>> {
    let mut out = Vec::new();
    xml::each_child(doc, None, |doc, name, attrs, empty| {
        if name == "property" {
            let text = xml::trimmed_text(doc, empty)?;
            out.push(Property {
                name: attr(&attrs, "name").unwrap_or("").to_string(),
                value: attr(&attrs, "value")
                    .map(str::to_string)
                    .or(text)
                    .unwrap_or_default(),
            });
        }
        Ok(())
    })?;
    Ok(out)
}

pub(crate) fn test_case(
    doc: &mut XmlDoc,
    suites: &mut SuiteStack,
    odd: &mut OddValues,
    report: &Report<'_>,
    attrs: xml::Attrs,
    empty: bool,
) -> Result<TestResult> {
    let mut r = suites.result(FORMAT, &report.name);
    let (mut result, mut label, mut duration) = (None, None, None);
    for (k, v) in attrs {
        match k.as_ref() {
            "name" => r.name = Some(v),
            "classname" => r.classname = Some(v),
            "result" => result = Some(v),
            "label" => label = Some(v),
            "duration" => duration = Some(v),
            "start-time" => r.start = odd.timestamp(&v, || doc.here()),
            "asserts" => r.assertions = count(v, k, &mut r.extra),
            _ => {
                r.extra.insert(k, v);
            }
        }
    }
    r.duration = odd.seconds(duration.as_deref(), 1.0, "test-case", "duration", || {
        doc.here()
    });
    r.status = status(result.as_deref(), label.as_deref());
    r.outcome = Some(match (&result, &label) {
        (Some(res), Some(l)) => format!("{res}:{l}"),
        (Some(res), None) => res.clone(),
        (None, _) => "(none)".to_string(),
    });
    if !empty {
        xml::each_child(doc, None, |doc, name, attrs, empty| {
            match &*name {
                "failure" => {
                    (r.message, r.details) = xml::message_and_trace(doc)?;
                }
                "reason" => {
                    let t = xml::child_texts(doc, &["message"])?;
                    r.message = t.into_iter().next().flatten();
                }
                "output" => r.stdout = xml::trimmed_text(doc, empty)?,
                "properties" if !empty => r.properties.extend(properties(doc)?),
                "attachments" if !empty => {
                    let dir = report.dir;
                    xml::each_child(doc, None, |doc, _, _, _| {
                        let t = xml::child_texts(doc, &["filePath", "description"])?;
                        if let Some(p) = &t[0] {
                            r.attachments.extend(values::resolve_attachment(p, dir));
                        }
                        Ok(())
                    })?;
                }
                // Assertion results repeat the failure; anything else is kept.
                "assertions" => {}
                _ => xml::keep_unknown(doc, &mut r.extra, name, attrs, empty)?,
            }
            Ok(())
        })?;
    }
    Ok(r)
}
