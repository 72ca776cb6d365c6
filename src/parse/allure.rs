//! Allure results: an `allure-results` directory (`*-result.json`, `*-container.json`), read
//! file by file, or one result file. One result per `historyId`: reruns collapse, the latest
//! `stop` wins and the earlier failed attempts are kept as reruns (a result without a
//! `historyId` stands alone). passed; failed; broken → error; skipped → skipped; anything else
//! (unknown, none) → a result with status `warning`. Steps, nested, are flattened in order with
//! their depth shown (`› ` per level) → `steps`; labels → properties (`ALLURE_ID`/`AS_ID` as
//! `allure.id`, a `tms` link as `tms`: spira-map reads both as test case IDs); attachments (files
//! beside the results) → attachments; failed fixtures of the containers join the details.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::report::Report;
use super::values::resolve_attachment;
use crate::error::{Error, Result};
use crate::record::{Property, Rerun, Status, Step, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "allure";

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AllureResult {
    history_id: Option<String>,
    full_name: Option<String>,
    /// The containers name their results by it.
    uuid: Option<String>,
    #[serde(default)]
    labels: Vec<Pair>,
    #[serde(default)]
    links: Vec<Link>,
    /// What a result has as a step has: name, status, times, steps, attachments.
    #[serde(flatten)]
    body: AllureStep,
}

#[derive(Deserialize, Default)]
struct Details {
    message: Option<String>,
    trace: Option<String>,
    flaky: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AllureStep {
    name: Option<String>,
    status: Option<serde_json::Value>,
    status_details: Option<Details>,
    start: Option<f64>,
    stop: Option<f64>,
    #[serde(default)]
    steps: Vec<AllureStep>,
    #[serde(default)]
    attachments: Vec<Attachment>,
}

impl AllureStep {
    /// Its duration in seconds, from its start and stop in milliseconds.
    fn seconds(&self) -> Option<f64> {
        self.start
            .zip(self.stop)
            .map(|(a, b)| ((b - a) / 1000.0).max(0.0))
    }
}

#[derive(Deserialize, Default)]
struct Pair {
    name: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize, Default)]
struct Link {
    name: Option<String>,
    url: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize, Default)]
struct Attachment {
    source: Option<String>,
}

#[derive(Deserialize, Default)]
struct Container {
    #[serde(default)]
    children: Vec<String>,
    #[serde(default)]
    befores: Vec<AllureStep>,
    #[serde(default)]
    afters: Vec<AllureStep>,
}

/// An Allure status word, lower-cased ("unknown" when there is none) and its status.
fn status_of(v: Option<&serde_json::Value>) -> (String, Status) {
    let word = v
        .and_then(serde_json::Value::as_str)
        .map_or("unknown".to_string(), str::to_ascii_lowercase);
    let status = match word.as_str() {
        "passed" => Status::Passed,
        "failed" => Status::Failed,
        "broken" => Status::Error,
        "skipped" => Status::Skipped,
        _ => Status::Warning,
    };
    (word, status)
}

/// The JSON of an Allure file, read whole (they are small); `name` names it in errors.
fn read_json<T: for<'de> Deserialize<'de>>(
    mut reader: impl std::io::Read,
    name: &str,
) -> Result<T> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|e| {
        Error::Usage(format!(
            "cannot read '{name}': {}",
            crate::cli::io_reason(&e)
        ))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        let kind = if name.ends_with("-container.json") {
            "container"
        } else {
            "result"
        };
        let reason = crate::json::reason(&e);
        Error::Data(format!(
            "{name}:{}: not a valid Allure {kind}: {reason}",
            e.line()
        ))
    })
}

/// An Allure file of a results directory.
fn read_file<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| {
        Error::Usage(format!(
            "cannot read '{name}': {}",
            crate::cli::io_reason(&e)
        ))
    })?;
    read_json(file, &name)
}

/// Reads one Allure result file (named on the command line).
pub(crate) fn parse_file(
    reader: impl std::io::Read,
    report: &mut Report<'_>,
    max: usize,
) -> Result<()> {
    let a: AllureResult = read_json(reader, &report.name)?;
    let dir = report.dir;
    let r = result(a, &[], dir, max, &report.name);
    report.emit(&r)
}

