//! spira-parse: golden fixtures, exact errors and exit codes, streaming and bounded memory.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::harness::{bin, files, root, run, TempDir};

/// The folders of golden fixtures, one per format.
const FIXTURE_DIRS: [&str; 10] = [
    "fixtures/junit",
    "fixtures/robot",
    "fixtures/tap",
    "fixtures/json",
    "fixtures/csv",
    "fixtures/nunit3",
    "fixtures/nunit2",
    "fixtures/xunit",
    "fixtures/trx",
    "fixtures/testng",
];

/// Arguments for a fixture: `<stem>.args` beside it, one per line.
fn fixture_args(path: &Path) -> Vec<String> {
    let args = path.with_extension("args");
    let mut v: Vec<String> = std::fs::read_to_string(args)
        .map(|s| s.lines().map(str::to_string).collect())
        .unwrap_or_default();
    v.push(path.strip_prefix(root()).unwrap().display().to_string());
    v
}

/// Every fixture's stdout equals `<stem>.expected.jsonl`, and its stderr equals
/// `<stem>.expected.stderr` (empty when that file is absent). `UPDATE_GOLDEN=1` rewrites them.
#[test]
fn golden_fixtures() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in FIXTURE_DIRS {
        for f in files(
            &root().join(dir),
            &[".xml", ".csv", ".trx", ".json", ".ndjson", ".tap"],
        ) {
            let args = fixture_args(&f);
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let r = run("spira-parse", &argv, None);
            let out = f.with_extension("expected.jsonl");
            let err = f.with_extension("expected.stderr");
            if update {
                std::fs::write(&out, &r.stdout).unwrap();
                if r.stderr.is_empty() {
                    let _ = std::fs::remove_file(&err);
                } else {
                    std::fs::write(&err, &r.stderr).unwrap();
                }
            }
            let want_out = std::fs::read_to_string(&out).unwrap_or_else(|_| {
                panic!("{} missing: run UPDATE_GOLDEN=1 cargo test", out.display())
            });
            let want_err = std::fs::read_to_string(&err).unwrap_or_default();
            if r.stdout != want_out || r.stderr != want_err || r.code != 0 {
                failures.push(format!("{}\n{r}", f.display()));
            }
            checked += 1;
        }
    }
    assert!(checked >= 45, "only {checked} fixtures found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every golden line is valid against the result schema (that the writer matches serde on them
/// is checked in `src/record.rs`)
#[test]
fn golden_lines_match_the_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/test-result.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let mut lines = 0;
    for dir in FIXTURE_DIRS {
        let mut paths: Vec<_> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".expected.jsonl"))
            .collect();
        paths.sort();
        for p in paths {
            for line in std::fs::read_to_string(&p).unwrap().lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let errors: Vec<String> = validator
                    .iter_errors(&v)
                    .map(|e| format!("{}: {e}", e.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{}: {line}\n{errors:?}", p.display());
                lines += 1;
            }
        }
    }
    assert!(lines > 150, "only {lines} lines checked");
}

