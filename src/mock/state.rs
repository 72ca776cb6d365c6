//! What the mock holds: its configuration, fixed at the start, and its state, behind one lock.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;

use super::args::{in_ranges, Args};
use crate::cli;
use crate::error::{Error, Result};

/// The kinds of fault, drawn with equal chance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Fault {
    Status500,
    Status503,
    TooMany,
    CloseBefore,
    CloseAfter,
    Slow,
}

/// The counts `/__mock/stats` shows.
#[derive(Default)]
pub(super) struct Stats {
    pub(super) requests: u64,
    pub(super) runs: u64,
    pub(super) duplicates: u64,
    pub(super) faults: u64,
    pub(super) rejected: u64,
    pub(super) builds: u64,
    /// Automation hosts created.
    pub(super) hosts_created: u64,
    /// Builds created, by name: more than one of a name is a race the uploaders lost.
    pub(super) builds_by_name: std::collections::BTreeMap<String, u64>,
    pub(super) refreshes: u64,
    pub(super) documents: u64,
    /// Requests the API description does not allow: taken as Spira takes them (a number
    /// written as a string) or answered 400 as Spira answers them.
    pub(super) nonconforming_requests: u64,
    /// The leniencies used, by operation, field and kind: how many requests used each.
    pub(super) leniencies: BTreeMap<String, u64>,
    /// The last request the description does not allow, and why.
    pub(super) last_nonconforming_request: Option<String>,
    /// API requests to an endpoint the description does not have, by method and path.
    pub(super) undescribed: std::collections::BTreeSet<String>,
    /// With `--check-answers`: answers that do not match the description, and the last reason.
    pub(super) nonconforming_answers: u64,
    pub(super) last_nonconforming_answer: Option<String>,
    /// With `--check-answers`: the operations answered 200 and checked, by name.
    pub(super) answered: std::collections::BTreeSet<String>,
}

/// A build, created by a POST to a release's builds.
pub(super) struct Build {
    pub(super) release: u64,
    pub(super) value: Value,
}

/// A stored run: its JSON as the server answers with it, and what the listings filter and sort
/// on.
pub(super) struct Stored {
    pub(super) id: u64,
    pub(super) json: String,
    pub(super) index: Index,
}

/// The fields of a run that the listings filter and sort on.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Index {
    pub(super) test_case: u64,
    pub(super) status: u64,
    pub(super) release: Option<u64>,
    pub(super) test_set: Option<u64>,
    pub(super) build: Option<u64>,
    pub(super) start: i64,
    pub(super) end: Option<i64>,
}

impl Index {
    /// The value of an integer field, by the name a filter uses.
    pub(super) fn int(&self, field: &str) -> Option<Option<u64>> {
        Some(match field {
            "TestCaseId" => Some(self.test_case),
            "ExecutionStatusId" => Some(self.status),
            "ReleaseId" => self.release,
            "TestSetId" => self.test_set,
            "BuildId" => self.build,
            _ => return None,
        })
    }

    /// The value of a date field, by name.
    pub(super) fn date(&self, field: &str) -> Option<Option<i64>> {
        Some(match field {
            "StartDate" => Some(self.start),
            "EndDate" => self.end,
            _ => return None,
        })
    }
}

/// What changes while the server runs, behind one lock.
pub(super) struct State {
    pub(super) stats: Stats,
    pub(super) bad_attempts: u32,
    pub(super) locked: bool,
    pub(super) rng: u64,
    pub(super) next_run: u64,
    pub(super) next_build: u64,
    /// Every stored run, in the order stored (so by `TestRunId`).
    pub(super) runs: Vec<Stored>,
    pub(super) seen: HashSet<u64>,
    pub(super) builds: BTreeMap<u64, Build>,
    pub(super) record: Option<std::io::BufWriter<std::fs::File>>,
    /// Test cases, folders and mappings created through the API.
    pub(super) catalog: Catalog,
    /// Automation hosts created through the API.
    pub(super) hosts: Vec<Value>,
}

