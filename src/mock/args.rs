//! spira-mock's command line.

use std::path::PathBuf;

use clap::Parser;

const EXAMPLES: &str = "\
Examples:
  spira-mock --listen 127.0.0.1:0
  spira-mock --test-cases 1-5000 --test-set 7=1-100 --record stored.jsonl
  spira-mock --faults 0.2 --seed 42 --slow-ms 500";

/// The default user of the mock, for demos.
const DEMO_USER: &str = "demo";
/// The default API key of the mock, for demos (a made-up RSS token).
const DEMO_KEY: &str = "{00000000-DEMO-KEY0-0000-000000000000}";

/// A local Spira REST server for demos, tests and benchmarks.
#[derive(Parser, Debug)]
#[command(name = "spira-mock", version = crate::cli::VERSION, after_help = EXAMPLES)]
pub struct Args {
    /// Address to listen on; port 0 picks a free one. The first stdout line says which.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: String,

    /// The user name it accepts.
    #[arg(long, default_value = DEMO_USER)]
    pub(crate) username: String,

    /// The API key (RSS token) it accepts.
    #[arg(long, default_value = DEMO_KEY)]
    pub(crate) api_key: String,

    /// The project ID.
    #[arg(long, default_value_t = 1)]
    pub(crate) project: u64,

    /// The test cases that exist, as ranges: 1-1000,2000.
    #[arg(long, default_value = "1-1000", value_parser = parse_ranges)]
    pub(crate) test_cases: Ranges,

    /// Names for the test cases: a CSV test_case_id,name (default: "Test case N").
    #[arg(long, value_name = "FILE")]
    pub(crate) test_case_names: Option<PathBuf>,

    /// A test set and its test cases, ID=RANGES (repeatable): 7=1-100.
    #[arg(long = "test-set", value_name = "ID=RANGES", value_parser = parse_set)]
    pub(crate) test_sets: Vec<(u64, Ranges)>,

    /// The releases that exist.
    #[arg(long, default_value = "1-10", value_parser = parse_ranges)]
    pub(crate) releases: Ranges,

    /// The project's releases, test sets, automation hosts and test-run custom properties: a
    /// JSON object whose `releases`, `test_sets`, `automation_hosts` and `custom_properties`
    /// arrays hold Spira's own records (RemoteRelease, RemoteTestSet, RemoteAutomationHost,
    /// RemoteCustomProperty with its CustomList).
    #[arg(long, value_name = "FILE")]
    pub(crate) data: Option<PathBuf>,

    /// Consecutive bad credentials that lock the user.
    #[arg(long, default_value_t = 5)]
    pub(crate) lockout: u32,

    /// Append every stored run to FILE as a JSON line.
    #[arg(long, value_name = "FILE")]
    pub(crate) record: Option<PathBuf>,

    /// Store nothing of a rejected record-multiple (Spira itself keeps the runs before the bad one).
    #[arg(long)]
    pub(crate) atomic: bool,

    /// The chance, 0 to 1, that an API request gets a fault.
    #[arg(long, default_value_t = 0.0)]
    pub(crate) faults: f64,

    /// Seed of the fault dice.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,

    /// The delay of a slow answer, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub(crate) slow_ms: u64,

    /// Answer every API request this many milliseconds after handling it (what it stores is
    /// stored at once): a far-away server, or a window to interrupt a client in.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub(crate) latency_ms: u64,

    /// The fields the test-run list and search sort on; another `sort_field` is refused with
    /// 400 (Spira's own list is documented sorting by EndDate; give `EndDate` alone to play a
    /// server that refuses TestRunId).
    #[arg(
        long,
        value_name = "FIELDS",
        value_delimiter = ',',
        default_value = "TestRunId,EndDate,StartDate"
    )]
    pub(crate) sort_fields: Vec<String>,

    /// Reject a bad run of a record-multiple without saying which it is (Spira's own messages
    /// may not: the client must find it).
    #[arg(long)]
    pub(crate) terse_errors: bool,

    /// Check every answer against Inflectra's API description too (each request always is):
    /// an answer that does not match is counted in /__mock/stats (`nonconforming_answers`,
    /// `last_nonconforming_answer`) and told on stderr. The tests run with it.
    #[arg(long)]
    pub(crate) check_answers: bool,

    /// Worker threads.
    #[arg(long, default_value_t = 4)]
    pub(crate) threads: usize,
}

/// ID ranges, such as `1-1000,2000`.
#[derive(Clone, Debug)]
pub(crate) struct Ranges(pub Vec<(u64, u64)>);

fn parse_ranges(s: &str) -> std::result::Result<Ranges, String> {
    let v: std::result::Result<Vec<(u64, u64)>, String> = s
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let p = p.trim();
            let (a, b) = p.split_once('-').unwrap_or((p, p));
            let a: u64 = a
                .trim()
                .parse()
                .map_err(|_| format!("'{p}' is not N or N-M"))?;
            let b: u64 = b
                .trim()
                .parse()
                .map_err(|_| format!("'{p}' is not N or N-M"))?;
            if a == 0 || b < a {
                return Err(format!("'{p}' is not a range of IDs"));
            }
            Ok((a, b))
        })
        .collect();
    v.map(Ranges)
}

fn parse_set(s: &str) -> std::result::Result<(u64, Ranges), String> {
    let (id, ranges) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not ID=RANGES"))?;
    let id: u64 = id
        .trim()
        .parse()
        .map_err(|_| format!("'{id}' is not an ID"))?;
    Ok((id, parse_ranges(ranges)?))
}

pub(super) fn in_ranges(ranges: &[(u64, u64)], id: u64) -> bool {
    ranges.iter().any(|(a, b)| (*a..=*b).contains(&id))
}