/// Each bad input: the exact first stderr line, the exit code, and how many results were
/// written before the error.
#[test]
fn bad_input_errors() {
    let cases: &[(&[&str], &str, i32, usize)] = &[
        (&["fixtures/bad/truncated.xml"], "spira-parse: fixtures/bad/truncated.xml:5:5: malformed XML: attribute value not closed: `\"` not found before end of input (truncated file?)", 1, 1),
        (&["fixtures/bad/malformed-attr.xml"], "spira-parse: fixtures/bad/malformed-attr.xml:3:55: malformed XML: in <testcase>: attribute value must be in quotes", 1, 1),
        (&["fixtures/bad/unclosed-cdata.xml"], "spira-parse: fixtures/bad/unclosed-cdata.xml:4:17: malformed XML: CDATA section not closed before the end of the file (truncated file?)", 1, 1),
        (&["fixtures/bad/mismatched.xml"], "spira-parse: fixtures/bad/mismatched.xml:4:3: malformed XML: closing tag </testsuite> does not match the open <testcase>", 1, 1),
        (&["fixtures/bad/missing-end.xml"], "spira-parse: fixtures/bad/missing-end.xml:3:1: unexpected end of file: 1 element not closed (truncated file?)", 1, 1),
        (&["fixtures/bad/empty.xml"], "spira-parse: fixtures/bad/empty.xml: not a supported report: the file is empty", 1, 0),
        (&["fixtures/bad/whitespace.xml"], "spira-parse: fixtures/bad/whitespace.xml: not a supported report: the file holds only white space", 1, 0),
        (&["fixtures/bad/binary.xml"], "spira-parse: fixtures/bad/binary.xml: not a supported report: it looks like binary data", 1, 0),
        (&["fixtures/bad/report.json"], "spira-parse: fixtures/bad/report.json: not a supported report: it is JSON, but none of the JSON formats (go, jest, mocha, dart, rspec, playwright, ctrf, cucumber, allure)", 1, 0),
        (&["fixtures/bad/notes.txt"], "spira-parse: fixtures/bad/notes.txt: not a supported report: it looks like plain text, not XML, TAP, nor a CSV with name and status columns", 1, 0),
        (&["fixtures/bad/other-root.xml"], "spira-parse: fixtures/bad/other-root.xml: not a supported report: XML with root element <project>", 1, 0),
        (&["fixtures/bad/ragged.csv"], "spira-parse: fixtures/bad/ragged.csv:3: row has 2 fields, but the header has 3", 1, 1),
        (&["fixtures/bad/bad-status.csv"], "spira-parse: fixtures/bad/bad-status.csv:3: unknown status \"maybe\" (expected a word such as pass, fail, error, skip, blocked, caution, not run, n/a)", 1, 1),
        (&["fixtures/bad/bad-id.csv"], "spira-parse: fixtures/bad/bad-id.csv:3: test case ID \"twelve\" is not a number (write 123 or TC:123)", 1, 1),
        (&["--format", "csv", "fixtures/bad/no-status.csv"], "spira-parse: fixtures/bad/no-status.csv:1: no status column in the header (name, duration); name one with --column status=HEADER", 1, 0),
        (&["fixtures/bad/nunit3-broken-attr.xml"], "spira-parse: fixtures/bad/nunit3-broken-attr.xml:5:55: malformed XML: in <test-case>: attribute value must be in quotes", 1, 1),
        (&["fixtures/bad/nunit3-truncated.xml"], "spira-parse: fixtures/bad/nunit3-truncated.xml:6:25: malformed XML: CDATA section not closed before the end of the file (truncated file?)", 1, 1),
        (&["fixtures/bad/nunit2-missing-root.xml"], "spira-parse: fixtures/bad/nunit2-missing-root.xml: not a supported report: no XML element in the file", 1, 0),
        (&["fixtures/bad/trx-truncated.xml"], "spira-parse: fixtures/bad/trx-truncated.xml:6:38: unexpected end of file: 6 elements not closed (truncated file?)", 1, 1),
        (&["fixtures/bad/xunit-broken-tag.xml"], "spira-parse: fixtures/bad/xunit-broken-tag.xml:5:80: malformed XML: in <test>: expected `=` after the attribute name", 1, 1),
        (&["fixtures/bad/testng-mismatched.xml"], "spira-parse: fixtures/bad/testng-mismatched.xml:8:7: malformed XML: closing tag </class> does not match the open <exception>", 1, 1),
        (&["fixtures/bad/jest-truncated.json"], "spira-parse: fixtures/bad/jest-truncated.json:2: not a valid Jest JSON report: the file ends inside a value (truncated?)", 1, 1),
        (&["fixtures/bad/jest-wrong-type.json"], "spira-parse: fixtures/bad/jest-wrong-type.json:4: not a valid Jest JSON report: in testResults[1].assertionResults[0].title: invalid type: integer `7`, expected a string", 1, 1),
        (&["fixtures/bad/mocha-no-tests.json"], "spira-parse: fixtures/bad/mocha-no-tests.json:2: not a valid Mocha JSON report: it has no \"tests\"", 1, 0),
        (&["--format", "jest", "fixtures/bad/mocha-no-tests.json"], "spira-parse: fixtures/bad/mocha-no-tests.json:2: not a valid Jest JSON report: it has no \"testResults\"", 1, 0),
        (&["fixtures/bad/ctrf-tests-object.json"], "spira-parse: fixtures/bad/ctrf-tests-object.json:1: not a valid CTRF report: expected an array at results.tests, found {\"name\":\"not an array\"}", 1, 0),
        (&["fixtures/bad/cucumber-wrong-type.json"], "spira-parse: fixtures/bad/cucumber-wrong-type.json:4: not a valid Cucumber JSON report: in [0].elements[0].steps[0].name: invalid type: integer `7`, expected a string", 1, 0),
        (&["fixtures/bad/cucumber-truncated.json"], "spira-parse: fixtures/bad/cucumber-truncated.json:1: not a valid Cucumber JSON report: the file ends inside a value (truncated?)", 1, 0),
        (&["--format", "cucumber", "fixtures/json/jest.json"], "spira-parse: fixtures/json/jest.json:1: not a valid Cucumber JSON report: expected a Cucumber JSON report (a JSON array)", 1, 0),
        (&["fixtures/bad/go-wrong-type.ndjson"], "spira-parse: fixtures/bad/go-wrong-type.ndjson:2: not a valid go test -json event: invalid type: string \"soon\", expected f64", 1, 0),
        (&["fixtures/no-such-file.xml"], "spira-parse: cannot open 'fixtures/no-such-file.xml' for reading: No such file or directory", 2, 0),
        (&["--column", "nonsense", "fixtures/csv/basic.csv"], "error: invalid value 'nonsense' for '--column <FIELD=HEADER>': 'nonsense' is not FIELD=HEADER", 2, 0),
        (&["--max-field-bytes", "lots", "fixtures/csv/basic.csv"], "error: invalid value 'lots' for '--max-field-bytes <BYTES>': 'lots' is not a size (write 1048576, 512K or 1M)", 2, 0),
        (&["--column", "colour=Scenario", "fixtures/csv/columns.csv"], "spira-parse: --column colour=Scenario: unknown field 'colour' (one of name, classname, suite, status, duration, duration_ms, message, details, start, test_case_id)", 2, 0),
    ];
    for (args, first, code, lines) in cases {
        let r = run("spira-parse", args, None);
        assert_eq!(r.err1(), *first, "\n{r}");
        assert_eq!(r.code, *code, "\n{r}");
        assert_eq!(r.stdout.lines().count(), *lines, "\n{r}");
    }
}

