//! spira-cases' command line.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::client::send::RetryArgs;
use crate::config::ConnectionArgs;
use crate::mapping::IdArgs;

pub(super) const EXAMPLES: &str = "\
Examples:
  spira-parse reports/ | spira-map --map ids.csv --unmapped-out new.jsonl > runs.jsonl
  spira-cases --map ids.csv --append new.jsonl
  spira-parse reports/ | spira-cases --map ids.csv --dry-run --offline
  spira-parse reports/ | spira-cases --lookup name --folders classname --yes >> ids.csv";

/// Creates the Spira test cases that result lines need (those no map entry, ID property or
/// name token gives), in folders that follow the suites, and writes their map lines.
#[derive(Parser, Debug)]
#[command(name = "spira-cases", version = crate::cli::VERSION, after_help = EXAMPLES)]
pub struct Args {
    /// Result-line files; `-` or nothing means standard input.
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,

    /// Which test case a test already has (as spira-map decides it).
    #[command(flatten)]
    pub(crate) ids: IdArgs,

    /// Append the map lines to the --map file (a CSV; created with a header when missing)
    /// instead of writing them to standard output.
    #[arg(long, requires = "map")]
    pub(crate) append: bool,

    /// Use a project test case whose name equals the test's name (case-insensitively) instead
    /// of creating one.
    #[arg(long, value_enum)]
    pub(crate) lookup: Option<Lookup>,

    /// What the folders follow: the suite path, the classname's dotted parts, or nothing (every
    /// case in the root folder).
    #[arg(long, value_enum, default_value = "suites")]
    pub(crate) folders: Folders,

    /// The folder the folder tree goes under (default: the project's root).
    #[arg(long, value_name = "ID")]
    pub(crate) root_folder: Option<u64>,

    /// Also add each new test case to this test set.
    #[arg(long, value_name = "ID")]
    pub(crate) test_set: Option<u64>,

    /// The test set named NAME, as --test-set (asks the server).
    #[arg(long, value_name = "NAME", conflicts_with = "test_set")]
    pub(crate) test_set_name: Option<String>,

    /// Also add each new test case to this release.
    #[arg(long, value_name = "ID")]
    pub(crate) release: Option<u64>,

    /// The release or iteration whose version number is V, as --release (asks the server).
    #[arg(long, value_name = "V", conflicts_with = "release")]
    pub(crate) release_version: Option<String>,

    /// AutomationEngineId of the new test cases.
    #[arg(long, value_name = "ID")]
    pub(crate) automation_engine: Option<u64>,

    /// TestCaseStatusId of the new test cases (default: the project's).
    #[arg(long, value_name = "ID")]
    pub(crate) status_id: Option<u64>,

    /// TestCaseTypeId of the new test cases (default: the project's).
    #[arg(long, value_name = "ID")]
    pub(crate) type_id: Option<u64>,

    /// Print the requests that would change Spira, as JSON lines, and the folders that would
    /// be created; only read from the server.
    #[arg(long)]
    pub(crate) dry_run: bool,

    /// With --dry-run: connect to nothing (only the map decides what is missing).
    #[arg(long, requires = "dry_run")]
    pub(crate) offline: bool,

    /// Create more than --confirm-above test cases without asking.
    #[arg(long)]
    pub(crate) yes: bool,

    /// Above this many new test cases, ask first on a terminal, or refuse without --yes.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub(crate) confirm_above: usize,

    #[command(flatten)]
    pub(crate) conn: ConnectionArgs,

    #[command(flatten)]
    pub(crate) retry: RetryArgs,

    /// Requests in flight at once (Spira deadlocks under many parallel writers: keep it ≤ 3).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub(crate) jobs: u64,

    /// Record each folder and test case created in FILE (flushed to disk): a run killed in
    /// the middle is resumed without creating anything twice.
    #[arg(long, value_name = "FILE")]
    pub(crate) journal: Option<PathBuf>,

    /// No summary on stderr.
    #[arg(long)]
    pub(crate) quiet: bool,

    /// One line per test case created, and each request, on stderr.
    #[arg(long)]
    pub(crate) verbose: bool,
}

/// How a test is looked up before one is created.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// A test case whose name equals the test's name, case-insensitively.
    Name,
}

/// What the folder tree follows.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Folders {
    /// The suites that hold the test, outermost first.
    Suites,
    /// The classname's dotted parts (`com.acme.Cart` → com / acme / Cart).
    Classname,
    /// None: every test case in the root folder (or --root-folder).
    None,
}
