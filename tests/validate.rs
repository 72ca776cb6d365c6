//! spira-validate: pass-through, every error with its place, reject records, schemas.

use serde_json::Value;

use crate::harness::{run, TempDir};

const GOOD: &str = r#"{"TestCaseId":1,"ExecutionStatusId":2,"StartDate":"2024-05-14T12:00:00.000Z","RunnerName":"spira-pipe","RunnerTestName":"t","RunnerMessage":"m","RunnerStackTrace":"","TestRunFormatId":1}"#;

#[test]
fn valid_lines_pass_through_byte_for_byte() {
    // Odd spacing and key order, a WCF date, CRLF ends and no final newline: kept as they are.
    let input = format!(
        "{GOOD}\r\n{{ \"TestRunFormatId\":1, \"RunnerName\":\"x\",\"RunnerTestName\":\"t\",\"RunnerMessage\":\"m\",\"RunnerStackTrace\":\"\",\"StartDate\":\"/Date(1715688000000-0000)/\",\"ExecutionStatusId\":6,\"TestCaseId\":2 }}\n\n{GOOD}"
    );
    let r = run("spira-validate", &[], Some(input.as_bytes()));
    r.expect_code(0);
    assert_eq!(
        r.stdout,
        format!("{GOOD}\n{{ \"TestRunFormatId\":1, \"RunnerName\":\"x\",\"RunnerTestName\":\"t\",\"RunnerMessage\":\"m\",\"RunnerStackTrace\":\"\",\"StartDate\":\"/Date(1715688000000-0000)/\",\"ExecutionStatusId\":6,\"TestCaseId\":2 }}\n{GOOD}\n")
    );
    assert_eq!(r.stderr, "");
}

#[test]
fn every_error_of_every_bad_line_is_reported_and_kept() {
    let t = TempDir::new("reject");
    let rej = t.path("rejected.jsonl");
    let bad = r#"{"TestCaseId":0,"ExecutionStatusId":9,"StartDate":"yesterday","RunnerName":"a runner name over twenty","RunnerTestName":"t","RunnerMessage":"m","RunnerStackTrace":"","TestRunFormatId":1}"#;
    let astral = format!(
        r#"{{"TestCaseId":1,"ExecutionStatusId":2,"StartDate":"2024-05-14T12:00:00Z","RunnerName":"r","RunnerTestName":"t","RunnerMessage":"m","RunnerStackTrace":"","TestRunFormatId":1,"RunnerMessage":"{}"}}"#,
        "😀".repeat(128)
    );
    let input = format!("{GOOD}\n{bad}\nnot json at all\n{astral}\n{GOOD}\n");
    let rej_s = rej.to_string_lossy().to_string();
    let r = run(
        "spira-validate",
        &["--reject", &rej_s],
        Some(input.as_bytes()),
    );
    r.expect_code(1);
    assert_eq!(
        r.stdout,
        format!("{GOOD}\n{GOOD}\n"),
        "invalid lines never go downstream"
    );
    let errs: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        errs,
        [
            "spira-validate: <stdin>:2: /ExecutionStatusId: 9 is greater than the maximum of 6",
            "spira-validate: <stdin>:2: /RunnerName: \"a runner name over twenty\" is longer than 20 characters",
            "spira-validate: <stdin>:2: /RunnerName: is 25 UTF-16 units long, more than the 20 Spira's column holds",
            "spira-validate: <stdin>:2: /StartDate: \"yesterday\" does not match \"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?|/Date\\(-?[0-9]+([+-][0-9]{4})?\\)/)$\"",
            "spira-validate: <stdin>:2: /TestCaseId: 0 is less than the minimum of 1",
            "spira-validate: <stdin>:3: /: not JSON: expected ident at line 1 column 2",
            // 128 emoji: 128 code points (within maxLength) but 256 UTF-16 units.
            "spira-validate: <stdin>:4: /RunnerMessage: is 256 UTF-16 units long, more than the 255 Spira's column holds",
            "spira-validate: 5 lines: 2 valid, 3 rejected",
        ]
    );
    let kept: Vec<Value> = std::fs::read_to_string(&rej)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(kept.len(), 3);
    assert_eq!(kept[0]["line"], 2);
    assert_eq!(kept[0]["errors"].as_array().unwrap().len(), 5);
    assert_eq!(kept[0]["input"], bad);
    assert_eq!(
        kept[1]["input"], "not json at all",
        "even a line that is not JSON is kept"
    );
    // The reject file is appended to.
    run("spira-validate", &["--reject", &rej_s], Some(b"[]\n")).expect_code(1);
    assert_eq!(std::fs::read_to_string(&rej).unwrap().lines().count(), 4);
}

