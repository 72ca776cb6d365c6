//! spira-mock over real HTTP: endpoints, authentication, the server's validation, partial
//! commits, lockout, faults, and inspection.

use serde_json::{json, Value};

use crate::harness::{http, Mock, TempDir, AUTH};

fn run(tc: u64) -> Value {
    json!({"TestCaseId": tc, "ExecutionStatusId": 2, "StartDate": "2024-05-14T12:00:00.000Z",
           "RunnerName": "spira-pipe", "RunnerTestName": format!("t{tc}"), "RunnerMessage": "Passed",
           "RunnerStackTrace": "", "TestRunFormatId": 1})
}

fn post(m: &Mock, path: &str, body: &Value) -> (u16, String) {
    let (code, text, _) = http(
        "POST",
        &format!("{}/{path}", m.api()),
        &AUTH,
        Some(&body.to_string()),
    );
    (code, text)
}

#[test]
fn announces_its_address_and_records_runs_in_order() {
    let m = Mock::start(&["--test-set", "7=1-10"]);
    assert!(m.url.starts_with("http://127.0.0.1:"), "{}", m.url);
    let mut a = run(2);
    a["StartDate"] = json!("/Date(1715688000000-0000)/");
    a["RunnerStackTrace"] = Value::Null;
    a["TestSetId"] = json!(7);
    let mut b = run(3);
    b["StartDate"] = json!("2024-05-14T12:00:00Z");
    b["EndDate"] = json!("2024-05-14T12:00:01.5+02:00");
    b["TestSetId"] = json!(99);
    b["_Attachments"] = json!(["x.png"]);
    let (code, body) = post(&m, "test-runs/record-multiple", &json!([a, b]));
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["TestRunId"], 1);
    assert_eq!(v[1]["TestRunId"], 2);
    assert_eq!(v[0]["TestCaseId"], 2, "numeric strings are read as numbers");
    assert_eq!(
        v[0]["StartDate"], "2024-05-14T12:00:00.000Z",
        "WCF dates answered in ISO form"
    );
    assert_eq!(v[1]["EndDate"], "2024-05-14T10:00:01.500Z");
    assert_eq!(v[0]["TestSetId"], 7);
    assert!(
        v[1].get("TestSetId").is_none(),
        "a set without the test case is dropped silently"
    );
    assert!(v[1].get("_Attachments").is_none());
    let s = m.stats();
    assert_eq!(
        (
            s["requests"].clone(),
            s["runs"].clone(),
            s["rejected"].clone()
        ),
        (json!(1), json!(2), json!(0))
    );
    // Both API versions.
    let v6 = format!(
        "{}/Services/v6_0/RestService.svc/projects/1/test-runs/record",
        m.url
    );
    let (code, body, _) = http("POST", &v6, &AUTH, Some(&run(5).to_string()));
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["TestRunId"],
        3
    );
    let (code, body, _) = http("GET", &format!("{}/__mock/runs", m.url), &[], None);
    assert_eq!(code, 200);
    assert_eq!(body.lines().count(), 3);
}

#[test]
fn every_form_of_authentication_and_the_lockout() {
    let m = Mock::start(&["--lockout", "3"]);
    let url = format!("{}/test-folders", m.api());
    assert_eq!(http("GET", &url, &AUTH, None).0, 200);
    let q = format!("{url}?username=demo&api-key=%7B00000000-DEMO-KEY0-0000-000000000000%7D");
    assert_eq!(http("GET", &q, &[], None).0, 200, "query parameters");
    // HTTP Basic: base64("demo:{00000000-DEMO-KEY0-0000-000000000000}").
    let basic = "Basic ZGVtbzp7MDAwMDAwMDAtREVNTy1LRVkwLTAwMDAtMDAwMDAwMDAwMDAwfQ==";
    assert_eq!(
        http("GET", &url, &[("Authorization", basic)], None).0,
        200,
        "basic"
    );
    let (code, body, _) = http(
        "GET",
        &url,
        &[("username", "demo"), ("api-key", "wrong")],
        None,
    );
    assert_eq!(
        (code, body.as_str()),
        (
            401,
            "Unauthorized: the username or API key (RSS token) is not valid"
        )
    );
    assert_eq!(http("GET", &url, &[], None).0, 401, "no credentials");
    assert_eq!(
        http("GET", &url, &[("username", "demo"), ("api-key", "x")], None).0,
        401
    );
    // Three bad attempts in a row: locked, even with the right key.
    let (code, body, _) = http("GET", &url, &AUTH, None);
    assert_eq!(code, 401);
    assert!(body.contains("locked"), "{body}");
    assert_eq!(m.stats()["locked"], true);
}

