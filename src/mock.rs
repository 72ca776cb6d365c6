//! `spira-mock`: a local Spira REST server that behaves as `../shared/spira-api.md` describes,
//! for demos, tests and benchmarks. A real HTTP server (tiny_http) on loopback.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tiny_http::{Method, Request, Server};

use crate::cli;
use crate::error::{Error, Result};
use crate::{date, spira};

const EXAMPLES: &str = "\
Examples:
  spira-mock --listen 127.0.0.1:0
  spira-mock --test-cases 1-5000 --test-set 7=1-100 --record stored.jsonl
  spira-mock --faults 0.2 --seed 42 --slow-ms 500";

/// The default user of the mock, for demos.
pub(crate) const DEMO_USER: &str = "demo";
/// The default API key of the mock, for demos (a made-up RSS token).
pub(crate) const DEMO_KEY: &str = "{00000000-DEMO-KEY0-0000-000000000000}";

/// A local Spira REST server for demos, tests and benchmarks.
#[derive(Parser, Debug)]
#[command(name = "spira-mock", version, after_help = EXAMPLES)]
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

fn in_ranges(ranges: &[(u64, u64)], id: u64) -> bool {
    ranges.iter().any(|(a, b)| (*a..=*b).contains(&id))
}

/// The kinds of fault, drawn with equal chance.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    Status500,
    Status503,
    TooMany,
    CloseBefore,
    CloseAfter,
    Slow,
}

#[derive(Default)]
struct Stats {
    requests: u64,
    runs: u64,
    duplicates: u64,
    faults: u64,
    rejected: u64,
    builds: u64,
    refreshes: u64,
    documents: u64,
}

struct Build {
    release: u64,
    value: Value,
}

/// What changes while the server runs, behind one lock.
struct State {
    stats: Stats,
    bad_attempts: u32,
    locked: bool,
    rng: u64,
    next_run: u64,
    next_build: u64,
    /// Every stored run, one JSON line each.
    runs: Vec<u8>,
    seen: HashSet<u64>,
    builds: BTreeMap<u64, Build>,
    record: Option<std::io::BufWriter<std::fs::File>>,
}

/// What does not change.
struct Config {
    args: Args,
    names: HashMap<u64, String>,
    sets: HashMap<u64, HashSet<u64>>,
    releases: BTreeSet<u64>,
}

impl Config {
    fn test_case_exists(&self, id: u64) -> bool {
        in_ranges(&self.args.test_cases.0, id) || self.names.contains_key(&id)
    }

    fn test_case_name(&self, id: u64) -> String {
        self.names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("Test case {id}"))
    }

    /// Every test case, in ID order.
    fn test_case_ids(&self) -> Vec<u64> {
        let mut ids: BTreeSet<u64> = self.names.keys().copied().collect();
        for (a, b) in &self.args.test_cases.0 {
            ids.extend(*a..=*b);
        }
        ids.into_iter().collect()
    }
}

