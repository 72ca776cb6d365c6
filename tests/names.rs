//! Names, not numbers: releases by version, test sets, automation hosts and custom properties
//! by name, on every tool that takes them, against the real spira-mock given
//! `fixtures/names/data.json` (Spira's own records). With IDs alone, spira-map stays offline.

use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::harness::{bin, http, root, run_env, Mock, Run, TempDir, AUTH};

use crate::harness::KEY;

fn data() -> String {
    root()
        .join("fixtures/names/data.json")
        .to_string_lossy()
        .into_owned()
}

/// The mock given the data file; test set 678 holds test cases 1-100 (so runs keep it).
fn mock(extra: &[&str]) -> Mock {
    let d = data();
    let mut args = vec!["--data", d.as_str(), "--test-set", "678=1-100"];
    args.extend_from_slice(extra);
    Mock::start(&args)
}

/// `tool` against `m` with `input` on stdin; the key never shows.
fn tool(m: &Mock, name: &str, args: &[&str], input: &str) -> Run {
    let e = m.env();
    let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_env(name, args, Some(input.as_bytes()), &e);
    assert!(
        !r.stdout.contains(KEY) && !r.stderr.contains(KEY),
        "the key was shown\n{r}"
    );
    r
}

/// A result line.
fn result(suites: &[&str], classname: &str, name: &str) -> String {
    json!({"format": "junit", "report": "r.xml", "suites": suites, "classname": classname,
           "name": name, "status": "passed", "duration": 1.0, "start": "2026-06-03T10:00:00Z"})
    .to_string()
        + "\n"
}

fn requests(m: &Mock) -> u64 {
    m.stats()["requests"].as_u64().unwrap()
}

fn only(r: &Run) -> Value {
    let lines = r.json();
    assert_eq!(lines.len(), 1, "{r}");
    lines[0].clone()
}

#[test]
fn every_name_option_of_spira_map_resolves_to_the_id_in_the_data_file_each_list_read_once() {
    let m = mock(&[]);
    let before = requests(&m);
    let r = tool(
        &m,
        "spira-map",
        &[
            "--default-test-case",
            "5",
            "--release-version",
            "1.4.0.1",
            "--test-set-name",
            "Nightly UI",
            "--automation-host-name",
            "ubuntu-runner-7",
            "--custom-property",
            "Browser=Firefox",
            "--custom-property",
            "Browsers=Chrome,Safari",
            "--custom-property",
            "Attempts=3",
            "--custom-property",
            "Runner OS=linux, x86-64",
            "--custom-property",
            "9=by number",
        ],
        &result(&["S"], "a.B", "c"),
    );
    r.expect_code(0);
    let run = only(&r);
    assert_eq!(run["ReleaseId"], 46, "the iteration 1.4.0.1\n{r}");
    assert_eq!(run["TestSetId"], 678);
    assert_eq!(run["AutomationHostId"], 3);
    assert_eq!(
        run["CustomProperties"],
        json!([
            {"PropertyNumber": 1, "IntegerValue": 202},
            {"PropertyNumber": 2, "IntegerListValue": [201, 203]},
            {"PropertyNumber": 3, "IntegerValue": 3},
            {"PropertyNumber": 4, "StringValue": "linux, x86-64"},
            {"PropertyNumber": 9, "StringValue": "by number"},
        ]),
        "{r}"
    );
    // The releases' search, the test sets, the hosts, the project and its template's
    // properties: each read once, four named properties or not.
    assert_eq!(requests(&m) - before, 5, "{r}");
    assert_eq!(m.stats()["hosts_created"], 0);
}

