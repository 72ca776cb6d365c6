//! `spira-inspect`: any spira-pipe stream in (result, run, batch, created, dry-run request or
//! dead-letter lines, recognised line by line), a summary for a person out: statuses, releases,
//! test sets and builds, unmapped names, test cases with several runs, fields near Spira's
//! limits, batch sizes, the slowest tests and the summary-refresh reminder. `--json` gives the
//! same summary as one JSON object; `--markdown` the summary a CI job page shows
//! ([`markdown`]).

mod markdown;

use markdown::{thousands, Listed, Notable, Rejected};

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::io::{IsTerminal, Write};

use clap::{Parser, ValueEnum};
use serde_json::{json, Map, Value};

use crate::cli;
use crate::error::{Error, Result, EXIT_DATA};
use crate::{date, spira};

const EXAMPLES: &str = "\
Examples:
  spira-parse reports/ | spira-map --map ids.csv --release 45 | spira-inspect
  spira-inspect batches.jsonl
  spira-post --dry-run batches.jsonl | spira-inspect --json | jq .statuses
  spira-post batches.jsonl | spira-inspect --markdown - spira-post.dead.jsonl >> \"$GITHUB_STEP_SUMMARY\"";

/// Summarises any spira-pipe stream: look before you upload.
#[derive(Parser, Debug)]
#[command(name = "spira-inspect", version = crate::cli::VERSION, after_help = EXAMPLES)]
pub struct Args {
    /// Files of result, run, batch, created, dry-run request or dead-letter lines; `-` or
    /// nothing means standard input.
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<std::path::PathBuf>,

    /// The summary as one JSON object.
    #[arg(long, conflicts_with = "markdown")]
    pub(crate) json: bool,

    /// The summary as GitHub-flavoured Markdown, for a CI job page ($GITHUB_STEP_SUMMARY, a
    /// pull request comment): stored runs by status, the failed, blocked and flaky tests,
    /// rejected runs and unmapped tests, with links into Spira for created lines.
    #[arg(long)]
    pub(crate) markdown: bool,

    /// Spira's base URL, for --markdown's links (env SPIRA_URL).
    #[arg(long, value_name = "URL")]
    pub(crate) url: Option<String>,

    /// The project ID, for --markdown's links (env SPIRA_PROJECT_ID).
    #[arg(long, value_name = "ID")]
    pub(crate) project: Option<u64>,

    /// The most bytes --markdown writes (GitHub refuses a step summary over 1 MiB); longer
    /// lists end with "and N more".
    #[arg(long, default_value_t = 65536, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1024..=1_048_576))]
    pub(crate) max_bytes: u64,

    /// How many entries the lists show (slowest tests, test cases with several runs, names).
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub(crate) top: usize,

    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) color: Color,
}

/// When to colour the summary.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Color {
    Auto,
    Always,
    Never,
}

/// What is counted for one text field with a Spira limit.
#[derive(Default)]
struct Limit {
    max: usize,
    near: u64,
    over: u64,
    longest: usize,
    /// Where the longest over-limit value is.
    at: Option<String>,
}

#[derive(Default)]
struct Summary {
    files: u64,
    lines: u64,
    bytes: u64,
    kinds: BTreeMap<&'static str, u64>,
    bad_lines: u64,
    statuses: BTreeMap<String, u64>,
    releases: BTreeMap<String, u64>,
    test_sets: BTreeMap<String, u64>,
    builds: BTreeMap<String, u64>,
    runs_per_case: HashMap<u64, u64>,
    unmapped: HashMap<String, u64>,
    unmapped_total: u64,
    limits: BTreeMap<&'static str, Limit>,
    batch_sizes: Vec<(u64, u64)>,
    /// The slowest tests: a min-heap of the `top` largest durations.
    slowest: BinaryHeap<Reverse<(u64, String)>>,
    runs: u64,
    results: u64,
    top: usize,
    /// What the line being read is: its runs are counted by where they came from.
    from: Source,
    /// Created lines: the runs Spira stored, by status.
    stored: u64,
    stored_statuses: BTreeMap<String, u64>,
    /// Failed and blocked tests (runs stored, or to be sent, or results), the first
    /// [`LISTED`] kept.
    failing: Listed<Notable>,
    /// Flaky tests: passed after failed attempts.
    flaky: Listed<Notable>,
    /// Dead-letter records: the server's reason and the runs it refused.
    rejected: Listed<Rejected>,
    rejected_runs: u64,
}

