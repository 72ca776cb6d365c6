//! `spira-post`: batch lines in, one **created** line per stored run out. POSTs each batch to
//! `record-multiple`, retries what may pass on a second try, keeps rejected batches in a
//! dead-letter file, records progress in a journal so that an interrupted upload can be
//! resumed, and never shows the key.
//!
//! The reading thread prepares each batch (strips spira-pipe's own `_` fields, applies the
//! pre-flight and the build) and hands it to `--jobs` senders; one collector puts the answers
//! back in input order, writes the created lines and the dead letters, and keeps the tally.

mod attach;
mod journal;
mod plan;
mod send;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::cli::{self, Input};
use crate::config::{Auth, Connection, ConnectionArgs};
use crate::error::{Error, Result, EXIT_DATA};
use attach::Attached;
use journal::{Journal, Resume, State};
use send::{Answer, Sender};

const EXAMPLES: &str = "\
Examples:
  spira-batch runs.jsonl | spira-post --config spira.cfg > created.jsonl
  SPIRA_API_KEY=\"$(cat ~/.spira-key)\" spira-post --url https://acme.spiraservice.net \\
    --username fred --project 1 --journal upload.journal batches.jsonl
  spira-post --dry-run --url http://localhost:8080 --username u --project 1 batches.jsonl | jq .";

/// Posts batches of runs to Spira's record-multiple, with retries, a dead-letter file and a
/// journal to resume from.
#[derive(Parser, Debug)]
#[command(name = "spira-post", version, after_help = EXAMPLES)]
pub struct Args {
    /// Batch-line files; `-` or nothing means standard input.
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,

    #[command(flatten)]
    pub(crate) conn: ConnectionArgs,

    /// Retries of a request after 429, 500, 502, 503, 504, a broken connection or a timeout.
    #[arg(long, default_value_t = 5)]
    pub(crate) retries: u32,

    /// The first backoff, in milliseconds; it doubles on each retry (full jitter), up to 30 s.
    #[arg(long, default_value_t = 500, hide = true)]
    pub(crate) backoff_ms: u64,

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

    /// On resuming, skip the batches whose answer never arrived instead of sending them again.
    #[arg(long, requires = "journal")]
    pub(crate) skip_uncertain: bool,

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

    /// The release for --create-build (for runs without a ReleaseId) or --refresh-only.
    #[arg(long, value_name = "ID")]
    pub(crate) release: Option<u64>,

    /// Print each request that would be sent, as a JSON line, and send nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,

    /// At the end, ask Spira to refresh the summaries of the releases that received runs
    /// (refresh-caches, asynchronously; needs an administrator account).
    #[arg(long)]
    pub(crate) refresh: bool,

    /// Only refresh summaries (of --release, or the whole project); upload nothing.
    #[arg(long)]
    pub(crate) refresh_only: bool,

    /// No summary and no progress on stderr.
    #[arg(long)]
    pub(crate) quiet: bool,

    /// Log each request's method, URL and status on stderr.
    #[arg(long)]
    pub(crate) verbose: bool,
}

/// What happened, for the summary.
#[derive(Default)]
struct Tally {
    batches: u64,
    runs: u64,
    retries: u64,
    rejected_batches: u64,
    rejected_runs: u64,
    refused_runs: u64,
    possibly_duplicated: u64,
    journal_batches: u64,
    journal_runs: u64,
    uncertain_skipped: u64,
    uncertain_runs: u64,
    not_sent_batches: u64,
    not_sent_runs: u64,
    attached: Attached,
}

