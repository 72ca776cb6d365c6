//! spira-post against spira-mock: delivery under faults, rejection into the dead-letter file,
//! authentication failures, the dry run, and the secret.

use std::process::Command;

use serde_json::Value;

use crate::harness::{run_env, Mock, TempDir};

use crate::harness::KEY;

/// `n` distinct runs in batches of `size`, as spira-batch writes them.
fn batches(n: usize, size: usize) -> String {
    let runs: Vec<String> = (1..=n)
        .map(|i| format!("{{\"TestCaseId\":{},\"ExecutionStatusId\":2,\"StartDate\":\"2024-05-14T12:00:00.000Z\",\"RunnerName\":\"r\",\"RunnerTestName\":\"t{i}\",\"RunnerMessage\":\"m\",\"RunnerStackTrace\":\"\",\"TestRunFormatId\":1}}", i % 1000 + 1))
        .collect();
    runs.chunks(size)
        .map(|c| format!("[{}]\n", c.join(",")))
        .collect()
}

/// The same batches with an attachment (a missing file) on every run.
fn with_attachment(batches: &str) -> String {
    batches.replace(
        "\"TestRunFormatId\":1}",
        "\"TestRunFormatId\":1,\"_Attachments\":[\"a.png\"]}",
    )
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
    let r = post(&m, &[], &with_attachment(&batches(120, 50)), KEY);
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

/// Every one of `n` runs stored exactly once, nothing counted as possibly duplicated, and one
/// created line per run.
fn exactly_once(m: &Mock, n: usize, r: &crate::harness::Run) {
    let names = stored_names(m);
    assert_eq!(names.len(), n, "every run stored once\n{r}");
    assert_eq!(distinct(names), n, "every run stored\n{r}");
    assert_eq!(m.stats()["duplicates"], 0, "{r}");
    assert_eq!(
        possibly_duplicated(r.stderr.lines().last().unwrap()),
        0,
        "{r}"
    );
    assert_eq!(r.json().len(), n, "one created line per run\n{r}");
}

/// The "reconciled N runs found stored, M extra requests" figures of a summary line.
fn reconciled(summary: &str) -> (usize, usize) {
    let Some(p) = summary.split("; ").find(|p| p.starts_with("reconciled ")) else {
        return (0, 0);
    };
    let n: Vec<usize> = p.split(' ').filter_map(|w| w.parse().ok()).collect();
    (n[0], n[1])
}

#[test]
fn under_faults_every_run_is_stored_exactly_once_whatever_the_seed() {
    let mut extra = 0;
    for seed in ["3", "7", "19"] {
        let m = Mock::start(&["--faults", "0.3", "--seed", seed, "--slow-ms", "20"]);
        let n = 500;
        let r = post(
            &m,
            &["--backoff-ms", "5", "--retries", "10"],
            &batches(n, 25),
            KEY,
        );
        r.expect_code(0);
        assert!(m.stats()["faults"].as_u64().unwrap() > 0, "seed {seed}");
        exactly_once(&m, n, &r);
        extra += reconciled(r.stderr.lines().last().unwrap()).1;
    }
    assert!(extra > 0, "some answers were lost and reconciled");
}

#[test]
fn without_faults_no_request_is_made_beyond_one_per_batch() {
    let m = Mock::start(&[]);
    let r = post(&m, &[], &batches(300, 50), KEY);
    r.expect_code(0);
    exactly_once(&m, 300, &r);
    assert_eq!(m.stats()["requests"], 6);
    assert_eq!(reconciled(r.stderr.lines().last().unwrap()), (0, 0), "{r}");
}

#[test]
fn a_server_that_will_not_sort_by_run_id_is_searched_instead() {
    let m = Mock::start(&[
        "--faults",
        "0.3",
        "--seed",
        "5",
        "--slow-ms",
        "20",
        "--sort-fields",
        "EndDate",
    ]);
    let r = post(
        &m,
        &["--backoff-ms", "5", "--retries", "10", "--verbose"],
        &batches(400, 25),
        KEY,
    );
    r.expect_code(0);
    exactly_once(&m, 400, &r);
    assert!(r.stderr.contains("/test-runs/search?starting_row=1"), "{r}");
}

#[test]
fn a_rejected_batch_goes_to_the_dead_letter_file_and_the_rest_is_stored() {
    let t = TempDir::new("dead");
    let dead = t.path("dead.jsonl");
    let m = Mock::start(&["--test-cases", "1-1000"]);
    let mut input = batches(20, 10);
    input.push_str("[{\"TestCaseId\":5000,\"ExecutionStatusId\":2,\"StartDate\":\"2024-05-14T12:00:00Z\",\"RunnerName\":\"r\",\"RunnerTestName\":\"t\",\"RunnerMessage\":\"m\",\"RunnerStackTrace\":\"\",\"TestRunFormatId\":1}]\n");
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
    assert!(
        r.stderr.contains(
            "<stdin>:3: 1 run rejected (400): Test run 1 of 1: Test case TC:5000 does not exist"
        ),
        "{r}"
    );
    // The dead letter can be unbatched, fixed and replayed.
    let back = crate::harness::run("spira-batch", &["--unbatch", &dead.to_string_lossy()], None);
    assert_eq!(back.stdout.lines().count(), 1);
}

#[test]
fn only_the_bad_run_of_a_rejected_batch_is_set_aside() {
    for atomic in [false, true] {
        let t = TempDir::new("narrow");
        let dead = t.path("dead.jsonl");
        let args: &[&str] = if atomic {
            &["--test-cases", "1-1000", "--atomic"]
        } else {
            &["--test-cases", "1-1000"]
        };
        let m = Mock::start(args);
        // One batch of 500, the 321st naming a test case that does not exist.
        let line = batches(500, 500);
        let bad = line.replacen("\"TestCaseId\":322,", "\"TestCaseId\":5000,", 1);
        assert_ne!(bad, line);
        let r = post(&m, &["--dead-letter", &dead.to_string_lossy()], &bad, KEY);
        r.expect_code(1);
        let names = stored_names(&m);
        assert_eq!(names.len(), 499, "atomic: {atomic}\n{r}");
        assert_eq!(distinct(names), 499);
        assert_eq!(m.stats()["duplicates"], 0);
        assert_eq!(r.json().len(), 499, "a created line for each stored run");
        let lines: Vec<Value> = std::fs::read_to_string(&dead)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["status"], 400);
        assert_eq!(lines[0]["runs"].as_array().unwrap().len(), 1);
        assert_eq!(lines[0]["runs"][0]["TestCaseId"], 5000);
        assert_eq!(
            lines[0]["message"],
            "Test run 1 of 1: Test case TC:5000 does not exist in project PR:1"
        );
        // The extra requests are bounded: about 2 × log2(500) for the one bad run.
        let (_, extra) = reconciled(r.stderr.lines().last().unwrap());
        assert!(
            extra > 0 && extra <= 20,
            "atomic: {atomic}: {extra} extra requests\n{r}"
        );
        assert_eq!(m.stats()["requests"].as_u64().unwrap() as usize, 1 + extra);
    }
}

