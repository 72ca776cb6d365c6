//! `spira-post --build-name`: shards of one CI run find or create one build, converge on it
//! when they raced, and a rerun with no journal sends only what the build does not hold; the
//! CI run on the build. Against the real spira-mock.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::harness::{bin, http, run_env, Mock, TempDir, AUTH};

use crate::harness::{CI_VARS, KEY};

/// Shard `k`'s batch file: `n` runs of its own test cases, in batches of 10.
fn shard(t: &TempDir, k: usize, n: usize) -> std::path::PathBuf {
    let runs: Vec<String> = (1..=n)
        .map(|i| format!("{{\"TestCaseId\":{},\"ExecutionStatusId\":{},\"StartDate\":\"2024-05-14T12:{:02}:{:02}.000Z\",\"RunnerName\":\"ci\",\"RunnerTestName\":\"shard{k}.t{i}\",\"RunnerMessage\":\"m\",\"RunnerStackTrace\":\"\",\"TestRunFormatId\":1}}", k * 100 + i, if i == 3 { 1 } else { 2 }, k, i))
        .collect();
    let text: String = runs
        .chunks(10)
        .map(|c| format!("[{}]\n", c.join(",")))
        .collect();
    let p = t.path(&format!("shard-{k}.jsonl"));
    std::fs::write(&p, text).unwrap();
    p
}

