//! Creating the test cases, `--jobs` at a time, each exactly once: a case an earlier run
//! created is known from the journal or found in its folder by the key line of its
//! description (`spira-pipe key: KEY`); a creation whose answer was lost is looked for in its
//! folder before it is sent again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::api::{id, Api, Posted};
use super::journal::Journal;
use super::needs::Needed;
use super::output::MapOut;
use crate::cli;
use crate::error::{Error, Result};
use crate::spira;

/// The first line of a created test case's description.
const KEY_LINE: &str = "spira-pipe key: ";

/// The description of a new test case: its key line, so that it can be found again.
pub(super) fn description(key: &str) -> String {
    format!("{KEY_LINE}{key}")
}

/// The key a description's key line names, if it has one (Spira may hold the description as
/// HTML: the line ends at a tag or a line end).
pub(super) fn key_of(description: &str) -> Option<&str> {
    let at = description.find(KEY_LINE)? + KEY_LINE.len();
    let rest = &description[at..];
    let end = rest.find(['\n', '\r', '<']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// The body of a new test case.
pub(super) fn case_body(n: &Needed, folder: Option<u64>, fields: &Fields) -> Value {
    let mut v = json!({
        "Name": spira::truncate_utf16(&n.name, spira::TEXT_255),
        "Description": description(&n.key),
        "TestCaseFolderId": folder,
    });
    for (k, val) in [
        ("AutomationEngineId", fields.engine),
        ("TestCaseStatusId", fields.status),
        ("TestCaseTypeId", fields.kind),
    ] {
        if let Some(x) = val {
            v[k] = json!(x);
        }
    }
    v
}

/// The optional fields every new test case gets.
pub(super) struct Fields {
    pub(super) engine: Option<u64>,
    pub(super) status: Option<u64>,
    pub(super) kind: Option<u64>,
}

/// The counts of the summary.
#[derive(Default, Debug)]
pub(super) struct Tally {
    pub(super) created: u64,
    /// Made by an earlier run: known from the journal or found in their folder.
    pub(super) earlier: u64,
    pub(super) rejected: u64,
}

/// One test case to make sure of, and its folder.
pub(super) struct Job {
    pub(super) needed: Needed,
    pub(super) folder: Option<u64>,
}

/// What creating needs, shared by the `--jobs` threads.
pub(super) struct Creator<'a> {
    pub(super) api: &'a Api<'a>,
    pub(super) journal: Option<&'a Journal>,
    pub(super) fields: Fields,
    pub(super) verbose: bool,
    pub(super) out: Mutex<MapOut>,
    pub(super) tally: Mutex<Tally>,
    /// The test cases of folders read so far, by folder: key (lower case) → ID.
    pub(super) listed: Mutex<HashMap<Option<u64>, HashMap<String, u64>>>,
    /// The IDs created, for the test set and release.
    pub(super) new_ids: Mutex<Vec<u64>>,
    /// Set by the first error: the other threads stop taking jobs.
    pub(super) stop: &'a AtomicBool,
}

impl Creator<'_> {
    /// Every job, `jobs` threads at once; the first error stops the rest and is returned.
    pub(super) fn run(&self, jobs: Vec<Job>, threads: usize) -> Result<()> {
        let queue = Mutex::new(jobs.into_iter());
        let first_error: Mutex<Option<Error>> = Mutex::new(None);
        std::thread::scope(|s| {
            for t in 0..threads {
                let (queue, first_error) = (&queue, &first_error);
                s.spawn(move || {
                    let mut rng = crate::client::send::seed(t as u64);
                    while !self.stop.load(Ordering::SeqCst) {
                        let Some(job) = queue.lock().unwrap_or_else(|p| p.into_inner()).next()
                        else {
                            return;
                        };
                        if let Err(e) = self.one(&job, &mut rng) {
                            self.stop.store(true, Ordering::SeqCst);
                            first_error
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .get_or_insert(e);
                        }
                    }
                });
            }
        });
        match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// One test case: known, found, or created; then its map line.
    fn one(&self, job: &Job, rng: &mut u64) -> Result<()> {
        let key = &job.needed.key;
        let lower = key.to_lowercase();
        let journal_id = self.journal.and_then(|j| j.created.get(&lower).copied());
        let found = match journal_id {
            Some(id) => Some(id),
            None => self.find(job.folder, &lower, false, rng)?,
        };
        if let Some(id) = found {
            self.tally.lock().unwrap_or_else(|p| p.into_inner()).earlier += 1;
            return self.mapped(key, id);
        }
        match self.create(job, &lower, rng)? {
            Some(id) => {
                if self.verbose {
                    cli::info(format_args!("created TC:{id} for {}", cli::printable(key)));
                }
                self.tally.lock().unwrap_or_else(|p| p.into_inner()).created += 1;
                self.new_ids
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(id);
                self.mapped(key, id)
            }
            None => {
                self.tally
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .rejected += 1;
                Ok(())
            }
        }
    }

    /// The map line of `key`.
    fn mapped(&self, key: &str, id: u64) -> Result<()> {
        self.out
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .line(key, id)
    }

    /// Creates the test case; `None` when the server rejects it (reported). A lost answer is
    /// looked for in the folder before the request is sent again.
    fn create(&self, job: &Job, lower: &str, rng: &mut u64) -> Result<Option<u64>> {
        let key = &job.needed.key;
        let body = case_body(&job.needed, job.folder, &self.fields);
        if let Some(j) = self.journal {
            j.creating(key, job.folder)?;
        }
        for _ in 0..=self.api.sender.retries {
            match self.api.post("test-cases", &body, rng)? {
                Posted::Done(v) => {
                    let id = id(&v, "TestCaseId").ok_or_else(|| {
                        Error::Server(format!("the test case created for {key} has no TestCaseId"))
                    })?;
                    if let Some(j) = self.journal {
                        j.created(key, id)?;
                    }
                    return Ok(Some(id));
                }
                Posted::Rejected(status, m) => {
                    cli::error(format_args!(
                        "{}: not created: {status} {m}",
                        cli::printable(key)
                    ));
                    return Ok(None);
                }
                Posted::Uncertain(why) => {
                    if self.verbose {
                        cli::info(format_args!(
                            "{}: {why}; looking for it in its folder",
                            cli::printable(key)
                        ));
                    }
                    if let Some(id) = self.find(job.folder, lower, true, rng)? {
                        if let Some(j) = self.journal {
                            j.created(key, id)?;
                        }
                        return Ok(Some(id));
                    }
                }
            }
        }
        Err(Error::Server(format!(
            "{key}: the test case's answer was lost {} times",
            self.api.sender.retries + 1
        )))
    }

    /// The test case made earlier for `key` (lower case) in `folder` (`None`: the root),
    /// listing the folder once (again when `fresh`).
    fn find(
        &self,
        folder: Option<u64>,
        key: &str,
        fresh: bool,
        rng: &mut u64,
    ) -> Result<Option<u64>> {
        {
            let listed = self.listed.lock().unwrap_or_else(|p| p.into_inner());
            if let (false, Some(cases)) = (fresh, listed.get(&folder)) {
                return Ok(cases.get(key).copied());
            }
        }
        let cases = list_folder(self.api, folder, rng)?;
        let id = cases.get(key).copied();
        self.listed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(folder, cases);
        Ok(id)
    }
}

/// The test cases of a folder (`None`: the root, read from the project's list) that carry a
/// key line, by key (lower case), every page.
pub(super) fn list_folder(
    api: &Api<'_>,
    folder: Option<u64>,
    rng: &mut u64,
) -> Result<HashMap<String, u64>> {
    let mut cases = HashMap::new();
    let mut row = 1;
    let n = crate::client::PAGE;
    loop {
        let path = match folder {
            Some(f) => format!("test-folders/{f}/test-cases?starting_row={row}&number_of_rows={n}"),
            None => format!("test-cases?starting_row={row}&number_of_rows={n}"),
        };
        let page = api.get(&path, rng)?;
        let rows = page.as_array().map(Vec::as_slice).unwrap_or(&[]);
        for c in rows {
            if folder.is_none() && id(c, "TestCaseFolderId").is_some() {
                continue;
            }
            let key = c
                .get("Description")
                .and_then(Value::as_str)
                .and_then(key_of);
            if let (Some(k), Some(tc)) = (key, id(c, "TestCaseId")) {
                cases.entry(k.to_lowercase()).or_insert(tc);
            }
        }
        if rows.len() < n {
            return Ok(cases);
        }
        row += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_line_is_found_in_plain_text_and_html() {
        assert_eq!(
            key_of(&description("pkg.Cart.test_add")),
            Some("pkg.Cart.test_add")
        );
        assert_eq!(key_of("<p>spira-pipe key: a.b</p><p>more</p>"), Some("a.b"));
        assert_eq!(key_of("spira-pipe key: x y\nsecond line"), Some("x y"));
        assert_eq!(key_of("written by hand"), None);
    }
}
