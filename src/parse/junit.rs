//! JUnit XML and its dialects (surefire, gradle, pytest, jest, go, phpunit, ctest, mocha,
//! karma, playwright, nextest, Catch2, googletest): `testsuites?/testsuite*/testcase`.
//!
//! Streaming: each result is written as its `</testcase>` closes. Only the stack of open
//! suites (names, timestamps, and the properties written before their first testcase) is kept.

use super::report::Report;
use super::suites::SuiteStack;
use super::values::{self, count, OddValues};
use super::xml::Root;
use super::xml::{self, attr, Item, XmlDoc};
use crate::error::Result;
use crate::record::{Outcome, Property, Rerun, Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "junit";

struct State<'r, 'w> {
    report: &'r mut Report<'w>,
    suites: SuiteStack,
    odd: OddValues,
    outcomes: Vec<Outcome>,
}

/// Parses a JUnit document whose root start tag has just been read.
pub(crate) fn parse(doc: &mut XmlDoc, root: Root, report: &mut Report<'_>) -> Result<()> {
    let mut st = State {
        report,
        suites: SuiteStack::default(),
        odd: OddValues::default(),
        outcomes: Vec::new(),
    };
    element(doc, &mut st, &root.name, root.attrs, root.empty)?;
    if !root.empty {
        loop {
            match xml::next_item(doc, None)? {
                Item::Open { name, attrs, empty } => element(doc, &mut st, &name, attrs, empty)?,
                Item::Close => {
                    let depth = doc.ctx.depth;
                    st.suites.close_to(depth);
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

/// Handles one element outside any testcase.
fn element(
    doc: &mut XmlDoc,
    st: &mut State<'_, '_>,
    name: &str,
    attrs: xml::Attrs,
    empty: bool,
) -> Result<()> {
    match name {
        "testsuite" => {
            let timestamp = attr(&attrs, "timestamp").and_then(|t| stamp(doc, st, t));
            let name = attr(&attrs, "name").unwrap_or("").to_string();
            st.suites.push(doc.ctx.depth, name, timestamp);
            if empty {
                st.suites.pop();
            }
        }
        "testcase" => testcase(doc, st, attrs, empty)?,
        "properties" if !empty && st.suites.before_first_case() => {
            let props = properties(doc)?;
            st.suites.add_properties(props);
        }
        // A bare error or failure in a suite is a failure of the whole class or fixture.
        "error" | "failure" if !st.suites.is_empty() => {
            let mut r = st.suites.result(FORMAT, &st.report.name);
            r.classname = st.suites.name().map(str::to_string);
            r.status = if name == "error" {
                Status::Error
            } else {
                Status::Failed
            };
            r.outcome = Some(name.to_string());
            r.message = attr(&attrs, "message").map(str::to_string);
            r.failure_type = attr(&attrs, "type").map(str::to_string);
            if !empty {
                r.details = xml::read_text(doc)?;
            }
            r.extra
                .insert("synthetic".into(), format!("suite-level <{name}>"));
            st.report.emit(&r)?;
        }
        // Suite output and late properties are not per-test data.
        _ if empty => {}
        "system-out" | "system-err" | "system.out" | "system.err" | "properties" => xml::skip(doc)?,
        // `testsuites` and unknown wrappers are transparent.
        _ => {}
    }
    Ok(())
}

fn stamp(doc: &XmlDoc, st: &mut State<'_, '_>, raw: &str) -> Option<String> {
    st.odd.timestamp(raw, || doc.here())
}

/// Appends `s` to the text in `acc` after `sep`, or makes it the text.
fn join_to(acc: &mut Option<String>, s: String, sep: &str) {
    match acc {
        Some(a) => {
            a.push_str(sep);
            a.push_str(&s);
        }
        None => *acc = Some(s),
    }
}

/// Severity order: the most severe result element decides the status.
fn severity(kind: &str) -> u8 {
    match kind {
        "error" => 4,
        "failure" => 3,
        "warning" => 2,
        "skipped" => 1,
        _ => 0,
    }
}

/// Reads a testcase and writes its result (built in place: a result is large to move).
fn testcase(
    doc: &mut XmlDoc,
    st: &mut State<'_, '_>,
    mut attrs: xml::Attrs,
    empty: bool,
) -> Result<()> {
    let mut r = st.suites.result(FORMAT, &st.report.name);
    let mut time = None;
    let mut status_attr = None;
    let mut result_attr = None;
    for (k, v) in attrs.drain(..) {
        match k.as_ref() {
            "name" => r.name = Some(v),
            "classname" => r.classname = Some(v),
            "time" => time = Some(v),
            "file" => r.file = Some(v),
            "line" => r.line = count(v, k, &mut r.extra),
            "assertions" => r.assertions = count(v, k, &mut r.extra),
            "timestamp" => r.start = stamp(doc, st, &v),
            "status" => {
                status_attr = Some(v.clone());
                r.extra.insert(k, v);
            }
            "result" => {
                result_attr = Some(v.clone());
                r.extra.insert(k, v);
            }
            _ => {
                r.extra.insert(k, v);
            }
        }
    }
    // PHPUnit writes `class` where others write `classname`.
    if r.classname.is_none() {
        r.classname = r.extra.get("class").cloned();
    }
    r.duration = st
        .odd
        .seconds(time.as_deref(), 1.0, "testcase", "time", || doc.here());
    doc.ctx.pool.give_all([time]);
    doc.ctx.pool.give_attrs(attrs);
    // The result elements, in a list kept from one test case to the next.
    let mut outcomes = std::mem::take(&mut st.outcomes);
    if !empty {
        children(doc, st, &mut r, &mut outcomes)?;
    }
    decide(
        &mut r,
        &mut outcomes,
        status_attr.as_deref(),
        result_attr.as_deref(),
    );
    st.outcomes = outcomes;
    let dir = st.report.dir;
    let (mut atts, mut props) = (Vec::new(), Vec::new());
    for text in [&r.stdout, &r.stderr].into_iter().flatten() {
        values::scan_output(text, dir, &mut atts, &mut props);
    }
    for p in &r.properties {
        if p.name.to_ascii_lowercase().starts_with("attachment") {
            atts.extend(values::resolve_attachment(&p.value, dir));
        }
    }
    r.attachments = atts;
    r.properties.extend(props);
    st.suites.saw_case();
    st.report.emit(&r)?;
    doc.ctx.pool.give_all([
        r.name,
        r.classname,
        r.outcome,
        r.message,
        r.failure_type,
        r.details,
        r.stdout,
        r.stderr,
    ]);
    Ok(())
}

/// Reads the children of a testcase up to its end tag.
fn children(
    doc: &mut XmlDoc,
    st: &mut State<'_, '_>,
    r: &mut TestResult,
    outcomes: &mut Vec<Outcome>,
) -> Result<()> {
    let depth = doc.ctx.depth;
    let mut loose = xml::Text::new(doc.ctx.cap);
    loop {
        let (name, mut attrs, empty) = match xml::next_item(doc, Some(&mut loose))? {
            Item::Open { name, attrs, empty } => (name, attrs, empty),
            Item::Close if doc.ctx.depth < depth => break,
            Item::Close => continue,
            Item::Eof => break,
        };
        let text = |doc: &mut XmlDoc| -> Result<Option<String>> {
            if empty {
                Ok(None)
            } else {
                xml::read_text(doc)
            }
        };
        match &*name {
            "failure" | "error" | "skipped" | "warning" => outcomes.push(Outcome {
                message: xml::take_attr(&mut attrs, "message"),
                failure_type: xml::take_attr(&mut attrs, "type"),
                details: text(doc)?,
                kind: doc.ctx.pool.copy(&name),
            }),
            "rerunFailure" | "rerunError" | "flakyFailure" | "flakyError" => {
                let rerun = rerun(doc, st, name, &attrs, empty)?;
                r.reruns.push(rerun);
            }
            "system-out" | "system.out" => append(&mut r.stdout, text(doc)?),
            "system-err" | "system.err" => append(&mut r.stderr, text(doc)?),
            "properties" if !empty => r.properties.extend(properties(doc)?),
            "properties" => {}
            _ => {
                for (k, v) in &attrs {
                    r.extra.insert(format!("{name}@{k}").into(), v.clone());
                }
                let t = text(doc)?;
                if let Some(t) = t {
                    let slot = r.extra.entry(name).or_default();
                    if !slot.is_empty() {
                        slot.push('\n');
                    }
                    slot.push_str(&t);
                } else if attrs.is_empty() {
                    r.extra.entry(name).or_default();
                }
            }
        }
        doc.ctx.pool.give_attrs(attrs);
    }
    if let Some(t) = loose.finish() {
        if !t.trim().is_empty() {
            r.extra.insert("text".into(), t.trim().to_string());
        }
    }
    Ok(())
}

/// Appends `more`, if any, to the text in `slot` on a line of its own.
fn append(slot: &mut Option<String>, more: Option<String>) {
    if let Some(m) = more {
        join_to(slot, m, "\n");
    }
}

/// `properties/property@name,@value`, or the value as the element's text.
fn properties(doc: &mut XmlDoc) -> Result<Vec<Property>> {
    let depth = doc.ctx.depth;
    let mut out = Vec::new();
    loop {
        let (name, attrs, empty) = match xml::next_item(doc, None)? {
            Item::Open { name, attrs, empty } => (name, attrs, empty),
            Item::Close if doc.ctx.depth < depth => break,
            Item::Close => continue,
            Item::Eof => break,
        };
        let text = if empty { None } else { xml::read_text(doc)? };
        if name != "property" {
            continue;
        }
        out.push(Property {
            name: attr(&attrs, "name").unwrap_or("").to_string(),
            value: attr(&attrs, "value")
                .map(str::to_string)
                .or(text)
                .unwrap_or_default(),
        });
    }
    Ok(out)
}

/// One surefire rerun element: attributes, and `stackTrace`, `system-out`, `system-err`
/// children (before surefire 2.22.1 the trace was the element's text).
fn rerun(
    doc: &mut XmlDoc,
    st: &mut State<'_, '_>,
    kind: xml::Name,
    attrs: &[(std::borrow::Cow<'static, str>, String)],
    empty: bool,
) -> Result<Rerun> {
    let mut r = Rerun {
        status: Some(if kind.ends_with("Error") {
            Status::Error
        } else {
            Status::Failed
        }),
        message: attr(attrs, "message").map(str::to_string),
        failure_type: attr(attrs, "type").map(str::to_string),
        duration: values::seconds(attr(attrs, "time")).ok(),
        kind: kind.into_owned(),
        ..Rerun::default()
    };
    let _ = st;
    if empty {
        return Ok(r);
    }
    let depth = doc.ctx.depth;
    let mut body = xml::Text::new(doc.ctx.cap);
    loop {
        let (name, empty) = match xml::next_item(doc, Some(&mut body))? {
            Item::Open { name, empty, .. } => (name, empty),
            Item::Close if doc.ctx.depth < depth => break,
            Item::Close => continue,
            Item::Eof => break,
        };
        let text = if empty { None } else { xml::read_text(doc)? };
        match &*name {
            "stackTrace" => append(&mut r.details, text),
            "system-out" | "system.out" => append(&mut r.stdout, text),
            "system-err" | "system.err" => append(&mut r.stderr, text),
            _ => append(&mut r.details, text),
        }
    }
    if let Some(b) = body.finish() {
        if !b.trim().is_empty() {
            append(&mut r.details, Some(b.trim().to_string()));
        }
    }
    Ok(r)
}

/// Sets status, message, type and details from the result elements: the most severe kind wins
/// and its elements are joined; the others are kept in `other_outcomes`.
fn decide(
    r: &mut TestResult,
    outcomes: &mut Vec<Outcome>,
    status: Option<&str>,
    result: Option<&str>,
) {
    let top = outcomes
        .iter()
        .map(|o| severity(&o.kind))
        .max()
        .unwrap_or(0);
    // The deciding elements' messages and details joined (one is moved, not copied), and
    // their distinct types.
    let mut message: Option<String> = None;
    let (mut first_type, mut more_types) = (None::<String>, Vec::<String>::new());
    let mut details: Option<String> = None;
    let mut winner = None;
    for o in outcomes.drain(..) {
        if severity(&o.kind) == top && top > 0 {
            if winner.is_none() {
                winner = Some(o.kind);
            }
            if let Some(m) = o.message {
                join_to(&mut message, m, "\n");
            }
            if let Some(t) = o.failure_type.filter(|t| !t.is_empty()) {
                match &first_type {
                    None => first_type = Some(t),
                    Some(f) if *f == t || more_types.contains(&t) => {}
                    Some(_) => more_types.push(t),
                }
            }
            if let Some(d) = o.details {
                join_to(&mut details, d, "\n\n");
            }
        } else {
            r.other_outcomes.push(o);
        }
    }
    r.status = match winner.as_deref() {
        Some("error") => Status::Error,
        Some("failure") => Status::Failed,
        Some("warning") => Status::Warning,
        Some("skipped") => Status::Skipped,
        _ => Status::Passed,
    };
    r.outcome = winner;
    if message.is_some() {
        r.message = message;
    }
    if let Some(mut t) = first_type {
        for more in more_types {
            t.push_str(", ");
            t.push_str(&more);
        }
        r.failure_type = Some(t);
    }
    if details.is_some() {
        r.details = details;
    }
    // Flaky: only flaky attempts and no failure of its own means it passed in the end.
    if r.status == Status::Passed && !r.reruns.is_empty() {
        r.flaky = r.reruns.iter().any(|x| x.kind.starts_with("flaky"));
    }
    // Disabled, not run or suppressed tests are skipped whatever their children say.
    let skip_status = status.map(|s| s.trim().to_ascii_lowercase());
    let skip_result = result.map(|s| s.trim().to_ascii_lowercase());
    if matches!(
        skip_status.as_deref(),
        Some("disabled" | "notrun" | "skipped")
    ) || matches!(skip_result.as_deref(), Some("suppressed" | "skipped"))
    {
        r.status = Status::Skipped;
        r.outcome = skip_status
            .filter(|s| s != "run")
            .or(skip_result)
            .map(|s| s.to_string());
    }
}
