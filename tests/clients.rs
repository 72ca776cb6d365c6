//! Inflectra's own clients against spira-mock: the requests pytest-spiratest 2.1.1 (batch mode)
//! and spira-robot-framework 1.0.0 send, byte for byte as their code writes them (Python's
//! `json.dumps` with its default separators and ASCII escapes, the headers `requests` sends, the
//! credentials in the query string), replayed over a raw TCP connection. Spira takes them, so
//! the mock must: each run stored, its numbers stored as numbers, the leniency counted.
//!
//! `with_python_clients_run_for_real` installs the real plugins into a throwaway venv and runs
//! them (make test runs it when PyPI can be reached, and says so when it cannot).

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::Value;

use crate::harness::{http, Mock, AUTH};

/// The demo key as `requests` encodes it in a query string.
const QUERY: &str = "username=demo&api-key=%7B00000000-DEMO-KEY0-0000-000000000000%7D";

/// Sends `head` (request line and headers, without Content-Length and the blank line) and
/// `body` as one HTTP/1.1 request on a fresh connection; the answer's status and body.
fn raw(m: &Mock, head: &str, body: &str) -> (u16, String) {
    let host = m.url.trim_start_matches("http://");
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let head = head.replace("{HOST}", host);
    let req = format!("{head}\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    s.write_all(req.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if let Some(end) = find(&got, b"\r\n\r\n") {
            let headers = String::from_utf8_lossy(&got[..end]).to_lowercase();
            let len: usize = headers
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                let status = headers[9..12].parse().unwrap();
                let body = String::from_utf8(got[end + 4..end + 4 + len].to_vec()).unwrap();
                return (status, body);
            }
        }
    }
    panic!("the connection closed before a whole answer: {got:?}");
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One run as pytest-spiratest 2.1.1 writes it (`_post_single_batch`), `json.dumps` form:
/// the test case ID from the `[test_cases]` section of spira.cfg, a string.
fn pytest_run(tc: &str, name: &str, msg: &str, trace: &str, status: u8) -> String {
    format!(
        r#"{{"TestRunFormatId": 1, "StartDate": "2026-12-07T10:07:17Z", "EndDate": "2026-12-07T10:07:18Z", "RunnerName": "PyTest", "RunnerTestName": "{name}", "RunnerMessage": "{msg}", "RunnerStackTrace": "{trace}", "TestCaseId": "{tc}", "ExecutionStatusId": {status}, "ReleaseId": 3}}"#
    )
}

/// pytest's failure text as `json.dumps` escapes it (new lines, quotes, a non-ASCII letter).
const PYTEST_TRACE: &str = r#"def test_checkout():\n        cart = Cart()\n>       assert cart.total() == \"caf\u00e9\"\nE       AssertionError: assert 0 == 'caf\u00e9'\n\ntests/test_shop.py:12: AssertionError"#;

/// The batch pytest-spiratest posts at the end of a session: a pass, a failure with pytest's
/// traceback (its RunnerMessage empty, as the plugin leaves it), a skip (status 3 and the skip
/// reason), and a run whose ID came from a `spira_id` marker (an integer).
fn pytest_batch() -> String {
    let mut runs = vec![
        pytest_run("7", "test_login", "Test Succeeded", "", 2),
        pytest_run("8", "test_checkout", "", PYTEST_TRACE, 1),
        pytest_run(
            "9",
            "test_export",
            "Test Skipped: Skipped: no database here",
            "",
            3,
        ),
    ];
    runs.push(pytest_run("10", "test_marked", "Test Succeeded", "", 2).replace("\"10\"", "10"));
    format!("[{}]", runs.join(", "))
}

/// The stored runs, from the run list (`GET test-runs`, newest first) and from a search by
/// release.
fn listed(m: &Mock) -> (Value, Value) {
    let (code, list, _) = http(
        "GET",
        &format!(
            "{}/test-runs?starting_row=1&number_of_rows=50&sort_field=TestRunId&sort_direction=ASC",
            m.api()
        ),
        &AUTH,
        None,
    );
    assert_eq!(code, 200, "{list}");
    let filter = r#"[{"PropertyName": "ReleaseId", "IntValue": 3}]"#;
    let (code, found, _) = http(
        "POST",
        &format!(
            "{}/test-runs/search?starting_row=1&number_of_rows=50&sort_field=TestRunId&sort_direction=ASC",
            m.api()
        ),
        &AUTH,
        Some(filter),
    );
    assert_eq!(code, 200, "{found}");
    (
        serde_json::from_str(&list).unwrap(),
        serde_json::from_str(&found).unwrap(),
    )
}

