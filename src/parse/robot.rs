//! Robot Framework's output.xml (`<robot>`), RF 3.2 to 7.x: `starttime`/`endtime` and RF 7's
//! `start`/`elapsed`, legacy and schema 5 keyword elements. One result per `<test>`: PASS →
//! passed, FAIL → failed, SKIP and NOT RUN → skipped. A failed suite setup or teardown makes
//! every test below that suite that is not skipped failed, its message naming it (a skipped
//! suite teardown makes them skipped), as Robot's own statistics count them: a teardown comes
//! after its suite's tests, so a suite's results are held until its end. The test's top-level
//! keywords (and control structures) → `steps`; tags → `tag` properties; nested suites →
//! suites (classname the suite path joined by `.`, as Robot's long names); documentation → a
//! `documentation` property.

use std::sync::Arc;

use super::report::Report;
use super::xml::{self, attr, Attrs, Root, XmlDoc};
use crate::error::Result;
use crate::record::{Property, Status, Step, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "robot";

/// A Robot status word as a status.
fn status_of(word: &str) -> Status {
    match word {
        "PASS" => Status::Passed,
        "FAIL" => Status::Failed,
        "SKIP" | "NOT RUN" | "NOT_RUN" => Status::Skipped,
        _ => Status::Error,
    }
}

/// A `<status>` element: its word, message, start (ISO) and duration.
#[derive(Default)]
struct Outcome {
    word: String,
    message: Option<String>,
    start: Option<String>,
    seconds: Option<f64>,
}

/// Robot's `20220201 17:17:12.718` (before RF 7) as ISO 8601; RF 7's ISO as it is.
fn iso(raw: &str) -> Option<String> {
    let s = raw.trim();
    let b = s.as_bytes();
    let robot = b.len() >= 17 && b.get(8) == Some(&b' ') && b[..8].iter().all(u8::is_ascii_digit);
    let s = if robot {
        format!(
            "{}-{}-{}T{}",
            s.get(..4)?,
            s.get(4..6)?,
            s.get(6..8)?,
            s.get(9..)?
        )
    } else {
        s.to_string()
    };
    crate::date::normalize(&s).ok().flatten()
}

fn outcome(doc: &mut XmlDoc, attrs: &Attrs, empty: bool) -> Result<Outcome> {
    let start = attr(attrs, "starttime")
        .or_else(|| attr(attrs, "start"))
        .and_then(iso);
    let seconds = match attr(attrs, "elapsed") {
        Some(e) => e
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0),
        None => {
            let end = attr(attrs, "endtime").and_then(iso);
            match (start.as_deref(), end.as_deref()) {
                (Some(a), Some(b)) => crate::date::parse_any(a)
                    .zip(crate::date::parse_any(b))
                    .map(|(a, b)| ((b - a).max(0) as f64) / 1000.0),
                _ => None,
            }
        }
    };
    Ok(Outcome {
        word: attr(attrs, "status").unwrap_or("").to_string(),
        message: xml::trimmed_text(doc, empty)?,
        start,
        seconds,
    })
}

/// The outcome of a keyword or control structure: its own `<status>` (its children's are
/// theirs), and the first failure message of a `<msg level="FAIL">` when the status has none.
fn keyword_outcome(doc: &mut XmlDoc) -> Result<Outcome> {
    let mut out = Outcome::default();
    let mut fail_msg = None;
    xml::each_child(doc, None, |doc, name, attrs, empty| {
        match &*name {
            "status" => out = outcome(doc, &attrs, empty)?,
            "msg" if attr(&attrs, "level") == Some("FAIL") && fail_msg.is_none() => {
                fail_msg = xml::trimmed_text(doc, empty)?;
            }
            _ => {}
        }
        Ok(())
    })?;
    if out.message.is_none() && out.word == "FAIL" {
        out.message = fail_msg;
    }
    Ok(out)
}

/// Whether an element of a test or suite body is a keyword or a control structure.
fn is_step(name: &str) -> bool {
    matches!(
        name,
        "kw" | "setup"
            | "teardown"
            | "for"
            | "while"
            | "if"
            | "try"
            | "group"
            | "return"
            | "break"
            | "continue"
            | "var"
            | "error"
    )
}

/// A step's name: a keyword's (`Library.Name`), a setup's or teardown's prefixed so, a control
/// structure's in capitals (`FOR IN`).
fn step_name(element: &str, attrs: &Attrs) -> String {
    let kind = attr(attrs, "type").map(str::to_ascii_lowercase);
    let name = attr(attrs, "name").unwrap_or("");
    let full = match attr(attrs, "library").or_else(|| attr(attrs, "owner")) {
        Some(lib) if !name.is_empty() => format!("{lib}.{name}"),
        _ => name.to_string(),
    };
    let role = match (element, kind.as_deref()) {
        ("setup", _) | (_, Some("setup")) => Some("Setup"),
        ("teardown", _) | (_, Some("teardown")) => Some("Teardown"),
        _ => None,
    };
    match (role, element) {
        (Some(r), _) => format!("{r}: {full}"),
        (None, "kw") => full,
        (None, other) => {
            let flavor = attr(attrs, "flavor")
                .map(|f| format!(" {f}"))
                .unwrap_or_default();
            format!("{}{flavor}", other.to_ascii_uppercase())
        }
    }
}

/// A suite's setup or teardown: `<kw type="setup">` (before RF 7) or `<setup>`.
fn fixture_role(element: &str, attrs: &Attrs) -> Option<&'static str> {
    let kind = attr(attrs, "type").map(str::to_ascii_lowercase);
    match (element, kind.as_deref()) {
        ("setup", _) | ("kw", Some("setup")) => Some("setup"),
        ("teardown", _) | ("kw", Some("teardown")) => Some("teardown"),
        _ => None,
    }
}

