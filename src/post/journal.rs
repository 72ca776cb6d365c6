//! The journal: an append-only JSON-lines file, flushed to disk after every entry, that records
//! each batch's content hash and outcome, so that an upload cut short (a crash, `kill -9`, a
//! lost network) can be run again with the same input and sends only what is not known stored.
//!
//! Entries, one per line:
//! - `{"journal":"spira-post","version":1,"url":…,"project":…,"time":…}` at the start of each run;
//! - `{"build":ID,"release":ID,"name":…}` when a build was created (a resumed run reuses it);
//! - `{"batch":N,"hash":H,"runs":R,"state":"sending","watermark":W}` before a batch's first
//!   request goes out; `W` is the highest `TestRunId` known then (or null), below which none of
//!   its runs can be: a resumed run reconciles from there;
//! - `"reconciled"` (with `found`, the runs found stored) and `"uncertain"` (sent again without
//!   knowing, or left with `--skip-uncertain`) on the way;
//! - then `"rejected"` (with `status` and the number of `runs` set aside) and `"stored"` (with
//!   the created `ids`, 0 for a run not stored), or `"failed"` (not settled; `maybe_stored`);
//! - `"attached"` once a stored batch's attachments were uploaded.
//!
//! `N` counts batch lines across all inputs from 1; `H` is the SHA-256 of the line.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::deliver::{Delivery, Fate};
use crate::config::Connection;
use crate::error::{Error, Result};
use crate::journal::JournalFile;

/// What an earlier run did with one batch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum State {
    /// The request went out and no answer was recorded: it may or may not be stored.
    Sending,
    /// Stored; the created test run IDs.
    Stored(Vec<u64>),
    /// Rejected by the server (it is in the dead-letter file).
    Rejected,
    /// Retries ran out.
    Failed,
}

/// One batch's record from earlier runs.
#[derive(Debug, Clone)]
pub(crate) struct Prior {
    pub(crate) hash: String,
    pub(crate) state: State,
    pub(crate) attached: bool,
    /// A request for it may have reached the server without its answer arriving.
    pub(crate) uncertain: bool,
    /// The watermark recorded when it was first sent.
    pub(crate) watermark: Option<u64>,
}

/// What to do with a batch, given the journal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resume {
    /// Not in the journal, or known not stored: send it.
    Send,
    /// Stored or rejected before: do not send it again.
    Done(State),
    /// Stored before, but its attachments were not all uploaded.
    Attach(Vec<u64>),
    /// It may have been stored: its answer never arrived. The watermark it was sent with.
    Uncertain(Option<u64>),
}

/// An open journal.
pub(crate) struct Journal {
    path: PathBuf,
    file: JournalFile,
    prior: HashMap<u64, Prior>,
    /// Builds created by earlier runs, by release.
    pub(crate) builds: BTreeMap<u64, u64>,
}

