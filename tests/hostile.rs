//! Hostile and broken input: each case ends in a clear error naming the file and position, or
//! in the documented recovery, in bounded time and memory. (Billion laughs, NUL bytes, an
//! empty file, a binary file, truncation at every point and a ragged CSV are in `parse.rs`.)

use std::time::{Duration, Instant};

use crate::harness::{run, TempDir};

fn parse(path: &str) -> crate::harness::Run {
    run("spira-parse", &[path], None)
}

#[test]
fn duplicate_attributes_warn_and_the_last_value_is_used() {
    let r = parse("fixtures/hostile/duplicate-attrs.xml");
    r.expect_code(0);
    assert_eq!(r.err1(), "spira-parse: warning: fixtures/hostile/duplicate-attrs.xml:2:3: <testcase> has the attribute 'name' more than once; the last value is used (further ones in this file are not reported)");
    assert_eq!(r.json()[0]["name"], "second");
}

#[test]
fn utf16_without_a_bom_is_read() {
    let r = parse("fixtures/hostile/utf16-no-bom.xml");
    r.expect_code(0);
    assert_eq!(r.json()[0]["name"], "naïve");
    assert!(r.stderr.is_empty(), "{r}");
}

#[test]
fn a_byte_of_another_encoding_is_replaced_and_its_place_named() {
    let r = parse("fixtures/hostile/mixed-encodings.xml");
    r.expect_code(0);
    assert_eq!(r.err1(), "spira-parse: warning: fixtures/hostile/mixed-encodings.xml:3:36: bytes that are not valid UTF-8 replaced with U+FFFD");
    let v = r.json();
    assert_eq!(
        (v[0]["name"].as_str(), v[1]["name"].as_str()),
        (Some("café"), Some("caf\u{FFFD}"))
    );
}

#[test]
fn external_entities_are_never_fetched_or_read() {
    for (f, col) in [("xxe-file", 21), ("xxe-url", 21)] {
        let path = format!("fixtures/hostile/{f}.xml");
        let r = parse(&path);
        r.expect_code(0);
        assert_eq!(r.err1(), format!("spira-parse: warning: {path}:3:{col}: undefined entity &e; kept as written (DTDs are never read)"));
        assert_eq!(r.json()[0]["name"], "&e;");
        assert!(!r.stdout.contains("root:"), "no file content");
    }
}

#[test]
fn nesting_a_hundred_thousand_levels_deep_is_refused_at_once() {
    let t = TempDir::new("deep");
    let p = t.path("deep.xml");
    let n = 100_000;
    std::fs::write(
        &p,
        format!(
            "<testsuites>{}<testcase name=\"t\"/>{}</testsuites>",
            "<testsuite name=\"s\">".repeat(n),
            "</testsuite>".repeat(n)
        ),
    )
    .unwrap();
    let started = Instant::now();
    let r = parse(p.to_str().unwrap());
    r.expect_code(1);
    assert_eq!(
        r.err1(),
        format!(
            "spira-parse: {}:1:20473: elements nested more than 1024 deep",
            p.display()
        )
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// The same run lines with a BOM, CRLF line ends and no final newline: read as plain lines.
#[test]
fn json_lines_with_a_bom_crlf_and_no_final_newline_are_read() {
    let line = "{\"TestCaseId\":1,\"ExecutionStatusId\":2,\"StartDate\":\"2024-05-14T12:00:00Z\",\"RunnerName\":\"r\",\"TestRunFormatId\":1}";
    let input = format!("\u{feff}{line}\r\n{line}\r\n{line}");
    let v = run("spira-validate", &[], Some(input.as_bytes()));
    v.expect_code(0);
    assert_eq!(v.stdout.lines().count(), 3);
    let b = run("spira-batch", &[], Some(input.as_bytes()));
    b.expect_code(0);
    assert_eq!(b.json()[0].as_array().unwrap().len(), 3);
    let i = run("spira-inspect", &["--json"], Some(input.as_bytes()));
    i.expect_code(0);
    assert_eq!(i.json()[0]["runs"], 3);
    let result = "{\"format\":\"junit\",\"report\":\"r\",\"suites\":[],\"classname\":\"c\",\"name\":\"n\",\"status\":\"passed\",\"duration\":1,\"start\":null}";
    let m = run(
        "spira-map",
        &["--default-test-case", "1"],
        Some(format!("\u{feff}{result}\r\n{result}").as_bytes()),
    );
    m.expect_code(0);
    assert_eq!(m.stdout.lines().count(), 2);
}

/// A line of 100 MB: spira-batch refuses it by name (its --max-bytes), spira-validate and
/// spira-map hold one line at a time and pass it through.
#[test]
fn a_line_of_a_hundred_megabytes_is_handled_or_refused_by_line() {
    let t = TempDir::new("bigline");
    let runs = t.path("big.jsonl");
    let big = "x".repeat(100_000_000);
    std::fs::write(
        &runs,
        format!("{{\"TestCaseId\":1,\"ExecutionStatusId\":1,\"StartDate\":\"2024-05-14T12:00:00Z\",\"RunnerName\":\"r\",\"TestRunFormatId\":1,\"RunnerStackTrace\":\"{big}\"}}\n"),
    )
    .unwrap();
    drop(big);
    let p = runs.to_str().unwrap();
    let b = run("spira-batch", &[p], None);
    b.expect_code(1);
    assert_eq!(b.err1(), format!("spira-batch: {p}:1: this run is 100000132 bytes, more than --max-bytes 8388608 allows in a batch"));
    let v = run("spira-validate", &[p], None);
    v.expect_code(0);
    assert_eq!(v.stdout.len(), 100_000_133);
}
