//! spira-post and spira-ids against a hostile server: one that echoes the credentials, redirects
//! elsewhere, answers late, confirms less than it stored, answers what is not a run list, asks
//! for endless waits or writes escape sequences. Each server is a real process on loopback: a
//! spira-mock, or a small server of `tests/server.rs` in front of one.

use serde_json::Value;

use crate::harness::{run_env, Mock, Run, TempDir};
use crate::server::{forward, Req, Resp, Server};

use crate::harness::KEY;

/// `n` distinct runs in batches of `size`.
fn batches(n: usize, size: usize) -> String {
    let runs: Vec<String> = (1..=n)
        .map(|i| format!("{{\"TestCaseId\":{},\"ExecutionStatusId\":2,\"StartDate\":\"2024-05-14T12:00:00.000Z\",\"RunnerName\":\"r\",\"RunnerTestName\":\"t{i}\",\"RunnerMessage\":\"m\",\"RunnerStackTrace\":\"\",\"TestRunFormatId\":1}}", i % 100 + 1))
        .collect();
    runs.chunks(size)
        .map(|c| format!("[{}]\n", c.join(",")))
        .collect()
}

fn env(url: &str, key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("SPIRA_URL", url.to_string()),
        ("SPIRA_USERNAME", "demo".into()),
        ("SPIRA_PROJECT_ID", "1".into()),
        ("SPIRA_API_KEY", key.into()),
    ]
}

/// Runs `tool` against `url`, and checks that no form of the key shows anywhere it wrote.
fn tool(name: &str, url: &str, args: &[&str], input: &str) -> Run {
    let e = env(url, KEY);
    let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_env(name, args, Some(input.as_bytes()), &e);
    no_secret(&r.stdout, &r.stderr);
    r
}

/// Neither the key, its percent-encoded form, nor HTTP Basic's base64 of `demo:KEY` is in
/// `texts`.
fn no_secret(stdout: &str, stderr: &str) {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("demo:{KEY}"));
    for text in [stdout, stderr] {
        for form in [KEY, "%7B00000000-DEMO-KEY0", basic.as_str()] {
            assert!(
                !text.contains(form),
                "a form of the key shows: {form}\n{text}"
            );
        }
    }
}

/// The mock's stored runs.
fn stored(m: &Mock) -> usize {
    m.stats()["runs"].as_u64().unwrap() as usize
}

#[test]
fn an_echoed_basic_credential_is_redacted_everywhere() {
    for status in [400, 401, 403, 500] {
        let echo = Server::start(move |r: &Req| Resp::new(status, r.echo()));
        let t = TempDir::new("echo");
        let dead = t.path("dead.jsonl");
        let r = tool(
            "spira-post",
            &echo.url,
            &[
                "--auth",
                "basic",
                "--retries",
                "1",
                "--backoff-ms",
                "1",
                "--dead-letter",
                &dead.to_string_lossy(),
            ],
            &batches(2, 2),
        );
        assert_ne!(r.code, 0, "{r}");
        assert!(echo.requests()[0]
            .header("authorization")
            .unwrap()
            .starts_with("Basic "));
        let letter = std::fs::read_to_string(&dead).unwrap_or_default();
        no_secret(&letter, "");
        if status == 400 {
            assert!(
                letter.contains("Basic ***"),
                "the echo is kept, redacted: {letter}"
            );
        }
        let r = tool("spira-ids", &echo.url, &["--auth", "basic"], "");
        assert_eq!(r.code, 3, "{r}");
    }
}

#[test]
fn a_key_echoed_in_a_200_answer_is_redacted_from_the_created_lines() {
    let m = Mock::start(&[]);
    let mock = m.url.clone();
    let proxy = Server::start(move |r: &Req| {
        let mut resp = forward(&mock, r);
        if r.target.ends_with("record-multiple") && resp.status == 200 {
            let key = r.header("api-key").unwrap_or("").to_string();
            let mut v: Value = serde_json::from_slice(&resp.body).unwrap();
            for run in v.as_array_mut().unwrap() {
                run["Echo"] = Value::from(format!("key {key} seen"));
            }
            resp.body = v.to_string().into_bytes();
        }
        resp
    });
    let r = tool("spira-post", &proxy.url, &[], &batches(4, 2));
    r.expect_code(0);
    let created = r.json();
    assert_eq!(created.len(), 4);
    for c in &created {
        assert_eq!(c["Echo"], "key *** seen", "{c}");
        assert!(c["TestRunId"].as_u64().unwrap() > 0 && c["RunnerTestName"].is_string());
    }
}

