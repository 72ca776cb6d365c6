//! spira-map: every source of test case IDs and its precedence, every flag, and the accounting.

use serde_json::{json, Value};

use crate::harness::{root, run, TempDir};

/// A result line with the given fields over a minimal passed JUnit result.
fn result(fields: Value) -> String {
    let mut base = json!({
        "format": "junit", "report": "r.xml", "suites": ["S"], "classname": "pkg.Class",
        "name": "test", "status": "passed", "duration": 1.5, "start": null
    });
    for (k, v) in fields.as_object().unwrap() {
        base[k] = v.clone();
    }
    base.to_string()
}

fn lines(items: &[String]) -> Vec<u8> {
    let mut s = items.join("\n");
    s.push('\n');
    s.into_bytes()
}

/// Runs spira-map on result lines; the fixed --start keeps the output deterministic.
fn map(args: &[&str], input: &[String]) -> crate::harness::Run {
    let mut a = vec!["--start", "2024-01-01T00:00:00Z"];
    a.extend_from_slice(args);
    run("spira-map", &a, Some(&lines(input)))
}

fn ids(r: &crate::harness::Run) -> Vec<u64> {
    r.json()
        .iter()
        .map(|v| v["TestCaseId"].as_u64().unwrap())
        .collect()
}

#[test]
fn id_sources_in_order_of_precedence() {
    let all =
        result(json!({"name": "test TC:2", "properties": [{"name": "TestCaseId", "value": "1"}]}));
    let token = result(json!({"name": "test TC:2", "classname": "com.example.CalculatorTest"}));
    let by_map = result(json!({"classname": "com.example.CalculatorTest", "name": "multiplies"}));
    let fallback = result(json!({"classname": "other", "name": "x"}));
    let r = map(
        &["--map", "fixtures/map/ids.csv", "--default-test-case", "99"],
        &[all, token, by_map, fallback],
    );
    r.expect_code(0);
    assert_eq!(ids(&r), [1, 2, 5, 99], "{r}");
    assert_eq!(
        r.stderr.trim_end(),
        "spira-map: 4 results: 4 mapped (1 by property, 1 by name token, 1 by map file, 1 by default), 0 unmapped; 4 runs written"
    );
}

#[test]
fn properties_and_name_tokens() {
    let input = [
        result(
            json!({"properties": [{"name": "test_case_id", "value": "TC:11"}, {"name": "spira_id", "value": "12"}]}),
        ),
        result(
            json!({"properties": [{"name": "spira.testcase", "value": "13"}, {"name": "other", "value": "14"}]}),
        ),
        result(json!({"properties": [{"name": "jira", "value": "15"}]})),
        result(json!({"test_case_id": 16})),
        result(json!({"name": "covers [TC21] and TC-22 and TC:23 but not xTC24 or TC25x"})),
        result(json!({"classname": "Suite_TC31", "name": "n"})),
    ];
    let r = map(&["--id-property", "JIRA"], &input);
    r.expect_code(0);
    assert_eq!(ids(&r), [11, 12, 13, 15, 16, 21, 22, 23], "{r}");
    // `Suite_TC31`: no word boundary before TC, so no token.
    assert!(
        r.stderr.contains("no test case for \"Suite_TC31.n\""),
        "{r}"
    );
    // A custom pattern: its first group is the ID.
    let r = map(
        &["--id-pattern", r"@case-(\d+)"],
        &[result(json!({"name": "x @case-77"}))],
    );
    assert_eq!(ids(&r), [77], "{r}");
    let r = map(&["--id-pattern", "("], &[]);
    r.expect_code(2);
    assert!(
        r.err1()
            .starts_with("spira-map: --id-pattern: regex parse error"),
        "{r}"
    );
}