/// A server whose message does not name the bad run: the rest is halved until it is found,
/// atomic or not, and every good run is stored once.
#[test]
fn a_bad_run_is_found_by_halving_when_the_message_does_not_name_it() {
    for atomic in [false, true] {
        let t = TempDir::new("halve");
        let dead = t.path("dead.jsonl");
        let mut args = vec!["--test-cases", "1-1000", "--terse-errors"];
        if atomic {
            args.push("--atomic");
        }
        let m = Mock::start(&args);
        let line = batches(256, 256);
        let bad = line
            .replacen("\"TestCaseId\":101,", "\"TestCaseId\":5000,", 1)
            .replacen("\"TestCaseId\":201,", "\"TestCaseId\":5001,", 1);
        let r = post(&m, &["--dead-letter", &dead.to_string_lossy()], &bad, KEY);
        r.expect_code(1);
        assert_eq!(stored_names(&m).len(), 254, "atomic: {atomic}\n{r}");
        assert_eq!(distinct(stored_names(&m)), 254);
        assert_eq!(m.stats()["duplicates"], 0);
        let dead: Vec<Value> = std::fs::read_to_string(&dead)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let ids: Vec<&Value> = dead.iter().map(|d| &d["runs"][0]["TestCaseId"]).collect();
        assert_eq!(ids, [5000, 5001], "each bad run alone, in order");
        assert!(dead
            .iter()
            .all(|d| d["runs"].as_array().unwrap().len() == 1));
        let (_, extra) = reconciled(r.stderr.lines().last().unwrap());
        // Two bad runs in 256: at most about 3 × log2(256) requests each.
        assert!(extra <= 48, "atomic: {atomic}: {extra} extra requests\n{r}");
    }
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
            Some(with_attachment(&batches(3, 2)).as_bytes()),
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
    // A dry run sends nothing: it needs no key (the --help example), and --refresh-only,
    // which would connect, is refused with it.
    let input = batches(3, 2);
    let r = run_env(
        "spira-post",
        &["--dry-run"],
        Some(input.as_bytes()),
        &env[..3],
    );
    r.expect_code(0);
    assert_eq!(r.json().len(), 2, "{r}");
    assert!(r.stdout.contains("\"api-key\":\"***\""), "{r}");
    let r = run_env(
        "spira-post",
        &["--dry-run", "--refresh-only"],
        Some(input.as_bytes()),
        &env,
    );
    r.expect_code(2);
    assert!(r.stderr.contains("cannot be used with"), "{r}");
}