/// Where a run came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Source {
    #[default]
    Other,
    Created,
    DeadLetter,
}

/// The entry point of `spira-inspect`.
pub fn run(args: Args) -> Result<()> {
    let inputs = cli::inputs(&args.files);
    let mut s = Summary {
        top: args.top,
        files: inputs.len() as u64,
        ..Summary::default()
    };
    cli::each_line(&inputs, |name, n, line| {
        s.lines += 1;
        s.bytes += line.len() as u64 + 1;
        match serde_json::from_slice::<Value>(line) {
            Ok(v) => {
                if let Err(why) = s.line(&v, line.len() as u64, &format!("{name}:{n}")) {
                    s.bad_lines += 1;
                    cli::error(format_args!("{name}:{n}: {why}"));
                }
            }
            Err(e) => {
                s.bad_lines += 1;
                cli::error(format_args!("{name}:{n}: not JSON: {e}"));
            }
        }
        Ok(())
    })?;
    let mut out = cli::stdout();
    if args.markdown {
        let links = markdown::Links::new(args.url.clone(), args.project);
        let page = markdown::page(&s.facts(), links.as_ref(), args.max_bytes as usize);
        out.write_all(page.as_bytes())?;
    } else if args.json {
        serde_json::to_writer(&mut out, &s.to_json()).map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
    } else {
        let colour = match args.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        out.write_all(s.to_text(colour).as_bytes())?;
    }
    out.flush()?;
    if s.bad_lines > 0 {
        cli::error(format_args!(
            "{} lines could not be read (above); the summary leaves them out",
            s.bad_lines
        ));
        return Err(Error::Exit(EXIT_DATA));
    }
    Ok(())
}

fn id_of(v: Option<&Value>) -> Option<u64> {
    let v = v?;
    v.as_u64().or_else(|| v.as_str()?.trim().parse().ok())
}

