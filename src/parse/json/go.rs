//! `go test -json` (test2json), as written by `go test` or saved by gotestsum: JSON lines of
//! events. One result per Package + Test (subtests `Parent/child` included), classname the
//! package; a test that ran and never finished is an error ("did not finish"); a package that
//! failed (or did not build) without a failed test in it gets one error result of its own.
//! Lines that are not JSON are the package's output, with one note per file.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use serde::Deserialize;

use super::doc::{each_line, Ctx, Text};
use crate::cli;
use crate::error::{Error, Result};
use crate::parse::report::Report;
use crate::record::{Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "go";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Event<'a> {
    #[serde(default, borrow)]
    time: Option<Text<'a>>,
    #[serde(borrow)]
    action: Text<'a>,
    #[serde(default, borrow)]
    package: Option<Text<'a>>,
    #[serde(default, borrow)]
    test: Option<Text<'a>>,
    #[serde(default)]
    elapsed: Option<f64>,
    #[serde(default, borrow)]
    output: Option<Text<'a>>,
    #[serde(default, borrow)]
    import_path: Option<Text<'a>>,
}

/// A test that has started.
struct Running {
    /// When it was first seen, to write the unfinished ones in order.
    seq: u64,
    /// A `run` event was seen (output alone does not start a test).
    ran: bool,
    start: Option<String>,
    output: String,
}

/// A package: its output, whether a test of it failed, how it ended, its running tests.
#[derive(Default)]
struct Package {
    name: String,
    running: HashMap<String, Running>,
    output: String,
    failed_test: bool,
    end: Option<String>,
    elapsed: Option<f64>,
    build_failed: bool,
}

#[derive(Default)]
struct State {
    seq: u64,
    /// The packages in the order they were first seen, and where each is.
    packages: Vec<Package>,
    index: HashMap<String, usize>,
    plain_lines: u64,
    first_plain: Option<u64>,
}

pub(super) fn parse(reader: impl Read, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let mut st = State::default();
    let mut last_package: Option<String> = None;
    let name = report.name.clone();
    each_line(reader, &name, |n, line| {
        let Some(line) = line else {
            return report.hand_on();
        };
        // Bytes that are not UTF-8 (test2json never writes them) are read as U+FFFD.
        let lossy;
        let t = match line.text {
            Some(t) => t,
            None => {
                lossy = String::from_utf8_lossy(line.bytes);
                &lossy
            }
        };
        let t = t.trim_ascii();
        if t.is_empty() {
            return Ok(());
        }
        match t.starts_with('{').then(|| serde_json::from_str::<Event>(t)) {
            Some(Ok(e)) => {
                if let Some(p) = &e.package {
                    if last_package.as_deref() != Some(&**p) {
                        last_package = Some(p.to_string());
                    }
                }
                event(&mut st, e, report, ctx)?;
            }
            Some(Err(e)) if e.is_eof() => {
                return Err(Error::Data(format!(
                    "{}:{n}: not a valid go test -json stream: the line is cut short ({e})",
                    report.name
                )))
            }
            // JSON, but not an event: a field of the wrong type.
            Some(Err(e)) if serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok() => {
                let reason = crate::json::reason(&e);
                return Err(Error::Data(format!(
                    "{}:{n}: not a valid go test -json event: {reason}",
                    report.name
                )));
            }
            _ => plain(&mut st, t, n, last_package.as_deref()),
        }
        Ok(())
    })?;
    if let Some(first) = st.first_plain {
        cli::warn(format_args!(
            "{}:{first}: {} line{} not JSON, kept as the package's output",
            report.name,
            st.plain_lines,
            if st.plain_lines == 1 { " is" } else { "s are" }
        ));
    }
    finish(st, report, ctx)
}

/// A line that is not a JSON event: the package's output (`FAIL pkg [build failed]` fails it).
fn plain(st: &mut State, line: &str, n: u64, package: Option<&str>) {
    st.plain_lines += 1;
    st.first_plain.get_or_insert(n);
    let mut words = line.split_whitespace();
    if let (Some("FAIL"), Some(pkg)) = (words.next(), words.next()) {
        if line.ends_with("[build failed]") || line.ends_with("[setup failed]") {
            let p = package_entry(st, pkg);
            p.build_failed = true;
            p.end = Some("fail".into());
            p.output.push_str(line);
            p.output.push('\n');
            return;
        }
    }
    if let Some(pkg) = package {
        let p = package_entry(st, pkg);
        p.output.push_str(line);
        p.output.push('\n');
    }
}

fn package_entry<'s>(st: &'s mut State, pkg: &str) -> &'s mut Package {
    let i = match st.index.get(pkg) {
        Some(i) => *i,
        None => {
            st.index.insert(pkg.to_string(), st.packages.len());
            st.packages.push(Package {
                name: pkg.to_string(),
                ..Package::default()
            });
            st.packages.len() - 1
        }
    };
    // The index was just given, or given when the package was pushed.
    &mut st.packages[i]
}