#[test]
fn map_files_in_every_form() {
    let t = |c: &str, n: &str| result(json!({"classname": c, "name": n}));
    let input = [
        t("com.example.CalculatorTest", "addsTwoNumbers"),
        t("com.example.CalculatorTest", "dividesByZero"),
        t("com.example.CalculatorTest", "subtracts"),
        t("com.example.CalculatorTest", "flakyNetwork"),
        t("com.example.CalculatorTest", "alwaysFails"),
        t("tests.test_api", "test_login[admin-secret]"),
        t("elsewhere", "nothing"),
    ];
    // CSV: exact keys beat globs, the first glob in the file wins, `[` is literal, name alone
    // matches when classname.name does not.
    let r = map(&["--map", "fixtures/map/ids.csv"], &input);
    r.expect_code(0);
    assert_eq!(ids(&r), [2, 8, 4, 6, 8, 20], "{r}");
    // JSON: numbers, TC strings and objects with a test set; a suite entry for the suite.
    let in_suite: Vec<String> = input[..3]
        .iter()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v["suites"] = json!(["com.example.CalculatorTest"]);
            v.to_string()
        })
        .collect();
    let r = map(&["--map", "fixtures/map/ids.json"], &in_suite);
    assert_eq!(ids(&r), [2, 3, 8], "{r}");
    let sets: Vec<Value> = r.json().iter().map(|v| v["TestSetId"].clone()).collect();
    assert_eq!(sets, [json!(7), json!(11), json!(7)], "{r}");
    // spira.cfg, read unchanged: lower-cased classname.name keys, [test_sets] by suite name,
    // release_id and test_set_id from [credentials] as defaults.
    let mut with_suite = Vec::new();
    for line in &input[..3] {
        let mut v: Value = serde_json::from_str(line).unwrap();
        v["suites"] = json!(["com.example.CalculatorTest"]);
        with_suite.push(v.to_string());
    }
    with_suite.push(t("other", "unmapped"));
    with_suite.push(result(json!({"suites": ["another"], "test_case_id": 50})));
    let r = map(&["--map", "fixtures/map/spira.cfg"], &with_suite);
    r.expect_code(0);
    let v = r.json();
    assert_eq!(ids(&r), [2, 3, 4, 50], "{r}");
    assert!(v.iter().all(|x| x["ReleaseId"] == 5), "{r}");
    assert_eq!(v[0]["TestSetId"], 7);
    assert_eq!(
        v[3]["TestSetId"], 1,
        "the [credentials] test set for other suites"
    );
    // Flags win over spira.cfg defaults.
    let r = map(
        &[
            "--map",
            "fixtures/map/spira.cfg",
            "--release",
            "6",
            "--test-set",
            "2",
        ],
        &with_suite[4..],
    );
    assert_eq!(r.json()[0]["ReleaseId"], 6);
    assert_eq!(r.json()[0]["TestSetId"], 2);
    // A test-case list matched by name, case-insensitively.
    let by_name = [
        t("x", "adds two numbers"),
        t("y", "DividesByZero"),
        t("z", "subtracts"),
        t("w", "nope"),
    ];
    let r = map(
        &["--map", "fixtures/map/testcases.csv", "--match", "name"],
        &by_name,
    );
    assert_eq!(ids(&r), [2, 3, 4], "{r}");
}

#[test]
fn test_set_precedence() {
    let t = TempDir::new("sets");
    let m = t.path("m.csv");
    std::fs::write(
        &m,
        "key,test_case_id,test_set_id\nS,,20\npkg.Class.own,1,30\npkg.Class.suite,2,\n",
    )
    .unwrap();
    let m = m.to_string_lossy().to_string();
    let input = [
        result(json!({"name": "own"})),
        result(json!({"name": "suite"})),
        result(json!({"name": "flag", "suites": ["Other"], "test_case_id": 3})),
    ];
    let r = map(&["--map", &m, "--test-set", "10"], &input);
    let sets: Vec<Value> = r.json().iter().map(|v| v["TestSetId"].clone()).collect();
    assert_eq!(sets, [json!(30), json!(20), json!(10)], "{r}");
}

