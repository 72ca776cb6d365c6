//! spira-cases against a real spira-mock: the onboarding in three lines, reruns that create
//! nothing, lookups, folders, memberships, the dry run, the limits, bad input, faults and kills.

use serde_json::{json, Value};

use crate::harness::{run, run_env, Mock, Run, TempDir};

use crate::harness::KEY;

/// spira-cases against `m`, with `input` on stdin; the key never shows.
fn cases(m: &Mock, args: &[&str], input: &str) -> Run {
    let e = m.env();
    let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_env("spira-cases", args, Some(input.as_bytes()), &e);
    assert!(
        !r.stdout.contains(KEY) && !r.stderr.contains(KEY),
        "the key was shown\n{r}"
    );
    r
}

/// A result line.
fn result(suites: &[&str], classname: &str, name: &str) -> String {
    json!({"format": "junit", "report": "r.xml", "suites": suites, "classname": classname,
           "name": name, "status": "passed", "duration": 1.0, "start": null})
    .to_string()
}

/// `n` results in `suites` suites (nested two deep), each test distinct.
fn results(n: usize, suites: usize) -> String {
    (0..n)
        .map(|i| {
            let s = format!("Suite{}", i % suites);
            result(
                &["All", &s],
                &format!("pkg.Class{}", i % suites),
                &format!("test_{i}"),
            ) + "\n"
        })
        .collect()
}

fn stats(m: &Mock) -> (u64, u64, u64) {
    let s = m.stats();
    let n = |k: &str| s[k].as_u64().unwrap();
    (n("test_cases"), n("duplicate_test_cases"), n("folders"))
}

/// The map lines of stdout, as (key, id).
fn map_lines(r: &Run) -> Vec<(String, u64)> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(r.stdout.as_bytes());
    rdr.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].to_string(), rec[1].parse().unwrap())
        })
        .collect()
}

#[test]
fn the_onboarding_in_three_lines_creates_what_is_missing_once() {
    let m = Mock::start(&["--test-cases", "1-10"]);
    let t = TempDir::new("onboard");
    let ids = t.path("ids.csv");
    std::fs::write(&ids, "key,test_case_id,test_set_id\npkg.Class0.test_0,3,\n").unwrap();
    let input = results(12, 3);
    let (i, m_) = (ids.to_str().unwrap(), &m);
    // 1: spira-map sets the unmapped results aside.
    let unmapped = t.path("new.jsonl");
    let r = run(
        "spira-map",
        &["--map", i, "--unmapped-out", unmapped.to_str().unwrap()],
        Some(input.as_bytes()),
    );
    r.expect_code(0);
    assert_eq!(r.json().len(), 1);
    // 2: spira-cases creates them, in folders All / SuiteN, and appends to the map.
    let new = std::fs::read_to_string(&unmapped).unwrap();
    let r = cases(m_, &["--map", i, "--append"], &new);
    r.expect_code(0);
    assert!(r.stdout.is_empty(), "--append writes to the map file\n{r}");
    assert_eq!(
        stats(m_),
        (10 + 11, 0, 4),
        "11 cases, 4 folders: All and three suites\n{r}"
    );
    assert!(
        r.err1().contains("12 tests") || r.stderr.contains("11 tests: 0 mapped already"),
        "{r}"
    );
    let map = std::fs::read_to_string(&ids).unwrap();
    assert_eq!(map.lines().count(), 1 + 1 + 11, "{map}");
    assert!(
        map.lines().nth(2).unwrap().ends_with(','),
        "rows follow the file's header: {map}"
    );
    // 3: every result maps now.
    let r = run(
        "spira-map",
        &["--map", i, "--strict"],
        Some(input.as_bytes()),
    );
    r.expect_code(0);
    assert_eq!(r.json().len(), 12);
    // Again: nothing to create with the map; without it, what was made is found in its
    // folder, and only the test the map gave an existing case is created.
    let r = cases(m_, &["--map", i, "--append"], &input);
    r.expect_code(0);
    assert!(r.stderr.contains("12 tests: 12 mapped already"), "{r}");
    let r = cases(m_, &[], &input);
    r.expect_code(0);
    assert_eq!(map_lines(&r).len(), 12, "{r}");
    assert!(
        r.stderr.contains("11 made earlier; 1 test cases created"),
        "{r}"
    );
    assert_eq!(stats(m_), (22, 0, 4));
    // The new cases are listed by spira-ids.
    let e = m_.env();
    let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_env("spira-ids", &[], None, &e);
    assert!(r.stdout.contains("test_11"), "{r}");
}

