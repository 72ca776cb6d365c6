//! spira-ids against spira-mock: pages, every way to give the connection, and the secret.

use crate::harness::{root, run_env, Mock, TempDir};

use crate::harness::KEY;

fn env(m: &Mock, key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("SPIRA_URL", m.url.clone()),
        ("SPIRA_USERNAME", "demo".into()),
        ("SPIRA_PROJECT_ID", "1".into()),
        ("SPIRA_API_KEY", key.into()),
    ]
}

fn ids(args: &[&str], env: &[(&'static str, String)]) -> crate::harness::Run {
    let e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run_env("spira-ids", args, None, &e)
}

#[test]
fn lists_every_test_case_in_pages_of_500() {
    let t = TempDir::new("ids");
    let names = t.path("names.csv");
    std::fs::write(&names, "test_case_id,name\n7,\"Logs in, then out\"\n").unwrap();
    let m = Mock::start(&[
        "--test-cases",
        "1-1200",
        "--test-case-names",
        &names.to_string_lossy(),
    ]);
    for auth in ["headers", "query", "basic"] {
        let r = ids(&["--auth", auth], &env(&m, KEY));
        r.expect_code(0);
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(lines.len(), 1201, "{auth}");
        assert_eq!(lines[0], "test_case_id,name");
        assert_eq!(lines[7], "7,\"Logs in, then out\"");
        assert_eq!(lines[1200], "1200,Test case 1200");
        assert!(!r.stderr.contains(KEY) && !r.stdout.contains(KEY));
    }
    assert_eq!(m.stats()["requests"], 9, "three pages for each form");
    // What spira-ids writes, spira-map reads with --match name.
    let list = t.path("list.csv");
    std::fs::write(&list, ids(&[], &env(&m, KEY)).stdout).unwrap();
    let result = r#"{"format":"junit","report":"r","suites":[],"classname":"c","name":"logs in, then out","status":"passed","duration":1,"start":null}"#;
    let r = crate::harness::run(
        "spira-map",
        &["--map", &list.to_string_lossy(), "--match", "name"],
        Some(format!("{result}\n").as_bytes()),
    );
    assert_eq!(r.json()[0]["TestCaseId"], 7, "{r}");
}

#[test]
fn flags_environment_and_spira_cfg() {
    let m = Mock::start(&["--test-cases", "1-3", "--project", "4"]);
    let t = TempDir::new("cfg");
    let cfg = t.path("spira.cfg");
    std::fs::write(
        &cfg,
        format!(
            "[credentials]\nurl = {}\nusername = demo\ntoken = {KEY}\nproject_id = 4\n",
            m.url
        ),
    )
    .unwrap();
    let r = ids(&["--config", &cfg.to_string_lossy()], &[]);
    r.expect_code(0);
    assert_eq!(r.stdout.lines().count(), 4);
    // Flags win over the environment, which wins over the file.
    let keyfile = t.path("key");
    std::fs::write(&keyfile, format!("{KEY}\n")).unwrap();
    let mut e = env(&m, "wrong");
    e[2].1 = "1".into();
    let r = ids(
        &[
            "--project",
            "4",
            "--api-key-file",
            &keyfile.to_string_lossy(),
        ],
        &e,
    );
    r.expect_code(0);
    let r = ids(&["--config", &cfg.to_string_lossy()], &e);
    r.expect_code(3);
    let r = ids(&[], &[]);
    r.expect_code(2);
    assert_eq!(r.err1(), "spira-ids: the server's URL is not set: use --url, the environment variable SPIRA_URL, or url in a spira.cfg given with --config");
    let _ = root();
}

#[test]
fn a_wrong_key_is_exit_3_and_never_shown() {
    let m = Mock::start(&[]);
    let secret = "{SECRET-0000-KEY}";
    for auth in ["headers", "query", "basic"] {
        let r = ids(&["--auth", auth], &env(&m, secret));
        r.expect_code(3);
        assert_eq!(r.stdout, "", "nothing on stdout when the server refuses");
        assert_eq!(r.err1(), "spira-ids: 401 from Spira: check the user name and API key (RSS token), whether the account is locked, and that the user is a member of project PR:1");
        assert!(
            !r.stderr.contains("SECRET") && !r.stderr.contains("%7BSECRET"),
            "{r}"
        );
    }
    let r = ids(&["--url", "http://127.0.0.1:1"], &env(&m, secret));
    r.expect_code(3);
    assert!(
        r.err1()
            .starts_with("spira-ids: cannot reach http://127.0.0.1:1"),
        "{r}"
    );
    assert!(!r.stderr.contains("SECRET"));
}
