//! The CI recipes of docs/recipes.md: each complete file (a block after `<!-- recipe: SCHEMA -->`)
//! checked against its CI system's JSON Schema with check-jsonschema, and its shell steps that
//! call a spira tool run in order against spira-mock, with the CI system's variables set.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::harness::{bin, root, Mock, TempDir};

use crate::harness::KEY;

/// Each recipe block: its schema name (or `jenkins`), where it is, and its text.
fn recipes() -> Vec<(String, String, String)> {
    let page = std::fs::read_to_string(root().join("docs/recipes.md")).unwrap();
    let lines: Vec<&str> = page.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(kind) = l.trim().strip_prefix("<!-- recipe: ") else {
            continue;
        };
        let kind = kind.trim_end_matches("-->").trim().to_string();
        let start = i + 2;
        assert!(
            lines[i + 1].starts_with("```"),
            "docs/recipes.md:{}: no block",
            i + 1
        );
        let end = (start..lines.len())
            .find(|&j| lines[j].starts_with("```"))
            .unwrap();
        let at = format!("docs/recipes.md:{}", start + 1);
        out.push((kind, at, lines[start..end].join("\n") + "\n"));
    }
    out
}

/// The variables each CI system sets that the recipes read.
const CI_VARS: &[(&str, &str)] = &[
    ("GITHUB_RUN_NUMBER", "42"),
    ("CI_PIPELINE_IID", "42"),
    ("CI_NODE_INDEX", "1"),
    ("BUILD_BUILDNUMBER", "20261207.1"),
    ("BUILD_NUMBER", "42"),
    ("SHARD", "1"),
];

/// A scratch folder as a CI job has it after the tests: `reports/` and `ids.csv`.
fn workspace() -> TempDir {
    let t = TempDir::new("recipe");
    crate::readme::copy_dir(&root().join("fixtures/demo"), &t.path("reports"));
    std::fs::copy(root().join("fixtures/demo/ids.csv"), t.path("ids.csv")).unwrap();
    t
}

/// Runs one shell step in `dir` against `m`, with the step's own variables (a `${{ … }}` or
/// `$( … )` value as the CI system would fill it) and the CI system's; its stdout.
fn step(m: &Mock, dir: &Path, at: &str, script: &str, env: &[(String, String)]) -> String {
    let bin_dir = bin("spira-parse").parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env("GITHUB_OUTPUT", dir.join("github-output"))
        .env("GITHUB_STEP_SUMMARY", dir.join("step-summary.md"))
        .env("PIPELINE_WORKSPACE", dir.join("pipeline-workspace"));
    for (k, v) in CI_VARS {
        cmd.env(k, v);
    }
    for (k, v) in env {
        let v = match v.as_str() {
            v if v.contains("matrix.shard") => "1",
            v if v.contains("${{") || v.contains("$(") => "",
            v => v,
        };
        cmd.env(k, v);
    }
    cmd.env("SPIRA_URL", &m.url)
        .env("SPIRA_USERNAME", "demo")
        .env("SPIRA_PROJECT_ID", "1")
        .env("SPIRA_API_KEY", KEY);
    let out = cmd.output().unwrap();
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "{at}: the step failed\n{script}\n--- stderr ---\n{e}"
    );
    assert!(
        !o.contains(KEY) && !e.contains(KEY),
        "{at}: the key was shown"
    );
    o.into_owned()
}

/// What every recipe leaves: the runs of the batches stored once in one build, the summary
/// file naming it, the Markdown summary.
fn check_upload(m: &Mock, dir: &Path, at: &str, summary_md: &str) -> u64 {
    let batches: usize = ["batches.jsonl", "batches/shard-1.jsonl"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(dir.join(f)).ok())
        .map(|b| {
            b.lines()
                .map(|l| serde_json::from_str::<Vec<Value>>(l).unwrap().len())
                .sum::<usize>()
        })
        .sum();
    // Without a batch file (the runs went straight to spira-post), the created lines count.
    let batches = match batches {
        0 => std::fs::read_to_string(dir.join("created.jsonl"))
            .unwrap_or_default()
            .lines()
            .count(),
        n => n,
    };
    assert!(batches > 0, "{at}: no batches");
    assert_eq!(
        m.stats()["runs"],
        batches as u64,
        "{at}: every run stored once"
    );
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let build = s["build_id"]
        .as_u64()
        .unwrap_or_else(|| panic!("{at}: no build in {s}"));
    let md = std::fs::read_to_string(dir.join(summary_md)).unwrap();
    assert!(
        md.contains(&format!("{batches} runs")),
        "{at}: the summary\n{md}"
    );
    build
}

