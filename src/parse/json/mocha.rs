//! Mocha's JSON reporter: `stats`, then `tests`, `pending`, `failures`, `passes`. One result
//! per entry of `tests`, its status from the list that holds it (passes → passed, failures →
//! failed, pending → skipped); plus each failed hook (in `failures`, not in `tests`) as an
//! error named by its title. The lists come after `tests`, so each test is written, in a
//! compact form (its texts capped; see `spool`), to an unlinked temporary file until the end, and only a
//! hash of its key stays in memory: memory stays flat however large the report.

use std::collections::HashMap;
use std::sync::Arc;

use super::doc::{lenient, Ctx, Doc, Raw, Text, Want};
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

/// A test's key (full title and file), hashed.
fn key(full_title: &str, file: Option<&str>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (full_title, file).hash(&mut h);
    h.finish()
}

/// The maps of keys, which are hashes already: hashing them again took a twentieth of the time.
type Keyed = std::hash::BuildHasherDefault<Unhashed>;

#[derive(Default)]
struct Unhashed(u64);

impl std::hash::Hasher for Unhashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The spool's record of a test: its key, a byte of flags (the file as the last record's, a
/// duration, a message, a stack), the texts, and the duration. Files repeat and full titles
/// end with the title, so neither is written twice: the record is half the size of the JSON.
const SAME_FILE: u8 = 1;
const HAS_DURATION: u8 = 2;

impl Test {
    fn put(&self, spool: &mut Spool, last_file: &mut Option<String>) -> Result<()> {
        let same = self.file.is_some() && *last_file == self.file;
        let flags = if same { SAME_FILE } else { 0 }
            | if self.duration.is_some() {
                HAS_DURATION
            } else {
                0
            };
        spool.u64(self.key)?;
        spool.u8(flags)?;
        spool.text(Some(&self.title))?;
        spool.text(Some(&self.suite))?;
        if !same {
            spool.text(self.file.as_deref())?;
            last_file.clone_from(&self.file);
        }
        if let Some(d) = self.duration {
            spool.f64(d)?;
        }
        spool.text(self.message.as_deref())?;
        spool.text(self.stack.as_deref())
    }

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
    tests: std::collections::HashSet<u64, Keyed>,
    status: HashMap<u64, Status, Keyed>,
    /// Failures that are not tests: the failed hooks, in order.
    hooks: Vec<Test>,
    start: Option<String>,
}

pub(super) fn parse(reader: impl std::io::Read, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let mut m = Mocha {
        ctx,
        spool: Spool::new()?,
        last_file: None,
        tests: Default::default(),
        status: HashMap::default(),
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
            let t = self.test(raw.read()?);
            self.tests.insert(t.key);
            return t.put(&mut self.spool, &mut self.last_file);
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
        self.status.insert(k, status);
        if status == Status::Failed && !self.tests.contains(&k) {
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
            message: err.message.and_then(|m| self.ctx.text(m)),
            stack: err.stack.and_then(|m| self.ctx.text(m)),
        }
    }

    fn write(self, report: &mut Report<'_>) -> Result<()> {
        let mut records = self.spool.read()?;
        let mut last_file = None;
        while let Some(t) = Test::get(&mut records, &mut last_file)? {
            let status = match self.status.get(&t.key) {
                Some(s) => *s,
                // In no list: by its own error.
                None if t.message.is_some() => Status::Failed,
                None if t.duration.is_none() => Status::Skipped,
                None => Status::Passed,
            };
            write_one(&t, status, self.start.as_deref(), report)?;
        }
        for h in &self.hooks {
            write_one(h, Status::Error, self.start.as_deref(), report)?;
        }
        Ok(())
    }
}

fn write_one(t: &Test, status: Status, start: Option<&str>, report: &mut Report<'_>) -> Result<()> {
    let suite = t.suite.clone();
    let mut suites: Vec<String> = t.file.iter().cloned().collect();
    if !suite.is_empty() {
        suites.push(suite.clone());
    }
    let mut r = TestResult::in_suites(FORMAT, &report.name, Arc::from(suites), Arc::from([]), None);
    r.classname = Some(if suite.is_empty() {
        t.file.clone().unwrap_or_default()
    } else {
        suite
    });
    r.name = Some(t.title.clone());
    r.file = t.file.clone();
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
        r.message = t.message.clone();
        r.details = t.stack.clone();
    }
    super::doc::emit(report, &r)
}
