//! Telling which runs of a batch the server stored when its answer did not say: Spira has no
//! idempotency key, so spira-post asks it what it holds. It lists the project's newest runs
//! (`GET test-runs`, sorted by `TestRunId`, newest first) down to the batch's watermark, the
//! highest `TestRunId` known before the batch was first sent; where there is no watermark, or
//! the server refuses that sort, it searches the runs of the batch's test cases started within
//! the batch's span (`POST test-runs/search`). A run is found when a listed run is made of the
//! same things: test case, release, test set, build, status, runner and test names, start and
//! end (instants, within a second: the server may round them).
//!
//! Within one upload, a run's content is in flight in one batch at a time ([`InFlight`]), and a
//! listed run found for one batch is claimed ([`Known`]), so that no batch takes another's.
//! Two processes sending identical runs at once cannot be told apart: that is the limit.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Condvar, Mutex};

use serde_json::{json, Map, Value};

use super::plan;
use crate::client::send::{Answer, Sender};
use crate::date;
use crate::error::{Error, Result};

/// Rows asked for per page of a listing.
pub(super) const PAGE: usize = 500;

/// What a run is made of, as far as telling it apart goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Identity {
    test_case: Option<u64>,
    release: Option<u64>,
    test_set: Option<u64>,
    build: Option<u64>,
    status: Option<u64>,
    runner: Option<String>,
    test_name: Option<String>,
    start: Option<i64>,
    end: Option<i64>,
}

impl Identity {
    /// The identity of a run object (sent or listed): missing and null fields are `None`.
    pub(super) fn of(run: &Map<String, Value>) -> Identity {
        Identity::from_fields(|k| run.get(k).cloned())
    }

    /// The identity of a run whose fields `get` gives by name.
    pub(super) fn from_fields(get: impl Fn(&str) -> Option<Value>) -> Identity {
        let id = |k: &str| get(k).as_ref().and_then(plan::id);
        let text = |k: &str| match get(k) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        let when = |k: &str| match get(k) {
            Some(Value::String(s)) => date::parse_any(&s),
            _ => None,
        };
        Identity {
            test_case: id("TestCaseId"),
            release: id("ReleaseId"),
            test_set: id("TestSetId"),
            build: id("BuildId"),
            status: id("ExecutionStatusId"),
            runner: text("RunnerName"),
            test_name: text("RunnerTestName"),
            start: when("StartDate"),
            end: when("EndDate"),
        }
    }

    /// A hash of what no server rewrites (test case, status, test name): equal for runs that
    /// may be the same, the key of [`InFlight`].
    pub(super) fn key(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (self.test_case, self.status, &self.test_name).hash(&mut h);
        h.finish()
    }

    /// Whether `listed`, a run the server holds, is this run as sent. What the server may
    /// rewrite is compared leniently: a test set it dropped (the set does not hold the test
    /// case), a release the test set overrides, names it does not list, instants it rounded.
    pub(super) fn is(&self, listed: &Identity) -> bool {
        let near = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => a.abs_diff(b) < 1000,
            (a, b) => a == b,
        };
        let text =
            |ours: &Option<String>, theirs: &Option<String>| theirs.is_none() || ours == theirs;
        self.test_case == listed.test_case
            && self.status == listed.status
            && self.build == listed.build
            && (listed.test_set.is_none() || self.test_set == listed.test_set)
            && (self.test_set.is_some() || self.release == listed.release)
            && text(&self.runner, &listed.runner)
            && text(&self.test_name, &listed.test_name)
            && near(self.start, listed.start)
            && (listed.end.is_none() || near(self.end, listed.end))
    }
}

/// What this process knows the server holds: the highest `TestRunId` seen (the watermark of
/// the next batch) and every run already taken by a batch.
#[derive(Default)]
pub(super) struct Known {
    inner: Mutex<(Option<u64>, HashSet<u64>)>,
}

impl Known {
    /// Known from the start: a journal's watermark and the runs it records as stored.
    pub(super) fn new(watermark: Option<u64>, claimed: impl IntoIterator<Item = u64>) -> Known {
        let claimed: HashSet<u64> = claimed.into_iter().collect();
        let top = claimed.iter().copied().max();
        Known {
            inner: Mutex::new((watermark.max(top), claimed)),
        }
    }

    /// The highest `TestRunId` known so far.
    pub(super) fn watermark(&self) -> Option<u64> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    /// Runs stored (confirmed or found): taken, and the watermark raised.
    pub(super) fn stored(&self, ids: &[u64]) {
        let mut k = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        for &id in ids.iter().filter(|&&i| i > 0) {
            k.1.insert(id);
            k.0 = Some(k.0.map_or(id, |w| w.max(id)));
        }
    }

