//! VSTest TRX (`<TestRun>`): `Results/UnitTestResult`, joined on `testId` to
//! `TestDefinitions/UnitTest` for the class name.
//!
//! vstest writes the results *before* the definitions. For a file, a first quick reading
//! collects the definitions (memory: one small entry per test), then the results stream. For
//! standard input, which cannot be read twice, results wait in memory until the definitions
//! arrive: memory then grows with the number of tests and the size of their output.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::report::Report;
use super::values::{self, OddValues};
use super::xml::Root;
use super::xml::{self, attr, Item, XmlDoc};
use crate::error::Result;
use crate::record::{Property, Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "trx";

/// A TRX outcome as a status. A result without an outcome did not complete: an error.
pub(crate) fn status(outcome: Option<&str>) -> Status {
    match outcome {
        Some("Passed" | "PassedButRunAborted" | "Completed") => Status::Passed,
        Some("Failed") => Status::Failed,
        Some("Warning") => Status::Warning,
        Some(
            "NotExecuted" | "NotRunnable" | "Inconclusive" | "Pending" | "InProgress"
            | "Disconnected",
        ) => Status::Skipped,
        // Error, Timeout, Aborted, no outcome, and anything unknown.
        _ => Status::Error,
    }
}

/// What `TestDefinitions/UnitTest` says about one test. The strings many tests share (class,
/// assembly, category) are stored once.
#[derive(Default, Clone)]
struct Definition {
    class: Option<Arc<str>>,
    storage: Option<Arc<str>>,
    categories: Vec<Arc<str>>,
    description: Option<String>,
}

/// The test definitions by test ID, with shared strings stored once.
#[derive(Default)]
struct Definitions {
    by_id: HashMap<Box<str>, Definition>,
    strings: std::collections::HashSet<Arc<str>>,
}

impl Definitions {
    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.strings.get(s) {
            return Arc::clone(a);
        }
        let a: Arc<str> = Arc::from(s);
        self.strings.insert(Arc::clone(&a));
        a
    }

    fn get(&self, id: &str) -> Option<&Definition> {
        self.by_id.get(id)
    }
}

/// A result waiting for its definition.
struct Pending {
    result: TestResult,
    test_id: Option<String>,
}

struct State<'r, 'w> {
    report: &'r mut Report<'w>,
    defs: Definitions,
    have_defs: bool,
    pending: Vec<Pending>,
    odd: OddValues,
    run_start: Option<Arc<str>>,
    /// Where vstest puts a result's files: `<report dir>/<runDeploymentRoot>/In`.
    files_dir: Option<PathBuf>,
}

/// Parses a TRX document whose root start tag has just been read. `reopen` reads the same
/// input again from the start, when that is possible.
pub(crate) fn parse(
    doc: &mut XmlDoc,
    root: Root,
    report: &mut Report<'_>,
    reopen: Option<&dyn Fn() -> Result<XmlDoc>>,
) -> Result<()> {
    let mut st = State {
        report,
        defs: Definitions::default(),
        have_defs: false,
        pending: Vec::new(),
        odd: OddValues::default(),
        run_start: None,
        files_dir: None,
    };
    if !root.empty {
        xml::each_child(doc, None, |doc, name, attrs, empty| {
            match &*name {
                "Times" => {
                    st.run_start = attr(&attrs, "start")
                        .and_then(|t| st.odd.timestamp(t, || doc.here()))
                        .map(Arc::from);
                }
                "TestSettings" if !empty => {
                    let mut deploy = None;
                    xml::each_child(doc, None, |_, n, a, _| {
                        if n == "Deployment" {
                            deploy = attr(&a, "runDeploymentRoot").map(str::to_string);
                        }
                        Ok(())
                    })?;
                    let base = st.report.dir.map(Path::to_path_buf).unwrap_or_default();
                    st.files_dir = deploy.map(|d| base.join(d).join("In"));
                }
                "Results" if !empty => {
                    if !st.have_defs {
                        if let Some(reopen) = reopen {
                            st.defs = prepass(reopen);
                            st.have_defs = true;
                        }
                    }
                    results(doc, &mut st)?;
                }
                // Already read by the first reading: passed over unparsed.
                "TestDefinitions" if !empty && st.have_defs => xml::skip_raw(doc, &name)?,
                "TestDefinitions" if !empty => {
                    st.defs = definitions(doc)?;
                    st.have_defs = true;
                    flush(&mut st)?;
                }
                _ => {}
            }
            Ok(())
        })?;
    }
    st.have_defs = true;
    flush(&mut st)?;
    doc.finish()
}