impl Summary {
    /// Counts one line, recognising its kind.
    fn line(&mut self, v: &Value, len: u64, at: &str) -> std::result::Result<(), String> {
        match v {
            Value::Array(runs) => {
                self.kind("batch");
                self.batch(runs, len, at)
            }
            Value::Object(o) if o.contains_key("method") && o.contains_key("url") => {
                self.kind("request");
                match o.get("body") {
                    Some(Value::Array(runs)) => {
                        let bytes = o["body"].to_string().len() as u64;
                        self.batch(runs, bytes, at)
                    }
                    // A build request, or one without a body.
                    _ => Ok(()),
                }
            }
            Value::Object(o) if o.get("runs").is_some_and(Value::is_array) => {
                self.kind("dead letter");
                let runs = o["runs"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                self.dead_letter(o, runs);
                self.from = Source::DeadLetter;
                let read = self.batch(runs, len, at);
                self.from = Source::Other;
                read
            }
            Value::Object(o) if o.contains_key("TestRunId") => {
                self.kind("created");
                self.from = Source::Created;
                let read = self.run(o, at);
                self.from = Source::Other;
                read
            }
            Value::Object(o)
                if o.contains_key("ExecutionStatusId") || o.contains_key("TestCaseId") =>
            {
                self.kind("run");
                self.run(o, at)
            }
            Value::Object(o) if o.get("status").is_some_and(Value::is_string) => {
                self.kind("result");
                self.result(o);
                Ok(())
            }
            _ => Err("not a result, run, batch, created, request or dead-letter line".to_string()),
        }
    }

    fn kind(&mut self, k: &'static str) {
        *self.kinds.entry(k).or_default() += 1;
    }

    fn batch(&mut self, runs: &[Value], bytes: u64, at: &str) -> std::result::Result<(), String> {
        self.batch_sizes.push((runs.len() as u64, bytes));
        for (i, r) in runs.iter().enumerate() {
            match r {
                Value::Object(o) => self.run(o, &format!("{at} run {}", i + 1))?,
                _ => return Err(format!("run {} of the batch is not an object", i + 1)),
            }
        }
        Ok(())
    }

    fn run(&mut self, o: &Map<String, Value>, at: &str) -> std::result::Result<(), String> {
        self.runs += 1;
        let status = match id_of(o.get("ExecutionStatusId")) {
            Some(s @ 1..=6) => spira::status::name(s as u8).to_string(),
            Some(s) => format!("unknown ({s})"),
            None => "missing".to_string(),
        };
        if self.from == Source::Created {
            self.stored += 1;
            *self.stored_statuses.entry(status.clone()).or_default() += 1;
        }
        if self.from != Source::DeadLetter {
            self.notable_run(o, &status);
        }
        *self.statuses.entry(status).or_default() += 1;
        let tag = |k: &str, p: &str| match id_of(o.get(k)) {
            Some(i) => format!("{p}{i}"),
            None => "none".into(),
        };
        *self.releases.entry(tag("ReleaseId", "RL:")).or_default() += 1;
        *self.test_sets.entry(tag("TestSetId", "TX:")).or_default() += 1;
        *self.builds.entry(tag("BuildId", "BL:")).or_default() += 1;
        let name = o
            .get("RunnerTestName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match id_of(o.get("TestCaseId")) {
            Some(tc) if tc > 0 => *self.runs_per_case.entry(tc).or_default() += 1,
            _ => {
                self.unmapped_total += 1;
                *self.unmapped.entry(name.clone()).or_default() += 1;
            }
        }
        for (field, max) in [
            ("RunnerName", spira::RUNNER_NAME_MAX),
            ("RunnerTestName", spira::TEXT_255),
            ("RunnerMessage", spira::TEXT_255),
        ] {
            if let Some(text) = o.get(field).and_then(Value::as_str) {
                self.limit(field, max, spira::utf16_len(text), at);
            }
        }
        let start = o.get("StartDate").and_then(Value::as_str);
        let end = o.get("EndDate").and_then(Value::as_str);
        if let (Some(s), Some(e)) = (
            start.and_then(date::parse_any),
            end.and_then(date::parse_any),
        ) {
            if e >= s {
                let tc = id_of(o.get("TestCaseId")).map_or(String::new(), |t| format!(" (TC:{t})"));
                self.slow(e.abs_diff(s), format!("{name}{tc}"));
            }
        }
        Ok(())
    }

    fn result(&mut self, o: &Map<String, Value>) {
        self.results += 1;
        let status = o.get("status").and_then(Value::as_str).unwrap_or("");
        *self.statuses.entry(status.to_string()).or_default() += 1;
        let name = match (
            o.get("classname").and_then(Value::as_str),
            o.get("name").and_then(Value::as_str),
        ) {
            (Some(c), Some(n)) if !c.is_empty() => format!("{c}.{n}"),
            (_, Some(n)) => n.to_string(),
            (Some(c), None) => c.to_string(),
            (None, None) => "(no name)".to_string(),
        };
        let message = || first_line(o.get("message").and_then(Value::as_str));
        let notable = |status: &str| Notable {
            status: status.to_string(),
            name: name.clone(),
            message: message(),
            run: None,
            test_case: id_of(o.get("test_case_id")),
        };
        match status {
            "failed" | "error" => self.failing.push(|| notable(status)),
            _ if o.get("flaky").and_then(Value::as_bool) == Some(true) => {
                self.flaky.push(|| notable(status))
            }
            _ => {}
        }
        // Without an ID of its own, a result needs spira-map's map file or default.
        if o.get("test_case_id").is_none() {
            self.unmapped_total += 1;
            *self.unmapped.entry(name.clone()).or_default() += 1;
        }
        if let Some(d) = o.get("duration").and_then(Value::as_f64) {
            if d.is_finite() && d >= 0.0 {
                self.slow((d * 1000.0).round() as u64, name);
            }
        }
    }

    /// What --markdown shows.
    fn facts(&self) -> markdown::Facts<'_> {
        markdown::Facts {
            stored: self.stored,
            runs: self.runs,
            results: self.results,
            rejected_runs: self.rejected_runs,
            unmapped_total: self.unmapped_total,
            statuses: if self.stored > 0 {
                &self.stored_statuses
            } else {
                &self.statuses
            },
            builds: &self.builds,
            releases: &self.releases,
            failing: &self.failing,
            flaky: &self.flaky,
            rejected: &self.rejected,
            unmapped: self.unmapped_list(),
        }
    }

