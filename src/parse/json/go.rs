//! `go test -json` (test2json), as written by `go test` or saved by gotestsum: JSON lines of
//! events. One result per Package + Test (subtests `Parent/child` included), classname the
//! package; a test that ran and never finished is an error ("did not finish"); a package that
//! failed (or did not build) without a failed test in it gets one error result of its own.
//! Lines that are not JSON are the package's output, with one note per file.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use serde::Deserialize;

use super::doc::{each_line, Ctx};
use crate::cli;
use crate::error::{Error, Result};
use crate::parse::report::Report;
use crate::record::{Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "go";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Event {
    #[serde(default)]
    time: Option<String>,
    action: String,
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    test: Option<String>,
    #[serde(default)]
    elapsed: Option<f64>,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    import_path: Option<String>,
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

/// A package: its output, whether a test of it failed, how it ended.
#[derive(Default)]
struct Package {
    output: String,
    failed_test: bool,
    end: Option<String>,
    elapsed: Option<f64>,
    build_failed: bool,
}

#[derive(Default)]
struct State {
    running: HashMap<(String, String), Running>,
    seq: u64,
    packages: HashMap<String, Package>,
    package_order: Vec<String>,
    plain_lines: u64,
    first_plain: Option<u64>,
}

pub(super) fn parse(reader: impl Read, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let mut st = State::default();
    let mut last_package: Option<String> = None;
    let name = report.name.clone();
    each_line(reader, &name, |n, buf| {
        let line = String::from_utf8_lossy(buf);
        let t = line.trim();
        if t.is_empty() {
            return Ok(());
        }
        match t.starts_with('{').then(|| serde_json::from_str::<Event>(t)) {
            Some(Ok(e)) => {
                if let Some(p) = &e.package {
                    last_package = Some(p.clone());
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
                let e = e.to_string();
                let reason = e.rsplit_once(" at line ").map_or(e.as_str(), |(r, _)| r);
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
    if !st.packages.contains_key(pkg) {
        st.package_order.push(pkg.to_string());
    }
    st.packages.entry(pkg.to_string()).or_default()
}

fn event(st: &mut State, e: Event, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    if e.action == "build-output" || e.action == "build-fail" {
        let path = e.import_path.as_deref().unwrap_or("");
        let pkg = path.split(" [").next().unwrap_or(path).to_string();
        let p = package_entry(st, &pkg);
        if e.action == "build-fail" {
            p.build_failed = true;
            p.end = Some("fail".into());
        }
        if let Some(o) = &e.output {
            p.output.push_str(o);
        }
        return Ok(());
    }
    // test2json run on a test binary names no package.
    let pkg = e.package.clone().unwrap_or_default();
    let Some(test) = e.test.clone() else {
        let p = package_entry(st, &pkg);
        match e.action.as_str() {
            "output" => p.output.push_str(e.output.as_deref().unwrap_or("")),
            "pass" | "fail" | "skip" => {
                p.end = Some(e.action.clone());
                p.elapsed = e.elapsed;
            }
            _ => {}
        }
        return Ok(());
    };
    package_entry(st, &pkg);
    let key = (pkg.clone(), test.clone());
    match e.action.as_str() {
        "run" | "start" => {
            st.seq += 1;
            st.running.insert(
                key,
                Running {
                    seq: st.seq,
                    ran: true,
                    start: e
                        .time
                        .as_deref()
                        .and_then(|t| crate::date::normalize(t).ok().flatten()),
                    output: String::new(),
                },
            );
        }
        "output" => {
            st.seq += 1;
            let seq = st.seq;
            let r = st.running.entry(key).or_insert_with(|| Running {
                seq,
                ran: false,
                start: None,
                output: String::new(),
            });
            r.output.push_str(e.output.as_deref().unwrap_or(""));
        }
        "pass" | "fail" | "skip" => {
            let r = st.running.remove(&key);
            let status = match e.action.as_str() {
                "pass" => Status::Passed,
                "fail" => Status::Failed,
                _ => Status::Skipped,
            };
            if status == Status::Failed {
                package_entry(st, &pkg).failed_test = true;
            }
            let mut res = result(report, &pkg, &test, status, ctx);
            res.outcome = Some(e.action.clone());
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
    let mut left: Vec<((String, String), Running)> = st.running.drain().collect();
    left.sort_by_key(|(_, r)| r.seq);
    for (key, r) in left.into_iter().filter(|(_, r)| r.ran) {
        package_entry(&mut st, &key.0).failed_test = true;
        let mut res = result(report, &key.0, &key.1, Status::Error, ctx);
        res.outcome = Some("did not finish".into());
        res.message = Some("did not finish".into());
        res.start = r.start;
        res.stdout = ctx.text(r.output);
        report.emit(&res)?;
    }
    for pkg in &st.package_order {
        let p = &st.packages[pkg];
        if p.end.as_deref() == Some("fail") && !p.failed_test {
            let name = if pkg.is_empty() {
                "(the test binary)"
            } else {
                pkg.as_str()
            };
            let mut res = result(report, pkg, name, Status::Error, ctx);
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
