//! Preparing a batch line: what the journal says of it, and (when it is to be sent) the body
//! with spira-pipe's own `_` fields stripped, the pre-flight and the build applied.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::args::Args;
use super::journal::{self, Journal, Resume, State};
use super::plan;
use super::reconcile::Identity;
use crate::error::{Error, Result};
use crate::record::Kind;

/// What a batch needs done.
pub(super) enum Work {
    /// Send it.
    Send,
    /// Stored by an earlier run; upload the attachments of these test runs.
    AttachOnly(Vec<u64>),
    /// Nothing: stored or rejected earlier.
    Earlier(State),
    /// Nothing: it may have been stored earlier (`--skip-uncertain`).
    Uncertain,
    /// Nothing: the upload stopped before it.
    NotSent,
}

/// One batch on its way.
pub(super) struct Job {
    pub(super) index: u64,
    pub(super) name: String,
    pub(super) line: u64,
    pub(super) hash: String,
    pub(super) work: Work,
    /// The JSON array sent: the runs without their `_` fields.
    pub(super) body: String,
    /// What tells each run sent apart from other runs (reconciliation).
    pub(super) ids: Vec<Identity>,
    /// The same runs, one by one, as sent: their bytes as given, less their `_` fields (and
    /// with the build set): what is sent again, in part, after an uncertain outcome.
    pub(super) texts: Vec<String>,
    /// The watermark an earlier run sent it with, when it is resumed as uncertain.
    pub(super) watermark: Option<u64>,
    /// The runs sent, byte for byte as given (with `_Attachments`): what a dead letter keeps.
    pub(super) originals: Vec<Box<RawValue>>,
    pub(super) runs: u64,
    /// Each sent run's attachments.
    pub(super) attachments: Vec<Vec<String>>,
    /// Runs the pre-flight refused (unknown test cases), as given, and the IDs they name.
    pub(super) refused: Vec<Box<RawValue>>,
    pub(super) refused_ids: BTreeSet<u64>,
    /// Sent again after an earlier run lost its answer.
    pub(super) resend: bool,
    pub(super) releases: Vec<u64>,
    pub(super) sets: Vec<u64>,
}

/// What the reader applies to each batch.
pub(super) struct Prep<'a> {
    pub(super) known: Option<&'a HashSet<u64>>,
    pub(super) builds: &'a HashMap<u64, u64>,
    /// Builds that existed before this process: the runs they hold are not sent again.
    pub(super) found_builds: &'a [u64],
    pub(super) release: Option<u64>,
    /// The name of the builds, for the summary.
    pub(super) build_name: Option<&'a str>,
}

/// Reads one batch line into a job: what the journal says of it, and (when it is to be sent)
/// the body with spira-pipe's `_` fields stripped, the pre-flight and the build applied.
pub(super) fn prepare(
    args: &Args,
    journal: Option<&Journal>,
    prep: &Prep<'_>,
    index: u64,
    name: &str,
    n: u64,
    line: &[u8],
) -> Result<Job> {
    let not_batch = |why: String| {
        Error::Data(match Kind::hint(line, Kind::Batch) {
            Some(hint) => format!("{name}:{n}: not a batch: {hint}"),
            None => {
                format!("{name}:{n}: not a batch: expected a JSON array of run objects ({why})")
            }
        })
    };
    let mut job = Job {
        index,
        name: name.to_string(),
        line: n,
        hash: String::new(),
        work: Work::Send,
        body: String::new(),
        ids: Vec::new(),
        texts: Vec::new(),
        watermark: None,
        originals: Vec::new(),
        runs: 0,
        attachments: Vec::new(),
        refused: Vec::new(),
        refused_ids: BTreeSet::new(),
        resend: false,
        releases: Vec::new(),
        sets: Vec::new(),
    };
    if let Some(j) = journal {
        job.hash = journal::hash(line);
        match j.resume(index, &job.hash, name, n)? {
            Resume::Send => {}
            Resume::Attach(ids) => job.work = Work::AttachOnly(ids),
            Resume::Done(state) => job.work = Work::Earlier(state),
            Resume::Uncertain(_) if args.skip_uncertain && args.no_reconcile => {
                job.work = Work::Uncertain
            }
            Resume::Uncertain(watermark) => {
                job.resend = true;
                job.watermark = watermark;
            }
        }
    }
    if matches!(job.work, Work::Earlier(_) | Work::Uncertain) {
        job.runs = serde_json::from_slice::<Vec<&RawValue>>(line)
            .map_err(|e| not_batch(e.to_string()))?
            .len() as u64;
        return Ok(job);
    }
    let raw: Vec<&RawValue> = serde_json::from_slice(line).map_err(|e| not_batch(e.to_string()))?;
    for (k, r) in raw.into_iter().enumerate() {
        let Members(members) =
            serde_json::from_str(r.get()).map_err(|e| not_batch(format!("item {}: {e}", k + 1)))?;
        if let Some((id, text)) = prep.apply(&mut job, &members, r) {
            job.texts.push(text);
            job.ids.push(id);
        }
    }
    job.runs = job.texts.len() as u64;
    job.body = crate::json::array(job.texts.iter().map(String::as_str));
    Ok(job)
}