#[test]
fn a_map_file_s_suite_entries_may_name_their_test_set() {
    let m = mock(&[]);
    let t = TempDir::new("names-map");
    let csv = t.path("ids.csv");
    std::fs::write(
        &csv,
        "key,test_case_id,test_set_id,test_set_name\nUI,,,Nightly UI\nAPI,,,Nightly API\nSmoke,,679,\nApi.t,7,,Smoke\n",
    )
    .unwrap();
    let json_map = t.path("ids.json");
    std::fs::write(
        &json_map,
        r#"{"UI": {"test_set_name": "Smoke"}, "a.b": {"test_case_id": 8, "test_set_name": "Nightly API"}}"#,
    )
    .unwrap();
    let input = [
        result(&["UI"], "x.Y", "z"),
        result(&["API"], "x.Y", "z"),
        result(&["Smoke"], "x.Y", "z"),
        result(&["API"], "Api", "t"),
    ]
    .concat();
    let (c, j) = (csv.to_str().unwrap(), json_map.to_str().unwrap());
    let r = tool(
        &m,
        "spira-map",
        &["--map", c, "--default-test-case", "5"],
        &input,
    );
    r.expect_code(0);
    let sets: Vec<Value> = r.json().iter().map(|v| v["TestSetId"].clone()).collect();
    assert_eq!(
        sets,
        [json!(678), json!(680), json!(679), json!(679)],
        "{r}"
    );
    let r = tool(
        &m,
        "spira-map",
        &["--map", j, "--default-test-case", "5"],
        &[result(&["UI"], "x.Y", "z"), result(&["S"], "a", "b")].concat(),
    );
    r.expect_code(0);
    let got: Vec<(Value, Value)> = r
        .json()
        .iter()
        .map(|v| (v["TestCaseId"].clone(), v["TestSetId"].clone()))
        .collect();
    assert_eq!(got, [(json!(5), json!(679)), (json!(8), json!(680))], "{r}");
    // A name that is no test set: the entry's file and line, and the closest names.
    std::fs::write(&csv, "key,test_case_id,test_set_name\nUI,,Nightly\n").unwrap();
    let r = tool(&m, "spira-map", &["--map", c], &input);
    r.expect_code(2);
    assert!(
        r.err1().starts_with("spira-map: map file ")
            && r.err1().contains("ids.csv:2: test_set_name: no test set")
            && r.err1().contains("'Nightly UI'"),
        "{r}"
    );
    assert!(
        r.stdout.is_empty(),
        "nothing written before names are resolved\n{r}"
    );
    // Both an ID and a name: refused, offline.
    std::fs::write(
        &csv,
        "key,test_case_id,test_set_id,test_set_name\nUI,,3,Smoke\n",
    )
    .unwrap();
    let r = run_env("spira-map", &["--map", c], Some(input.as_bytes()), &[]);
    r.expect_code(2);
    assert!(
        r.err1()
            .contains("gives both test_set_id and test_set_name"),
        "{r}"
    );
}

#[test]
fn spira_post_and_spira_cases_take_the_release_by_version_and_the_test_set_by_name() {
    let m = mock(&[]);
    let mapped = tool(
        &m,
        "spira-map",
        &[
            "--default-test-case",
            "5",
            "--automation-host-name",
            "Agent2",
            "--custom-property",
            "Browsers=Firefox",
        ],
        &result(&["S"], "a.B", "c"),
    );
    mapped.expect_code(0);
    assert_eq!(
        only(&mapped)["AutomationHostId"],
        4,
        "found by its token agent2\n{mapped}"
    );
    let batched = tool(&m, "spira-batch", &[], &mapped.stdout);
    let r = tool(
        &m,
        "spira-post",
        &["--release-version", "1.4.0", "--build-name", "CI 7"],
        &batched.stdout,
    );
    r.expect_code(0);
    assert!(r.stderr.contains("in release RL:45"), "{r}");
    let (_, body, _) = http("GET", &format!("{}/__mock/runs", m.url), &[], None);
    let stored: Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(stored["ReleaseId"], 45, "{body}");
    assert_eq!(
        stored["AutomationHostId"], 4,
        "the run keeps its host\n{body}"
    );
    assert_eq!(
        stored["CustomProperties"],
        json!([{"PropertyNumber": 2, "IntegerListValue": [202]}])
    );
    // spira-cases: the new test case joins the test set and the release named.
    let r = tool(
        &m,
        "spira-cases",
        &[
            "--test-set-name",
            "Nightly UI",
            "--release-version",
            "1.4.0",
        ],
        &result(&["S"], "com.acme.New", "test_it"),
    );
    r.expect_code(0);
    let (_, body, _) = http(
        "GET",
        &format!("{}/test-sets/678/test-case-mapping", m.api()),
        &AUTH,
        None,
    );
    assert!(body.contains("\"TestCaseId\":1001"), "{r}\n{body}");
    assert_eq!(m.stats()["release_test_cases"], json!({"45": 1}));
    // An unknown version: nothing created, exit 2.
    let r = tool(
        &m,
        "spira-cases",
        &["--release-version", "9.9"],
        &result(&["S"], "com.acme.Other", "test_it"),
    );
    r.expect_code(2);
    assert!(r.err1().contains("'9.9'"), "{r}");
    assert_eq!(m.stats()["test_cases"], 1001);
    let r = tool(
        &m,
        "spira-post",
        &["--release-version", "0.1"],
        &batched.stdout,
    );
    r.expect_code(2);
    assert!(r.err1().starts_with("spira-post: no release"), "{r}");
}