#[test]
fn the_servers_validation() {
    let m = Mock::start(&["--test-cases", "1-100"]);
    m.expect_nonconforming();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"RunnerName": null}), "RunnerName is required"),
        (
            json!({"RunnerName": "a-runner-name-over-20"}),
            "String or binary data would be truncated in table 'TST_TEST_RUN', column 'RUNNERNAME'",
        ),
        (
            json!({"RunnerMessage": "😀".repeat(128)}),
            "column 'RUNNERMESSAGE'",
        ),
        (
            json!({"RunnerTestName": "x".repeat(256)}),
            "column 'RUNNERTESTNAME'",
        ),
        (
            json!({"TestCaseId": 500}),
            "Test case TC:500 does not exist in project PR:1",
        ),
        (
            json!({"ExecutionStatusId": 7}),
            "ExecutionStatusId 7 is not a valid execution status",
        ),
        (
            json!({"StartDate": null}),
            "/0/StartDate: null is not of type \"string\"",
        ),
        (
            json!({"StartDate": "yesterday"}),
            "StartDate \"yesterday\" is not a valid date",
        ),
        (
            json!({"ReleaseId": 99}),
            "Release RL:99 does not exist in the project",
        ),
        (
            json!({"BuildId": 5}),
            "Build BL:5 does not exist in the project",
        ),
        (
            json!({"TestCaseId": "two"}),
            "/0/TestCaseId: \"two\" is not of type \"integer\"",
        ),
        (
            json!({"TestRunSteps": [{"Description": "Given x", "ExecutionStatusId": 2, "Position": 1},
                                    {"Description": " ", "ExecutionStatusId": 2, "Position": 2}]}),
            "Test run step 2: Description is required",
        ),
        (
            json!({"TestRunSteps": [{"Description": "Given x", "ExecutionStatusId": 9, "Position": 1}]}),
            "Test run step 1: ExecutionStatusId is not a valid execution status",
        ),
    ];
    for (patch, want) in cases {
        let mut r = run(1);
        for (k, v) in patch.as_object().unwrap() {
            r[k] = v.clone();
        }
        let (code, body) = post(&m, "test-runs/record-multiple", &json!([r]));
        assert_eq!(code, 400, "{patch}: {body}");
        assert!(
            body.starts_with("Test run 1 of 1: ") && body.contains(want),
            "{patch}: {body}"
        );
    }
    // `record` answers 404 for an unknown test case.
    let (code, body) = post(&m, "test-runs/record", &run(500));
    assert_eq!(
        (code, body.as_str()),
        (404, "Test case TC:500 does not exist in project PR:1")
    );
    let (code, body) = post(&m, "test-runs/record-multiple", &json!({"not": "an array"}));
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "The request does not match POST /projects/{project_id}/test-runs/record-multiple: /: {\"not\":\"an array\"} is not of type \"array\" (RemoteAutomatedTestRun[] expected)"
        )
    );
    let (code, body) = post(&m, "test-runs/record-multiple", &json!([run(1), 5]));
    assert_eq!(code, 400);
    assert!(
        body.starts_with("Test run 2 of 2: does not match Spira's API description: /1: 5 is not of type \"object\""),
        "{body}"
    );
    // Each of the five fields the description marks required, left out: refused, named.
    for field in [
        "TestRunFormatId",
        "RunnerName",
        "RunnerTestName",
        "RunnerMessage",
        "RunnerStackTrace",
    ] {
        let mut r = run(1);
        r.as_object_mut().unwrap().remove(field);
        let (code, body) = post(&m, "test-runs/record-multiple", &json!([run(2), r]));
        assert_eq!(code, 400, "{field}: {body}");
        assert!(
            body.starts_with("Test run 2 of 2: ")
                && body.contains(&format!("\"{field}\" is a required property")),
            "{field}: {body}"
        );
    }
    assert_eq!(m.stats()["runs"], 0, "nothing refused is stored");
    // An unknown query parameter is refused, naming it.
    let (code, body, _) = http(
        "GET",
        &format!("{}/test-runs?start=1", m.api()),
        &AUTH,
        None,
    );
    assert_eq!(code, 400);
    assert!(body.contains("query parameter 'start'"), "{body}");
}

