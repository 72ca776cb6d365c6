//! spira-inspect --markdown: golden pages for the demo's upload, one with rejections and
//! unmapped tests, and a dry run's preview; hostile report text rendered by a real CommonMark +
//! GFM renderer (comrak, as GitHub renders a step summary) with nothing of it surviving as
//! HTML or a link; a long stream under the byte cap in flat memory.

use std::path::{Path, PathBuf};

use crate::harness::{root, run, run_env, Mock, Run, TempDir};

use crate::harness::KEY;
const WEB: &str = "https://spira.example";

fn tool(m: &Mock, name: &str, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let e = m.env();
    let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run_env(name, args, stdin, &e)
}

/// The page rendered as GitHub renders Markdown: CommonMark with GFM's tables, autolinks,
/// strikethrough and task lists; raw HTML is passed through (GitHub sanitises
/// after rendering, and we must not rely on that).
fn render(md: &str) -> String {
    let mut o = comrak::Options::default();
    o.extension.table = true;
    o.extension.autolink = true;
    o.extension.strikethrough = true;
    o.extension.tasklist = true;
    o.render.r#unsafe = true;
    comrak::markdown_to_html(md, &o)
}

/// Compares `page` with the golden file `fixtures/markdown/NAME.md`; UPDATE_GOLDEN=1 writes it.
fn golden(name: &str, page: &str) {
    let path: PathBuf = root().join("fixtures/markdown").join(format!("{name}.md"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, page).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(
        page,
        want,
        "{name}: the page differs from {}",
        path.display()
    );
}

/// The demo's reports parsed, mapped with its map file into release 3, batched by 5: the
/// result lines, the runs and the batches, in `t`.
fn demo_batches(t: &TempDir, m: &Mock) -> (PathBuf, PathBuf) {
    let reports: Vec<String> = [
        "TEST-com.example.CalculatorTest.xml",
        "nunit3-Orders.Tests.xml",
        "pytest-results.xml",
    ]
    .iter()
    .map(|f| root().join("fixtures/demo").join(f).display().to_string())
    .collect();
    let args: Vec<&str> = reports.iter().map(String::as_str).collect();
    let r = run("spira-parse", &args, None);
    r.expect_code(0);
    let unmapped = t.path("unmapped.jsonl");
    let map = root().join("fixtures/demo/ids.csv");
    let runs = tool(
        m,
        "spira-map",
        &[
            "--map",
            map.to_str().unwrap(),
            "--release",
            "3",
            "--start",
            "2024-05-14T12:00:00Z",
            "--unmapped-out",
            unmapped.to_str().unwrap(),
        ],
        Some(r.stdout.as_bytes()),
    );
    runs.expect_code(0);
    let b = run(
        "spira-batch",
        &["--size", "5"],
        Some(runs.stdout.as_bytes()),
    );
    b.expect_code(0);
    let batches = t.path("batches.jsonl");
    std::fs::write(&batches, &b.stdout).unwrap();
    (batches, unmapped)
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// spira-inspect --markdown of `files`, with links to [`WEB`], project 1.
fn page(files: &[&str], more: &[&str]) -> Run {
    let mut args = vec!["--markdown", "--url", WEB, "--project", "1"];
    args.extend_from_slice(more);
    args.extend_from_slice(files);
    let r = run("spira-inspect", &args, None);
    r.expect_code(0);
    r
}

#[test]
fn the_demo_upload_makes_this_page() {
    let m = Mock::start(&["--test-cases", "1-2000"]);
    let t = TempDir::new("md-demo");
    let (batches, unmapped) = demo_batches(&t, &m);
    let dead = t.path("dead.jsonl");
    let created = t.path("created.jsonl");
    let r = tool(
        &m,
        "spira-post",
        &[
            "--create-build",
            "demo",
            "--dead-letter",
            p(&dead),
            p(&batches),
        ],
        None,
    );
    r.expect_code(0);
    std::fs::write(&created, &r.stdout).unwrap();
    let md = page(&[p(&created), p(&unmapped)], &[]);
    golden("demo", &md.stdout);
    // Every link is one of ours, into the project's pages.
    let html = render(&md.stdout);
    let links = html.matches("<a href=").count();
    assert_eq!(
        links,
        html.matches(&format!("<a href=\"{WEB}/1/")).count(),
        "{html}"
    );
    assert!(
        links > 10,
        "runs, test cases, the build and the release are linked\n{html}"
    );
    assert!(html.contains(&format!("{WEB}/1/Build/1.aspx")), "{html}");
}

#[test]
fn rejections_and_unmapped_tests_are_on_the_page() {
    // A server that knows only test cases 1-4: the runs of 5 and 7 are refused.
    let m = Mock::start(&["--test-cases", "1-4"]);
    let t = TempDir::new("md-rejected");
    let (batches, unmapped) = demo_batches(&t, &m);
    let dead = t.path("dead.jsonl");
    let created = t.path("created.jsonl");
    let r = tool(
        &m,
        "spira-post",
        &["--dead-letter", p(&dead), p(&batches)],
        None,
    );
    std::fs::write(&created, &r.stdout).unwrap();
    assert!(dead.exists(), "runs were rejected\n{r}");
    let md = page(&[p(&created), p(&dead), p(&unmapped)], &[]);
    assert!(md.stdout.contains("### Rejected by Spira"), "{}", md.stdout);
    assert!(
        md.stdout.contains("### Without a test case"),
        "{}",
        md.stdout
    );
    golden("rejected", &md.stdout);
}

#[test]
fn a_dry_run_gives_a_preview_without_links() {
    let m = Mock::start(&[]);
    let t = TempDir::new("md-dry");
    let (batches, _) = demo_batches(&t, &m);
    let dry = tool(&m, "spira-post", &["--dry-run", p(&batches)], None);
    dry.expect_code(0);
    let md = run_env(
        "spira-inspect",
        &["--markdown", "-"],
        Some(dry.stdout.as_bytes()),
        &[("SPIRA_URL", WEB), ("SPIRA_PROJECT_ID", "1")],
    );
    md.expect_code(0);
    assert!(md.stdout.starts_with("## Spira preview: "), "{}", md.stdout);
    assert!(!render(&md.stdout).contains("<a "), "{}", md.stdout);
    assert!(!md.stdout.contains(KEY), "the key never shows");
    golden("dry-run", &md.stdout);
}

/// Hostile names, messages and statuses: what a report may hold.
const HOSTILE: [&str; 12] = [
    "a|b|c",
    "`code` and ``more``",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "![img](http://evil.example/x.png)",
    "line one\nline two\r\n# heading\n| x | y |",
    "www.evil.example and https://evil.example/path and mail@evil.example",
    "*emphasis* _under_ ~~strike~~ **strong**",
    "&lt;entity&gt; &amp; &#60;script&#62;",
    "<!-- comment --> </details> <details open>",
    "\u{202e}evil\u{200b}",
];

fn hostile_lines() -> String {
    let mut s = String::new();
    let long = "#".repeat(1000);
    for (i, h) in HOSTILE
        .iter()
        .chain(std::iter::once(&long.as_str()))
        .enumerate()
    {
        let h = serde_json::to_string(h).unwrap();
        // A created run, failed, with the text as its name and message...
        s.push_str(&format!(
            "{{\"TestRunId\":{},\"TestCaseId\":{},\"ExecutionStatusId\":1,\"RunnerTestName\":{h},\"RunnerMessage\":{h},\"ReleaseId\":3}}\n",
            i + 1, i + 1
        ));
        // ...a result of a report with the text as its status, name and message (spira-map's
        // --unmapped-out file holds such lines)...
        s.push_str(&format!(
            "{{\"status\":{h},\"name\":{h},\"message\":{h}}}\n"
        ));
    }
    // ...and a dead letter whose reason is the text.
    let h = serde_json::to_string(HOSTILE[3]).unwrap();
    s.push_str(&format!(
        "{{\"status\":{h},\"message\":{h},\"runs\":[{{\"TestCaseId\":1,\"ExecutionStatusId\":1,\"RunnerTestName\":{h}}}]}}\n"
    ));
    s
}

#[test]
fn hostile_report_text_renders_as_text_and_keeps_the_table_whole() {
    let input = hostile_lines();
    let md = run(
        "spira-inspect",
        &["--markdown", "--url", WEB, "--project", "1"],
        Some(input.as_bytes()),
    );
    md.expect_code(0);
    let html = render(&md.stdout);
    for bad in [
        "<script",
        "<img",
        "<details open",
        "<!--",
        "href=\"javascript",
        "<em>",
        "<strong>emph",
        "<del>",
        "<code>",
        "<h1",
        ">heading",
    ] {
        assert!(!html.contains(bad), "{bad} survived\n{html}");
    }
    // The only links are ours, the only images none.
    assert_eq!(
        html.matches("<a href=").count(),
        html.matches(&format!("<a href=\"{WEB}/1/")).count(),
        "{html}"
    );
    // The status table: a header and one row per distinct status (13 hostile ones and Failed,
    // all in the result lines, which the page counts as there are created lines: so only
    // Failed), each row of two cells.
    let table = html
        .split("<table>")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap();
    let rows: Vec<&str> = table.split("<tr>").skip(1).collect();
    for r in &rows {
        assert_eq!(
            r.matches("<td").count() + r.matches("<th").count(),
            2,
            "{r}\n{html}"
        );
    }
    assert_eq!(rows.len(), 2, "{table}");
    // Each hostile name is there as text, in its list item, one per failed run.
    let failed = html.split("Failed and blocked").nth(1).unwrap();
    let shown = failed
        .split("</ul>")
        .next()
        .unwrap()
        .matches("<li>")
        .count();
    assert_eq!(shown, 10, "ten shown, the rest folded\n{html}");
    let folded = failed.split("</details>").next().unwrap();
    assert!(
        folded.contains("<details><summary>3 more</summary>"),
        "{html}"
    );
    assert_eq!(
        folded.matches("<li>").count(),
        13,
        "a line per failed run\n{html}"
    );
    assert!(html.contains("a|b|c"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(html.contains("[click](javascript:alert(1))"), "{html}");
}

#[test]
fn hostile_statuses_keep_the_table_whole_in_a_preview() {
    // No created line: the table counts the results' own statuses, hostile ones included.
    let input: String = HOSTILE
        .iter()
        .map(|h| {
            let h = serde_json::to_string(h).unwrap();
            format!("{{\"status\":{h},\"name\":\"t\"}}\n")
        })
        .collect();
    let md = run("spira-inspect", &["--markdown"], Some(input.as_bytes()));
    md.expect_code(0);
    let html = render(&md.stdout);
    let table = html
        .split("<table>")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap();
    let rows: Vec<&str> = table.split("<tr>").skip(1).collect();
    assert_eq!(
        rows.len(),
        1 + HOSTILE.len(),
        "a header and a row per status\n{table}"
    );
    for r in &rows {
        assert_eq!(
            r.matches("<td").count() + r.matches("<th").count(),
            2,
            "{r}"
        );
    }
    for bad in ["<script", "<img", "<a ", "<em>", "<code>", "<del>"] {
        assert!(!html.contains(bad), "{bad} survived\n{html}");
    }
}

/// `n` created lines, every fifth failed with a long message, test cases cycling over 1,000.
fn created_stream(n: usize) -> String {
    let msg = "expected the answer but got something else entirely ".repeat(4);
    (1..=n)
        .map(|i| {
            let status = if i % 5 == 0 { 1 } else { 2 };
            format!("{{\"TestRunId\":{i},\"TestCaseId\":{},\"ExecutionStatusId\":{status},\"RunnerTestName\":\"suite.Test{i}\",\"RunnerMessage\":\"{msg}\",\"BuildId\":7,\"ReleaseId\":3}}\n", i % 1000 + 1)
        })
        .collect()
}

/// spira-inspect --markdown over `file` under /usr/bin/time: the page, and the peak resident
/// memory in kB.
fn page_and_peak(file: &Path) -> (String, u64) {
    let bin = crate::harness::bin("spira-inspect");
    let out = std::process::Command::new("/usr/bin/time")
        .args(["-f", "peak %M"])
        .arg(&bin)
        .args(["--markdown", "--url", WEB, "--project", "1"])
        .arg(file)
        .output()
        .expect("/usr/bin/time runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let peak = err
        .lines()
        .find_map(|l| l.strip_prefix("peak "))
        .and_then(|k| k.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak in: {err}"));
    (String::from_utf8(out.stdout).unwrap(), peak)
}

#[test]
#[ignore = "slow: make test runs it"]
fn two_hundred_thousand_runs_fit_the_byte_cap_in_flat_memory() {
    let t = TempDir::new("md-long");
    let small = t.path("small.jsonl");
    let large = t.path("large.jsonl");
    std::fs::write(&small, created_stream(20_000)).unwrap();
    std::fs::write(&large, created_stream(200_000)).unwrap();
    let (small_page, small_peak) = page_and_peak(&small);
    let (page, peak) = page_and_peak(&large);
    assert!(page.len() <= 65536, "{} bytes", page.len());
    assert!(
        page.len() > 60_000,
        "the cap is used, not wasted: {} bytes",
        page.len()
    );
    assert!(
        page.starts_with("## Spira: 200,000 runs stored\n"),
        "{}",
        &page[..200]
    );
    assert!(page.contains("**40,000 failed**"), "{}", &page[..400]);
    let more = page
        .lines()
        .find(|l| l.starts_with("- … and "))
        .expect("an 'and N more' line");
    let shown = page.matches("- **Failed** ").count();
    assert_eq!(
        more,
        format!("- … and {} more", thousands(40_000 - shown as u64)),
        "{more}"
    );
    assert!(render(&page).contains("</details>"), "the fold is closed");
    assert!(small_page.len() <= 65536);
    // Ten times the input, the same memory give or take 8 MB (kept lists are capped).
    assert!(
        peak < small_peak + 8 * 1024,
        "peak {peak} kB for 200,000 runs, {small_peak} kB for 20,000"
    );
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
