//! The project's records the uploaders look names up in: the project and its template,
//! releases and their search, test sets, automation hosts (listed, found by token, created) and
//! the template's test-run custom properties; from `--data` (`data`) and the mock's options.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{json, Value};

use super::data::TEST_RUN_ARTIFACT;
use super::http::{plain, remote_filters, Reply};
use super::state::{Config, State};

/// Every release and iteration, by ID: those of `--data`, and those of `--releases` it does not
/// name.
fn all_releases(config: &Config) -> Vec<Value> {
    let mut out = config.data.releases.clone();
    for r in &config.releases {
        if !out
            .iter()
            .any(|v| v.get("ReleaseId").and_then(Value::as_u64) == Some(*r))
        {
            out.push(json!({
                "ReleaseId": r, "VersionNumber": format!("{r}.0"), "Name": format!("Release {r}"),
                "ProjectId": config.args.project, "ReleaseTypeId": 1, "Active": true,
            }));
        }
    }
    out.sort_by_key(|r| r.get("ReleaseId").and_then(Value::as_u64));
    out
}

fn array(list: Vec<Value>) -> Reply {
    (200, Value::Array(list).to_string().into_bytes(), true)
}

/// A page of `list`: from `start` (1-based), `rows` rows.
fn page(list: Vec<Value>, query: &HashMap<String, String>, start: &str, rows: &str) -> Vec<Value> {
    let (skip, take) = super::http::rows(query, start, rows);
    list.into_iter().skip(skip).take(take).collect()
}

/// `GET releases`: the releases, not the iterations (types 3 and 4), as Spira's description says.
pub(super) fn list_releases(config: &Config) -> Reply {
    let list = all_releases(config)
        .into_iter()
        .filter(|r| !matches!(r.get("ReleaseTypeId").and_then(Value::as_u64), Some(3 | 4)))
        .collect();
    array(list)
}

/// `POST releases/search?start_row&number_rows`: releases and iterations passing every
/// `RemoteFilter` (`StringValue` compared exactly, `IntValue` too).
pub(super) fn search_releases(
    query: &HashMap<String, String>,
    body: &[u8],
    config: &Config,
) -> Reply {
    let filters: Vec<Value> = match remote_filters(body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let mut list = all_releases(config);
    for f in &filters {
        let field = f.get("PropertyName").and_then(Value::as_str).unwrap_or("");
        if !matches!(
            field,
            "VersionNumber" | "Name" | "ReleaseId" | "ReleaseTypeId"
        ) {
            return plain(400, format!("Releases cannot be filtered on '{field}'"));
        }
        let want = f
            .get("StringValue")
            .filter(|v| !v.is_null())
            .or_else(|| f.get("IntValue").filter(|v| !v.is_null()))
            .cloned();
        let Some(want) = want else {
            return plain(400, format!("The filter on {field} has no value"));
        };
        list.retain(|r| r.get(field) == Some(&want));
    }
    array(page(list, query, "start_row", "number_rows"))
}

/// `GET test-sets?starting_row&number_of_rows[&release_id]`: those of `--data`, then those of
/// `--test-set`.
pub(super) fn list_test_sets(query: &HashMap<String, String>, config: &Config) -> Reply {
    let mut list = config.data.test_sets.clone();
    let mut ids: Vec<u64> = config.sets.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
        if !list
            .iter()
            .any(|s| s.get("TestSetId").and_then(Value::as_u64) == Some(id))
        {
            list.push(json!({"TestSetId": id, "Name": format!("Test set {id}"), "ProjectId": config.args.project}));
        }
    }
    if let Some(r) = query.get("release_id").and_then(|r| r.parse::<u64>().ok()) {
        list.retain(|s| s.get("ReleaseId").and_then(Value::as_u64) == Some(r));
    }
    array(page(list, query, "starting_row", "number_of_rows"))
}

/// Every automation host: those of `--data`, then those created.
fn hosts<'a>(config: &'a Config, st: &'a State) -> impl Iterator<Item = &'a Value> {
    config.data.automation_hosts.iter().chain(st.hosts.iter())
}

/// `GET automation-hosts`: those of `--data` and those created.
pub(super) fn list_hosts(config: &Config, state: &Mutex<State>) -> Reply {
    let st = state.lock().unwrap_or_else(|p| p.into_inner());
    array(hosts(config, &st).cloned().collect())
}

/// `GET automation-hosts/tokens/{token}`.
pub(super) fn host_by_token(token: &str, config: &Config, state: &Mutex<State>) -> Reply {
    let st = state.lock().unwrap_or_else(|p| p.into_inner());
    let found = hosts(config, &st).find(|h| h.get("Token").and_then(Value::as_str) == Some(token));
    match found {
        Some(h) => (200, h.to_string().into_bytes(), true),
        None => plain(404, format!("No automation host has the token '{token}'")),
    }
}

/// `POST automation-hosts`: `Name` and `Token` required; a token already used is refused, as
/// Spira refuses it.
pub(super) fn create_host(body: &[u8], config: &Config, state: &Mutex<State>) -> Reply {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return plain(400, format!("The request body is not valid JSON: {e}")),
    };
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let (name, token) = (text("Name"), text("Token"));
    if name.is_empty() || token.is_empty() {
        return plain(400, "Name and Token are required for an automation host");
    }
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let taken =
        hosts(config, &st).any(|h| h.get("Token").and_then(Value::as_str) == Some(token.as_str()));
    if taken {
        return plain(
            400,
            format!("The token '{token}' is already used by another automation host"),
        );
    }
    let top = hosts(config, &st)
        .filter_map(|h| h.get("AutomationHostId").and_then(Value::as_u64))
        .max()
        .unwrap_or(0);
    let host = json!({
        "AutomationHostId": top + 1, "Name": name, "Token": token,
        "Description": v.get("Description").cloned().unwrap_or(Value::Null),
        "Active": true, "ProjectId": config.args.project,
    });
    st.hosts.push(host.clone());
    st.stats.hosts_created += 1;
    (200, host.to_string().into_bytes(), true)
}

/// `GET projects/{pid}`: the project, with its template.
pub(super) fn project(config: &Config) -> Reply {
    let p = json!({
        "ProjectId": config.args.project, "ProjectTemplateId": config.data.template,
        "Name": format!("Project {}", config.args.project), "Active": true,
    });
    (200, p.to_string().into_bytes(), true)
}

/// `GET project-templates/{tid}/custom-properties/{artifact}`: the template's definitions for
/// test runs (`TestRun`), with their custom lists.
pub(super) fn custom_properties(tid: &str, artifact: &str, config: &Config) -> Reply {
    if tid.parse::<u64>().ok() != Some(config.data.template) {
        return plain(404, format!("Project template PT:{tid} does not exist"));
    }
    if artifact != "TestRun" {
        return array(Vec::new());
    }
    let list = config
        .data
        .custom_properties
        .iter()
        .filter(|p| {
            p.get("ArtifactTypeId")
                .and_then(Value::as_u64)
                .is_none_or(|a| a == TEST_RUN_ARTIFACT)
        })
        .cloned()
        .collect();
    array(list)
}