/// What a batch needs done.
enum Work {
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
struct Job {
    index: u64,
    name: String,
    line: u64,
    hash: String,
    work: Work,
    /// The JSON array sent: the runs without their `_` fields.
    body: String,
    /// The runs sent, as given (with `_Attachments`): what a dead letter keeps.
    originals: Vec<Map<String, Value>>,
    runs: u64,
    /// Each sent run's attachments.
    attachments: Vec<Vec<String>>,
    /// Runs the pre-flight refused (unknown test cases), and the IDs they name.
    refused: Vec<Map<String, Value>>,
    refused_ids: BTreeSet<u64>,
    /// Sent again after an earlier run lost its answer.
    resend: bool,
    releases: Vec<u64>,
    sets: Vec<u64>,
}

/// A batch's outcome.
enum Outcome {
    Stored { created: String, duplicate: bool },
    Rejected(u16, String),
    Fatal(Error),
    Nothing,
}

struct Done {
    job: Job,
    outcome: Outcome,
    retries: u64,
    attached: Attached,
    /// What went wrong after the batch was stored (the journal, the attachments' credentials).
    after: Option<Error>,
}

/// The entry point of `spira-post`.
pub fn run(args: Args) -> Result<()> {
    let conn = args.conn.resolve()?;
    if args.refresh_only {
        let agent = args.conn.agent()?;
        let releases: Vec<u64> = args.release.into_iter().collect();
        return refresh(&agent, &conn, &args, &releases);
    }
    if args.jobs > 3 {
        cli::warn(format_args!(
            "--jobs {}: Spira's database deadlocks under parallel writers; 1 to 3 is advised",
            args.jobs
        ));
    }
    // From a spira.cfg, `create_build = true` asks for a build with a generated name.
    let cfg_build = conn.cfg.as_ref().is_some_and(|c| {
        c.values
            .get("create_build")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    });
    let want_build = args.create_build.is_some() || cfg_build;
    if args.release.is_some() && !want_build {
        return Err(Error::Usage(
            "--release is for --create-build (or create_build in a spira.cfg) or --refresh-only"
                .into(),
        ));
    }
    let mut inputs = cli::inputs(&args.files);
    let mut plan = None;
    if args.preflight || want_build {
        let (p, again) = plan::first_pass(&inputs, args.release)?;
        if want_build {
            if let Some(at) = &p.no_release {
                return Err(Error::Usage(format!(
                    "{at}: --create-build needs a release, and this run has no ReleaseId: give --release ID (or spira-map --release)"
                )));
            }
        }
        inputs = again;
        plan = Some(p);
    }
    let build_name = want_build.then(|| {
        args.create_build.clone().unwrap_or_else(|| {
            let runner = plan
                .as_ref()
                .and_then(|p| p.runner.clone())
                .unwrap_or_else(|| "spira-pipe".into());
            format!(
                "{runner} Build {}",
                crate::date::format_iso(crate::date::now())
            )
        })
    });
    if args.dry_run {
        return dry_run(&args, &conn, &inputs, plan.as_ref(), build_name.as_deref());
    }
    let agent = args.conn.agent()?;
    let stop = AtomicBool::new(false);
    let sender = Sender {
        agent: agent.clone(),
        conn: &conn,
        auth: args.conn.auth,
        retries: args.retries,
        backoff_ms: args.backoff_ms,
        verbose: args.verbose,
        stop: &stop,
    };
    let journal = args
        .journal
        .as_deref()
        .map(|p| Journal::open(p, &conn))
        .transpose()?;
    let known = if args.preflight {
        Some(preflight(&agent, &conn, &args, plan.as_ref())?)
    } else {
        None
    };
    let mut builds = HashMap::new();
    if let (Some(name), Some(plan)) = (&build_name, &plan) {
        builds = create_builds(&sender, &args, name, plan, journal.as_ref())?;
    }
    let prep = Prep {
        known: known.as_ref(),
        builds: &builds,
        release: args.release,
    };
    upload(&args, &conn, &sender, journal.as_ref(), &inputs, &prep)
}

/// What the reader applies to each batch.
struct Prep<'a> {
    known: Option<&'a HashSet<u64>>,
    builds: &'a HashMap<u64, u64>,
    release: Option<u64>,
}