/// The SHA-256 of a batch line, in hex.
pub(crate) fn hash(line: &[u8]) -> String {
    let d = Sha256::digest(line);
    let mut s = String::with_capacity(64);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

impl Journal {
    /// Opens (or creates) the journal at `path` and locks it (one upload per journal), reads
    /// what earlier runs recorded, refuses one written for another server or project, cuts a
    /// last entry a crash left half-written, and appends this run's header.
    pub(crate) fn open(path: &Path, conn: &Connection) -> Result<Journal> {
        let mut prior: HashMap<u64, Prior> = HashMap::new();
        let mut builds = BTreeMap::new();
        let file = JournalFile::open(path, conn, |v| read_entry(v, &mut prior, &mut builds))?;
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            prior,
            builds,
        })
    }

    /// What to do with batch `index` whose line hashes to `hash`. A different hash at the same
    /// place means the journal was written for other input: that is refused.
    pub(crate) fn resume(&self, index: u64, hash: &str, name: &str, line: u64) -> Result<Resume> {
        let Some(p) = self.prior.get(&index) else {
            return Ok(Resume::Send);
        };
        if p.hash != hash {
            return Err(Error::Usage(format!(
                "{name}:{line}: the journal '{}' was written for different input (batch {index} is not the batch it recorded); resuming needs the same batches in the same order: give the original batch file, or start a new journal",
                self.path.display()
            )));
        }
        Ok(decide(p))
    }

    /// Batch `index` is about to be sent.
    pub(crate) fn sending(
        &self,
        index: u64,
        hash: &str,
        runs: u64,
        watermark: Option<u64>,
    ) -> Result<()> {
        self.write(&json!({"batch": index, "hash": hash, "runs": runs, "state": "sending", "watermark": watermark}))
    }

    /// What delivery made of batch `index`: reconciled, uncertain, rejected in part, stored
    /// (`attached` when it has no attachments to upload), or not settled.
    pub(crate) fn delivered(
        &self,
        index: u64,
        hash: &str,
        d: &Delivery,
        attached: bool,
    ) -> Result<()> {
        let entry = |state: &str, extra: Value| {
            let mut v = json!({"batch": index, "hash": hash, "state": state});
            if let (Some(o), Value::Object(x)) = (v.as_object_mut(), extra) {
                o.extend(x);
            }
            v
        };
        if d.reconciled > 0 {
            self.write(&entry("reconciled", json!({"found": d.reconciled})))?;
        }
        if d.duplicated > 0 || d.uncertain > 0 {
            self.write(&entry(
                "uncertain",
                json!({"runs": d.duplicated + d.uncertain}),
            ))?;
        }
        match d.fate() {
            Fate::NotStored | Fate::Uncertain => {
                return self.write(&entry("failed", json!({"maybe_stored": true})));
            }
            _ => {}
        }
        for (runs, status, _) in &d.rejected {
            self.write(&entry(
                "rejected",
                json!({"status": status, "runs": runs.len()}),
            ))?;
        }
        if d.stored() > 0 || d.rejected.is_empty() {
            self.stored(index, hash, &d.ids(), attached)?;
        }
        Ok(())
    }

    /// The watermark to start from: the highest `TestRunId` recorded.
    pub(crate) fn watermark(&self) -> Option<u64> {
        let stored = self.stored_ids().max();
        let sent = self.prior.values().filter_map(|p| p.watermark).max();
        stored.max(sent)
    }

    /// The runs recorded as stored by settled batches.
    pub(crate) fn stored_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.prior
            .values()
            .flat_map(|p| match &p.state {
                State::Stored(ids) if !p.uncertain => ids.as_slice(),
                _ => &[],
            })
            .copied()
            .filter(|&id| id > 0)
    }

    /// Batch `index` was stored as `ids`; `attached` when it has no attachments to upload.
    pub(crate) fn stored(&self, index: u64, hash: &str, ids: &[u64], attached: bool) -> Result<()> {
        self.write(&json!({"batch": index, "hash": hash, "state": "stored", "ids": ids}))?;
        if attached {
            self.attached(index, hash)?;
        }
        Ok(())
    }

    /// Batch `index`'s attachments were uploaded (or reported missing).
    pub(crate) fn attached(&self, index: u64, hash: &str) -> Result<()> {
        self.write(&json!({"batch": index, "hash": hash, "state": "attached"}))
    }

    /// A build was created in `release`.
    pub(crate) fn build(&self, release: u64, build: u64, name: &str) -> Result<()> {
        self.write(&json!({"build": build, "release": release, "name": name}))
    }

    /// Appends one entry and flushes it to disk before returning.
    fn write(&self, v: &Value) -> Result<()> {
        self.file.write(v)
    }
}

/// What to do with a batch an earlier run recorded as `p`: a stored batch is done (or its
/// attachments are), a rejected one too; one whose request may have reached the server without
/// its answer arriving is uncertain; one that surely failed is sent again.
fn decide(p: &Prior) -> Resume {
    match &p.state {
        State::Stored(ids) if !p.attached => Resume::Attach(ids.clone()),
        State::Stored(_) | State::Rejected => Resume::Done(p.state.clone()),
        State::Sending => Resume::Uncertain(p.watermark),
        State::Failed if p.uncertain => Resume::Uncertain(p.watermark),
        State::Failed => Resume::Send,
    }
}

