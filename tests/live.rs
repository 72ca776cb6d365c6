//! Live results: `go test -json | spira-parse | spira-map | spira-batch --linger | spira-post`
//! records runs while the tests still run, each filter handing on what it has before a read
//! that may wait; a finished pipeline stores the same runs with or without `--linger`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{bin, http, Mock};

use crate::harness::KEY;

/// The go test -json events of test `i`: run, output, pass (every fifth fails).
fn events(i: usize) -> String {
    let t = format!("2024-05-14T12:00:{:02}.000Z", i % 60);
    let end = if i.is_multiple_of(5) { "fail" } else { "pass" };
    format!(
        "{{\"Time\":\"{t}\",\"Action\":\"run\",\"Package\":\"example.com/live\",\"Test\":\"TestLive{i}\"}}\n\
         {{\"Time\":\"{t}\",\"Action\":\"output\",\"Package\":\"example.com/live\",\"Test\":\"TestLive{i}\",\"Output\":\"=== RUN   TestLive{i}\\n\"}}\n\
         {{\"Time\":\"{t}\",\"Action\":\"{end}\",\"Package\":\"example.com/live\",\"Test\":\"TestLive{i}\",\"Elapsed\":0.01}}\n"
    )
}

/// The pipeline, reading go test -json on its standard input, into `m`.
fn pipeline(m: &Mock, batch_args: &str) -> std::process::Child {
    let sh = format!(
        "{} - | {} --default-test-case 1 --release 3 | {} | {} {batch_args} | {} > /dev/null",
        bin("spira-parse").display(),
        bin("spira-map").display(),
        bin("spira-validate").display(),
        bin("spira-batch").display(),
        bin("spira-post").display(),
    );
    Command::new("sh")
        .args(["-c", &sh])
        .env("SPIRA_URL", &m.url)
        .env("SPIRA_USERNAME", "demo")
        .env("SPIRA_PROJECT_ID", "1")
        .env("SPIRA_API_KEY", KEY)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the pipeline")
}

/// The runs the mock holds, by test name and status, sorted.
fn stored(m: &Mock) -> Vec<(String, u64)> {
    let (_, runs, _) = http("GET", &format!("{}/__mock/runs", m.url), &[], None);
    let mut v: Vec<(String, u64)> = runs
        .lines()
        .map(|l| {
            let r: Value = serde_json::from_str(l).unwrap();
            (
                r["RunnerTestName"].as_str().unwrap_or_default().to_string(),
                r["ExecutionStatusId"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Waits until the mock holds at least `n` runs (up to 20 s); how many it holds.
fn wait_for(m: &Mock, n: u64) -> u64 {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let runs = m.stats()["runs"].as_u64().unwrap_or_default();
        if runs >= n || Instant::now() > until {
            return runs;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs the whole input through the pipeline and waits for it; the runs stored.
fn finished(m: &Mock, batch_args: &str, tests: usize) -> Vec<(String, u64)> {
    let mut p = pipeline(m, batch_args);
    let mut stdin = p.stdin.take().unwrap();
    for i in 1..=tests {
        stdin.write_all(events(i).as_bytes()).unwrap();
    }
    drop(stdin);
    let out = p.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stored(m)
}

#[test]
fn runs_reach_the_mock_while_the_tests_still_run() {
    let m = Mock::start(&["--test-cases", "1-1000"]);
    let mut p = pipeline(&m, "--linger 300ms");
    let mut stdin = p.stdin.take().unwrap();
    // Three tests finish, then the suite is busy: their runs must be stored before more comes.
    for i in 1..=3 {
        stdin.write_all(events(i).as_bytes()).unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        wait_for(&m, 3),
        3,
        "the first three runs are stored while the input is open"
    );
    // More tests, slowly: each wave is stored before the next is written.
    for wave in 0..3 {
        for i in 4 + wave * 4..8 + wave * 4 {
            stdin.write_all(events(i).as_bytes()).unwrap();
        }
        stdin.flush().unwrap();
        let want = 7 + wave as u64 * 4;
        assert_eq!(
            wait_for(&m, want),
            want,
            "wave {wave} stored while the input is open"
        );
    }
    drop(stdin);
    let out = p.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = stored(&m);
    assert_eq!(live.len(), 15);
    // The same input, all at once, with and without --linger: the same runs.
    let at_once = Mock::start(&["--test-cases", "1-1000"]);
    assert_eq!(finished(&at_once, "", 15), live);
    let lingering = Mock::start(&["--test-cases", "1-1000"]);
    assert_eq!(finished(&lingering, "--linger 300ms", 15), live);
}

#[test]
fn without_linger_a_full_batch_is_stored_while_the_input_is_open() {
    // No filter holds a finished line in its block buffer while its input is idle: a batch
    // full at 4 runs reaches the mock before the input ends.
    let m = Mock::start(&["--test-cases", "1-1000"]);
    let mut p = pipeline(&m, "--size 4");
    let mut stdin = p.stdin.take().unwrap();
    for i in 1..=5 {
        stdin.write_all(events(i).as_bytes()).unwrap();
    }
    stdin.flush().unwrap();
    assert_eq!(
        wait_for(&m, 4),
        4,
        "the full batch is stored while the input is open"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        m.stats()["runs"],
        4,
        "the fifth waits for its batch to fill"
    );
    drop(stdin);
    assert!(p.wait().unwrap().success());
    assert_eq!(m.stats()["runs"], 5);
}

#[test]
fn linger_takes_durations_and_refuses_what_is_not_one() {
    for bad in ["0s", "5x", "", "-1s", "2d"] {
        let r = crate::harness::run("spira-batch", &[&format!("--linger={bad}")], Some(b""));
        r.expect_code(2);
        assert!(r.stderr.contains("--linger"), "{bad}: {r}");
    }
    let run = "{\"TestCaseId\":1,\"ExecutionStatusId\":2}\n";
    for good in ["5s", "500ms", "0.25s", "1m", "2"] {
        let r = crate::harness::run("spira-batch", &["--linger", good], Some(run.as_bytes()));
        r.expect_code(0);
        assert_eq!(r.stdout, format!("[{}]\n", run.trim_end()), "{good}");
    }
}