    /// Takes a listed run for a batch; false when another batch has it.
    fn take(&self, id: u64) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .insert(id)
    }
}

/// The content keys of the batches in flight: a batch waits to be sent while another holds a
/// run that may be the same as one of its own, so that what reconciliation finds is never
/// another batch's run still on its way.
#[derive(Default)]
pub(super) struct InFlight {
    keys: Mutex<HashMap<u64, usize>>,
    freed: Condvar,
}

/// Keys held in flight, released when dropped.
pub(super) struct Holding<'a> {
    by: &'a InFlight,
    keys: Vec<u64>,
}

impl InFlight {
    /// Waits until no batch in flight shares a key with `keys`, then holds them.
    pub(super) fn hold(&self, mut keys: Vec<u64>) -> Holding<'_> {
        keys.sort_unstable();
        keys.dedup();
        let mut held = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        while keys.iter().any(|k| held.contains_key(k)) {
            held = self.freed.wait(held).unwrap_or_else(|p| p.into_inner());
        }
        for k in &keys {
            *held.entry(*k).or_default() += 1;
        }
        Holding { by: self, keys }
    }
}

impl Drop for Holding<'_> {
    fn drop(&mut self) {
        let mut held = self.by.keys.lock().unwrap_or_else(|p| p.into_inner());
        for k in &self.keys {
            if let Some(n) = held.get_mut(k) {
                *n -= 1;
                if *n == 0 {
                    held.remove(k);
                }
            }
        }
        self.by.freed.notify_all();
    }
}

/// What a reconciliation found, and what it cost.
pub(super) struct Found {
    /// For each run asked about, in order: the listed run it is, as the server lists it.
    pub(super) runs: Vec<Option<(u64, Value)>>,
    /// Requests made.
    pub(super) requests: u64,
}

/// Lists what the server holds and finds `runs` among it.
pub(super) struct Reconciler<'a> {
    pub(super) sender: &'a Sender<'a>,
    /// The project's API base.
    pub(super) base: &'a str,
    pub(super) known: &'a Known,
}

impl Reconciler<'_> {
    /// Which of `runs` the server holds, looking above `watermark` (or by search without
    /// one). `Err` when the listing failed after its retries.
    pub(super) fn find(
        &self,
        runs: &[Identity],
        watermark: Option<u64>,
        rng: &mut u64,
    ) -> Result<Found> {
        let mut requests = 0;
        let listed = match watermark {
            Some(w) => match self.newest(w, &mut requests, rng)? {
                Some(l) => l,
                None => self.search(runs, &mut requests, rng)?,
            },
            None => self.search(runs, &mut requests, rng)?,
        };
        Ok(Found {
            runs: claim(self.known, runs, listed),
            requests,
        })
    }

    /// The runs above `watermark`, newest first; `None` when the server refuses to sort by
    /// `TestRunId`.
    fn newest(
        &self,
        watermark: u64,
        requests: &mut u64,
        rng: &mut u64,
    ) -> Result<Option<Vec<(u64, Value)>>> {
        let mut out = Vec::new();
        for page in 0.. {
            let url = format!(
                "{}/test-runs?starting_row={}&number_of_rows={PAGE}&sort_field=TestRunId&sort_direction=DESC",
                self.base,
                page * PAGE + 1
            );
            *requests += 1;
            let rows = match self.rows(self.sender.get(&url, rng).answer)? {
                Some(r) => r,
                None if page == 0 => return Ok(None),
                None => return Err(Error::Server("the run list was refused part way".into())),
            };
            let full = rows.len() >= PAGE;
            let mut below = false;
            for (id, v) in rows {
                if id <= watermark {
                    below = true;
                } else {
                    out.push((id, v));
                }
            }
            if below || !full {
                break;
            }
        }
        Ok(Some(out))
    }

    /// The runs of the batch's test cases that started within its span, in the server's order
    /// (no sort is asked for: a server that refuses one sort may refuse another).
    fn search(
        &self,
        runs: &[Identity],
        requests: &mut u64,
        rng: &mut u64,
    ) -> Result<Vec<(u64, Value)>> {
        let mut cases: Vec<u64> = runs.iter().filter_map(|r| r.test_case).collect();
        cases.sort_unstable();
        cases.dedup();
        let starts: Vec<i64> = runs.iter().filter_map(|r| r.start).collect();
        let (Some(from), Some(to)) = (starts.iter().min(), starts.iter().max()) else {
            return Ok(Vec::new());
        };
        let filters = json!([
            {"PropertyName": "TestCaseId", "MultiValue": {"Values": cases}},
            {"PropertyName": "StartDate", "DateRangeValue": {
                "StartDate": date::format_iso(from - 1000), "EndDate": date::format_iso(to + 1000),
                "ConsiderTimes": true}},
        ])
        .to_string();
        self.pages(&filters, requests, rng)
    }

    /// Every page of a search with `filters` (a JSON array of `RemoteFilter`s).
    fn pages(&self, filters: &str, requests: &mut u64, rng: &mut u64) -> Result<Vec<(u64, Value)>> {
        let mut out = Vec::new();
        for page in 0.. {
            let url = format!(
                "{}/test-runs/search?starting_row={}&number_of_rows={PAGE}",
                self.base,
                page * PAGE + 1
            );
            *requests += 1;
            // A search stores nothing: it is sent again after any failure.
            let answer = self.sender.post_blind(&url, filters, rng).answer;
            let rows = self.rows(answer)?.ok_or_else(|| {
                Error::Server("the server refuses both the run list and the run search".into())
            })?;
            let full = rows.len() >= PAGE;
            out.extend(rows);
            if !full {
                break;
            }
        }
        Ok(out)
    }

    /// The runs of one page: `None` for a 400 (a sort or filter the server refuses).
    fn rows(&self, answer: Answer) -> Result<Option<Vec<(u64, Value)>>> {
        let text = match answer {
            Answer::Ok(t) => t,
            Answer::Rejected(400, _) => return Ok(None),
            Answer::Rejected(s, m) => {
                return Err(Error::Server(format!("listing the runs: {s} {m}")))
            }
            Answer::Denied(s) => return Err(Error::Server(format!("listing the runs: {s}"))),
            Answer::Redirected(s, to) => return Err(crate::client::redirected(s, &to)),
            Answer::Uncertain(why) | Answer::GaveUp(why) => {
                return Err(Error::Server(format!("listing the runs: {why}")))
            }
            Answer::Stopped => return Err(Error::Exit(crate::error::EXIT_SERVER)),
        };
        let rows: Vec<Value> = serde_json::from_str(&text)
            .map_err(|e| Error::Server(format!("the run list is not a JSON array: {e}")))?;
        Ok(Some(
            rows.into_iter()
                .filter_map(|v| Some((v.get("TestRunId").and_then(plan::id)?, v)))
                .collect(),
        ))
    }
}

