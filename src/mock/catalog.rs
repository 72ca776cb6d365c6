//! The test case catalog the mock grows through the API: test cases and test case folders
//! created by POSTs, test sets' added members and releases' covered test cases, each checked
//! as Spira checks it (an unknown folder, release, test set or test case is a 404 with Spira's
//! wording; a missing `Name` a 400). The test cases of `--test-cases` are in the root folder.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::http::{plain, Reply};
use super::state::{Case, Catalog, Config, Folder, State};

/// The longest test case or folder name: Spira's column holds 255 characters.
const NAME_MAX: usize = 255;

/// A request body's object, or the 400 Spira gives for another body.
fn object(body: &[u8]) -> Result<serde_json::Map<String, Value>, Reply> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(plain(400, "The request body is not a JSON object")),
        Err(e) => Err(plain(
            400,
            format!("The request body is not valid JSON: {e}"),
        )),
    }
}

/// A required name: present, not blank, at most [`NAME_MAX`] characters.
fn name(o: &serde_json::Map<String, Value>, what: &str) -> Result<String, Reply> {
    match o.get("Name").and_then(Value::as_str).map(str::trim) {
        None | Some("") => Err(plain(400, format!("Name is required for a {what}"))),
        Some(n) if n.encode_utf16().count() > NAME_MAX => Err(plain(
            400,
            "String or binary data would be truncated in table 'TST_TEST_CASE', column 'NAME'.",
        )),
        Some(n) => Ok(n.to_string()),
    }
}

/// An optional positive ID field.
fn id(o: &serde_json::Map<String, Value>, k: &str) -> Option<u64> {
    o.get(k).and_then(Value::as_u64).filter(|&n| n > 0)
}

