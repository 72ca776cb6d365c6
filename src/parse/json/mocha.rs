//! Mocha's JSON reporter: `stats`, then `tests`, `pending`, `failures`, `passes`. One result
//! per entry of `tests`, its status from the list that holds it (passes → passed, failures →
//! failed, pending → skipped); plus each failed hook (in `failures`, not in `tests`) as an
//! error named by its title. The lists come after `tests`, so each test is written, in a
//! compact form (its texts capped; see `spool`), to an unlinked temporary file until the end,
//! and only hashes of the keys stay in memory (16 bytes a test). The lists may come first too:
//! a failure is taken for a hook only if no test has its key at the end.

use std::sync::Arc;

use super::doc::{lenient, Ctx, Doc, LastSuites, Raw, Text, Want};
use super::split::document;
use super::spool::{Records, Spool};

use crate::error::Result;
use crate::parse::report::Report;
use crate::record::{Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "mocha";

/// A test of `tests`, or a hook of `failures`, as kept until the end.
struct Test {
    /// Its key (see [`key`]).
    key: u64,
    title: String,
    /// The full title without the title: the describe blocks.
    suite: String,
    file: Option<String>,
    duration: Option<f64>,
    message: Option<String>,
    stack: Option<String>,
}

/// A test's key (full title and file), hashed; its two low bits are left clear for a status
/// (see [`Keys`]).
fn key(full_title: &str, file: Option<&str>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (full_title, file).hash(&mut h);
    h.finish() & !3
}

/// Keys in a plain list, sorted when first looked up (and again if more came since): 8 bytes
/// a test, where hash tables took about 50 with their spare room. Mocha writes `tests`
/// before the lists, so the tests are sorted once and the statuses once.
#[derive(Default)]
struct Keys {
    keys: Vec<u64>,
    sorted: bool,
}

impl Keys {
    fn push(&mut self, k: u64) {
        self.keys.push(k);
        self.sorted = false;
    }

    /// The first key from `k` up (in the order of the numbers), if it is `k` or `k` with a
    /// status in its low bits.
    fn find(&mut self, k: u64) -> Option<u64> {
        if !self.sorted {
            self.keys.sort_unstable();
            self.sorted = true;
        }
        let i = self.keys.partition_point(|x| *x < k);
        self.keys.get(i).copied().filter(|x| x & !3 == k)
    }
}

/// The statuses the lists give, in a key's low bits: a test in several lists (two tests of the
/// same full title in one file) takes the first of failed, skipped, passed.
const LISTED: [(u64, Status); 3] = [
    (1, Status::Failed),
    (2, Status::Skipped),
    (3, Status::Passed),
];

/// The spool's record of a test (see `Mocha::spool_test` and [`Test::get`]): its key, a byte of
/// flags (the file as the last record's, a duration), the title, the suite, the file, the
/// duration, the message and the stack. Files repeat and full titles end with the title, so
/// neither is written twice.
const SAME_FILE: u8 = 1;
const HAS_DURATION: u8 = 2;

impl Test {
    /// The next test of the spool; `None` at its end.
    fn get(r: &mut Records, last_file: &mut Option<String>) -> Result<Option<Test>> {
        if r.done()? {
            return Ok(None);
        }
        let key = r.u64()?;
        let flags = r.u8()?;
        let title = r.text()?.unwrap_or_default();
        let suite = r.text()?.unwrap_or_default();
        if flags & SAME_FILE == 0 {
            *last_file = r.text()?;
        }
        let duration = match flags & HAS_DURATION {
            0 => None,
            _ => Some(r.f64()?),
        };
        Ok(Some(Test {
            key,
            title,
            suite,
            file: last_file.clone(),
            duration,
            message: r.text()?,
            stack: r.text()?,
        }))
    }
}

struct Mocha<'c> {
    ctx: &'c Ctx,
    /// The tests, in order (see [`Test::put`]).
    spool: Spool,
    last_file: Option<String>,
    tests: Keys,
    /// Keys of the lists, each with its status in the low bits (see [`LISTED`]).
    listed: Keys,
    /// Failures that are no test read so far: the failed hooks, in order (and, when the lists
    /// come before `tests`, failed tests, dropped at the end).
    hooks: Vec<Test>,
    start: Option<String>,
}

pub(super) fn parse(reader: impl std::io::Read, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let mut m = Mocha {
        ctx,
        spool: Spool::new()?,
        last_file: None,
        tests: Keys::default(),
        listed: Keys::default(),
        hooks: Vec::new(),
        start: None,
    };
    let name = report.name.clone();
    document(reader, &mut m, &name, "Mocha JSON")?;
    m.write(report)
}

impl Doc for Mocha<'_> {
    fn required(&self) -> &'static str {
        "tests"
    }
    fn want(&self, path: &str) -> Want {
        match path {
            "stats" => Want::Whole,
            "tests" | "pending" | "failures" | "passes" => Want::Items,
            _ => Want::Skip,
        }
    }
    fn whole(&mut self, raw: &Raw<'_>) -> Result<()> {
        let stats: Stats<'_> = raw.read()?;
        self.start = stats
            .start
            .and_then(|s| crate::date::normalize(&s).ok().flatten());
        Ok(())
    }
    fn item(&mut self, raw: &Raw<'_>) -> Result<()> {
        if raw.path == "tests" {
            let k = self.spool_test(raw.read()?)?;
            self.tests.push(k);
            return Ok(());
        }
        // The lists repeat the tests: only the key is read, and a failure's whole entry when
        // it is a hook (no test has its key).
        let v: Listed<'_> = raw.read()?;
        let k = key(v.full_title.as_deref().unwrap_or(""), v.file.as_deref());
        let status = match raw.path {
            "pending" => Status::Skipped,
            "passes" => Status::Passed,
            _ => Status::Failed,
        };
        let code = LISTED
            .iter()
            .find(|(_, s)| *s == status)
            .map_or(0, |(c, _)| *c);
        self.listed.push(k | code);
        if status == Status::Failed && self.tests.find(k).is_none() {
            let hook = self.test(raw.read()?);
            self.hooks.push(hook);
        }
        Ok(())
    }
}