/// Parses an output.xml whose `<robot>` start tag has just been read (or whose root `<suite>`
/// start tag: what `rebot --output` of one suite's part writes).
pub(crate) fn parse(doc: &mut XmlDoc, root: Root, report: &mut Report<'_>) -> Result<()> {
    let mut path = Vec::new();
    if root.name == "suite" && !root.empty {
        for r in suite(doc, &root.attrs, &mut path, report)? {
            report.emit(&r)?;
        }
    } else if !root.empty {
        xml::each_child(doc, None, |doc, name, attrs, empty| {
            if &*name == "suite" && !empty {
                for r in suite(doc, &attrs, &mut path, report)? {
                    report.emit(&r)?;
                }
            }
            Ok(())
        })?;
    }
    doc.finish()
}

/// The results of a suite and the suites below it, its setup's and teardown's failures
/// applied.
fn suite(
    doc: &mut XmlDoc,
    attrs: &Attrs,
    path: &mut Vec<String>,
    report: &Report<'_>,
) -> Result<Vec<TestResult>> {
    path.push(attr(attrs, "name").unwrap_or("").to_string());
    let suites: Arc<[String]> = Arc::from(path.clone());
    let mut results = Vec::new();
    let mut fixtures: Vec<(&'static str, Outcome)> = Vec::new();
    xml::each_child(doc, None, |doc, name, attrs, empty| {
        match (&*name, fixture_role(&name, &attrs)) {
            ("suite", _) if !empty => results.extend(suite(doc, &attrs, path, report)?),
            ("test", _) => results.push(test(doc, &attrs, empty, &suites, report)?),
            (_, Some(role)) if !empty => fixtures.push((role, keyword_outcome(doc)?)),
            _ => {}
        }
        Ok(())
    })?;
    path.pop();
    for (role, o) in &fixtures {
        apply_fixture(&mut results, role, o);
    }
    Ok(results)
}

/// A failed (or, for a teardown, skipped) suite setup or teardown, on the suite's results.
fn apply_fixture(results: &mut [TestResult], role: &str, o: &Outcome) {
    let to = match (o.word.as_str(), role) {
        ("FAIL", _) => Status::Failed,
        ("SKIP", "teardown") => Status::Skipped,
        _ => return,
    };
    let verb = if to == Status::Failed {
        "failed"
    } else {
        "skipped"
    };
    let note = format!("suite {role} {verb}");
    for r in results.iter_mut().filter(|r| r.status != Status::Skipped) {
        if r.message.as_deref().is_some_and(|m| m.contains(&note)) {
            continue;
        }
        r.status = to;
        r.outcome = Some(if to == Status::Failed { "FAIL" } else { "SKIP" }.into());
        let why = match &o.message {
            Some(m) => format!("{note}:\n{m}"),
            None => note.clone(),
        };
        // Robot's own words: "Parent suite ...", after a test's own failure "Also parent ...".
        r.message = Some(match r.message.take() {
            Some(m) => format!("{m}\n\nAlso parent {why}"),
            None => format!("Parent {why}"),
        });
    }
}

fn test(
    doc: &mut XmlDoc,
    attrs: &Attrs,
    empty: bool,
    suites: &Arc<[String]>,
    report: &Report<'_>,
) -> Result<TestResult> {
    let mut r = TestResult::in_suites(FORMAT, &report.name, suites.clone(), Arc::from([]), None);
    r.classname = Some(suites.join("."));
    r.name = attr(attrs, "name").map(str::to_string);
    r.line = attr(attrs, "line").and_then(|l| l.trim().parse().ok());
    if empty {
        r.status = Status::Error;
        return Ok(r);
    }
    let mut own = Outcome::default();
    xml::each_child(doc, None, |doc, name, attrs, empty| {
        match &*name {
            "status" => own = outcome(doc, &attrs, empty)?,
            "tag" => push_tag(&mut r, xml::trimmed_text(doc, empty)?),
            "tags" if !empty => xml::each_child(doc, None, |doc, name, _, empty| {
                if &*name == "tag" {
                    push_tag(&mut r, xml::trimmed_text(doc, empty)?);
                }
                Ok(())
            })?,
            "doc" => {
                if let Some(d) = xml::trimmed_text(doc, empty)? {
                    r.properties.push(Property {
                        name: "documentation".into(),
                        value: d,
                    });
                }
            }
            n if is_step(n) => {
                let label = step_name(n, &attrs);
                let o = if empty {
                    Outcome::default()
                } else {
                    keyword_outcome(doc)?
                };
                r.steps.push(Step {
                    name: label,
                    status: status_of(&o.word),
                    duration: o.seconds,
                    message: o.message,
                });
            }
            _ => {}
        }
        Ok(())
    })?;
    r.status = status_of(&own.word);
    r.outcome = Some(own.word);
    r.message = own.message;
    r.start = own.start;
    r.duration = own.seconds;
    Ok(r)
}

fn push_tag(r: &mut TestResult, tag: Option<String>) {
    if let Some(t) = tag {
        r.properties.push(Property {
            name: "tag".into(),
            value: t,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robot_timestamps_read_as_iso() {
        assert_eq!(
            iso("20220201 17:17:12.718").as_deref(),
            Some("2022-02-01T17:17:12.718")
        );
        assert_eq!(
            iso("2024-01-10T12:00:00.123456").as_deref(),
            Some("2024-01-10T12:00:00.123456")
        );
        assert_eq!(iso("N/A"), None);
    }
}
