//! NUnit 2 (`<test-results>`, or a bare `<test-suite>` fragment):
//! `test-suite/results/(test-suite/results)*/test-case`.

use super::nunit3::properties;
use super::report::Report;
use super::suites::{self, SuiteStack};
use super::values::{count, OddValues};
use super::xml::Root;
use super::xml::{self, attr, XmlDoc};
use crate::error::Result;
use crate::record::{Property, Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "nunit2";

/// NUnit 2's `result`, or before 2.5 `executed` and `success`, as a status.
pub(crate) fn status(
    result: Option<&str>,
    executed: Option<&str>,
    success: Option<&str>,
) -> Status {
    let yes = |v: Option<&str>| v.is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let no = |v: Option<&str>| v.is_some_and(|v| v.eq_ignore_ascii_case("false"));
    if no(executed) {
        return Status::Skipped;
    }
    match result {
        Some("Success") => Status::Passed,
        Some("Failure") => Status::Failed,
        Some("Error" | "Cancelled") => Status::Error,
        Some("Ignored" | "Skipped" | "NotRunnable" | "Inconclusive") => Status::Skipped,
        _ if yes(success) => Status::Passed,
        _ if no(success) => Status::Failed,
        _ => Status::Error,
    }
}

/// Splits NUnit 2's full test name at the last `.` outside parentheses and quotes:
/// `NS.Fixture.Method(1, "a.b")` → (`NS.Fixture`, `Method(1, "a.b")`).
pub(crate) fn split_name(full: &str) -> (Option<&str>, &str) {
    let mut depth = 0i32;
    let mut quote = None;
    let mut cut = None;
    for (i, c) in full.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, '.') if depth == 0 => cut = Some(i),
            _ => {}
        }
    }
    match cut {
        Some(i) if i > 0 && i + 1 < full.len() => (Some(&full[..i]), &full[i + 1..]),
        _ => (None, full),
    }
}

/// Parses an NUnit 2 document whose root start tag has just been read.
pub(crate) fn parse(doc: &mut XmlDoc, root: Root, report: &mut Report<'_>) -> Result<()> {
    let mut suites = SuiteStack::default();
    let mut odd = OddValues::default();
    // The run's date and clock time, when `time` is a clock time and not a duration.
    let run_start = match (attr(&root.attrs, "date"), attr(&root.attrs, "time")) {
        (Some(d), Some(t)) if t.matches(':').count() == 2 => {
            odd.timestamp(&format!("{d}T{t}"), || doc.here())
        }
        _ => None,
    };
    if root.name == "test-suite" {
        open_suite(doc, &mut suites, &root.attrs, run_start.clone());
        if root.empty {
            return doc.finish();
        }
    } else if root.empty {
        return doc.finish();
    }
    suites::walk(doc, &mut suites, |doc, suites, name, attrs, empty| {
        match &*name {
            "test-suite" => {
                let start = if suites.is_empty() {
                    run_start.clone()
                } else {
                    None
                };
                open_suite(doc, suites, &attrs, start);
                if empty {
                    suites.pop();
                }
            }
            "properties" if !empty && suites.before_first_case() => {
                let props = properties(doc)?;
                suites.add_properties(props);
            }
            "categories" if !empty && suites.before_first_case() => {
                let props = categories(doc)?;
                suites.add_properties(props);
            }
            "test-case" if is_nunit3(&attrs) => {
                let r = super::nunit3::test_case(doc, suites, &mut odd, report, attrs, empty)?;
                suites.saw_case();
                report.emit(&r)?;
            }
            "test-case" => {
                let r = test_case(doc, suites, &mut odd, report, attrs, empty)?;
                suites.saw_case();
                report.emit(&r)?;
            }
            "results" => {}
            _ if !empty => xml::skip(doc)?,
            _ => {}
        }
        Ok(())
    })?;
    doc.finish()
}

fn open_suite(doc: &XmlDoc, suites: &mut SuiteStack, attrs: &xml::Attrs, start: Option<String>) {
    let name = attr(attrs, "name").unwrap_or("").to_string();
    suites.push(doc.ctx.depth, name, start);
}