#[test]
fn fail_fast_stops_at_the_first_bad_line() {
    let input = format!("{GOOD}\n{{}}\n{GOOD}\n{{}}\n");
    let r = run("spira-validate", &["--fail-fast"], Some(input.as_bytes()));
    r.expect_code(1);
    assert_eq!(r.stdout, format!("{GOOD}\n"));
    assert_eq!(
        r.stderr.lines().last().unwrap(),
        "spira-validate: 2 lines: 1 valid, 1 rejected (stopped at the first)"
    );
}

#[test]
fn other_schemas() {
    let result = std::fs::read_to_string(
        crate::harness::root().join("fixtures/junit/surefire.expected.jsonl"),
    )
    .unwrap();
    run(
        "spira-validate",
        &["--schema", "result"],
        Some(result.as_bytes()),
    )
    .expect_code(0);
    let r = run(
        "spira-validate",
        &["--schema", "result"],
        Some(format!("{GOOD}\n").as_bytes()),
    );
    r.expect_code(1);
    assert!(
        r.err1().starts_with("spira-validate: <stdin>:1: /: "),
        "{r}"
    );
    let batch = format!("[{GOOD},{GOOD}]\n[]\n[{{}}]\n");
    let r = run(
        "spira-validate",
        &["--schema", "batch"],
        Some(batch.as_bytes()),
    );
    r.expect_code(1);
    assert_eq!(r.stdout, format!("[{GOOD},{GOOD}]\n"));
    assert!(
        r.stderr.contains("<stdin>:2: /: [] has less than 1 item"),
        "{r}"
    );
    assert!(
        r.stderr
            .contains("<stdin>:3: /0: \"ExecutionStatusId\" is a required property"),
        "{r}"
    );
    let t = TempDir::new("schema");
    let s = t.path("s.json");
    std::fs::write(
        &s,
        r#"{"type":"object","required":["a"],"properties":{"a":{"maxUtf16Length":2}}}"#,
    )
    .unwrap();
    let r = run(
        "spira-validate",
        &["--schema", &s.to_string_lossy()],
        Some("{\"a\":\"ab\"}\n{\"a\":\"😀x\"}\n".as_bytes()),
    );
    r.expect_code(1);
    assert_eq!(r.stdout, "{\"a\":\"ab\"}\n");
    let r = run("spira-validate", &["--schema", "nope.json"], Some(b""));
    r.expect_code(2);
    assert_eq!(
        r.err1(),
        "spira-validate: cannot open schema 'nope.json': No such file or directory"
    );
}

/// The five run fields Spira's API description marks required: a run line without one is
/// refused, naming it.
#[test]
fn a_run_without_a_required_field_is_refused_naming_it() {
    for field in [
        "TestRunFormatId",
        "RunnerName",
        "RunnerTestName",
        "RunnerMessage",
        "RunnerStackTrace",
        "StartDate",
    ] {
        let mut v: serde_json::Value = serde_json::from_str(GOOD).unwrap();
        v.as_object_mut().unwrap().remove(field);
        let input = format!("{GOOD}\n{v}\n");
        let r = run("spira-validate", &[], Some(input.as_bytes()));
        r.expect_code(1);
        assert_eq!(r.stdout, format!("{GOOD}\n"), "{field}");
        assert!(
            r.stderr
                .contains(&format!("<stdin>:2: /: \"{field}\" is a required property")),
            "{field}: {r}"
        );
    }
}
