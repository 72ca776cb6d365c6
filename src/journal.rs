//! The journal file every tool that changes Spira keeps (spira-post, spira-cases): an
//! append-only JSON-lines file, each entry flushed to disk before the tool goes on, held by one
//! process at a time (an advisory lock), read back line by line with a bound on a line's length,
//! its last line cut when a crash left it half-written. What the entries say is the tool's own.
//!
//! Each run appends a header first: `{"journal": TOOL, "version": 1, "url", "project", "time",
//! "pid"}`. A journal of another tool, server or project is refused.

use std::fs::File;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::cli;
use crate::config::Connection;
use crate::error::{Error, Result};

/// An open, locked journal.
pub(crate) struct JournalFile {
    path: PathBuf,
    file: Mutex<File>,
}

impl JournalFile {
    /// Opens (or creates) the journal at `path` and locks it, reads what earlier runs recorded
    /// (each entry but the headers to `entry`), refuses one written by another tool or for
    /// another server or project, cuts a last entry a crash left half-written, and appends this
    /// run's header.
    pub(crate) fn open(
        path: &Path,
        conn: &Connection,
        mut entry: impl FnMut(&Value) -> std::result::Result<(), String>,
    ) -> Result<JournalFile> {
        let shown = path.display();
        let usage = |what: &str, e: std::io::Error| {
            Error::Usage(format!(
                "{what} the journal '{shown}': {}",
                cli::io_reason(&e)
            ))
        };
        if let Ok(meta) = std::fs::metadata(path) {
            if !meta.is_file() {
                return Err(Error::Usage(format!(
                    "the journal '{shown}' is not a regular file"
                )));
            }
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| usage("cannot open", e))?;
        lock(&file, path)?;
        let torn = read_entries(&mut file, path, |i, v| {
            let checked = match v.get("journal") {
                Some(_) => header(v, conn),
                None => entry(v),
            };
            checked.map_err(|why| Error::Usage(format!("{shown}:{i}: {why}")))
        })?;
        match torn {
            Some(u64::MAX) => file
                .write_all(b"\n")
                .map_err(|e| usage("cannot repair", e))?,
            // The process died while writing its last entry: what it wrote of it goes.
            Some(keep) => file.set_len(keep).map_err(|e| usage("cannot repair", e))?,
            None => {}
        }
        let j = JournalFile {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        };
        j.write(&json!({
            "journal": cli::tool(), "version": 1, "url": conn.url, "project": conn.project,
            "time": crate::date::format_iso(crate::date::now()), "pid": std::process::id(),
        }))?;
        Ok(j)
    }

    /// Appends one entry and flushes it to disk before returning.
    pub(crate) fn write(&self, v: &Value) -> Result<()> {
        let mut line = v.to_string().into_bytes();
        line.push(b'\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(&line)
            .and_then(|()| f.sync_data())
            .map_err(|e| {
                Error::Usage(format!(
                    "cannot write the journal '{}': {}",
                    self.path.display(),
                    cli::io_reason(&e)
                ))
            })
    }
}

/// A header of an earlier run: this tool's, for this server and project.
fn header(v: &Value, conn: &Connection) -> std::result::Result<(), String> {
    let tool = v.get("journal").and_then(Value::as_str).unwrap_or("");
    if tool != cli::tool() {
        return Err(format!(
            "this is a {tool} journal, not a {} one: give each tool its own journal",
            cli::tool()
        ));
    }
    let url = v.get("url").and_then(Value::as_str).unwrap_or("");
    if url != conn.url || v.get("project").and_then(Value::as_u64) != Some(conn.project) {
        return Err(format!(
            "this journal was written for {url} project {}, not {} project {}: start a new journal",
            v.get("project").unwrap_or(&Value::Null),
            conn.url,
            conn.project
        ));
    }
    Ok(())
}

/// The longest journal entry read: a batch entry is a few hundred bytes; anything longer is not
/// a journal (`--journal /dev/zero`).
const MAX_ENTRY: u64 = 1 << 20;

/// Takes the journal's advisory lock, or says which process holds it.
fn lock(file: &File, path: &Path) -> Result<()> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder =
                last_pid(path).map_or("another process".to_string(), |p| format!("process {p}"));
            Err(Error::Usage(format!(
                "the journal '{}' is in use by {holder} (another {}): two runs with one journal would both do everything; wait for it, or give each its own journal",
                path.display(),
                cli::tool()
            )))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(Error::Usage(format!(
            "cannot lock the journal '{}': {}",
            path.display(),
            cli::io_reason(&e)
        ))),
    }
}

/// The PID in the journal's last header, if any.
fn last_pid(path: &Path) -> Option<u64> {
    let mut pid = None;
    let mut f = std::io::BufReader::new(File::open(path).ok()?);
    let mut line = Vec::new();
    while let Ok(n) = (&mut f).take(MAX_ENTRY).read_until(b'\n', &mut line) {
        if n == 0 {
            break;
        }
        if let Ok(v) = serde_json::from_slice::<Value>(&line) {
            pid = v.get("pid").and_then(Value::as_u64).or(pid);
        }
        line.clear();
    }
    pid
}

/// Reads the journal's entries, one line at a time (at most [`MAX_ENTRY`] bytes each),
/// calling `f` with each entry and its line number. The first entry must be a journal's
/// header. Returns the length to cut the file to when its last line is a torn entry
/// (`u64::MAX`: a whole last entry lacks only its line end).
fn read_entries(
    file: &mut File,
    path: &Path,
    mut f: impl FnMut(usize, &Value) -> Result<()>,
) -> Result<Option<u64>> {
    let shown = path.display();
    let mut r = std::io::BufReader::new(&*file);
    let (mut line, mut at, mut n) = (Vec::new(), 0u64, 0usize);
    loop {
        line.clear();
        let len = (&mut r)
            .take(MAX_ENTRY + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| {
                Error::Usage(format!(
                    "cannot read the journal '{shown}': {}",
                    cli::io_reason(&e)
                ))
            })?;
        if len == 0 {
            return Ok(None);
        }
        n += 1;
        let whole = line.ends_with(b"\n");
        if len as u64 > MAX_ENTRY {
            return Err(Error::Usage(format!(
                "{shown}:{n}: not a {} journal: a line longer than {MAX_ENTRY} bytes",
                cli::tool()
            )));
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            at += len as u64;
            continue;
        }
        match serde_json::from_slice::<Value>(&line) {
            Ok(v) if at == 0 && v.get("journal").is_none() => {
                return Err(Error::Usage(format!(
                    "{shown}:{n}: not a {} journal: it does not start with a journal header",
                    cli::tool()
                )))
            }
            Ok(v) => {
                f(n, &v)?;
                if !whole {
                    // A whole entry without its line end: the next one starts on a new line.
                    return Ok(Some(u64::MAX));
                }
            }
            // The process died while writing its last entry.
            Err(_) if !whole => {
                cli::warn(format_args!(
                    "{shown}:{n}: the journal's last entry is cut short (the upload was stopped while writing it); it is removed"
                ));
                return Ok(Some(at));
            }
            Err(e) => {
                return Err(Error::Usage(format!(
                    "{shown}:{n}: not a {} journal entry: {e}",
                    cli::tool()
                )))
            }
        }
        at += len as u64;
    }
}