#[test]
fn a_redirect_is_never_followed_and_no_credential_goes_elsewhere() {
    let elsewhere = Server::start(|_: &Req| Resp::new(200, "[]"));
    for status in [301, 302, 307, 308] {
        let target = format!(
            "{}/Services/v7_0/RestService.svc/projects/1/test-runs/record-multiple",
            elsewhere.url
        );
        let redirecting =
            Server::start(move |_: &Req| Resp::new(status, "").with("Location", &target));
        let r = tool("spira-post", &redirecting.url, &[], &batches(3, 3));
        r.expect_code(3);
        assert!(r.stdout.is_empty(), "nothing reported stored\n{r}");
        assert!(
            r.stderr.contains(&format!(
                "answered {status}, a redirect to {}",
                elsewhere.url
            )),
            "{r}"
        );
        let r = tool("spira-ids", &redirecting.url, &[], "");
        r.expect_code(3);
        assert!(r.stderr.contains("redirects are not followed"), "{r}");
    }
    assert!(
        elsewhere.requests().is_empty(),
        "the other host got requests"
    );
}

#[test]
fn a_key_or_user_name_that_no_header_can_carry_is_refused_at_once() {
    let m = Mock::start(&[]);
    let t = TempDir::new("keys");
    let bom = t.path("bom.key");
    std::fs::write(&bom, format!("\u{feff}{KEY}\n")).unwrap();
    type Case<'a> = (Vec<(&'a str, String)>, Vec<String>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![],
            vec!["--api-key-file".into(), bom.display().to_string()],
            "the API key starts with a byte-order mark",
        ),
        (
            vec![("SPIRA_API_KEY", format!("{KEY}\r"))],
            vec![],
            "the API key holds a carriage return",
        ),
        (
            vec![("SPIRA_API_KEY", format!("{KEY}\t"))],
            vec![],
            "the API key holds a tab",
        ),
        (
            vec![("SPIRA_API_KEY", "{KÉY}".into())],
            vec![],
            "the API key holds a character beyond ASCII",
        ),
        (
            vec![("SPIRA_USERNAME", "frédéric".into())],
            vec![],
            "the user name holds a character beyond ASCII",
        ),
    ];
    for (extra, args, want) in cases {
        let mut e = env(&m.url, KEY);
        for (k, v) in &extra {
            e.retain(|(n, _)| n != k);
            e.push((k, v.clone()));
        }
        let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run_env("spira-post", &args, Some(batches(2, 2).as_bytes()), &e);
        r.expect_code(2);
        assert!(r.err1().starts_with(&format!("spira-post: {want}")), "{r}");
        assert!(!r.stderr.contains("DEMO-KEY"), "{r}");
    }
    assert_eq!(m.stats()["requests"], 0, "nothing was sent");
}

#[test]
fn every_printable_ascii_key_passes_through_every_auth_form() {
    let key = "{A b%+/=~!:@&\"'\\}";
    let m = Mock::start(&["--api-key", key]);
    let t = TempDir::new("keyfile");
    let file = t.path("key");
    std::fs::write(&file, format!("{key}\r\n")).unwrap();
    for auth in ["headers", "query", "basic"] {
        let mut e = env(&m.url, key);
        e.retain(|(k, _)| *k != "SPIRA_API_KEY");
        let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let args = ["--auth", auth, "--api-key-file", file.to_str().unwrap()];
        let r = run_env("spira-post", &args, Some(batches(2, 2).as_bytes()), &e);
        r.expect_code(0);
        assert!(!r.stderr.contains(key), "{r}");
    }
    assert_eq!(stored(&m), 6);
}

#[test]
fn a_bad_key_with_three_jobs_sends_one_request() {
    let m = Mock::start(&[]);
    let e = env(&m.url, "{WRONG}");
    let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_env(
        "spira-post",
        &["--jobs", "3"],
        Some(batches(60, 10).as_bytes()),
        &e,
    );
    r.expect_code(3);
    assert_eq!(m.stats()["requests"], 1, "{r}");
}