    /// A failed, blocked or flaky run, kept for --markdown.
    fn notable_run(&mut self, o: &Map<String, Value>, status: &str) {
        let message = o.get("RunnerMessage").and_then(Value::as_str);
        let list = match status {
            "Failed" | "Blocked" => &mut self.failing,
            // spira-map writes a flaky pass's message so.
            _ if message.is_some_and(|m| m.starts_with("Flaky: ")) => &mut self.flaky,
            _ => return,
        };
        list.push(|| Notable {
            status: status.to_string(),
            name: o
                .get("RunnerTestName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            message: first_line(message),
            run: id_of(o.get("TestRunId")),
            test_case: id_of(o.get("TestCaseId")),
        });
    }

    /// One dead-letter record: its reason and the runs it holds.
    fn dead_letter(&mut self, o: &Map<String, Value>, runs: &[Value]) {
        self.rejected_runs += runs.len() as u64;
        self.rejected.push(|| Rejected {
            status: match o.get("status") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(v) => v.to_string(),
            },
            message: first_line(o.get("message").and_then(Value::as_str)),
            runs: runs.len() as u64,
            names: runs
                .iter()
                .take(5)
                .map(|r| {
                    r.get("RunnerTestName")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                })
                .collect(),
        });
    }

    fn limit(&mut self, field: &'static str, max: usize, len: usize, at: &str) {
        let l = self.limits.entry(field).or_insert_with(|| Limit {
            max,
            ..Limit::default()
        });
        if len > max {
            l.over += 1;
            if len > l.longest {
                l.at = Some(at.to_string());
            }
        } else if len * 10 >= max * 9 {
            l.near += 1;
        }
        l.longest = l.longest.max(len);
    }

    fn slow(&mut self, ms: u64, name: String) {
        if self.top == 0 {
            return;
        }
        self.slowest.push(Reverse((ms, name)));
        if self.slowest.len() > self.top {
            self.slowest.pop();
        }
    }

    fn several(&self) -> Vec<(u64, u64)> {
        let mut v: Vec<(u64, u64)> = self
            .runs_per_case
            .iter()
            .filter(|(_, &n)| n > 1)
            .map(|(&tc, &n)| (tc, n))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }

    fn unmapped_list(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self
            .unmapped
            .iter()
            .map(|(k, &n)| (k.as_str(), n))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    }

    fn slowest_list(&self) -> Vec<(u64, String)> {
        let mut v: Vec<(u64, String)> = self.slowest.iter().map(|Reverse(x)| x.clone()).collect();
        v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        v
    }

    /// Releases and test sets that would receive runs.
    fn refresh(&self) -> (Vec<&str>, Vec<&str>) {
        (named(&self.releases), named(&self.test_sets))
    }

    fn batch_stats(&self) -> Option<Value> {
        if self.batch_sizes.is_empty() {
            return None;
        }
        let runs = self.batch_sizes.iter().map(|b| b.0);
        let bytes = self.batch_sizes.iter().map(|b| b.1);
        Some(json!({
            "count": self.batch_sizes.len(),
            "runs_min": runs.clone().min(), "runs_max": runs.clone().max(),
            "runs_mean": runs.clone().sum::<u64>() as f64 / self.batch_sizes.len() as f64,
            "bytes_min": bytes.clone().min(), "bytes_max": bytes.clone().max(),
            "bytes_total": bytes.sum::<u64>(),
            "over_500_runs": self.batch_sizes.iter().filter(|b| b.0 > 500).count(),
        }))
    }

    fn to_json(&self) -> Value {
        let (rl, tx) = self.refresh();
        json!({
            "files": self.files, "lines": self.lines, "bytes": self.bytes,
            "kinds": self.kinds, "unreadable_lines": self.bad_lines,
            "results": self.results, "runs": self.runs,
            "statuses": self.statuses,
            "releases": self.releases, "test_sets": self.test_sets, "builds": self.builds,
            "unmapped": {
                "count": self.unmapped_total,
                "names": self.unmapped_list().iter().take(self.top)
                    .map(|(n, c)| json!({"name": n, "count": c})).collect::<Vec<_>>(),
            },
            "several_runs": self.several().iter().take(self.top)
                .map(|(tc, n)| json!({"test_case": tc, "runs": n})).collect::<Vec<_>>(),
            "test_cases_with_several_runs": self.several().len(),
            "limits": self.limits.iter().map(|(f, l)| (f.to_string(), json!({
                "max": l.max, "near": l.near, "over": l.over, "longest": l.longest, "longest_over_at": l.at,
            }))).collect::<Map<String, Value>>(),
            "batches": self.batch_stats(),
            "slowest": self.slowest_list().iter()
                .map(|(ms, n)| json!({"name": n, "seconds": *ms as f64 / 1000.0})).collect::<Vec<_>>(),
            "refresh": {"releases": rl, "test_sets": tx},
        })
    }

