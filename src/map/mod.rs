//! `spira-map`: **result** lines in, **run** lines (Spira `RemoteAutomatedTestRun`) out.

pub(crate) mod mapfile;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use regex::Regex;
use serde_json::value::RawValue;

use crate::cli;
use crate::date::{self, Millis};
use crate::error::{Error, Result, EXIT_DATA};
use crate::record::{test_case_id, CustomProperty, RunParameter, RunStep, Status, TestRun};
use crate::spira::{self, status as sid};
use mapfile::MapFile;

const EXAMPLES: &str = "\
Examples:
  spira-parse reports/ | spira-map --map ids.csv --release 45 > runs.jsonl
  spira-parse reports/ | spira-map --map spira.cfg --strict
  spira-parse report.xml | spira-map --default-test-case 99 --status skipped=3 --date-format wcf";

/// Turns result lines into Spira test runs (RemoteAutomatedTestRun), one per test case ID.
#[derive(Parser, Debug)]
#[command(name = "spira-map", version, after_help = EXAMPLES)]
pub struct Args {
    /// Result-line files; `-` or nothing means standard input.
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,

    /// A map file: CSV key,test_case_id[,test_set_id]; a JSON object; Inflectra's spira.cfg;
    /// or, with --match name, a test_case_id,name list.
    #[arg(long, value_name = "FILE")]
    pub(crate) map: Option<String>,

    /// How the map file matches tests: by key (classname.name, then name) or by test case name.
    #[arg(long = "match", value_enum, default_value = "key")]
    pub(crate) match_by: MatchBy,

    /// Another property name that holds a test case ID (repeatable). Always read: TestCaseId,
    /// test_case_id, spira_id, spira.testcase.
    #[arg(long = "id-property", value_name = "NAME")]
    pub(crate) id_properties: Vec<String>,

    /// The pattern of an ID token in a test's name or classname; its first group (or its digits)
    /// is the ID.
    #[arg(long, value_name = "REGEX", default_value = r"\bTC[:-]?(\d+)\b")]
    pub(crate) id_pattern: String,

    /// The test case for results nothing else maps.
    #[arg(long, value_name = "ID")]
    pub(crate) default_test_case: Option<u64>,

    /// ReleaseId for every run (default: release_id from a spira.cfg map).
    #[arg(long, value_name = "ID")]
    pub(crate) release: Option<u64>,

    /// TestSetId for every run without a per-suite or per-test one (default: test_set_id from a
    /// spira.cfg map).
    #[arg(long, value_name = "ID")]
    pub(crate) test_set: Option<u64>,

    /// BuildId for every run.
    #[arg(long, value_name = "ID")]
    pub(crate) build: Option<u64>,

    /// TestConfigurationId for every run.
    #[arg(long, value_name = "ID")]
    pub(crate) test_configuration: Option<u64>,

    /// AutomationHostId for every run.
    #[arg(long, value_name = "ID")]
    pub(crate) automation_host: Option<u64>,

    /// A custom property value, NUM=VALUE (repeatable). VALUE is text unless typed:
    /// int:5, decimal:1.5, bool:true, date:2024-05-14T12:00:00Z, list:1,2.
    #[arg(long = "custom-property", value_name = "NUM=VALUE", value_parser = parse_custom)]
    pub(crate) custom_properties: Vec<CustomProperty>,

    /// RunnerName: at most 20 characters.
    #[arg(long, default_value = "spira-pipe")]
    pub(crate) runner_name: String,

    /// Override a status mapping, NAME=ID (repeatable): NAME is passed, failed, error, skipped,
    /// warning, flaky, blocked, caution, not-run or n/a; ID is 1 Failed, 2 Passed, 3 Not Run,
    /// 4 N/A, 5 Blocked, 6 Caution.
    #[arg(long = "status", value_name = "NAME=ID", value_parser = parse_status)]
    pub(crate) statuses: Vec<(String, u8)>,

    /// Reference time for results without any time: ISO 8601 (default: now).
    #[arg(long, value_name = "TIME")]
    pub(crate) start: Option<String>,

    /// The zone of times written without one: UTC or a fixed offset such as +02:00.
    #[arg(long, default_value = "UTC", value_parser = parse_zone)]
    pub(crate) timezone: i32,

    /// How dates are written.
    #[arg(long, value_enum, default_value = "iso")]
    pub(crate) date_format: DateFormat,

    /// Write RunnerStackTrace as HTML (TestRunFormatId 2).
    #[arg(long)]
    pub(crate) html: bool,