#[test]
fn a_missing_file_is_reported_before_any_output() {
    let r = run(
        "spira-parse",
        &["fixtures/junit/surefire.xml", "missing.xml"],
        None,
    );
    r.expect_code(2);
    assert!(r.stdout.is_empty(), "{r}");
}

#[test]
fn stops_at_the_first_bad_file_unless_told_to_keep_going() {
    let files = [
        "fixtures/junit/gradle.xml",
        "fixtures/bad/truncated.xml",
        "fixtures/bad/other-root.xml",
        "fixtures/junit/jest.xml",
    ];
    let r = run("spira-parse", &files, None);
    r.expect_code(1);
    assert_eq!(r.json().len(), 3 + 1, "{r}");
    assert_eq!(r.stderr.lines().count(), 1, "{r}");

    let mut args = vec!["--keep-going"];
    args.extend(files);
    let r = run("spira-parse", &args, None);
    r.expect_code(1);
    assert_eq!(r.json().len(), 3 + 1 + 4, "{r}");
    let errs: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(errs.len(), 2, "{r}");
    assert!(errs[0].starts_with("spira-parse: fixtures/bad/truncated.xml:5:5: "));
    assert!(errs[1].starts_with("spira-parse: fixtures/bad/other-root.xml: not a supported report"));
}

#[test]
fn directories_are_searched_recursively_in_sorted_order() {
    let t = TempDir::new("dir");
    let junit = std::fs::read_to_string(root().join("fixtures/junit/gradle.xml")).unwrap();
    std::fs::create_dir_all(t.path("b/nested")).unwrap();
    std::fs::write(t.path("b/nested/z.XML"), &junit).unwrap();
    std::fs::copy(root().join("fixtures/trx/vstest.trx"), t.path("a.trx")).unwrap();
    std::fs::copy(root().join("fixtures/csv/basic.csv"), t.path("b/c.csv")).unwrap();
    std::fs::write(t.path("notes.txt"), "not a report").unwrap();
    std::fs::write(t.path("results.jsonl"), "{}").unwrap();
    let dir = t.0.display().to_string();
    let r = run("spira-parse", &[&dir], None);
    r.expect_code(0);
    let reports: Vec<String> = r
        .json()
        .iter()
        .map(|v| v["report"].as_str().unwrap().to_string())
        .collect();
    let mut order = reports.clone();
    order.dedup();
    assert_eq!(
        order,
        [
            format!("{dir}/a.trx"),
            format!("{dir}/b/c.csv"),
            format!("{dir}/b/nested/z.XML")
        ],
        "{r}"
    );
}

#[test]
fn reads_standard_input() {
    let data = std::fs::read(root().join("fixtures/junit/jest.xml")).unwrap();
    for args in [&[][..], &["-"][..]] {
        let r = run("spira-parse", args, Some(&data));
        r.expect_code(0);
        let v = r.json();
        assert_eq!(v.len(), 4, "{r}");
        assert_eq!(v[0]["report"], "<stdin>");
    }
}

#[test]
fn forced_format_reads_testcases_under_any_root() {
    let doc = b"<testrun name=\"eclipse\"><testsuite name=\"s\"><testcase classname=\"c\" name=\"t\" time=\"1\"/></testsuite></testrun>";
    let r = run("spira-parse", &[], Some(doc));
    r.expect_code(1);
    assert!(
        r.err1()
            .contains("<testrun> (an Eclipse test run; use --format junit"),
        "{r}"
    );
    let r = run("spira-parse", &["--format", "junit"], Some(doc));
    r.expect_code(0);
    assert_eq!(r.json()[0]["name"], "t");
}

#[test]
fn csv_columns_can_be_named_and_the_delimiter_set() {
    let r = run(
        "spira-parse",
        &["--delimiter", "|"],
        Some(b"test|status|ms\nx|pass|5\n"),
    );
    r.expect_code(0);
    assert_eq!(r.json()[0]["name"], "x");
    let r = run(
        "spira-parse",
        &["--column", "duration_ms=ms"],
        Some(b"test,status,ms\nx,pass,1500\n"),
    );
    r.expect_code(0);
    assert_eq!(r.json()[0]["duration"], 1.5);
}

