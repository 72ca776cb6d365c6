//! Runs the real binaries and shows command, status, stdout and stderr when a check fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository root: tests run there, so fixture paths in output are relative and stable.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The path of one of the tools.
pub fn bin(name: &str) -> PathBuf {
    match name {
        "spira-parse" => PathBuf::from(env!("CARGO_BIN_EXE_spira-parse")),
        "spira-map" => PathBuf::from(env!("CARGO_BIN_EXE_spira-map")),
        "spira-validate" => PathBuf::from(env!("CARGO_BIN_EXE_spira-validate")),
        "spira-batch" => PathBuf::from(env!("CARGO_BIN_EXE_spira-batch")),
        "spira-cases" => PathBuf::from(env!("CARGO_BIN_EXE_spira-cases")),
        "spira-mock" => PathBuf::from(env!("CARGO_BIN_EXE_spira-mock")),
        "spira-ids" => PathBuf::from(env!("CARGO_BIN_EXE_spira-ids")),
        "spira-post" => PathBuf::from(env!("CARGO_BIN_EXE_spira-post")),
        "spira-inspect" => PathBuf::from(env!("CARGO_BIN_EXE_spira-inspect")),
        "spira-pipe" => PathBuf::from(env!("CARGO_BIN_EXE_spira-pipe")),
        other => panic!("unknown tool {other}"),
    }
}

/// What a run of a tool produced.
pub struct Run {
    pub cmd: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The first line of stderr.
    pub fn err1(&self) -> &str {
        self.stderr.lines().next().unwrap_or("")
    }

    /// Every stdout line parsed as JSON.
    pub fn json(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{self}\nbad JSON line {l}: {e}"))
            })
            .collect()
    }

    /// Two string fields of every stdout line, as pairs (a missing one is "").
    pub fn pairs(&self, a: &str, b: &str) -> Vec<(String, String)> {
        let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or("").to_string();
        self.json()
            .iter()
            .map(|v| (text(v, a), text(v, b)))
            .collect()
    }

    /// Fails with the whole run shown unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code\n{self}");
        self
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "command: {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.cmd,
            self.code,
            truncate(&self.stdout),
            truncate(&self.stderr)
        )
    }
}

