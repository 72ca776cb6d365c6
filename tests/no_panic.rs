//! Every tool on hostile lines, files and flags: each ends with an error or a warning, never a
//! panic. The release build aborts on a panic (exit 134), which loses the run; the test build
//! unwinds (exit 101): neither code, no death by a signal and no "panicked" on stderr is allowed.

use serde_json::{json, Value};

use crate::harness::{files, http, run, Mock, Run, TempDir, AUTH};

fn no_panic(r: &Run) {
    assert!(
        ![101, 134, -1].contains(&r.code) && !r.stderr.contains("panicked"),
        "a panic\n{r}"
    );
}

/// Hostile date, duration and number texts, as they could stand in any field.
const HOSTILE_TEXTS: &[&str] = &[
    "",
    " ",
    "é",
    "/Date()/",
    "/Date(-)/",
    "/Date(é)/",
    "/Date(9223372036854775807)/",
    "/Date(-9223372036854775808)/",
    "/Date(99999999999999999999999)/",
    "2024-05-14T12:00:00+aéb",
    "2024-05-14T12:00:00+é",
    "2024-05-1é",
    "2024-02-30",
    "9999-12-31T23:59:59.999999999999+23:59",
    "0000-01-01T00:00:00-23:59",
    "1e300",
    "-1e300",
    "NaN",
    "-0",
    "\u{0}",
    "00:00:é",
    "1.é:00:00",
    "%aé",
    "[é",
    "(é",
];

#[path = "../fuzz/fuzz_targets/date_reports.rs"]
mod date_reports;
use date_reports::reports;