#[test]
fn summaries_are_named_and_refreshed_on_request() {
    let m = Mock::start(&["--test-set", "7=1-1000"]);
    let input = "[{\"TestCaseId\":1,\"ExecutionStatusId\":2,\"StartDate\":\"2024-05-14T12:00:00Z\",\"RunnerName\":\"r\",\"RunnerTestName\":\"t\",\"RunnerMessage\":\"m\",\"RunnerStackTrace\":\"\",\"TestRunFormatId\":1,\"ReleaseId\":3,\"TestSetId\":7},{\"TestCaseId\":2,\"ExecutionStatusId\":2,\"StartDate\":\"2024-05-14T12:00:00Z\",\"RunnerName\":\"r\",\"RunnerTestName\":\"t\",\"RunnerMessage\":\"m\",\"RunnerStackTrace\":\"\",\"TestRunFormatId\":1,\"ReleaseId\":4}]\n";
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

/// The RunnerTestName of every run the mock stored, in the order stored.
fn stored_names(m: &Mock) -> Vec<String> {
    let (_, body, _) = crate::harness::http("GET", &format!("{}/__mock/runs", m.url), &[], None);
    body.lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["RunnerTestName"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn distinct(mut v: Vec<String>) -> usize {
    v.sort();
    v.dedup();
    v.len()
}

fn env_for(m: &Mock) -> [(&str, String); 4] {
    [
        ("SPIRA_URL", m.url.clone()),
        ("SPIRA_USERNAME", "demo".into()),
        ("SPIRA_PROJECT_ID", "1".into()),
        ("SPIRA_API_KEY", KEY.into()),
    ]
}

#[test]
#[ignore = "slow: make test runs it"]
fn ten_thousand_runs_under_a_fifth_of_requests_faulty_are_all_stored() {
    let m = Mock::start(&["--faults", "0.2", "--seed", "11", "--slow-ms", "20"]);
    let n = 10_000;
    let r = post(
        &m,
        &["--backoff-ms", "5", "--retries", "12"],
        &batches(n, 250),
        KEY,
    );
    r.expect_code(0);
    assert!(m.stats()["faults"].as_u64().unwrap() > 0);
    exactly_once(&m, n, &r);
}

#[test]
#[ignore = "slow: make test runs it"]
fn a_killed_upload_resumes_from_its_journal_without_losing_or_repeating_runs() {
    let t = TempDir::new("kill");
    let input = t.path("batches.jsonl");
    let journal = t.path("upload.journal");
    let out1 = t.path("created1.jsonl");
    std::fs::write(&input, batches(1000, 25)).unwrap();
    // Every answer comes 60 ms after the runs are stored: the kill lands in such a window.
    let m = Mock::start(&["--latency-ms", "60"]);
    let env = env_for(&m);
    let mut cmd = std::process::Command::new(crate::harness::bin("spira-post"));
    cmd.args([
        "--journal",
        &journal.to_string_lossy(),
        &input.to_string_lossy(),
    ])
    .stdout(std::fs::File::create(&out1).unwrap())
    .stderr(std::process::Stdio::null());
    for (k, v) in &env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while m.stats()["runs"].as_u64().unwrap() < 500 {
        assert!(
            std::time::Instant::now() < deadline,
            "the upload did not progress"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = m.stats()["runs"].as_u64().unwrap();
    assert!(before < 1000, "killed half-way ({before} stored)");

    let env2: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_env(
        "spira-post",
        &[
            "--journal",
            &journal.to_string_lossy(),
            &input.to_string_lossy(),
        ],
        None,
        &env2,
    );
    r.expect_code(0);
    let names = stored_names(&m);
    assert_eq!(names.len(), 1000, "every run stored once\n{r}");
    assert_eq!(distinct(names), 1000, "every run stored\n{r}");
    assert_eq!(m.stats()["duplicates"], 0);
    assert!(!r.stderr.contains("may be stored twice"), "{r}");
    let summary = r.stderr.lines().last().unwrap();
    assert_eq!(possibly_duplicated(summary), 0, "{summary}");
    assert!(
        summary.contains("done before, per the journal"),
        "{summary}"
    );
    // Nothing the first run was told is lost: its created lines and the second run's
    // together name every run.
    let first = std::fs::read_to_string(&out1).unwrap();
    let created: Vec<String> = first
        .lines()
        .chain(r.stdout.lines())
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["RunnerTestName"].to_string())
        .collect();
    assert_eq!(distinct(created), 1000);
    // A third run with the same journal sends nothing.
    let again = run_env(
        "spira-post",
        &[
            "--journal",
            &journal.to_string_lossy(),
            &input.to_string_lossy(),
        ],
        None,
        &env2,
    );
    again.expect_code(0);
    assert_eq!(stored_names(&m).len(), 1000);
    assert!(again.stdout.is_empty());
}

#[test]
fn a_journal_is_refused_for_other_input_and_uncertain_batches_can_be_skipped() {
    let t = TempDir::new("journal");
    let journal = t.path("j");
    let j = journal.to_string_lossy().to_string();
    let m = Mock::start(&[]);
    let input = batches(30, 10);
    post(&m, &["--journal", &j], &input, KEY).expect_code(0);
    let r = post(&m, &["--journal", &j], &batches(30, 5), KEY);
    r.expect_code(2);
    assert!(
        r.err1().starts_with("spira-post: <stdin>:1: the journal '")
            && r.err1().contains("was written for different input"),
        "{r}"
    );
    assert_eq!(m.stats()["runs"], 30, "nothing sent");

    // The journal as a kill would leave it: batch 3 sent, its answer never recorded.
    let text = std::fs::read_to_string(&journal).unwrap();
    let cut: String = text
        .lines()
        .filter(|l| !l.contains("\"batch\":3") || l.contains("\"sending\""))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&journal, &cut).unwrap();
    // The server is asked what it holds: batch 3 was stored, so nothing is sent again, and its
    // runs come out as created lines.
    let r = post(&m, &["--journal", &j], &input, KEY);
    r.expect_code(0);
    assert_eq!(m.stats()["runs"], 30, "nothing sent again\n{r}");
    assert_eq!(r.json().len(), 10, "{r}");
    assert!(
        r.json()
            .iter()
            .all(|c| c["TestRunId"].as_u64().unwrap() > 20),
        "{r}"
    );
    let summary = r.stderr.lines().last().unwrap();
    assert!(
        summary.contains("reconciled 10 runs found stored"),
        "{summary}"
    );
    assert_eq!(possibly_duplicated(summary), 0);
    // Without reconciliation: skipped with --skip-uncertain, else sent again and counted.
    std::fs::write(&journal, &cut).unwrap();
    let r = post(
        &m,
        &["--journal", &j, "--no-reconcile", "--skip-uncertain"],
        &input,
        KEY,
    );
    r.expect_code(0);
    assert!(
        r.stderr
            .contains("<stdin>:3: its answer never arrived in an earlier run"),
        "{r}"
    );
    assert_eq!(m.stats()["runs"], 30, "the uncertain batch was skipped");
    std::fs::write(&journal, &cut).unwrap();
    let r = post(&m, &["--journal", &j, "--no-reconcile"], &input, KEY);
    r.expect_code(0);
    assert_eq!(m.stats()["runs"], 40, "sent again without --skip-uncertain");
    assert_eq!(possibly_duplicated(r.stderr.lines().last().unwrap()), 10);
    // A journal cut in the middle of its last line is read up to that line.
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str("{\"batch\":4,\"ha");
    std::fs::write(&journal, text).unwrap();
    let r = post(&m, &["--journal", &j], &input, KEY);
    r.expect_code(0);
    assert!(
        r.stderr.contains("the journal's last entry is cut short"),
        "{r}"
    );
    assert_eq!(m.stats()["runs"], 40);
    // The torn entry was cut: the next resume reads the journal cleanly.
    let r = post(&m, &["--journal", &j], &input, KEY);
    r.expect_code(0);
    assert!(!r.stderr.contains("warning"), "{r}");
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(
        text.lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "{text}"
    );
    // A whole last entry without its line end: the next header starts on a line of its own.
    std::fs::write(&journal, text.trim_end()).unwrap();
    post(&m, &["--journal", &j], &input, KEY).expect_code(0);
    post(&m, &["--journal", &j], &input, KEY).expect_code(0);
    assert_eq!(m.stats()["runs"], 40);
}

#[test]
fn a_journal_is_held_by_one_upload_and_only_a_journal_is_read() {
    let t = TempDir::new("journal-lock");
    let journal = t.path("j");
    let j = journal.to_string_lossy().to_string();
    let m = Mock::start(&["--latency-ms", "300"]);
    // The first upload holds the journal while it runs; the second is refused, naming it.
    let input = t.path("in.jsonl");
    std::fs::write(&input, batches(20, 5)).unwrap();
    let mut cmd = Command::new(crate::harness::bin("spira-post"));
    cmd.args(["--journal", &j, input.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (k, v) in env_for(&m) {
        cmd.env(k, v);
    }
    let mut first = cmd.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let r = post(&m, &["--journal", &j], &batches(20, 5), KEY);
    r.expect_code(2);
    assert!(
        r.err1()
            .contains(&format!("is in use by process {}", first.id())),
        "{r}"
    );
    let _ = first.kill();
    let _ = first.wait();
    let m = Mock::start(&[]);
    // Not a journal: a device, a huge line, a file that does not start with a header.
    for (what, path, want) in [
        ("a device", "/dev/zero".to_string(), "is not a regular file"),
        (
            "a JSON file",
            "fixtures/map/ids.json".into(),
            "not a spira-post journal",
        ),
    ] {
        let r = post(&m, &["--journal", &path], &batches(2, 2), KEY);
        r.expect_code(2);
        assert!(r.err1().contains(want), "{what}: {r}");
    }
    let big = t.path("big");
    std::fs::write(&big, vec![b'x'; 3 << 20]).unwrap();
    let r = post(
        &m,
        &["--journal", big.to_str().unwrap()],
        &batches(2, 2),
        KEY,
    );
    r.expect_code(2);
    assert!(r.err1().contains("a line longer than"), "{r}");
    assert_eq!(m.stats()["requests"], 0, "the refused uploads sent nothing");
}

#[test]
#[ignore = "slow: make test runs it"]
fn parallel_jobs_keep_the_input_order() {
    let m = Mock::start(&["--faults", "0.3", "--seed", "5", "--slow-ms", "40"]);
    let r = post(
        &m,
        &["--jobs", "3", "--backoff-ms", "5", "--retries", "10"],
        &batches(300, 5),
        KEY,
    );
    r.expect_code(0);
    let order: Vec<String> = r
        .json()
        .iter()
        .map(|c| c["RunnerTestName"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (1..=300).map(|i| format!("t{i}")).collect();
    assert_eq!(order, expected);
    let r = post(&m, &["--jobs", "4"], &batches(4, 1), KEY);
    r.expect_code(0);
    assert!(
        r.err1().contains("--jobs 4: Spira's database deadlocks"),
        "{r}"
    );
}

#[test]
fn the_preflight_keeps_runs_of_unknown_test_cases_unsent() {
    let t = TempDir::new("preflight");
    let dead = t.path("dead.jsonl");
    let m = Mock::start(&["--test-cases", "1-40"]);
    // Test cases 2..=61: the last 21 runs name test cases the project does not have.
    let r = post(
        &m,
        &["--preflight", "--dead-letter", &dead.to_string_lossy()],
        &batches(60, 25),
        KEY,
    );
    r.expect_code(1);
    let s = m.stats();
    assert_eq!(s["runs"], 39);
    assert_eq!(s["rejected"], 0, "no batch was refused by the server");
    assert!(r.stderr.contains("preflight: credentials accepted; 40 test cases in PR:1; 21 named by the runs do not exist: TC:41, TC:42"), "{r}");
    let lines: Vec<Value> = std::fs::read_to_string(&dead)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kept: usize = lines
        .iter()
        .map(|l| l["runs"].as_array().unwrap().len())
        .sum();
    assert_eq!(kept, 21);
    assert!(lines.iter().all(|l| l["status"].is_null()));
    assert_eq!(r.json().len(), 39);
    // Wrong credentials: found before anything is sent.
    let r = post(&m, &["--preflight"], &batches(5, 5), "{WRONG}");
    r.expect_code(3);
    assert_eq!(m.stats()["runs"], 39);
}

#[test]
fn a_build_is_created_before_the_first_batch_and_set_on_every_run() {
    let t = TempDir::new("build");
    let m = Mock::start(&[]);
    let input = batches(10, 4).replace("\"ExecutionStatusId\":2,\"StartDate\":\"2024-05-14T12:00:00.000Z\",\"RunnerName\":\"r\",\"RunnerTestName\":\"t7\"", "\"ExecutionStatusId\":1,\"StartDate\":\"2024-05-14T12:00:00.000Z\",\"RunnerName\":\"r\",\"RunnerTestName\":\"t7\"");
    let r = post(&m, &["--create-build", "Nightly 42"], &input, KEY);
    r.expect_code(2);
    assert!(
        r.err1()
            .contains("a build (--create-build, --build-name) needs a release"),
        "{r}"
    );
    assert_eq!(m.stats()["runs"], 0);
    let r = post(
        &m,
        &["--create-build", "Nightly 42", "--release", "3"],
        &input,
        KEY,
    );
    r.expect_code(0);
    let (_, body, _) = crate::harness::http(
        "GET",
        &format!("{}/releases/3/builds", m.api()),
        &crate::harness::AUTH,
        None,
    );
    let builds: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(builds.len(), 1);
    assert_eq!(builds[0]["Name"], "Nightly 42");
    assert_eq!(builds[0]["BuildStatusId"], 1, "a run failed");
    let id = builds[0]["BuildId"].clone();
    let (_, runs, _) = crate::harness::http("GET", &format!("{}/__mock/runs", m.url), &[], None);
    assert_eq!(runs.lines().count(), 10);
    for l in runs.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        assert_eq!((&v["BuildId"], &v["ReleaseId"]), (&id, &Value::from(3)));
    }
    // Inflectra's spira.cfg: create_build = true names the build itself.
    let cfg = t.path("spira.cfg");
    std::fs::write(
        &cfg,
        format!("[credentials]\nurl = {}\nusername = demo\ntoken = {KEY}\nproject_id = 1\nrelease_id = 4\ncreate_build = True\n", m.url),
    )
    .unwrap();
    let r = run_env(
        "spira-post",
        &["--config", &cfg.to_string_lossy(), "--release", "4"],
        Some(batches(3, 3).as_bytes()),
        &[],
    );
    r.expect_code(0);
    assert!(r.stderr.contains("created build BL:2 'r Build 20"), "{r}");
    assert!(r.stderr.contains("in release RL:4 (passed)"), "{r}");
}

#[test]
fn attachments_are_uploaded_to_the_created_runs_and_a_missing_file_is_a_warning() {
    let t = TempDir::new("attach");
    let shot = t.path("shot.png");
    std::fs::write(&shot, b"\x89PNG fake").unwrap();
    let m = Mock::start(&[]);
    let input = format!(
        "[{{\"TestCaseId\":1,\"ExecutionStatusId\":1,\"StartDate\":\"2024-05-14T12:00:00Z\",\"RunnerName\":\"r\",\"RunnerTestName\":\"t\",\"RunnerMessage\":\"m\",\"RunnerStackTrace\":\"\",\"TestRunFormatId\":1,\"_Attachments\":[{},\"https://ci.example/job/1/log\",\"gone.txt\"]}}]\n",
        serde_json::to_string(&shot.to_string_lossy()).unwrap()
    );
    let r = post(&m, &[], &input, KEY);
    r.expect_code(0);
    assert_eq!(m.stats()["documents"], 2);
    assert!(
        r.stderr
            .contains("<stdin>:1: attachment 'gone.txt' of test run TR:"),
        "{r}"
    );
    assert!(
        r.stderr
            .lines()
            .last()
            .unwrap()
            .ends_with("; 2 attachments uploaded, 1 missing, 0 failed"),
        "{r}"
    );
}

#[test]
fn proxies_come_from_the_environment_and_no_proxy_is_honoured() {
    let m = Mock::start(&[]);
    let mut env: Vec<(&str, String)> = env_for(&m).to_vec();
    env.push(("HTTP_PROXY", "http://127.0.0.1:1".into()));
    let e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_env(
        "spira-post",
        &["--retries", "0"],
        Some(batches(2, 2).as_bytes()),
        &e,
    );
    r.expect_code(3);
    assert_eq!(m.stats()["requests"], 0, "went to the (dead) proxy");
    let mut e2 = e.clone();
    e2.push(("NO_PROXY", "127.0.0.1"));
    run_env("spira-post", &[], Some(batches(2, 2).as_bytes()), &e2).expect_code(0);
    assert_eq!(m.stats()["runs"], 2);
}

#[test]
fn a_ca_cert_file_must_hold_a_certificate() {
    let r = run_env(
        "spira-post",
        &["--ca-cert", "Cargo.toml"],
        Some(b"[]\n"),
        &[
            ("SPIRA_URL", "https://spira.example"),
            ("SPIRA_USERNAME", "u"),
            ("SPIRA_PROJECT_ID", "1"),
            ("SPIRA_API_KEY", KEY),
        ],
    );
    r.expect_code(2);
    assert_eq!(
        r.err1(),
        "spira-post: --ca-cert 'Cargo.toml': no certificate in it (expected PEM: -----BEGIN CERTIFICATE-----)"
    );
}

#[test]
fn killed_before_a_request_or_after_its_answer_the_rerun_loses_nothing() {
    for point in ["before-request", "after-answer"] {
        let t = TempDir::new("killat");
        let input = t.path("batches.jsonl");
        let journal = t.path("j").to_string_lossy().to_string();
        std::fs::write(&input, batches(200, 25)).unwrap();
        let m = Mock::start(&[]);
        let env = env_for(&m);
        let mut e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let args = ["--journal", journal.as_str(), input.to_str().unwrap()];
        e.push((
            "SPIRA_POST_KILL_AT",
            &*Box::leak(format!("{point}:4").into_boxed_str()),
        ));
        let killed = run_env("spira-post", &args, None, &e);
        assert_eq!(killed.code, -1, "{point}: killed by a signal\n{killed}");
        let stored_before = m.stats()["runs"].as_u64().unwrap();
        assert_eq!(
            stored_before,
            if point == "before-request" { 75 } else { 100 }
        );
        e.pop();
        let r = run_env("spira-post", &args, None, &e);
        r.expect_code(0);
        let names = stored_names(&m);
        assert_eq!(names.len(), 200, "{point}: every run stored once\n{r}");
        assert_eq!(distinct(names), 200, "{point}: every run stored\n{r}");
        assert_eq!(m.stats()["duplicates"], 0, "{point}");
        let summary = r.stderr.lines().last().unwrap();
        assert_eq!(possibly_duplicated(summary), 0, "{summary}");
        // The batch in flight: found stored after its answer, or sent again (only what is not
        // stored) when the kill came before its request; its runs come out either way.
        if point == "after-answer" {
            assert!(
                summary.contains("reconciled 25 runs found stored"),
                "{summary}"
            );
        }
        assert_eq!(
            r.json().len(),
            125,
            "{point}: the batches not stored before, and the one in flight"
        );
    }
}

#[test]
#[ignore = "slow: make test runs it"]
fn three_jobs_under_faults_keep_every_guarantee() {
    let m = Mock::start(&["--faults", "0.2", "--seed", "23", "--slow-ms", "30"]);
    let n = 5_000;
    let r = post(
        &m,
        &["--jobs", "3", "--backoff-ms", "5", "--retries", "12"],
        &batches(n, 100),
        KEY,
    );
    r.expect_code(0);
    exactly_once(&m, n, &r);
    let order: Vec<String> = r
        .json()
        .iter()
        .map(|c| c["RunnerTestName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(order, (1..=n).map(|i| format!("t{i}")).collect::<Vec<_>>());
}

#[test]
#[ignore = "slow: make test runs it"]
fn a_hundred_thousand_runs_through_batch_and_post_under_faults_are_stored_exactly_once() {
    let t = TempDir::new("100k");
    let runs = t.path("runs.jsonl");
    let lines: String = (1..=100_000)
        .map(|i| format!("{{\"TestCaseId\":{},\"ExecutionStatusId\":2,\"StartDate\":\"2024-05-14T12:00:00.000Z\",\"RunnerName\":\"r\",\"RunnerTestName\":\"t{i}\",\"RunnerMessage\":\"m\",\"RunnerStackTrace\":\"\",\"TestRunFormatId\":1}}\n", i % 1000 + 1))
        .collect();
    std::fs::write(&runs, lines).unwrap();
    for jobs in ["1", "3"] {
        let record = t.path(&format!("stored-{jobs}.jsonl"));
        let dead = t.path(&format!("dead-{jobs}.jsonl"));
        let m = Mock::start(&[
            "--faults",
            "0.2",
            "--seed",
            "7",
            "--slow-ms",
            "20",
            "--record",
            record.to_str().unwrap(),
        ]);
        let script = format!(
            "'{}' --size 500 '{}' | '{}' --jobs {jobs} --journal '{}' --dead-letter '{}' --backoff-ms 5 --retries 12 > '{}'",
            crate::harness::bin("spira-batch").display(),
            runs.display(),
            crate::harness::bin("spira-post").display(),
            t.path(&format!("j-{jobs}")).display(),
            dead.display(),
            t.path("created.jsonl").display()
        );
        let mut cmd = std::process::Command::new("sh");
        cmd.args(["-c", &script]);
        for (k, v) in env_for(&m) {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        // The mock's own record of what it stored (too large for one /__mock/runs answer).
        let names: Vec<String> = std::fs::read_to_string(&record)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["RunnerTestName"].to_string())
            .collect();
        assert_eq!(names.len(), 100_000, "--jobs {jobs}: every run stored once");
        assert_eq!(distinct(names), 100_000);
        assert_eq!(m.stats()["duplicates"], 0, "--jobs {jobs}");
        let summary = stderr.lines().last().unwrap();
        assert_eq!(possibly_duplicated(summary), 0, "{summary}");
        assert!(
            reconciled(summary).1 > 0,
            "answers were lost and reconciled: {summary}"
        );
        let created = std::fs::read_to_string(t.path("created.jsonl")).unwrap();
        assert_eq!(created.lines().count(), 100_000);
        assert!(!dead.exists(), "nothing set aside");
    }
}

/// On a terminal (a pseudo-terminal from util-linux `script`), stderr gets a progress line that
/// is redrawn in place and wiped before the summary; stdout, a file, still gets every created
/// line. It needs `script`: `make test` runs it where `script` is installed and says so
/// where it is not.
#[test]
#[ignore = "needs script (util-linux)"]
fn with_script_a_terminal_gets_a_progress_line_wiped_before_the_summary() {
    assert!(
        Command::new("script").arg("--version").output().is_ok(),
        "this test needs `script` (util-linux) to make a terminal"
    );
    let m = Mock::start(&["--latency-ms", "60"]);
    let t = TempDir::new("tty");
    let input = t.path("batches.jsonl");
    std::fs::write(&input, batches(100, 10)).unwrap();
    let created = t.path("created.jsonl");
    let cmd = format!(
        "'{}' '{}' > '{}'",
        crate::harness::bin("spira-post").display(),
        input.display(),
        created.display()
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("SPIRA_URL", &m.url)
        .env("SPIRA_USERNAME", "demo")
        .env("SPIRA_PROJECT_ID", "1")
        .env("SPIRA_API_KEY", KEY)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{screen}");
    assert!(!screen.contains(KEY), "the key was shown: {screen}");
    // Ten batches of 60 ms: the line is drawn at least once, in place, and wiped.
    let drawn = screen.matches("\rspira-post: ").count();
    assert!(drawn >= 1, "no progress line: {screen:?}");
    assert!(screen.contains(" runs stored, 0 retries, "), "{screen:?}");
    let wiped = screen.rfind("\r\x1b[K").expect("the line is wiped");
    let summary = screen.rfind("spira-post: 10 batches").expect("a summary");
    assert!(
        wiped < summary,
        "the summary comes after the wipe: {screen:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&created).unwrap().lines().count(),
        100
    );
}

#[test]
fn a_key_given_twice_in_a_spira_cfg_is_warned_about_and_the_first_wins() {
    let t = TempDir::new("dupcfg");
    let cfg = t.path("spira.cfg");
    std::fs::write(
        &cfg,
        "[credentials]\nurl = http://127.0.0.1:1\nusername = u\nproject_id = 4\nURL = http://other.example\n",
    )
    .unwrap();
    let c = cfg.to_str().unwrap();
    let r = run_env(
        "spira-post",
        &["--dry-run", "--config", c],
        Some(batches(1, 1).as_bytes()),
        &[],
    );
    r.expect_code(0);
    assert!(
        r.json()[0]["url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:1/"),
        "{r}"
    );
    assert_eq!(
        r.err1(),
        format!("spira-post: warning: {c}:5: [credentials] URL is given again (first on line 2); the first is used")
    );
}

/// The `--summary-json` file, checked against its schema by spira-validate.
fn summary_json(path: &std::path::Path) -> Value {
    let schema = crate::harness::root().join("schemas/post-summary.schema.json");
    let v = crate::harness::run(
        "spira-validate",
        &[
            "--schema",
            &schema.to_string_lossy(),
            &path.to_string_lossy(),
        ],
        None,
    );
    v.expect_code(0);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_summary_json_names_the_build_and_counts_what_was_stored() {
    let t = TempDir::new("summary-json");
    let file = t.path("summary.json");
    let m = Mock::start(&["--test-cases", "1-1000"]);
    let args = [
        "--create-build",
        "CI 7",
        "--release",
        "3",
        "--summary-json",
        &file.to_string_lossy(),
    ];
    post(&m, &args, &batches(30, 10), KEY).expect_code(0);
    let s = summary_json(&file);
    let build = s["build_id"].as_u64().expect("one build");
    assert_eq!(
        s["build_url"],
        format!("{}/1/Build/{build}.aspx", m.url),
        "{s}"
    );
    assert_eq!(s["release_url"], format!("{}/1/Release/3.aspx", m.url));
    assert_eq!(
        (
            &s["build_name"],
            &s["release_id"],
            &s["runs_stored"],
            &s["batches"]
        ),
        (
            &Value::from("CI 7"),
            &Value::from(3),
            &Value::from(30),
            &Value::from(3)
        )
    );
    assert_eq!(
        (&s["runs_rejected"], &s["exit_code"]),
        (&Value::from(0), &Value::from(0))
    );

    // A rejection: the file is still written, and says so.
    let dead = t.path("dead.jsonl");
    let mut input = batches(10, 10);
    input.push_str("[{\"TestCaseId\":5000,\"ExecutionStatusId\":2,\"StartDate\":\"2024-05-14T12:00:00Z\",\"RunnerName\":\"r\",\"RunnerTestName\":\"t\",\"RunnerMessage\":\"m\",\"RunnerStackTrace\":\"\",\"TestRunFormatId\":1}]\n");
    let args = [
        "--dead-letter",
        &dead.to_string_lossy(),
        "--summary-json",
        &file.to_string_lossy(),
    ];
    post(&m, &args, &input, KEY).expect_code(1);
    let s = summary_json(&file);
    assert_eq!(
        (
            &s["runs_stored"],
            &s["runs_rejected"],
            &s["exit_code"],
            &s["build_id"]
        ),
        (
            &Value::from(10),
            &Value::from(1),
            &Value::from(1),
            &Value::Null
        )
    );

    // A journal's second run: everything found stored, nothing sent.
    let journal = t.path("j");
    let args = [
        "--journal",
        &journal.to_string_lossy(),
        "--summary-json",
        &file.to_string_lossy(),
    ];
    post(&m, &args, &batches(20, 10), KEY).expect_code(0);
    post(&m, &args, &batches(20, 10), KEY).expect_code(0);
    let s = summary_json(&file);
    assert_eq!(
        (&s["runs_stored"], &s["runs_found_stored"]),
        (&Value::from(0), &Value::from(20))
    );

    // Given with a dry run, it is refused: nothing ran that it could describe.
    post(&m, &["--dry-run", "--summary-json", "x.json"], "", KEY).expect_code(2);
}