#[test]
fn a_rejected_batch_keeps_the_runs_before_the_bad_one_unless_atomic() {
    let bad = {
        let mut r = run(1);
        r["ExecutionStatusId"] = json!(0);
        r
    };
    let batch = json!([run(1), run(2), bad, run(3)]);
    let m = Mock::start(&[]);
    let (code, body) = post(&m, "test-runs/record-multiple", &batch);
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Test run 3 of 4: ExecutionStatusId 0 is not a valid execution status"
        )
    );
    let s = m.stats();
    assert_eq!(
        (s["runs"].clone(), s["rejected"].clone()),
        (json!(2), json!(1)),
        "partial commit"
    );
    let m = Mock::start(&["--atomic"]);
    assert_eq!(post(&m, "test-runs/record-multiple", &batch).0, 400);
    assert_eq!(m.stats()["runs"], 0);
}

#[test]
fn releases_builds_test_cases_sets_documents_and_refresh() {
    let t = TempDir::new("names");
    let names = t.path("names.csv");
    std::fs::write(&names, "test_case_id,name\n3,Logs in\n1200,Extra case\n").unwrap();
    let m = Mock::start(&[
        "--test-cases",
        "1-600",
        "--test-case-names",
        &names.to_string_lossy(),
        "--test-set",
        "7=1-3,5",
        "--releases",
        "1-3,9",
    ]);
    // GET releases is not in the API description's excerpt: this test asks for it anyway.
    m.expect_nonconforming();
    let get = |path: &str| -> (u16, Value) {
        let (code, body, _) = http("GET", &format!("{}/{path}", m.api()), &AUTH, None);
        (code, serde_json::from_str(&body).unwrap_or(Value::Null))
    };
    let (code, releases) = get("releases");
    assert_eq!(code, 200);
    let ids: Vec<u64> = releases
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ReleaseId"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 9]);
    // Builds: created in a release, listed by release.
    let (code, body) = post(
        &m,
        "releases/2/builds",
        &json!({"ProjectId": 1, "ReleaseId": 2, "BuildStatusId": 1, "Name": "nightly 42"}),
    );
    assert_eq!(code, 200, "{body}");
    let build: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (build["BuildId"].clone(), build["BuildStatusId"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(post(&m, "releases/5/builds", &json!({"Name": "x"})).0, 400);
    assert_eq!(get("releases/2/builds").1.as_array().unwrap().len(), 1);
    let mut r = run(1);
    r["BuildId"] = json!(1);
    assert_eq!(
        post(&m, "test-runs/record", &r).0,
        200,
        "a run in the new build"
    );
    // Test cases: pages of at most 500, 1-based; names from the file.
    let (_, page) = get("test-cases?starting_row=1&number_of_rows=1000");
    assert_eq!(page.as_array().unwrap().len(), 500);
    let (_, page) = get("test-cases?starting_row=501&number_of_rows=500");
    let page = page.as_array().unwrap().clone();
    assert_eq!(page.len(), 101, "600 in ranges plus one more named");
    assert_eq!(page.last().unwrap()["Name"], "Extra case");
    assert_eq!(
        get("test-cases?starting_row=3&number_of_rows=1").1[0]["Name"],
        "Logs in"
    );
    assert_eq!(
        get("test-cases?starting_row=4&number_of_rows=1").1[0]["Name"],
        "Test case 4"
    );
    let (code, mapping) = get("test-sets/7/test-case-mapping");
    assert_eq!(code, 200);
    let tcs: Vec<u64> = mapping
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["TestCaseId"].as_u64().unwrap())
        .collect();
    assert_eq!(tcs, [1, 2, 3, 5]);
    assert_eq!(get("test-sets/8/test-case-mapping").0, 404);
    // Documents and refresh.
    let (code, body) = post(
        &m,
        "documents/file",
        &json!({"ProjectId": 1, "AttachmentTypeId": 1, "FilenameOrUrl": "a.txt", "BinaryData": "aGk=", "AttachedArtifacts": [{"ArtifactId": 1, "ArtifactTypeId": 5}]}),
    );
    assert_eq!(code, 200, "{body}");
    assert!(!body.contains("BinaryData"));
    assert_eq!(
        post(
            &m,
            "documents/url",
            &json!({"ProjectId": 1, "AttachmentTypeId": 2, "FilenameOrUrl": "https://ci/log"})
        )
        .0,
        200
    );
    assert_eq!(
        post(&m, "documents/file", &json!({"FilenameOrUrl": "a.txt"})).0,
        400
    );
    assert_eq!(
        http(
            "POST",
            &format!("{}/refresh-caches/2?run_async=true", m.api()),
            &AUTH,
            None
        )
        .0,
        200
    );
    let s = m.stats();
    assert_eq!(
        (
            s["builds"].clone(),
            s["refreshes"].clone(),
            s["documents"].clone()
        ),
        (json!(1), json!(1), json!(2))
    );
    assert_eq!(
        http(
            "GET",
            &format!(
                "{}/Services/v7_0/RestService.svc/projects/2/releases",
                m.url
            ),
            &AUTH,
            None
        )
        .0,
        404
    );
}

/// Sends `n` one-run batches and counts what came back: a status, `connection` (broken),
/// `slow` (a 200 that took the --slow-ms of 50 ms).
fn observe_faults(m: &Mock, n: u64) -> std::collections::BTreeMap<String, u32> {
    let mut seen: std::collections::BTreeMap<String, u32> = Default::default();
    for i in 0..n {
        let url = format!("{}/test-runs/record-multiple", m.api());
        let started = std::time::Instant::now();
        let (code, _, headers) = http(
            "POST",
            &url,
            &AUTH,
            Some(&json!([run(i % 10 + 1)]).to_string()),
        );
        let kind = match code {
            0 => "connection".to_string(),
            429 => {
                assert!(headers
                    .iter()
                    .any(|(k, v)| k.eq_ignore_ascii_case("retry-after") && v == "1"));
                "429".into()
            }
            200 if started.elapsed() >= std::time::Duration::from_millis(50) => "slow".into(),
            c => c.to_string(),
        };
        *seen.entry(kind).or_default() += 1;
    }
    seen
}

#[test]
fn faults_with_a_fixed_seed() {
    let t = TempDir::new("faults");
    let rec = t.path("stored.jsonl");
    let m = Mock::start(&[
        "--faults",
        "1",
        "--seed",
        "7",
        "--slow-ms",
        "50",
        "--record",
        &rec.to_string_lossy(),
    ]);
    let n = 60;
    let seen = observe_faults(&m, n);
    let keys: Vec<&str> = seen.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["429", "500", "503", "connection", "slow"],
        "{seen:?}"
    );
    let s = m.stats();
    assert_eq!(s["faults"], n, "every request was given a fault: {s}");
    assert_eq!(
        s["requests"], n,
        "the /__mock/ endpoint is neither counted nor faulted"
    );
    // Runs are stored only by the kinds that process the request: slow, and closed after.
    let stored = s["runs"].as_u64().unwrap();
    let slow = u64::from(seen["slow"]);
    assert!(stored >= slow && stored < n, "{seen:?} {s}");
    assert_eq!(
        std::fs::read_to_string(&rec).unwrap().lines().count() as u64,
        stored
    );
    // The same seed gives the same faults.
    let again = Mock::start(&["--faults", "1", "--seed", "7", "--slow-ms", "50"]);
    let seen2 = observe_faults(&again, n);
    assert_eq!(seen, seen2);
}