/// Applies one batch entry's `state` (and its fields in `v`) to what is known of the batch;
/// `fresh` when this is the batch's first entry in the journal.
fn apply(
    entry: &mut Prior,
    state: &str,
    v: &Value,
    fresh: bool,
) -> std::result::Result<(), String> {
    match state {
        "sending" => {
            if entry.watermark.is_none() {
                entry.watermark = v.get("watermark").and_then(Value::as_u64);
            }
            match entry.state {
                // Sent before without an answer recorded: that request may have been stored.
                State::Sending if !fresh => entry.uncertain = true,
                State::Stored(_) | State::Rejected => {}
                _ => entry.state = State::Sending,
            }
        }
        "reconciled" => {}
        "uncertain" => entry.uncertain = true,
        "stored" => {
            let ids = v
                .get("ids")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            entry.state = State::Stored(ids);
            entry.uncertain = false;
        }
        "attached" => entry.attached = true,
        "rejected" => {
            entry.state = State::Rejected;
            entry.uncertain = false;
        }
        "failed" => {
            // Once maybe stored, it stays so until an answer arrives.
            entry.uncertain |= v
                .get("maybe_stored")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            entry.state = State::Failed;
        }
        other => return Err(format!("unknown batch state '{other}'")),
    }
    Ok(())
}

fn read_entry(
    v: &Value,
    prior: &mut HashMap<u64, Prior>,
    builds: &mut BTreeMap<u64, u64>,
) -> std::result::Result<(), String> {
    let u = |k: &str| v.get(k).and_then(Value::as_u64);
    if let (Some(b), Some(r)) = (u("build"), u("release")) {
        builds.insert(r, b);
        return Ok(());
    }
    let (Some(index), Some(hash), Some(state)) = (
        u("batch"),
        v.get("hash").and_then(Value::as_str),
        v.get("state").and_then(Value::as_str),
    ) else {
        return Err("not a spira-post journal entry".into());
    };
    let fresh = !prior.contains_key(&index);
    let entry = prior.entry(index).or_insert_with(|| Prior {
        hash: hash.to_string(),
        state: State::Sending,
        attached: false,
        uncertain: false,
        watermark: None,
    });
    if entry.hash != hash {
        return Err(format!(
            "batch {index} is recorded with two different contents: the journal was shared by different inputs"
        ));
    }
    apply(entry, state, v, fresh)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The entries of one batch, in order, and what a resumed run then does with it.
    fn after(entries: &[Value]) -> Resume {
        let mut p = Prior {
            hash: "h".into(),
            state: State::Sending,
            attached: false,
            uncertain: false,
            watermark: None,
        };
        for (i, v) in entries.iter().enumerate() {
            apply(&mut p, v["state"].as_str().unwrap(), v, i == 0).unwrap();
        }
        decide(&p)
    }

    #[test]
    fn the_resume_decision_follows_each_batch_history() {
        let sending = json!({"state": "sending"});
        let stored = json!({"state": "stored", "ids": [7, 8]});
        let attached = json!({"state": "attached"});
        let failed_sure = json!({"state": "failed", "maybe_stored": false});
        let failed_maybe = json!({"state": "failed", "maybe_stored": true});
        let rejected = json!({"state": "rejected", "status": 400});
        let done = Resume::Done(State::Stored(vec![7, 8]));
        for (history, want) in [
            // Killed with the request in flight: uncertain, however often.
            (vec![&sending], Resume::Uncertain(None)),
            (vec![&sending, &sending], Resume::Uncertain(None)),
            (vec![&sending, &stored, &attached], done.clone()),
            // Stored, but the attachments were cut short.
            (vec![&sending, &stored], Resume::Attach(vec![7, 8])),
            (vec![&sending, &rejected], Resume::Done(State::Rejected)),
            // Failed before anything could reach the server: sent again.
            (vec![&sending, &failed_sure], Resume::Send),
            (vec![&sending, &failed_maybe], Resume::Uncertain(None)),
            // Once maybe stored, a later sure failure does not make it sure...
            (
                vec![&sending, &failed_maybe, &sending, &failed_sure],
                Resume::Uncertain(None),
            ),
            // ...but a later answer settles it.
            (vec![&sending, &sending, &stored, &attached], done),
        ] {
            let entries: Vec<Value> = history.iter().map(|v| (*v).clone()).collect();
            assert_eq!(after(&entries), want, "{history:?}");
        }
        let mut p = Prior {
            hash: "h".into(),
            state: State::Sending,
            attached: false,
            uncertain: false,
            watermark: None,
        };
        assert!(apply(&mut p, "lost", &json!({}), true).is_err());
    }
}