#[test]
fn statuses_by_default_and_overridden() {
    let st = |s: &str, extra: Value| {
        let mut f = json!({"status": s, "test_case_id": 1});
        for (k, v) in extra.as_object().unwrap() {
            f[k] = v.clone();
        }
        result(f)
    };
    let input = [
        st("passed", json!({})),
        st("failed", json!({})),
        st("error", json!({})),
        st("skipped", json!({})),
        st("warning", json!({})),
        st(
            "passed",
            json!({"flaky": true, "reruns": [{"kind": "flakyFailure", "status": "failed"}]}),
        ),
        st("error", json!({"spira_status": "Blocked"})),
        st("warning", json!({"spira_status": "Caution"})),
        st("skipped", json!({"spira_status": "Not Run"})),
        st("skipped", json!({"spira_status": "N/A"})),
    ];
    let r = map(&[], &input);
    let got: Vec<u64> = r
        .json()
        .iter()
        .map(|v| v["ExecutionStatusId"].as_u64().unwrap())
        .collect();
    assert_eq!(got, [2, 1, 5, 4, 6, 2, 5, 6, 3, 4], "{r}");
    assert_eq!(
        r.json()[5]["RunnerMessage"],
        "Flaky: passed after 1 failed attempt"
    );
    let r = map(
        &[
            "--status",
            "skipped=3",
            "--status",
            "error=1",
            "--status",
            "not run=4",
        ],
        &input,
    );
    let got: Vec<u64> = r
        .json()
        .iter()
        .map(|v| v["ExecutionStatusId"].as_u64().unwrap())
        .collect();
    assert_eq!(got, [2, 1, 1, 3, 6, 2, 5, 6, 4, 4], "{r}");
    let r = map(&["--status", "skipped=9"], &[]);
    r.expect_code(2);
    assert_eq!(
        r.err1(),
        "error: invalid value 'skipped=9' for '--status <NAME=ID>': '9' is not a status ID from 1 to 6"
    );
}

#[test]
fn dates_from_starts_suites_and_the_reference() {
    let input = [
        // Its own start, with an offset.
        result(json!({"test_case_id": 1, "start": "2024-05-14T14:00:00+02:00", "duration": 2.0})),
        // Two in one suite: the suite's start, then after the first one's duration.
        result(json!({"test_case_id": 2, "suite_start": "2024-05-14T10:00:00", "duration": 1.25})),
        result(json!({"test_case_id": 3, "suite_start": "2024-05-14T10:00:00", "duration": null})),
        // No time at all: the reference, laid out one after another.
        result(json!({"test_case_id": 4, "report": "other.xml", "duration": 3.0})),
        result(json!({"test_case_id": 5, "report": "other.xml", "duration": 1.0})),
    ];
    let r = map(&["--timezone", "+01:00"], &input);
    r.expect_code(0);
    let d = r.pairs("StartDate", "EndDate");
    let want = [
        ("2024-05-14T12:00:00.000Z", "2024-05-14T12:00:02.000Z"),
        ("2024-05-14T09:00:00.000Z", "2024-05-14T09:00:01.250Z"),
        ("2024-05-14T09:00:01.250Z", "2024-05-14T09:00:01.250Z"),
        ("2024-01-01T00:00:00.000Z", "2024-01-01T00:00:03.000Z"),
        ("2024-01-01T00:00:03.000Z", "2024-01-01T00:00:04.000Z"),
    ];
    assert_eq!(d.len(), want.len(), "{r}");
    for (got, want) in d.iter().zip(want) {
        assert_eq!((got.0.as_str(), got.1.as_str()), want, "{r}");
    }
    // The same input and --start give the same bytes; WCF dates on request.
    let again = map(&["--timezone", "+01:00"], &input);
    assert_eq!(again.stdout, r.stdout);
    let r = map(&["--date-format", "wcf"], &input[..1]);
    assert_eq!(r.json()[0]["StartDate"], "/Date(1715688000000-0000)/");
    assert_eq!(map(&["--timezone", "Europe/Paris"], &[]).code, 2);
}

