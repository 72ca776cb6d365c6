//! `spira-post`: batch lines in, one **created** line per stored run out. POSTs each batch to
//! `record-multiple`, retries what may pass on a second try, keeps rejected batches in a
//! dead-letter file, and never shows the key.
//!
//! Not yet here (issue 7): the journal, `--preflight`, `--create-build`, attachments,
//! `--refresh`, `--jobs`.

use std::io::Write;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::cli;
use crate::config::{Auth, Connection, ConnectionArgs};
use crate::error::{Error, Result, EXIT_DATA};

const EXAMPLES: &str = "\
Examples:
  spira-batch runs.jsonl | spira-post --config spira.cfg > created.jsonl
  SPIRA_API_KEY=\"$(cat ~/.spira-key)\" spira-post --url https://acme.spiraservice.net \\
    --username fred --project 1 batches.jsonl
  spira-post --dry-run --url http://localhost:8080 --username u --project 1 batches.jsonl | jq .";

/// Posts batches of runs to Spira's record-multiple, with retries and a dead-letter file.
#[derive(Parser, Debug)]
#[command(name = "spira-post", version, after_help = EXAMPLES)]
pub struct Args {
    /// Batch-line files; `-` or nothing means standard input.
    #[arg(value_name = "FILE")]
    pub files: Vec<std::path::PathBuf>,

    #[command(flatten)]
    pub conn: ConnectionArgs,

    /// Retries of a batch after 429, 500, 502, 503, 504, a broken connection or a timeout.
    #[arg(long, default_value_t = 5)]
    pub retries: u32,

    /// The first backoff, in milliseconds; it doubles on each retry (full jitter), up to 30 s.
    #[arg(long, default_value_t = 500, hide = true)]
    pub backoff_ms: u64,

    /// Where rejected batches go, one JSON line each (created only when one is rejected).
    #[arg(long, value_name = "FILE", default_value = "spira-post.dead.jsonl")]
    pub dead_letter: std::path::PathBuf,

    /// Stop at the first rejected batch.
    #[arg(long)]
    pub fail_fast: bool,

    /// Print each request that would be sent, as a JSON line, and send nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// At the end, ask Spira to refresh the summaries of the releases that received runs
    /// (refresh-caches, asynchronously; needs an administrator account).
    #[arg(long)]
    pub refresh: bool,

    /// Only refresh summaries (of --release, or the whole project); upload nothing.
    #[arg(long)]
    pub refresh_only: bool,

    /// The release for --refresh-only.
    #[arg(long, value_name = "ID", requires = "refresh_only")]
    pub release: Option<u64>,

    /// No summary on stderr.
    #[arg(long)]
    pub quiet: bool,

    /// Log each request's method, URL and status on stderr.
    #[arg(long)]
    pub verbose: bool,
}

/// What happened, for the summary.
#[derive(Default)]
struct Tally {
    batches: u64,
    runs: u64,
    retries: u64,
    rejected_batches: u64,
    rejected_runs: u64,
    possibly_duplicated: u64,
}

/// The outcome of one attempt.
enum Attempt {
    Stored(String),
    Rejected(u16, String),
    Denied(u16),
    /// Worth another try; `maybe_stored` when the request may have reached the server.
    Retry {
        why: String,
        wait: Option<Duration>,
        maybe_stored: bool,
    },
}

