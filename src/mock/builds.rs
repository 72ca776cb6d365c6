//! Builds: created in a release, then named by runs.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{json, Value};

use super::http::{plain, remote_filters, Reply};
use super::runs::number;
use super::state::{Build, Config, State};
use crate::date;

/// `POST releases/{rid}/builds`: a `RemoteBuild` creates a build (as Inflectra's clients do);
/// an array of `RemoteFilter`s searches the release's builds, as the description has it.
pub(super) fn post_builds(
    rid: &str,
    query: &HashMap<String, String>,
    body: &[u8],
    config: &Config,
    state: &Mutex<State>,
) -> Reply {
    if body.trim_ascii_start().first() == Some(&b'[') {
        search_builds(rid, query, body, state)
    } else {
        create_build(rid, body, config, state)
    }
}

/// `GET releases/{rid}/builds`: every build of the release, in the order created.
pub(super) fn list_builds(rid: &str, state: &Mutex<State>) -> Reply {
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

/// The search: filters on `Name` (`StringValue`) or `BuildStatusId` (`IntValue`), sorted by
/// `sort_by` (`BuildId`, `Name` or `CreationDate`, then ` ASC` or ` DESC`), a page of
/// `number_of_rows` from `starting_row`.
fn search_builds(
    rid: &str,
    query: &HashMap<String, String>,
    body: &[u8],
    state: &Mutex<State>,
) -> Reply {
    let filters: Vec<Value> = match remote_filters(body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let rid: u64 = rid.parse().unwrap_or(0);
    let st = state.lock().unwrap_or_else(|p| p.into_inner());
    let mut list: Vec<&Value> = st
        .builds
        .values()
        .filter(|b| b.release == rid)
        .map(|b| &b.value)
        .collect();
    for f in &filters {
        let field = f.get("PropertyName").and_then(Value::as_str).unwrap_or("");
        let want = match field {
            "Name" => f.get("StringValue").cloned(),
            "BuildStatusId" => f.get("IntValue").cloned(),
            _ => return plain(400, format!("Builds cannot be filtered on '{field}'")),
        };
        let Some(want) = want.filter(|w| !w.is_null()) else {
            return plain(400, format!("The filter on {field} has no value"));
        };
        list.retain(|b| b.get(field) == Some(&want));
    }
    let sort = query.get("sort_by").map_or("BuildId ASC", String::as_str);
    let (field, dir) = sort.split_once(' ').unwrap_or((sort, "ASC"));
    if !matches!(field, "BuildId" | "Name" | "CreationDate") {
        return plain(
            400,
            format!("The sort field '{field}' is not valid for builds"),
        );
    }
    list.sort_by(|a, b| {
        let key = |v: &Value| v.get(field).map(|x| x.to_string()).unwrap_or_default();
        match field {
            "BuildId" => number(a, field).cmp(&number(b, field)),
            _ => key(a).cmp(&key(b)),
        }
    });
    if dir.trim().eq_ignore_ascii_case("DESC") {
        list.reverse();
    }
    let (skip, take) = super::catalog::page(query);
    let page: Vec<Value> = list.into_iter().skip(skip).take(take).cloned().collect();
    (200, Value::Array(page).to_string().into_bytes(), true)
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
    *st.stats.builds_by_name.entry(name.to_string()).or_default() += 1;
    let mut out = json!({
        "BuildId": id, "ProjectId": config.args.project, "ReleaseId": rid,
        "BuildStatusId": number(&v, "BuildStatusId").unwrap_or(2), "Name": name,
        "Description": v.get("Description").cloned().unwrap_or(Value::Null),
        "CreationDate": date::format_iso(date::now()),
    });
    // The commits, as the build's source code revisions (`RemoteBuildSourceCode`).
    if let Some(r) = v.get("Revisions").filter(|r| r.is_array()) {
        out["Revisions"] = r.clone();
    }
    st.builds.insert(
        id,
        Build {
            release: rid,
            value: out.clone(),
        },
    );
    (200, out.to_string().into_bytes(), true)
}
