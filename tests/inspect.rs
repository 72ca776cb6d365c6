//! spira-inspect on each kind of stream, and every tool's help, man page and completions.

use serde_json::Value;

use crate::harness::{run, run_env};

fn run_line(tc: u64, status: u8, extra: &str) -> String {
    format!("{{\"TestCaseId\":{tc},\"ExecutionStatusId\":{status},\"StartDate\":\"2024-05-14T12:00:00.000Z\",\"EndDate\":\"2024-05-14T12:00:0{status}.500Z\",\"RunnerName\":\"spira-pipe\",\"RunnerTestName\":\"t{tc}-{status}\",\"RunnerMessage\":\"m\",\"RunnerStackTrace\":\"\",\"TestRunFormatId\":1,\"ReleaseId\":45{extra}}}")
}

fn runs() -> String {
    [
        run_line(1, 2, ""),
        run_line(1, 1, ",\"TestSetId\":7"),
        run_line(2, 5, &format!(",\"RunnerMessage\":\"{}\"", "m".repeat(240))),
        run_line(3, 2, ",\"BuildId\":9"),
        run_line(1, 2, ",\"RunnerName\":\"a runner name of 25 chars\""),
    ]
    .map(|l| l + "\n")
    .concat()
}

#[test]
fn a_run_stream_is_summarised_for_a_person() {
    let r = run("spira-inspect", &["--top", "2"], Some(runs().as_bytes()));
    r.expect_code(0);
    let expected = "\
input        5 lines (1.5 kB) in 1 input: 5 run lines
statuses     5 runs: Blocked 1 · Failed 1 · Passed 3
releases     RL:45 5
test sets    TX:7 1 · none 4
builds       BL:9 1 · none 4
several runs 1 test cases get more than one run: TC:1 ×3
limits       RunnerMessage (at most 255): 1 within 10% of it
limits       RunnerName (at most 20): 1 over (longest 25, <stdin>:5)
slowest          5.500 s  t2-5 (TC:2)
                 2.500 s  t3-2 (TC:3)
reminder     record-multiple does not refresh the summary status of RL:45, TX:7: after the upload, run spira-post --refresh (or --refresh-only nightly)
";
    assert_eq!(r.stdout, expected, "{r}");
    assert!(r.stderr.is_empty());
    // Colour only when asked for (stdout is not a terminal here), and never with NO_COLOR.
    let c = run(
        "spira-inspect",
        &["--color", "always"],
        Some(runs().as_bytes()),
    );
    assert!(c.stdout.contains("\u{1b}[31mFailed\u{1b}[0m"));
    let n = run_env(
        "spira-inspect",
        &[],
        Some(runs().as_bytes()),
        &[("NO_COLOR", "1")],
    );
    assert!(!n.stdout.contains('\u{1b}'));
}

#[test]
fn batches_requests_and_dead_letters_are_recognised() {
    let t = crate::harness::TempDir::new("inspect");
    let runs_file = t.path("runs.jsonl");
    std::fs::write(&runs_file, runs()).unwrap();
    let batches = run(
        "spira-batch",
        &["--size", "2", &runs_file.to_string_lossy()],
        None,
    );
    batches.expect_code(0);
    let r = run(
        "spira-inspect",
        &["--json"],
        Some(batches.stdout.as_bytes()),
    );
    r.expect_code(0);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["kinds"]["batch"], 3);
    assert_eq!(v["runs"], 5);
    assert_eq!(v["batches"]["runs_min"], 1);
    assert_eq!(v["batches"]["runs_max"], 2);
    assert_eq!(v["statuses"]["Passed"], 3);
    assert_eq!(
        v["several_runs"][0],
        serde_json::json!({"test_case": 1, "runs": 3})
    );
    assert_eq!(v["limits"]["RunnerName"]["over"], 1);
    assert_eq!(v["refresh"]["releases"][0], "RL:45");
    // The dry run of spira-post: requests whose bodies are the batches.
    let env = [
        ("SPIRA_URL", "http://127.0.0.1:1"),
        ("SPIRA_USERNAME", "u"),
        ("SPIRA_PROJECT_ID", "1"),
        ("SPIRA_API_KEY", "k"),
    ];
    let dry = run_env(
        "spira-post",
        &["--dry-run"],
        Some(batches.stdout.as_bytes()),
        &env,
    );
    dry.expect_code(0);
    let r = run("spira-inspect", &["--json"], Some(dry.stdout.as_bytes()));
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (v["kinds"]["request"].clone(), v["runs"].clone()),
        (3.into(), 5.into())
    );
    let dead = format!(
        "{{\"status\":400,\"message\":\"m\",\"time\":\"t\",\"runs\":[{}]}}\n",
        run_line(4, 1, "")
    );
    let r = run("spira-inspect", &["--json"], Some(dead.as_bytes()));
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["kinds"]["dead letter"], 1);
    assert_eq!(v["statuses"]["Failed"], 1);
}

#[test]
fn results_show_unmapped_names_and_bad_lines_are_named() {
    let parsed = run("spira-parse", &["fixtures/demo/pytest-results.xml"], None);
    parsed.expect_code(0);
    let n = parsed.stdout.lines().count();
    let mut input = parsed.stdout.clone();
    input.push_str("{\"no\":\"idea\"}\nnot json\n");
    let r = run("spira-inspect", &["--json"], Some(input.as_bytes()));
    r.expect_code(1);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["results"], n as u64);
    assert_eq!(v["unmapped"]["count"], n as u64);
    assert_eq!(v["unreadable_lines"], 2);
    assert_eq!(
        r.err1(),
        "spira-inspect: <stdin>:".to_string()
            + &(n + 1).to_string()
            + ": not a result, run, batch, created, request or dead-letter line"
    );
}

#[test]
fn every_tool_has_an_example_a_man_page_and_completions() {
    for tool in [
        "spira-parse",
        "spira-map",
        "spira-validate",
        "spira-batch",
        "spira-post",
        "spira-inspect",
        "spira-ids",
        "spira-cases",
        "spira-mock",
    ] {
        let help = run(tool, &["--help"], None);
        help.expect_code(0);
        let last = help.stdout.trim_end().lines().last().unwrap();
        assert!(
            last.trim_start().starts_with("spira-") || last.contains("| spira-"),
            "{tool}: --help does not end with an example: {last}"
        );
        let man = run(tool, &["--generate", "man"], None);
        man.expect_code(0);
        assert!(man.stdout.contains(&format!(".TH {tool} 1")), "{man}");
        assert!(
            man.stdout.contains("Examples"),
            "{tool}: the man page lacks the examples"
        );
        for (shell, mark) in [
            ("bash", "complete -F"),
            ("zsh", "#compdef"),
            ("fish", "complete -c"),
        ] {
            let c = run(tool, &["--generate", shell], None);
            c.expect_code(0);
            assert!(
                c.stdout.contains(mark) && c.stdout.contains(tool),
                "{tool} {shell}"
            );
        }
    }
    run("spira-parse", &["--generate", "tcsh"], None).expect_code(2);
}
