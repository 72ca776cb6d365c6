//! `spira-parse`: report files in, **result** lines out. One module per format; detection,
//! directory walking and output are shared here.

mod allure;
mod csv;
mod files;
mod input;
mod json;
mod junit;
mod nunit2;
mod nunit3;
mod report;
mod robot;
mod stream;
mod suites;
mod tap;
mod testng;
mod tokens;
mod trx;
mod values;
mod walk;
mod xml;
mod xunit;

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Parser, ValueEnum};
use quick_xml::events::Event;

use crate::cli::{self, Input};
use crate::error::{Error, Result};
use report::{Counts, Report};
use xml::Root;

const EXAMPLES: &str = "\
Examples:
  spira-parse target/surefire-reports/ > results.jsonl
  spira-parse --keep-going reports/*.xml results.csv | spira-map --map ids.csv
  spira-parse --stats report.xml > /dev/null";

/// Reads test reports (JUnit, NUnit 2 and 3, xUnit.net, TRX, TestNG, CSV; the JSON of Go, Jest
/// and Vitest, Mocha, Dart, RSpec, Playwright and CTRF) and writes one JSON result line per
/// test case.
#[derive(Parser, Debug)]
#[command(name = "spira-parse", version = crate::cli::VERSION, after_help = EXAMPLES)]
pub struct Args {
    /// Report files, or directories to search for *.xml, *.trx and *.csv files (recursively,
    /// in sorted order; a file reached twice is read once; symlinks to directories, FIFOs and
    /// devices found there are skipped). `-` or nothing means standard input.
    #[arg(value_name = "FILE|DIR|-")]
    pub(crate) paths: Vec<PathBuf>,

    /// Read every input as this format instead of detecting it from the content.
    #[arg(long, value_enum)]
    pub(crate) format: Option<Format>,

    /// After a bad file, or a path that cannot be read, report it and go on with the next one
    /// (exit 1 at the end; 2 if a path could not be read).
    #[arg(long)]
    pub(crate) keep_going: bool,

    /// Cap on each text field (message, stack trace, output), in bytes; K, M and G suffixes
    /// are accepted. Longer text is cut with a visible marker.
    #[arg(long, value_name = "BYTES", default_value = "1M", value_parser = cli::parse_size)]
    pub(crate) max_field_bytes: usize,

    /// CSV: read FIELD from the column headed HEADER (fields: name, classname, suite, status,
    /// duration, duration_ms, message, details, start, test_case_id). Repeatable.
    #[arg(long = "column", value_name = "FIELD=HEADER", value_parser = parse_column)]
    pub(crate) columns: Vec<(String, String)>,

    /// CSV: the field separator (default: guessed from the header among , ; tab |).
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub(crate) delimiter: Option<u8>,

    /// Print counts per status on stderr at the end.
    #[arg(long)]
    pub(crate) stats: bool,

    /// Threads to use (default: the number of cores, at most 8): N files are parsed at once,
    /// and a large XML report gets a reader thread of its own while a core is free; 1 does
    /// everything on one thread (for a machine whose cores are busy with the rest of a
    /// pipeline). The output is the same, in the same order, whatever N.
    #[arg(short = 'j', long, value_name = "N",
          value_parser = clap::value_parser!(u8).range(1..=64))]
    pub(crate) threads: Option<u8>,
}

impl Args {
    /// The threads to use: `-j`, or the cores (at most 8).
    fn jobs(&self) -> usize {
        match self.threads {
            Some(n) => usize::from(n),
            None => std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
        }
    }
}

/// The report formats `spira-parse` reads.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// JUnit XML and its dialects.
    Junit,
    /// NUnit 3 (`<test-run>`).
    Nunit3,
    /// NUnit 2 (`<test-results>`, or a bare `<test-suite>`).
    Nunit2,
    /// xUnit.net v2 and v3 (`<assemblies>`).
    Xunit2,
    /// xUnit.net v1 (`<assembly>`).
    Xunit1,
    /// VSTest TRX (`<TestRun>`).
    Trx,
    /// TestNG (`<testng-results>`).
    Testng,
    /// CSV with a header row.
    Csv,
    /// `go test -json` (test2json) events, also as saved by gotestsum.
    Go,
    /// `jest --json`, Vitest's JSON reporter, or Jest's reporter shape.
    Jest,
    /// Mocha's JSON reporter.
    Mocha,
    /// `dart test` / `flutter test` `--reporter json` events.
    Dart,
    /// RSpec's JSON formatter.
    Rspec,
    /// Playwright's JSON reporter.
    Playwright,
    /// Common Test Report Format (CTRF) JSON.
    Ctrf,
    /// Cucumber JSON (cucumber-ruby, cucumber-js, cucumber-jvm).
    Cucumber,
    /// TAP 12, 13 and 14 (Perl, node:test, node-tap, pytest-tap).
    Tap,
    /// Robot Framework's output.xml (`<robot>`), RF 3.2 to 7.
    Robot,
    /// Allure results: an allure-results directory, or one `*-result.json`.
    Allure,
}

impl Format {
    /// Whether this is one of the JSON formats.
    fn is_json(self) -> bool {
        self.json().is_some()
    }

    /// The JSON format this is, if it is one.
    fn json(self) -> Option<json::Format> {
        Some(match self {
            Format::Go => json::Format::Go,
            Format::Jest => json::Format::Jest,
            Format::Mocha => json::Format::Mocha,
            Format::Dart => json::Format::Dart,
            Format::Rspec => json::Format::Rspec,
            Format::Playwright => json::Format::Playwright,
            Format::Ctrf => json::Format::Ctrf,
            Format::Cucumber => json::Format::Cucumber,
            Format::Allure => json::Format::Allure,
            _ => return None,
        })
    }

    /// The format of a JSON format.
    fn of_json(f: json::Format) -> Format {
        match f {
            json::Format::Go => Format::Go,
            json::Format::Jest => Format::Jest,
            json::Format::Mocha => Format::Mocha,
            json::Format::Dart => Format::Dart,
            json::Format::Rspec => Format::Rspec,
            json::Format::Playwright => Format::Playwright,
            json::Format::Ctrf => Format::Ctrf,
            json::Format::Cucumber => Format::Cucumber,
            json::Format::Allure => Format::Allure,
        }
    }

    /// The format an XML root element names.
    pub(crate) fn of_root(name: &str) -> Option<Format> {
        Some(match name {
            "testsuites" | "testsuite" => Format::Junit,
            "test-run" => Format::Nunit3,
            "test-results" | "test-suite" => Format::Nunit2,
            "assemblies" => Format::Xunit2,
            "assembly" => Format::Xunit1,
            "TestRun" => Format::Trx,
            "testng-results" => Format::Testng,
            "robot" | "suite" => Format::Robot,
            _ => return None,
        })
    }
}

fn parse_column(s: &str) -> std::result::Result<(String, String), String> {
    match s.split_once('=') {
        Some((f, h)) if !f.trim().is_empty() && !h.trim().is_empty() => {
            Ok((f.trim().to_string(), h.trim().to_string()))
        }
        _ => Err(format!("'{s}' is not FIELD=HEADER")),
    }
}

fn parse_delimiter(s: &str) -> std::result::Result<u8, String> {
    match s {
        "\\t" | "tab" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(format!("'{s}' is not a single ASCII character")),
    }
}

/// The entry point of `spira-parse`.
pub fn run(args: Args) -> Result<()> {
    for (field, header) in &args.columns {
        csv::known_field(field, header)?;
    }
    let walk::Found {
        entries,
        unreadable,
    } = walk::expand(&args.paths, args.keep_going)?;
    let tally = Tally {
        unreadable,
        keep_going: args.keep_going,
        ..Tally::default()
    };
    let jobs = args.jobs();
    let tally = files::parse_all(
        &entries,
        jobs,
        files::Out::stdout(),
        tally,
        |_, entry, out, counts, core| parse_input(entry, &args, out, counts, core.free()),
    );
    if args.stats {
        let c = &tally.counts.by_status;
        cli::info(format_args!(
            "{} results from {} file{}: {} passed, {} failed, {} error, {} skipped, {} warning{}",
            tally.counts.total(),
            entries.len(),
            if entries.len() == 1 { "" } else { "s" },
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            match (tally.failed, tally.unreadable) {
                (0, 0) => String::new(),
                (f, 0) => format!("; {f} file(s) rejected"),
                (f, u) => format!("; {f} file(s) rejected, {u} path(s) unreadable"),
            }
        ));
    }
    if let Some(e) = tally.error {
        return Err(e);
    }
    if tally.unreadable > 0 {
        return Err(Error::Exit(crate::error::EXIT_USAGE));
    }
    if tally.failed > 0 {
        return Err(Error::Exit(crate::error::EXIT_DATA));
    }
    Ok(())
}

/// What the inputs came to, taken at each input's turn.
#[derive(Default)]
struct Tally {
    counts: Counts,
    failed: usize,
    unreadable: usize,
    keep_going: bool,
    /// The error that stopped the run.
    error: Option<Error>,
}

impl files::Outcomes for Tally {
    fn take(&mut self, entry: &walk::Entry, done: files::Done) -> bool {
        for (a, b) in self.counts.by_status.iter_mut().zip(done.counts.by_status) {
            *a += b;
        }
        match done.outcome {
            Ok(()) => {}
            // A file a walk found that is no report (a package.json, a pom.xml): a note.
            Err(Error::Data(msg)) if entry.walked && msg.contains(NOT_A_REPORT) => {
                cli::info(format_args!("{msg} (skipped)"));
            }
            Err(Error::Data(msg)) if self.keep_going => {
                cli::error(format_args!("{msg}"));
                self.failed += 1;
            }
            // A file that cannot be opened or read: reported, and the exit code says so.
            Err(Error::Usage(msg)) if self.keep_going => {
                cli::error(format_args!("{msg} (skipped: --keep-going)"));
                self.unreadable += 1;
            }
            Err(e) => {
                self.error = Some(e);
                return false;
            }
        }
        true
    }
}

/// The smallest file read with a reader thread: below it, starting a thread costs more than
/// the second core saves.
const READ_AHEAD_BYTES: u64 = 1 << 20;

/// What the error of an input that is no report says: a walk passes such a file over.
const NOT_A_REPORT: &str = ": not a supported report: ";

/// What the first bytes of an input look like.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Sniffed {
    /// Markup: an XML report of some kind.
    Xml,
    /// A CSV header naming a test and a status column.
    Csv,
    /// Nothing at all.
    Empty,
    /// Only white space.
    Blank,
    /// JSON.
    Json,
    /// TAP: a version line, a plan or a test point first.
    Tap,
    /// Binary data.
    Binary,
    /// Text that is none of the above.
    Text,
}

/// Guesses what an input is from its first bytes.
pub(crate) fn sniff(head: &[u8], delimiter: Option<u8>, columns: &[(String, String)]) -> Sniffed {
    let (text, skip) = head_text(head);
    let t = text.trim_start();
    if head.len() == skip {
        return Sniffed::Empty;
    }
    if t.is_empty() {
        return Sniffed::Blank;
    }
    if t.starts_with('<') {
        return Sniffed::Xml;
    }
    // One NUL byte does not make a file binary (it is replaced, with a warning); many do.
    if controls(t) * 20 > t.len() - continuation_bytes(t) {
        return Sniffed::Binary;
    }
    if t.starts_with('{') || t.starts_with('[') {
        return Sniffed::Json;
    }
    if tap::looks_like_tap(t) {
        return Sniffed::Tap;
    }
    let first = t.lines().next().unwrap_or("");
    if csv::looks_like_header(first, delimiter, columns) {
        return Sniffed::Csv;
    }
    Sniffed::Text
}

/// The control characters of `t` but tab, CR and LF: C0 and DEL as bytes, C1 (U+0080 to
/// U+009F) as their two bytes in UTF-8. Counted on bytes, as chars cost a decoding each.
fn controls(t: &str) -> usize {
    let b = t.as_bytes();
    let c0 = b
        .iter()
        .filter(|&&c| (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r')) || c == 0x7f)
        .count();
    let c1 = b
        .windows(2)
        .filter(|w| w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1]))
        .count();
    c0 + c1
}

/// The bytes of `t` that continue a character: its length in chars is the rest.
fn continuation_bytes(t: &str) -> usize {
    t.bytes().filter(|b| b & 0xc0 == 0x80).count()
}

/// The head of an input decoded as its encoding says; the length of its byte order mark.
fn head_text(head: &[u8]) -> (std::borrow::Cow<'_, str>, usize) {
    let (enc, skip) = input::sniff(head);
    (enc.decode_without_bom_handling(&head[skip..]).0, skip)
}

/// The delimiter of a CSV report, guessed from its header line.
fn head_delimiter(head: &[u8]) -> u8 {
    let (text, _) = head_text(head);
    csv::guess_delimiter(text.lines().next().unwrap_or(""))
}

/// Reads one input; `spare`: a core is free for a reader thread.
fn parse_input(
    entry: &walk::Entry,
    args: &Args,
    out: &mut cli::LineOut,
    counts: &mut Counts,
    spare: bool,
) -> Result<()> {
    let input = &entry.input;
    if let Some(dir) = input
        .path
        .as_deref()
        .filter(|_| entry.kind == walk::Kind::Dir)
    {
        let mut report = Report {
            name: Arc::from(input.name.as_str()),
            dir: Some(dir),
            out,
            counts,
            shared: Default::default(),
        };
        let jobs = if spare { args.jobs() } else { 1 };
        return allure::parse_dir(dir, &mut report, args.max_field_bytes, jobs);
    }
    parse_stream(
        input,
        entry.kind,
        input.open_raw()?,
        args,
        out,
        counts,
        spare,
    )
}

/// Parses one report held in memory, writing result lines to `out`; returns how many. For
/// fuzzing and for programs that embed the parsers.
pub fn parse_bytes(data: &[u8], args: &Args, out: Box<dyn Write>) -> Result<u64> {
    let mut out = cli::LineOut::new(out);
    let mut counts = Counts::default();
    let input = Input {
        name: "<memory>".into(),
        path: None,
        spooled: None,
    };
    let r = parse_stream(
        &input,
        walk::Kind::File(data.len() as u64),
        Box::new(Cursor::new(data.to_vec())),
        args,
        &mut out,
        &mut counts,
        args.jobs() > 1,
    );
    out.flush()?;
    r.map(|()| counts.total())
}

/// How much of an input is read to tell what it is.
const HEAD_BYTES: usize = 8192;

/// Parses reports held in memory as the inputs of one run, through the same workers as files
/// (`-j` of `args`), each input's result lines written to a new handle from `out`; returns the
/// results written and the inputs refused (with `--keep-going`), or the error that stopped the
/// run. For the fuzz target that holds the workers' output to one thread's order.
pub fn parse_many(
    docs: &[Vec<u8>],
    args: &Args,
    out: Box<dyn Fn() -> Box<dyn Write> + Send + Sync>,
) -> Result<(u64, usize)> {
    let entries: Vec<walk::Entry> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| walk::Entry {
            input: Input {
                name: format!("<memory {i}>"),
                path: None,
                spooled: None,
            },
            walked: false,
            kind: walk::Kind::File(d.len() as u64),
        })
        .collect();
    let tally = Tally {
        keep_going: args.keep_going,
        ..Tally::default()
    };
    let out = files::Out {
        open: out,
        eager: false,
    };
    let tally = files::parse_all(
        &entries,
        args.jobs(),
        out,
        tally,
        |i, entry, out, counts, core| {
            let doc = docs.get(i).cloned().unwrap_or_default();
            let raw = Box::new(Cursor::new(doc));
            parse_stream(
                &entry.input,
                entry.kind,
                raw,
                args,
                out,
                counts,
                core.free(),
            )
        },
    );
    match tally.error {
        Some(e) => Err(e),
        None => Ok((tally.counts.total(), tally.failed)),
    }
}

/// The first 8 KiB of an input (less if it is shorter), to tell what it is, and whether the
/// input ended within them. Reading stops sooner where `enough` says the head read so far
/// already tells a line-based stream (a pipe from `go test -json` must not wait for 8 KiB).
fn read_head(
    raw: &mut dyn Read,
    name: &str,
    enough: impl Fn(&[u8]) -> bool,
) -> Result<(Vec<u8>, bool)> {
    let mut head = vec![0u8; HEAD_BYTES];
    let mut n = 0;
    let ended = loop {
        let Some(rest) = head.get_mut(n..).filter(|r| !r.is_empty()) else {
            break false;
        };
        match cli::read_some(raw, rest, name)? {
            0 => break true,
            k => n += k,
        }
        if enough(head.get(..n).unwrap_or_default()) {
            break false;
        }
    };
    head.truncate(n);
    Ok((head, ended))
}

/// Whether the whole lines of `head` already tell a report read line by line (go test -json,
/// dart --reporter json, TAP), as the whole head would: its format is decided by its first
/// lines. With `--format` naming one of them, any byte will do.
fn streams(head: &[u8], format: Option<Format>) -> bool {
    if let Some(f) = format {
        return matches!(f, Format::Go | Format::Dart | Format::Tap) && !head.is_empty();
    }
    let Some(end) = memchr::memrchr(b'\n', head) else {
        return false;
    };
    let whole = head.get(..=end).unwrap_or_default();
    match sniff(whole, None, &[]) {
        Sniffed::Tap => true,
        Sniffed::Json | Sniffed::Text => matches!(
            json::detect(whole),
            Some(json::Format::Go | json::Format::Dart)
        ),
        _ => false,
    }
}

/// The error for an input that is none of the formats.
fn unsupported(name: &str, sniffed: &Sniffed) -> Error {
    let what = match sniffed {
        Sniffed::Empty => "the file is empty",
        Sniffed::Blank => "the file holds only white space",
        Sniffed::Json => {
            "it is JSON, but none of the JSON formats (go, jest, mocha, dart, rspec, playwright, ctrf, cucumber, allure)"
        }
        Sniffed::Binary => "it looks like binary data",
        _ => "it looks like plain text, not XML, TAP, nor a CSV with name and status columns",
    };
    Error::Data(format!("{name}: not a supported report: {what}"))
}

fn parse_stream(
    input: &Input,
    kind: walk::Kind,
    mut raw: Box<dyn Read + Send>,
    args: &Args,
    out: &mut cli::LineOut,
    counts: &mut Counts,
    spare: bool,
) -> Result<()> {
    let waits = input.may_wait();
    let (head, ended) = read_head(&mut *raw, &input.name, |h| waits && streams(h, args.format))?;
    if ended {
        // The input has ended already: nothing is read again (a small file is read once).
        raw = Box::new(std::io::empty());
    }
    let sniffed = sniff(&head, args.delimiter, &args.columns);
    let dir = input.path.as_deref().and_then(Path::parent);
    let mut report = Report {
        name: Arc::from(input.name.as_str()),
        dir,
        out,
        counts,
        shared: Default::default(),
    };
    let json = matches!(sniffed, Sniffed::Json | Sniffed::Text)
        .then(|| json::detect(&head))
        .flatten()
        .map(Format::of_json);
    let format = match (args.format, &sniffed) {
        (Some(f), _) => f,
        (None, Sniffed::Xml) => Format::Junit, // the root element decides, below
        (None, Sniffed::Csv) => Format::Csv,
        (None, Sniffed::Tap) => Format::Tap,
        (None, Sniffed::Json | Sniffed::Text) if json.is_some() => json.unwrap_or(Format::Csv),
        (None, other) => return Err(unsupported(&input.name, other)),
    };
    let delimiter = (format == Format::Csv).then(|| head_delimiter(&head));
    let reader = Cursor::new(head).chain(raw);
    if format == Format::Allure {
        return allure::parse_file(reader, &mut report, args.max_field_bytes);
    }
    if let Some(f) = format.json() {
        return json::parse(f, reader, &mut report, args.max_field_bytes);
    }
    if format == Format::Tap {
        return tap::parse(reader, &mut report, args.max_field_bytes);
    }
    match format {
        Format::Csv => {
            let opts = csv::Options {
                delimiter: args.delimiter.or(delimiter).unwrap_or(b','),
                columns: args.columns.clone(),
                max_field_bytes: args.max_field_bytes,
            };
            csv::parse(reader, &opts, &mut report)
        }
        _ => {
            let reopen = |path: &Path| -> Result<xml::XmlDoc> {
                let raw = Input::new(path).open_raw()?;
                xml::XmlDoc::new(raw, &input.name, args.max_field_bytes)
            };
            let reopen = input.path.as_deref().map(|p| move || reopen(p));
            let reopen = reopen
                .as_ref()
                .map(|f| f as &dyn Fn() -> Result<xml::XmlDoc>);
            parse_xml(reader, args, &mut report, reopen, kind, spare)
        }
    }
}

fn parse_xml(
    reader: impl Read + Send + 'static,
    args: &Args,
    report: &mut Report<'_>,
    reopen: Option<&dyn Fn() -> Result<xml::XmlDoc>>,
    kind: walk::Kind,
    spare: bool,
) -> Result<()> {
    let mut doc = xml::XmlDoc::new(reader, &report.name, args.max_field_bytes)?;
    let root = loop {
        let (e, empty) = match doc.event()? {
            Event::Start(e) => (e.into_owned(), false),
            Event::Empty(e) => (e.into_owned(), true),
            Event::Eof => {
                return Err(Error::Data(format!(
                    "{}: not a supported report: no XML element in the file",
                    report.name
                )))
            }
            Event::Text(t) if !t.trim().is_empty() => {
                return Err(Error::Data(format!(
                    "{}: not a supported report: text before the first XML element",
                    doc.here()
                )))
            }
            _ => continue,
        };
        let attrs = doc.ctx.attrs(&e, &doc.reader)?;
        break Root {
            name: e.name().0.to_string(),
            attrs,
            empty,
        };
    };
    let format = match (args.format, Format::of_root(&root.name)) {
        (Some(f), detected) if f == Format::Csv || f.is_json() => detected,
        (None, detected) => detected,
        (forced, _) => forced,
    };
    // TRX is read twice, and skips sections by searching the raw input: one thread. A small
    // file is read faster on one thread than a thread is started.
    let large = match kind {
        walk::Kind::File(len) => len >= READ_AHEAD_BYTES,
        _ => true,
    };
    if spare && large && matches!(format, Some(f) if f != Format::Trx) {
        // A regular file never keeps a read waiting; a pipe may.
        doc.read_ahead(kind == walk::Kind::Stream);
    }
    match format {
        Some(Format::Junit) => junit::parse(&mut doc, root, report),
        Some(Format::Nunit3) => nunit3::parse(&mut doc, root, report),
        Some(Format::Nunit2) => nunit2::parse(&mut doc, root, report),
        Some(Format::Xunit2 | Format::Xunit1) => xunit::parse(&mut doc, root, report),
        Some(Format::Trx) => trx::parse(&mut doc, root, report, reopen),
        Some(Format::Testng) => testng::parse(&mut doc, root, report),
        Some(Format::Robot) => robot::parse(&mut doc, root, report),
        Some(_) | None => Err(Error::Data(format!(
            "{}: not a supported report: XML with root element <{}>{}",
            report.name,
            root.name,
            known_root(&root.name)
                .map(|k| format!(" ({k})"))
                .unwrap_or_default()
        ))),
    }
}

/// Names of XML report formats `spira-parse` recognises but does not read.
fn known_root(name: &str) -> Option<&'static str> {
    Some(match name {
        "TestLog" | "TestResult" => "a Boost.Test log",
        "ResultsSession" => "a Parasoft C++test report",
        "CUNIT_TEST_RUN_REPORT" => "a CUnit report",
        "TestCase" => "a QtTestLib report",
        "Site" => "a CTest dashboard file; use ctest --output-junit",
        "unittest-results" => "a UnitTest++ report",
        "valgrindoutput" => "a Valgrind report",
        "gtester" => "a GTester report",
        "robot" => "a Robot Framework output",
        "testrun" => "an Eclipse test run; use --format junit to read its testcases",
        _ => return None,
    })
}