/// spira-post against `m` with `args`, no CI variables but those given.
fn post(m: &Mock, dir: &TempDir, args: &[&str], ci: &[(&str, &str)]) -> Command {
    let mut c = Command::new(bin("spira-post"));
    c.args(args)
        .current_dir(&dir.0)
        .env("SPIRA_URL", &m.url)
        .env("SPIRA_USERNAME", "demo")
        .env("SPIRA_PROJECT_ID", "1")
        .env("SPIRA_API_KEY", KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for v in CI_VARS {
        c.env_remove(v);
    }
    for (k, v) in ci {
        c.env(k, v);
    }
    c
}

/// spira-post against `m` run to its end; the test fails unless it succeeded.
fn posted(m: &Mock, dir: &TempDir, args: &[&str], ci: &[(&str, &str)]) -> std::process::Output {
    let out = post(m, dir, args, ci).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The build of release 3 named `name`.
fn build_named(m: &Mock, name: &str) -> Value {
    builds(m)
        .into_iter()
        .find(|b| b["Name"] == name)
        .unwrap_or_else(|| panic!("no build named {name}"))
}

/// The builds of release 3.
fn builds(m: &Mock) -> Vec<Value> {
    let (_, body, _) = http(
        "GET",
        &format!("{}/releases/3/builds", m.api()),
        &AUTH,
        None,
    );
    serde_json::from_str(&body).unwrap()
}

/// The runs the mock holds.
fn runs(m: &Mock) -> Vec<Value> {
    let (_, runs, _) = http("GET", &format!("{}/__mock/runs", m.url), &[], None);
    runs.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn summary(dir: &TempDir, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.path(name)).unwrap()).unwrap()
}

/// Runs the commands at once; each one's exit code and stderr.
fn all_at_once(cmds: Vec<Command>) -> Vec<(i32, String)> {
    let children: Vec<_> = cmds.into_iter().map(|mut c| c.spawn().unwrap()).collect();
    children
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            (
                o.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .collect()
}

#[test]
fn eight_shards_at_once_make_one_build_and_reruns_store_nothing_twice() {
    let t = TempDir::new("shards");
    // A far-away server: the eight listings all come before any creation, so the shards race.
    let m = Mock::start(&[
        "--test-cases",
        "1-1000",
        "--threads",
        "16",
        "--latency-ms",
        "100",
    ]);
    let files: Vec<String> = (1..=8)
        .map(|k| shard(&t, k, 25).to_string_lossy().into_owned())
        .collect();
    let cmd = |k: usize| {
        let s = format!("s{k}.json");
        let args = [
            "--build-name",
            "CI 42",
            "--release",
            "3",
            "--summary-json",
            &s,
            &files[k - 1],
        ];
        post(&m, &t, &args, &[])
    };
    let ends = all_at_once((1..=8).map(cmd).collect());
    for (code, err) in &ends {
        assert_eq!(*code, 0, "{err}");
    }
    // Every run stored once, all in one build.
    let stored = runs(&m);
    assert_eq!(stored.len(), 200);
    let build = stored[0]["BuildId"].as_u64().unwrap();
    assert!(
        stored.iter().all(|r| r["BuildId"] == build),
        "every run in BL:{build}"
    );
    // Builds created in the race hold nothing, and each was said on stderr.
    let named: Vec<u64> = builds(&m)
        .iter()
        .filter(|b| b["Name"] == "CI 42")
        .map(|b| b["BuildId"].as_u64().unwrap())
        .collect();
    assert_eq!(
        named.iter().min(),
        Some(&build),
        "the lowest is the one used"
    );
    let stderr: String = ends.iter().map(|(_, e)| e.as_str()).collect();
    for empty in named.iter().filter(|&&b| b != build) {
        assert!(
            stderr.contains(&format!(
                "build BL:{empty} 'CI 42' in release RL:3 is left empty"
            )),
            "BL:{empty} left empty without a word\n{stderr}"
        );
    }
    assert_eq!(
        stderr.matches("is left empty").count(),
        named.len() - 1,
        "one word per empty build"
    );
    assert_eq!(m.stats()["builds_by_name"]["CI 42"], named.len());
    for k in 1..=8 {
        assert_eq!(summary(&t, &format!("s{k}.json"))["build_id"], build);
    }

    // Three shards run again, no journal: nothing stored, exit 0, the summary says why.
    let ends = all_at_once((1..=3).map(cmd).collect());
    for (code, err) in &ends {
        assert_eq!(*code, 0, "{err}");
        assert!(
            err.contains("25 runs found already stored in the build"),
            "{err}"
        );
    }
    assert_eq!(runs(&m).len(), 200, "a rerun stores nothing twice");
    for k in 1..=3 {
        let s = summary(&t, &format!("s{k}.json"));
        assert_eq!(
            (&s["runs_stored"], &s["runs_found_stored"]),
            (&Value::from(0), &Value::from(25))
        );
    }

    // A new execution of one test (another start) is stored; the rest is found.
    let again = std::fs::read_to_string(&files[0]).unwrap().replace(
        "\"StartDate\":\"2024-05-14T12:01:07.000Z\"",
        "\"StartDate\":\"2024-05-15T08:00:00.000Z\"",
    );
    std::fs::write(t.path("shard-1-again.jsonl"), again).unwrap();
    posted(
        &m,
        &t,
        &[
            "--build-name",
            "CI 42",
            "--release",
            "3",
            "--summary-json",
            "s.json",
            "shard-1-again.jsonl",
        ],
        &[],
    );
    let s = summary(&t, "s.json");
    assert_eq!(
        (&s["runs_stored"], &s["runs_found_stored"]),
        (&Value::from(1), &Value::from(24))
    );
    assert_eq!(runs(&m).len(), 201);
}

#[test]
fn the_fan_in_pattern_run_twice_makes_one_build_with_no_duplicates() {
    let t = TempDir::new("fan-in");
    let m = Mock::start(&["--test-cases", "1-1000"]);
    let files: Vec<String> = (1..=4)
        .map(|k| shard(&t, k, 30).to_string_lossy().into_owned())
        .collect();
    for round in 0..2 {
        let mut args = vec![
            "--build-name",
            "Fan 7",
            "--release",
            "3",
            "--jobs",
            "3",
            "--summary-json",
            "s.json",
        ];
        args.extend(files.iter().map(String::as_str));
        let out = posted(&m, &t, &args, &[]);
        let s = summary(&t, "s.json");
        let stored = if round == 0 { 120 } else { 0 };
        assert_eq!(
            (&s["runs_stored"], &s["runs_found_stored"]),
            (&Value::from(stored), &Value::from(120 - stored))
        );
        // The created lines are every run, found or stored, with its TestRunId.
        let created = String::from_utf8_lossy(&out.stdout).lines().count();
        assert_eq!(created, 120);
    }
    assert_eq!(runs(&m).len(), 120);
    assert_eq!(m.stats()["builds_by_name"]["Fan 7"], 1);
    // With a journal too: the journal's build is used.
    let j = t.path("j").to_string_lossy().into_owned();
    let mut args = vec!["--build-name", "Fan 7", "--release", "3", "--journal", &j];
    args.extend(files.iter().map(String::as_str));
    posted(&m, &t, &args, &[]);
    assert_eq!(runs(&m).len(), 120);
    assert_eq!(m.stats()["builds_by_name"]["Fan 7"], 1);
}

#[test]
fn the_ci_run_goes_on_the_build_and_the_status_can_be_set() {
    let t = TempDir::new("ci-build");
    let m = Mock::start(&["--test-cases", "1-1000"]);
    let file = shard(&t, 1, 5).to_string_lossy().into_owned();
    let gitlab = [
        ("GITLAB_CI", "true"),
        ("CI_PROJECT_PATH", "acme/shop"),
        ("CI_PIPELINE_IID", "7"),
        ("CI_JOB_NAME", "spira"),
        ("CI_JOB_URL", "https://gitlab.example/acme/shop/-/jobs/55"),
        ("CI_COMMIT_SHA", "def456"),
    ];
    posted(
        &m,
        &t,
        &[
            "--build-name",
            "GL 7",
            "--release",
            "3",
            "--summary-json",
            "s.json",
            &file,
        ],
        &gitlab,
    );
    let b = build_named(&m, "GL 7");
    assert_eq!(
        b["Description"],
        "GitLab CI: acme/shop #7 job spira (https://gitlab.example/acme/shop/-/jobs/55)\n5 runs, 1 failed or blocked; recorded by spira-post"
    );
    assert_eq!(
        b["Revisions"],
        serde_json::json!([{"RevisionKey": "def456"}])
    );
    assert_eq!(b["BuildStatusId"], 1, "a run failed");
    let s = summary(&t, "s.json");
    assert_eq!(s["ci"]["url"], "https://gitlab.example/acme/shop/-/jobs/55");
    // Given on the command line, and a status the pipeline knows.
    posted(
        &m,
        &t,
        &[
            "--create-build",
            "Manual",
            "--release",
            "3",
            "--revision",
            "aaa",
            "--revision",
            "bbb",
            "--build-url",
            "https://ci.example/9",
            "--build-status",
            "passed",
            &file,
        ],
        &[],
    );
    let b = build_named(&m, "Manual");
    assert_eq!(
        b["Revisions"],
        serde_json::json!([{"RevisionKey": "aaa"}, {"RevisionKey": "bbb"}])
    );
    assert!(
        b["Description"]
            .as_str()
            .unwrap()
            .starts_with("CI job: https://ci.example/9\n"),
        "{b}"
    );
    assert_eq!(b["BuildStatusId"], 2, "--build-status passed");
}

#[test]
fn the_dry_run_shows_the_listing_and_the_creation_it_would_make() {
    let t = TempDir::new("ci-dry");
    let m = Mock::start(&[]);
    let file = shard(&t, 1, 3).to_string_lossy().into_owned();
    let r = run_env(
        "spira-post",
        &["--dry-run", "--build-name", "CI 1", "--release", "3", &file],
        None,
        &[
            ("SPIRA_URL", &m.url),
            ("SPIRA_USERNAME", "demo"),
            ("SPIRA_PROJECT_ID", "1"),
        ],
    );
    r.expect_code(0);
    let lines = r.json();
    assert_eq!(lines[0]["method"], "GET");
    assert!(lines[0]["url"]
        .as_str()
        .unwrap()
        .ends_with("/projects/1/releases/3/builds"));
    assert_eq!(lines[0]["body"], Value::Null);
    assert_eq!(
        (&lines[1]["method"], &lines[1]["body"]["Name"]),
        (&Value::from("POST"), &Value::from("CI 1"))
    );
    assert_eq!(m.stats()["requests"], 0);
    // Both flags at once are refused.
    let r = run_env(
        "spira-post",
        &["--dry-run", "--build-name", "a", "--create-build", "b"],
        None,
        &[],
    );
    r.expect_code(2);
}

#[test]
fn the_mock_searches_a_release_s_builds_by_name_sorted_and_paged() {
    let m = Mock::start(&[]);
    let url = format!("{}/releases/3/builds", m.api());
    for name in ["A", "B", "A"] {
        let body = format!("{{\"ProjectId\":1,\"ReleaseId\":3,\"BuildStatusId\":2,\"Name\":\"{name}\",\"Description\":\"d\",\"Revisions\":[{{\"RevisionKey\":\"abc\"}}]}}");
        let (code, _, _) = http("POST", &url, &AUTH, Some(&body));
        assert_eq!(code, 200);
    }
    let search = |query: &str, filters: &str| -> Vec<u64> {
        let (code, body, _) = http("POST", &format!("{url}?{query}"), &AUTH, Some(filters));
        assert_eq!(code, 200, "{body}");
        let v: Vec<Value> = serde_json::from_str(&body).unwrap();
        v.iter().map(|b| b["BuildId"].as_u64().unwrap()).collect()
    };
    let by_name = r#"[{"PropertyName":"Name","StringValue":"A"}]"#;
    assert_eq!(
        search(
            "starting_row=1&number_of_rows=10&sort_by=BuildId%20ASC",
            by_name
        ),
        [1, 3]
    );
    assert_eq!(
        search(
            "starting_row=1&number_of_rows=1&sort_by=BuildId%20DESC",
            by_name
        ),
        [3]
    );
    assert_eq!(
        search("starting_row=2&number_of_rows=5&sort_by=Name%20ASC", "[]"),
        [3, 2]
    );
    assert_eq!(
        builds(&m)[0]["Revisions"],
        serde_json::json!([{"RevisionKey": "abc"}])
    );
    assert_eq!(
        m.stats()["builds_by_name"],
        serde_json::json!({"A": 2, "B": 1})
    );
    let (code, body, _) = http(
        "POST",
        &format!("{url}?starting_row=1&number_of_rows=5"),
        &AUTH,
        Some(r#"[{"PropertyName":"Colour","StringValue":"x"}]"#),
    );
    assert_eq!(
        (code, body.as_str()),
        (400, "Builds cannot be filtered on 'Colour'")
    );
}

#[test]
fn each_ci_system_s_variables_give_the_build_s_description_and_revision() {
    let t = TempDir::new("ci-table");
    let m = Mock::start(&[]);
    let file = shard(&t, 1, 2).to_string_lossy().into_owned();
    type Row<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let table: &[Row<'_>] = &[
        (
            &[("GITHUB_ACTIONS", "true"), ("GITHUB_WORKFLOW", "tests"), ("GITHUB_RUN_NUMBER", "42"), ("GITHUB_JOB", "spira"), ("GITHUB_SERVER_URL", "https://github.com"), ("GITHUB_REPOSITORY", "acme/shop"), ("GITHUB_RUN_ID", "9001"), ("GITHUB_SHA", "a1")],
            "GitHub Actions: tests #42 job spira (https://github.com/acme/shop/actions/runs/9001)",
            "a1",
        ),
        (
            &[("GITLAB_CI", "true"), ("CI_PROJECT_PATH", "acme/shop"), ("CI_PIPELINE_IID", "7"), ("CI_JOB_NAME", "spira"), ("CI_JOB_URL", "https://gitlab.com/acme/shop/-/jobs/55"), ("CI_COMMIT_SHA", "b2")],
            "GitLab CI: acme/shop #7 job spira (https://gitlab.com/acme/shop/-/jobs/55)",
            "b2",
        ),
        (
            &[("TF_BUILD", "True"), ("BUILD_DEFINITIONNAME", "shop-ci"), ("BUILD_BUILDNUMBER", "20261207.3"), ("SYSTEM_JOBDISPLAYNAME", "upload"), ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/acme/"), ("SYSTEM_TEAMPROJECT", "Shop"), ("BUILD_BUILDID", "311"), ("BUILD_SOURCEVERSION", "c3")],
            "Azure Pipelines: shop-ci #20261207.3 job upload (https://dev.azure.com/acme/Shop/_build/results?buildId=311)",
            "c3",
        ),
        (
            &[("JENKINS_URL", "https://ci.acme/"), ("JOB_NAME", "shop/main"), ("BUILD_NUMBER", "88"), ("BUILD_URL", "https://ci.acme/job/shop/88/"), ("GIT_COMMIT", "d4")],
            "Jenkins: shop/main #88 (https://ci.acme/job/shop/88/)",
            "d4",
        ),
        (
            &[("CIRCLECI", "true"), ("CIRCLE_PROJECT_REPONAME", "shop"), ("CIRCLE_BUILD_NUM", "12"), ("CIRCLE_JOB", "test"), ("CIRCLE_BUILD_URL", "https://circleci.com/gh/acme/shop/12"), ("CIRCLE_SHA1", "e5")],
            "CircleCI: shop #12 job test (https://circleci.com/gh/acme/shop/12)",
            "e5",
        ),
        (
            &[("BITBUCKET_BUILD_NUMBER", "5"), ("BITBUCKET_REPO_FULL_NAME", "acme/shop"), ("BITBUCKET_COMMIT", "f6")],
            "Bitbucket Pipelines: acme/shop #5 (https://bitbucket.org/acme/shop/pipelines/results/5)",
            "f6",
        ),
    ];
    for (vars, line, rev) in table {
        let out = posted(
            &m,
            &t,
            &["--dry-run", "--create-build", "B", "--release", "3", &file],
            vars,
        );
        let first: Value =
            serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
        let body = &first["body"];
        assert_eq!(
            body["Description"].as_str().unwrap().lines().next(),
            Some(*line)
        );
        assert_eq!(body["Revisions"], serde_json::json!([{"RevisionKey": rev}]));
    }
    // Outside CI: the counts only, and no revisions.
    let out = post(
        &m,
        &t,
        &["--dry-run", "--create-build", "B", "--release", "3", &file],
        &[],
    )
    .output()
    .unwrap();
    let first: Value =
        serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(
        first["body"]["Description"],
        "2 runs, 0 failed or blocked; recorded by spira-post"
    );
    assert!(first["body"].get("Revisions").is_none());
}