/// What the mock counted as not in Spira's API description, by reason.
fn leniencies(m: &Mock) -> Value {
    m.stats()["leniencies"].clone()
}

#[test]
fn pytest_spiratest_batch_mode_is_stored_with_every_run() {
    let m = Mock::start(&[]);
    m.expect_nonconforming();
    let head = format!(
        "POST /Services/v7_0/RestService.svc/projects/1/test-runs/record-multiple?{QUERY} HTTP/1.1\r\n\
         Host: {{HOST}}\r\nUser-Agent: PyTest\r\nAccept-Encoding: gzip, deflate\r\n\
         accept: application/json\r\nConnection: keep-alive\r\nContent-Type: application/json"
    );
    let (code, answer) = raw(&m, &head, &pytest_batch());
    assert_eq!(code, 200, "{answer}");
    let stored: Value = serde_json::from_str(&answer).unwrap();
    let ids: Vec<&Value> = stored
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["TestCaseId"])
        .collect();
    assert_eq!(ids, [7, 8, 9, 10], "{answer}");
    assert_eq!(stored[1]["ExecutionStatusId"], 1);
    assert_eq!(stored[2]["ExecutionStatusId"], 3);
    assert_eq!(stored[1]["RunnerMessage"], "");
    let trace = stored[1]["RunnerStackTrace"].as_str().unwrap();
    assert!(trace.contains("assert 0 == 'café'\n"), "{trace}");
    let (list, found) = listed(&m);
    for (what, runs) in [("list", &list), ("search", &found)] {
        let runs = runs.as_array().unwrap();
        assert_eq!(runs.len(), 4, "{what}: {runs:?}");
        for (r, tc) in runs.iter().zip([7, 8, 9, 10]) {
            assert!(r["TestCaseId"].is_u64(), "{what}: {r}");
            assert_eq!(r["TestCaseId"], tc, "{what}");
            assert_eq!(r["ReleaseId"], 3, "{what}");
            assert_eq!(r["RunnerName"], "PyTest", "{what}");
        }
    }
    let s = m.stats();
    assert_eq!(
        (s["runs"].clone(), s["rejected"].clone()),
        (4.into(), 0.into())
    );
    assert_eq!(s["nonconforming_requests"], 1, "{s}");
    assert_eq!(
        leniencies(&m),
        serde_json::json!({"POST /projects/{project_id}/test-runs/record-multiple: TestCaseId: a number written as a string": 1}),
    );
}

/// One request as spira-robot-framework 1.0.0 sends it (`SpiraTestRun.post`): v6, `record`,
/// the test case ID the digits of a `TC:` tag (a string), ReleaseId `int()` of the config's.
fn robot_request(m: &Mock, tc: &str, name: &str, status: u8, message: &str) -> (u16, String) {
    let head = format!(
        "POST /Services/v6_0/RestService.svc/projects/1/test-runs/record?{QUERY} HTTP/1.1\r\n\
         Host: {{HOST}}\r\nUser-Agent: Robot-Framework\r\nAccept-Encoding: gzip, deflate\r\n\
         accept: application/json\r\nConnection: keep-alive\r\nContent-Type: application/json"
    );
    let details = format!("Test Case: Shop.{name}\\nDocumentation: \\nMessage: {message}\\n");
    let body = format!(
        r#"{{"TestRunFormatId": 1, "StartDate": "2026-12-07T06:00:00Z", "EndDate": "2026-12-07T10:07:18Z", "RunnerName": "Robot-Framework", "RunnerTestName": "{name}", "RunnerMessage": "{message}", "RunnerStackTrace": "{details}", "TestCaseId": "{tc}", "ExecutionStatusId": {status}, "ReleaseId": 3}}"#
    );
    raw(m, &head, &body)
}

#[test]
fn spira_robot_framework_runs_are_each_stored() {
    let m = Mock::start(&[]);
    m.expect_nonconforming();
    let tests = [
        ("11", "Login Works", 2, " (PASS)"),
        ("12", "Checkout Fails", 1, "Expected 3 but was 2 (FAIL)"),
        ("13", "Export Skipped", 4, "No database (SKIP)"),
    ];
    for (tc, name, status, message) in tests {
        let (code, answer) = robot_request(&m, tc, name, status, message);
        assert_eq!(code, 200, "{name}: {answer}");
        let stored: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(stored["TestCaseId"], tc.parse::<u64>().unwrap(), "{answer}");
        assert_eq!(stored["ExecutionStatusId"], status);
        assert!(stored["TestRunId"].is_u64(), "{answer}");
    }
    let (list, found) = listed(&m);
    for runs in [&list, &found] {
        let got: Vec<(u64, u64)> = runs
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["TestCaseId"].as_u64().unwrap(),
                    r["ExecutionStatusId"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, [(11, 2), (12, 1), (13, 4)]);
    }
    let s = m.stats();
    assert_eq!(s["runs"], 3);
    assert_eq!(s["nonconforming_requests"], 3, "{s}");
    assert_eq!(
        leniencies(&m),
        serde_json::json!({"POST /projects/{project_id}/test-runs/record: TestCaseId: a number written as a string": 3}),
    );
}