fn truncate(s: &str) -> &str {
    let mut end = s.len().min(4000);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Runs `tool` with `args` in the repository root, feeding `stdin` if given.
pub fn run(tool: &str, args: &[&str], stdin: Option<&[u8]>) -> Run {
    run_env(tool, args, stdin, &[])
}

/// Starts `tool` with `args`, its stdin, stdout and stderr piped, for a test that feeds or reads
/// it while it runs.
pub fn spawn_piped(tool: &str, args: &[&str]) -> std::process::Child {
    Command::new(bin(tool))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Like [`run`], with extra environment variables.
pub fn run_env(tool: &str, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(bin(tool));
    cmd.args(args)
        .current_dir(root())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Tests say which connection settings a tool sees: none leak in from the caller.
    for k in [
        "SPIRA_URL",
        "SPIRA_USERNAME",
        "SPIRA_API_KEY",
        "SPIRA_PROJECT_ID",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ]
    .into_iter()
    // Nor the CI system the tests run in (spira-post reads its run from them).
    .chain(CI_VARS)
    {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn");
    if let Some(input) = stdin {
        let mut si = child.stdin.take().expect("stdin");
        let data = input.to_vec();
        std::thread::spawn(move || {
            let _ = si.write_all(&data);
        });
    }
    let out = child.wait_with_output().expect("wait");
    Run {
        cmd: format!("{tool} {}", args.join(" ")),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Files in `dir` (not recursive) whose names end with one of `exts`, sorted.
pub fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            exts.iter().any(|x| n.ends_with(x)) && !n.contains(".expected.")
        })
        .collect();
    v.sort();
    v
}

/// A scratch directory removed at the end of the test.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "spira-pipe-test-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running spira-mock, stopped when dropped. It checks every request against Inflectra's
/// API description and every answer too (`--check-answers`); when it is dropped, the test
/// fails if a request or an answer did not match, or a request went to an endpoint the
/// description does not have: so no request a tool sends in a test escapes the check.
pub struct Mock {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Set by a test that sends requests the description refuses (or does not have) on purpose.
    nonconforming_expected: std::cell::Cell<bool>,
}

impl Mock {
    /// Starts spira-mock on a free port with extra arguments.
    pub fn start(args: &[&str]) -> Mock {
        use std::io::BufRead;
        let mut child = Command::new(bin("spira-mock"))
            .args(["--listen", "127.0.0.1:0", "--check-answers"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn spira-mock");
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
            .to_string();
        Mock {
            child,
            url,
            nonconforming_expected: Default::default(),
        }
    }

    /// This test sends requests the API description refuses, or to endpoints it does not have,
    /// on purpose (answers are checked all the same).
    pub fn expect_nonconforming(&self) {
        self.nonconforming_expected.set(true);
    }

    /// What the description check found: nothing, or why the test fails.
    fn conformance(&self) -> Result<(), String> {
        let s = self.stats();
        if s["nonconforming_answers"] != 0 {
            return Err(format!(
                "spira-mock gave {} answers that do not match Spira's API description; the last: {}",
                s["nonconforming_answers"], s["last_nonconforming_answer"]
            ));
        }
        if s["nonconforming_requests"] != 0 && !self.nonconforming_expected.get() {
            return Err(format!(
                "{} requests did not match Spira's API description (spira-pipe is held to the \
                 strict form); the last: {}; leniencies used: {}",
                s["nonconforming_requests"], s["last_nonconforming_request"], s["leniencies"]
            ));
        }
        match s["undescribed"].as_array() {
            Some(a) if !a.is_empty() && !self.nonconforming_expected.get() => Err(format!(
                "requests to endpoints Spira's API description does not have: {a:?}"
            )),
            _ => Ok(()),
        }
    }

    /// The base of the v7 API for project 1.
    pub fn api(&self) -> String {
        format!("{}/Services/v7_0/RestService.svc/projects/1", self.url)
    }

    /// The connection to this mock as the tools read it from the environment: the demo user,
    /// project 1, the demo key.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SPIRA_URL", self.url.clone()),
            ("SPIRA_USERNAME", "demo".into()),
            ("SPIRA_PROJECT_ID", "1".into()),
            ("SPIRA_API_KEY", KEY.into()),
        ]
    }

    /// `/__mock/stats`.
    pub fn stats(&self) -> serde_json::Value {
        let (code, body, _) = http("GET", &format!("{}/__mock/stats", self.url), &[], None);
        assert_eq!(code, 200);
        serde_json::from_str(&body).unwrap()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            if let Err(e) = self.conformance() {
                let _ = self.child.kill();
                panic!("{e}");
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo API key spira-mock accepts by default.
pub const KEY: &str = "{00000000-DEMO-KEY0-0000-000000000000}";

/// The demo credentials, as headers.
pub const AUTH: [(&str, &str); 2] = [("username", "demo"), ("api-key", KEY)];

/// The variables by which spira-post knows the CI system it runs in.
pub const CI_VARS: [&str; 6] = [
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "TF_BUILD",
    "JENKINS_URL",
    "CIRCLECI",
    "BITBUCKET_BUILD_NUMBER",
];

/// One HTTP request: status, body and headers; status 0 when the connection failed.
pub fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String, Vec<(String, String)>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into();
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let result = match body {
        Some(b) => agent.run(
            req.header("Content-Type", "application/json")
                .body(b.to_string())
                .unwrap(),
        ),
        None => agent.run(req.body(()).unwrap()),
    };
    match result {
        Ok(mut resp) => {
            let h = resp
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                .collect();
            let status = resp.status().as_u16();
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            (status, text, h)
        }
        Err(_) => (0, String::new(), Vec::new()),
    }
}
