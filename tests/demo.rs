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
        "20 created lines",
        "input        20 lines",
        "builds       BL:1 20",
    ] {
        assert!(stdout.contains(shown), "missing {shown:?}\n{stdout}");
    }
    assert!(
        stderr.contains("4 batches (20 runs) done before, per the journal"),
        "{stderr}"
    );
    assert!(!stdout.contains("{00000000-DEMO-KEY0") && !stderr.contains("{00000000-DEMO-KEY0"));
}