/// An entry of `pending`, `failures` or `passes`, for its key.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listed<'a> {
    #[serde(borrow)]
    full_title: Option<Text<'a>>,
    #[serde(borrow)]
    file: Option<Text<'a>>,
}

#[derive(serde::Deserialize)]
struct Stats<'a> {
    #[serde(borrow)]
    start: Option<Text<'a>>,
}

/// An entry of `tests`, `pending`, `failures` or `passes`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    #[serde(borrow)]
    title: Option<Text<'a>>,
    #[serde(borrow)]
    full_title: Option<Text<'a>>,
    #[serde(borrow)]
    file: Option<Text<'a>>,
    duration: Option<f64>,
    #[serde(default, deserialize_with = "lenient")]
    err: Option<Failure>,
}

#[derive(serde::Deserialize)]
struct Failure {
    message: Option<String>,
    stack: Option<String>,
}

impl Mocha<'_> {
    /// Writes a test of `tests` to the spool, from the document's own strings; its key.
    fn spool_test(&mut self, v: Entry<'_>) -> Result<u64> {
        let title = v.title.as_deref().unwrap_or("");
        let full_title = v.full_title.as_deref().unwrap_or("");
        let suite = full_title.strip_suffix(title).map_or("", str::trim_end);
        let file = v.file.as_deref();
        let k = key(full_title, file);
        let same = file.is_some() && self.last_file.as_deref() == file;
        let duration = v.duration.map(|ms| ms / 1000.0);
        let flags = if same { SAME_FILE } else { 0 } | duration.map_or(0, |_| HAS_DURATION);
        let spool = &mut self.spool;
        spool.u64(k)?;
        spool.u8(flags)?;
        spool.text(Some(title))?;
        spool.text(Some(suite))?;
        if !same {
            spool.text(file)?;
            self.last_file = file.map(str::to_string);
        }
        if let Some(d) = duration {
            spool.f64(d)?;
        }
        let err = v.err.unwrap_or(Failure {
            message: None,
            stack: None,
        });
        spool.text(err.message.and_then(|m| self.ctx.message(&m)).as_deref())?;
        spool.text(err.stack.and_then(|m| self.ctx.text(m)).as_deref())?;
        Ok(k)
    }

    fn test(&self, v: Entry<'_>) -> Test {
        let err = v.err.unwrap_or(Failure {
            message: None,
            stack: None,
        });
        let title = v.title.unwrap_or_default();
        let full_title = v.full_title.unwrap_or_default();
        let suite = full_title.strip_suffix(&*title).map(str::trim_end);
        Test {
            key: key(&full_title, v.file.as_deref()),
            suite: suite.unwrap_or("").to_string(),
            title: title.0.into_owned(),
            file: v.file.map(|f| f.0.into_owned()),
            duration: v.duration.map(|ms| ms / 1000.0),
            message: err.message.and_then(|m| self.ctx.message(&m)),
            stack: err.stack.and_then(|m| self.ctx.text(m)),
        }
    }

    fn write(mut self, report: &mut Report<'_>) -> Result<()> {
        let mut records = self.spool.read()?;
        let mut last_file = None;
        let mut last = LastSuites::default();
        while let Some(t) = Test::get(&mut records, &mut last_file)? {
            let listed = self.listed.find(t.key).map(|k| k & 3);
            let status = match LISTED.iter().find(|(c, _)| Some(*c) == listed) {
                Some((_, s)) => *s,
                // In no list: by its own error.
                None if t.message.is_some() => Status::Failed,
                None if t.duration.is_none() => Status::Skipped,
                None => Status::Passed,
            };
            write_one(t, status, self.start.as_deref(), &mut last, report)?;
        }
        let hooks = std::mem::take(&mut self.hooks);
        for h in hooks
            .into_iter()
            .filter(|h| self.tests.find(h.key).is_none())
        {
            write_one(h, Status::Error, self.start.as_deref(), &mut last, report)?;
        }
        Ok(())
    }
}

fn write_one(
    t: Test,
    status: Status,
    start: Option<&str>,
    last: &mut LastSuites,
    report: &mut Report<'_>,
) -> Result<()> {
    let suites = last.of(t
        .file
        .as_deref()
        .into_iter()
        .chain((!t.suite.is_empty()).then_some(t.suite.as_str())));
    let mut r = TestResult::in_suites(FORMAT, &report.name, suites, Arc::from([]), None);
    r.classname = Some(if t.suite.is_empty() {
        t.file.clone().unwrap_or_default()
    } else {
        t.suite
    });
    r.name = Some(t.title);
    r.file = t.file;
    r.status = status;
    r.outcome = Some(
        match status {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "pending",
            _ => "failed hook",
        }
        .into(),
    );
    r.duration = t.duration;
    r.start = start.map(str::to_string);
    if status != Status::Passed {
        r.message = t.message;
        r.details = t.stack;
    }
    super::doc::emit(report, &r)
}