#[test]
fn text_fields_are_cut_at_spira_limits_in_utf16_units() {
    // 253 units of é, then an astral character (two units) that would straddle the limit.
    let long_name = format!("{}😀x", "é".repeat(253));
    let message = format!("first line {}\nsecond line", "m".repeat(300));
    let r = map(
        &[],
        &[result(
            json!({"test_case_id": 1, "classname": null, "name": long_name, "message": message, "status": "failed", "assertions": 3}),
        )],
    );
    let v = &r.json()[0];
    let name = v["RunnerTestName"].as_str().unwrap();
    assert_eq!(
        name.encode_utf16().count(),
        254,
        "é×253 then …: the emoji is not split"
    );
    assert!(name.ends_with("é…"));
    assert!(!name.contains('\u{FFFD}'));
    let msg = v["RunnerMessage"].as_str().unwrap();
    assert_eq!(msg.encode_utf16().count(), 255);
    assert!(msg.starts_with("first line m") && msg.ends_with('…'));
    assert_eq!(v["RunnerAssertCount"], 3);
    let trace = v["RunnerStackTrace"].as_str().unwrap();
    assert!(
        trace.contains("second line"),
        "the whole message is in the trace"
    );
}

#[test]
fn runner_name_html_steps_parameters_attachments_and_ids() {
    let r = map(&["--runner-name", "a-name-longer-than-20"], &[]);
    r.expect_code(2);
    assert_eq!(
        r.err1(),
        "spira-map: --runner-name 'a-name-longer-than-20': Spira's RunnerName holds 1 to 20 characters"
    );
    let input = [result(json!({
        "test_case_id": 1, "name": "test_x[a-1]", "status": "failed",
        "message": "a < b & c", "details": "<trace>",
        "reruns": [{"kind": "rerunFailure", "status": "failed", "message": "first try"}],
        "attachments": ["shots/a.png", "https://ci/log"]
    }))];
    let r = map(
        &[
            "--html",
            "--steps",
            "reruns",
            "--parameters-from-name",
            "--runner-name",
            "ci-bot",
            "--build",
            "3",
            "--test-configuration",
            "4",
            "--automation-host",
            "5",
            "--custom-property",
            "2=int:5",
            "--custom-property",
            "3=text",
        ],
        &input,
    );
    r.expect_code(0);
    let v = &r.json()[0];
    assert_eq!(v["RunnerName"], "ci-bot");
    assert_eq!(v["TestRunFormatId"], 2);
    let trace = v["RunnerStackTrace"].as_str().unwrap();
    assert!(
        trace.starts_with("<pre>")
            && trace.contains("a &lt; b &amp; c")
            && trace.contains("&lt;trace&gt;"),
        "{trace}"
    );
    assert_eq!(
        v["TestRunSteps"],
        json!([
            {"Description": "Attempt 1 (rerunFailure)", "ExecutionStatusId": 1, "ActualResult": "first try", "Position": 1},
            {"Description": "Attempt 2 (final)", "ExecutionStatusId": 1, "ActualResult": "a < b & c", "Position": 2}
        ])
    );
    assert_eq!(v["Parameters"], json!([{"Name": "1", "Value": "a-1"}]));
    assert_eq!(v["_Attachments"], json!(["shots/a.png", "https://ci/log"]));
    assert_eq!(
        (
            v["BuildId"].clone(),
            v["TestConfigurationId"].clone(),
            v["AutomationHostId"].clone()
        ),
        (json!(3), json!(4), json!(5))
    );
    assert_eq!(
        v["CustomProperties"],
        json!([{"PropertyNumber": 2, "IntegerValue": 5}, {"PropertyNumber": 3, "StringValue": "text"}])
    );
}