#[test]
fn lookups_folders_memberships_and_fields() {
    let t = TempDir::new("lookup");
    let names = t.path("names.csv");
    std::fs::write(&names, "test_case_id,name\n7,Test_Login\n").unwrap();
    let m = Mock::start(&[
        "--test-cases",
        "1-10",
        "--test-case-names",
        names.to_str().unwrap(),
        "--test-set",
        "4=1-2",
        "--releases",
        "1-3",
    ]);
    let input = [
        result(&["S"], "com.acme.Auth", "test_login"),
        result(&["S"], "com.acme.Cart", "test_add"),
    ]
    .join("\n");
    let r = cases(
        &m,
        &[
            "--lookup",
            "name",
            "--folders",
            "classname",
            "--test-set",
            "4",
            "--release",
            "2",
            "--automation-engine",
            "3",
            "--verbose",
        ],
        &input,
    );
    r.expect_code(0);
    let lines = map_lines(&r);
    assert_eq!(
        lines[0],
        ("com.acme.Auth.test_login".to_string(), 7),
        "found by name\n{r}"
    );
    assert_eq!(lines[1], ("com.acme.Cart.test_add".to_string(), 11));
    assert!(
        r.stderr
            .contains("created TC:11 for com.acme.Cart.test_add"),
        "{r}"
    );
    assert_eq!(stats(&m), (11, 0, 3), "com / acme / Cart");
    let (code, body, _) = crate::harness::http(
        "GET",
        &format!("{}/test-folders/3/test-cases", m.api()),
        &crate::harness::AUTH,
        None,
    );
    assert_eq!(code, 200);
    let listed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(listed[0]["AutomationEngineId"], 3);
    assert_eq!(
        listed[0]["Description"],
        "spira-pipe key: com.acme.Cart.test_add"
    );
    let (_, body, _) = crate::harness::http(
        "GET",
        &format!("{}/test-sets/4/test-case-mapping", m.api()),
        &crate::harness::AUTH,
        None,
    );
    assert!(body.contains("\"TestCaseId\":11"), "{body}");
    // Under a root folder that does not exist: refused before anything is created.
    let r = cases(&m, &["--root-folder", "99"], &result(&["S"], "x.Y", "z"));
    r.expect_code(2);
    assert!(
        r.stderr
            .contains("--root-folder 99: the project has no such test case folder"),
        "{r}"
    );
    // --folders none: in the root folder; found there again on a rerun.
    let one = result(&["S"], "x.Y", "in_root");
    cases(&m, &["--folders", "none"], &one).expect_code(0);
    let r = cases(&m, &["--folders", "none"], &one);
    assert!(r.stderr.contains("1 made earlier"), "{r}");
    assert_eq!(stats(&m).0, 12);
}

#[test]
fn the_dry_run_shows_the_requests_and_changes_nothing() {
    let m = Mock::start(&["--test-cases", "1-10"]);
    let input = results(4, 2);
    let before = m.stats()["requests"].as_u64().unwrap();
    let r = cases(&m, &["--dry-run"], &input);
    r.expect_code(0);
    let reqs = r.json();
    // All, Suite0, Suite1, then four cases.
    assert_eq!(reqs.len(), 3 + 4, "{r}");
    assert!(reqs.iter().all(|q| q["headers"]["api-key"] == "***"));
    assert!(reqs[0]["url"].as_str().unwrap().ends_with("/test-folders"));
    assert!(reqs[6]["url"].as_str().unwrap().ends_with("/test-cases"));
    assert!(
        r.stderr
            .contains("dry run: creates the folder All / Suite0"),
        "{r}"
    );
    assert_eq!(stats(&m).0, 10, "nothing created");
    let after = m.stats()["requests"].as_u64().unwrap();
    assert_eq!(after - before, 1, "only the folder list was read");
    // Offline: no connection at all (a closed port), no key needed; only the map decides.
    let env = [
        ("SPIRA_URL", "http://127.0.0.1:1"),
        ("SPIRA_USERNAME", "u"),
        ("SPIRA_PROJECT_ID", "1"),
    ];
    let r = run_env(
        "spira-cases",
        &["--dry-run", "--offline"],
        Some(input.as_bytes()),
        &env,
    );
    r.expect_code(0);
    assert_eq!(r.json().len(), 7, "{r}");
}