#[test]
fn a_name_that_matches_nothing_is_a_usage_error_naming_the_closest_and_a_server_error_is_3() {
    let m = mock(&[]);
    let input = result(&["S"], "a.B", "c");
    let cases: [(&[&str], &[&str]); 6] = [
        (
            &["--release-version", "1.4"],
            &["no release or iteration has the version number '1.4'", "VersionNumber", "'1.4.0'", "'1.4.1'"],
        ),
        (
            &["--test-set-name", "Nightly"],
            &["no test set of project PR:1 is named 'Nightly'", "'Nightly UI'", "'Nightly API'"],
        ),
        (
            &["--custom-property", "Browzer=Chrome"],
            &["no test-run custom property", "'Browser'"],
        ),
        (
            &["--custom-property", "Browser=Edge"],
            &["the list of 'Browser' has no value named 'Edge' (its values: Chrome, Firefox, Safari)"],
        ),
        (
            &["--custom-property", "Attempts=abc"],
            &["'Attempts' is an integer property, and 'abc' is not an integer"],
        ),
        (
            &["--custom-property", "Browsers=Chrome,Opera"],
            &["no value named 'Opera'"],
        ),
    ];
    for (args, wanted) in cases {
        let mut a = vec!["--default-test-case", "5"];
        a.extend_from_slice(args);
        let r = tool(&m, "spira-map", &a, &input);
        r.expect_code(2);
        assert!(r.err1().starts_with("spira-map: "), "{r}");
        for w in wanted {
            assert!(r.err1().contains(w), "{w:?} missing\n{r}");
        }
        assert!(r.stdout.is_empty(), "{r}");
    }
    // No server to ask: exit 3.
    let r = run_env(
        "spira-map",
        &["--release-version", "1.4.0", "--default-test-case", "5"],
        Some(input.as_bytes()),
        &[
            ("SPIRA_URL", "http://127.0.0.1:9"),
            ("SPIRA_USERNAME", "demo"),
            ("SPIRA_PROJECT_ID", "1"),
            ("SPIRA_API_KEY", KEY),
        ],
    );
    r.expect_code(3);
    // A name needs the connection: said, exit 2.
    let r = run_env(
        "spira-map",
        &["--test-set-name", "Smoke", "--default-test-case", "5"],
        Some(input.as_bytes()),
        &[],
    );
    r.expect_code(2);
    assert!(r.err1().contains("SPIRA_URL"), "{r}");
}

#[test]
fn spira_map_given_only_ids_makes_no_connection() {
    let m = mock(&[]);
    let before = requests(&m);
    let r = tool(
        &m,
        "spira-map",
        &[
            "--default-test-case",
            "5",
            "--release",
            "45",
            "--test-set",
            "678",
            "--automation-host",
            "3",
            "--custom-property",
            "2=x",
        ],
        &result(&["S"], "a.B", "c"),
    );
    r.expect_code(0);
    let run = only(&r);
    assert_eq!(
        (run["ReleaseId"].clone(), run["AutomationHostId"].clone()),
        (json!(45), json!(3))
    );
    assert_eq!(requests(&m), before, "spira-map asked the server\n{r}");
}

