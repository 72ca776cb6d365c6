//! The runnable recipes of every page (README.md, ARCHITECTURE.md, BENCHMARKS.md, docs/*.md),
//! run as written against a fresh spira-mock: each block after a `<!-- runnable -->` line (a
//! shell block) or a `<!-- runnable: make TARGET -->` line (a Makefile, then `make TARGET`), in
//! a scratch folder with `reports/`, `ids.csv` and a `spira.cfg`. Recipes that use jq are a test
//! of their own, ignored by a plain `cargo test` and run by `make test` when jq is installed.

use std::path::Path;
use std::process::Command;

use crate::harness::{bin, root, Mock, TempDir};

use crate::harness::KEY;

struct Block {
    /// `PAGE:LINE` of the block's first line.
    at: String,
    make: Option<String>,
    text: String,
}

fn blocks(page: &str, readme: &str) -> Vec<Block> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i].trim();
        if let Some(rest) = l.strip_prefix("<!-- runnable") {
            let make = rest
                .trim_end_matches("-->")
                .trim()
                .strip_prefix(": make ")
                .map(|t| t.trim().to_string());
            let mut j = i + 1;
            while lines[j].trim().is_empty() {
                j += 1;
            }
            assert!(
                lines[j].starts_with("```"),
                "{page}:{}: no code block after the marker",
                i + 1
            );
            let start = j + 1;
            let mut end = start;
            while !lines[end].starts_with("```") {
                end += 1;
            }
            out.push(Block {
                at: format!("{page}:{}", start + 1),
                make,
                text: lines[start..end].join("\n") + "\n",
            });
            i = end;
        }
        i += 1;
    }
    out
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap();
        if p.is_dir() {
            copy_dir(&p, &to.join(name));
        } else if name != "ids.csv" {
            std::fs::copy(&p, to.join(name)).unwrap();
        }
    }
}

/// Every runnable block of every page.
fn all_blocks() -> Vec<Block> {
    let mut pages = vec![
        "README.md".to_string(),
        "ARCHITECTURE.md".into(),
        "BENCHMARKS.md".into(),
    ];
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| format!("docs/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|p| p.ends_with(".md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
        .iter()
        .flat_map(|p| blocks(p, &std::fs::read_to_string(root().join(p)).unwrap()))
        .collect()
}

#[test]
fn every_runnable_recipe_without_jq_works() {
    let blocks: Vec<Block> = all_blocks()
        .into_iter()
        .filter(|b| !b.text.contains("jq "))
        .collect();
    assert!(blocks.len() >= 4, "found {} runnable blocks", blocks.len());
    run_blocks(&blocks);
}

#[test]
#[ignore = "needs jq: make test runs it when jq is installed"]
fn every_runnable_recipe_with_jq_works() {
    assert!(
        Command::new("jq").arg("--version").output().is_ok(),
        "jq is not installed"
    );
    let blocks: Vec<Block> = all_blocks()
        .into_iter()
        .filter(|b| b.text.contains("jq "))
        .collect();
    assert!(
        blocks.len() >= 2,
        "found {} runnable blocks with jq",
        blocks.len()
    );
    run_blocks(&blocks);
}

fn run_blocks(blocks: &[Block]) {
    let bin_dir = bin("spira-parse").parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for b in blocks {
        let data = root().join("fixtures/names/demo.json");
        let m = Mock::start(&["--test-cases", "1-2000", "--data", data.to_str().unwrap()]);
        let t = TempDir::new("readme");
        copy_dir(&root().join("fixtures/demo"), &t.path("reports"));
        std::fs::copy(root().join("fixtures/demo/ids.csv"), t.path("ids.csv")).unwrap();
        std::fs::write(
            t.path("spira.cfg"),
            format!(
                "[credentials]\nurl = {}\nusername = demo\ntoken = {KEY}\nproject_id = 1\nrelease_id = 3\ncreate_build = true\n\n[test_cases]\ncom.example.CalculatorTest.addsTwoNumbers = 2\ncom.example.CalculatorTest.dividesByZero = 3\ntests.test_ui.test_click = 6\n\n[test_sets]\n",
                m.url
            ),
        )
        .unwrap();
        let mut cmd = match &b.make {
            Some(target) => {
                std::fs::write(t.path("Makefile"), &b.text).unwrap();
                let mut c = Command::new("make");
                c.args(["-s", target]);
                c
            }
            None => {
                let mut c = Command::new("sh");
                c.args(["-e", "-c", &b.text]);
                c
            }
        };
        let out = cmd
            .current_dir(&t.0)
            .env("PATH", &path)
            .env("SPIRA_URL", &m.url)
            .env("SPIRA_USERNAME", "demo")
            .env("SPIRA_PROJECT_ID", "1")
            .env("SPIRA_API_KEY", KEY)
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{}: the recipe failed ({})\n{}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
            b.at,
            out.status,
            b.text
        );
        assert!(
            !stdout.contains(KEY) && !stderr.contains(KEY) || b.text.contains("cat spira.cfg"),
            "{}: the key was shown",
            b.at
        );
        // A recipe that uploads stores what it says: every run the mock holds came from it.
        let stats = m.stats();
        if b.text.contains("spira-post")
            && !b.text.contains("--dry-run")
            && !b.text.contains("--refresh-only")
        {
            assert!(
                stats["runs"].as_u64().unwrap() > 0,
                "{}: nothing stored\n{stderr}",
                b.at
            );
        }
        if b.text.contains("--dry-run") {
            assert_eq!(stats["requests"], 0, "{}: a dry run sent something", b.at);
        }
    }
}