#[test]
fn aggregate_folds_runs_of_one_test_case_and_set() {
    let input = [
        result(
            json!({"test_case_id": 1, "name": "a", "status": "passed", "start": "2024-05-14T12:00:10Z", "duration": 1.0}),
        ),
        result(
            json!({"test_case_id": 1, "name": "b", "status": "failed", "start": "2024-05-14T12:00:00Z", "duration": 1.0}),
        ),
        result(
            json!({"test_case_id": 1, "name": "c", "status": "skipped", "start": "2024-05-14T12:00:20Z", "duration": 5.0}),
        ),
        result(json!({"test_case_id": 2, "name": "d", "status": "passed"})),
    ];
    let r = map(&["--aggregate"], &input);
    r.expect_code(0);
    let v = r.json();
    assert_eq!(v.len(), 2, "{r}");
    assert_eq!(v[0]["ExecutionStatusId"], 1);
    assert_eq!(v[0]["StartDate"], "2024-05-14T12:00:00.000Z");
    assert_eq!(v[0]["EndDate"], "2024-05-14T12:00:25.000Z");
    assert_eq!(v[0]["RunnerMessage"], "3 tests: 1 Failed, 1 N/A, 1 Passed");
    assert_eq!(
        v[0]["RunnerStackTrace"],
        "Passed: pkg.Class.a\nFailed: pkg.Class.b\nN/A: pkg.Class.c"
    );
    assert!(r.stderr.contains("4 runs aggregated into 2"), "{r}");
}

#[test]
fn unmapped_results_are_never_lost() {
    let t = TempDir::new("unmapped");
    let out = t.path("unmapped.jsonl");
    let input = [
        result(json!({"name": "a"})),
        result(json!({"name": "a"})),
        result(json!({"name": "b"})),
        result(json!({"name": "c", "test_case_id": 3})),
    ];
    let out_s = out.to_string_lossy().to_string();
    let r = map(&["--unmapped-out", &out_s], &input);
    r.expect_code(0);
    let warnings: Vec<&str> = r.stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(
        warnings,
        [
            "spira-map: warning: <stdin>:1: no test case for \"pkg.Class.a\"",
            "spira-map: warning: <stdin>:3: no test case for \"pkg.Class.b\"",
        ]
    );
    assert!(r.stderr.contains("4 results: 1 mapped (1 by property, 0 by name token, 0 by map file, 0 by default), 3 unmapped (2 distinct names); 1 runs written"), "{r}");
    let kept = std::fs::read_to_string(&out).unwrap();
    assert_eq!(kept.lines().count(), 3);
    assert!(kept
        .lines()
        .all(|l| serde_json::from_str::<Value>(l).unwrap()["format"] == "junit"));
    let r = map(&["--strict"], &input);
    r.expect_code(1);
    assert_eq!(
        r.stderr.lines().last().unwrap(),
        "spira-map: 3 results without a test case (--strict)"
    );
    assert_eq!(r.json().len(), 1, "mapped runs are still written");
}

#[test]
fn a_bad_line_names_the_file_and_line() {
    let r = run("spira-map", &[], Some(b"{\"format\":\"junit\"}\n"));
    r.expect_code(1);
    assert!(
        r.err1()
            .starts_with("spira-map: <stdin>:1: not a result line: missing field `report`"),
        "{r}"
    );
    let r = run(
        "spira-map",
        &["--map", "fixtures/map/missing.csv"],
        Some(b""),
    );
    r.expect_code(2);
    assert_eq!(
        r.err1(),
        "spira-map: cannot open map file 'fixtures/map/missing.csv': No such file or directory"
    );
}

/// The whole fixture set through parse and map: every result accounted for, every run valid
/// against the run schema, text limits in UTF-16 units respected.
#[test]
fn every_result_is_accounted_for_on_a_large_input() {
    let t = TempDir::new("large");
    let mut doc = String::from("<testsuites>");
    for s in 0..40 {
        doc.push_str(&format!(
            "<testsuite name=\"S{s}\" timestamp=\"2024-05-14T12:00:00\">"
        ));
        for i in 0..250 {
            let n = s * 250 + i;
            let id = match n % 4 {
                0 => format!(" TC:{}", n + 1),
                1 => format!(" [TC{}] and TC-{}", n + 1, n + 100_000),
                _ => String::new(),
            };
            let fail = if n % 7 == 0 {
                "<failure message=\"boom\">trace</failure>"
            } else {
                ""
            };
            doc.push_str(&format!(
                "<testcase classname=\"c{s}\" name=\"t{n}{id}\" time=\"0.01\">{fail}</testcase>"
            ));
        }
        doc.push_str("</testsuite>");
    }
    doc.push_str("</testsuites>");
    let report = t.path("big.xml");
    std::fs::write(&report, doc).unwrap();
    let results = run("spira-parse", &[&report.to_string_lossy()], None);
    results.expect_code(0);
    let input: Vec<String> = results.stdout.lines().map(str::to_string).collect();
    assert_eq!(input.len(), 10_000);
    let r = map(&[], &input);
    r.expect_code(0);
    // 2,500 with one token, 2,500 with two, 5,000 unmapped.
    assert!(r.stderr.contains("10000 results: 5000 mapped (0 by property, 5000 by name token, 0 by map file, 0 by default), 5000 unmapped (5000 distinct names); 7500 runs written"), "{}", r.stderr.lines().last().unwrap());
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/remote-automated-test-run.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let runs = r.json();
    assert_eq!(runs.len(), 7500);
    for v in &runs {
        assert!(validator.is_valid(v), "{v}");
    }
}