/// The batches through the senders and back in order.
fn upload(
    args: &Args,
    conn: &Connection,
    sender: &Sender<'_>,
    journal: Option<&Journal>,
    inputs: &[Input],
    prep: &Prep<'_>,
) -> Result<()> {
    let started = Instant::now();
    let base = conn.project_base(args.conn.api_version);
    let url = format!("{base}/test-runs/record-multiple");
    let jobs = usize::try_from(args.jobs).unwrap_or(1);
    // How far the reader may run ahead of the collector: bounds the memory the reordering uses.
    let window = 2 * args.jobs + 2;
    let emitted = (Mutex::new(0u64), Condvar::new());
    let (work_tx, work_rx) = mpsc::sync_channel::<Job>(jobs);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    let stop = sender.stop;
    let (read, collected) = std::thread::scope(|s| {
        for w in 0..jobs {
            let done_tx = done_tx.clone();
            let work_rx = &work_rx;
            let url = &url;
            let base = &base;
            s.spawn(move || {
                let mut rng = send::seed(w as u64);
                loop {
                    let job = match work_rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                        Ok(j) => j,
                        Err(_) => return,
                    };
                    let done = work(args, sender, journal, url, base, job, &mut rng);
                    if done_tx.send(done).is_err() {
                        return;
                    }
                }
            });
        }
        let emitted = &emitted;
        let collector = s.spawn(move || collect(args, done_rx, emitted, stop, started));
        let mut index = 0u64;
        let read = cli::each_line(inputs, |name, n, line| {
            index += 1;
            {
                let (lock, cv) = emitted;
                let mut e = lock.lock().unwrap_or_else(|p| p.into_inner());
                while index > *e + window {
                    e = cv.wait(e).unwrap_or_else(|p| p.into_inner());
                }
            }
            let job = prepare(args, journal, prep, index, name, n, line)?;
            match job.work {
                Work::Send | Work::AttachOnly(_) => work_tx
                    .send(job)
                    .map_err(|_| Error::Server("the senders stopped".into())),
                _ => done_tx
                    .send(Done {
                        job,
                        outcome: Outcome::Nothing,
                        retries: 0,
                        attached: Attached::default(),
                        after: None,
                    })
                    .map_err(|_| Error::Server("the collector stopped".into())),
            }
        });
        drop(work_tx);
        drop(done_tx);
        let collected = collector
            .join()
            .unwrap_or_else(|_| Err(Error::Server("the collector failed".into())));
        (read, collected)
    });
    let (tally, touched, fatal) = collected?;
    let touched_any = !touched.releases.is_empty() || !touched.sets.is_empty();
    if !args.quiet && touched_any {
        let list = |s: &BTreeSet<u64>, p: &str| {
            s.iter()
                .map(|i| format!("{p}{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        cli::info(format_args!(
            "runs went to releases [{}] and test sets [{}]: their summary status needs a refresh (record-multiple does not do it){}",
            list(&touched.releases, "RL:"),
            list(&touched.sets, "TX:"),
            if args.refresh { "" } else { "; --refresh asks for it, or run spira-post --refresh-only nightly" }
        ));
    }
    // The error first, then the summary of what was done before it.
    let failure = fatal.or(read.err());
    let result = match failure {
        Some(e) if !matches!(e, Error::Exit(_)) && !e.is_broken_pipe() => {
            cli::error(format_args!("{e}"));
            Err(Error::Exit(e.exit_code()))
        }
        Some(e) => Err(e),
        None => Ok(()),
    };
    if !args.quiet {
        cli::info(format_args!("{}", summary(&tally, args, started)));
    }
    result?;
    if tally.runs > 0 && args.refresh {
        let releases: Vec<u64> = touched.releases.iter().copied().collect();
        refresh(&sender.agent, conn, args, &releases)?;
    }
    if tally.rejected_batches > 0 || tally.refused_runs > 0 {
        return Err(Error::Exit(EXIT_DATA));
    }
    Ok(())
}

fn summary(t: &Tally, args: &Args, started: Instant) -> String {
    let dead = args.dead_letter.display();
    let mut s = format!(
        "{} batches, {} runs stored in {:.1} s; {} retries; {} batches ({} runs) rejected{}; {} runs possibly duplicated",
        t.batches,
        t.runs,
        started.elapsed().as_secs_f64(),
        t.retries,
        t.rejected_batches,
        t.rejected_runs,
        if t.rejected_batches > 0 { format!(" into {dead}") } else { String::new() },
        t.possibly_duplicated,
    );
    if t.refused_runs > 0 {
        s.push_str(&format!(
            "; {} runs of unknown test cases kept unsent in {dead}",
            t.refused_runs
        ));
    }
    if t.journal_batches > 0 {
        s.push_str(&format!(
            "; {} batches ({} runs) done before, per the journal",
            t.journal_batches, t.journal_runs
        ));
    }
    if t.uncertain_skipped > 0 {
        s.push_str(&format!(
            "; {} uncertain batches ({} runs) skipped",
            t.uncertain_skipped, t.uncertain_runs
        ));
    }
    if t.not_sent_batches > 0 {
        s.push_str(&format!(
            "; {} batches ({} runs) not stored{}",
            t.not_sent_batches,
            t.not_sent_runs,
            if args.journal.is_some() {
                ": run again with the same input and journal to send them"
            } else {
                ""
            }
        ));
    }
    let a = &t.attached;
    if a.uploaded + a.missing + a.failed > 0 {
        s.push_str(&format!(
            "; {} attachments uploaded, {} missing, {} failed",
            a.uploaded, a.missing, a.failed
        ));
    }
    s
}

