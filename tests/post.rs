//! spira-post against spira-mock: delivery under faults, rejection into the dead-letter file,
//! authentication failures, the dry run, and the secret.

use serde_json::Value;

use crate::harness::{run_env, Mock, TempDir};

const KEY: &str = "{00000000-DEMO-KEY0-0000-000000000000}";

/// `n` distinct runs in batches of `size`, as spira-batch writes them.
fn batches(n: usize, size: usize) -> String {
    let runs: Vec<String> = (1..=n)
        .map(|i| format!("{{\"TestCaseId\":{},\"ExecutionStatusId\":2,\"StartDate\":\"2024-05-14T12:00:00.000Z\",\"RunnerName\":\"r\",\"RunnerTestName\":\"t{i}\",\"TestRunFormatId\":1,\"_Attachments\":[\"a.png\"]}}", i % 1000 + 1))
        .collect();
    runs.chunks(size)
        .map(|c| format!("[{}]\n", c.join(",")))
        .collect()
}

fn post(m: &Mock, args: &[&str], input: &str, key: &str) -> crate::harness::Run {
    let env = [
        ("SPIRA_URL", m.url.as_str()),
        ("SPIRA_USERNAME", "demo"),
        ("SPIRA_PROJECT_ID", "1"),
        ("SPIRA_API_KEY", key),
    ];
    let r = run_env("spira-post", args, Some(input.as_bytes()), &env);
    assert!(
        !r.stdout.contains(key) && !r.stderr.contains(key),
        "the key was shown\n{r}"
    );
    r
}

/// The "N runs possibly duplicated" figure of a summary line.
fn possibly_duplicated(summary: &str) -> usize {
    summary
        .split("; ")
        .find_map(|p| p.strip_suffix(" runs possibly duplicated"))
        .unwrap_or_else(|| panic!("no duplicate count in {summary}"))
        .parse()
        .unwrap()
}

#[test]
fn every_batch_is_stored_and_each_run_comes_back_created() {
    let m = Mock::start(&[]);
    let r = post(&m, &[], &batches(120, 50), KEY);
    r.expect_code(0);
    let created = r.json();
    assert_eq!(created.len(), 120);
    assert!(created
        .iter()
        .all(|c| c["TestRunId"].is_u64() && c.get("_Attachments").is_none()));
    assert_eq!(m.stats()["runs"], 120);
    assert_eq!(
        r.stderr
            .lines()
            .last()
            .unwrap()
            .split(" in ")
            .next()
            .unwrap(),
        "spira-post: 3 batches, 120 runs stored"
    );
    for auth in ["query", "basic"] {
        post(&m, &["--auth", auth], &batches(5, 5), KEY).expect_code(0);
    }
}

