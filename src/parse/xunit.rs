//! xUnit.net: v2 and v3 (`<assemblies>`: `assembly/collection/test`) and v1 (`<assembly>`:
//! `class/test`). The `<test>` element is the same in both.

use super::report::Report;
use super::suites::{self, SuiteStack};
use super::values::{self, count, OddValues};
use super::xml::Root;
use super::xml::{self, attr, XmlDoc};
use crate::error::Result;
use crate::record::{Property, Status, TestResult};

/// The format name of v2 and v3 reports.
pub(crate) const FORMAT_V2: &str = "xunit2";
/// The format name of v1 reports.
pub(crate) const FORMAT_V1: &str = "xunit1";

/// xUnit.net's `result` as a status: Pass, Fail, and Skip or NotRun.
pub(crate) fn status(result: Option<&str>) -> Status {
    match result.unwrap_or("") {
        "Pass" => Status::Passed,
        "Fail" => Status::Failed,
        "Skip" | "NotRun" => Status::Skipped,
        _ => Status::Error,
    }
}

/// Parses an xUnit.net document whose root start tag has just been read.
pub(crate) fn parse(doc: &mut XmlDoc, root: Root, report: &mut Report<'_>) -> Result<()> {
    let format = if root.name == "assembly" {
        FORMAT_V1
    } else {
        FORMAT_V2
    };
    let mut suites = SuiteStack::default();
    let mut odd = OddValues::default();
    if root.name == "assembly" {
        open_assembly(doc, &mut suites, &mut odd, &root.attrs);
    }
    if root.empty {
        return doc.finish();
    }
    suites::walk(doc, &mut suites, |doc, suites, name, attrs, empty| {
        match &*name {
            "assembly" => {
                open_assembly(doc, suites, &mut odd, &attrs);
                if empty {
                    suites.pop();
                }
            }
            "collection" | "class" => {
                let n = attr(&attrs, "name").unwrap_or("").to_string();
                suites.push(doc.ctx.depth, n, None);
                if empty {
                    suites.pop();
                }
            }
            "test" => {
                let r = test(doc, suites, &mut odd, report, format, attrs, empty)?;
                suites.saw_case();
                report.emit(&r)?;
            }
            // Cleanup and fatal errors of an assembly are not tests, but must be seen.
            "errors" if !empty => {
                let results = errors(doc, suites, report, format)?;
                for r in results {
                    report.emit(&r)?;
                }
            }
            _ if !empty => xml::skip(doc)?,
            _ => {}
        }
        Ok(())
    })?;
    doc.finish()
}

fn open_assembly(doc: &XmlDoc, suites: &mut SuiteStack, odd: &mut OddValues, attrs: &xml::Attrs) {
    let name = attr(attrs, "name").unwrap_or("");
    // The assembly's file name, not its whole build path.
    let short = name.rsplit(['/', '\\']).next().unwrap_or(name).to_string();
    let start = match (
        attr(attrs, "start-rtf"),
        attr(attrs, "run-date"),
        attr(attrs, "run-time"),
    ) {
        (Some(t), _, _) => odd.timestamp(t, || doc.here()),
        (None, Some(d), Some(t)) => odd.timestamp(&format!("{d}T{t}"), || doc.here()),
        _ => None,
    };
    suites.push(doc.ctx.depth, short, start);
}

/// One `<test>` element: its attributes, then its children, into a result.
/// Long: one arm per attribute and child element xUnit.net writes, kept together so that it
/// reads as the format's table.
#[allow(clippy::too_many_arguments)]
fn test(
    doc: &mut XmlDoc,
    suites: &mut SuiteStack,
    odd: &mut OddValues,
    report: &Report<'_>,
    format: &'static str,
    attrs: xml::Attrs,
    empty: bool,
) -> Result<TestResult> {
    let mut r = suites.result(format, &report.name);
    let (mut result, mut time) = (None, None);
    for (k, v) in attrs {
        match k.as_ref() {
            "name" => r.name = Some(v),
            "type" => r.classname = Some(v),
            "result" => result = Some(v),
            "time" => time = Some(v),
            "source-file" => r.file = Some(v),
            "source-line" => r.line = count(v, k, &mut r.extra),
            "start-rtf" => r.start = odd.timestamp(&v, || doc.here()),
            _ => {
                r.extra.insert(k, v);
            }
        }
    }
    values::strip_class_prefix(&mut r);
    r.status = status(result.as_deref());
    r.outcome = result;
    // v1 writes no time for skipped tests.
    if r.status != Status::Skipped || time.is_some() {
        r.duration = odd.seconds(time.as_deref(), 1.0, "test", "time", || doc.here());
    }
    if !empty {
        xml::each_child(doc, None, |doc, name, attrs, empty| {
            match &*name {
                "failure" => {
                    r.failure_type = attr(&attrs, "exception-type").map(str::to_string);
                    (r.message, r.details) = xml::message_and_trace(doc)?;
                }
                // v2 writes the skip reason as text, v1 inside `message`.
                "reason" => {
                    let mut text = xml::Text::new(doc.ctx.cap);
                    let mut inner = None;
                    if !empty {
                        xml::each_child(doc, Some(&mut text), |doc, n, _, e| {
                            if n == "message" {
                                inner = xml::trimmed_text(doc, e)?;
                            }
                            Ok(())
                        })?;
                    }
                    r.message = inner.or_else(|| text.finish().and_then(crate::cli::trim_owned));
                }
                "output" => r.stdout = xml::trimmed_text(doc, empty)?,
                "traits" if !empty => xml::each_child(doc, None, |_, n, a, _| {
                    if n == "trait" {
                        r.properties.push(Property {
                            name: attr(&a, "name").unwrap_or("").to_string(),
                            value: attr(&a, "value").unwrap_or("").to_string(),
                        });
                    }
                    Ok(())
                })?,
                "warnings" if !empty => {
                    let mut ws = Vec::new();
                    xml::each_child(doc, None, |doc, n, _, e| {
                        if n == "warning" {
                            ws.extend(xml::trimmed_text(doc, e)?);
                        }
                        Ok(())
                    })?;
                    if !ws.is_empty() {
                        r.extra.insert("warnings".into(), ws.join("\n"));
                    }
                }
                _ => xml::keep_unknown(doc, &mut r.extra, name, attrs, empty)?,
            }
            Ok(())
        })?;
    }
    Ok(r)
}

/// `errors/error@type,name/failure`: one error result for each.
fn errors(
    doc: &mut XmlDoc,
    suites: &mut SuiteStack,
    report: &Report<'_>,
    format: &'static str,
) -> Result<Vec<TestResult>> {
    let mut out = Vec::new();
    xml::each_child(doc, None, |doc, name, attrs, empty| {
        if name != "error" {
            return Ok(());
        }
        let mut r = suites.result(format, &report.name);
        r.status = Status::Error;
        r.outcome = attr(&attrs, "type").map(str::to_string);
        r.name = attr(&attrs, "name").map(str::to_string);
        r.extra
            .insert("synthetic".into(), "assembly-level <error>".into());
        if !empty {
            xml::each_child(doc, None, |doc, n, a, _| {
                if n == "failure" {
                    r.failure_type = attr(&a, "exception-type").map(str::to_string);
                    (r.message, r.details) = xml::message_and_trace(doc)?;
                }
                Ok(())
            })?;
        }
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}