/// Reads one batch line into a job: what the journal says of it, and (when it is to be sent)
/// the body with spira-pipe's `_` fields stripped, the pre-flight and the build applied.
fn prepare(
    args: &Args,
    journal: Option<&Journal>,
    prep: &Prep<'_>,
    index: u64,
    name: &str,
    n: u64,
    line: &[u8],
) -> Result<Job> {
    let not_batch = |why: String| {
        Error::Data(format!(
            "{name}:{n}: not a batch: expected a JSON array of run objects ({why})"
        ))
    };
    let mut job = Job {
        index,
        name: name.to_string(),
        line: n,
        hash: String::new(),
        work: Work::Send,
        body: String::new(),
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
            Resume::Uncertain if args.skip_uncertain => job.work = Work::Uncertain,
            Resume::Uncertain => job.resend = true,
        }
    }
    if matches!(job.work, Work::Earlier(_) | Work::Uncertain) {
        job.runs = serde_json::from_slice::<Vec<&RawValue>>(line)
            .map_err(|e| not_batch(e.to_string()))?
            .len() as u64;
        return Ok(job);
    }
    let runs: Vec<Map<String, Value>> =
        serde_json::from_slice(line).map_err(|e| not_batch(e.to_string()))?;
    let mut body = Vec::with_capacity(runs.len());
    for mut run in runs {
        let tc = run.get("TestCaseId").and_then(plan::id);
        if let Some(known) = prep.known {
            if !tc.is_some_and(|tc| known.contains(&tc)) {
                job.refused_ids.extend(tc);
                job.refused.push(run);
                continue;
            }
        }
        if !prep.builds.is_empty() {
            let release = run.get("ReleaseId").and_then(plan::id).or(prep.release);
            if let Some(r) = release {
                if !run.contains_key("ReleaseId") {
                    run.insert("ReleaseId".into(), json!(r));
                }
                if let Some(b) = prep.builds.get(&r) {
                    run.insert("BuildId".into(), json!(b));
                }
            }
        }
        job.releases.extend(run.get("ReleaseId").and_then(plan::id));
        job.sets.extend(run.get("TestSetId").and_then(plan::id));
        let files: Vec<String> = match run.get("_Attachments") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        job.attachments.push(files);
        let sent: Map<String, Value> = run
            .iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        body.push(sent);
        job.originals.push(run);
    }
    job.runs = body.len() as u64;
    job.body = serde_json::to_string(&body).map_err(|e| not_batch(e.to_string()))?;
    Ok(job)
}

/// Sends one job (in a sender thread).
fn work(
    args: &Args,
    sender: &Sender<'_>,
    journal: Option<&Journal>,
    url: &str,
    base: &str,
    job: Job,
    rng: &mut u64,
) -> Done {
    let mut done = Done {
        job,
        outcome: Outcome::Nothing,
        retries: 0,
        attached: Attached::default(),
        after: None,
    };
    let job = &done.job;
    let at = format!("{}:{}", job.name, job.line);
    let journal_err = |e: Error| {
        sender.stop.store(true, Ordering::SeqCst);
        Outcome::Fatal(e)
    };
    if let Work::AttachOnly(ids) = &job.work {
        match attach::upload(sender, base, ids, &job.attachments, &at, rng) {
            Ok(a) => {
                done.attached = a;
                if let Some(j) = journal {
                    if let Err(e) = j.attached(job.index, &job.hash) {
                        done.outcome = journal_err(e);
                    }
                }
            }
            Err((a, status)) => {
                done.attached = a;
                sender.stop.store(true, Ordering::SeqCst);
                done.outcome = Outcome::Fatal(denied(status, sender.conn));
            }
        }
        return done;
    }
    if sender.stop.load(Ordering::SeqCst) {
        done.job.work = Work::NotSent;
        return done;
    }
    if job.runs == 0 {
        // Every run was refused by the pre-flight: nothing to send.
        if let Some(j) = journal {
            if let Err(e) = j.stored(job.index, &job.hash, &[], true) {
                done.outcome = journal_err(e);
                return done;
            }
        }
        done.outcome = Outcome::Stored {
            created: "[]".into(),
            duplicate: false,
        };
        return done;
    }
    if let Some(j) = journal {
        if let Err(e) = j.sending(job.index, &job.hash, job.runs) {
            done.outcome = journal_err(e);
            return done;
        }
    }
    fault_point("before-request", job.index);
    let sent = sender.post(url, &job.body, rng);
    if matches!(sent.answer, Answer::Ok(_)) {
        fault_point("after-answer", job.index);
    }
    done.retries = sent.retries;
    let mut after = None;
    let note = |r: Result<()>| r.err().map(journal_err);
    done.outcome = match sent.answer {
        Answer::Ok(text) => {
            let created: Vec<&RawValue> = match serde_json::from_str(&text) {
                Ok(c) => c,
                Err(e) => {
                    // Stored all the same: never send it again.
                    if let Some(j) = journal {
                        let _ = j.stored(job.index, &job.hash, &[], true);
                    }
                    sender.stop.store(true, Ordering::SeqCst);
                    done.outcome = Outcome::Fatal(Error::Server(format!(
                        "{at}: the batch was stored, but the answer is not a JSON array: {e}"
                    )));
                    return done;
                }
            };
            let has_files = job.attachments.iter().any(|a| !a.is_empty());
            let ids: Vec<u64> = if journal.is_some() || has_files {
                created.iter().map(|c| created_id(c)).collect()
            } else {
                Vec::new()
            };
            let mut outcome = None;
            if let Some(j) = journal {
                outcome = note(j.stored(job.index, &job.hash, &ids, !has_files));
            }
            if has_files && outcome.is_none() {
                match attach::upload(sender, base, &ids, &job.attachments, &at, rng) {
                    Ok(a) => {
                        done.attached = a;
                        if let Some(j) = journal {
                            outcome = note(j.attached(job.index, &job.hash));
                        }
                    }
                    Err((a, status)) => {
                        done.attached = a;
                        sender.stop.store(true, Ordering::SeqCst);
                        outcome = Some(Outcome::Fatal(denied(status, sender.conn)));
                    }
                }
            }
            if created.len() as u64 != job.runs {
                cli::warn(format_args!(
                    "{at}: {} runs sent, {} created in the answer",
                    job.runs,
                    created.len()
                ));
            }
            // The created lines are written even when a later step failed: the runs are stored.
            if let Some(Outcome::Fatal(e)) = outcome {
                after = Some(e);
            }
            Outcome::Stored {
                created: text.clone(),
                duplicate: sent.maybe_stored || job.resend,
            }
        }
        Answer::Rejected(status, message) => {
            if args.fail_fast {
                sender.stop.store(true, Ordering::SeqCst);
            }
            note(journal.map_or(Ok(()), |j| j.rejected(job.index, &job.hash, status)))
                .unwrap_or(Outcome::Rejected(status, message))
        }
        Answer::Denied(status) => {
            sender.stop.store(true, Ordering::SeqCst);
            if let Some(j) = journal {
                let _ = j.failed(job.index, &job.hash, sent.maybe_stored);
            }
            Outcome::Fatal(denied(status, sender.conn))
        }
        Answer::GaveUp(why) => {
            sender.stop.store(true, Ordering::SeqCst);
            if let Some(j) = journal {
                let _ = j.failed(job.index, &job.hash, sent.maybe_stored || job.resend);
            }
            Outcome::Fatal(Error::Server(format!("{at}: {why}")))
        }
        Answer::Stopped => {
            if let Some(j) = journal {
                let _ = j.failed(job.index, &job.hash, sent.maybe_stored || job.resend);
            }
            done.job.work = Work::NotSent;
            Outcome::Nothing
        }
    };
    done.after = after;
    done
}