/// What Spira refuses stays refused: a value that cannot be read as the field's type, whatever
/// else in the request is lenient; and a number written as a string in any integer field is
/// taken, on every endpoint.
#[test]
fn what_cannot_be_read_as_a_number_is_refused() {
    let m = Mock::start(&["--test-cases", "1-20"]);
    m.expect_nonconforming();
    let base = pytest_run("7", "t", "m", "", 2);
    for bad in [r#""abc""#, "{}", r#""7.5""#, r#""""#, "[7]"] {
        let body = format!(
            "[{}]",
            base.replace(r#""TestCaseId": "7""#, &format!(r#""TestCaseId": {bad}"#))
        );
        let (code, answer, _) = http(
            "POST",
            &format!("{}/test-runs/record-multiple", m.api()),
            &AUTH,
            Some(&body),
        );
        assert_eq!(code, 400, "{bad}: {answer}");
        assert!(answer.contains("TestCaseId"), "{bad}: {answer}");
        // A run's own refusal names the run, so that a client can set it aside.
        assert!(answer.starts_with("Test run 1 of 1: "), "{bad}: {answer}");
    }
    assert_eq!(m.stats()["runs"], 0);
    let stepped = base.replace(
        r#""ReleaseId": 3"#,
        r#""ReleaseId": " 3", "RunnerAssertCount": "-0", "TestRunSteps": [{"Description": "open", "ExecutionStatusId": 2, "Position": 1}]"#,
    );
    let (code, answer, _) = http(
        "POST",
        &format!("{}/test-runs/record-multiple", m.api()),
        &AUTH,
        Some(&format!("[{stepped}]")),
    );
    assert_eq!(code, 200, "{answer}");
    let stored: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(stored[0]["ReleaseId"], 3);
    assert_eq!(stored[0]["RunnerAssertCount"], 0);
    assert_eq!(
        stored[0]["TestRunSteps"][0]["ExecutionStatusId"], 2,
        "{answer}"
    );
    let l = leniencies(&m);
    for field in ["TestCaseId", "ReleaseId", "RunnerAssertCount"] {
        let key = format!(
            "POST /projects/{{project_id}}/test-runs/record-multiple: {field}: a number written as a string"
        );
        assert_eq!(l[&key], 1, "{field}: {l}");
    }
    // Elsewhere too: a test case created with its folder written as a string.
    let (code, answer, _) = http(
        "POST",
        &format!("{}/test-cases", m.api()),
        &AUTH,
        Some(r#"{"Name": "made", "TestCaseFolderId": null, "TestCaseStatusId": "0"}"#),
    );
    assert_eq!(code, 200, "{answer}");
    let made: Value = serde_json::from_str(&answer).unwrap();
    assert!(made["TestCaseId"].is_u64(), "{answer}");
    assert_eq!(m.stats()["nonconforming_requests"], 7);
}

/// The pinned clients, as `pip` installs them.
const CLIENTS: [&str; 4] = [
    "pytest-spiratest==2.1.1",
    "spira-robot-framework==1.0.0",
    "pytest>=8",
    "robotframework>=7",
];

/// A venv holding Inflectra's clients, made once in `target/` (so a second `make test` installs
/// nothing); a clear failure when it cannot be made.
fn clients_venv() -> std::path::PathBuf {
    let venv = crate::harness::root().join("target/python-clients");
    let python = venv.join("bin/python");
    let sh = |cmd: &mut std::process::Command, what: &str| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            out.status.success(),
            "{what} failed: Inflectra's clients could NOT be installed, so they were not run:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    if !python.exists() {
        sh(
            std::process::Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv),
            "python3 -m venv",
        );
    }
    sh(
        std::process::Command::new(&python)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .args(CLIENTS),
        "pip install of Inflectra's clients",
    );
    venv
}