/// A listed run: its `TestRunId`, what it is made of, and the server's object.
type Listed = (u64, Identity, Value);

/// What the pool is looked up by: test case and status.
type PoolKey = (Option<u64>, Option<u64>);

/// The runs the builds found by name already hold, read once before anything is sent, by what
/// could tell them apart cheaply (test case and status): a batch takes its runs from here
/// before its first request, so that a rerun sends only what the build does not hold.
#[derive(Default)]
pub(super) struct Pool {
    by_key: Mutex<HashMap<PoolKey, Vec<Listed>>>,
    /// Runs read.
    pub(super) runs: usize,
}

impl Pool {
    /// The runs of `builds` (`POST test-runs/search` on `BuildId`, a page at a time); and the
    /// requests it took.
    pub(super) fn fill(r: &Reconciler<'_>, builds: &[u64], rng: &mut u64) -> Result<(Pool, u64)> {
        let mut by_key: HashMap<_, Vec<_>> = HashMap::new();
        let mut requests = 0;
        let mut runs = 0;
        for &b in builds {
            let filters = json!([{"PropertyName": "BuildId", "IntValue": b}]).to_string();
            for (id, v) in r.pages(&filters, &mut requests, rng)? {
                let Some(obj) = v.as_object() else { continue };
                let theirs = Identity::of(obj);
                runs += 1;
                by_key
                    .entry((theirs.test_case, theirs.status))
                    .or_default()
                    .push((id, theirs, v));
            }
        }
        let pool = Pool {
            by_key: Mutex::new(by_key),
            runs,
        };
        Ok((pool, requests))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.runs == 0
    }

    /// Each run's stored twin in the pool, if any: each taken once, by one run only.
    pub(super) fn claim(&self, known: &Known, runs: &[Identity]) -> Vec<Option<(u64, Value)>> {
        let mut by_key = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
        runs.iter()
            .map(|ours| {
                let list = by_key.get_mut(&(ours.test_case, ours.status))?;
                let k = list
                    .iter()
                    .position(|(id, theirs, _)| ours.is(theirs) && known.take(*id))?;
                let (id, _, v) = list.swap_remove(k);
                Some((id, v))
            })
            .collect()
    }
}