/// Long fields are copied into RunnerStackTrace as escaped in the line (not decoded and
/// escaped again): the trace must read exactly as the decoded text would, escapes and trailing
/// white space included, in plain and HTML form; a broken escape is an error naming the line.
#[test]
fn stack_traces_copied_escaped_read_as_the_decoded_text() {
    let details = "at x\\n \"quoted\" \u{1}\u{b} é 😀 ends with a backslash and n: \\n";
    let stdout = "\n  out line \\\\\t\u{a0}\u{2003}\r\n\t ";
    let stderr = "err\u{7f}\u{c}\n\u{3000}";
    let line = result(
        json!({"status": "failed", "message": "boom", "details": details,
                             "stdout": stdout, "stderr": stderr}),
    );
    let expect = format!(
        "Message: boom\n{}\n\n--- stdout ---\n{}\n\n--- stderr ---\n{}",
        details.trim_end(),
        stdout.trim_end(),
        stderr.trim_end()
    );
    // The same text escaped otherwise (`\u` escapes, as other JSON writers may write it).
    let mut escaped_otherwise = String::new();
    for c in line.chars() {
        match c {
            'é' | '😀' => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    escaped_otherwise.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => escaped_otherwise.push(c),
        }
    }
    for input in [line.clone(), escaped_otherwise] {
        let r = map(&["--default-test-case", "1"], std::slice::from_ref(&input));
        r.expect_code(0);
        assert_eq!(r.json()[0]["RunnerStackTrace"], expect.as_str(), "{r}");
        let h = map(
            &["--default-test-case", "1", "--html"],
            std::slice::from_ref(&input),
        );
        let html = h.json()[0]["RunnerStackTrace"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            html.starts_with("<pre>Message: boom\nat x\\n &quot;quoted&quot;"),
            "{h}"
        );
    }
    let lone = line.replace("\"at x", "\"\\ud800 at x");
    let r = map(&["--default-test-case", "1"], &[lone]);
    r.expect_code(1);
    assert_eq!(
        r.err1(),
        "spira-map: <stdin>:1: not a result line: a text field: unexpected end of hex escape"
    );
}

#[test]
fn a_key_given_twice_in_a_map_file_is_warned_about_and_the_first_wins() {
    let t = TempDir::new("dupkeys");
    let forms = [
        ("m.csv", "key,test_case_id\nc.a,1\nx,9\nC.A,2\n", 4, 2),
        (
            "m.json",
            "{\n  \"c.a\": 1,\n  \"x\": {\"test_case_id\": 9},\n  \"c.a\": 2\n}\n",
            4,
            2,
        ),
        ("m.cfg", "[test_cases]\nc.a = 1\nx = 9\n\nc.a = 2\n", 5, 2),
    ];
    let input = [result(json!({"classname": "c", "name": "a"}))];
    for (name, text, again, first) in forms {
        let path = t.path(name);
        std::fs::write(&path, text).unwrap();
        let p = path.to_str().unwrap();
        let r = map(&["--map", p], &input);
        r.expect_code(0);
        assert_eq!(ids(&r), [1], "{r}");
        let key = if name.ends_with(".csv") { "C.A" } else { "c.a" };
        assert_eq!(
            r.err1(),
            format!("spira-map: warning: map file {p}:{again}: \"{key}\" is given again (first at {p}:{first}); the first is used"),
            "{r}"
        );
    }
}