fn event(st: &mut State, e: Event<'_>, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let action = &*e.action;
    if action == "build-output" || action == "build-fail" {
        let path = e.import_path.as_deref().unwrap_or("");
        let pkg = path.split(" [").next().unwrap_or(path);
        let p = package_entry(st, pkg);
        if action == "build-fail" {
            p.build_failed = true;
            p.end = Some("fail".into());
        }
        if let Some(o) = &e.output {
            p.output.push_str(o);
        }
        return Ok(());
    }
    // test2json run on a test binary names no package.
    let pkg = e.package.as_deref().unwrap_or_default();
    let Some(test) = e.test.as_deref() else {
        let p = package_entry(st, pkg);
        match action {
            "output" => p.output.push_str(e.output.as_deref().unwrap_or("")),
            "pass" | "fail" | "skip" => {
                p.end = Some(action.to_string());
                p.elapsed = e.elapsed;
            }
            _ => {}
        }
        return Ok(());
    };
    st.seq += 1;
    let seq = st.seq;
    let p = package_entry(st, pkg);
    test_event(p, seq, test, &e, report, ctx)
}

/// An event of a test of package `p`.
fn test_event(
    p: &mut Package,
    seq: u64,
    test: &str,
    e: &Event<'_>,
    report: &mut Report<'_>,
    ctx: &Ctx,
) -> Result<()> {
    let action = &*e.action;
    match action {
        "run" | "start" => {
            let start = e
                .time
                .as_deref()
                .and_then(|t| crate::date::normalize(t).ok().flatten());
            p.running.insert(
                test.to_string(),
                Running {
                    seq,
                    ran: true,
                    start,
                    output: String::new(),
                },
            );
        }
        "output" => {
            let out = e.output.as_deref().unwrap_or("");
            match p.running.get_mut(test) {
                Some(r) => r.output.push_str(out),
                None => {
                    p.running.insert(
                        test.to_string(),
                        Running {
                            seq,
                            ran: false,
                            start: None,
                            output: out.to_string(),
                        },
                    );
                }
            }
        }
        "pass" | "fail" | "skip" => {
            let r = p.running.remove(test);
            let status = match action {
                "pass" => Status::Passed,
                "fail" => Status::Failed,
                _ => Status::Skipped,
            };
            if status == Status::Failed {
                p.failed_test = true;
            }
            let mut res = result(report, &p.name, test, status, ctx);
            res.outcome = Some(action.to_string());
            res.duration = e.elapsed;
            if let Some(r) = r {
                res.start = r.start;
                res.stdout = ctx.text(r.output);
            }
            report.emit(&res)?;
        }
        _ => {}
    }
    Ok(())
}

fn result(report: &Report<'_>, pkg: &str, test: &str, status: Status, _ctx: &Ctx) -> TestResult {
    let suites: Vec<String> = (!pkg.is_empty())
        .then(|| pkg.to_string())
        .into_iter()
        .collect();
    let mut r = TestResult::in_suites(FORMAT, &report.name, Arc::from(suites), Arc::from([]), None);
    r.classname = (!pkg.is_empty()).then(|| pkg.to_string());
    r.name = Some(test.to_string());
    r.status = status;
    r
}

/// At the end: the tests that never finished, and the packages that failed on their own.
fn finish(mut st: State, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let mut left: Vec<(usize, String, Running)> = Vec::new();
    for (i, p) in st.packages.iter_mut().enumerate() {
        left.extend(p.running.drain().map(|(t, r)| (i, t, r)));
    }
    left.sort_by_key(|(_, _, r)| r.seq);
    for (i, test, r) in left.into_iter().filter(|(_, _, r)| r.ran) {
        let Some(p) = st.packages.get_mut(i) else {
            continue;
        };
        p.failed_test = true;
        let mut res = result(report, &p.name, &test, Status::Error, ctx);
        res.outcome = Some("did not finish".into());
        res.message = Some("did not finish".into());
        res.start = r.start;
        res.stdout = ctx.text(r.output);
        report.emit(&res)?;
    }
    for p in &st.packages {
        if p.end.as_deref() == Some("fail") && !p.failed_test {
            let name = if p.name.is_empty() {
                "(the test binary)"
            } else {
                p.name.as_str()
            };
            let mut res = result(report, &p.name, name, Status::Error, ctx);
            res.outcome = Some(if p.build_failed { "build-fail" } else { "fail" }.into());
            res.message = Some(
                if p.build_failed {
                    "the package did not build"
                } else {
                    "the package failed outside its tests"
                }
                .into(),
            );
            res.duration = p.elapsed;
            res.details = ctx.text(p.output.clone());
            report.emit(&res)?;
        }
    }
    Ok(())
}