/// Starts spira-map with `--automation-host-name name` against `m`.
fn map_with_host(m: &Mock, name: &str) -> std::process::Child {
    let mut c = Command::new(bin("spira-map"));
    c.args(["--default-test-case", "5", "--automation-host-name", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in m.env() {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(result(&["S"], "a.B", "c").as_bytes())
        .unwrap();
    child
}

fn host_of(child: std::process::Child) -> (Value, String) {
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    (run["AutomationHostId"].clone(), stderr)
}

#[test]
fn an_automation_host_is_created_once_found_next_time_and_two_at_once_make_one() {
    let m = mock(&["--latency-ms", "50", "--threads", "8"]);
    let (id, err) = host_of(map_with_host(&m, "GitHub runner 9"));
    assert_eq!(id, 5, "{err}");
    assert!(
        err.contains("created automation host AH:5 'GitHub runner 9' (token github-runner-9)"),
        "{err}"
    );
    let (again, err) = host_of(map_with_host(&m, "GitHub runner 9"));
    assert_eq!(again, 5, "found by name\n{err}");
    assert!(!err.contains("created"), "{err}");
    assert_eq!(m.stats()["hosts_created"], 1);
    // Two agents of the same name start at once: one host, both runs on it.
    let a = map_with_host(&m, "windows agent");
    let b = map_with_host(&m, "windows agent");
    let ((ha, ea), (hb, eb)) = (host_of(a), host_of(b));
    assert_eq!(ha, hb, "{ea}\n{eb}");
    assert_eq!(m.stats()["hosts_created"], 2, "{ea}\n{eb}");
    let r = tool(&m, "spira-ids", &["automation-hosts"], "");
    r.expect_code(0);
    for row in [
        "5,GitHub runner 9,github-runner-9,true",
        &format!("{ha},windows agent,windows-agent,true"),
    ] {
        assert!(r.stdout.lines().any(|l| l == row), "{row}\n{r}");
    }
}

#[test]
fn spira_ids_lists_releases_test_sets_hosts_and_custom_properties() {
    let m = mock(&["--releases", "1-2"]);
    let want: [(&str, &[&str]); 4] = [
        (
            "releases",
            &[
                "release_id,version_number,name,release_type_id,active",
                "45,1.4.0,Summer release,1,true",
                "46,1.4.0.1,Sprint 1 of 1.4.0,3,true",
                "2,2.0,Release 2,1,true",
            ],
        ),
        (
            "test-sets",
            &[
                "test_set_id,name,release_id",
                "678,Nightly UI,45",
                "680,Nightly API,47",
            ],
        ),
        (
            "automation-hosts",
            &[
                "automation_host_id,name,token,active",
                "4,Build Agent 2,agent2,true",
            ],
        ),
        (
            "custom-properties",
            &[
                "property_number,name,type,value_id,value_name",
                "1,Browser,list,202,Firefox",
                "2,Browsers,multi-list,203,Safari",
                "3,Attempts,integer,,",
                "4,Runner OS,text,,",
            ],
        ),
    ];
    for (kind, rows) in want {
        let r = tool(&m, "spira-ids", &[kind], "");
        r.expect_code(0);
        assert_eq!(r.stdout.lines().next(), Some(rows[0]), "{r}");
        for row in rows {
            assert!(r.stdout.lines().any(|l| l == *row), "{row}\n{r}");
        }
    }
    // The requirement property of the template is not a test-run property.
    let r = tool(&m, "spira-ids", &["custom-properties"], "");
    assert!(!r.stdout.contains("Risk"), "{r}");
    // The test cases stay the default.
    let r = tool(&m, "spira-ids", &[], "");
    assert_eq!(r.stdout.lines().next(), Some("test_case_id,name"), "{r}");
}

#[test]
fn the_mock_serves_the_records_as_the_description_has_them() {
    let m = mock(&[]);
    let get = |path: &str| {
        let (code, body, _) = http("GET", &format!("{}{path}", m.api()), &AUTH, None);
        (code, body)
    };
    let (code, body) = get("");
    assert_eq!(code, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["ProjectTemplateId"],
        7
    );
    // GET releases: no iterations.
    let (_, body) = get("/releases");
    let ids: Vec<u64> = serde_json::from_str::<Vec<Value>>(&body)
        .unwrap()
        .iter()
        .filter_map(|r| r["ReleaseId"].as_u64())
        .collect();
    assert!(ids.contains(&45) && !ids.contains(&46), "{ids:?}");
    let (code, body, _) = http(
        "POST",
        &format!("{}/releases/search?start_row=1&number_rows=10", m.api()),
        &AUTH,
        Some(r#"[{"PropertyName": "VersionNumber", "StringValue": "1.4.0.1"}]"#),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()[0]["ReleaseId"],
        46
    );
    let (_, body) = get("/test-sets?starting_row=1&number_of_rows=10&release_id=47");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()[0]["TestSetId"],
        680
    );
    let (code, body) = get("/automation-hosts/tokens/agent2");
    assert_eq!(code, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["AutomationHostId"],
        4
    );
    let (code, _) = get("/automation-hosts/tokens/nobody");
    assert_eq!(code, 404);
    // A token is a host's: a second host with it is refused.
    let (code, body, _) = http(
        "POST",
        &format!("{}/automation-hosts", m.api()),
        &AUTH,
        Some(r#"{"Name": "Another", "Token": "agent2", "Active": true}"#),
    );
    assert_eq!(code, 400, "{body}");
    assert_eq!(m.stats()["hosts_created"], 0);
    let templates = format!("{}/Services/v7_0/RestService.svc/project-templates", m.url);
    let (code, body, _) = http(
        "GET",
        &format!("{templates}/7/custom-properties/TestRun"),
        &AUTH,
        None,
    );
    assert_eq!(code, 200);
    assert_eq!(
        serde_json::from_str::<Vec<Value>>(&body).unwrap().len(),
        4,
        "{body}"
    );
    let (code, _, _) = http(
        "GET",
        &format!("{templates}/8/custom-properties/TestRun"),
        &AUTH,
        None,
    );
    assert_eq!(code, 404);
    // Every answer above was checked against the description (`--check-answers`).
    assert!(
        m.stats()["answered"].as_array().unwrap().len() >= 6,
        "{}",
        m.stats()["answered"]
    );
}

#[test]
fn a_bad_data_file_is_refused_naming_it() {
    let t = TempDir::new("names-data");
    let p = t.path("data.json");
    std::fs::write(&p, r#"{"releases": [{"VersionNumber": "1.0"}]}"#).unwrap();
    let out = Command::new(bin("spira-mock"))
        .args(["--listen", "127.0.0.1:0", "--data", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("data.json: releases[0] has no ReleaseId"),
        "{err}"
    );
}
