//! Requests to their handlers: the mock's own inspection endpoints, faults, credentials, then
//! one arm per REST endpoint.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};
use tiny_http::{Method, Request};

use super::auth::authenticate;
use super::builds::{list_builds, post_builds};
use super::catalog;
use super::conform;
use super::http::{
    break_connection, decode, json_response, next_random, plain, respond, text, Answer, Reply,
};
use super::listing;
use super::openapi::Op;
use super::project;
use super::runs::{record_multiple, record_one};
use super::state::{Config, Fault, State};

pub(super) fn handle(req: Request, config: &Config, state: &Mutex<State>) {
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let path = path.to_string();
    let query: HashMap<String, String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    if let Some(rest) = path.strip_prefix("/__mock/") {
        let answer = inspect(rest, config, state);
        respond(req, answer);
        return;
    }
    let fault = draw_fault(config, state);
    let Some(mut req) = fault_before(req, fault, config) else {
        return;
    };
    let mut body = Vec::new();
    if req.as_reader().read_to_end(&mut body).is_err() {
        respond(req, text(400, "could not read the request body"));
        return;
    }
    let op = config.description.find(req.method().as_str(), &path);
    let (status, resp_body, is_json) = match authenticate(&req, &query, config, state) {
        Err(msg) => (401, msg.into_bytes(), false),
        Ok(()) => match described(op, &path, req.method(), &query, &body, state) {
            Err(reply) => reply,
            Ok(None) => route(req.method(), &path, &query, &body, config, state),
            Ok(Some(read)) => route(req.method(), &path, &query, &read, config, state),
        },
    };
    if let (true, Some(op), 200) = (config.args.check_answers, op, status) {
        check_answer(op, &resp_body, state);
    }
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

/// At most 200 characters of `s`, control characters escaped: a hostile path goes into the stats.
fn printable(s: &str) -> String {
    s.chars().take(200).flat_map(char::escape_debug).collect()
}

/// A request the API description does not allow: answered 400 where Spira refuses it (naming
/// the parameter or field), else handled with the body as Spira reads it (`Some`), the
/// leniency counted (`conform`). A request to an endpoint the description does not have is
/// counted.
fn described(
    op: Option<&Op>,
    path: &str,
    method: &Method,
    query: &HashMap<String, String>,
    body: &[u8],
    state: &Mutex<State>,
) -> Result<Option<Vec<u8>>, Reply> {
    let Some(op) = op else {
        let name = format!("{method} {}", printable(path));
        lock(state).stats.undescribed.insert(name);
        return Ok(None);
    };
    if let Err(reason) = op.check_query(query) {
        return Err(conform::refused(op, body, &reason, state));
    }
    // record-multiple's handler checks its runs as it reads them (one pass, not two).
    if op.checks_own_body() {
        return Ok(None);
    }
    match op.check_body(body) {
        Ok(()) => Ok(None),
        Err(reason) => conform::taken(op, body, reason, state).map(Some),
    }
}

/// With `--check-answers`: an answer that does not match the description is counted and told.
fn check_answer(op: &Op, body: &[u8], state: &Mutex<State>) {
    let mut st = lock(state);
    st.stats.answered.insert(op.name.clone());
    if let Err(reason) = op.check_answer(body) {
        eprintln!(
            "spira-mock: the answer to {} does not match the description: {reason}",
            op.name
        );
        st.stats.nonconforming_answers += 1;
        st.stats.last_nonconforming_answer = Some(format!("{}: {reason}", op.name));
    }
}

/// A fault for this request, with `--faults`' chance (each kind as likely), counted.
fn draw_fault(config: &Config, state: &Mutex<State>) -> Option<Fault> {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    st.stats.requests += 1;
    let f = config.args.faults;
    if f <= 0.0 || next_random(&mut st.rng) >= f {
        return None;
    }
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
}

/// The faults that strike before the request is handled: answered here (`None`), or a
/// delay and the request handed back.
fn fault_before(req: Request, fault: Option<Fault>, config: &Config) -> Option<Request> {
    match fault {
        Some(Fault::Status500) => {
            respond(req, text(500, "Transaction (Process ID 61) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction."));
            None
        }
        Some(Fault::Status503) => {
            respond(req, text(503, "Service Unavailable"));
            None
        }
        Some(Fault::TooMany) => {
            let mut a = text(429, "Too Many Requests");
            a.headers.push(("Retry-After", "1".into()));
            respond(req, a);
            None
        }
        Some(Fault::CloseBefore) => {
            break_connection(req);
            None
        }
        Some(Fault::Slow) => {
            std::thread::sleep(Duration::from_millis(config.args.slow_ms));
            Some(req)
        }
        _ => Some(req),
    }
}

/// `/__mock/stats` and `/__mock/runs`: no credentials, no faults.
fn inspect(rest: &str, config: &Config, state: &Mutex<State>) -> Answer {
    let st = state.lock().unwrap_or_else(|p| p.into_inner());
    match rest.split('?').next().unwrap_or("") {
        "stats" => {
            let s = &st.stats;
            let v = json!({
                "requests": s.requests, "runs": s.runs, "duplicates": s.duplicates,
                "faults": s.faults, "rejected": s.rejected, "builds": s.builds, "builds_by_name": s.builds_by_name, "hosts_created": s.hosts_created,
                "refreshes": s.refreshes, "locked": st.locked, "documents": s.documents,
                "test_cases": config.test_case_ids().len() + st.catalog.cases.len(), "duplicate_test_cases": st.catalog.duplicates,
                "folders": st.catalog.folders.len(),
                "release_test_cases": st.catalog.release_cases.iter().map(|(r, c)| (r.to_string(), c.len())).collect::<BTreeMap<_, _>>(),
                "nonconforming_requests": s.nonconforming_requests,
                "leniencies": s.leniencies,
                "last_nonconforming_request": s.last_nonconforming_request,
                "undescribed": s.undescribed,
                "nonconforming_answers": s.nonconforming_answers,
                "last_nonconforming_answer": s.last_nonconforming_answer,
                "answered": s.answered,
            });
            json_response(200, v.to_string().into_bytes())
        }
        "runs" => {
            let mut body = Vec::with_capacity(st.runs.iter().map(|r| r.json.len() + 1).sum());
            for r in &st.runs {
                body.extend_from_slice(r.json.as_bytes());
                body.push(b'\n');
            }
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

/// The handler of an authenticated request.
/// Long: one arm per endpoint the mock serves, so that it reads as the API's table.
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
    if let (Method::Get, ["project-templates", tid, "custom-properties", artifact]) =
        (method, parts.as_slice())
    {
        return project::custom_properties(tid, artifact, config);
    }
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
        (Method::Get, ["test-runs"]) => listing::list(query, config, state),
        (Method::Post, ["test-runs", "search"]) => listing::search(query, body, config, state),
        (Method::Get, []) => project::project(config),
        (Method::Get, ["releases"]) => project::list_releases(config),
        (Method::Post, ["releases", "search"]) => project::search_releases(query, body, config),
        (Method::Get, ["test-sets"]) => project::list_test_sets(query, config),
        (Method::Get, ["automation-hosts"]) => project::list_hosts(config, state),
        (Method::Post, ["automation-hosts"]) => project::create_host(body, config, state),
        (Method::Get, ["automation-hosts", "tokens", token]) => {
            project::host_by_token(token, config, state)
        }
        (Method::Post, ["releases", rid, "builds"]) => post_builds(rid, query, body, config, state),
        (Method::Get, ["releases", rid, "builds"]) => list_builds(rid, state),
        (Method::Get, ["test-cases"]) => {
            let (skip, rows) = catalog::page(query);
            let st = state.lock().unwrap_or_else(|p| p.into_inner());
            let configured = config.test_case_ids().into_iter().map(|id| {
                json!({"TestCaseId": id, "Name": config.test_case_name(id), "ProjectId": config.args.project, "TestCaseFolderId": null})
            });
            let created = st.catalog.cases.values().map(|c| c.value.clone());
            let list: Vec<Value> = configured.chain(created).skip(skip).take(rows).collect();
            (200, Value::Array(list).to_string().into_bytes(), true)
        }
        (Method::Post, ["test-cases"]) => catalog::create_case(body, config, &mut lock(state)),
        (Method::Get, ["test-folders"]) => catalog::list_folders(config, &lock(state)),
        (Method::Post, ["test-folders"]) => catalog::create_folder(body, config, &mut lock(state)),
        (Method::Get, ["test-folders", fid, "test-cases"]) => {
            catalog::folder_cases(fid, query, &lock(state))
        }
        (Method::Post, ["test-sets", sid, "test-case-mapping", tc]) => {
            catalog::add_to_set(sid, tc, config, &mut lock(state))
        }
        (Method::Post, ["releases", rid, "test-cases"]) => {
            catalog::add_to_release(rid, body, config, &mut lock(state))
        }
        (Method::Get, ["test-sets", sid, "test-case-mapping"]) => {
            let sid: u64 = sid.parse().unwrap_or(0);
            let st = lock(state);
            match config.sets.get(&sid) {
                None => plain(404, format!("Test set TX:{sid} does not exist")),
                Some(members) => {
                    let added = st.catalog.set_members.get(&sid).into_iter().flatten();
                    let mut ids: Vec<&u64> = members.iter().chain(added).collect();
                    ids.sort();
                    ids.dedup();
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

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}
