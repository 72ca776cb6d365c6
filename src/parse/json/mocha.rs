//! Mocha's JSON reporter: `stats`, then `tests`, `pending`, `failures`, `passes`. One result
//! per entry of `tests`, its status from the list that holds it (passes → passed, failures →
//! failed, pending → skipped); plus each failed hook (in `failures`, not in `tests`) as an
//! error named by its title. The lists come after `tests`, so each test is written, in a
//! compact form (its texts capped), to an unlinked temporary file until the end, and only a
//! hash of its key stays in memory: memory stays flat however large the report.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use serde_json::Value;

use super::doc::{num_of, str_of, Ctx, Doc, Raw, Want};
use super::split::document;

use crate::error::{Error, Result};
use crate::parse::report::Report;
use crate::record::{Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "mocha";

/// A test of `tests`, or a hook of `failures`, as kept until the end.
#[derive(serde::Serialize, serde::Deserialize)]
struct Test {
    title: String,
    full_title: String,
    file: Option<String>,
    duration: Option<f64>,
    message: Option<String>,
    stack: Option<String>,
}

/// A test's key (full title and file), hashed.
fn key(t: &Test) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (&t.full_title, &t.file).hash(&mut h);
    h.finish()
}

struct Mocha<'c> {
    ctx: &'c Ctx,
    /// The tests, one JSON line each, in order.
    spool: std::io::BufWriter<std::fs::File>,
    tests: std::collections::HashSet<u64>,
    status: HashMap<u64, Status>,
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
        status: HashMap::new(),
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
        let stats: Value = raw.read()?;
        self.start = str_of(&stats, "start").and_then(|s| crate::date::normalize(s).ok().flatten());
        Ok(())
    }
    fn item(&mut self, raw: &Raw<'_>) -> Result<()> {
        let path = raw.path;
        let v: Value = raw.read()?;
        let t = self.test(&v);
        let k = key(&t);
        match path {
            "tests" => {
                self.tests.insert(k);
                let line = serde_json::to_string(&t).unwrap_or_default();
                writeln!(self.spool, "{line}").map_err(spool_error)?;
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
                    self.hooks.push(t);
                }
            }
        }
        Ok(())
    }
}

fn spool_error(e: std::io::Error) -> Error {
    Error::Usage(format!(
        "cannot use the temporary file: {}",
        crate::cli::io_reason(&e)
    ))
}

impl Mocha<'_> {
    fn test(&self, v: &Value) -> Test {
        let err = &v["err"];
        Test {
            title: str_of(v, "title").unwrap_or("").to_string(),
            full_title: str_of(v, "fullTitle").unwrap_or("").to_string(),
            file: str_of(v, "file").map(str::to_string),
            duration: num_of(v, "duration").map(|ms| ms / 1000.0),
            message: str_of(err, "message").and_then(|m| self.ctx.text(m)),
            stack: str_of(err, "stack").and_then(|m| self.ctx.text(m)),
        }
    }

    fn write(self, report: &mut Report<'_>) -> Result<()> {
        use std::io::{BufRead, Seek};
        let mut f = self
            .spool
            .into_inner()
            .map_err(|e| spool_error(e.into_error()))?;
        f.rewind().map_err(spool_error)?;
        for line in std::io::BufReader::new(f).lines() {
            let line = line.map_err(spool_error)?;
            let Ok(t) = serde_json::from_str::<Test>(&line) else {
                continue;
            };
            let status = match self.status.get(&key(&t)) {
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
