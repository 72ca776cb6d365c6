//! `spira-map`: **result** lines in, **run** lines (Spira `RemoteAutomatedTestRun`) out. Each
//! job has its module: the command line, reading a result line, resolving its test case, its
//! status, its times, its stack trace, its parameters, building the run, and aggregating.

mod aggregate;
mod args;
mod line;
mod params;
mod runs;
mod statuses;
mod times;
mod trace;

use std::collections::HashSet;
use std::io::Write;

use crate::cli;
use crate::date;
use crate::error::{Error, Result, EXIT_DATA};
use crate::mapping::{Resolver, Test};
use crate::record::Kind;
use crate::spira;
use aggregate::Groups;
pub use args::Args;
use line::{display_name, Line};
use runs::{Named, Placed, Runs};
use times::{Clock, Times};
use trace::{stack_trace_json, stack_trace_text};

/// The counts of the summary: every result is accounted for.
#[derive(Default, Debug)]
struct Tally {
    results: u64,
    runs: u64,
    by_source: [u64; 5],
    unmapped: u64,
    aggregated_members: u64,
}

/// Where a line is, `FILE:LINE`, formatted only when a message needs it.
#[derive(Clone, Copy)]
struct At<'a>(&'a str, u64);

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.0, self.1)
    }
}

/// The mapping itself, built once from the arguments.
struct Mapper {
    args: Args,
    /// A duration out of bounds was warned about.
    warned_duration: bool,
    /// An unreadable start was warned about.
    warned_date: bool,
    resolver: Resolver,
    clock: Clock,
    runs: Runs,
}

/// Where the mapped and unmapped results go.
struct Outputs {
    out: cli::LineOut,
    /// `--unmapped-out`.
    unmapped: Option<std::io::BufWriter<std::fs::File>>,
    /// The names of unmapped tests warned about already.
    unmapped_names: HashSet<String>,
    /// `--aggregate`.
    groups: Option<Groups>,
    /// A run's stack trace, written as JSON string content.
    trace: Vec<u8>,
}

/// The entry point of `spira-map`.
pub fn run(args: Args) -> Result<()> {
    if spira::utf16_len(&args.runner_name) > spira::RUNNER_NAME_MAX || args.runner_name.is_empty() {
        return Err(Error::Usage(format!(
            "--runner-name '{}': Spira's RunnerName holds 1 to 20 characters",
            args.runner_name
        )));
    }
    let start = match &args.start {
        Some(s) => date::parse_iso(s, args.timezone)
            .or_else(|| date::parse_any(s))
            .ok_or_else(|| Error::Usage(format!("--start '{s}' is not an ISO 8601 time")))?,
        None => date::now(),
    };
    let (mut resolver, creds) = args.ids.resolver()?;
    let named = Named::resolve(&args, &mut resolver)?;
    let release = named
        .release
        .or(args.release)
        .or_else(|| creds.as_ref().and_then(|c| c.id("release_id")));
    let test_set = named
        .test_set
        .or(args.test_set)
        .or_else(|| creds.as_ref().and_then(|c| c.id("test_set_id")));
    let mut m = Mapper {
        warned_duration: false,
        warned_date: false,
        resolver,
        clock: Clock::new(start, args.timezone),
        runs: Runs::new(&args, release, test_set, named),
        args,
    };
    m.run_all()
}