#[test]
fn a_timeout_after_the_runs_were_stored_is_reconciled_not_sent_again() {
    let m = Mock::start(&[]);
    let mock = m.url.clone();
    // record-multiple is carried out at once, but its answer comes after the client's timeout.
    let slow = Server::start(move |r: &Req| {
        let resp = forward(&mock, r);
        if r.target.ends_with("record-multiple") {
            std::thread::sleep(std::time::Duration::from_millis(2500));
        }
        resp
    });
    let r = tool(
        "spira-post",
        &slow.url,
        &["--timeout", "1", "--backoff-ms", "1"],
        &batches(3, 3),
    );
    r.expect_code(0);
    assert_eq!(stored(&m), 3, "stored once, not once per attempt\n{r}");
    let summary = r.stderr.lines().last().unwrap();
    assert!(summary.contains("0 runs possibly duplicated"), "{summary}");
    assert!(
        summary.contains("reconciled 3 runs found stored"),
        "{summary}"
    );
    assert_eq!(r.json().len(), 3);
}

#[test]
fn a_200_that_does_not_confirm_every_run_is_reconciled() {
    type Mangle = fn(&mut Vec<Value>);
    let mangles: [(&str, Mangle); 4] = [
        ("fewer", |v| {
            v.pop();
        }),
        ("a null", |v| v[1] = Value::Null),
        ("no TestRunId", |v| {
            v[0].as_object_mut().unwrap().remove("TestRunId");
        }),
        ("one ID twice", |v| {
            let id = v[0]["TestRunId"].clone();
            v[2]["TestRunId"] = id;
        }),
    ];
    for (what, mangle) in mangles {
        let m = Mock::start(&[]);
        let mock = m.url.clone();
        let proxy = Server::start(move |r: &Req| {
            let mut resp = forward(&mock, r);
            if r.target.ends_with("record-multiple") && resp.status == 200 {
                let mut v: Vec<Value> = serde_json::from_slice(&resp.body).unwrap();
                mangle(&mut v);
                resp.body = serde_json::to_vec(&v).unwrap();
            }
            resp
        });
        let r = tool("spira-post", &proxy.url, &[], &batches(8, 4));
        r.expect_code(0);
        assert_eq!(stored(&m), 8, "{what}: every run once\n{r}");
        assert_eq!(m.stats()["duplicates"], 0, "{what}");
        assert_eq!(r.json().len(), 8, "{what}: a created line per run\n{r}");
    }
}

#[test]
fn a_200_that_is_not_a_run_list_is_uncertain_and_the_journal_says_so_alike() {
    let m = Mock::start(&[]);
    let mock = m.url.clone();
    let proxy = Server::start(move |r: &Req| {
        let mut resp = forward(&mock, r);
        if r.target.ends_with("record-multiple") && resp.status == 200 {
            resp.body = b"<html>OK</html>".to_vec();
        }
        resp
    });
    let t = TempDir::new("notarray");
    let journal = t.path("j");
    let r = tool(
        "spira-post",
        &proxy.url,
        &["--journal", journal.to_str().unwrap()],
        &batches(4, 4),
    );
    r.expect_code(0);
    assert_eq!(stored(&m), 4);
    assert_eq!(r.json().len(), 4, "{r}");
    let summary = r.stderr.lines().last().unwrap();
    assert!(
        summary.contains("4 runs stored") && summary.contains("reconciled 4 runs found stored"),
        "{summary}"
    );
    let j = std::fs::read_to_string(&journal).unwrap();
    assert!(
        j.contains("\"state\":\"reconciled\"") && j.contains("\"state\":\"stored\""),
        "{j}"
    );
}

#[test]
fn retry_after_is_capped_and_said() {
    let m = Mock::start(&[]);
    let mock = m.url.clone();
    let first = std::sync::atomic::AtomicBool::new(true);
    let proxy = Server::start(move |r: &Req| {
        if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return Resp::new(429, "slow down").with("Retry-After", "999999999");
        }
        forward(&mock, r)
    });
    let started = std::time::Instant::now();
    let r = tool(
        "spira-post",
        &proxy.url,
        &["--max-wait", "1"],
        &batches(2, 2),
    );
    r.expect_code(0);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(
        r.stderr
            .contains("the server asks to wait 999999999 s (Retry-After), capped; retry 1 in 1 s"),
        "{r}"
    );
    assert_eq!(stored(&m), 2);
}