    fn to_text(&self, colour: bool) -> String {
        let mut t = Page {
            t: String::new(),
            colour,
        };
        self.text_input(&mut t);
        self.text_statuses(&mut t);
        self.text_targets(&mut t);
        self.text_batches(&mut t);
        self.text_unmapped(&mut t);
        self.text_several(&mut t);
        self.text_limits(&mut t);
        self.text_slowest(&mut t);
        self.text_reminder(&mut t);
        t.t
    }

    /// What was read, and what could not be.
    fn text_input(&self, t: &mut Page) {
        let kinds: Vec<String> = self
            .kinds
            .iter()
            .map(|(k, n)| format!("{} {k} lines", thousands(*n)))
            .collect();
        t.t.push_str(&format!(
            "{}{} lines ({}) in {} input{}: {}\n",
            t.head("input"),
            thousands(self.lines),
            size(self.bytes),
            self.files,
            if self.files == 1 { "" } else { "s" },
            if kinds.is_empty() {
                "nothing".into()
            } else {
                kinds.join(", ")
            }
        ));
        if self.bad_lines > 0 {
            t.t.push_str(&format!(
                "{}{} lines could not be read\n",
                t.head("unreadable"),
                t.paint("31", &thousands(self.bad_lines))
            ));
        }
    }

    /// The results and runs by status.
    fn text_statuses(&self, t: &mut Page) {
        if self.results > 0 || self.runs > 0 {
            let what = match (self.results > 0, self.runs > 0) {
                (true, true) => format!(
                    "{} results, {} runs",
                    thousands(self.results),
                    thousands(self.runs)
                ),
                (true, false) => format!("{} results", thousands(self.results)),
                _ => format!("{} runs", thousands(self.runs)),
            };
            let list: Vec<String> = self
                .statuses
                .iter()
                .map(|(s, n)| {
                    let c = match s.as_str() {
                        "Failed" | "failed" | "error" | "Blocked" => "31",
                        "Passed" | "passed" => "32",
                        "Caution" | "warning" | "skipped" | "Not Run" => "33",
                        _ => "0",
                    };
                    format!("{} {}", t.paint(c, s), thousands(*n))
                })
                .collect();
            t.t.push_str(&format!(
                "{}{what}: {}\n",
                t.head("statuses"),
                list.join(" · ")
            ));
        }
    }

    /// Where the runs go: releases, test sets, builds.
    fn text_targets(&self, t: &mut Page) {
        if self.runs > 0 {
            for (label, m) in [
                ("releases", &self.releases),
                ("test sets", &self.test_sets),
                ("builds", &self.builds),
            ] {
                let list: Vec<String> = m
                    .iter()
                    .map(|(k, n)| format!("{k} {}", thousands(*n)))
                    .collect();
                t.t.push_str(&format!("{}{}\n", t.head(label), list.join(" · ")));
            }
        }
    }

    /// The batches' sizes.
    fn text_batches(&self, t: &mut Page) {
        if let Some(b) = self.batch_stats() {
            let over = b["over_500_runs"].as_u64().unwrap_or(0);
            t.t.push_str(&format!(
                "{}{} of {}–{} runs (mean {:.1}), {}–{} each, {} in all{}\n",
                t.head("batches"),
                thousands(b["count"].as_u64().unwrap_or(0)),
                b["runs_min"],
                b["runs_max"],
                b["runs_mean"].as_f64().unwrap_or(0.0),
                size(b["bytes_min"].as_u64().unwrap_or(0)),
                size(b["bytes_max"].as_u64().unwrap_or(0)),
                size(b["bytes_total"].as_u64().unwrap_or(0)),
                if over > 0 {
                    t.paint(
                        "33",
                        &format!("; {over} over 500 runs (Spira advises 100–500)"),
                    )
                } else {
                    String::new()
                }
            ));
        }
    }