/// The entry point of `spira-mock`.
pub fn run(args: Args) -> Result<()> {
    if !(0.0..=1.0).contains(&args.faults) {
        return Err(Error::Usage("--faults is a chance from 0 to 1".into()));
    }
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
    let sets = args
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
    let record = args.record.as_deref().map(cli::open_append).transpose()?;
    let server = Server::http(&args.listen)
        .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| Error::Usage("not an IP address".into()))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
    }
    let state = Arc::new(Mutex::new(State {
        stats: Stats::default(),
        bad_attempts: 0,
        locked: false,
        rng: args.seed ^ 0x9E37_79B9_7F4A_7C15,
        next_run: 1,
        next_build: 1,
        runs: Vec::new(),
        seen: HashSet::new(),
        builds: BTreeMap::new(),
        record,
    }));
    let threads = args.threads.max(1);
    let config = Arc::new(Config {
        args,
        names,
        sets,
        releases,
    });
    let server = Arc::new(server);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (server, state, config) = (server.clone(), state.clone(), config.clone());
            std::thread::spawn(move || {
                while let Ok(req) = server.recv() {
                    handle(req, &config, &state);
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    Ok(())
}

/// An answer: status, content type, extra headers and body.
struct Answer {
    status: u16,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn text(status: u16, body: impl Into<String>) -> Answer {
    Answer {
        status,
        content_type: "text/plain; charset=utf-8",
        headers: Vec::new(),
        body: body.into().into_bytes(),
    }
}

fn json_response(status: u16, body: Vec<u8>) -> Answer {
    Answer {
        status,
        content_type: "application/json; charset=utf-8",
        headers: Vec::new(),
        body,
    }
}

/// Writes the whole answer in one write: status line, headers and body together, so that
/// Nagle's algorithm never holds a body back waiting for a delayed ACK of its headers.
fn respond(req: Request, a: Answer) {
    let reason = match a.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut out = Vec::with_capacity(a.body.len() + 256);
    let _ = write!(
        out,
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nServer: spira-mock\r\n",
        a.status,
        a.content_type,
        a.body.len()
    );
    for (k, v) in &a.headers {
        let _ = write!(out, "{k}: {v}\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&a.body);
    let mut w = req.into_writer();
    let _ = w.write_all(&out);
    let _ = w.flush();
}

/// Ends the exchange as a broken connection would: an answer the client cannot read.
fn break_connection(req: Request) {
    let mut w = req.into_writer();
    let _ = w.write_all(b"XX\r\n\r\n");
    let _ = w.flush();
}

/// SplitMix64: a small, seedable dice for faults.
fn next_random(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

fn handle(mut req: Request, config: &Config, state: &Mutex<State>) {
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let path = path.to_string();
    let query: HashMap<String, String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    if let Some(rest) = path.strip_prefix("/__mock/") {
        let answer = inspect(rest, state);
        respond(req, answer);
        return;
    }
    let fault = {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        st.stats.requests += 1;
        let f = config.args.faults;
        if f > 0.0 && next_random(&mut st.rng) < f {
            st.stats.faults += 1;
            let kind = (next_random(&mut st.rng) * 6.0) as usize;
            Some(
                [
                    Fault::Status500,
                    Fault::Status503,
                    Fault::TooMany,
                    Fault::CloseBefore,
                    Fault::CloseAfter,
                    Fault::Slow,
                ][kind.min(5)],
            )
        } else {
            None
        }
    };
    match fault {
        Some(Fault::Status500) => {
            respond(req, text(500, "Transaction (Process ID 61) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction."));
            return;
        }
        Some(Fault::Status503) => {
            respond(req, text(503, "Service Unavailable"));
            return;
        }
        Some(Fault::TooMany) => {
            let mut a = text(429, "Too Many Requests");
            a.headers.push(("Retry-After", "1".into()));
            respond(req, a);
            return;
        }
        Some(Fault::CloseBefore) => {
            break_connection(req);
            return;
        }
        Some(Fault::Slow) => std::thread::sleep(Duration::from_millis(config.args.slow_ms)),
        _ => {}
    }
    let mut body = Vec::new();
    if req.as_reader().read_to_end(&mut body).is_err() {
        respond(req, text(400, "could not read the request body"));
        return;
    }
    let (status, resp_body, is_json) = match authenticate(&req, &query, config, state) {
        Err(msg) => (401, msg.into_bytes(), false),
        Ok(()) => route(req.method(), &path, &query, &body, config, state),
    };
    if config.args.latency_ms > 0 {
        std::thread::sleep(Duration::from_millis(config.args.latency_ms));
    }
    if fault == Some(Fault::CloseAfter) {
        // Whatever was stored stays stored; the client cannot know.
        break_connection(req);
        return;
    }
    let answer = if is_json {
        json_response(status, resp_body)
    } else {
        text(status, String::from_utf8_lossy(&resp_body).into_owned())
    };
    respond(req, answer);
}

/// A query value: `+` is a space, `%XX` a byte (the percent-encoding crate; a `%` that starts
/// no escape stays as written), bytes that are not UTF-8 are replaced.
fn decode(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// Any of the three forms: `username`/`api-key` headers, the same as query parameters, or
/// HTTP Basic. Consecutive bad attempts lock the user.
fn authenticate(
    req: &Request,
    query: &HashMap<String, String>,
    config: &Config,
    state: &Mutex<State>,
) -> std::result::Result<(), String> {
    let h = |name: &str| {
        req.headers()
            .iter()
            .find(|x| x.field.as_str().as_str().eq_ignore_ascii_case(name))
            .map(|x| x.value.as_str().to_string())
    };
    let basic = h("authorization").and_then(|v| {
        let b64 = v
            .strip_prefix("Basic ")
            .or_else(|| v.strip_prefix("basic "))?;
        let raw = base64_decode(b64.trim())?;
        let s = String::from_utf8(raw).ok()?;
        let (u, k) = s.split_once(':')?;
        Some((u.to_string(), k.to_string()))
    });
    let creds = match (h("username"), h("api-key")) {
        (Some(u), Some(k)) => Some((u, k)),
        _ => match (query.get("username"), query.get("api-key")) {
            (Some(u), Some(k)) => Some((u.clone(), k.clone())),
            _ => basic,
        },
    };
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    if st.locked {
        return Err(format!(
            "Unauthorized: the user '{}' is locked after too many failed attempts",
            config.args.username
        ));
    }
    match creds {
        Some((u, k))
            if u.eq_ignore_ascii_case(&config.args.username) && k == config.args.api_key =>
        {
            st.bad_attempts = 0;
            Ok(())
        }
        _ => {
            st.bad_attempts += 1;
            if st.bad_attempts >= config.args.lockout {
                st.locked = true;
            }
            Err("Unauthorized: the username or API key (RSS token) is not valid".into())
        }
    }
}

/// Standard base64, padded or not (the base64 crate).
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(s).ok()
}

/// `/__mock/stats` and `/__mock/runs`: no credentials, no faults.
fn inspect(rest: &str, state: &Mutex<State>) -> Answer {
    let st = state.lock().unwrap_or_else(|p| p.into_inner());
    match rest.split('?').next().unwrap_or("") {
        "stats" => {
            let s = &st.stats;
            let v = json!({
                "requests": s.requests, "runs": s.runs, "duplicates": s.duplicates,
                "faults": s.faults, "rejected": s.rejected, "builds": s.builds,
                "refreshes": s.refreshes, "locked": st.locked, "documents": s.documents,
            });
            json_response(200, v.to_string().into_bytes())
        }
        "runs" => {
            let body = st.runs.clone();
            Answer {
                status: 200,
                content_type: "application/x-ndjson",
                headers: Vec::new(),
                body,
            }
        }
        _ => text(404, "not a mock endpoint: /__mock/stats or /__mock/runs"),
    }
}

type Reply = (u16, Vec<u8>, bool);

fn plain(status: u16, msg: impl Into<String>) -> Reply {
    (status, msg.into().into_bytes(), false)
}

fn route(
    method: &Method,
    path: &str,
    query: &HashMap<String, String>,
    body: &[u8],
    config: &Config,
    state: &Mutex<State>,
) -> Reply {
    let Some(rest) = path
        .strip_prefix("/Services/v7_0/RestService.svc/")
        .or_else(|| path.strip_prefix("/Services/v6_0/RestService.svc/"))
    else {
        return plain(404, format!("Endpoint not found: {path}"));
    };
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let ["projects", pid, tail @ ..] = parts.as_slice() else {
        return plain(404, format!("Endpoint not found: {rest}"));
    };
    if pid.parse::<u64>().ok() != Some(config.args.project) {
        return plain(
            404,
            format!("Project PR:{pid} does not exist or you are not a member"),
        );
    }
    match (method, tail) {
        (Method::Post, ["test-runs", "record-multiple"]) => record_multiple(body, config, state),
        (Method::Post, ["test-runs", "record"]) => record_one(body, config, state),
        (Method::Get, ["releases"]) => {
            let list: Vec<Value> = config
                .releases
                .iter()
                .map(|r| json!({"ReleaseId": r, "VersionNumber": format!("{r}.0"), "Name": format!("Release {r}"), "ProjectId": config.args.project}))
                .collect();
            (200, Value::Array(list).to_string().into_bytes(), true)
        }
        (Method::Post, ["releases", rid, "builds"]) => create_build(rid, body, config, state),
        (Method::Get, ["releases", rid, "builds"]) => {
            let rid: u64 = rid.parse().unwrap_or(0);
            let st = state.lock().unwrap_or_else(|p| p.into_inner());
            let list: Vec<Value> = st
                .builds
                .values()
                .filter(|b| b.release == rid)
                .map(|b| b.value.clone())
                .collect();
            (200, Value::Array(list).to_string().into_bytes(), true)
        }
        (Method::Get, ["test-cases"]) => {
            let start: usize = query
                .get("starting_row")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            let rows: usize = query
                .get("number_of_rows")
                .and_then(|v| v.parse().ok())
                .unwrap_or(500)
                .min(500);
            let list: Vec<Value> = config
                .test_case_ids()
                .into_iter()
                .skip(start.saturating_sub(1))
                .take(rows)
                .map(|id| json!({"TestCaseId": id, "Name": config.test_case_name(id), "ProjectId": config.args.project}))
                .collect();
            (200, Value::Array(list).to_string().into_bytes(), true)
        }
        (Method::Get, ["test-sets", sid, "test-case-mapping"]) => {
            let sid: u64 = sid.parse().unwrap_or(0);
            match config.sets.get(&sid) {
                None => plain(404, format!("Test set TX:{sid} does not exist")),
                Some(members) => {
                    let mut ids: Vec<&u64> = members.iter().collect();
                    ids.sort();
                    let list: Vec<Value> = ids
                        .iter()
                        .enumerate()
                        .map(|(i, id)| json!({"TestSetTestCaseId": sid * 100_000 + i as u64 + 1, "TestCaseId": id, "TestSetId": sid}))
                        .collect();
                    (200, Value::Array(list).to_string().into_bytes(), true)
                }
            }
        }
        (Method::Post, ["documents", kind @ ("file" | "url")]) => {
            let v: Value = match serde_json::from_slice(body) {
                Ok(v) => v,
                Err(e) => return plain(400, format!("The request body is not valid JSON: {e}")),
            };
            if *kind == "file" && v.get("BinaryData").and_then(Value::as_str).is_none() {
                return plain(400, "BinaryData is required for a file attachment");
            }
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            st.stats.documents += 1;
            let id = st.stats.documents;
            let mut out = v.clone();
            out["AttachmentId"] = json!(id);
            if let Some(o) = out.as_object_mut() {
                o.remove("BinaryData");
            }
            (200, out.to_string().into_bytes(), true)
        }
        (Method::Post, ["refresh-caches", ..]) => {
            state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .stats
                .refreshes += 1;
            (200, Vec::new(), false)
        }
        _ => plain(404, format!("Endpoint not found: {method} {rest}")),
    }
}

fn create_build(rid: &str, body: &[u8], config: &Config, state: &Mutex<State>) -> Reply {
    let rid: u64 = rid.parse().unwrap_or(0);
    if !config.releases.contains(&rid) {
        return plain(
            400,
            format!("Release RL:{rid} does not exist in the project"),
        );
    }
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return plain(400, format!("The request body is not valid JSON: {e}")),
    };
    let name = v.get("Name").and_then(Value::as_str).unwrap_or("");
    if name.is_empty() {
        return plain(400, "Name is required for a build");
    }
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let id = st.next_build;
    st.next_build += 1;
    st.stats.builds += 1;
    let out = json!({
        "BuildId": id, "ProjectId": config.args.project, "ReleaseId": rid,
        "BuildStatusId": number(&v, "BuildStatusId").unwrap_or(2), "Name": name,
        "Description": v.get("Description").cloned().unwrap_or(Value::Null),
        "CreationDate": date::format_iso(date::now()),
    });
    st.builds.insert(
        id,
        Build {
            release: rid,
            value: out.clone(),
        },
    );
    (200, out.to_string().into_bytes(), true)
}

/// A numeric field, as a number or a numeric string (Spira's JSON reader takes both).
fn number(v: &Value, key: &str) -> Option<u64> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A numeric field's value from its raw JSON: a number or a numeric string (Spira's JSON
/// reader takes both).
fn raw_number(raw: &RawValue) -> Option<u64> {
    let t = raw.get().trim();
    let t = t
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(t);
    t.trim().parse().ok()
}

fn raw_str(raw: &RawValue) -> Option<std::borrow::Cow<'_, str>> {
    serde_json::from_str::<std::borrow::Cow<'_, str>>(raw.get()).ok()
}

const ID_FIELDS: [&str; 11] = [
    "TestCaseId",
    "ExecutionStatusId",
    "TestRunFormatId",
    "RunnerAssertCount",
    "ReleaseId",
    "TestSetId",
    "TestSetTestCaseId",
    "BuildId",
    "TestConfigurationId",
    "AutomationHostId",
    "AutomationEngineId",
];

/// Checks one run as the server does, and returns it normalised for storing (JSON text of an
/// object without `TestRunId`, keys in order), or the server's error (status and message).
/// Values are taken from the request as raw JSON, so nothing is parsed that is not checked.
/// A run as the request holds it: fields in key order, values as raw JSON.
type RawRun<'a> = BTreeMap<&'a str, &'a RawValue>;

fn check_run(
    o: &RawRun<'_>,
    config: &Config,
    builds: &BTreeMap<u64, Build>,
) -> std::result::Result<String, (u16, String)> {
    let bad = |m: String| Err((400, m));
    // One pass over the fields: the numbers read, the texts and dates kept for their checks.
    let (mut tc, mut status, mut release, mut build, mut set) = (None, None, None, None, None);
    let mut numbers: Vec<(&str, u64)> = Vec::with_capacity(4);
    let (mut runner, mut texts, mut dates) = (None, Vec::with_capacity(2), Vec::with_capacity(2));
    for (&k, &v) in o {
        if v.get() == "null" {
            continue;
        }
        if ID_FIELDS.contains(&k) {
            let n = raw_number(v)
                .ok_or_else(|| (400, format!("Field {k} has an invalid value: {}", v.get())))?;
            match k {
                "TestCaseId" => tc = Some(n),
                "ExecutionStatusId" => status = Some(n),
                "ReleaseId" => release = Some(n),
                "BuildId" => build = Some(n),
                "TestSetId" => set = Some(n),
                _ => {}
            }
            numbers.push((k, n));
            continue;
        }
        match k {
            "RunnerName" => runner = Some(v),
            "RunnerTestName" | "RunnerMessage" => texts.push((k, v)),
            "StartDate" | "EndDate" => dates.push((k, v)),
            _ => {}
        }
    }
    let Some(tc) = tc else {
        return bad("TestCaseId is required".into());
    };
    if !config.test_case_exists(tc) {
        return Err((
            404,
            format!(
                "Test case TC:{tc} does not exist in project PR:{}",
                config.args.project
            ),
        ));
    }
    match status {
        Some(1..=6) => {}
        Some(s) => {
            return bad(format!(
                "ExecutionStatusId {s} is not a valid execution status"
            ))
        }
        None => return bad("ExecutionStatusId is required".into()),
    }
    match (runner, runner.and_then(raw_str)) {
        (Some(r), Some(n)) if !n.is_empty() => texts.push(("RunnerName", r)),
        _ => return bad("RunnerName is required".into()),
    }
    for (field, v) in &texts {
        let max = if *field == "RunnerName" {
            spira::RUNNER_NAME_MAX
        } else {
            spira::TEXT_255
        };
        // A character is never more UTF-16 units than its JSON text's bytes.
        if v.get().len() <= max {
            continue;
        }
        if let Some(s) = raw_str(v) {
            if spira::utf16_len(&s) > max {
                return bad(format!("String or binary data would be truncated in table 'TST_TEST_RUN', column '{}'. Truncated value: '{}'.", field.to_uppercase(), s.chars().take(20).collect::<String>()));
            }
        }
    }
    let mut normal: Vec<(&str, String)> = Vec::with_capacity(2);
    if !dates.iter().any(|(k, _)| *k == "StartDate") {
        return bad("StartDate is required".into());
    }
    for (field, v) in &dates {
        let raw = v.get();
        // Already in the form the server answers with: kept as it is.
        let canonical = raw.len() == 26 && raw.ends_with("Z\"") && raw.as_bytes()[20] == b'.';
        if canonical && raw.get(1..25).and_then(|r| date::parse_iso(r, 0)).is_some() {
            continue;
        }
        match raw_str(v).and_then(|s| date::parse_any(&s)) {
            Some(t) => normal.push((field, date::format_iso(t))),
            None => return bad(format!("{field} {raw} is not a valid date")),
        }
    }
    if let Some(r) = release {
        if !config.releases.contains(&r) {
            return bad(format!("Release RL:{r} does not exist in the project"));
        }
    }
    if let Some(b) = build {
        if !builds.contains_key(&b) {
            return bad(format!("Build BL:{b} does not exist in the project"));
        }
    }
    // A test set without this test case is dropped, silently, as Spira does.
    let drop_set = set.is_some_and(|s| !config.sets.get(&s).is_some_and(|m| m.contains(&tc)));
    let mut out = String::with_capacity(o.values().map(|v| v.get().len() + 24).sum());
    out.push('{');
    let mut first = true;
    for (&k, &v) in o {
        if k.starts_with('_')
            || v.get() == "null"
            || k == "TestRunId"
            || (drop_set && k == "TestSetId")
        {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        // Keys were borrowed from the request, so they hold no escapes.
        out.push('"');
        out.push_str(k);
        out.push_str("\":");
        if let Some((_, n)) = numbers.iter().find(|(n, _)| *n == k) {
            out.push_str(&n.to_string());
        } else if let Some((_, d)) = normal.iter().find(|(n, _)| *n == k) {
            out.push('"');
            out.push_str(d);
            out.push('"');
        } else {
            out.push_str(v.get());
        }
    }
    out.push('}');
    Ok(out)
}

/// Stores a checked run: its ID, the duplicate check, the record file; and appends the stored
/// run's JSON to `reply`.
fn store(st: &mut State, content: String, reply: &mut Vec<u8>) {
    // Keys are in order, so equal content is equal text.
    if !st.seen.insert(content_hash(content.as_bytes())) {
        st.stats.duplicates += 1;
    }
    let id = st.next_run;
    st.next_run += 1;
    st.stats.runs += 1;
    // The stored line is written once into the reply, then copied to the store and the record.
    let start = reply.len();
    reply.extend_from_slice(b"{\"TestRunId\":");
    crate::json::uint(reply, id);
    if content.len() > 2 {
        reply.push(b',');
        reply.extend_from_slice(&content.as_bytes()[1..]);
    } else {
        reply.push(b'}');
    }
    let line = &reply[start..];
    if let Some(w) = st.record.as_mut() {
        let _ = w.write_all(line);
        let _ = w.write_all(b"\n");
    }
    st.runs.extend_from_slice(line);
    st.runs.push(b'\n');
}

/// A quick 64-bit hash of stored content, for the duplicate count.
fn content_hash(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h ^ w).wrapping_mul(0x0000_0100_0000_01B3).rotate_left(29);
    }
    for &c in chunks.remainder() {
        h = (h ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

fn record_multiple(body: &[u8], config: &Config, state: &Mutex<State>) -> Reply {
    // One pass over the body; only a body that is not an array of objects is read again, to
    // say which element is wrong.
    let list: Vec<RawRun<'_>> = match serde_json::from_slice(body) {
        Ok(a) => a,
        Err(e) => return plain(400, not_runs(body, e)),
    };
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let mut reply: Vec<u8> = Vec::with_capacity(body.len() + list.len() * 24);
    reply.push(b'[');
    let mut pending: Vec<String> = Vec::new();
    for (i, v) in list.iter().enumerate() {
        match check_run(v, config, &st.builds) {
            // Saved one by one, no rollback: what came before a bad run stays (unless --atomic).
            Ok(run) if config.args.atomic => pending.push(run),
            Ok(run) => {
                if reply.len() > 1 {
                    reply.push(b',');
                }
                store(&mut st, run, &mut reply);
            }
            Err((_, msg)) => {
                st.stats.rejected += 1;
                if let Some(w) = st.record.as_mut() {
                    let _ = w.flush();
                }
                return plain(400, format!("Test run {} of {}: {msg}", i + 1, list.len()));
            }
        }
    }
    for run in pending {
        if reply.len() > 1 {
            reply.push(b',');
        }
        store(&mut st, run, &mut reply);
    }
    reply.push(b']');
    if let Some(w) = st.record.as_mut() {
        let _ = w.flush();
    }
    (200, reply, true)
}

/// Why a record-multiple body is not an array of run objects.
fn not_runs(body: &[u8], e: serde_json::Error) -> String {
    match serde_json::from_slice::<Vec<&RawValue>>(body) {
        Ok(items) => {
            let n = items.len();
            let i = items
                .iter()
                .position(|v| serde_json::from_str::<RawRun<'_>>(v.get()).is_err())
                .unwrap_or(0);
            format!(
                "Test run {} of {n}: A test run must be a JSON object",
                i + 1
            )
        }
        Err(_) if body.trim_ascii().first() == Some(&b'[') => {
            format!("The request body is not valid JSON: {e}")
        }
        Err(_) => "The request body must be an array of RemoteAutomatedTestRun".into(),
    }
}

fn record_one(body: &[u8], config: &Config, state: &Mutex<State>) -> Reply {
    let v: RawRun<'_> = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return plain(400, format!("The request body is not a JSON object: {e}")),
    };
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    match check_run(&v, config, &st.builds) {
        Ok(run) => {
            let mut reply = Vec::new();
            store(&mut st, run, &mut reply);
            if let Some(w) = st.record.as_mut() {
                let _ = w.flush();
            }
            (200, reply, true)
        }
        Err((status, msg)) => {
            st.stats.rejected += 1;
            plain(status, msg)
        }
    }
}