#[test]
fn escape_sequences_in_a_server_message_are_shown_escaped() {
    let evil = Server::start(|_: &Req| Resp::new(400, "\u{1b}[2J\u{1b}[31mgone\u{9b}1m\u{7}"));
    let t = TempDir::new("ansi");
    let dead = t.path("dead.jsonl");
    let r = tool(
        "spira-post",
        &evil.url,
        &["--dead-letter", dead.to_str().unwrap()],
        &batches(1, 1),
    );
    r.expect_code(1);
    assert!(
        !r.stderr.contains('\u{1b}') && !r.stderr.contains('\u{9b}') && !r.stderr.contains('\u{7}'),
        "{r}"
    );
    assert!(
        r.stderr.contains("\\x1b[2J\\x1b[31mgone\\u{9b}1m\\x07"),
        "{r}"
    );
}

/// Runs spira-post against `m` with its stdout going to `out`, `input` on its stdin.
fn post_to(m: &Mock, args: &[&str], input: &str, out: std::process::Stdio) -> std::process::Child {
    use std::io::Write;
    let mut cmd = std::process::Command::new(crate::harness::bin("spira-post"));
    cmd.args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(out)
        .stderr(std::process::Stdio::piped());
    for (k, v) in env(&m.url, KEY) {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    child
}

#[test]
fn a_closed_or_full_stdout_stops_the_upload_and_says_what_was_not_sent() {
    use std::io::{BufRead, Read};
    // A reader that takes one line and goes (`| head -1`).
    let m = Mock::start(&["--latency-ms", "30"]);
    let t = TempDir::new("closed");
    let journal = t.path("j");
    let mut child = post_to(
        &m,
        &["--journal", journal.to_str().unwrap()],
        &batches(100, 5),
        std::process::Stdio::piped(),
    );
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    drop(out);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("standard output was closed: the upload stopped;"),
        "{err}"
    );
    let before = stored(&m);
    assert!(before < 100, "it stopped: {before} stored");
    assert!(
        err.contains(&format!("{before} runs were stored before")),
        "{err}"
    );
    // What was stored is in the journal: a resume sends only the rest, once.
    let e = env(&m.url, KEY);
    let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_env(
        "spira-post",
        &["--journal", journal.to_str().unwrap()],
        Some(batches(100, 5).as_bytes()),
        &e,
    );
    r.expect_code(0);
    assert_eq!(r.json().len(), 100 - before, "{r}");
    assert_eq!(stored(&m), 100);
    // A full disk behind stdout.
    let m = Mock::start(&[]);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut child = post_to(&m, &[], &batches(20, 5), std::process::Stdio::from(full));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(1), "{err}");
    assert!(
        err.contains(
            "cannot write to standard output: No space left on device: the upload stopped"
        ),
        "{err}"
    );
}

#[test]
fn a_line_that_is_not_a_batch_stops_the_upload_and_says_how_many_lines_were_left() {
    let m = Mock::start(&[]);
    let input = format!(
        "{}{{\"not\":\"a batch\"}}\n{}",
        batches(10, 5),
        batches(15, 5)
    );
    let r = tool("spira-post", &m.url, &[], &input);
    r.expect_code(1);
    assert_eq!(stored(&m), 10);
    assert!(
        r.stderr
            .contains("<stdin>:3: not a batch: expected a JSON array of run objects"),
        "{r}"
    );
    assert!(
        r.stderr
            .contains("the upload stopped there: 3 batch lines after it were not sent"),
        "{r}"
    );
}

#[test]
fn an_unwritable_dead_letter_file_is_refused_first_or_stops_the_upload() {
    let m = Mock::start(&[]);
    let r = tool(
        "spira-post",
        &m.url,
        &["--dead-letter", "/nonexistent/dir/dead.jsonl"],
        &batches(5, 5),
    );
    r.expect_code(2);
    assert!(
        r.err1().starts_with(
            "spira-post: cannot write the dead-letter file '/nonexistent/dir/dead.jsonl'"
        ),
        "{r}"
    );
    assert_eq!(m.stats()["requests"], 0, "nothing sent");
    // Writable at first, full when a rejection comes: the upload stops and says so.
    let m = Mock::start(&["--test-cases", "1-1000"]);
    let input = batches(5, 5).replacen("\"TestCaseId\":2,", "\"TestCaseId\":5000,", 1);
    let r = tool(
        "spira-post",
        &m.url,
        &["--dead-letter", "/dev/full"],
        &format!("{input}{}", batches(5, 5)),
    );
    r.expect_code(2);
    assert!(r.stderr.contains("cannot write the dead-letter file '/dev/full': No space left on device: the 1 rejected runs of <stdin>:1 were NOT saved"), "{r}");
    let summary = r.stderr.lines().last().unwrap();
    assert!(summary.contains("1 runs rejected"), "{summary}");
}