/// The entry point of `spira-post`.
pub fn run(args: Args) -> Result<()> {
    let conn = args.conn.resolve()?;
    let url = format!(
        "{}/test-runs/record-multiple",
        conn.project_base(args.conn.api_version)
    );
    let mut out = cli::LineOut::stdout();
    let agent = args.conn.agent();
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut dead: Option<std::io::BufWriter<std::fs::File>> = None;
    let mut rng = seed();
    let mut touched = Touched::default();
    if args.refresh_only {
        let releases: Vec<u64> = args.release.into_iter().collect();
        return refresh(&agent, &conn, &args, &releases);
    }
    let inputs = cli::inputs(&args.files);
    let result = cli::each_line(&inputs, |name, n, line| {
        let body = strip_private(line, &mut touched)
            .map_err(|why| Error::Data(format!("{name}:{n}: not a batch: {why}")))?;
        let runs = count_runs(&body);
        if args.dry_run {
            return out.line(|buf| dry_run_line(buf, &conn, &url, args.conn.auth, &body));
        }
        tally.batches += 1;
        let mut tries = 0;
        let mut maybe_stored = false;
        loop {
            match attempt(&agent, &conn, &url, args.conn.auth, &body) {
                Attempt::Stored(answer) => {
                    if args.verbose {
                        cli::info(format_args!("POST {} 200", conn.redact(&url)));
                    }
                    let created: Vec<&RawValue> = serde_json::from_str(&answer).map_err(|e| {
                        Error::Server(format!("the answer to batch {n} is not a JSON array: {e}"))
                    })?;
                    for c in created {
                        out.line(|buf| buf.extend_from_slice(c.get().as_bytes()))?;
                    }
                    tally.runs += runs;
                    if maybe_stored {
                        tally.possibly_duplicated += runs;
                        cli::warn(format_args!(
                            "{name}:{n}: the batch was sent again after an answer was lost: its {runs} runs may be stored twice"
                        ));
                    }
                    return Ok(());
                }
                Attempt::Denied(status) => {
                    return Err(Error::Server(format!(
                        "{status} from Spira: check the user name and API key (RSS token), whether the account is locked, and that the user has the \"Create Test Runs\" permission in project PR:{} (nothing more was sent)",
                        conn.project
                    )));
                }
                Attempt::Rejected(status, message) => {
                    let message = conn.redact(&message);
                    if args.verbose {
                        cli::info(format_args!("POST {} {status}", conn.redact(&url)));
                    }
                    tally.rejected_batches += 1;
                    tally.rejected_runs += runs;
                    cli::error(format_args!(
                        "{name}:{n}: batch of {runs} runs rejected ({status}): {message}; Spira may have stored the runs before the bad one; the batch is in {}",
                        args.dead_letter.display()
                    ));
                    let w = match dead.as_mut() {
                        Some(w) => w,
                        None => dead.insert(cli::open_append(&args.dead_letter)?),
                    };
                    let record = json!({
                        "status": status,
                        "message": message,
                        "time": crate::spira::format_iso(crate::spira::now()),
                        "runs": serde_json::from_str::<Value>(&body).unwrap_or(Value::Null),
                    });
                    serde_json::to_writer(&mut *w, &record).map_err(std::io::Error::from)?;
                    w.write_all(b"\n")?;
                    w.flush()?;
                    if args.fail_fast {
                        return Err(Error::Exit(EXIT_DATA));
                    }
                    return Ok(());
                }
                Attempt::Retry {
                    why,
                    wait,
                    maybe_stored: maybe,
                } => {
                    maybe_stored |= maybe;
                    if tries >= args.retries {
                        return Err(Error::Server(format!(
                            "{name}:{n}: gave up after {} attempts: {}",
                            tries + 1,
                            conn.redact(&why)
                        )));
                    }
                    tries += 1;
                    tally.retries += 1;
                    let wait = wait.unwrap_or_else(|| backoff(args.backoff_ms, tries, &mut rng));
                    if args.verbose {
                        cli::info(format_args!(
                            "POST {}: {}; retry {tries} in {} ms",
                            conn.redact(&url),
                            conn.redact(&why),
                            wait.as_millis()
                        ));
                    }
                    std::thread::sleep(wait);
                }
            }
        }
    });
    out.flush()?;
    let touched_any = !touched.releases.is_empty() || !touched.sets.is_empty();
    if !args.dry_run && !args.quiet && touched_any {
        let list = |s: &std::collections::BTreeSet<u64>, p: &str| {
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
    let result = match result {
        Err(e) if !matches!(e, Error::Exit(_)) && !e.is_broken_pipe() => {
            cli::error(format_args!("{e}"));
            Err(Error::Exit(e.exit_code()))
        }
        other => other,
    };
    if !args.quiet && !args.dry_run {
        cli::info(format_args!(
            "{} batches, {} runs stored in {:.1} s; {} retries; {} batches ({} runs) rejected{}; {} runs possibly duplicated",
            tally.batches,
            tally.runs,
            started.elapsed().as_secs_f64(),
            tally.retries,
            tally.rejected_batches,
            tally.rejected_runs,
            if tally.rejected_batches > 0 {
                format!(" into {}", args.dead_letter.display())
            } else {
                String::new()
            },
            tally.possibly_duplicated,
        ));
    }
    result?;
    if !args.dry_run && tally.runs > 0 && args.refresh {
        let releases: Vec<u64> = touched.releases.iter().copied().collect();
        refresh(&agent, &conn, &args, &releases)?;
    }
    if tally.rejected_batches > 0 {
        return Err(Error::Exit(EXIT_DATA));
    }
    Ok(())
}

/// The batch with every field whose name starts with `_` removed from each run (those are
/// spira-pipe's own, such as `_Attachments`): what the server receives.
fn strip_private(line: &[u8], touched: &mut Touched) -> std::result::Result<String, String> {
    let runs: Vec<Map<String, Value>> = serde_json::from_slice(line)
        .map_err(|e| format!("expected a JSON array of run objects ({e})"))?;
    let runs: Vec<Map<String, Value>> = runs
        .into_iter()
        .map(|m| {
            let id = |k: &str| {
                m.get(k)
                    .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            };
            touched.releases.extend(id("ReleaseId"));
            touched.sets.extend(id("TestSetId"));
            m.into_iter().filter(|(k, _)| !k.starts_with('_')).collect()
        })
        .collect();
    serde_json::to_string(&runs).map_err(|e| e.to_string())
}

/// The releases and test sets that received runs: their summaries need refreshing.
#[derive(Default)]
struct Touched {
    releases: std::collections::BTreeSet<u64>,
    sets: std::collections::BTreeSet<u64>,
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

fn count_runs(body: &str) -> u64 {
    serde_json::from_str::<Vec<&RawValue>>(body).map_or(0, |v| v.len() as u64)
}

fn attempt(agent: &ureq::Agent, conn: &Connection, url: &str, auth: Auth, body: &str) -> Attempt {
    let resp = conn
        .post(agent, url, auth)
        .header("Content-Type", "application/json")
        .send(body);
    let mut resp = match resp {
        Ok(r) => r,
        // The request may have reached the server before the connection broke.
        Err(e) => {
            return Attempt::Retry {
                why: e.to_string(),
                wait: None,
                maybe_stored: true,
            }
        }
    };
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = match resp.body_mut().read_to_string() {
        Ok(t) => t,
        Err(e) => {
            return Attempt::Retry {
                why: format!("the answer broke off: {e}"),
                wait: None,
                maybe_stored: status == 200,
            }
        }
    };
    match status {
        200 => Attempt::Stored(text),
        401 | 403 => Attempt::Denied(status),
        429 | 500 | 502 | 503 | 504 => Attempt::Retry {
            why: format!("{status} {}", first_line(&text)),
            wait: if status == 429 { retry_after } else { None },
            maybe_stored: false,
        },
        _ => Attempt::Rejected(status, first_line(&text)),
    }
}

fn first_line(text: &str) -> String {
    let t = text.trim().trim_matches('"');
    t.lines().next().unwrap_or("").chars().take(500).collect()
}

/// Exponential backoff with full jitter: a random wait up to base × 2^(try-1), at most 30 s.
fn backoff(base_ms: u64, tries: u32, rng: &mut u64) -> Duration {
    let cap = base_ms.saturating_mul(1 << (tries - 1).min(16)).min(30_000);
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    Duration::from_millis(*rng % (cap + 1))
}

fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    (t ^ u64::from(std::process::id())) | 1
}

/// One request as it would be sent, the key shown as `***` wherever it would appear.
fn dry_run_line(buf: &mut Vec<u8>, conn: &Connection, url: &str, auth: Auth, body: &str) {
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