    /// What has no test case.
    fn text_unmapped(&self, t: &mut Page) {
        if self.unmapped_total > 0 {
            let what = if self.runs > 0 {
                "runs without a TestCaseId"
            } else {
                "results without a test case ID of their own (spira-map needs a map file or --default-test-case for them)"
            };
            t.t.push_str(&format!(
                "{}{} {what}\n",
                t.head("unmapped"),
                t.paint("33", &thousands(self.unmapped_total))
            ));
            for (n, c) in self.unmapped_list().iter().take(self.top) {
                let times = if *c > 1 {
                    format!(" ×{c}")
                } else {
                    String::new()
                };
                t.t.push_str(&format!("{:13}{n}{times}\n", ""));
            }
        }
    }

    /// Test cases that get more than one run.
    fn text_several(&self, t: &mut Page) {
        let several = self.several();
        if !several.is_empty() {
            let list: Vec<String> = several
                .iter()
                .take(self.top)
                .map(|(tc, n)| format!("TC:{tc} ×{n}"))
                .collect();
            t.t.push_str(&format!(
                "{}{} test cases get more than one run: {}{}\n",
                t.head("several runs"),
                thousands(several.len() as u64),
                list.join(", "),
                if several.len() > self.top {
                    ", …"
                } else {
                    ""
                }
            ));
        }
    }

    /// Texts at or over Spira's field limits.
    fn text_limits(&self, t: &mut Page) {
        for (field, l) in &self.limits {
            if l.over + l.near == 0 {
                continue;
            }
            let mut line = format!("{}{field} (at most {}): ", t.head("limits"), l.max);
            if l.over > 0 {
                line.push_str(&t.paint(
                    "31",
                    &format!(
                        "{} over (longest {}{})",
                        l.over,
                        l.longest,
                        l.at.as_ref().map_or(String::new(), |a| format!(", {a}"))
                    ),
                ));
                if l.near > 0 {
                    line.push_str(", ");
                }
            }
            if l.near > 0 {
                line.push_str(&t.paint("33", &format!("{} within 10% of it", l.near)));
            }
            t.t.push_str(&line);
            t.t.push('\n');
        }
    }

    /// The slowest tests.
    fn text_slowest(&self, t: &mut Page) {
        let slowest = self.slowest_list();
        if !slowest.is_empty() {
            for (i, (ms, n)) in slowest.iter().enumerate() {
                let label = if i == 0 {
                    t.head("slowest")
                } else {
                    " ".repeat(13)
                };
                t.t.push_str(&format!("{label}{:>9.3} s  {n}\n", *ms as f64 / 1000.0));
            }
        }
    }

    /// What needs a refresh after the upload.
    fn text_reminder(&self, t: &mut Page) {
        let (rl, tx) = self.refresh();
        if !rl.is_empty() || !tx.is_empty() {
            t.t.push_str(&format!(
                "{}record-multiple does not refresh the summary status of {}{}{}: after the upload, run spira-post --refresh (or --refresh-only nightly)\n",
                t.head("reminder"),
                rl.join(", "),
                if !rl.is_empty() && !tx.is_empty() { ", " } else { "" },
                tx.join(", ")
            ));
        }
    }
}

/// The summary as text being written, coloured or not.
struct Page {
    t: String,
    colour: bool,
}

impl Page {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn head(&self, s: &str) -> String {
        self.paint("1", &format!("{s:<13}"))
    }
}

/// The first line of `text` that is not blank, at most 500 characters of it (the page shows
/// less; the rest is never kept).
fn first_line(text: Option<&str>) -> String {
    let line = text
        .and_then(|t| t.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("");
    line.chars().take(500).collect()
}

fn named(m: &BTreeMap<String, u64>) -> Vec<&str> {
    m.keys()
        .filter(|k| *k != "none")
        .map(String::as_str)
        .collect()
}

/// Bytes for people: B, kB, MB (powers of 1000, as `ls -h --si`).
fn size(b: u64) -> String {
    match b {
        0..1_000 => format!("{b} B"),
        1_000..1_000_000 => format!("{:.1} kB", b as f64 / 1e3),
        _ => format!("{:.1} MB", b as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_for_people() {
        assert_eq!(super::thousands(1234567), "1,234,567");
        assert_eq!(super::thousands(12), "12");
        assert_eq!(super::size(1_500), "1.5 kB");
    }
}