/// Reads an allure-results directory: its containers, then its results, `jobs` files at a
/// time.
pub(crate) fn parse_dir(
    dir: &Path,
    report: &mut Report<'_>,
    max: usize,
    jobs: usize,
) -> Result<()> {
    // Names sorted as bytes, once (a path's components are not parsed at each comparison).
    let mut names: Vec<std::ffi::OsString> = std::fs::read_dir(dir)
        .map_err(|e| {
            Error::Usage(format!(
                "cannot read '{}': {}",
                dir.display(),
                crate::cli::io_reason(&e)
            ))
        })?
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    names.sort_unstable();
    let named = |suffix: &str| {
        names
            .iter()
            .filter(|n| n.as_encoded_bytes().ends_with(suffix.as_bytes()))
            .map(|n| dir.join(n))
            .collect::<Vec<_>>()
    };
    // Failed fixtures, by the results they belong to.
    let mut fixtures: HashMap<String, Vec<String>> = HashMap::new();
    for p in named("-container.json") {
        let c: Container = read_file(&p)?;
        let failed = failed_fixtures(&c);
        if failed.is_empty() {
            continue;
        }
        for child in &c.children {
            fixtures
                .entry(child.clone())
                .or_default()
                .extend(failed.iter().cloned());
        }
    }
    // Attempts by historyId, in the order first seen.
    let mut by_history: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<Vec<(f64, TestResult)>> = Vec::new();
    let name = report.name.clone();
    let read = |p: &Path| -> Result<(Option<String>, f64, TestResult)> {
        let a: AllureResult = read_file(p)?;
        let stop = a.body.stop.or(a.body.start).unwrap_or(0.0);
        let key = a.history_id.clone();
        let notes = a
            .uuid
            .as_ref()
            .and_then(|u| fixtures.get(u))
            .cloned()
            .unwrap_or_default();
        Ok((key, stop, result(a, &notes, Some(dir), max, &name)))
    };
    for (key, stop, r) in in_parallel(&named("-result.json"), jobs, read)? {
        match key {
            Some(k) => match by_history.get(&k) {
                Some(&i) => groups[i].push((stop, r)),
                None => {
                    by_history.insert(k, groups.len());
                    groups.push(vec![(stop, r)]);
                }
            },
            None => groups.push(vec![(stop, r)]),
        }
    }
    let mut out: Vec<TestResult> = groups.into_iter().map(collapse).collect();
    out.sort_by(|a, b| {
        (a.start.as_deref(), a.name.as_deref()).cmp(&(b.start.as_deref(), b.name.as_deref()))
    });
    for r in &out {
        report.emit(r)?;
    }
    Ok(())
}