/// Crash testing: `SPIRA_POST_KILL_AT=POINT:N` (POINT `before-request` or `after-answer`, N a
/// batch number) makes spira-post SIGKILL itself at that point of batch N, as a power cut or
/// the OOM killer would. Only the tests set it.
fn fault_point(point: &str, index: u64) {
    static AT: std::sync::OnceLock<Option<(String, u64)>> = std::sync::OnceLock::new();
    let at = AT.get_or_init(|| {
        let v = std::env::var("SPIRA_POST_KILL_AT").ok()?;
        let (p, n) = v.split_once(':')?;
        Some((p.to_string(), n.parse().ok()?))
    });
    if at.as_ref().is_some_and(|(p, n)| p == point && *n == index) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &std::process::id().to_string()])
            .status();
        std::process::abort();
    }
}

/// The `TestRunId` of one created run (0 when it has none).
fn created_id(raw: &RawValue) -> u64 {
    #[derive(serde::Deserialize)]
    struct Id {
        #[serde(rename = "TestRunId")]
        id: Option<Value>,
    }
    serde_json::from_str::<Id>(raw.get())
        .ok()
        .and_then(|i| i.id.as_ref().and_then(plan::id))
        .unwrap_or(0)
}

fn denied(status: u16, conn: &Connection) -> Error {
    Error::Server(format!(
        "{status} from Spira: check the user name and API key (RSS token), whether the account is locked, and that the user has the \"Create Test Runs\" permission in project PR:{} (nothing more was sent)",
        conn.project
    ))
}

/// The releases and test sets that received runs: their summaries need refreshing.
#[derive(Default)]
struct Touched {
    releases: BTreeSet<u64>,
    sets: BTreeSet<u64>,
}

type Collected = (Tally, Touched, Option<Error>);