    /// Steps to write: `reruns` makes each attempt of a rerun test a TestRunStep.
    #[arg(long, value_enum)]
    pub(crate) steps: Option<Steps>,

    /// Read Parameters from a parameterised name: test_x[a-1], Test(value: 2).
    #[arg(long)]
    pub(crate) parameters_from_name: bool,

    /// One run per test case and test set: the worst status, the earliest start, the latest end.
    #[arg(long)]
    pub(crate) aggregate: bool,

    /// Write unmapped results to FILE as result lines.
    #[arg(long, value_name = "FILE")]
    pub(crate) unmapped_out: Option<PathBuf>,

    /// Exit 1 when any result is unmapped.
    #[arg(long)]
    pub(crate) strict: bool,
}

/// How a map file matches.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MatchBy {
    /// By `classname.name`, then `name`, case-insensitively; `*` and `?` globs.
    Key,
    /// By test case name (a `test_case_id,name` list), case-insensitively.
    Name,
}

/// How dates are written.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DateFormat {
    /// `2024-05-14T12:00:00.000Z`.
    Iso,
    /// `/Date(1715688000000-0000)/`.
    Wcf,
}

/// Which steps to write.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Steps {
    /// One step per attempt of a rerun test.
    Reruns,
}

fn parse_zone(s: &str) -> std::result::Result<i32, String> {
    date::parse_offset(s).ok_or_else(|| {
        format!("'{s}' is not UTC or a fixed offset such as +02:00 (zone names are not supported)")
    })
}

fn parse_status(s: &str) -> std::result::Result<(String, u8), String> {
    let (name, id) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not NAME=ID"))?;
    let id: u8 = id
        .trim()
        .parse()
        .ok()
        .filter(|i| (1..=6).contains(i))
        .ok_or_else(|| format!("'{id}' is not a status ID from 1 to 6"))?;
    let n = name.trim().to_lowercase().replace(['_', ' '], "-");
    let known = [
        "passed", "failed", "error", "skipped", "warning", "flaky", "blocked", "caution",
        "not-run", "n/a",
    ];
    if !known.contains(&n.as_str()) {
        return Err(format!("'{name}' is not one of {}", known.join(", ")));
    }
    Ok((n, id))
}

fn parse_custom(s: &str) -> std::result::Result<CustomProperty, String> {
    let (num, value) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not NUM=VALUE"))?;
    let number: u32 = num
        .trim()
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("'{num}' is not a custom property number"))?;
    let mut p = CustomProperty {
        property_number: number,
        ..CustomProperty::default()
    };
    let bad = |t: &str| format!("'{value}' is not a valid {t}");
    match value.split_once(':') {
        Some(("int", v)) => p.integer_value = Some(v.trim().parse().map_err(|_| bad("int"))?),
        Some(("decimal", v)) => {
            p.decimal_value = Some(
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| bad("decimal"))?,
            )
        }
        Some(("bool", v)) => p.boolean_value = Some(v.trim().parse().map_err(|_| bad("bool"))?),
        Some(("date", v)) => {
            let t = date::parse_any(v.trim()).ok_or_else(|| bad("date"))?;
            p.date_time_value = Some(date::format_iso(t));
        }
        Some(("list", v)) => {
            p.integer_list_value = Some(
                v.split(',')
                    .map(|x| x.trim().parse::<i64>())
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|_| bad("list"))?,
            )
        }
        _ => p.string_value = Some(value.to_string()),
    }
    Ok(p)
}

/// The fields of a **result** line that spira-map reads, borrowed from the line where no
/// escape forces a copy. Other fields are passed over unread.
#[derive(serde::Deserialize)]
struct Input<'a> {
    #[serde(borrow)]
    report: Cow<'a, str>,
    #[serde(borrow)]
    suites: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    classname: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    status: Status,
    #[serde(borrow, default)]
    spira_status: Option<Cow<'a, str>>,
    #[serde(default)]
    test_case_id: Option<u64>,
    duration: Option<f64>,
    #[serde(borrow)]
    start: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    suite_start: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "type")]
    failure_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    stdout: Option<&'a RawValue>,
    #[serde(borrow, default)]
    stderr: Option<&'a RawValue>,
    #[serde(borrow, default)]
    other_outcomes: Vec<Text3<'a>>,
    #[serde(borrow, default)]
    properties: Vec<Pair<'a>>,
    #[serde(borrow, default)]
    reruns: Vec<Attempt<'a>>,
    #[serde(default)]
    flaky: bool,
    #[serde(borrow, default)]
    attachments: Vec<Cow<'a, str>>,
    #[serde(default)]
    assertions: Option<u64>,
}