/// What does not change.
pub(super) struct Config {
    pub(super) args: Args,
    /// Inflectra's API description: what requests (and answers) must look like.
    pub(super) description: super::openapi::Description,
    pub(super) names: HashMap<u64, String>,
    pub(super) sets: HashMap<u64, HashSet<u64>>,
    pub(super) releases: BTreeSet<u64>,
    /// `--data`: releases, test sets, automation hosts, custom properties.
    pub(super) data: super::data::Data,
}

impl Config {
    /// The fixed part of the server: the arguments, the test case names of
    /// `--test-case-names`, the test sets' members and the releases.
    pub(super) fn new(args: Args) -> Result<Config> {
        let mut names = HashMap::new();
        if let Some(p) = &args.test_case_names {
            let text = std::fs::read_to_string(p).map_err(|e| {
                Error::Usage(format!(
                    "cannot open '{}': {}",
                    p.display(),
                    cli::io_reason(&e)
                ))
            })?;
            let mut rdr = csv::Reader::from_reader(text.as_bytes());
            for rec in rdr.records() {
                let rec = rec.map_err(|e| Error::Usage(format!("{}: {e}", p.display())))?;
                if let (Some(id), Some(name)) = (rec.get(0), rec.get(1)) {
                    if let Ok(id) = id.trim().parse::<u64>() {
                        names.insert(id, name.to_string());
                    }
                }
            }
        }
        let mut sets: HashMap<u64, HashSet<u64>> = args
            .test_sets
            .iter()
            .map(|(id, ranges)| {
                let mut members = HashSet::new();
                for (a, b) in &ranges.0 {
                    members.extend(*a..=*b);
                }
                (*id, members)
            })
            .collect();
        let mut releases = BTreeSet::new();
        for (a, b) in &args.releases.0 {
            releases.extend(*a..=*b);
        }
        let data = super::data::Data::load(args.data.as_deref())?;
        releases.extend(
            data.releases
                .iter()
                .filter_map(|r| r.get("ReleaseId").and_then(Value::as_u64)),
        );
        for set in &data.test_sets {
            if let Some(id) = set.get("TestSetId").and_then(Value::as_u64) {
                sets.entry(id).or_default();
            }
        }
        let description = super::openapi::Description::load()
            .map_err(|e| Error::Usage(format!("the API description does not load: {e}")))?;
        Ok(Config {
            args,
            description,
            names,
            sets,
            releases,
            data,
        })
    }

    pub(super) fn test_case_exists(&self, id: u64) -> bool {
        in_ranges(&self.args.test_cases.0, id) || self.names.contains_key(&id)
    }

    pub(super) fn test_case_name(&self, id: u64) -> String {
        self.names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("Test case {id}"))
    }

    /// Every test case, in ID order.
    pub(super) fn test_case_ids(&self) -> Vec<u64> {
        let mut ids: BTreeSet<u64> = self.names.keys().copied().collect();
        for (a, b) in &self.args.test_cases.0 {
            ids.extend(*a..=*b);
        }
        ids.into_iter().collect()
    }
}

/// A test case created through the API.
pub(super) struct Case {
    /// The object as the server answers with it.
    pub(super) value: Value,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) folder: Option<u64>,
}

/// A test case folder.
pub(super) struct Folder {
    pub(super) name: String,
    pub(super) parent: Option<u64>,
}

/// What the API added to the catalog.
#[derive(Default)]
pub(super) struct Catalog {
    pub(super) cases: BTreeMap<u64, Case>,
    pub(super) folders: BTreeMap<u64, Folder>,
    /// Test cases added to test sets, by test set.
    pub(super) set_members: HashMap<u64, BTreeSet<u64>>,
    /// Test cases added to releases, by release.
    pub(super) release_cases: HashMap<u64, BTreeSet<u64>>,
    /// Test cases created with the name, description and folder of one that existed.
    pub(super) duplicates: u64,
    pub(super) next_case: u64,
    pub(super) next_folder: u64,
}

impl Catalog {
    /// An empty catalog whose first test case comes after the configured ones.
    pub(super) fn new(config: &Config) -> Catalog {
        Catalog {
            next_case: config.test_case_ids().last().map_or(1, |l| l + 1),
            next_folder: 1,
            ..Catalog::default()
        }
    }
}