/// `read` of each of `files`, in their order, by `jobs` threads; the first error in their
/// order (no file after it is begun once it is seen).
fn in_parallel<T: Send>(
    files: &[std::path::PathBuf],
    jobs: usize,
    read: impl Fn(&Path) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    if jobs <= 1 || files.len() < 64 {
        return files.iter().map(|p| read(p)).collect();
    }
    let (next, failed) = (AtomicUsize::new(0), AtomicBool::new(false));
    let mut slots: Vec<Option<Result<T>>> = (0..files.len()).map(|_| None).collect();
    let parts: Vec<Vec<(usize, Result<T>)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                s.spawn(|| {
                    let mut got = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(p) = files.get(i) else { break };
                        let r = read(p);
                        failed.fetch_or(r.is_err(), Ordering::Relaxed);
                        got.push((i, r));
                    }
                    got
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    for (i, r) in parts.into_iter().flatten() {
        if let Some(slot) = slots.get_mut(i) {
            *slot = Some(r);
        }
    }
    // In order: a slot never filled is after the first error (or its thread was lost).
    let mut out = Vec::with_capacity(files.len());
    for (slot, p) in slots.into_iter().zip(files) {
        match slot {
            Some(r) => out.push(r?),
            None => out.push(read(p)?),
        }
    }
    Ok(out)
}

/// One result of the attempts of a test: the latest wins; the earlier ones that failed are
/// its reruns, and a pass after them is flaky.
fn collapse(mut attempts: Vec<(f64, TestResult)>) -> TestResult {
    attempts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let Some((_, mut last)) = attempts.pop() else {
        return TestResult::new(FORMAT, &Arc::from(""));
    };
    let earlier: Vec<Rerun> = attempts
        .into_iter()
        .filter(|(_, r)| matches!(r.status, Status::Failed | Status::Error))
        .map(|(_, r)| Rerun {
            kind: if last.status == Status::Passed {
                "flakyFailure"
            } else {
                "rerunFailure"
            }
            .into(),
            status: Some(r.status),
            message: r.message,
            failure_type: None,
            details: r.details,
            stdout: None,
            stderr: None,
            duration: r.duration,
        })
        .collect();
    if !earlier.is_empty() && last.status == Status::Passed {
        last.flaky = true;
    }
    last.reruns = earlier;
    last
}

/// The fixtures of a container that did not pass, as lines for the details.
fn failed_fixtures(c: &Container) -> Vec<String> {
    let each = |list: &[AllureStep], when: &str| -> Vec<String> {
        list.iter()
            .filter_map(|f| {
                let (word, status) = status_of(f.status.as_ref());
                if !matches!(status, Status::Failed | Status::Error) {
                    return None;
                }
                let d = f.status_details.as_ref();
                let msg = d.and_then(|d| d.message.as_deref()).unwrap_or("");
                let trace = d.and_then(|d| d.trace.as_deref()).unwrap_or("");
                Some(
                    format!(
                        "{when} fixture \"{}\" {word}: {msg}\n{trace}",
                        f.name.as_deref().unwrap_or("")
                    )
                    .trim_end()
                    .to_string(),
                )
            })
            .collect()
    };
    let mut out = each(&c.befores, "Before");
    out.extend(each(&c.afters, "After"));
    out
}

/// A result of one Allure result file; `notes` are the failed fixtures of its containers.
fn result(
    a: AllureResult,
    notes: &[String],
    dir: Option<&Path>,
    max: usize,
    report_name: &Arc<str>,
) -> TestResult {
    let label = |n: &str| {
        a.labels
            .iter()
            .find(|l| l.name.as_deref() == Some(n))
            .and_then(|l| l.value.clone())
    };
    let mut suites: Vec<String> = ["parentSuite", "suite", "subSuite"]
        .iter()
        .filter_map(|n| label(n))
        .collect();
    if suites.is_empty() {
        suites.extend(label("package"));
    }
    let mut r = TestResult::in_suites(FORMAT, report_name, Arc::from(suites), Arc::from([]), None);
    r.classname = label("testClass").or_else(|| label("class"));
    let mut body = a.body;
    r.name = body.name.clone().or_else(|| a.full_name.clone());
    let (word, status) = status_of(body.status.as_ref());
    r.status = status;
    r.outcome = Some(word);
    r.start = body.start.map(|ms| crate::date::format_iso(ms as i64));
    r.duration = body.seconds();
    let details = body.status_details.take().unwrap_or_default();
    r.message = details
        .message
        .as_deref()
        .and_then(|m| super::json::cap_first_line(m, max));
    let mut text: Vec<String> = details
        .message
        .iter()
        .chain(details.trace.iter())
        .cloned()
        .collect();
    text.extend(notes.iter().cloned());
    r.details = super::json::cap_text(text.join("\n").trim_end(), max);
    r.flaky = status == Status::Passed
        && details.flaky.as_ref().and_then(serde_json::Value::as_bool) == Some(true);
    r.properties = properties(&a.labels, &a.links);
    if let Some(h) = &a.history_id {
        r.extra.insert("historyId".into(), h.clone());
    }
    flatten(&body.steps, 0, max, &mut r.steps);
    let mut sources = Vec::new();
    attachments(std::slice::from_ref(&body), &mut sources);
    r.attachments = sources
        .into_iter()
        .filter_map(|s| resolve_attachment(s, dir))
        .collect();
    r
}

/// Labels as properties; Allure's ID labels as `allure.id`, a `tms` link as `tms`, an `issue`
/// link as `issue`.
fn properties(labels: &[Pair], links: &[Link]) -> Vec<Property> {
    let mut out: Vec<Property> = labels
        .iter()
        .filter_map(|l| {
            let name = l.name.as_deref()?;
            let name = match name {
                "ALLURE_ID" | "AS_ID" | "allure.id" => "allure.id",
                n => n,
            };
            Some(Property {
                name: name.to_string(),
                value: l.value.clone()?,
            })
        })
        .collect();
    for l in links {
        let kind = l.kind.as_deref().unwrap_or("link");
        if let Some(v) = l.name.clone().or_else(|| l.url.clone()) {
            out.push(Property {
                name: kind.to_string(),
                value: v,
            });
        }
    }
    out
}

/// Steps in order, each nested one after its parent, `› ` per level before its name.
fn flatten(steps: &[AllureStep], depth: usize, max: usize, out: &mut Vec<Step>) {
    for s in steps {
        let (_, status) = status_of(s.status.as_ref());
        let message = s.status_details.as_ref().and_then(|d| d.message.as_deref());
        out.push(Step {
            name: format!("{}{}", "› ".repeat(depth), s.name.as_deref().unwrap_or("")),
            status,
            duration: s.seconds(),
            message: message.and_then(|m| super::json::cap_text(m, max)),
        });
        flatten(&s.steps, depth + 1, max, out);
    }
}

/// The attachment files of these steps and the steps inside them, in order.
fn attachments<'a>(steps: &'a [AllureStep], out: &mut Vec<&'a str>) {
    for s in steps {
        out.extend(s.attachments.iter().filter_map(|x| x.source.as_deref()));
        attachments(&s.steps, out);
    }
}
