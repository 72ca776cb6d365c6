//! Mocha's JSON reporter: `stats`, then `tests`, `pending`, `failures`, `passes`. One result
//! per entry of `tests`, its status from the list that holds it (passes → passed, failures →
//! failed, pending → skipped); plus each failed hook (in `failures`, not in `tests`) as an
//! error named by its title. The lists come after `tests`, so each test is written, in a
//! compact form (its texts capped), to an unlinked temporary file until the end, and only a
//! hash of its key stays in memory: memory stays flat however large the report.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use super::doc::{lenient, Ctx, Doc, Raw, Text, Want};
use super::split::document;

use crate::error::{Error, Result};
use crate::parse::report::Report;
use crate::record::{Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "mocha";

/// A test of `tests`, or a hook of `failures`, as kept until the end.
struct Test {
    title: String,
    full_title: String,
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

/// The spool's record of a test: each text as its length (a `u32`, `u32::MAX` for none) and
/// its bytes, the duration as an `f64` (NaN for none). A JSON line each cost a fifth of the
/// time, in escaping and reading back.
impl Test {
    fn put(&self, w: &mut impl Write) -> std::io::Result<()> {
        put_text(w, Some(&self.title))?;
        put_text(w, Some(&self.full_title))?;
        put_text(w, self.file.as_deref())?;
        w.write_all(&self.duration.unwrap_or(f64::NAN).to_le_bytes())?;
        put_text(w, self.message.as_deref())?;
        put_text(w, self.stack.as_deref())
    }

    /// The next test of the spool; `None` at its end.
    fn get(r: &mut impl std::io::BufRead) -> std::io::Result<Option<Test>> {
        if r.fill_buf()?.is_empty() {
            return Ok(None);
        }
        let title = get_text(r)?.unwrap_or_default();
        let full_title = get_text(r)?.unwrap_or_default();
        let file = get_text(r)?;
        let mut d = [0; 8];
        r.read_exact(&mut d)?;
        let duration = Some(f64::from_le_bytes(d)).filter(|d| !d.is_nan());
        Ok(Some(Test {
            title,
            full_title,
            file,
            duration,
            message: get_text(r)?,
            stack: get_text(r)?,
        }))
    }
}

fn put_text(w: &mut impl Write, s: Option<&str>) -> std::io::Result<()> {
    let Some(s) = s else {
        return w.write_all(&u32::MAX.to_le_bytes());
    };
    // A text is at most a block of the document: far below 4 GB.
    let s = s
        .get(..s.len().min(u32::MAX as usize - 1))
        .unwrap_or_default();
    w.write_all(&(s.len() as u32).to_le_bytes())?;
    w.write_all(s.as_bytes())
}

fn get_text(r: &mut impl std::io::Read) -> std::io::Result<Option<String>> {
    let mut n = [0; 4];
    r.read_exact(&mut n)?;
    let n = u32::from_le_bytes(n);
    if n == u32::MAX {
        return Ok(None);
    }
    let mut b = vec![0; n as usize];
    r.read_exact(&mut b)?;
    String::from_utf8(b)
        .map(Some)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

struct Mocha<'c> {
    ctx: &'c Ctx,
    /// The tests, in order (see [`Test::put`]).
    spool: std::io::BufWriter<std::fs::File>,
    tests: std::collections::HashSet<u64, Keyed>,
    status: HashMap<u64, Status, Keyed>,
    /// Failures that are not tests: the failed hooks, in order.
    hooks: Vec<Test>,
    start: Option<String>,
}

pub(super) fn parse(reader: impl std::io::Read, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let spool = tempfile::tempfile().map_err(|e| {
        Error::Usage(format!(
            "cannot make a temporary file: {}",
            crate::cli::io_reason(&e)
        ))
    })?;
    let mut m = Mocha {
        ctx,
        spool: std::io::BufWriter::new(spool),
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
        let path = raw.path;
        let v: Entry<'_> = raw.read()?;
        let k = key(v.full_title.as_deref().unwrap_or(""), v.file.as_deref());
        match path {
            "tests" => {
                self.tests.insert(k);
                self.test(v).put(&mut self.spool).map_err(spool_error)?;
            }
            "pending" => {
                self.status.insert(k, Status::Skipped);
            }
            "passes" => {
                self.status.insert(k, Status::Passed);
            }
            _ => {
                self.status.insert(k, Status::Failed);
                if !self.tests.contains(&k) {
                    let hook = self.test(v);
                    self.hooks.push(hook);
                }
            }
        }
        Ok(())
    }
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

fn spool_error(e: std::io::Error) -> Error {
    Error::Usage(format!(
        "cannot use the temporary file: {}",
        crate::cli::io_reason(&e)
    ))
}

impl Mocha<'_> {
    fn test(&self, v: Entry<'_>) -> Test {
        let err = v.err.unwrap_or(Failure {
            message: None,
            stack: None,
        });
        Test {
            title: v.title.unwrap_or_default().0.into_owned(),
            full_title: v.full_title.unwrap_or_default().0.into_owned(),
            file: v.file.map(|f| f.0.into_owned()),
            duration: v.duration.map(|ms| ms / 1000.0),
            message: err.message.and_then(|m| self.ctx.text(m)),
            stack: err.stack.and_then(|m| self.ctx.text(m)),
        }
    }

    fn write(self, report: &mut Report<'_>) -> Result<()> {
        use std::io::Seek;
        let mut f = self
            .spool
            .into_inner()
            .map_err(|e| spool_error(e.into_error()))?;
        f.rewind().map_err(spool_error)?;
        let mut spool = std::io::BufReader::with_capacity(1 << 16, f);
        while let Some(t) = Test::get(&mut spool).map_err(spool_error)? {
            let status = match self.status.get(&key(&t.full_title, t.file.as_deref())) {
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
    let suite = t
        .full_title
        .strip_suffix(&t.title)
        .map(str::trim_end)
        .unwrap_or("")
        .to_string();
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