/// A report with a huge text node: every field stays within the cap (plus the marker) and
/// says how much was cut.
#[test]
fn huge_text_is_capped_with_a_marker() {
    let big = "x".repeat(3 << 20);
    let doc = format!(
        "<testsuite name=\"s\"><testcase classname=\"c\" name=\"t\" time=\"1\"><failure message=\"{big}\">{big}</failure><system-out><![CDATA[{big}]]></system-out><system-err>a&amp;b{big}</system-err></testcase></testsuite>"
    );
    let r = run(
        "spira-parse",
        &["--max-field-bytes", "64K"],
        Some(doc.as_bytes()),
    );
    r.expect_code(0);
    let v = &r.json()[0];
    for field in ["message", "details", "stdout", "stderr"] {
        let s = v[field].as_str().unwrap();
        assert!(s.len() <= (64 << 10) + 100, "{field} is {} bytes", s.len());
        assert!(
            s.ends_with("bytes omitted]") && s.contains("…[truncated: "),
            "{field}: {}",
            &s[s.len() - 60..]
        );
    }
    assert!(v["stderr"].as_str().unwrap().starts_with("a&b"));
}

/// Results come out while the input is still being written: the parser streams.
#[test]
fn results_stream_before_the_input_ends() {
    let mut child = Command::new(bin("spira-parse"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(l)) = lines.next() {
            let _ = tx.send(l);
        }
        for _ in lines {}
    });
    stdin
        .write_all(b"<testsuites><testsuite name=\"s\">")
        .unwrap();
    // Enough results to fill the output buffer, then wait with the document still open.
    for i in 0..2000 {
        writeln!(
            stdin,
            "<testcase classname=\"stream.Test\" name=\"case number {i} with a long name to fill the buffer\" time=\"0.1\"/>"
        )
        .unwrap();
    }
    stdin.flush().unwrap();
    let first = rx.recv_timeout(Duration::from_secs(20));
    stdin.write_all(b"</testsuite></testsuites>").unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    let first = first.expect("no result line before the input ended");
    assert!(first.contains("case number 0 "), "{first}");
    assert!(status.success());
}

#[test]
fn a_closed_pipe_downstream_is_a_normal_end() {
    let t = TempDir::new("pipe");
    let mut doc = String::from("<testsuite name=\"s\">");
    for i in 0..50_000 {
        doc.push_str(&format!(
            "<testcase classname=\"c\" name=\"t{i}\" time=\"1\"/>\n"
        ));
    }
    doc.push_str("</testsuite>");
    let f = t.path("big.xml");
    std::fs::write(&f, doc).unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "'{}' '{}' 2>'{}' | head -n 1 >/dev/null; echo ${{PIPESTATUS[0]}}",
            bin("spira-parse").display(),
            f.display(),
            t.path("err").display()
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
    assert_eq!(std::fs::read_to_string(t.path("err")).unwrap(), "");
}

#[test]
fn stats_count_results_per_status() {
    let r = run(
        "spira-parse",
        &[
            "--stats",
            "fixtures/junit/surefire.xml",
            "fixtures/csv/spira-native.csv",
        ],
        None,
    );
    r.expect_code(0);
    assert_eq!(
        r.stderr.trim_end(),
        "spira-parse: 13 results from 2 files: 3 passed, 2 failed, 3 error, 4 skipped, 1 warning"
    );
}

#[test]
fn help_ends_with_examples_and_version_works() {
    let r = run("spira-parse", &["--help"], None);
    r.expect_code(0);
    assert!(
        r.stdout
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .contains("spira-parse --stats"),
        "{r}"
    );
    let r = run("spira-parse", &["--version"], None);
    r.expect_code(0);
    assert!(r.stdout.starts_with("spira-parse "), "{r}");
    run("spira-parse", &["--no-such-flag"], None).expect_code(2);
}

/// TRX from standard input cannot be read twice: its results wait for the definitions and come
/// out the same as from the file.
#[test]
fn trx_from_standard_input_matches_the_file() {
    for f in ["fixtures/trx/vstest.trx", "fixtures/trx/mstest-legacy.trx"] {
        let from_file = run("spira-parse", &[f], None);
        from_file.expect_code(0);
        let data = std::fs::read(root().join(f)).unwrap();
        let from_stdin = run("spira-parse", &[], Some(&data));
        from_stdin.expect_code(0);
        // Only the report's name, and so the folder attachments are resolved against, differ.
        let strip = |r: &crate::harness::Run| -> Vec<serde_json::Value> {
            r.json()
                .into_iter()
                .map(|mut v| {
                    let o = v.as_object_mut().unwrap();
                    o.remove("report");
                    o.remove("attachments");
                    v
                })
                .collect()
        };
        assert!(
            strip(&from_stdin) == strip(&from_file),
            "{f}: stdin and file differ"
        );
        let results = from_file.json();
        assert!(
            !results.is_empty() && results.iter().all(|v| v["classname"].is_string()),
            "{from_file}"
        );
    }
}