impl Mapper {
    fn run_all(&mut self) -> Result<()> {
        let unmapped = match &self.args.unmapped_out {
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
        let mut o = Outputs {
            out: cli::LineOut::stdout(),
            unmapped,
            unmapped_names: HashSet::new(),
            groups: self.args.aggregate.then(Groups::default),
            trace: Vec::new(),
        };
        let mut tally = Tally::default();
        let inputs = cli::inputs(&self.args.files);
        cli::each_line_or_idle(&inputs, |line| match line {
            Some((name, n, text)) => self.line(&mut o, &mut tally, At(name, n), text),
            None => o.out.hand_on(),
        })?;
        if let Some(groups) = o.groups.take() {
            tally.runs += groups.write(&mut o.out, self.args.html)?;
        }
        o.out.flush()?;
        if let Some(w) = o.unmapped.as_mut() {
            w.flush()?;
        }
        self.summary(&tally, o.unmapped_names.len());
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

    /// One result line, at `at` (`FILE:LINE`): its runs written (or gathered), or the result
    /// reported and kept as unmapped.
    fn line(&mut self, o: &mut Outputs, tally: &mut Tally, at: At<'_>, text: &[u8]) -> Result<()> {
        // The line's UTF-8 checked once here spares serde_json a check per string.
        let text = std::str::from_utf8(text).map_err(|e| {
            Error::Data(format!(
                "{at}: not a result line: invalid UTF-8 at byte {}",
                e.valid_up_to() + 1
            ))
        })?;
        let r: Line<'_> = serde_json::from_str(text).map_err(|e| {
            Error::Data(match Kind::hint(text.as_bytes(), Kind::Result) {
                Some(hint) => format!("{at}: not a result line: {hint}"),
                None => format!("{at}: not a result line: {e}"),
            })
        })?;
        tally.results += 1;
        let (ids, source) = self.resolver.test_cases(&test_of(&r));
        if ids.is_empty() {
            return unmapped(o, tally, at, &r, text);
        }
        tally.by_source[source as usize] += 1;
        let duration = self.plausible(r.duration, at);
        let (start, end) = self.clock.times(&Times {
            report: &r.report,
            suites: &r.suites,
            start: r.start.as_deref(),
            suite_start: r.suite_start.as_deref(),
            duration,
        });
        if let Some(s) = self.clock.unreadable.take() {
            if !self.warned_date {
                self.warned_date = true;
                cli::warn(format_args!(
                    "{at}: start \"{}\" is not a date that exists; the run's start is taken as if it had none (further ones are not reported)",
                    cli::printable(&s)
                ));
            }
        }
        // A text field decoded on its own: its line and column say nothing useful.
        let bad = |e: serde_json::Error| {
            let reason = crate::json::reason(&e);
            Error::Data(format!("{at}: not a result line: a text field: {reason}"))
        };
        // Written straight as JSON unless it must be escaped as HTML or merged.
        let list_steps = self.args.steps != Some(args::Steps::Steps);
        let (plain, trace) = if !self.args.html && o.groups.is_none() {
            let some = stack_trace_json(&r, &mut o.trace, list_steps).map_err(bad)?;
            (None, some.then_some(o.trace.as_slice()))
        } else {
            (stack_trace_text(&r, list_steps).map_err(bad)?, None)
        };
        let suite_set = self.resolver.suite_set(&r.suites);
        for (test_case, map_set) in ids {
            let placed = Placed {
                test_case,
                test_set: map_set.or(suite_set),
                start,
                end,
            };
            let run = self.runs.build(&r, &placed, plain.clone());
            match o.groups.as_mut() {
                Some(g) => {
                    tally.aggregated_members += 1;
                    g.add(run, display_name(&r));
                }
                None => {
                    tally.runs += 1;
                    o.out.line(|buf| run.write_json_with_trace(buf, trace))?;
                }
            }
        }
        Ok(())
    }

    /// A result's duration, or none when it is negative or longer than 30 days (which would
    /// put its run's end before its start, or past every date): warned about the first time.
    fn plausible(&mut self, duration: Option<f64>, at: At<'_>) -> Option<f64> {
        let d = duration?;
        if (0.0..=crate::record::MAX_DURATION).contains(&d) {
            return Some(d);
        }
        if !self.warned_duration {
            self.warned_duration = true;
            // 1e300 written out would take 301 digits.
            let shown = if d.abs() < 1e9 {
                format!("{d}")
            } else {
                format!("{d:e}")
            };
            cli::warn(format_args!(
                "{at}: duration {shown} s is {}; counted as unknown (further ones are not reported)",
                if d < 0.0 { "negative" } else { "longer than 30 days" }
            ));
        }
        None
    }

    fn summary(&self, t: &Tally, distinct: usize) {
        let [p, tag, tok, m, d] = t.by_source;
        // Tags are counted when there are any: most reports have none.
        let tags = if tag > 0 {
            format!("{tag} by tag, ")
        } else {
            String::new()
        };
        let mut s = format!(
            "{} results: {} mapped ({p} by property, {tags}{tok} by name token, {m} by map file, {d} by default), {} unmapped",
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
}

/// A result no test case was found for: warned about once per name, and kept, as it came, in
/// `--unmapped-out`.
fn unmapped(
    o: &mut Outputs,
    tally: &mut Tally,
    at: At<'_>,
    r: &Line<'_>,
    text: &str,
) -> Result<()> {
    tally.unmapped += 1;
    let test = display_name(r);
    if o.unmapped_names.insert(test.clone()) {
        cli::warn(format_args!("{at}: no test case for \"{test}\""));
    }
    if let Some(w) = o.unmapped.as_mut() {
        w.write_all(text.as_bytes())?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// What of a result line decides its test case.
fn test_of<'a>(r: &'a Line<'a>) -> Test<'a> {
    Test {
        classname: r.classname.as_deref(),
        name: r.name.as_deref(),
        test_case_id: r.test_case_id,
        properties: r
            .properties
            .iter()
            .map(|p| (p.name.as_ref(), p.value.as_ref()))
            .collect(),
    }
}