/// The definitions from a first reading of the whole input. A problem there is left for the
/// main reading to report, at its place.
fn prepass(reopen: &dyn Fn() -> Result<XmlDoc>) -> Definitions {
    let mut defs = Definitions::default();
    let Ok(mut doc) = reopen() else {
        return defs;
    };
    doc.quiet();
    loop {
        match xml::next_item(&mut doc, None) {
            Ok(Item::Open { name, empty, .. }) if name == "TestDefinitions" && !empty => {
                if let Ok(d) = definitions(&mut doc) {
                    defs = d;
                }
            }
            Ok(Item::Open { name, empty, .. }) if name == "Results" && !empty => {
                if xml::skip_raw(&mut doc, &name).is_err() {
                    break;
                }
            }
            Ok(Item::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    defs
}

/// `TestDefinitions/UnitTest@id`: class name, storage, categories and description.
fn definitions(doc: &mut XmlDoc) -> Result<Definitions> {
    let mut defs = Definitions::default();
    xml::each_child(doc, None, |doc, _, attrs, empty| {
        let Some(id) = attr(&attrs, "id").map(Box::from) else {
            return Ok(());
        };
        let mut d = Definition {
            storage: attr(&attrs, "storage").map(|s| defs.intern(s)),
            ..Definition::default()
        };
        if !empty {
            xml::each_child(doc, None, |doc, name, attrs, empty| {
                match &*name {
                    "TestMethod" => d.class = attr(&attrs, "className").map(|c| defs.intern(c)),
                    "Description" => d.description = xml::trimmed_text(doc, empty)?,
                    "TestCategory" if !empty => xml::each_child(doc, None, |_, _, a, _| {
                        if let Some(c) = attr(&a, "TestCategory") {
                            d.categories.push(defs.intern(c));
                        }
                        Ok(())
                    })?,
                    _ => {}
                }
                Ok(())
            })?;
        }
        defs.by_id.insert(id, d);
        Ok(())
    })?;
    Ok(defs)
}

/// The children of `Results`: every `*TestResult`, inner results in place of their parent.
fn results(doc: &mut XmlDoc, st: &mut State<'_, '_>) -> Result<()> {
    xml::each_child(doc, None, |doc, name, attrs, empty| {
        if name.ends_with("TestResult") {
            let mut out = Vec::new();
            unit_result(doc, st, attrs, empty, &mut out)?;
            st.pending.extend(out);
            if st.have_defs {
                flush(st)?;
            }
        }
        Ok(())
    })
}

fn unit_result(
    doc: &mut XmlDoc,
    st: &mut State<'_, '_>,
    attrs: xml::Attrs,
    empty: bool,
    out: &mut Vec<Pending>,
) -> Result<()> {
    let mut r = TestResult::new(FORMAT, &st.report.name);
    r.suite_start = st.run_start.clone();
    let (mut outcome, mut duration, mut test_id, mut results_dir) = (None, None, None, None);
    for (k, v) in attrs {
        match k.as_ref() {
            "testName" => r.name = Some(v),
            "outcome" => outcome = Some(v),
            "duration" => duration = Some(v),
            "testId" => test_id = Some(v),
            "startTime" => r.start = st.odd.timestamp(&v, || doc.here()),
            "relativeResultsDirectory" => {
                results_dir = Some(v.clone());
                r.extra.insert(k, v);
            }
            _ => {
                r.extra.insert(k, v);
            }
        }
    }
    r.status = status(outcome.as_deref());
    r.outcome = outcome;
    // vstest leaves out a duration of zero.
    r.duration = match duration {
        None => Some(0.0),
        Some(d) => st.odd.other(values::timespan(&d), || doc.here()),
    };
    let mut inner = Vec::new();
    let files_dir = st
        .files_dir
        .clone()
        .or_else(|| st.report.dir.map(Path::to_path_buf));
    if !empty {
        xml::each_child(doc, None, |doc, name, attrs, empty| {
            match &*name {
                "Output" if !empty => output(doc, &mut r)?,
                "ResultFiles" if !empty => xml::each_child(doc, None, |_, _, a, _| {
                    if let Some(p) = attr(&a, "path") {
                        let dir = match (&files_dir, &results_dir) {
                            (Some(f), Some(rd)) if st.files_dir.is_some() => Some(f.join(rd)),
                            (f, _) => f.clone(),
                        };
                        r.attachments
                            .extend(values::resolve_attachment(p, dir.as_deref()));
                    }
                    Ok(())
                })?,
                "InnerResults" if !empty => xml::each_child(doc, None, |doc, n, a, e| {
                    if n.ends_with("TestResult") {
                        unit_result(doc, st, a, e, &mut inner)?;
                    }
                    Ok(())
                })?,
                _ => xml::keep_unknown(doc, &mut r.extra, name, attrs, empty)?,
            }
            Ok(())
        })?;
    }
    if inner.is_empty() {
        out.push(Pending { result: r, test_id });
    } else {
        // A data-driven test: each row is a result, the parent is not.
        for mut p in inner {
            if p.test_id.is_none() {
                p.test_id = test_id.clone();
            }
            out.push(p);
        }
    }
    Ok(())
}

/// `Output`: `StdOut`, `StdErr`, `DebugTrace`, `ErrorInfo/(Message, StackTrace)`,
/// `TextMessages/Message`.
fn output(doc: &mut XmlDoc, r: &mut TestResult) -> Result<()> {
    xml::each_child(doc, None, |doc, name, attrs, empty| {
        match &*name {
            "StdOut" => r.stdout = xml::trimmed_text(doc, empty)?,
            "StdErr" => r.stderr = xml::trimmed_text(doc, empty)?,
            "ErrorInfo" if !empty => {
                let mut t = xml::child_texts(doc, &["Message", "StackTrace"])?;
                r.details = t.pop().flatten();
                r.message = t.pop().flatten();
            }
            "TextMessages" if !empty => {
                let t = xml::child_texts(doc, &["Message"])?;
                if let Some(m) = t.into_iter().next().flatten() {
                    r.extra.insert("TextMessages".into(), m);
                }
            }
            _ => xml::keep_unknown(doc, &mut r.extra, name, attrs, empty)?,
        }
        Ok(())
    })
}

/// Emits the waiting results, completed from their definitions.
fn flush(st: &mut State<'_, '_>) -> Result<()> {
    if !st.have_defs {
        return Ok(());
    }
    for p in std::mem::take(&mut st.pending) {
        let mut r = p.result;
        if let Some(d) = p.test_id.as_ref().and_then(|id| st.defs.get(id)) {
            r.classname = d.class.as_deref().map(str::to_string);
            if let Some(s) = &d.storage {
                let file = s.rsplit(['/', '\\']).next().unwrap_or(s);
                r.suites = Arc::from([file.to_string()]);
            }
            r.properties.extend(d.categories.iter().map(|c| Property {
                name: "category".into(),
                value: c.to_string(),
            }));
            if let Some(desc) = &d.description {
                r.extra.insert("Description".into(), desc.clone());
            }
        }
        if let Some(id) = p.test_id {
            r.extra.insert("testId".into(), id);
        }
        values::strip_class_prefix(&mut r);
        st.report.emit(&r)?;
    }
    Ok(())
}