/// A property, borrowed.
#[derive(serde::Deserialize)]
struct Pair<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    value: Cow<'a, str>,
}

/// Another outcome, borrowed.
#[derive(serde::Deserialize)]
struct Text3<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "type")]
    failure_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    details: Option<Cow<'a, str>>,
}

/// An earlier attempt, borrowed.
#[derive(serde::Deserialize)]
struct Attempt<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    details: Option<Cow<'a, str>>,
}

/// Where a result's test case IDs came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Source {
    Property,
    Token,
    Map,
    Default,
}

/// The counts of the summary: every result is accounted for.
#[derive(Default, Debug)]
struct Tally {
    results: u64,
    runs: u64,
    by_source: [u64; 4],
    unmapped: u64,
    aggregated_members: u64,
}

/// The mapping itself, built once from the arguments.
struct Mapper {
    args: Args,
    map: Option<MapFile>,
    id_props: Vec<String>,
    pattern: Regex,
    statuses: HashMap<String, u8>,
    release: Option<u64>,
    test_set: Option<u64>,
    /// Where the next run of a suite starts, by report and suite path.
    cursors: HashMap<String, Millis>,
    /// The key of `cursors` being built, kept to spare an allocation per result.
    key: String,
    /// The cursor in use, taken out of `cursors` while results of its suite follow each other.
    current: Option<(String, Millis)>,
    /// Status IDs of passed, failed, error, skipped, warning and flaky results.
    outcome_ids: [u8; 6],
    /// `--runner-name`, shared by every run.
    runner_name: std::sync::Arc<str>,
    /// The last day a date was written for.
    day: std::cell::Cell<date::IsoDay>,
    /// Where the next run without any time starts.
    reference: Millis,
}