#[test]
fn uploads_started_at_once_in_one_directory_all_pass_the_dead_letter_check() {
    // Shards or parallel jobs in one working directory share the default dead-letter name:
    // checking it must never make one of them fail (CI once saw "File exists" here).
    use std::process::{Command, Stdio};
    let m = Mock::start(&[]);
    let t = TempDir::new("concurrent-dead-letter");
    for round in 0..20 {
        let children: Vec<_> = (0..16)
            .map(|_| {
                let mut cmd = Command::new(crate::harness::bin("spira-post"));
                cmd.current_dir(t.path("."))
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped());
                for (k, v) in env(&m.url, KEY) {
                    cmd.env(k, v);
                }
                cmd.spawn().unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "round {round}: {err}");
        }
    }
    let left: Vec<_> = std::fs::read_dir(t.path(".")).unwrap().collect();
    assert!(
        left.is_empty(),
        "no probe file or dead letter is left: {left:?}"
    );
}

#[test]
fn a_404_on_the_api_path_is_a_configuration_error_not_a_rejected_batch() {
    let m = Mock::start(&[]);
    m.expect_nonconforming();
    let t = TempDir::new("404");
    let dead = t.path("dead.jsonl");
    let d = dead.to_str().unwrap();
    // A wrong path prefix, and a project that does not exist.
    for (url, project) in [(format!("{}/spira", m.url), "1"), (m.url.clone(), "77")] {
        let mut e = env(&url, KEY);
        e[2].1 = project.into();
        let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = run_env(
            "spira-post",
            &["--dead-letter", d],
            Some(batches(6, 2).as_bytes()),
            &e,
        );
        r.expect_code(2);
        no_secret(&r.stdout, &r.stderr);
        assert!(
            r.stderr
                .contains("the URL does not reach Spira's REST API for this project; check --url"),
            "{url} {project}\n{r}"
        );
        assert!(!r.stderr.contains("may have stored"), "{r}");
        assert!(
            std::fs::read_to_string(&dead)
                .unwrap_or_default()
                .is_empty(),
            "{r}"
        );
        let ids = run_env("spira-ids", &[], None, &e);
        ids.expect_code(2);
        assert!(ids.stderr.contains("check --url"), "{ids}");
    }
    assert_eq!(stored(&m), 0);
}

#[test]
fn an_answer_far_larger_than_any_spira_answer_is_not_read_whole() {
    // 80 MB of answer to a batch of two runs: read up to 64 MiB, then the batch is uncertain,
    // and reconciliation finds the runs stored.
    let m = Mock::start(&[]);
    let mock = m.url.clone();
    let proxy = Server::start(move |r: &Req| {
        let resp = forward(&mock, r);
        if r.target.ends_with("record-multiple") {
            return Resp::new(200, vec![b' '; 80 << 20]);
        }
        resp
    });
    let r = tool("spira-post", &proxy.url, &["--verbose"], &batches(2, 2));
    r.expect_code(0);
    assert!(r.stderr.contains("<stdin>:1: the answer is larger than 64 MiB, more than Spira's answer to this request can be; listing what the server holds to settle 2 runs"), "{r}");
    assert_eq!(stored(&m), 2, "{r}");
    assert_eq!(m.stats()["duplicates"], 0);
    assert_eq!(r.json().len(), 2, "{r}");
}