#[test]
fn under_faults_every_run_is_stored_and_duplicates_are_reported() {
    let m = Mock::start(&["--faults", "0.3", "--seed", "3", "--slow-ms", "20"]);
    let n = 1000;
    let r = post(
        &m,
        &["--backoff-ms", "5", "--retries", "10"],
        &batches(n, 25),
        KEY,
    );
    r.expect_code(0);
    let (_, body, _) = crate::harness::http("GET", &format!("{}/__mock/runs", m.url), &[], None);
    let mut names: Vec<String> = body
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["RunnerTestName"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let stored = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "every run stored");
    let s = m.stats();
    assert!(s["faults"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(s["duplicates"].as_u64().unwrap() as usize, stored - n);
    // The only duplicates are batches spira-post sent again after a lost answer, and it said so.
    let summary = r.stderr.lines().last().unwrap();
    let reported = possibly_duplicated(summary);
    assert!(stored - n <= reported, "{summary} (stored {stored})");
    assert_eq!(r.json().len(), n);
}

#[test]
fn a_rejected_batch_goes_to_the_dead_letter_file_and_the_rest_is_stored() {
    let t = TempDir::new("dead");
    let dead = t.path("dead.jsonl");
    let m = Mock::start(&["--test-cases", "1-1000"]);
    let mut input = batches(20, 10);
    input.push_str("[{\"TestCaseId\":5000,\"ExecutionStatusId\":2,\"StartDate\":\"2024-05-14T12:00:00Z\",\"RunnerName\":\"r\",\"TestRunFormatId\":1}]\n");
    input.push_str(&batches(10, 10));
    let r = post(&m, &["--dead-letter", &dead.to_string_lossy()], &input, KEY);
    r.expect_code(1);
    assert_eq!(m.stats()["runs"], 30);
    let lines: Vec<Value> = std::fs::read_to_string(&dead)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["status"], 400);
    assert_eq!(lines[0]["runs"][0]["TestCaseId"], 5000);
    assert!(r.stderr.contains("<stdin>:3: batch of 1 runs rejected (400): Test run 1 of 1: Test case TC:5000 does not exist"), "{r}");
    assert!(r
        .stderr
        .contains("Spira may have stored the runs before the bad one"));
    // The dead letter can be unbatched, fixed and replayed.
    let back = crate::harness::run("spira-batch", &["--unbatch", &dead.to_string_lossy()], None);
    assert_eq!(back.stdout.lines().count(), 1);
}

#[test]
fn a_401_stops_at_once_with_exit_3() {
    let m = Mock::start(&[]);
    let r = post(&m, &[], &batches(30, 10), "{WRONG-KEY}");
    r.expect_code(3);
    assert!(
        r.err1()
            .starts_with("spira-post: 401 from Spira: check the user name and API key"),
        "{r}"
    );
    assert_eq!(m.stats()["requests"], 1, "no retry, no further batch");
}

#[test]
fn the_dry_run_connects_to_nothing_and_hides_the_key() {
    // Port 1 on loopback: nothing listens there; a connection attempt would fail.
    let env = [
        ("SPIRA_URL", "http://127.0.0.1:1"),
        ("SPIRA_USERNAME", "demo"),
        ("SPIRA_PROJECT_ID", "9"),
        ("SPIRA_API_KEY", KEY),
    ];
    for (auth, shown) in [
        ("headers", "\"api-key\":\"***\""),
        ("query", "api-key=***"),
        ("basic", "\"Authorization\":\"Basic ***\""),
    ] {
        let r = run_env(
            "spira-post",
            &["--dry-run", "--auth", auth],
            Some(batches(3, 2).as_bytes()),
            &env,
        );
        r.expect_code(0);
        assert!(!r.stdout.contains(KEY) && !r.stderr.contains(KEY));
        let lines = r.json();
        assert_eq!(lines.len(), 2);
        assert!(lines[0]["url"].as_str().unwrap().starts_with(
            "http://127.0.0.1:1/Services/v7_0/RestService.svc/projects/9/test-runs/record-multiple"
        ));
        assert_eq!(lines[0]["method"], "POST");
        assert!(lines[0]["body"][0].get("_Attachments").is_none());
        assert!(r.stdout.contains(shown), "{auth}: {}", r.stdout);
    }
}

#[test]
fn summaries_are_named_and_refreshed_on_request() {
    let m = Mock::start(&["--test-set", "7=1-1000"]);
    let input = "[{\"TestCaseId\":1,\"ExecutionStatusId\":2,\"StartDate\":\"2024-05-14T12:00:00Z\",\"RunnerName\":\"r\",\"TestRunFormatId\":1,\"ReleaseId\":3,\"TestSetId\":7},{\"TestCaseId\":2,\"ExecutionStatusId\":2,\"StartDate\":\"2024-05-14T12:00:00Z\",\"RunnerName\":\"r\",\"TestRunFormatId\":1,\"ReleaseId\":4}]\n";
    let r = post(&m, &[], input, KEY);
    r.expect_code(0);
    assert!(r.stderr.contains("runs went to releases [RL:3, RL:4] and test sets [TX:7]: their summary status needs a refresh"), "{r}");
    assert_eq!(m.stats()["refreshes"], 0, "not without --refresh");
    let r = post(&m, &["--refresh"], input, KEY);
    r.expect_code(0);
    assert_eq!(m.stats()["refreshes"], 2, "once per release");
    let r = post(&m, &["--refresh-only", "--release", "5"], "", KEY);
    r.expect_code(0);
    assert_eq!(m.stats()["refreshes"], 3);
    assert_eq!(m.stats()["runs"], 4, "--refresh-only uploads nothing");
}