#[test]
fn many_new_cases_need_yes_bad_lines_and_rejections_are_reported() {
    let m = Mock::start(&["--test-cases", "1-10"]);
    let input = results(60, 2);
    let r = cases(&m, &[], &input);
    r.expect_code(2);
    assert!(
        r.stderr
            .contains("60 test cases would be created, more than --confirm-above 50: add --yes"),
        "{r}"
    );
    assert_eq!(stats(&m).0, 10);
    let r = cases(&m, &["--confirm-above", "100"], &input);
    r.expect_code(0);
    assert_eq!(stats(&m).0, 70);
    // A line that is not a result, and a test the server refuses (a blank name): each
    // reported, the rest created, exit 1.
    let input = format!(
        "{}\nnot json\n{}\n",
        result(&["S"], "c.D", "good"),
        result(&["S"], "c.D", " ")
    );
    let r = cases(&m, &[], &input);
    r.expect_code(1);
    assert!(r.stderr.contains("<stdin>:2: not a result line"), "{r}");
    assert!(
        r.stderr
            .contains("c.D. : not created: 400 Name is required for a test case"),
        "{r}"
    );
    assert_eq!(map_lines(&r).len(), 1);
    // The network down: exit 3.
    let env = [
        ("SPIRA_URL", "http://127.0.0.1:1"),
        ("SPIRA_USERNAME", "u"),
        ("SPIRA_PROJECT_ID", "1"),
        ("SPIRA_API_KEY", "k"),
    ];
    let r = run_env(
        "spira-cases",
        &["--retries", "0"],
        Some(results(2, 1).as_bytes()),
        &env,
    );
    r.expect_code(3);
}

#[test]
#[ignore = "slow: make test runs it"]
fn under_faults_every_case_is_created_exactly_once() {
    for jobs in ["1", "3"] {
        let m = Mock::start(&[
            "--test-cases",
            "1-10",
            "--faults",
            "0.2",
            "--seed",
            "5",
            "--slow-ms",
            "20",
        ]);
        let input = results(300, 20);
        let r = cases(
            &m,
            &[
                "--yes",
                "--jobs",
                jobs,
                "--retries",
                "12",
                "--max-wait",
                "1",
            ],
            &input,
        );
        r.expect_code(0);
        assert_eq!(stats(&m), (310, 0, 21), "--jobs {jobs}\n{r}");
        let lines = map_lines(&r);
        assert_eq!(lines.len(), 300);
        let distinct: std::collections::HashSet<u64> = lines.iter().map(|l| l.1).collect();
        assert_eq!(distinct.len(), 300);
    }
}

