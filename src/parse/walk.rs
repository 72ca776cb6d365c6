//! The inputs spira-parse's arguments name: files as given, directories searched for report
//! files. A directory is walked in sorted order (symlinks to directories are not followed, as in
//! ripgrep and fd); a file reached twice (through a symlink, a hard link, or named twice) is
//! read once; in a directory, what is not a regular file (a FIFO, a socket, a device) is
//! skipped with a note rather than waited on. A named FIFO is read: that is how `<(cmd)` works.

use std::collections::HashMap;
use std::fs::Metadata;
use std::path::{Path, PathBuf};

use crate::cli::{self, Input};
use crate::error::{Error, Result};

/// The inputs found, and how many paths could not be read (reported already).
pub(crate) struct Found {
    pub(crate) entries: Vec<Entry>,
    pub(crate) unreadable: usize,
}

/// One input, with what the walk learnt of it (so that reading it needs no `stat` again).
pub(crate) struct Entry {
    pub(crate) input: Input,
    /// A directory walk found it (rather than its being named).
    pub(crate) walked: bool,
    pub(crate) kind: Kind,
}

/// What an input is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file of this many bytes (when it was looked at): a read never waits.
    File(u64),
    /// A directory read as one report (allure-results).
    Dir,
    /// Standard input, a FIFO or a device: a read may wait for more.
    Stream,
}

/// Expands the arguments into inputs: none means standard input. An entry that cannot be read
/// (missing, a dangling symlink, a directory without permission) is a usage error before
/// anything is read, or, with `keep_going`, reported and skipped.
pub(crate) fn expand(paths: &[PathBuf], keep_going: bool) -> Result<Found> {
    let mut w = Walker {
        keep_going,
        seen: HashMap::new(),
        allure: std::collections::HashSet::new(),
        found: Found {
            entries: Vec::new(),
            unreadable: 0,
        },
    };
    if paths.is_empty() {
        w.push(Input::stdin(), false, Kind::Stream);
    }
    for p in paths {
        if p == Path::new("-") {
            w.push(Input::stdin(), false, Kind::Stream);
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => w.dir(p)?,
            Ok(m) => w.file(p, &m, false),
            Err(e) => w.problem(open_error(p, &e))?,
        }
    }
    Ok(w.found)
}

struct Walker {
    keep_going: bool,
    /// Each file read so far, by identity: the name it was read under.
    seen: HashMap<(u64, u64), String>,
    /// The Allure results directories found: each is one input.
    allure: std::collections::HashSet<PathBuf>,
    found: Found,
}

impl Walker {
    fn push(&mut self, input: Input, walked: bool, kind: Kind) {
        self.found.entries.push(Entry {
            input,
            walked,
            kind,
        });
    }
    /// A path that cannot be read: an error, or with --keep-going a report.
    fn problem(&mut self, msg: String) -> Result<()> {
        if !self.keep_going {
            return Err(Error::Usage(msg));
        }
        cli::error(format_args!("{msg} (skipped: --keep-going)"));
        self.found.unreadable += 1;
        Ok(())
    }

    /// The report files under `dir`, in sorted order (each directory's entries sorted by
    /// name, a subdirectory's files where its name sorts). Walked here rather than with
    /// walkdir: its sort parsed each path again at every comparison, a tenth of the time on a
    /// directory of 3,000 small reports.
    fn dir(&mut self, dir: &Path) -> Result<()> {
        let mut stack = vec![self.entries_of(dir)?.into_iter()];
        while let Some(level) = stack.last_mut() {
            let Some((path, kind)) = level.next() else {
                stack.pop();
                continue;
            };
            if kind.is_dir() {
                let inner = self.entries_of(&path)?;
                stack.push(inner.into_iter());
                continue;
            }
            if !is_report_name(&path) {
                continue;
            }
            // An allure-results directory is one report: its files are read together.
            if is_allure_file(&path) {
                let parent = path.parent().unwrap_or(dir).to_path_buf();
                if self.allure.insert(parent.clone()) {
                    self.push(Input::new(&parent), true, Kind::Dir);
                }
                continue;
            }
            // Follows a symlink to what it points at.
            match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => self.file(&path, &m, true),
                Ok(m) => cli::info(format_args!(
                    "{}: skipped: {}",
                    path.display(),
                    not_a_file(&m)
                )),
                Err(e) => {
                    let mut msg = open_error(&path, &e);
                    if kind.is_symlink() {
                        msg.push_str(" (a symlink to nothing)");
                    }
                    self.problem(msg)?
                }
            }
        }
        Ok(())
    }

    /// The entries of one directory, sorted by name, with their types (symlinks not
    /// followed); an empty list when it cannot be read (and that is reported).
    fn entries_of(&mut self, dir: &Path) -> Result<Vec<(PathBuf, std::fs::FileType)>> {
        let list = match std::fs::read_dir(dir) {
            Ok(l) => l,
            Err(e) => {
                self.problem(dir_error(dir, &e))?;
                return Ok(Vec::new());
            }
        };
        let mut entries = Vec::new();
        for e in list {
            let e = match e {
                Ok(e) => e,
                Err(e) => {
                    self.problem(dir_error(dir, &e))?;
                    continue;
                }
            };
            let kind = match e.file_type() {
                Ok(t) => t,
                Err(err) => {
                    self.problem(dir_error(&e.path(), &err))?;
                    continue;
                }
            };
            entries.push((e.file_name(), kind));
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(entries
            .into_iter()
            .map(|(name, kind)| (dir.join(name), kind))
            .collect())
    }

    /// A file, unless it was found already.
    fn file(&mut self, path: &Path, meta: &Metadata, walked: bool) {
        let name = path.display().to_string();
        if let Some(id) = identity(meta) {
            if let Some(first) = self.seen.get(&id) {
                cli::info(format_args!("{name}: skipped: the same file as {first}"));
                return;
            }
            self.seen.insert(id, name);
        }
        let kind = if meta.is_file() {
            Kind::File(meta.len())
        } else {
            Kind::Stream
        };
        self.push(Input::new(path), walked, kind);
    }
}

/// Whether a file is one of an Allure results directory: `*-result.json`, `*-container.json`.
fn is_allure_file(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with("-result.json") || n.ends_with("-container.json"))
}

/// Whether a file name is one a directory search picks up: `*.xml`, `*.trx`, `*.csv`, `*.json`,
/// `*.jsonl`, `*.ndjson`, `*.tap`.
fn is_report_name(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["xml", "trx", "csv", "json", "jsonl", "ndjson", "tap"]
            .iter()
            .any(|x| e.eq_ignore_ascii_case(x))
    })
}

fn open_error(p: &Path, e: &std::io::Error) -> String {
    format!(
        "cannot open '{}' for reading: {}",
        p.display(),
        cli::io_reason(e)
    )
}

fn dir_error(dir: &Path, e: &std::io::Error) -> String {
    format!(
        "cannot read directory '{}': {}",
        dir.display(),
        cli::io_reason(e)
    )
}

/// What a path that is not a regular file or a directory is.
fn not_a_file(m: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = m.file_type();
        if t.is_fifo() {
            return "a FIFO, not a regular file (name it to read it)";
        }
        if t.is_socket() {
            return "a socket, not a regular file";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device, not a regular file";
        }
    }
    if m.is_dir() {
        return "a symlink to a directory (not followed)";
    }
    "not a regular file"
}

/// A file's identity: its device and inode.
#[cfg(unix)]
fn identity(m: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(_: &Metadata) -> Option<(u64, u64)> {
    None
}