/// `POST test-cases`: a test case in a folder (or the root), with the project's default status
/// and type unless given.
pub(super) fn create_case(body: &[u8], config: &Config, st: &mut State) -> Reply {
    let o = match object(body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let name = match name(&o, "test case") {
        Ok(n) => n,
        Err(r) => return r,
    };
    let folder = id(&o, "TestCaseFolderId");
    if let Some(f) = folder.filter(|f| !st.catalog.folders.contains_key(f)) {
        return plain(
            404,
            format!("Test case folder {f} does not exist in the project"),
        );
    }
    let description = o
        .get("Description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let c = &mut st.catalog;
    let twin = c
        .cases
        .values()
        .any(|k| k.name == name && k.description == description && k.folder == folder);
    c.duplicates += u64::from(twin);
    let tc = c.next_case;
    c.next_case += 1;
    let mut value = Value::Object(o);
    value["TestCaseId"] = json!(tc);
    value["ProjectId"] = json!(config.args.project);
    value["Name"] = json!(name);
    value["TestCaseFolderId"] = json!(folder);
    for (k, default) in [("TestCaseStatusId", 1), ("TestCaseTypeId", 3)] {
        if value.get(k).and_then(Value::as_u64).unwrap_or(0) == 0 {
            value[k] = json!(default);
        }
    }
    let answer = value.to_string().into_bytes();
    c.cases.insert(
        tc,
        Case {
            value,
            name,
            description,
            folder,
        },
    );
    (200, answer, true)
}

/// `GET test-folders`: every folder.
pub(super) fn list_folders(config: &Config, st: &State) -> Reply {
    let list: Vec<Value> = st
        .catalog
        .folders
        .iter()
        .map(|(id, f)| folder_json(config, &st.catalog, *id, f))
        .collect();
    (200, Value::Array(list).to_string().into_bytes(), true)
}

fn folder_json(config: &Config, c: &Catalog, id: u64, f: &Folder) -> Value {
    let mut depth = 0;
    let mut up = f.parent;
    while let Some(p) = up {
        depth += 1;
        up = c.folders.get(&p).and_then(|f| f.parent);
    }
    json!({
        "TestCaseFolderId": id, "Name": f.name, "ParentTestCaseFolderId": f.parent,
        "ProjectId": config.args.project, "IndentLevel": "AAA".repeat(depth + 1),
    })
}

/// `POST test-folders`: a folder under a parent (or the root).
pub(super) fn create_folder(body: &[u8], config: &Config, st: &mut State) -> Reply {
    let o = match object(body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let name = match name(&o, "test case folder") {
        Ok(n) => n,
        Err(r) => return r,
    };
    let parent = id(&o, "ParentTestCaseFolderId");
    let c = &mut st.catalog;
    if let Some(p) = parent.filter(|p| !c.folders.contains_key(p)) {
        return plain(
            404,
            format!("Test case folder {p} does not exist in the project"),
        );
    }
    let fid = c.next_folder;
    c.next_folder += 1;
    let f = Folder { name, parent };
    let answer = folder_json(config, c, fid, &f).to_string().into_bytes();
    c.folders.insert(fid, f);
    (200, answer, true)
}

/// `GET test-folders/{id}/test-cases`: the folder's test cases, a page at a time.
pub(super) fn folder_cases(fid: &str, query: &HashMap<String, String>, st: &State) -> Reply {
    let fid: u64 = fid.parse().unwrap_or(0);
    if !st.catalog.folders.contains_key(&fid) {
        return plain(
            404,
            format!("Test case folder {fid} does not exist in the project"),
        );
    }
    let (skip, rows) = page(query);
    let list: Vec<&Value> = st
        .catalog
        .cases
        .values()
        .filter(|c| c.folder == Some(fid))
        .skip(skip)
        .take(rows)
        .map(|c| &c.value)
        .collect();
    (200, serde_json::to_vec(&list).unwrap_or_default(), true)
}

/// The rows to skip and take for `starting_row` (from 1) and `number_of_rows` (at most 500).
pub(super) fn page(query: &HashMap<String, String>) -> (usize, usize) {
    super::http::rows(query, "starting_row", "number_of_rows")
}

/// Whether the set holds the test case, configured or added.
pub(super) fn in_set(config: &Config, st: &State, set: u64, tc: u64) -> bool {
    config.sets.get(&set).is_some_and(|m| m.contains(&tc))
        || st
            .catalog
            .set_members
            .get(&set)
            .is_some_and(|m| m.contains(&tc))
}

/// Whether a test case exists, configured or created.
pub(super) fn case_exists(config: &Config, st: &State, tc: u64) -> bool {
    config.test_case_exists(tc) || st.catalog.cases.contains_key(&tc)
}

/// `POST test-sets/{sid}/test-case-mapping/{tc}`: the test case added to the test set.
pub(super) fn add_to_set(sid: &str, tc: &str, config: &Config, st: &mut State) -> Reply {
    let (sid, tc) = (sid.parse().unwrap_or(0u64), tc.parse().unwrap_or(0u64));
    if !config.sets.contains_key(&sid) {
        return plain(404, format!("Test set TX:{sid} does not exist"));
    }
    if !case_exists(config, st, tc) {
        return plain(
            404,
            format!(
                "Test case TC:{tc} does not exist in project PR:{}",
                config.args.project
            ),
        );
    }
    let members = st.catalog.set_members.entry(sid).or_default();
    members.insert(tc);
    let answer =
        json!([{"TestSetTestCaseId": sid * 100_000 + tc, "TestSetId": sid, "TestCaseId": tc}]);
    (200, answer.to_string().into_bytes(), true)
}

/// `POST releases/{rid}/test-cases`: the test cases added to the release.
pub(super) fn add_to_release(rid: &str, body: &[u8], config: &Config, st: &mut State) -> Reply {
    let rid: u64 = rid.parse().unwrap_or(0);
    if !config.releases.contains(&rid) {
        return plain(
            404,
            format!("Release RL:{rid} does not exist in the project"),
        );
    }
    let ids: Vec<u64> = match serde_json::from_slice(body) {
        Ok(ids) => ids,
        Err(e) => {
            return plain(
                400,
                format!("The request body is not an array of test case IDs: {e}"),
            )
        }
    };
    if let Some(tc) = ids.iter().find(|&&tc| !case_exists(config, st, tc)) {
        return plain(
            404,
            format!(
                "Test case TC:{tc} does not exist in project PR:{}",
                config.args.project
            ),
        );
    }
    st.catalog.release_cases.entry(rid).or_default().extend(ids);
    (200, b"{}".to_vec(), true)
}