/// Puts the outcomes back in input order: created lines to stdout, dead letters to their file,
/// the tally, the progress line.
fn collect(
    args: &Args,
    done_rx: mpsc::Receiver<Done>,
    emitted: &(Mutex<u64>, Condvar),
    stop: &AtomicBool,
    started: Instant,
) -> Result<Collected> {
    let mut out = cli::LineOut::stdout();
    let mut tally = Tally::default();
    let mut touched = Touched::default();
    let mut fatal: Option<Error> = None;
    let mut dead: Option<std::io::BufWriter<std::fs::File>> = None;
    let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
    let mut next = 1u64;
    let progress = !args.quiet && !args.verbose && std::io::stderr().is_terminal();
    let mut shown = Instant::now();
    let mut drawn = false;
    for d in done_rx {
        pending.insert(d.job.index, d);
        while let Some(d) = pending.remove(&next) {
            if drawn {
                let _ = write!(std::io::stderr(), "\r\x1b[K");
                drawn = false;
            }
            let r = one(
                args,
                d,
                &mut out,
                &mut dead,
                &mut tally,
                &mut touched,
                &mut fatal,
            );
            if let Err(e) = r {
                // stdout or the dead-letter file failed: nothing more can be kept.
                stop.store(true, Ordering::SeqCst);
                fatal.get_or_insert(e);
            }
            next += 1;
            let (lock, cv) = emitted;
            *lock.lock().unwrap_or_else(|p| p.into_inner()) = next - 1;
            cv.notify_all();
        }
        if progress && shown.elapsed() > Duration::from_millis(200) {
            let _ = out.flush();
            let _ = write!(
                std::io::stderr(),
                "\r{}: {} batches, {} runs stored, {} retries, {:.0} s\x1b[K",
                cli::tool(),
                tally.batches,
                tally.runs,
                tally.retries,
                started.elapsed().as_secs_f64()
            );
            shown = Instant::now();
            drawn = true;
        }
    }
    if drawn {
        let _ = write!(std::io::stderr(), "\r\x1b[K");
    }
    if let Err(e) = out.flush() {
        fatal.get_or_insert(e);
    }
    Ok((tally, touched, fatal))
}

/// One outcome, in its turn.
fn one(
    args: &Args,
    d: Done,
    out: &mut cli::LineOut,
    dead: &mut Option<std::io::BufWriter<std::fs::File>>,
    tally: &mut Tally,
    touched: &mut Touched,
    fatal: &mut Option<Error>,
) -> Result<()> {
    let job = d.job;
    let at = format!("{}:{}", job.name, job.line);
    tally.retries += d.retries;
    let a = &mut tally.attached;
    a.uploaded += d.attached.uploaded;
    a.missing += d.attached.missing;
    a.failed += d.attached.failed;
    let mut dead_letter = |status: Value, message: &str, runs: &[Map<String, Value>]| {
        let w = match dead.as_mut() {
            Some(w) => w,
            None => dead.insert(cli::open_append(&args.dead_letter)?),
        };
        let record = json!({
            "status": status,
            "message": message,
            "time": crate::date::format_iso(crate::date::now()),
            "runs": runs,
        });
        serde_json::to_writer(&mut *w, &record).map_err(std::io::Error::from)?;
        w.write_all(b"\n")?;
        w.flush()?;
        Ok::<(), Error>(())
    };
    if !job.refused.is_empty() {
        let ids: Vec<String> = job.refused_ids.iter().map(|i| format!("TC:{i}")).collect();
        let message = format!(
            "preflight: {} runs name test cases that are not in the project ({}); they were not sent",
            job.refused.len(),
            ids.join(", ")
        );
        cli::error(format_args!(
            "{at}: {message}; they are in {}",
            args.dead_letter.display()
        ));
        dead_letter(Value::Null, &message, &job.refused)?;
        tally.refused_runs += job.refused.len() as u64;
    }
    match &job.work {
        Work::Earlier(State::Stored(_)) | Work::Earlier(State::Rejected) => {
            tally.journal_batches += 1;
            tally.journal_runs += job.runs;
        }
        Work::Earlier(_) => {}
        Work::AttachOnly(_) => {
            tally.journal_batches += 1;
            tally.journal_runs += job.runs;
            cli::warn(format_args!(
                "{at}: stored by an earlier run whose attachments were cut short: they were uploaded again (some may now be there twice)"
            ));
        }
        Work::Uncertain => {
            tally.uncertain_skipped += 1;
            tally.uncertain_runs += job.runs;
            cli::warn(format_args!(
                "{at}: its answer never arrived in an earlier run: it may or may not be stored; skipped (--skip-uncertain)"
            ));
        }
        Work::NotSent => {
            tally.not_sent_batches += 1;
            tally.not_sent_runs += job.runs;
        }
        Work::Send => {}
    }
    match d.outcome {
        Outcome::Stored { created, duplicate } => {
            let created: Vec<&RawValue> = serde_json::from_str(&created).unwrap_or_default();
            for c in created {
                out.line(|buf| buf.extend_from_slice(c.get().as_bytes()))?;
            }
            // Out at once: a stored batch's created lines must survive the process being killed.
            out.flush()?;
            tally.batches += 1;
            tally.runs += job.runs;
            touched.releases.extend(&job.releases);
            touched.sets.extend(&job.sets);
            if duplicate {
                tally.possibly_duplicated += job.runs;
                cli::warn(format_args!(
                    "{at}: the batch was sent again after an answer was lost{}: its {} runs may be stored twice",
                    if job.resend { " (in an earlier run)" } else { "" },
                    job.runs
                ));
            }
        }
        Outcome::Rejected(status, message) => {
            tally.rejected_batches += 1;
            tally.rejected_runs += job.runs;
            cli::error(format_args!(
                "{at}: batch of {} runs rejected ({status}): {message}; Spira may have stored the runs before the bad one; the batch is in {}",
                job.runs,
                args.dead_letter.display()
            ));
            dead_letter(json!(status), &message, &job.originals)?;
        }
        Outcome::Fatal(e) => {
            tally.not_sent_batches += 1;
            tally.not_sent_runs += job.runs;
            fatal.get_or_insert(e);
        }
        Outcome::Nothing => {}
    }
    if let Some(e) = d.after {
        fatal.get_or_insert(e);
    }
    Ok(())
}