#[test]
#[ignore = "slow: make test runs it"]
fn a_killed_run_is_resumed_with_its_journal_without_a_duplicate() {
    use std::io::{BufRead, Read};
    let m = Mock::start(&["--test-cases", "1-10", "--latency-ms", "20"]);
    let t = TempDir::new("cases-kill");
    let journal = t.path("j");
    let input = results(100, 5);
    let mut cmd = std::process::Command::new(crate::harness::bin("spira-cases"));
    cmd.args(["--yes", "--journal", journal.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in m.env() {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
    }
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    for _ in 0..10 {
        out.read_line(&mut line).unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut rest = String::new();
    let _ = out.read_to_string(&mut rest);
    let made = stats(&m).0 - 10;
    assert!((10..100).contains(&made), "killed part way: {made} made");
    let r = cases(
        &m,
        &["--yes", "--journal", journal.to_str().unwrap()],
        &input,
    );
    r.expect_code(0);
    assert_eq!(stats(&m), (110, 0, 6), "{r}");
    assert_eq!(map_lines(&r).len(), 100);
}

/// A JUnit report of `n` tests in nested suites: 10 areas, each holding 19 modules (200 folders
/// in all), the tests spread over the modules, each module its own classname.
fn nested_report(n: usize) -> String {
    let mut xml = String::from("<?xml version=\"1.0\"?>\n<testsuites>\n");
    for area in 0..10 {
        xml += &format!("<testsuite name=\"Area {area}\">\n");
        for module in 0..19 {
            xml += &format!("<testsuite name=\"Module {module}\">\n");
            let leaf = area * 19 + module;
            for i in (leaf..n).step_by(190) {
                xml += &format!(
                    "<testcase classname=\"app.area{area}.Module{module}\" name=\"test_{i}\" time=\"0.01\"/>\n"
                );
            }
            xml += "</testsuite>\n";
        }
        xml += "</testsuite>\n";
    }
    xml + "</testsuites>\n"
}

#[test]
#[ignore = "slow: make test runs it"]
fn the_onboarding_works_on_5000_tests_in_nested_suites() {
    let m = Mock::start(&["--test-cases", "1-10"]);
    let t = TempDir::new("onboard-5000");
    let report = t.path("report.xml");
    std::fs::write(&report, nested_report(5_000)).unwrap();
    let (ids, new) = (t.path("ids.csv"), t.path("new.jsonl"));
    let (ids, new, report) = (
        ids.to_str().unwrap(),
        new.to_str().unwrap(),
        report.to_str().unwrap(),
    );
    let parsed = run("spira-parse", &[report], None);
    parsed.expect_code(0);
    assert_eq!(parsed.json().len(), 5_000);
    // 1: nothing is mapped yet (the map file does not exist: an empty map).
    std::fs::write(ids, "key,test_case_id\n").unwrap();
    let r = run(
        "spira-map",
        &["--map", ids, "--unmapped-out", new],
        Some(parsed.stdout.as_bytes()),
    );
    r.expect_code(0);
    assert!(r.stdout.is_empty(), "{r}");
    // 2: 5,000 cases in 200 folders, each once.
    let new_lines = std::fs::read_to_string(new).unwrap();
    assert_eq!(new_lines.lines().count(), 5_000);
    let r = cases(
        &m,
        &["--map", ids, "--append", "--yes", "--jobs", "2"],
        &new_lines,
    );
    r.expect_code(0);
    assert_eq!(stats(&m), (5_010, 0, 200), "{r}");
    // 3: every result maps, and spira-post records every run against its own case.
    let r = run(
        "spira-map",
        &["--map", ids, "--strict"],
        Some(parsed.stdout.as_bytes()),
    );
    r.expect_code(0);
    let runs = r.json();
    assert_eq!(runs.len(), 5_000);
    let distinct: std::collections::HashSet<u64> = runs
        .iter()
        .map(|r| r["TestCaseId"].as_u64().unwrap())
        .collect();
    assert_eq!(distinct.len(), 5_000);
    let batches = run("spira-batch", &[], Some(r.stdout.as_bytes()));
    batches.expect_code(0);
    let e = m.env();
    let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let posted = run_env(
        "spira-post",
        &["--quiet"],
        Some(batches.stdout.as_bytes()),
        &e,
    );
    posted.expect_code(0);
    assert_eq!(m.stats()["runs"].as_u64(), Some(5_000), "{posted}");
    // Again, with or without the map: nothing is created.
    let r = cases(&m, &["--map", ids, "--append"], &parsed.stdout);
    r.expect_code(0);
    assert!(r.stderr.contains("5000 tests: 5000 mapped already"), "{r}");
    let r = cases(&m, &["--jobs", "2"], &parsed.stdout);
    r.expect_code(0);
    assert_eq!(map_lines(&r).len(), 5_000);
    assert_eq!(stats(&m), (5_010, 0, 200), "{r}");
}
