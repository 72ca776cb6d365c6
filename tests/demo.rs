//! `make demo` works from a checkout: the whole pipeline into a spira-mock it starts and stops.

#[test]
fn the_demo_runs_the_whole_pipeline_and_stops_its_mock() {
    let bin_dir = crate::harness::bin("spira-parse")
        .parent()
        .unwrap()
        .to_path_buf();
    let out = std::process::Command::new("sh")
        .arg("scripts/demo.sh")
        .arg(&bin_dir)
        .current_dir(crate::harness::root())
        .env_remove("SPIRA_API_KEY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for shown in [
        "== spira-inspect: look before you upload",
        "   tests.test_api.test_logout,2001,",
        "25 created lines",
        // The release named by its version, the list it was looked up in shown first.
        "   3,1.4.0,Summer release,1,true",
        "== spira-map --map ids.csv --release-version 1.4.0",
        "\"ReleaseId\":3,\"AutomationHostId\":1,\"CustomProperties\":[{\"PropertyNumber\":1,\"IntegerValue\":2}]}",
        "input        25 lines",
        "builds       BL:1 25",
        // Every request the demo sent, and every answer, as Spira's API description says.
        "\"last_nonconforming_answer\":null",
        "\"nonconforming_answers\":0,\"nonconforming_requests\":0",
        "\"undescribed\":[]",
        // The Cucumber scenarios, mapped by their @TC: tags, stored with their steps.
        "   3 runs created; the steps spira-mock stored with the second (TC:12):",
        "{\"Description\":\"Then the total is 18.00\",\"ExecutionStatusId\":1,\"ActualResult\":\"expected total 18.00, got 20.00",
    ] {
        assert!(stdout.contains(shown), "missing {shown:?}\n{stdout}");
    }
    // It ends with the Markdown summary of what it stored, linked into the mock's pages.
    let page = stdout
        .split("== spira-inspect --markdown")
        .nth(1)
        .expect("the demo shows its Markdown summary");
    assert!(page.contains("\n## Spira: 28 runs stored\n"), "{page}");
    assert!(
        page.contains("| Passed |") && page.contains("### Failed and blocked"),
        "{page}"
    );
    assert!(
        page.contains("/1/TestRun/") && page.contains("/1/Build/1.aspx)"),
        "runs and the build are linked\n{page}"
    );
    assert!(
        stderr.contains("spira-cases: 5 tests: 0 mapped already, 0 found by name, 0 made earlier; 5 test cases created (3 folders)")
            && stderr.contains("24 results: 24 mapped")
            && !stderr.contains("created automation host")
            && stderr.contains("5 batches (25 runs) done before, per the journal"),
        "{stderr}"
    );
    assert!(!stdout.contains("{00000000-DEMO-KEY0") && !stderr.contains("{00000000-DEMO-KEY0"));
}