/// `categories/category@name` as `category` properties.
fn categories(doc: &mut XmlDoc) -> Result<Vec<Property>> {
    let mut out = Vec::new();
    xml::each_child(doc, None, |_, name, attrs, _| {
        if name == "category" {
            out.push(Property {
                name: "category".into(),
                value: attr(&attrs, "name").unwrap_or("").to_string(),
            });
        }
        Ok(())
    })?;
    Ok(out)
}

fn test_case(
    doc: &mut XmlDoc,
    suites: &mut SuiteStack,
    odd: &mut OddValues,
    report: &Report<'_>,
    attrs: xml::Attrs,
    empty: bool,
) -> Result<TestResult> {
    let mut r = suites.result(FORMAT, &report.name);
    let (mut result, mut executed, mut success, mut time) = (None, None, None, None);
    for (k, v) in attrs {
        match k.as_ref() {
            "name" => {
                let (class, name) = split_name(&v);
                r.classname = class.map(str::to_string);
                r.name = Some(name.to_string());
                r.extra.insert("fullname".into(), v);
            }
            "result" => result = Some(v),
            "executed" => executed = Some(v),
            "success" => success = Some(v),
            "time" => time = Some(v),
            "asserts" => r.assertions = count(v, k, &mut r.extra),
            _ => {
                r.extra.insert(k, v);
            }
        }
    }
    r.status = status(result.as_deref(), executed.as_deref(), success.as_deref());
    r.outcome = result.clone().or_else(|| {
        executed.as_ref().map(|e| match &success {
            Some(s) => format!("executed={e} success={s}"),
            None => format!("executed={e}"),
        })
    });
    // A test that did not run has no meaningful time.
    if r.status != Status::Skipped || time.is_some() {
        r.duration = odd.seconds(time.as_deref(), 1.0, "test-case", "time", || doc.here());
    }
    let mut failure = false;
    if !empty {
        xml::each_child(doc, None, |doc, name, attrs, empty| {
            match &*name {
                "failure" => {
                    failure = true;
                    (r.message, r.details) = xml::message_and_trace(doc)?;
                }
                "reason" => r.message = xml::child_texts(doc, &["message"])?.remove(0),
                "properties" if !empty => r.properties.extend(properties(doc)?),
                "categories" if !empty => r.properties.extend(categories(doc)?),
                _ => xml::keep_unknown(doc, &mut r.extra, name, attrs, empty)?,
            }
            Ok(())
        })?;
    }
    // NUnit 2.0 to 2.2 wrote `executed` alone: a test that ran passed unless it holds a failure.
    let ran = executed
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("true"));
    if ran && result.is_none() && success.is_none() {
        r.status = if failure {
            Status::Failed
        } else {
            Status::Passed
        };
    }
    Ok(r)
}

/// Whether a test case carries NUnit 3's attributes (the Unity Test Runner writes them under a
/// bare `<test-suite>` root, which otherwise says NUnit 2).
fn is_nunit3(attrs: &xml::Attrs) -> bool {
    attr(attrs, "fullname").is_some()
        || attr(attrs, "duration").is_some()
        || matches!(attr(attrs, "result"), Some("Passed" | "Failed" | "Warning"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_full_names() {
        assert_eq!(
            split_name("NS.Fixture.Method"),
            (Some("NS.Fixture"), "Method")
        );
        assert_eq!(
            split_name("NS.Fixture.Method(1.5,\"a.b\")"),
            (Some("NS.Fixture"), "Method(1.5,\"a.b\")")
        );
        assert_eq!(split_name("Method"), (None, "Method"));
    }

    #[test]
    fn maps_outcomes() {
        assert_eq!(status(Some("Success"), Some("True"), None), Status::Passed);
        assert_eq!(status(Some("Cancelled"), Some("True"), None), Status::Error);
        assert_eq!(status(None, Some("False"), None), Status::Skipped);
        assert_eq!(status(None, Some("True"), Some("False")), Status::Failed);
        assert_eq!(
            status(Some("Failure"), Some("False"), None),
            Status::Skipped
        );
    }
}