/// Each run's listed twin, newest first: each listed run taken once and by one batch only, so
/// that a run sent twice and stored once is found once.
fn claim(known: &Known, runs: &[Identity], listed: Vec<(u64, Value)>) -> Vec<Option<(u64, Value)>> {
    let mut found: Vec<Option<(u64, Value)>> = vec![None; runs.len()];
    for (id, v) in listed {
        let Some(obj) = v.as_object() else { continue };
        let theirs = Identity::of(obj);
        let Some(i) = (0..runs.len()).find(|&i| found[i].is_none() && runs[i].is(&theirs)) else {
            continue;
        };
        if known.take(id) {
            found[i] = Some((id, v));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: Value) -> Identity {
        Identity::of(v.as_object().unwrap())
    }

    #[test]
    fn a_run_is_known_by_what_it_is_made_of() {
        let ours = run(
            json!({"TestCaseId": 5, "ExecutionStatusId": 2, "ReleaseId": 3, "TestSetId": 7,
            "RunnerName": "ci", "RunnerTestName": "a.b", "StartDate": "/Date(1715688000000-0000)/",
            "EndDate": "2024-05-14T12:00:01.500Z", "_Attachments": ["x"]}),
        );
        let listed = json!({"TestRunId": 9, "TestCaseId": 5, "ExecutionStatusId": 2, "ReleaseId": 3,
            "TestSetId": 7, "RunnerName": "ci", "RunnerTestName": "a.b",
            "StartDate": "2024-05-14T12:00:00.000Z", "EndDate": "2024-05-14T12:00:01.503Z"});
        assert!(
            ours.is(&run(listed.clone())),
            "times as instants, in either form, rounded"
        );
        // What the server may rewrite: a dropped test set (and the release it would set), names
        // it does not list.
        let mut v = listed.clone();
        v.as_object_mut().unwrap().remove("TestSetId");
        v.as_object_mut().unwrap().remove("RunnerTestName");
        v["ReleaseId"] = json!(4);
        assert!(ours.is(&run(v)));
        // What it never changes.
        for (k, other) in [
            ("TestCaseId", json!(6)),
            ("ExecutionStatusId", json!(1)),
            ("TestSetId", json!(8)),
            ("RunnerTestName", json!("a.c")),
            ("StartDate", json!("2024-05-14T12:00:02.000Z")),
            ("BuildId", json!(1)),
        ] {
            let mut v = listed.clone();
            v[k] = other;
            assert!(!ours.is(&run(v)), "{k}");
        }
        assert_eq!(ours.key(), run(listed).key());
    }

    #[test]
    fn in_flight_keys_wait_for_each_other() {
        let f = InFlight::default();
        let a = f.hold(vec![1, 2]);
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                let _b = f.hold(vec![2, 3]);
                assert!(
                    done.load(std::sync::atomic::Ordering::SeqCst),
                    "held while 2 was in flight"
                );
            });
            let _c = f.hold(vec![4]);
            std::thread::sleep(std::time::Duration::from_millis(50));
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            drop(a);
        });
        assert!(f.keys.lock().unwrap().is_empty());
    }

    #[test]
    fn identical_runs_are_counted_and_listed_runs_taken_once() {
        let a = json!({"TestCaseId": 1, "ExecutionStatusId": 2, "RunnerTestName": "a",
                       "StartDate": "2024-05-14T12:00:00Z"});
        let b = json!({"TestCaseId": 2, "ExecutionStatusId": 2, "RunnerTestName": "b",
                       "StartDate": "2024-05-14T12:00:00Z"});
        let listed = |id: u64, v: &Value| {
            let mut v = v.clone();
            v["TestRunId"] = json!(id);
            (id, v)
        };
        // A batch holding `a` twice, and the server holding it once: one found, one to send.
        let k = Known::default();
        let found = claim(
            &k,
            &[run(a.clone()), run(a.clone()), run(b.clone())],
            vec![listed(7, &a)],
        );
        let ids: Vec<Option<u64>> = found
            .iter()
            .map(|f| f.as_ref().map(|(id, _)| *id))
            .collect();
        assert_eq!(ids, [Some(7), None, None]);
        // Held twice: both found, each run its own.
        let k = Known::default();
        let found = claim(
            &k,
            &[run(a.clone()), run(a.clone())],
            vec![listed(9, &a), listed(8, &a)],
        );
        let ids: Vec<Option<u64>> = found
            .iter()
            .map(|f| f.as_ref().map(|(id, _)| *id))
            .collect();
        assert_eq!(ids, [Some(9), Some(8)]);
        // A run another batch took is not taken again.
        let found = claim(&k, &[run(a.clone())], vec![listed(9, &a)]);
        assert!(found[0].is_none());
    }

    #[test]
    fn known_runs_are_taken_once() {
        let k = Known::new(Some(10), [3, 12]);
        assert_eq!(k.watermark(), Some(12));
        assert!(!k.take(3) && k.take(13) && !k.take(13));
        k.stored(&[20, 0]);
        assert_eq!(k.watermark(), Some(20));
    }
}