/// Each format is known by its root element, whatever the file is called.
#[test]
fn formats_are_detected_from_content() {
    let cases = [
        ("fixtures/nunit3/outcomes.xml", "nunit3"),
        ("fixtures/nunit2/outcomes.xml", "nunit2"),
        ("fixtures/nunit2/fragment.xml", "nunit2"),
        ("fixtures/xunit/v2.xml", "xunit2"),
        ("fixtures/xunit/v3.xml", "xunit2"),
        ("fixtures/xunit/v1.xml", "xunit1"),
        ("fixtures/trx/vstest.trx", "trx"),
        ("fixtures/testng/outcomes.xml", "testng"),
        ("fixtures/junit/surefire.xml", "junit"),
        ("fixtures/csv/basic.csv", "csv"),
    ];
    for (f, format) in cases {
        let data = std::fs::read(root().join(f)).unwrap();
        let r = run("spira-parse", &[], Some(&data));
        r.expect_code(0);
        let results = r.json();
        assert!(!results.is_empty(), "{f}: no results\n{r}");
        assert!(results.iter().all(|v| v["format"] == format), "{f}: {r}");
    }
}

/// Every fixture cut short at many points, and with bytes flipped: never a panic, never a
/// hang; a clean exit 0 or 1, and an error that names the input.
#[test]
#[ignore = "slow: make test runs it"]
fn truncated_and_corrupted_reports_fail_cleanly() {
    let mut files = Vec::new();
    for dir in FIXTURE_DIRS {
        files.extend(files_in(dir));
    }
    assert!(files.len() >= 40, "{}", files.len());
    let mut runs = 0;
    for f in files {
        let data = std::fs::read(&f).unwrap();
        let step = (data.len() / 23).max(1);
        let mut variants: Vec<Vec<u8>> = (1..data.len())
            .step_by(step)
            .map(|cut| data[..cut].to_vec())
            .collect();
        // Flip one byte in every stretch: a `<`, a quote, a letter, a NUL...
        for (k, at) in (0..data.len()).step_by(step).enumerate() {
            let mut v = data.clone();
            v[at] = [b'<', b'"', b'&', 0, 0xFF, b'>', b']'][k % 7];
            variants.push(v);
        }
        for v in variants {
            let r = run("spira-parse", &[], Some(&v));
            assert!(
                matches!(r.code, 0 | 1) && !r.stderr.contains("panicked"),
                "{}: {r}",
                f.display()
            );
            if r.code == 1 {
                let error = r.stderr.lines().find(|l| !l.contains(": warning: "));
                assert!(
                    error.is_some_and(|e| e.starts_with("spira-parse: <stdin>")),
                    "{r}"
                );
            }
            runs += 1;
        }
    }
    assert!(runs > 1000, "{runs}");
}

fn files_in(dir: &str) -> Vec<std::path::PathBuf> {
    files(&root().join(dir), &[".xml", ".trx"])
}

