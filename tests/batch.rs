//! spira-batch: grouping by count and bytes, the reverse, and the offline chain.

use serde_json::Value;

use crate::harness::{root, run, TempDir};

fn runs(n: usize) -> String {
    (1..=n)
        .map(|i| format!("{{\"TestCaseId\":{i},\"ExecutionStatusId\":2,\"StartDate\":\"2024-05-14T12:00:00.000Z\",\"RunnerName\":\"r\",\"RunnerTestName\":\"t\",\"RunnerMessage\":\"m\",\"RunnerStackTrace\":\"\",\"TestRunFormatId\":1}}\n"))
        .collect()
}

fn batches(r: &crate::harness::Run) -> Vec<Vec<Value>> {
    r.json()
        .into_iter()
        .map(|v| v.as_array().unwrap().clone())
        .collect()
}

#[test]
fn groups_by_count_and_keeps_the_runs_as_they_are() {
    let input = runs(7);
    let r = run("spira-batch", &["--size", "3"], Some(input.as_bytes()));
    r.expect_code(0);
    let b = batches(&r);
    assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
    let lines: Vec<&str> = input.lines().collect();
    assert_eq!(
        r.stdout.lines().next().unwrap(),
        format!("[{},{},{}]", lines[0], lines[1], lines[2])
    );
    // The default is 250.
    let r = run("spira-batch", &[], Some(runs(600).as_bytes()));
    assert_eq!(
        batches(&r).iter().map(Vec::len).collect::<Vec<_>>(),
        [250, 250, 100]
    );
    assert_eq!(r.stderr, "");
}

#[test]
fn sizes_outside_the_advice_and_bad_sizes() {
    let r = run("spira-batch", &["--size", "600"], Some(runs(2).as_bytes()));
    r.expect_code(0);
    assert_eq!(
        r.err1(),
        "spira-batch: warning: --size 600 is above Spira's advice of 100 to 500 runs per request"
    );
    let r = run("spira-batch", &["--size", "0"], Some(b""));
    r.expect_code(2);
    assert!(
        r.err1()
            .starts_with("error: invalid value '0' for '--size <N>'"),
        "{r}"
    );
}

#[test]
fn a_batch_closes_before_it_would_pass_max_bytes() {
    let input = runs(10);
    let line_len = input.lines().map(str::len).max().unwrap();
    // Room for exactly two runs: [a,b] is 2 * len + 3 bytes.
    let max = (2 * line_len + 3).to_string();
    let r = run(
        "spira-batch",
        &["--max-bytes", &max],
        Some(input.as_bytes()),
    );
    r.expect_code(0);
    for line in r.stdout.lines() {
        assert!(line.len() <= 2 * line_len + 3, "{line}");
    }
    assert_eq!(batches(&r).len(), 5);
    let r = run(
        "spira-batch",
        &["--max-bytes", "50"],
        Some(input.as_bytes()),
    );
    r.expect_code(1);
    let first = input.lines().next().unwrap().len();
    assert_eq!(r.err1(), format!("spira-batch: <stdin>:1: this run is {first} bytes, more than --max-bytes 50 allows in a batch"));
}

#[test]
fn anything_but_an_object_is_an_error_with_its_line() {
    let input = format!("{}[1,2]\n", runs(2));
    let r = run("spira-batch", &[], Some(input.as_bytes()));
    r.expect_code(1);
    assert_eq!(
        r.err1(),
        "spira-batch: <stdin>:3: not a JSON object: a run line is {...}"
    );
}

#[test]
fn unbatch_reads_batches_and_dead_letters() {
    let input = runs(5);
    let batched = run("spira-batch", &["--size", "2"], Some(input.as_bytes()));
    let back = run(
        "spira-batch",
        &["--unbatch"],
        Some(batched.stdout.as_bytes()),
    );
    back.expect_code(0);
    assert_eq!(back.stdout, input);
    let dead = format!(
        "{{\"status\":400,\"message\":\"bad\",\"time\":\"2024-05-14T12:00:00Z\",\"runs\":[{}]}}\n",
        input.lines().take(2).collect::<Vec<_>>().join(",")
    );
    let r = run("spira-batch", &["--unbatch"], Some(dead.as_bytes()));
    r.expect_code(0);
    assert_eq!(
        r.stdout,
        input
            .lines()
            .take(2)
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );
    let r = run("spira-batch", &["--unbatch"], Some(b"{\"no\":\"runs\"}\n"));
    r.expect_code(1);
    assert_eq!(r.err1(), "spira-batch: <stdin>:1: not a batch (a JSON array) nor a dead-letter record (an object with a \"runs\" array)");
    // An array of things that are not runs is refused, not passed through as "run" lines.
    let r = run("spira-batch", &["--unbatch"], Some(b"[1,\"x\",null]\n"));
    r.expect_code(1);
    assert!(r.stdout.is_empty(), "{r}");
    assert_eq!(
        r.err1(),
        "spira-batch: <stdin>:1: item 1 of the batch is not a run (a JSON object): 1"
    );
}