/// The entry point of `spira-map`.
pub fn run(args: Args) -> Result<()> {
    if spira::utf16_len(&args.runner_name) > spira::RUNNER_NAME_MAX || args.runner_name.is_empty() {
        return Err(Error::Usage(format!(
            "--runner-name '{}': Spira's RunnerName holds 1 to 20 characters",
            args.runner_name
        )));
    }
    let pattern =
        Regex::new(&args.id_pattern).map_err(|e| Error::Usage(format!("--id-pattern: {e}")))?;
    let start = match &args.start {
        Some(s) => date::parse_iso(s, args.timezone)
            .or_else(|| date::parse_any(s))
            .ok_or_else(|| Error::Usage(format!("--start '{s}' is not an ISO 8601 time")))?,
        None => date::now(),
    };
    let map = match &args.map {
        Some(p) => Some(MapFile::load(p, args.match_by == MatchBy::Name)?),
        None if args.match_by == MatchBy::Name => {
            return Err(Error::Usage("--match name needs --map FILE".into()))
        }
        None => None,
    };
    let creds = map.as_ref().and_then(|m| m.credentials.as_ref());
    let release = args
        .release
        .or_else(|| creds.and_then(|c| c.id("release_id")));
    let test_set = args
        .test_set
        .or_else(|| creds.and_then(|c| c.id("test_set_id")));
    let mut statuses: HashMap<String, u8> = [
        ("passed", sid::PASSED),
        ("failed", sid::FAILED),
        ("error", sid::BLOCKED),
        ("skipped", sid::NOT_APPLICABLE),
        ("warning", sid::CAUTION),
        ("flaky", sid::PASSED),
        ("blocked", sid::BLOCKED),
        ("caution", sid::CAUTION),
        ("not-run", sid::NOT_RUN),
        ("n/a", sid::NOT_APPLICABLE),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in &args.statuses {
        statuses.insert(k.clone(), *v);
    }
    let mut id_props: Vec<String> = ["testcaseid", "test_case_id", "spira_id", "spira.testcase"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    id_props.extend(args.id_properties.iter().map(|p| p.to_lowercase()));
    let outcome_ids =
        ["passed", "failed", "error", "skipped", "warning", "flaky"].map(|k| statuses[k]);
    let mut m = Mapper {
        outcome_ids,
        current: None,
        runner_name: args.runner_name.as_str().into(),
        day: Default::default(),
        map,
        id_props,
        pattern,
        statuses,
        release,
        test_set,
        cursors: HashMap::new(),
        key: String::new(),
        reference: start,
        args,
    };
    m.run_all()
}

impl Mapper {
    fn run_all(&mut self) -> Result<()> {
        let mut out = cli::LineOut::stdout();
        let mut unmapped_out = match &self.args.unmapped_out {
            Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p).map_err(
                |e| {
                    Error::Usage(format!(
                        "cannot create '{}': {}",
                        p.display(),
                        cli::io_reason(&e)
                    ))
                },
            )?)),
            None => None,
        };
        let mut tally = Tally::default();
        let mut unmapped_names: HashSet<String> = HashSet::new();
        // --aggregate: runs by (test case, test set), in first-seen order.
        let mut groups: Vec<(TestRun, Vec<(String, u8)>)> = Vec::new();
        let mut group_index: HashMap<(u64, Option<u64>), usize> = HashMap::new();
        let json_trace = !self.args.html && !self.args.aggregate;
        let mut trace_buf: Vec<u8> = Vec::new();
        let inputs = cli::inputs(&self.args.files);
        cli::each_line(&inputs, |name, n, text| {
            // The line's UTF-8 checked once here spares serde_json a check per string.
            let text = std::str::from_utf8(text).map_err(|e| {
                Error::Data(format!(
                    "{name}:{n}: not a result line: invalid UTF-8 at byte {}",
                    e.valid_up_to() + 1
                ))
            })?;
            let r: Input<'_> = serde_json::from_str(text)
                .map_err(|e| Error::Data(format!("{name}:{n}: not a result line: {e}")))?;
            tally.results += 1;
            let (ids, source) = self.test_cases(&r);
            if ids.is_empty() {
                tally.unmapped += 1;
                let test = display_name(&r);
                if unmapped_names.insert(test.clone()) {
                    cli::warn(format_args!("{name}:{n}: no test case for \"{test}\""));
                }
                if let Some(w) = unmapped_out.as_mut() {
                    // The line as it came: nothing of it is lost.
                    w.write_all(text.as_bytes())?;
                    w.write_all(b"\n")?;
                }
                return Ok(());
            }
            tally.by_source[source as usize] += 1;
            let (start, end) = self.times(&r);
            // A text field decoded on its own: its line and column say nothing useful.
            let bad = |e: serde_json::Error| {
                let e = e.to_string();
                let reason = e.rsplit_once(" at line ").map_or(e.as_str(), |(r, _)| r);
                Error::Data(format!(
                    "{name}:{n}: not a result line: a text field: {reason}"
                ))
            };
            // Written straight as JSON unless it must be escaped as HTML or merged.
            let (plain, trace) = if json_trace {
                let some = stack_trace_json(&r, &mut trace_buf).map_err(bad)?;
                (None, some.then_some(trace_buf.as_slice()))
            } else {
                (stack_trace_text(&r).map_err(bad)?, None)
            };
            for (tc, map_set) in ids {
                let run = self.build(&r, tc, map_set, start, end, plain.clone());
                if self.args.aggregate {
                    tally.aggregated_members += 1;
                    let key = (run.test_case_id, run.test_set_id);
                    let member = (display_name(&r), run.execution_status_id);
                    match group_index.get(&key) {
                        Some(&i) => merge(&mut groups[i], run, member),
                        None => {
                            group_index.insert(key, groups.len());
                            groups.push((run, vec![member]));
                        }
                    }
                } else {
                    tally.runs += 1;
                    out.line(|buf| run.write_json_with_trace(buf, trace))?;
                }
            }
            Ok(())
        })?;
        for (mut run, members) in groups {
            if members.len() > 1 {
                finish_aggregate(&mut run, &members, self.args.html);
            }
            tally.runs += 1;
            write_run(&mut out, &run)?;
        }
        out.flush()?;
        if let Some(w) = unmapped_out.as_mut() {
            w.flush()?;
        }
        self.summary(&tally, unmapped_names.len());
        if self.args.strict && tally.unmapped > 0 {
            cli::error(format_args!(
                "{} result{} without a test case (--strict)",
                tally.unmapped,
                if tally.unmapped == 1 { "" } else { "s" }
            ));
            return Err(Error::Exit(EXIT_DATA));
        }
        Ok(())
    }

    fn summary(&self, t: &Tally, distinct: usize) {
        let [p, tok, m, d] = t.by_source;
        let mut s = format!(
            "{} results: {} mapped ({p} by property, {tok} by name token, {m} by map file, {d} by default), {} unmapped",
            t.results,
            t.results - t.unmapped,
            t.unmapped
        );
        if t.unmapped > 0 {
            s.push_str(&format!(" ({distinct} distinct names)"));
        }
        if self.args.aggregate {
            s.push_str(&format!(
                "; {} runs aggregated into {}",
                t.aggregated_members, t.runs
            ));
        } else {
            s.push_str(&format!("; {} runs written", t.runs));
        }
        cli::info(format_args!("{s}"));
    }

    /// The test case IDs of a result, each with the test set its map entry gives, and where
    /// they came from: properties, then name tokens, then the map file, then the default.
    fn test_cases(&self, r: &Input<'_>) -> (Vec<(u64, Option<u64>)>, Source) {
        let mut ids: Vec<u64> = Vec::new();
        let push = |ids: &mut Vec<u64>, id: u64| {
            if !ids.contains(&id) {
                ids.push(id);
            }
        };
        if let Some(id) = r.test_case_id {
            push(&mut ids, id);
        }
        for p in &r.properties {
            if self.id_props.iter().any(|n| p.name.eq_ignore_ascii_case(n)) {
                if let Some(id) = test_case_id(&p.value) {
                    push(&mut ids, id);
                }
            }
        }
        if !ids.is_empty() {
            return (
                ids.into_iter().map(|i| (i, None)).collect(),
                Source::Property,
            );
        }
        for text in [r.name.as_deref(), r.classname.as_deref()]
            .into_iter()
            .flatten()
        {
            // Most names hold no ID: the plain match test is much cheaper than captures.
            if !self.pattern.is_match(text) {
                continue;
            }
            for c in self.pattern.captures_iter(text) {
                let m = c.get(1).or_else(|| c.get(0)).map_or("", |m| m.as_str());
                let digits: String = m.chars().filter(char::is_ascii_digit).collect();
                if let Some(id) = digits.parse().ok().filter(|&n: &u64| n > 0) {
                    push(&mut ids, id);
                }
            }
        }
        if !ids.is_empty() {
            return (ids.into_iter().map(|i| (i, None)).collect(), Source::Token);
        }
        if let Some(t) = self
            .map
            .as_ref()
            .and_then(|m| m.test(r.classname.as_deref(), r.name.as_deref()))
        {
            if let Some(tc) = t.test_case {
                return (vec![(tc, t.test_set)], Source::Map);
            }
        }
        match self.args.default_test_case {
            Some(d) => (vec![(d, None)], Source::Default),
            None => (Vec::new(), Source::Default),
        }
    }

    /// Start and end of a result's run: its own start; else its suite's start plus the
    /// durations of the suite's earlier results; else the reference time plus the durations of
    /// all earlier results without times.
    fn times(&mut self, r: &Input<'_>) -> (Millis, Millis) {
        let dur = r.duration.map_or(0, |d| (d * 1000.0).round() as Millis);
        let zone = self.args.timezone;
        let start = if let Some(t) = r.start.as_deref().and_then(|s| date::parse_iso(s, zone)) {
            t
        } else if let Some(t) = r
            .suite_start
            .as_deref()
            .and_then(|s| date::parse_iso(s, zone))
        {
            self.key.clear();
            self.key.push_str(&r.report);
            for s in &r.suites {
                self.key.push('\u{1f}');
                self.key.push_str(s);
            }
            let cursor = match &mut self.current {
                Some((k, c)) if *k == self.key => c,
                current => {
                    if let Some((k, c)) = current.take() {
                        self.cursors.insert(k, c);
                    }
                    let c = self.cursors.remove(self.key.as_str()).unwrap_or(t);
                    &mut current.insert((self.key.clone(), c)).1
                }
            };
            let s = *cursor;
            *cursor = cursor.saturating_add(dur);
            s
        } else {
            let s = self.reference;
            self.reference = self.reference.saturating_add(dur);
            s
        };
        (start, start.saturating_add(dur))
    }

    fn date(&self, t: Millis) -> String {
        match self.args.date_format {
            DateFormat::Iso => {
                let mut day = self.day.get();
                let s = date::format_iso_cached(t, &mut day);
                self.day.set(day);
                s
            }
            DateFormat::Wcf => date::format_wcf(t),
        }
    }

    fn status_id(&self, r: &Input<'_>) -> u8 {
        if let Some(native) = r.spira_status.as_deref() {
            let key = native.to_lowercase().replace(' ', "-");
            if let Some(id) = self.statuses.get(&key) {
                return *id;
            }
            if let Some(id) = sid::by_name(native) {
                return id;
            }
        }
        self.outcome_ids[match r.status {
            Status::Passed if r.flaky => 5,
            Status::Passed => 0,
            Status::Failed => 1,
            Status::Error => 2,
            Status::Skipped => 3,
            Status::Warning => 4,
        }]
    }

    fn build(
        &self,
        r: &Input<'_>,
        tc: u64,
        map_set: Option<u64>,
        start: Millis,
        end: Millis,
        trace: Option<String>,
    ) -> TestRun {
        let suite_set = r
            .suites
            .last()
            .and_then(|s| self.map.as_ref().and_then(|m| m.suite(s)));
        let test_name = match (r.classname.as_deref(), r.name.as_deref()) {
            (Some(c), Some(n)) if !c.is_empty() => format!("{c}.{n}"),
            (_, Some(n)) => n.to_string(),
            (Some(c), None) => c.to_string(),
            (None, None) => "(unnamed test)".to_string(),
        };
        let mut message = r
            .message
            .as_deref()
            .and_then(|m| m.lines().map(str::trim).find(|l| !l.is_empty()))
            .map(str::to_string);
        if r.flaky && r.status == Status::Passed {
            let n = r.reruns.len();
            let note = format!(
                "Flaky: passed after {n} failed attempt{}",
                if n == 1 { "" } else { "s" }
            );
            message = Some(match message {
                Some(m) => format!("{note}; {m}"),
                None => note,
            });
        }
        let (trace, format) = match (trace, self.args.html) {
            (Some(t), true) => (Some(format!("<pre>{}</pre>", html_escape(&t))), 2),
            (t, _) => (t, 1),
        };
        TestRun {
            test_case_id: tc,
            execution_status_id: self.status_id(r),
            start_date: self.date(start),
            end_date: Some(self.date(end)),
            runner_name: self.runner_name.clone(),
            runner_test_name: Some(spira::truncate_utf16(&test_name, spira::TEXT_255).into_owned()),
            runner_message: message
                .map(|m| spira::truncate_utf16(&m, spira::TEXT_255).into_owned()),
            runner_stack_trace: trace,
            test_run_format_id: format,
            runner_assert_count: r.assertions,
            release_id: self.release,
            test_set_id: map_set.or(suite_set).or(self.test_set),
            build_id: self.args.build,
            test_configuration_id: self.args.test_configuration,
            automation_host_id: self.args.automation_host,
            parameters: if self.args.parameters_from_name {
                r.name.as_deref().map(parameters).unwrap_or_default()
            } else {
                Vec::new()
            },
            test_run_steps: match self.args.steps {
                Some(Steps::Reruns) if !r.reruns.is_empty() => self.steps(r),
                _ => Vec::new(),
            },
            custom_properties: self.args.custom_properties.clone(),
            attachments: r.attachments.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// One step per attempt: the earlier ones from `reruns`, the last one the result itself.
    fn steps(&self, r: &Input<'_>) -> Vec<RunStep> {
        let mut steps: Vec<RunStep> = r
            .reruns
            .iter()
            .enumerate()
            .map(|(i, x)| RunStep {
                description: format!("Attempt {} ({})", i + 1, x.kind),
                execution_status_id: match x.status {
                    Some(Status::Error) => self.statuses["error"],
                    _ => self.statuses["failed"],
                },
                actual_result: join_nonempty(&[x.message.as_deref(), x.details.as_deref()], "\n"),
                position: i as u32 + 1,
            })
            .collect();
        steps.push(RunStep {
            description: format!("Attempt {} (final)", steps.len() + 1),
            execution_status_id: self.status_id(r),
            actual_result: r.message.as_deref().map(str::to_string),
            position: steps.len() as u32 + 1,
        });
        steps
    }
}

fn write_run(out: &mut cli::LineOut, run: &TestRun) -> Result<()> {
    out.line(|buf| run.write_json(buf))
}

/// The name warnings and aggregates show: `classname.name`.
fn display_name(r: &Input<'_>) -> String {
    match (r.classname.as_deref(), r.name.as_deref()) {
        (Some(c), Some(n)) if !c.is_empty() => format!("{c}.{n}"),
        (_, Some(n)) => n.to_string(),
        (Some(c), None) => c.to_string(),
        (None, None) => "(unnamed test)".to_string(),
    }
}

fn join_nonempty(parts: &[Option<&str>], sep: &str) -> Option<String> {
    let v: Vec<&str> = parts
        .iter()
        .flatten()
        .copied()
        .filter(|s| !s.is_empty())
        .collect();
    (!v.is_empty()).then(|| v.join(sep))
}

/// RunnerStackTrace as Inflectra's reader writes it: type, message, details, output and
/// properties; here also the other outcomes and earlier attempts.
/// Where a stack trace is written: decoded text, or JSON string content.
trait TraceText {
    /// Appends plain text.
    fn text(&mut self, s: &str);
    /// Appends a string field of the result line as given (a JSON string literal), less its
    /// trailing white space.
    fn field(&mut self, raw: &RawValue) -> serde_json::Result<()>;
}

impl TraceText for String {
    fn text(&mut self, s: &str) {
        self.push_str(s);
    }

    fn field(&mut self, raw: &RawValue) -> serde_json::Result<()> {
        let text: Cow<'_, str> = serde_json::from_str(raw.get())?;
        self.push_str(text.trim_end());
        Ok(())
    }
}

/// The trace as the inside of a JSON string: long fields (stack traces, output) are copied as
/// they are escaped in the line, not decoded and escaped again.
impl TraceText for Vec<u8> {
    fn text(&mut self, s: &str) {
        crate::json::escape(self, s);
    }

    fn field(&mut self, raw: &RawValue) -> serde_json::Result<()> {
        let literal = raw.get();
        // A string literal's quotes are ASCII: the inside starts and ends on character bounds.
        let inner = literal
            .strip_prefix('"')
            .and_then(|l| l.strip_suffix('"'))
            .filter(|_| literal.len() >= 2)
            .ok_or_else(|| <serde_json::Error as serde::de::Error>::custom("expected a string"))?;
        if memchr::memmem::find(inner.as_bytes(), b"\\u").is_some() {
            // `\u` escapes are decoded, so a lone surrogate is an error here as it is in text.
            let text: Cow<'_, str> = serde_json::from_str(literal)?;
            crate::json::escape(self, text.trim_end());
        } else {
            self.extend_from_slice(crate::json::trim_end_escaped(inner.as_bytes()));
        }
        Ok(())
    }
}

/// The stack trace of a run: type, message, details, the other outcomes, the reruns, output
/// and properties, as Inflectra's reader assembles it (not yet trimmed).
fn stack_trace<T: TraceText>(r: &Input<'_>, s: &mut T) -> serde_json::Result<()> {
    let line = |s: &mut T, parts: &[&str]| {
        for p in parts {
            s.text(p);
        }
        s.text("\n");
    };
    if let Some(t) = &r.failure_type {
        line(s, &["Type: ", t]);
    }
    if let Some(m) = &r.message {
        line(s, &["Message: ", m]);
    }
    if let Some(d) = r.details {
        s.field(d)?;
        s.text("\n");
    }
    for o in &r.other_outcomes {
        line(s, &["\n--- also <", &o.kind, "> ---"]);
        for part in [&o.failure_type, &o.message, &o.details]
            .into_iter()
            .flatten()
        {
            line(s, &[part.trim_end()]);
        }
    }
    for (i, x) in r.reruns.iter().enumerate() {
        line(
            s,
            &[
                "\n--- attempt ",
                &(i + 1).to_string(),
                " (",
                &x.kind,
                ") ---",
            ],
        );
        for part in [&x.message, &x.details].into_iter().flatten() {
            line(s, &[part.trim_end()]);
        }
    }
    for (title, text) in [("stdout", r.stdout), ("stderr", r.stderr)] {
        if let Some(t) = text {
            s.text("\n--- ");
            s.text(title);
            s.text(" ---\n");
            s.field(t)?;
            s.text("\n");
        }
    }
    if !r.properties.is_empty() {
        s.text("\n--- properties ---\n");
        for p in &r.properties {
            line(s, &[&p.name, " = ", &p.value]);
        }
    }
    Ok(())
}

/// The stack trace as text, trimmed; None when empty.
fn stack_trace_text(r: &Input<'_>) -> serde_json::Result<Option<String>> {
    let mut s = String::new();
    stack_trace(r, &mut s)?;
    Ok(cli::trim_owned(s))
}

/// The stack trace as the inside of a JSON string, trimmed; None when empty.
fn stack_trace_json(r: &Input<'_>, out: &mut Vec<u8>) -> serde_json::Result<bool> {
    out.clear();
    stack_trace(r, out)?;
    let end = crate::json::trim_end_escaped(out).len();
    out.truncate(end);
    let start = out.len() - crate::json::trim_start_escaped(out).len();
    out.drain(..start);
    Ok(!out.is_empty())
}

fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Parameters from the last bracketed group of a name: `test_x[a-1]` gives `{1: a-1}`,
/// `Test(value: 2, b=3)` gives `{value: 2, b: 3}`; unnamed values are numbered from 1.
pub(crate) fn parameters(name: &str) -> Vec<RunParameter> {
    let name = name.trim_end();
    let (open, close) = match name.chars().last() {
        Some(']') => ('[', ']'),
        Some(')') => ('(', ')'),
        _ => return Vec::new(),
    };
    // The matching opening bracket of the last one.
    let mut depth = 0;
    let mut start = None;
    for (i, c) in name.char_indices().rev() {
        if c == close {
            depth += 1;
        } else if c == open {
            depth -= 1;
            if depth == 0 {
                start = Some(i);
                break;
            }
        }
    }
    let Some(start) = start else {
        return Vec::new();
    };
    let inner = &name[start + 1..name.len() - 1];
    if inner.trim().is_empty() {
        return Vec::new();
    }
    // Split at top-level commas only.
    let mut parts = Vec::new();
    let (mut level, mut quote, mut from) = (0i32, None, 0);
    for (i, c) in inner.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[' | '{') => level += 1,
            (None, ')' | ']' | '}') => level -= 1,
            (None, ',') if level == 0 => {
                parts.push(&inner[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[from..]);
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let p = p.trim();
            let named = p.split_once(['=', ':']).filter(|(k, _)| {
                !k.trim().is_empty() && k.trim().chars().all(|c| c.is_alphanumeric() || c == '_')
            });
            match named {
                Some((k, v)) => RunParameter {
                    name: k.trim().to_string(),
                    value: v.trim().to_string(),
                },
                None => RunParameter {
                    name: (i + 1).to_string(),
                    value: p.to_string(),
                },
            }
        })
        .collect()
}

/// Folds a run into its aggregate: worst status, earliest start, latest end.
fn merge(group: &mut (TestRun, Vec<(String, u8)>), run: TestRun, member: (String, u8)) {
    let g = &mut group.0;
    if sid::severity(run.execution_status_id) > sid::severity(g.execution_status_id) {
        g.execution_status_id = run.execution_status_id;
    }
    let key = |d: &str| date::parse_any(d).unwrap_or(0);
    if key(&run.start_date) < key(&g.start_date) {
        g.start_date = run.start_date;
    }
    if let (Some(a), Some(b)) = (&run.end_date, &g.end_date) {
        if key(a) > key(b) {
            g.end_date = run.end_date.clone();
        }
    }
    g.runner_assert_count = match (g.runner_assert_count, run.runner_assert_count) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    };
    g.attachments.extend(run.attachments);
    group.1.push(member);
}

/// The aggregate's texts: a summary message and each member with its status.
fn finish_aggregate(run: &mut TestRun, members: &[(String, u8)], html: bool) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, s) in members {
        *counts.entry(sid::name(*s)).or_default() += 1;
    }
    let summary = counts
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    run.runner_message = Some(
        spira::truncate_utf16(
            &format!("{} tests: {summary}", members.len()),
            spira::TEXT_255,
        )
        .into_owned(),
    );
    run.runner_test_name = Some(
        spira::truncate_utf16(
            &format!("{} tests aggregated", members.len()),
            spira::TEXT_255,
        )
        .into_owned(),
    );
    let list: String = members
        .iter()
        .map(|(n, s)| format!("{}: {n}\n", sid::name(*s)))
        .collect();
    run.runner_stack_trace = Some(if html {
        format!("<pre>{}</pre>", html_escape(&list))
    } else {
        list.trim_end().to_string()
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_from_names() {
        let p = parameters("test_x[a-1]");
        assert_eq!(
            p,
            [RunParameter {
                name: "1".into(),
                value: "a-1".into()
            }]
        );
        let p = parameters("Rounds(value: 1.005, mode=\"up, down\")");
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0],
            RunParameter {
                name: "value".into(),
                value: "1.005".into()
            }
        );
        assert_eq!(p[1].name, "mode");
        assert_eq!(parameters("plain"), []);
        assert_eq!(parameters("test(int)[2]")[0].value, "2");
    }

    #[test]
    fn custom_properties_are_typed() {
        assert_eq!(parse_custom("3=int:5").unwrap().integer_value, Some(5));
        assert_eq!(
            parse_custom("3=bool:true").unwrap().boolean_value,
            Some(true)
        );
        assert_eq!(
            parse_custom("3=list:1,2").unwrap().integer_list_value,
            Some(vec![1, 2])
        );
        assert_eq!(
            parse_custom("3=hello").unwrap().string_value.as_deref(),
            Some("hello")
        );
        assert_eq!(
            parse_custom("3=date:2024-05-14T12:00:00Z")
                .unwrap()
                .date_time_value
                .as_deref(),
            Some("2024-05-14T12:00:00.000Z")
        );
        assert!(parse_custom("x=1").is_err());
        assert!(parse_custom("3=int:five").is_err());
    }
}