/// The runs the mock stored, as (test case, status, release, runner).
fn stored(m: &Mock) -> Vec<(u64, u64, u64, String)> {
    let (code, body, _) = http("GET", &format!("{}/__mock/runs", m.url), &[], None);
    assert_eq!(code, 200);
    body.lines()
        .map(|l| {
            let r: Value = serde_json::from_str(l).unwrap();
            (
                r["TestCaseId"].as_u64().unwrap(),
                r["ExecutionStatusId"].as_u64().unwrap(),
                r["ReleaseId"].as_u64().unwrap(),
                r["RunnerName"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn spira_cfg(m: &Mock, extra: &str) -> String {
    format!(
        "[credentials]\nurl = {}\nusername = demo\ntoken = {{00000000-DEMO-KEY0-0000-000000000000}}\n\
         project_id = 1\nrelease_id = 3\n{extra}",
        m.url
    )
}

/// The real plugins, installed from PyPI, run a small suite each against spira-mock: every
/// run they send is stored with the report's test case, status and release.
#[test]
#[ignore = "needs pytest-spiratest: make test runs it when PyPI can be reached"]
fn with_python_clients_run_for_real() {
    let venv = clients_venv();
    let m = Mock::start(&[]);
    m.expect_nonconforming();
    let dir = crate::harness::TempDir::new("clients");
    let py = dir.path("pytest");
    std::fs::create_dir_all(py.join("tests")).unwrap();
    let mapping = "\n[test_cases]\ntest_login = 7\ntest_checkout = 8\ntest_export = 9\n\n\
                   [settings]\nbatch_mode = true\n";
    std::fs::write(py.join("spira.cfg"), spira_cfg(&m, mapping)).unwrap();
    std::fs::write(
        py.join("tests/test_shop.py"),
        "import pytest\n\ndef test_login():\n    assert 1 + 1 == 2\n\n\
         def test_checkout():\n    total = 0\n    assert total == \"caf\u{e9}\"\n\n\
         @pytest.mark.skip(reason=\"no database here\")\ndef test_export():\n    pass\n\n\
         @pytest.mark.spira_id(10)\ndef test_marked():\n    pass\n",
    )
    .unwrap();
    let out = std::process::Command::new(venv.join("bin/pytest"))
        .args(["-q", "-p", "no:cacheprovider", "tests"])
        .current_dir(&py)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("1 failed, 2 passed, 1 skipped"), "{said}");
    let pytest_runs: Vec<(u64, u64, u64, String)> = [(7, 2), (8, 1), (9, 3), (10, 2)]
        .iter()
        .map(|&(tc, s)| (tc, s, 3, "PyTest".to_string()))
        .collect();
    assert_eq!(stored(&m), pytest_runs, "{said}");

    let rb = dir.path("robot");
    std::fs::create_dir_all(&rb).unwrap();
    std::fs::write(rb.join("spira.cfg"), spira_cfg(&m, "")).unwrap();
    std::fs::write(
        rb.join("shop.robot"),
        "*** Test Cases ***\nLogin Works\n    [Tags]    TC:11\n    Should Be Equal    1    1\n\n\
         Checkout Fails\n    [Documentation]    The total is wrong.\n    [Tags]    TC:12\n    \
         Should Be Equal    3    2\n\nExport Skipped\n    [Tags]    TC:13\n    Skip    No database\n",
    )
    .unwrap();
    let robot = std::process::Command::new(venv.join("bin/robot"))
        .args([
            "--output",
            "output.xml",
            "--report",
            "NONE",
            "--log",
            "NONE",
            "shop.robot",
        ])
        .current_dir(&rb)
        .output()
        .unwrap();
    assert_eq!(robot.status.code(), Some(1), "one test fails");
    let out = std::process::Command::new(venv.join("bin/python"))
        .args(["-m", "robot_spira_integration", "output.xml", "spira.cfg"])
        .current_dir(&rb)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("Successfully reported 3 test cases"),
        "{said}"
    );
    let robot_runs = [(11, 2), (12, 1), (13, 4)]
        .iter()
        .map(|&(tc, s)| (tc, s, 3, "Robot-Framework".to_string()));
    let all: Vec<_> = pytest_runs.into_iter().chain(robot_runs).collect();
    assert_eq!(stored(&m), all);
    let l = leniencies(&m);
    assert_eq!(
        l["POST /projects/{project_id}/test-runs/record-multiple: TestCaseId: a number written as a string"],
        1, "{l}"
    );
    assert_eq!(
        l["POST /projects/{project_id}/test-runs/record: TestCaseId: a number written as a string"],
        3,
        "{l}"
    );
}