/// The credentials and every test case the input names, checked before anything is sent.
fn preflight(
    agent: &ureq::Agent,
    conn: &Connection,
    args: &Args,
    plan: Option<&plan::Plan>,
) -> Result<HashSet<u64>> {
    let mut known = HashSet::new();
    crate::client::each_page(agent, conn, &args.conn, |page| {
        known.extend(page.iter().map(|t| t.test_case_id));
        Ok(())
    })?;
    let missing: Vec<u64> = plan
        .map(|p| {
            p.test_cases
                .iter()
                .filter(|t| !known.contains(t))
                .copied()
                .collect()
        })
        .unwrap_or_default();
    if !args.quiet {
        cli::info(format_args!(
            "preflight: credentials accepted; {} test cases in PR:{}; {}",
            known.len(),
            conn.project,
            if missing.is_empty() {
                "every test case the runs name exists".to_string()
            } else {
                format!(
                    "{} named by the runs do not exist: {}{}",
                    missing.len(),
                    missing
                        .iter()
                        .take(10)
                        .map(|t| format!("TC:{t}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if missing.len() > 10 { ", …" } else { "" }
                )
            }
        ));
    }
    Ok(known)
}

/// One build per release the runs go to (reusing one an earlier run of the journal created).
fn create_builds(
    sender: &Sender<'_>,
    args: &Args,
    name: &str,
    plan: &plan::Plan,
    journal: Option<&Journal>,
) -> Result<HashMap<u64, u64>> {
    let base = sender.conn.project_base(args.conn.api_version);
    let mut builds = HashMap::new();
    let mut rng = send::seed(99);
    for (&release, &failed) in &plan.releases {
        if let Some(&b) = journal.and_then(|j| j.builds.get(&release)) {
            if !args.quiet {
                cli::info(format_args!(
                    "using build BL:{b} in release RL:{release}, created by an earlier run (journal)"
                ));
            }
            builds.insert(release, b);
            continue;
        }
        let body = build_body(sender.conn.project, release, failed, name, plan);
        let url = format!("{base}/releases/{release}/builds");
        let sent = sender.post(&url, &body.to_string(), &mut rng);
        let text = match sent.answer {
            Answer::Ok(t) => t,
            Answer::Denied(s) => {
                return Err(Error::Server(format!(
                    "{s} from Spira when creating the build: check the credentials and that the user may create builds in project PR:{} (nothing was sent)",
                    sender.conn.project
                )))
            }
            Answer::Rejected(s, m) => {
                return Err(Error::Data(format!(
                    "cannot create the build in release RL:{release}: {s} {m} (nothing was sent)"
                )))
            }
            Answer::GaveUp(why) => {
                return Err(Error::Server(format!(
                    "cannot create the build in release RL:{release}: {why} (nothing was sent)"
                )))
            }
            Answer::Stopped => return Err(Error::Exit(3)),
        };
        let id = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("BuildId").and_then(plan::id))
            .ok_or_else(|| {
                Error::Server(format!(
                    "the answer to the build creation has no BuildId: {}",
                    send::first_line(&text)
                ))
            })?;
        if let Some(j) = journal {
            j.build(release, id, name)?;
        }
        if !args.quiet {
            cli::info(format_args!(
                "created build BL:{id} '{name}' in release RL:{release} ({})",
                if failed { "failed" } else { "passed" }
            ));
        }
        builds.insert(release, id);
    }
    Ok(builds)
}

fn build_body(project: u64, release: u64, failed: bool, name: &str, plan: &plan::Plan) -> Value {
    json!({
        "ProjectId": project, "ReleaseId": release,
        "BuildStatusId": if failed { 1 } else { 2 },
        "Name": name,
        "Description": format!("{} runs, {} failed or blocked; recorded by spira-post", plan.runs, plan.failed),
    })
}

/// `refresh-caches` once per release (or once for the project), asynchronously. Needs an
/// administrator: a 401 is a warning naming the page that does the same by hand.
fn refresh(agent: &ureq::Agent, conn: &Connection, args: &Args, releases: &[u64]) -> Result<()> {
    let base = format!(
        "{}/refresh-caches",
        conn.project_base(args.conn.api_version)
    );
    let targets: Vec<String> = if releases.is_empty() {
        vec![format!("{base}?run_async=true")]
    } else {
        releases
            .iter()
            .map(|r| format!("{base}/{r}?run_async=true"))
            .collect()
    };
    for url in targets {
        let resp = conn
            .post(agent, &url, args.conn.auth)
            .header("Content-Type", "application/json")
            .send("")
            .map_err(|e| Error::Server(format!("refresh: {}", conn.redact(&e.to_string()))))?;
        match resp.status().as_u16() {
            200 | 204 => {
                if !args.quiet {
                    cli::info(format_args!("asked Spira to refresh {}", conn.redact(&url)));
                }
            }
            401 | 403 => cli::warn(format_args!(
                "the summaries could not be refreshed ({}): the API user needs to be an administrator; refresh them on the Administration > Data Tools page (Refresh Test Status Cache)",
                resp.status().as_u16()
            )),
            s => return Err(Error::Server(format!("refresh: {s} from Spira"))),
        }
    }
    Ok(())
}

/// `--dry-run`: each request that would be sent, as a JSON line; no connection at all.
fn dry_run(
    args: &Args,
    conn: &Connection,
    inputs: &[Input],
    plan: Option<&plan::Plan>,
    build: Option<&str>,
) -> Result<()> {
    let mut out = cli::LineOut::stdout();
    let base = conn.project_base(args.conn.api_version);
    let auth = args.conn.auth;
    if args.preflight {
        cli::warn(format_args!(
            "dry run: --preflight needs the server, so it is left out"
        ));
    }
    if let (Some(name), Some(plan)) = (build, plan) {
        for (&release, &failed) in &plan.releases {
            let body = build_body(conn.project, release, failed, name, plan).to_string();
            let url = format!("{base}/releases/{release}/builds");
            out.line(|buf| request_line(buf, conn, &url, auth, &body))?;
        }
        cli::info(format_args!(
            "dry run: the created build's BuildId would be set on every run"
        ));
    }
    let url = format!("{base}/test-runs/record-multiple");
    let prep = Prep {
        known: None,
        builds: &HashMap::new(),
        release: args.release,
    };
    let mut files = 0usize;
    cli::each_line(inputs, |name, n, line| {
        let job = prepare(args, None, &prep, 0, name, n, line)?;
        files += job.attachments.iter().map(Vec::len).sum::<usize>();
        out.line(|buf| request_line(buf, conn, &url, auth, &job.body))
    })?;
    out.flush()?;
    if files > 0 {
        cli::info(format_args!(
            "dry run: after each batch is stored, its {files} attachments would be uploaded (documents/file or documents/url)"
        ));
    }
    Ok(())
}

/// One request as it would be sent, the key shown as `***` wherever it would appear.
fn request_line(buf: &mut Vec<u8>, conn: &Connection, url: &str, auth: Auth, body: &str) {
    let mut headers = Map::new();
    headers.insert("Content-Type".into(), json!("application/json"));
    headers.insert("Accept".into(), json!("application/json"));
    let shown_url = match auth {
        Auth::Query => format!(
            "{url}?username={}&api-key=***",
            crate::config::percent_encode(&conn.username)
        ),
        _ => url.to_string(),
    };
    match auth {
        Auth::Headers => {
            headers.insert("username".into(), json!(conn.username));
            headers.insert("api-key".into(), json!("***"));
        }
        Auth::Basic => {
            headers.insert("Authorization".into(), json!("Basic ***"));
        }
        Auth::Query => {}
    }
    // Written in reading order: method, URL, headers, body.
    buf.extend_from_slice(b"{\"method\":\"POST\",\"url\":");
    let _ = serde_json::to_writer(&mut *buf, &shown_url);
    buf.extend_from_slice(b",\"headers\":");
    let _ = serde_json::to_writer(&mut *buf, &headers);
    buf.extend_from_slice(b",\"body\":");
    buf.extend_from_slice(body.as_bytes());
    buf.push(b'}');
}