#[test]
fn duplicates_are_counted() {
    let m = Mock::start(&[]);
    let batch = json!([run(1), run(2)]);
    assert_eq!(post(&m, "test-runs/record-multiple", &batch).0, 200);
    assert_eq!(post(&m, "test-runs/record-multiple", &batch).0, 200);
    let s = m.stats();
    assert_eq!(
        (s["runs"].clone(), s["duplicates"].clone()),
        (json!(4), json!(2))
    );
}

/// GET `path` under the project: status and JSON.
fn get(m: &Mock, path: &str) -> (u16, Value) {
    let (code, text, _) = http("GET", &format!("{}/{path}", m.api()), &AUTH, None);
    (
        code,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[test]
fn test_cases_folders_sets_and_releases_are_created_and_checked_as_spira_does() {
    let m = Mock::start(&[
        "--test-cases",
        "1-10",
        "--test-set",
        "7=1-3",
        "--releases",
        "1-2",
    ]);
    // Folders: a root one, a child, and the checks.
    let (code, body) = post(&m, "test-folders", &json!({"Name": "Suite A"}));
    assert_eq!(code, 200, "{body}");
    let a: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            a["TestCaseFolderId"].as_u64(),
            a["ParentTestCaseFolderId"].clone()
        ),
        (Some(1), Value::Null)
    );
    let (code, body) = post(
        &m,
        "test-folders",
        &json!({"Name": "Nested", "ParentTestCaseFolderId": 1}),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        post(
            &m,
            "test-folders",
            &json!({"Name": "x", "ParentTestCaseFolderId": 99})
        ),
        (
            404,
            "Test case folder 99 does not exist in the project".into()
        )
    );
    assert_eq!(post(&m, "test-folders", &json!({})).0, 400);
    let (code, folders) = get(&m, "test-folders");
    assert_eq!((code, folders.as_array().unwrap().len()), (200, 2));
    assert_eq!(folders[1]["ParentTestCaseFolderId"], 1);
    // Test cases: after the configured ones, in a folder, with defaults; the checks.
    let case = json!({"Name": "test_a", "Description": "spira-pipe key: pkg.test_a", "TestCaseFolderId": 2, "AutomationEngineId": 4});
    let (code, body) = post(&m, "test-cases", &case);
    assert_eq!(code, 200, "{body}");
    let tc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(tc["TestCaseId"], 11);
    assert_eq!(tc["TestCaseStatusId"], 1);
    assert_eq!(tc["AutomationEngineId"], 4);
    assert_eq!(
        post(&m, "test-cases", &json!({"Description": "no name"})),
        (400, "Name is required for a test case".into())
    );
    assert_eq!(
        post(
            &m,
            "test-cases",
            &json!({"Name": "x", "TestCaseFolderId": 50})
        )
        .0,
        404
    );
    assert_eq!(
        post(&m, "test-cases", &json!({"Name": "n".repeat(256)})).0,
        400
    );
    let (_, listed) = get(
        &m,
        "test-folders/2/test-cases?starting_row=1&number_of_rows=10",
    );
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["Description"], "spira-pipe key: pkg.test_a");
    assert_eq!(get(&m, "test-folders/9/test-cases").0, 404);
    let (_, all) = get(&m, "test-cases?starting_row=1&number_of_rows=500");
    assert_eq!(
        all.as_array().unwrap().len(),
        11,
        "spira-ids sees the new case"
    );
    // A run of the new test case is recorded; one of a case that does not exist is not.
    let (code, body) = post(&m, "test-runs/record-multiple", &json!([run(11)]));
    assert_eq!(code, 200, "{body}");
    // Test sets and releases.
    assert_eq!(
        post(&m, "test-sets/7/test-case-mapping/11", &json!([])).0,
        200
    );
    let (_, members) = get(&m, "test-sets/7/test-case-mapping");
    assert_eq!(members.as_array().unwrap().len(), 4);
    assert_eq!(
        post(&m, "test-sets/8/test-case-mapping/11", &json!([])).0,
        404
    );
    assert_eq!(
        post(&m, "test-sets/7/test-case-mapping/99", &json!([])).0,
        404
    );
    assert_eq!(post(&m, "releases/2/test-cases", &json!([11])).0, 200);
    assert_eq!(post(&m, "releases/5/test-cases", &json!([11])).0, 404);
    assert_eq!(post(&m, "releases/1/test-cases", &json!([99])).0, 404);
    // The same case again in the same folder is counted as a duplicate.
    assert_eq!(m.stats()["duplicate_test_cases"], 0);
    post(&m, "test-cases", &case);
    let s = m.stats();
    assert_eq!(
        (
            s["test_cases"].as_u64(),
            s["duplicate_test_cases"].as_u64(),
            s["folders"].as_u64()
        ),
        (Some(12), Some(1), Some(2))
    );
}