#[test]
fn an_impossible_start_is_warned_about_once_and_counted_as_none() {
    let input = [
        result(json!({"test_case_id": 1, "start": "2024-02-30T10:00:00", "duration": 2.0})),
        result(json!({"test_case_id": 2, "start": "2024-13-01T00:00:00Z", "duration": 1.0})),
    ];
    let r = map(&[], &input);
    r.expect_code(0);
    let starts: Vec<_> = r
        .json()
        .iter()
        .map(|v| v["StartDate"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        starts,
        ["2024-01-01T00:00:00.000Z", "2024-01-01T00:00:02.000Z"],
        "{r}"
    );
    assert_eq!(
        r.err1(),
        "spira-map: warning: <stdin>:1: start \"2024-02-30T10:00:00\" is not a date that exists; the run's start is taken as if it had none (further ones are not reported)"
    );
    assert_eq!(
        r.stderr.lines().filter(|l| l.contains("warning")).count(),
        1,
        "{r}"
    );
}

#[test]
fn tags_and_allure_ids_map_after_properties_and_before_the_name() {
    let tag = |v: &str| json!({"name": "tag", "value": v});
    let input = [
        // A tag beats a token in the name; an ID property beats a tag.
        result(json!({"name": "logs in TC:9", "properties": [tag("@smoke"), tag("@TC:123")]})),
        result(json!({"properties": [tag("TC-124"), {"name": "TestCaseId", "value": "5"}]})),
        result(json!({"name": "no tag TC:7", "properties": [tag("@wip")]})),
        result(json!({"properties": [{"name": "allure.id", "value": "31"}]})),
        result(json!({"properties": [{"name": "tms", "value": "32"}]})),
        result(json!({"name": "n", "properties": [{"name": "tms", "value": "JIRA-7"}]})),
    ];
    let r = map(&[], &input);
    r.expect_code(0);
    assert_eq!(ids(&r), [123, 5, 7, 31, 32], "{r}");
    assert!(r.stderr.contains("no test case for \"pkg.Class.n\""), "{r}");
    assert!(
        r.stderr.contains("6 results: 5 mapped (3 by property, 1 by tag, 1 by name token, 0 by map file, 0 by default), 1 unmapped"),
        "{r}"
    );
}

#[test]
fn steps_become_test_run_steps_or_lines_of_the_stack_trace() {
    let steps = json!([
        {"name": "Given a user", "status": "passed", "duration": 0.001},
        {"name": "When they log in", "status": "failed", "duration": 0.5, "message": "expected 200\nwas 500"},
        {"name": "", "status": "skipped"}
    ]);
    let input = [result(
        json!({"name": "TC:4 log in", "status": "failed", "steps": steps}),
    )];
    let r = map(&["--steps", "steps"], &input);
    r.expect_code(0);
    let run = &r.json()[0];
    assert_eq!(
        run["TestRunSteps"],
        json!([
            {"Description": "Given a user", "ExecutionStatusId": 2, "Position": 1},
            {"Description": "When they log in", "ExecutionStatusId": 1, "ActualResult": "expected 200\nwas 500", "Position": 2},
            {"Description": "Step 3", "ExecutionStatusId": 4, "Position": 3}
        ]),
        "{r}"
    );
    assert!(
        !run["RunnerStackTrace"]
            .as_str()
            .unwrap()
            .contains("--- steps ---"),
        "{r}"
    );
    // Without --steps steps: listed in the stack trace.
    for args in [&[][..], &["--steps", "reruns"][..], &["--html"][..]] {
        let r = map(args, &input);
        r.expect_code(0);
        let run = &r.json()[0];
        let trace = run["RunnerStackTrace"].as_str().unwrap();
        assert!(
            trace.contains("--- steps ---\n1. Given a user [passed]\n2. When they log in [failed]\n   expected 200\n   was 500\n3.  [skipped]"),
            "{args:?}: {trace}"
        );
        assert!(run.get("TestRunSteps").is_none(), "{r}");
    }
}