/// A run object's members in order, their values as given; a key is borrowed from the line
/// unless it holds an escape.
struct Members<'a>(Vec<(Key<'a>, &'a RawValue)>);

/// A member's name.
struct Key<'a>(std::borrow::Cow<'a, str>);

impl std::ops::Deref for Key<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(s.into()))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(s.to_string().into()))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a run object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Members<'de>, A::Error> {
                let mut v = Vec::new();
                while let Some(e) = map.next_entry()? {
                    v.push(e);
                }
                Ok(Members(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// A run as it is sent: its members in their order, each value byte for byte as given (an
/// integer too long for a float stays as written), less spira-pipe's own `_` members, with
/// `set` (name, value) replacing a member of that name or added at the end.
fn as_sent(members: &[(Key<'_>, &RawValue)], set: &[(&str, u64)]) -> String {
    let len = members.iter().map(|(k, v)| k.len() + v.get().len() + 4);
    let mut out = String::with_capacity(len.sum());
    let mut done = vec![false; set.len()];
    let member = |out: &mut String, k: &str, v: &str| {
        out.push(if out.is_empty() { '{' } else { ',' });
        if k.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            out.push_str(&serde_json::to_string(k).unwrap_or_default());
        } else {
            out.push('"');
            out.push_str(k);
            out.push('"');
        }
        out.push(':');
        out.push_str(v);
    };
    for (k, v) in members {
        if k.starts_with('_') {
            continue;
        }
        match set.iter().position(|(name, _)| *name == &**k) {
            Some(i) => {
                done[i] = true;
                member(&mut out, k, &set[i].1.to_string());
            }
            None => member(&mut out, k, v.get()),
        }
    }
    for (i, (k, v)) in set.iter().enumerate() {
        if !done[i] {
            member(&mut out, k, &v.to_string());
        }
    }
    if out.is_empty() {
        out.push('{');
    }
    out.push('}');
    out
}

impl Prep<'_> {
    /// One run of a batch (`members`, read from `raw` as given): kept back by the pre-flight,
    /// or given its build, recorded in the job (what it touches, its attachments, itself as
    /// given) and returned as it is sent: what tells it apart, and its text.
    fn apply(
        &self,
        job: &mut Job,
        members: &[(Key<'_>, &RawValue)],
        raw: &RawValue,
    ) -> Option<(Identity, String)> {
        // A member's value, read (only the few that are looked at are).
        let get = |name: &str| {
            members
                .iter()
                .find(|(k, _)| &**k == name)
                .and_then(|(_, v)| serde_json::from_str::<Value>(v.get()).ok())
        };
        let id = |name: &str| get(name).as_ref().and_then(plan::id);
        let tc = id("TestCaseId");
        if let Some(known) = self.known {
            if !tc.is_some_and(|tc| known.contains(&tc)) {
                job.refused_ids.extend(tc);
                job.refused.push(raw.to_owned());
                return None;
            }
        }
        let mut set: Vec<(&str, u64)> = Vec::new();
        let mut release = id("ReleaseId");
        if !self.builds.is_empty() {
            if let Some(r) = release.or(self.release) {
                if release.is_none() {
                    release = Some(r);
                    set.push(("ReleaseId", r));
                }
                if let Some(&b) = self.builds.get(&r) {
                    set.push(("BuildId", b));
                }
            }
        }
        job.releases.extend(release);
        job.sets.extend(id("TestSetId"));
        let files: Vec<String> = match get("_Attachments") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        job.attachments.push(files);
        let identity = Identity::from_fields(|k| match set.iter().find(|(n, _)| *n == k) {
            Some(&(_, v)) => Some(json!(v)),
            None => get(k),
        });
        job.originals.push(raw.to_owned());
        Some((identity, as_sent(members, &set)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_sent_as_given_less_its_own_fields_with_the_build_set() {
        let text = r#"{"B":1e400,"_X":[1],"BuildId":3, "A":"\u00e9"}"#;
        let Members(raw) = serde_json::from_str(text).unwrap();
        assert_eq!(
            as_sent(&raw, &[]),
            r#"{"B":1e400,"BuildId":3,"A":"\u00e9"}"#
        );
        assert_eq!(
            as_sent(&raw, &[("BuildId", 9), ("ReleaseId", 4)]),
            r#"{"B":1e400,"BuildId":9,"A":"\u00e9","ReleaseId":4}"#
        );
        let Members(empty) = serde_json::from_str(r#"{"_only":1}"#).unwrap();
        assert_eq!(as_sent(&empty, &[]), "{}");
    }
}