/// SIGINT or SIGTERM: the upload stops cleanly, says what was stored and not sent, and exits
/// 128 + the signal; a resume with the journal sends only the rest, once.
#[test]
#[cfg(unix)]
fn sigint_and_sigterm_stop_the_upload_with_a_summary() {
    use std::io::{BufRead, Read};
    for (sig, name, code) in [("INT", "SIGINT", 130), ("TERM", "SIGTERM", 143)] {
        let m = Mock::start(&["--latency-ms", "30"]);
        let t = TempDir::new("signal");
        let journal = t.path("j");
        let j = journal.to_str().unwrap();
        let mut child = post_to(
            &m,
            &["--journal", j],
            &batches(200, 5),
            std::process::Stdio::piped(),
        );
        // Once a batch is stored, the signal.
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let kill = std::process::Command::new("kill")
            .args([&format!("-{sig}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let mut rest = String::new();
        out.read_to_string(&mut rest).unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(code), "{err}");
        let before = stored(&m);
        assert!(before < 200, "it stopped: {before} stored\n{err}");
        assert_eq!(
            1 + rest.lines().count(),
            before,
            "a created line per run stored\n{err}"
        );
        assert!(
            err.contains(&format!("{name}: stopping: no new request is sent")),
            "{err}"
        );
        assert!(
            err.contains(&format!("{name}: the upload stopped; {before} runs were stored before (the journal has them), {} were not sent", 200 - before)),
            "{err}"
        );
        assert!(
            err.contains(&format!("{} runs stored", before)),
            "the summary\n{err}"
        );
        let e = env(&m.url, KEY);
        let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = run_env(
            "spira-post",
            &["--journal", j],
            Some(batches(200, 5).as_bytes()),
            &e,
        );
        r.expect_code(0);
        assert_eq!(r.json().len(), 200 - before, "{r}");
        assert_eq!(stored(&m), 200);
        assert_eq!(m.stats()["duplicates"], 0);
    }
}

#[test]
fn a_failed_connection_through_a_proxy_names_the_proxy() {
    let m = Mock::start(&[]);
    let base = env(&m.url, KEY);
    let cases = [
        (
            "HTTP_PROXY",
            "nonsense.invalid",
            "through the proxy http://nonsense.invalid:80 from HTTP_PROXY",
        ),
        (
            "ALL_PROXY",
            "socks5://127.0.0.1:1",
            "through the proxy socks5://127.0.0.1:1 from ALL_PROXY",
        ),
    ];
    for (var, value, said) in cases {
        let mut e: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
        e.push((var, value));
        let r = run_env("spira-ids", &[], None, &e);
        r.expect_code(3);
        assert!(r.stderr.contains(said), "{r}");
        let r = run_env(
            "spira-post",
            &["--retries", "0"],
            Some(batches(2, 2).as_bytes()),
            &e,
        );
        r.expect_code(3);
        assert!(r.stderr.contains(said), "{r}");
        // NO_PROXY naming the host: straight to the mock.
        e.push(("NO_PROXY", "localhost,127.0.0.1"));
        run_env("spira-ids", &[], None, &e).expect_code(0);
    }
    assert_eq!(
        stored(&m),
        0,
        "nothing reached the mock through a proxy that is not there"
    );
    // A proxy variable that is not a URL is a configuration error, its value never shown.
    let mut e: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    e.push(("HTTPS_PROXY", "http://user:s3cret@[bad"));
    let r = run_env("spira-ids", &[], None, &e);
    r.expect_code(2);
    assert!(r.stderr.contains("HTTPS_PROXY is not a proxy URL"), "{r}");
    assert!(!r.stderr.contains("s3cret"), "{r}");
}

#[test]
fn runs_are_sent_and_dead_lettered_byte_for_byte_as_given() {
    // Members out of order, white space, an integer no float holds, an escaped key, and
    // spira-pipe's own `_Attachments`, which alone is left out of the request.
    let run = r#"{"TestRunFormatId":1, "StartDate":"2024-05-14T12:00:00.000Z","_Attachments":["a.log"],"ExecutionStatusId":2,"TestCaseId":5,"RunnerName":"r","RunnerTestName":"t","RunnerMessage":"m","RunnerStackTrace":"","Big":99999999999999999999999,"Tab\tKey":"x"}"#;
    let server = Server::start(|_: &Req| Resp::new(400, "Test run 1 of 1: Big is not a field"));
    let t = TempDir::new("asgiven");
    let dead = t.path("dead.jsonl");
    let r = tool(
        "spira-post",
        &server.url,
        &["--dead-letter", dead.to_str().unwrap()],
        &format!("[{run}]\n"),
    );
    r.expect_code(1);
    let sent = server.requests();
    assert_eq!(sent.len(), 1, "{r}");
    assert_eq!(
        String::from_utf8_lossy(&sent[0].body),
        r#"[{"TestRunFormatId":1,"StartDate":"2024-05-14T12:00:00.000Z","ExecutionStatusId":2,"TestCaseId":5,"RunnerName":"r","RunnerTestName":"t","RunnerMessage":"m","RunnerStackTrace":"","Big":99999999999999999999999,"Tab\tKey":"x"}]"#
    );
    let record = std::fs::read_to_string(&dead).unwrap();
    assert!(record.contains(&format!("\"runs\":[{run}]")), "{record}");
}