/// The whole offline chain on the fixtures: parse | map | validate | batch.
#[test]
fn the_offline_chain_on_the_fixtures() {
    let t = TempDir::new("chain");
    // Every fixture but columns.csv, which needs --column flags.
    let results = run(
        "spira-parse",
        &[
            "fixtures/junit",
            "fixtures/csv/basic.csv",
            "fixtures/csv/spira-native.csv",
            "fixtures/csv/odd-values.csv",
            "fixtures/nunit3",
            "fixtures/nunit2",
            "fixtures/xunit",
            "fixtures/trx",
            "fixtures/testng",
        ],
        None,
    );
    assert_eq!(results.code, 0, "{results}");
    let n_results = results.stdout.lines().count();
    let runs = run(
        "spira-map",
        &[
            "--default-test-case",
            "1",
            "--start",
            "2024-01-01T00:00:00Z",
            "--steps",
            "reruns",
            "--parameters-from-name",
        ],
        Some(results.stdout.as_bytes()),
    );
    runs.expect_code(0);
    // Results with several IDs give several runs: at least one run each.
    assert!(runs.stdout.lines().count() >= n_results, "{runs}");
    let valid = run("spira-validate", &[], Some(runs.stdout.as_bytes()));
    valid.expect_code(0);
    assert_eq!(
        valid.stdout, runs.stdout,
        "every run spira-map writes is valid"
    );
    let batched = run(
        "spira-batch",
        &["--size", "100"],
        Some(valid.stdout.as_bytes()),
    );
    batched.expect_code(0);
    let f = t.path("batches.jsonl");
    std::fs::write(&f, &batched.stdout).unwrap();
    let check = run(
        "spira-validate",
        &["--schema", "batch", &f.to_string_lossy()],
        None,
    );
    check.expect_code(0);
    let total: usize = batches(&batched).iter().map(Vec::len).sum();
    assert_eq!(total, runs.stdout.lines().count());
    assert!(root().join("fixtures").is_dir());
}

/// Garbage lines: every line tool reports them with their place and never panics.
#[test]
fn line_tools_refuse_garbage_cleanly() {
    let garbage: [&[u8]; 7] = [
        b"{",
        b"null",
        b"{\"report\":1}",
        b"\xff\xfe{}",
        b"{\"a\":\"\xff\"}",
        b"\"text\"",
        b"{}}",
    ];
    for g in garbage {
        let mut input = g.to_vec();
        input.push(b'\n');
        for (tool, args) in [
            ("spira-map", &[][..]),
            ("spira-validate", &[][..]),
            ("spira-batch", &["--unbatch"][..]),
        ] {
            let r = run(tool, args, Some(&input));
            assert_eq!(r.code, 1, "{}: {r}", String::from_utf8_lossy(g));
            assert!(r.stderr.contains(&format!("{tool}: <stdin>:1: ")), "{r}");
            assert!(!r.stderr.contains("panicked"), "{r}");
        }
    }
}

/// A stage given another stage's records says which stage is missing; exit 1 (bad data).
#[test]
fn a_pipeline_mistake_gets_a_hint() {
    let run_line = runs(1);
    let result = "{\"format\":\"junit\",\"report\":\"r.xml\",\"suites\":[],\"classname\":\"a\",\"name\":\"b\",\"status\":\"passed\",\"duration\":1,\"start\":null}\n";
    let batch = format!("[{}]\n", run_line.trim_end());
    let post = [
        "--dry-run",
        "--url",
        "http://127.0.0.1:9",
        "--username",
        "u",
        "--project",
        "1",
    ];
    let key = [("SPIRA_API_KEY", "k")];
    let cases: [(&str, &[&str], &str, &str); 5] = [
        (
            "spira-post",
            &post,
            &run_line,
            "put spira-batch before spira-post",
        ),
        (
            "spira-post",
            &post,
            result,
            "put spira-map and spira-batch before spira-post",
        ),
        (
            "spira-batch",
            &[],
            result,
            "put spira-map before spira-batch",
        ),
        (
            "spira-batch",
            &[],
            &batch,
            "spira-batch --unbatch turns it back",
        ),
        (
            "spira-map",
            &[],
            &run_line,
            "this looks like a run line (spira-map's output)",
        ),
    ];
    for (tool, args, input, hint) in cases {
        let r = crate::harness::run_env(tool, args, Some(input.as_bytes()), &key);
        r.expect_code(1);
        assert!(
            r.err1().starts_with(&format!("{tool}: <stdin>:1: not a ")) && r.err1().contains(hint),
            "{r}"
        );
    }
}
