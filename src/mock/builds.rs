//! Builds: created in a release, then named by runs.

use std::sync::Mutex;

use serde_json::{json, Value};

use super::http::{plain, Reply};
use super::runs::number;
use super::state::{Build, Config, State};
use crate::date;

pub(super) fn create_build(rid: &str, body: &[u8], config: &Config, state: &Mutex<State>) -> Reply {
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