/// The shell steps of a YAML recipe that call a spira tool, in order, with their variables:
/// read with ruamel.yaml (which check-jsonschema brings) by the venv's python.
fn yaml_steps(python: &Path, file: &Path) -> Vec<(String, Vec<(String, String)>)> {
    const WALK: &str = r#"
import sys, json
from ruamel.yaml import YAML
doc = YAML(typ='safe').load(open(sys.argv[1]))
steps = []
def walk(node, env):
    if isinstance(node, dict):
        env = dict(env)
        for k in ('variables', 'env'):
            if isinstance(node.get(k), dict):
                env.update({str(a): str(b) for a, b in node[k].items()})
        for key in ('run', 'before_script', 'script', 'after_script'):
            v = node.get(key)
            if isinstance(v, list) and all(isinstance(x, str) for x in v):
                v = '\n'.join(v)
            if isinstance(v, str) and 'spira-' in v:
                steps.append([v, sorted(env.items())])
        for k, v in node.items():
            if k not in ('env', 'variables'):
                walk(v, env)
    elif isinstance(node, list):
        for x in node:
            walk(x, env)
walk(doc, {})
print(json.dumps(steps))
"#;
    let out = Command::new(python)
        .args(["-c", WALK])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// check-jsonschema: `SPIRA_CHECK_JSONSCHEMA`, or the one `make dist-check` installs.
fn check_jsonschema() -> PathBuf {
    std::env::var_os("SPIRA_CHECK_JSONSCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/dist-venv/bin/check-jsonschema"))
}

/// check-jsonschema on `file` with the built-in schema `kind`. Azure's schema has patterns that
/// are not valid ECMAScript in unicode mode: it is read in the non-unicode mode.
fn validate(checker: &Path, kind: &str, file: &Path) -> std::process::Output {
    let mut cmd = Command::new(checker);
    if kind == "vendor.azure-pipelines" {
        cmd.args(["--regex-variant", "nonunicode"]);
    }
    cmd.args(["--builtin-schema", kind])
        .arg(file)
        .output()
        .unwrap()
}

#[test]
#[ignore = "needs check-jsonschema and jq: make test installs the one and runs it when it can"]
fn with_check_jsonschema_the_ci_recipes_are_valid_and_their_steps_run() {
    let checker = check_jsonschema();
    assert!(
        checker.exists(),
        "no check-jsonschema at {}",
        checker.display()
    );
    let python = checker.with_file_name("python3");
    let yaml: Vec<_> = recipes()
        .into_iter()
        .filter(|(k, _, _)| k.starts_with("vendor."))
        .collect();
    let kinds: Vec<&str> = yaml.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "vendor.github-workflows",
            "vendor.github-workflows",
            "vendor.gitlab-ci",
            "vendor.azure-pipelines"
        ]
    );
    for (kind, at, text) in &yaml {
        let t = workspace();
        let file = t.path("recipe.yml");
        std::fs::write(&file, text).unwrap();
        let out = validate(&checker, kind, &file);
        assert!(
            out.status.success(),
            "{at}: does not match {kind}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The check can fail: a key the CI system does not know is refused.
        let bad = t.path("bad.yml");
        std::fs::write(&bad, format!("{text}spira_pipe_bogus: 1\n")).unwrap();
        assert!(
            !validate(&checker, kind, &bad).status.success(),
            "{at}: {kind} took a bogus key"
        );
        let m = Mock::start(&["--test-cases", "1-2000"]);
        let mut stdout = String::new();
        let steps = yaml_steps(&python, &file);
        assert!(!steps.is_empty(), "{at}: no step calls a spira tool");
        for (script, env) in &steps {
            stdout.push_str(&step(&m, &t.0, at, script, env));
        }
        let first = m.stats()["runs"].clone();
        // Run again (a rerun of the pipeline, no journal): nothing is stored twice.
        for (script, env) in &steps {
            step(&m, &t.0, at, script, env);
        }
        assert_eq!(
            m.stats()["runs"],
            first,
            "{at}: the rerun stored runs again"
        );
        let (summary_md, output) = match kind.as_str() {
            "vendor.github-workflows" => ("step-summary.md", "github-output"),
            "vendor.gitlab-ci" => ("spira-summary.md", "spira.env"),
            _ => ("spira-summary.md", ""),
        };
        let build = check_upload(&m, &t.0, at, summary_md);
        if !text.contains("build_id") {
            // This recipe hands no build ID to later jobs (the live shards: each has its own).
            continue;
        }
        let handed = if output.is_empty() {
            stdout
        } else {
            std::fs::read_to_string(t.path(output)).unwrap()
        };
        let want = match kind.as_str() {
            "vendor.github-workflows" => format!("build_id={build}\n"),
            "vendor.gitlab-ci" => format!("SPIRA_BUILD_ID={build}\n"),
            _ => format!("##vso[task.setvariable variable=buildId;isOutput=true]{build}\n"),
        };
        assert!(handed.contains(&want), "{at}: {want:?} not in {handed:?}");
    }
}

#[test]
fn the_jenkins_recipe_runs_its_sh_steps() {
    let (_, at, text) = recipes()
        .into_iter()
        .find(|(k, _, _)| k == "jenkins")
        .expect("a Jenkins recipe");
    let scripts: Vec<&str> = text
        .split("sh '''")
        .skip(1)
        .filter_map(|s| s.split("'''").next())
        .collect();
    assert_eq!(scripts.len(), 1, "{at}");
    let t = workspace();
    let m = Mock::start(&["--test-cases", "1-2000"]);
    step(&m, &t.0, &at, scripts[0], &[]);
    check_upload(&m, &t.0, &at, "spira-summary.md");
    step(&m, &t.0, &at, scripts[0], &[]);
    check_upload(&m, &t.0, &at, "spira-summary.md");
    assert!(
        text.contains("lock('spira-upload')"),
        "{at}: one upload at a time"
    );
}