/// spira-parse run as a user that file permissions apply to: as root (which reads anything),
/// dropped to `nobody` with setpriv. Killed after 20 s: a FIFO must never be waited on.
fn parse_unprivileged(args: &[&str]) -> crate::harness::Run {
    use std::process::{Command, Stdio};
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .is_some_and(|l| l.split_whitespace().nth(1) == Some("0"));
    let bin = crate::harness::bin("spira-parse");
    let mut cmd = if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    let mut child = cmd
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spira-parse (through setpriv when run as root) starts");
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("spira-parse still running after 20 s: it waits on something");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    crate::harness::Run {
        cmd: format!("spira-parse {}", args.join(" ")),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
#[cfg(unix)]
fn keep_going_reports_each_unreadable_path_and_reads_the_rest_once() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let t = TempDir::new("walk");
    let d = |p: &str| t.path(p);
    std::fs::copy(root().join("fixtures/junit/gradle.xml"), d("a.xml")).unwrap();
    symlink("/nonexistent/report.xml", d("b-dangling.xml")).unwrap();
    symlink(d("a.xml"), d("c-same.xml")).unwrap();
    std::fs::copy(root().join("fixtures/junit/gradle.xml"), d("d-locked.xml")).unwrap();
    std::fs::set_permissions(d("d-locked.xml"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(d("e-fifo.xml"))
        .status()
        .unwrap();
    assert!(fifo.success());
    std::fs::create_dir(d("f-locked")).unwrap();
    std::fs::copy(
        root().join("fixtures/junit/gradle.xml"),
        d("f-locked/g.xml"),
    )
    .unwrap();
    std::fs::set_permissions(d("f-locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::create_dir(d("z")).unwrap();
    std::fs::copy(root().join("fixtures/csv/basic.csv"), d("z/h.csv")).unwrap();
    let dir = t.0.display().to_string();

    let r = parse_unprivileged(&["--keep-going", &dir]);
    let mut reports: Vec<String> = r
        .json()
        .iter()
        .map(|v| v["report"].as_str().unwrap().to_string())
        .collect();
    reports.dedup();
    assert_eq!(
        reports,
        [format!("{dir}/a.xml"), format!("{dir}/z/h.csv")],
        "{r}"
    );
    let err: Vec<&str> = r.stderr.lines().collect();
    let want = [
        format!("spira-parse: cannot open '{dir}/b-dangling.xml' for reading: No such file or directory (a symlink to nothing) (skipped: --keep-going)"),
        format!("spira-parse: {dir}/c-same.xml: skipped: the same file as {dir}/a.xml"),
        format!("spira-parse: {dir}/e-fifo.xml: skipped: a FIFO, not a regular file (name it to read it)"),
        format!("spira-parse: cannot read directory '{dir}/f-locked': Permission denied (skipped: --keep-going)"),
        format!("spira-parse: cannot open '{dir}/d-locked.xml' for reading: Permission denied (skipped: --keep-going)"),
    ];
    assert_eq!(err, want, "{r}");
    r.expect_code(2);

    // Without --keep-going the first unreadable path stops everything before any output.
    let r = parse_unprivileged(&[&dir]);
    r.expect_code(2);
    assert!(r.stdout.is_empty(), "{r}");
    assert_eq!(r.stderr.lines().count(), 1, "{r}");
    std::fs::set_permissions(d("f-locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A directory walk takes `*.json`, `*.jsonl` and `*.ndjson`; a JSON or XML file it finds that
/// is no report (a package.json, a pom.xml) is passed over with a note. Named, it is an error.
#[test]
fn a_walk_reads_json_reports_and_passes_over_other_files() {
    let t = TempDir::new("walk-json");
    let d = t.path("reports");
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::fs::copy(root().join("fixtures/json/jest.json"), d.join("jest.json")).unwrap();
    std::fs::copy(
        root().join("fixtures/json/go.ndjson"),
        d.join("sub/go.jsonl"),
    )
    .unwrap();
    std::fs::copy(
        root().join("fixtures/json/dart.ndjson"),
        d.join("sub/dart.ndjson"),
    )
    .unwrap();
    std::fs::write(
        d.join("package.json"),
        "{\"name\": \"shop\", \"version\": \"1.0.0\"}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("pom.xml"),
        "<project><modelVersion>4.0.0</modelVersion></project>\n",
    )
    .unwrap();
    let dir = d.to_str().unwrap();
    let r = run("spira-parse", &[dir], None);
    r.expect_code(0);
    assert_eq!(r.json().len(), 6 + 7 + 5, "{r}");
    for skipped in ["package.json", "pom.xml"] {
        assert!(
            r.stderr
                .lines()
                .any(|l| l.contains(skipped) && l.ends_with("(skipped)")),
            "{skipped}\n{r}"
        );
    }
    let named = d.join("package.json");
    let r = run("spira-parse", &[named.to_str().unwrap()], None);
    r.expect_code(1);
    assert!(
        r.err1()
            .contains("not a supported report: it is JSON, but none"),
        "{r}"
    );
}

/// The JSON formats' results go through spira-map as the XML formats' do: statuses, names,
/// flaky passes and their attempts.
#[test]
fn json_results_map_to_runs() {
    let mut all = String::new();
    for f in files(&root().join("fixtures/json"), &[".json", ".ndjson"]) {
        let r = run("spira-parse", &[f.to_str().unwrap()], None);
        all.push_str(&r.stdout);
    }
    let results = all.lines().count();
    assert!(results >= 35, "{results}");
    let m = run(
        "spira-map",
        &["--default-test-case", "1", "--steps", "reruns"],
        Some(all.as_bytes()),
    );
    m.expect_code(0);
    let runs = m.json();
    assert_eq!(runs.len(), results);
    let by_name = |n: &str| {
        runs.iter()
            .find(|r| r["RunnerTestName"].as_str().unwrap().ends_with(n))
            .unwrap_or_else(|| panic!("{n}"))
    };
    // The flaky tests (Playwright's, one failed attempt; CTRF's, two): passed, each failed
    // attempt a step before the final one.
    let mut flaky: Vec<usize> = runs
        .iter()
        .filter(|r| r["RunnerMessage"].as_str().unwrap().starts_with("Flaky"))
        .map(|r| {
            assert_eq!(r["ExecutionStatusId"], 2);
            r["TestRunSteps"].as_array().unwrap().len()
        })
        .collect();
    flaky.sort();
    assert_eq!(flaky, [2, 3]);
    assert_eq!(
        by_name("TestHangs")["ExecutionStatusId"],
        5,
        "error → Blocked"
    );
    assert_eq!(by_name("Cart totals")["ExecutionStatusId"], 1);
    assert_eq!(
        by_name("refunds")["ExecutionStatusId"],
        4,
        "todo → skipped → N/A"
    );
}

#[test]
fn go_output_that_is_not_utf8_is_kept_as_replacement_characters() {
    let data = b"{\"Action\":\"run\",\"Package\":\"p\",\"Test\":\"T\"}\n\
{\"Action\":\"output\",\"Package\":\"p\",\"Test\":\"T\",\"Output\":\"a\xff\xfeb\\n\"}\n\
{\"Action\":\"fail\",\"Package\":\"p\",\"Test\":\"T\"}\n";
    let r = run("spira-parse", &[], Some(data));
    r.expect_code(0);
    let v = r.json();
    assert_eq!(v.len(), 1, "{r}");
    assert_eq!(v[0]["status"], "failed");
    assert_eq!(v[0]["stdout"], "a\u{fffd}\u{fffd}b\n");
}

/// Two NUnit readings found on reports nobody here wrote (issue 22): the Unity Test Runner's
/// NUnit 3 test cases under a bare `<test-suite>` root, and NUnit 2.0–2.2's `executed` alone.
#[test]
fn nunit_test_cases_are_read_by_their_own_attributes() {
    let count = |file: &str| {
        let r = run("spira-parse", &[file], None);
        r.expect_code(0);
        let mut c = std::collections::BTreeMap::new();
        for v in r.json() {
            *c.entry(format!(
                "{} {}",
                v["format"].as_str().unwrap(),
                v["status"].as_str().unwrap()
            ))
            .or_insert(0) += 1;
        }
        c
    };
    let unity = count("fixtures/nunit3/unity-bare-suite.xml");
    assert_eq!(
        unity.into_iter().collect::<Vec<_>>(),
        [
            ("nunit3 failed".to_string(), 1),
            ("nunit3 passed".into(), 2),
            ("nunit3 skipped".into(), 1)
        ]
    );
    let old = count("fixtures/nunit2/executed-only.xml");
    assert_eq!(
        old.into_iter().collect::<Vec<_>>(),
        [
            ("nunit2 failed".to_string(), 1),
            ("nunit2 passed".into(), 1),
            ("nunit2 skipped".into(), 1)
        ]
    );
}

/// An allure-results directory is one report: reruns collapse by historyId (the latest wins,
/// the earlier failure kept), failed container fixtures join the details, attachments beside
/// the results are found, and the ID label and tms link map the tests in spira-map.
#[test]
fn an_allure_results_directory_is_one_report() {
    for args in [&["fixtures/allure/results"][..], &["fixtures/allure"][..]] {
        let r = run("spira-parse", args, None);
        r.expect_code(0);
        let v = r.json();
        assert_eq!(v.len(), 3, "{args:?}: {r}");
        assert_eq!(v[0]["name"], "logs in");
        assert_eq!(
            (v[0]["status"].as_str(), v[0]["flaky"].as_bool()),
            (Some("passed"), Some(true))
        );
        assert_eq!(v[0]["reruns"][0]["message"], "expected 200 but was 500");
        assert_eq!(v[0]["steps"][1]["name"], "\u{203a} wait for the form");
        assert_eq!(
            v[0]["attachments"][0],
            "fixtures/allure/results/s1-attachment.png"
        );
        assert_eq!(
            (v[1]["status"].as_str(), v[1]["outcome"].as_str()),
            (Some("error"), Some("broken"))
        );
        assert!(
            v[1]["details"]
                .as_str()
                .unwrap()
                .contains("After fixture \"stop the sandbox\" broken: sandbox did not stop"),
            "{r}"
        );
        assert_eq!(v[2]["status"], "skipped");
    }
    let parsed = run("spira-parse", &["fixtures/allure/results"], None);
    let mapped = run(
        "spira-map",
        &["--start", "2024-01-01T00:00:00Z"],
        Some(parsed.stdout.as_bytes()),
    );
    mapped.expect_code(0);
    let ids: Vec<u64> = mapped
        .json()
        .iter()
        .map(|x| x["TestCaseId"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [41, 42], "{mapped}");
    // One result file named on its own is read by its content.
    let one = run(
        "spira-parse",
        &["fixtures/allure/results/b1-result.json"],
        None,
    );
    one.expect_code(0);
    assert_eq!(one.json()[0]["format"], "allure", "{one}");
}

/// Mocha's status lists may come before `tests` (a report written by another tool or edited):
/// a failure that is no test is still a failed hook; a test in no list is judged by its own
/// error and duration; two tests of the same full title in one file, in two lists, take the
/// worse status.
#[test]
fn mocha_statuses_come_from_the_lists_in_any_order() {
    let data = br#"{"stats": {"tests": 5},
"failures": [
  {"title": "b", "fullTitle": "S b", "file": "f.js", "err": {"message": "no"}},
  {"title": "\"before all\" hook", "fullTitle": "S \"before all\" hook", "file": "f.js", "err": {"message": "down"}},
  {"title": "d", "fullTitle": "S d", "file": "f.js", "err": {"message": "once"}}],
"passes": [{"title": "a", "fullTitle": "S a", "file": "f.js"}, {"title": "d", "fullTitle": "S d", "file": "f.js"}],
"tests": [
  {"title": "a", "fullTitle": "S a", "file": "f.js", "duration": 1, "err": {}},
  {"title": "b", "fullTitle": "S b", "file": "f.js", "duration": 1, "err": {"message": "no"}},
  {"title": "c", "fullTitle": "S c", "file": "f.js", "err": {}},
  {"title": "d", "fullTitle": "S d", "file": "f.js", "duration": 1, "err": {}},
  {"title": "d", "fullTitle": "S d", "file": "f.js", "duration": 1, "err": {"message": "once"}}],
"pending": []}"#;
    let r = run("spira-parse", &["--format", "mocha", "-"], Some(data));
    r.expect_code(0);
    let got = r.pairs("name", "status");
    let want = [
        ("a", "passed"),
        ("b", "failed"),
        ("c", "skipped"),
        ("d", "failed"),
        ("d", "failed"),
        ("\"before all\" hook", "error"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect();
    assert_eq!(got, want, "{r}");
}

/// Terminal colours in error texts (Jest, Playwright and Mocha's assertion libraries write
/// them) are taken out of every text field, so Spira shows the words; a first line made of
/// colour codes alone is blank.
#[test]
fn terminal_colours_are_taken_out_of_texts() {
    let jest = br#"{"numTotalTests": 1, "testResults": [{"name": "/p/a.test.js", "status": "failed",
  "assertionResults": [{"ancestorTitles": ["A"], "title": "adds", "status": "failed",
  "failureMessages": ["\u001b[2mexpect(\u001b[22m\u001b[31mreceived\u001b[39m\u001b[2m).toBe(\u001b[22m4\u001b[2m)\u001b[22m\n\nExpected: \u001b[32m4\u001b[39m"]}]}]}"#;
    let mocha = br#"{"stats": {"tests": 1}, "tests": [{"title": "t", "fullTitle": "S t", "file": "f.js", "duration": 1,
  "err": {"message": "\n\u001b[31m\u001b[1m\u001b[22m\u001b[39m\nexpected \u001b[36m'a'\u001b[39m to be 'b'", "stack": "E\u001b]8;;http://x\u0007link\u001b]8;;\u0007 at f.js:1"}}],
  "pending": [], "failures": [{"title": "t", "fullTitle": "S t", "file": "f.js"}], "passes": []}"#;
    let tap =
        b"TAP version 14\nnot ok 1 - t\n  ---\n  message: \"\\e[31mboom\\e[39m\"\n  ...\n1..1\n";
    let cases: [(&[u8], &str, &str); 3] = [
        (jest, "expect(received).toBe(4)", "Expected: 4"),
        (mocha, "expected 'a' to be 'b'", "Elink at f.js:1"),
        (tap, "boom", ""),
    ];
    for (data, message, details) in cases {
        let r = run("spira-parse", &[], Some(data));
        r.expect_code(0);
        let v = &r.json()[0];
        assert_eq!(v["message"], message, "{r}");
        let got = v["details"].as_str().unwrap_or("");
        assert!(got.contains(details), "{got:?}\n{r}");
        assert!(!r.stdout.contains("\\u001b"), "{r}");
    }
}

/// `spira-pipe`: the nine tools behind one command, and each by its own name.
#[test]
fn spira_pipe_runs_every_tool_and_says_its_version() {
    let help = run("spira-pipe", &["--help"], None)
        .expect_code(0)
        .stdout
        .clone();
    for t in [
        "parse", "map", "validate", "batch", "post", "inspect", "ids", "cases", "mock",
    ] {
        assert!(help.contains(&format!("\n  {t} ")), "{t}: {help}");
    }
    let version = run("spira-pipe", &["--version"], None)
        .expect_code(0)
        .stdout
        .clone();
    let tool = run("spira-batch", &["--version"], None)
        .expect_code(0)
        .stdout
        .clone();
    let rest = version.strip_prefix("spira-pipe ").unwrap();
    assert_eq!(tool.strip_prefix("spira-batch ").unwrap(), rest);
    assert!(rest.starts_with(env!("CARGO_PKG_VERSION")), "{rest}");
    assert!(
        rest.contains("(commit ") && rest.contains("-linux-") || cfg!(not(target_os = "linux")),
        "{rest}"
    );
    let doc = b"<testsuite><testcase name=\"a\"/></testsuite>";
    let r = run("spira-pipe", &["parse"], Some(doc));
    r.expect_code(0);
    assert_eq!(r.json()[0]["name"], "a");
    assert!(r.stderr.starts_with("spira-parse: warning: "), "{r}");
    let r = run(
        "spira-pipe",
        &["spira-batch", "--size", "1"],
        Some(b"{\"TestCaseId\":1}\n{\"TestCaseId\":2}\n"),
    );
    assert_eq!(r.expect_code(0).stdout.lines().count(), 2, "{r}");
    let r = run("spira-pipe", &["nope"], None);
    r.expect_code(2);
    assert!(
        r.stderr.contains("unknown tool 'nope'") && r.stderr.contains("parse, map"),
        "{r}"
    );
    // Called by a tool's name (a link, as a package may ship it), it is that tool. (A link,
    // not a copy: a file just written may not be executable at once, ETXTBSY.)
    let t = crate::harness::TempDir::new("multicall");
    let copy = t.path("spira-validate");
    #[cfg(unix)]
    std::os::unix::fs::symlink(crate::harness::bin("spira-pipe"), &copy).unwrap();
    #[cfg(not(unix))]
    std::fs::copy(crate::harness::bin("spira-pipe"), &copy).unwrap();
    let out = std::process::Command::new(&copy)
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("spira-validate "));
}