/// Every endpoint the mock serves that Inflectra's API description has, each answered with
/// something in it (lists not empty), its answer checked against the description's response
/// schema (`--check-answers`, which every test's mock runs with): none may differ, and none
/// may be left out.
#[test]
fn every_answer_matches_the_api_description() {
    let m = Mock::start(&[
        "--test-cases",
        "1-20",
        "--test-set",
        "7=1-3",
        "--releases",
        "4",
    ]);
    let ok = |(code, body): (u16, String), what: &str| {
        assert_eq!(code, 200, "{what}: {body}");
        body
    };
    let mut stored = run(1);
    stored["ReleaseId"] = json!(4);
    ok(
        post(&m, "test-runs/record-multiple", &json!([stored, run(2)])),
        "record-multiple",
    );
    ok(post(&m, "test-runs/record", &run(3)), "record");
    let folder = ok(
        post(
            &m,
            "test-folders",
            &json!({"Name": "F", "ParentTestCaseFolderId": null}),
        ),
        "folder",
    );
    let folder: Value = serde_json::from_str(&folder).unwrap();
    let fid = folder["TestCaseFolderId"].as_u64().unwrap();
    let case = json!({"Name": "C", "Description": "spira-pipe key: k", "TestCaseFolderId": fid});
    let case: Value = serde_json::from_str(&ok(post(&m, "test-cases", &case), "case")).unwrap();
    let tc = case["TestCaseId"].as_u64().unwrap();
    ok(
        post(
            &m,
            &format!("test-sets/7/test-case-mapping/{tc}"),
            &json!([]),
        ),
        "set mapping",
    );
    ok(
        post(&m, "releases/4/test-cases", &json!([tc])),
        "release mapping",
    );
    let build = json!({"Name": "b", "BuildStatusId": 2, "ProjectId": 1, "ReleaseId": 4});
    ok(post(&m, "releases/4/builds", &build), "build");
    let file = json!({"ProjectId": 1, "AttachmentTypeId": 1, "FilenameOrUrl": "a.log", "BinaryData": "aGk=",
                      "AttachedArtifacts": [{"ArtifactId": 1, "ArtifactTypeId": 5}]});
    ok(post(&m, "documents/file", &file), "file");
    let url = json!({"ProjectId": 1, "AttachmentTypeId": 2, "FilenameOrUrl": "https://ci.example/1",
                     "AttachedArtifacts": [{"ArtifactId": 1, "ArtifactTypeId": 5}]});
    ok(post(&m, "documents/url", &url), "url");
    let filter = json!([{"PropertyName": "TestCaseId", "IntValue": 1}]);
    let found = ok(
        post(&m, "test-runs/search?starting_row=1&number_of_rows=10&sort_field=TestRunId&sort_direction=ASC", &filter),
        "search",
    );
    assert!(found.contains("TestRunId"), "{found}");
    for path in [
        "test-runs?starting_row=1&number_of_rows=10&sort_field=TestRunId&sort_direction=DESC",
        "releases/4/builds",
        "test-cases?starting_row=1&number_of_rows=30",
        "test-folders",
        &format!("test-folders/{fid}/test-cases?starting_row=1&number_of_rows=10"),
        "test-sets/7/test-case-mapping",
    ] {
        let (code, v) = get(&m, path);
        assert_eq!(code, 200, "{path}");
        assert!(
            !v.as_array().unwrap().is_empty(),
            "{path}: an empty list checks nothing"
        );
    }
    ok(post(&m, "refresh-caches", &json!(null)), "refresh");
    ok(
        post(&m, "refresh-caches/4", &json!(null)),
        "refresh a release",
    );
    let s = m.stats();
    assert_eq!(
        s["nonconforming_answers"], 0,
        "{}",
        s["last_nonconforming_answer"]
    );
    let answered: Vec<&str> = s["answered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let p = "/projects/{project_id}";
    let mut served: Vec<String> = [
        "POST {p}/test-runs/record-multiple",
        "POST {p}/test-runs/record",
        "GET {p}/test-runs",
        "POST {p}/test-runs/search",
        "POST {p}/releases/{release_id}/builds",
        "GET {p}/releases/{release_id}/builds",
        "GET {p}/test-cases",
        "POST {p}/test-cases",
        "GET {p}/test-folders",
        "POST {p}/test-folders",
        "GET {p}/test-folders/{test_case_folder_id}/test-cases",
        "POST {p}/test-sets/{test_set_id}/test-case-mapping/{test_case_id}",
        "POST {p}/releases/{release_id}/test-cases",
        "GET {p}/test-sets/{test_set_id}/test-case-mapping",
        "POST {p}/documents/file",
        "POST {p}/documents/url",
        "POST {p}/refresh-caches",
        "POST {p}/refresh-caches/{release_id}",
    ]
    .iter()
    .map(|s| s.replace("{p}", p))
    .collect();
    served.sort();
    assert_eq!(answered, served);
}

/// Inflectra's own reader (spira-addons-xunit 1.0.0, `spira_xunit_reader.py`) sends each run
/// as below: `json.dumps` of its body, one POST to `test-runs/record` per test, the
/// credentials as query parameters. It sends all five fields the description requires, so
/// the description's checks store it unchanged (`make bench` runs the reader itself).
#[test]
fn inflectra_readers_runs_are_stored_as_before() {
    let m = Mock::start(&[]);
    let body = r#"{"TestRunFormatId": 1, "StartDate": "2026-12-01T08:34:39Z", "EndDate": "2026-12-01T08:34:39Z", "RunnerName": "xUnit (Python)", "RunnerTestName": "c.K.t1", "RunnerMessage": "Success", "RunnerStackTrace": "Nothing Reported\n", "RunnerAssertCount": 0, "TestCaseId": 1, "ExecutionStatusId": 2}"#;
    let url = format!(
        "{}/test-runs/record?username=demo&api-key=%7B00000000-DEMO-KEY0-0000-000000000000%7D",
        m.api()
    );
    let (code, answer, _) = http(
        "POST",
        &url,
        &[("Content-Type", "application/json")],
        Some(body),
    );
    assert_eq!(code, 200, "{answer}");
    let stored: Value = serde_json::from_str(&answer).unwrap();
    let sent: Value = serde_json::from_str(body).unwrap();
    for (k, v) in sent.as_object().unwrap() {
        if !k.ends_with("Date") {
            assert_eq!(&stored[k], v, "{k}");
        }
    }
    assert_eq!(m.stats()["runs"], 1);
}

#[test]
fn runs_are_stored_and_returned_with_their_steps() {
    let m = Mock::start(&["--test-cases", "1-10"]);
    let mut r = run(3);
    let steps = json!([
        {"Description": "Given a user", "ExecutionStatusId": 2, "Position": 1},
        {"Description": "When they log in", "ExecutionStatusId": 1, "ActualResult": "500", "Position": 2}
    ]);
    r["TestRunSteps"] = steps.clone();
    let (code, body) = post(&m, "test-runs/record-multiple", &json!([r]));
    assert_eq!(code, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer[0]["TestRunSteps"], steps, "{body}");
    let (code, listed) = get(
        &m,
        "test-runs?starting_row=1&number_of_rows=10&sort_field=TestRunId&sort_direction=DESC",
    );
    assert_eq!(code, 200, "{listed}");
    assert_eq!(listed[0]["TestRunSteps"], steps, "{listed}");
}