#[test]
fn spira_parse_never_panics_on_hostile_dates_and_durations() {
    let t = TempDir::new("nopanic-parse");
    let mut checked = 0;
    for (i, v) in HOSTILE_TEXTS.iter().enumerate() {
        for (name, text) in reports(v) {
            let p = t.path(&format!("{i}-{name}"));
            std::fs::write(&p, text).unwrap();
            let p = p.display().to_string();
            for j in ["1", "2"] {
                let r = run("spira-parse", &["-j", j, &p], None);
                no_panic(&r);
                // The hostile values are warned about, and the test case is still read.
                assert!(r.code == 0 && r.stdout.lines().count() >= 1, "{r}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, HOSTILE_TEXTS.len() * 8 * 2);
}

/// A result line with every field spira-map reads set to `v` where it is text.
fn result_line(v: &str) -> String {
    json!({
        "format": "junit", "report": v, "suites": [v, v], "classname": v, "name": format!("t[{v}]({v})"),
        "status": "passed", "duration": 1.0, "start": v, "suite_start": v, "message": v,
        "type": v, "details": v, "stdout": v, "stderr": v,
        "properties": [{"name": "TestCaseId", "value": v}, {"name": "spira_id", "value": "7"}],
        "other_outcomes": [{"kind": v, "message": v}],
        "reruns": [{"kind": v, "message": v, "status": "failed"}], "flaky": true,
        "attachments": [v], "spira_status": v,
    })
    .to_string()
}

#[test]
fn spira_map_never_panics_on_hostile_lines_and_flags() {
    let mut lines = String::new();
    for v in HOSTILE_TEXTS {
        lines.push_str(&result_line(v));
        lines.push('\n');
    }
    for dur in [
        "1e300",
        "-1e300",
        "1.7976931348623157e308",
        "-0.0",
        "9.3e18",
    ] {
        lines.push_str(
            &result_line("x").replace("\"duration\":1.0", &format!("\"duration\":{dur}")),
        );
        lines.push('\n');
    }
    lines.push_str("{\"name\": \"\\ud800\", \"status\": \"passed\"}\n[1]\n\"é\"\n{\n");
    // Text fields that are not strings (spira-map copied their inside, assuming quotes).
    for v in ["5", "[1]", "{}", "true", "\"\""] {
        let mut l: Value = serde_json::from_str(&result_line("x")).unwrap();
        for k in ["details", "stdout", "stderr", "message"] {
            l[k] = serde_json::from_str(v).unwrap();
        }
        lines.push_str(&l.to_string());
        lines.push('\n');
    }
    let base = [
        "--default-test-case",
        "1",
        "--start",
        "2024-05-14T12:00:00Z",
    ];
    for extra in [
        &[][..],
        &["--aggregate"],
        &["--html", "--steps", "reruns", "--parameters-from-name"],
        &["--date-format", "wcf", "--aggregate", "--html"],
    ] {
        let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        let r = run("spira-map", &args, Some(lines.as_bytes()));
        no_panic(&r);
        assert_eq!(r.code, 1, "the bad lines are reported\n{r}");
    }
    for (flag, v) in HOSTILE_TEXTS.iter().flat_map(|v| {
        [
            ("--start", v.to_string()),
            ("--timezone", v.to_string()),
            ("--custom-property", format!("3=date:{v}")),
            ("--custom-property", format!("3=list:{v}")),
            ("--status", format!("{v}=1")),
            ("--id-pattern", v.to_string()),
            ("--runner-name", v.to_string()),
            ("--map", v.to_string()),
        ]
    }) {
        if v.contains('\u{0}') {
            continue; // no process takes a NUL in an argument
        }
        let r = run(
            "spira-map",
            &["--default-test-case", "1", flag, &v],
            Some(lines.as_bytes()),
        );
        no_panic(&r);
    }
}

/// Run, batch, dead-letter and journal lines with hostile dates and numbers.
fn hostile_lines() -> String {
    let mut out = String::new();
    for v in HOSTILE_TEXTS {
        let run = json!({"TestCaseId": 1, "ExecutionStatusId": 2, "StartDate": v, "EndDate": v,
                         "RunnerName": v, "RunnerTestName": v, "TestRunFormatId": 1});
        out.push_str(&run.to_string());
        out.push('\n');
        out.push_str(&json!([run, run]).to_string());
        out.push('\n');
        out.push_str(&json!({"status": 400, "message": v, "time": v, "runs": [run]}).to_string());
        out.push('\n');
        out.push_str(&json!({"batch": 1, "hash": v, "state": v, "runs": 1}).to_string());
        out.push('\n');
    }
    for raw in [
        r#"{"TestCaseId": 99999999999999999999999, "ExecutionStatusId": -1, "StartDate": 5}"#,
        r#"{"TestCaseId": 1e300, "StartDate": "/Date(1)/", "EndDate": "/Date(-9223372036854775808)/"}"#,
        r#"{"StartDate": "/Date(-9223372036854775808)/", "EndDate": "/Date(9223372036854775807)/"}"#,
        r#"[1,"x",null]"#,
        r#"[[[[[[[[[[[[]]]]]]]]]]]]"#,
        r#"{"runs": "x"}"#,
        r#"{"status": "passed", "duration": 1e300}"#,
        "\u{feff}{}",
        "[",
        "\"\\ud800\"",
    ] {
        out.push_str(raw);
        out.push('\n');
    }
    out
}

#[test]
fn the_line_tools_never_panic_on_hostile_lines() {
    let lines = hostile_lines();
    let calls: &[(&str, &[&str])] = &[
        ("spira-inspect", &[]),
        ("spira-inspect", &["--json"]),
        ("spira-validate", &[]),
        ("spira-validate", &["--schema", "result"]),
        ("spira-validate", &["--schema", "batch"]),
        ("spira-batch", &[]),
        ("spira-batch", &["--unbatch"]),
        ("spira-batch", &["--size", "1", "--max-bytes", "10"]),
        (
            "spira-post",
            &[
                "--dry-run",
                "--url",
                "http://127.0.0.1:9",
                "--username",
                "u",
                "--project",
                "1",
            ],
        ),
        (
            "spira-cases",
            &[
                "--dry-run",
                "--offline",
                "--url",
                "http://127.0.0.1:9",
                "--username",
                "u",
                "--project",
                "1",
            ],
        ),
    ];
    for (tool, args) in calls {
        let r = crate::harness::run_env(
            tool,
            args,
            Some(lines.as_bytes()),
            &[("SPIRA_API_KEY", "k")],
        );
        no_panic(&r);
        assert_eq!(r.code, 1, "hostile lines are reported as bad data\n{r}");
    }
}

/// Sends a GET with `target` as written, bytes and all, and reads whatever comes back.
fn raw_get(m: &Mock, target: &str) {
    use std::io::{Read, Write};
    let addr = m.url.trim_start_matches("http://");
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        panic!("spira-mock is gone");
    };
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    let mut req = b"GET ".to_vec();
    req.extend_from_slice(target.replace(' ', "%20").as_bytes());
    req.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let _ = s.write_all(&req);
    let _ = s.read_to_end(&mut Vec::new());
}

#[test]
fn spira_mock_never_panics_on_hostile_requests() {
    let m = Mock::start(&[]);
    m.expect_nonconforming();
    let api = m.api();
    for v in HOSTILE_TEXTS {
        let body = json!([{"TestCaseId": 1, "ExecutionStatusId": 2, "StartDate": v, "EndDate": v,
                           "RunnerName": "x", "RunnerTestName": v, "TestRunFormatId": 1}]);
        let (code, _, _) = http(
            "POST",
            &format!("{api}/test-runs/record-multiple"),
            &AUTH,
            Some(&body.to_string()),
        );
        assert!(code == 200 || code == 400, "{v:?}: {code}");
        // Raw bytes in the request line, as no well-behaved client sends them.
        let path = api
            .split_once("127.0.0.1")
            .map_or("", |(_, p)| p)
            .split_once('/')
            .map_or("", |(_, p)| p);
        raw_get(
            &m,
            &format!("/{path}/test-cases?starting_row={v}&username=demo&api-key=%aé{v}%"),
        );
    }
    for body in ["", "[", "[1]", "{}", "[[]]", "\"\\ud800\""] {
        let _ = http(
            "POST",
            &format!("{api}/test-runs/record-multiple"),
            &AUTH,
            Some(body),
        );
        let _ = http(
            "POST",
            &format!("{api}/test-runs/record"),
            &AUTH,
            Some(body),
        );
        let _ = http(
            "POST",
            &format!("{api}/releases/1/builds"),
            &AUTH,
            Some(body),
        );
    }
    // Still answering: it did not die on any of them.
    let s: Value = m.stats();
    assert!(s["requests"].as_u64().unwrap() > 0, "{s}");
}

/// Every JSON format, forced, on each fixture cut at every 97th byte, on hostile values in
/// every field, and on JSON of other shapes: an error or results, never a panic.
#[test]
fn spira_parse_never_panics_on_hostile_json_reports() {
    let t = TempDir::new("nopanic-json");
    let formats = ["go", "jest", "mocha", "dart", "rspec", "playwright", "ctrf"];
    let mut inputs: Vec<Vec<u8>> = vec![
        b"[]".to_vec(),
        b"null".to_vec(),
        b"{\"numTotalTests\":1,\"testResults\":[null,1,\"x\",[],{}]}".to_vec(),
        b"{\"results\":{\"tool\":{},\"tests\":[{\"suite\":7,\"retryAttempts\":{},\"duration\":-1e308}]}}".to_vec(),
        b"{\"Action\":\"run\",\"Test\":\"\\ud800\"}\n{\"Action\":\"fail\",\"Elapsed\":1e309}".to_vec(),
        b"{\"type\":\"testDone\",\"testID\":18446744073709551615,\"time\":-5}".to_vec(),
        b"{\"config\":{},\"suites\":[{\"suites\":[{\"suites\":[{\"specs\":[{\"tests\":[{\"results\":[]}]}]}]}]}]}".to_vec(),
    ];
    for f in files(
        &crate::harness::root().join("fixtures/json"),
        &[".json", ".ndjson"],
    ) {
        let data = std::fs::read(&f).unwrap();
        for cut in (0..data.len()).step_by(97) {
            inputs.push(data[..cut].to_vec());
        }
        // Every string value replaced by a number, then every number by a string.
        let text = String::from_utf8(data).unwrap();
        inputs.push(text.replace("\":\"", "\":1e999,\"x\":\"").into_bytes());
        inputs.push(
            text.replace(":1", ":\"1")
                .replace(":0", ":\"0")
                .into_bytes(),
        );
    }
    let mut checked = 0;
    for (i, data) in inputs.iter().enumerate() {
        let p = t.path(&format!("in-{i}.json"));
        std::fs::write(&p, data).unwrap();
        for fmt in formats {
            let r = run("spira-parse", &["--format", fmt, p.to_str().unwrap()], None);
            no_panic(&r);
            assert!(matches!(r.code, 0 | 1), "{r}");
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked}");
}
