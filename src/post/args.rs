//! spira-post's command line.

use std::path::PathBuf;

use clap::Parser;

use crate::client::send::RetryArgs;
use crate::config::ConnectionArgs;

pub(super) const EXAMPLES: &str = "\
Examples:
  spira-batch runs.jsonl | spira-post --config spira.cfg > created.jsonl
  SPIRA_API_KEY=\"$(cat ~/.spira-key)\" spira-post --url https://acme.spiraservice.net \\
    --username fred --project 1 --journal upload.journal batches.jsonl
  spira-post --dry-run --url http://localhost:8080 --username u --project 1 batches.jsonl | jq .";

/// The status a created build is given.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BuildStatus {
    Passed,
    Failed,
    FromRuns,
}

/// Posts batches of runs to Spira's record-multiple, with retries, a dead-letter file and a
/// journal to resume from.
#[derive(Parser, Debug)]
#[command(name = "spira-post", version = crate::cli::VERSION, after_help = EXAMPLES)]
pub struct Args {
    /// Batch-line files; `-` or nothing means standard input.
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,

    #[command(flatten)]
    pub(crate) conn: ConnectionArgs,

    #[command(flatten)]
    pub(crate) retry: RetryArgs,

    /// Where rejected batches go, one JSON line each (created only when one is rejected).
    #[arg(long, value_name = "FILE", default_value = "spira-post.dead.jsonl")]
    pub(crate) dead_letter: PathBuf,

    /// Stop at the first rejected batch.
    #[arg(long)]
    pub(crate) fail_fast: bool,

    /// Record each batch's hash and outcome in FILE (flushed to disk); run again with the same
    /// input and journal to send only what is not yet stored.
    #[arg(long, value_name = "FILE")]
    pub(crate) journal: Option<PathBuf>,

    /// When it cannot be known whether a batch was stored (its answer was lost, and what the
    /// server holds could not be listed, or --no-reconcile), leave it instead of sending it
    /// again: nothing is stored twice, and the summary and exit code say what was left.
    #[arg(long)]
    pub(crate) skip_uncertain: bool,

    /// Do not ask the server what it holds after an answer was lost: send the batch again
    /// (which may store its runs twice, as counted in the summary).
    #[arg(long)]
    pub(crate) no_reconcile: bool,

    /// Requests in flight at once (Spira deadlocks under many parallel writers: keep it ≤ 3).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub(crate) jobs: u64,

    /// Before sending anything, check the credentials and that every TestCaseId exists in the
    /// project; runs naming unknown test cases go to the dead-letter file unsent.
    #[arg(long)]
    pub(crate) preflight: bool,

    /// Create a build named NAME in the runs' release before the first batch, and set its
    /// BuildId on every run (failed if any run failed or was blocked, else passed).
    #[arg(long, value_name = "NAME")]
    pub(crate) create_build: Option<String>,

    /// Find the build named NAME in each release the runs go to, or create it when there is
    /// none: shards of one CI run share one build, and a rerun sends only the runs the build
    /// does not hold yet (no journal needed).
    #[arg(long, value_name = "NAME", conflicts_with = "create_build")]
    pub(crate) build_name: Option<String>,

    /// The status of a build created: from the runs (failed if any failed or was blocked), or
    /// as given by a pipeline that knows its outcome.
    #[arg(long, value_name = "STATUS", value_enum, default_value_t = BuildStatus::FromRuns)]
    pub(crate) build_status: BuildStatus,

    /// The commit a created build is of (repeatable; default: the CI system's, such as
    /// GITHUB_SHA or CI_COMMIT_SHA).
    #[arg(long, value_name = "SHA")]
    pub(crate) revision: Vec<String>,

    /// The page of the CI job, for a created build's description (default: the CI system's).
    #[arg(long, value_name = "URL")]
    pub(crate) build_url: Option<String>,

    /// The release for --create-build (for runs without a ReleaseId) or --refresh-only.
    #[arg(long, value_name = "ID")]
    pub(crate) release: Option<u64>,

    /// The release or iteration whose version number is V, as --release (asks the server;
    /// not with --dry-run).
    #[arg(long, value_name = "V", conflicts_with_all = ["release", "dry_run"])]
    pub(crate) release_version: Option<String>,

    /// Print each request that would be sent, as a JSON line, and send nothing (no API key
    /// is needed).
    #[arg(long)]
    pub(crate) dry_run: bool,

    /// At the end, ask Spira to refresh the summaries of the releases that received runs
    /// (refresh-caches, asynchronously; needs an administrator account).
    #[arg(long)]
    pub(crate) refresh: bool,

    /// Only refresh summaries (of --release, or the whole project); upload nothing. Not with
    /// --dry-run, which connects to nothing.
    #[arg(long, conflicts_with = "dry_run")]
    pub(crate) refresh_only: bool,

    /// Also write the summary to FILE as one JSON object (build and release IDs and pages,
    /// runs stored, found stored, rejected, unsent; see schemas/post-summary.schema.json), for
    /// a later CI step: `jq -r .build_id FILE`. Written whenever the upload ran, failed or not.
    #[arg(long, value_name = "FILE", conflicts_with = "dry_run")]
    pub(crate) summary_json: Option<PathBuf>,

    /// No summary and no progress on stderr.
    #[arg(long)]
    pub(crate) quiet: bool,

    /// Log each request's method, URL and status on stderr.
    #[arg(long)]
    pub(crate) verbose: bool,
}
