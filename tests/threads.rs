//! spira-parse reads a large XML report on two threads (`-j 2`, the default) or one (`-j 1`):
//! results, warnings, errors and their positions must be the same either way.

use crate::harness::{run, Run, TempDir};

/// A JUnit report of `n` cases (about 450 bytes each, so well past the filter's first reads),
/// with what exercises the reader: references, CDATA, comments, instructions, properties, output,
/// an undefined entity, a character XML forbids, text cut at the cap, and nested suites.
fn report(n: usize, bad: Option<(usize, &str)>) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- generated -->\n");
    s.push_str("<testsuites name=\"all\">\n<testsuite name=\"outer\" timestamp=\"2024-05-14T12:00:00Z\">\n");
    s.push_str("  <properties><property name=\"os\" value=\"linux\"/><property name=\"v\">21</property></properties>\n");
    for i in 0..n {
        if i % 1000 == 0 {
            if i > 0 {
                s.push_str("  </testsuite>\n");
            }
            s.push_str(&format!("  <testsuite name=\"inner{i}\" time=\"1,5\">\n"));
        }
        if let Some((at, text)) = bad {
            if i == at {
                s.push_str(text);
            }
        }
        let name = format!("test_{i}_&lt;edge&gt;_&#x41;_é");
        match i % 9 {
            0 => s.push_str(&format!(
                "    <testcase classname=\"pkg.C{i}\" name=\"{name}\" time=\"0.{i}\">\n      <failure message=\"expected &lt;1&gt;\" type=\"AssertionError\"><![CDATA[trace line 1\n\tat a.b(C.java:{i})]]>\n\tat c.d &amp; e\n</failure>\n    </testcase>\n"
            )),
            1 => s.push_str(&format!(
                "    <testcase classname=\"pkg.C{i}\" name=\"{name}\" time=\"0.1\"><skipped message=\"later\tthen\r\nnow &#x41;&amp;\"/></testcase>\n"
            )),
            2 => s.push_str(&format!(
                "    <testcase classname=\"pkg.C{i}\" name=\"{name}\"><system-out>out {i}\r\nline two [[ATTACHMENT|shots/{i}.png]]</system-out><?pi data?></testcase>\n"
            )),
            _ => s.push_str(&format!(
                "    <testcase classname=\"pkg.C{i}\" name=\"{name}\" time=\"{i}.5\"/>\n"
            )),
        }
        if i == n / 3 {
            s.push_str(
                "    <testcase name=\"undefined\"><error message=\"&nbsp;here\"/></testcase>\n",
            );
            s.push_str("    <testcase name=\"control\"><system-err>bell \u{7} here</system-err></testcase>\n");
            s.push_str("    <testcase name=\"forbidden &#1; reference\"/>\n");
        }
        if i == n / 2 {
            // 200 KB of output on 4,000 lines, cut at the 64 KB cap below.
            s.push_str("    <testcase name=\"long\"><system-out>");
            for k in 0..4000 {
                s.push_str(&format!(
                    "output line {k} of the long test, padded out a bit\n"
                ));
            }
            s.push_str("</system-out></testcase>\n");
        }
    }
    s.push_str("  </testsuite>\n</testsuite>\n</testsuites>\n");
    s
}

/// Runs spira-parse on `file` with `-j 1` and `-j 2`, and on the same bytes through a pipe.
fn both_ways(t: &TempDir, doc: &str) -> (Run, Run) {
    let f = t.path("big.xml");
    std::fs::write(&f, doc).unwrap();
    let f = f.display().to_string();
    let one = run(
        "spira-parse",
        &["-j", "1", "--max-field-bytes", "64K", &f],
        None,
    );
    let two = run(
        "spira-parse",
        &["-j", "2", "--max-field-bytes", "64K", &f],
        None,
    );
    same(&one, &two);
    let one_in = run(
        "spira-parse",
        &["-j", "1", "--max-field-bytes", "64K"],
        Some(doc.as_bytes()),
    );
    let two_in = run(
        "spira-parse",
        &["--max-field-bytes", "64K"],
        Some(doc.as_bytes()),
    );
    same(&one_in, &two_in);
    (one, two)
}

fn same(one: &Run, two: &Run) {
    assert_eq!(one.code, two.code, "exit codes differ\n{one}\n{two}");
    assert_eq!(one.stderr, two.stderr, "stderr differs\n{one}\n{two}");
    assert!(one.stdout == two.stdout, "stdout differs\n{one}\n{two}");
}

#[test]
#[ignore = "slow: make test runs it"]
fn a_large_report_reads_the_same_on_one_thread_and_two() {
    let t = TempDir::new("threads");
    let doc = report(20_000, None);
    assert!(doc.len() > 2_000_000, "{}", doc.len());
    let (one, _) = both_ways(&t, &doc);
    one.expect_code(0);
    let lines = one.json();
    assert_eq!(lines.len(), 20_004);
    // What the reader must have got right, beyond being the same both ways.
    let long = lines.iter().find(|l| l["name"] == "long").unwrap();
    assert!(long["stdout"].as_str().unwrap().contains("[truncated: "));
    assert_eq!(lines[0]["name"], "test_0_<edge>_A_é");
    assert!(one.stderr.contains("undefined entity &nbsp;"), "{one}");
    assert!(one.stderr.contains("character U+0007"), "{one}");
    assert!(one.stderr.contains("&#1; is not allowed"), "{one}");
    let skipped = lines.iter().find(|l| l["status"] == "skipped").unwrap();
    assert_eq!(skipped["message"], "later then now A&");
}

#[test]
#[ignore = "slow: make test runs it"]
fn a_large_bad_report_fails_the_same_way_at_the_same_place_on_one_thread_and_two() {
    let t = TempDir::new("threads-bad");
    // The cut output (at case 5,000) comes before each fault, so positions count the lines it
    // dropped.
    for (at, bad, expect) in [
        (
            8_000,
            "    <testcase name=\"a\" time=5/>\n",
            "attribute value must be in quotes",
        ),
        (
            9_000,
            "    <testcase name=\"b\"></testcas>\n",
            "closing tag </testcas> does not match the open <testcase>",
        ),
    ] {
        let (one, _) = both_ways(&t, &report(10_000, Some((at, bad))));
        one.expect_code(1);
        let first = one.stderr.lines().find(|l| l.contains(expect));
        assert!(first.is_some(), "{one}");
        // Results before the fault are kept.
        assert!(one.json().len() > 8_000, "{one}");
    }
    // Cut short: the end of the file comes inside an element.
    let doc = report(10_000, None);
    let (one, _) = both_ways(&t, &doc[..doc.len() * 3 / 4]);
    one.expect_code(1);
    assert!(one.stderr.contains("(truncated file?)"), "{one}");
}

/// Runs spira-parse with `args` on `doc` written to its stdin in pieces of the sizes in `pieces`
/// (in turn) with a pause after each, so that the reader thread gets short reads (some shorter
/// than a tag, some ending inside a character) and hands on what is ready before each read.
fn trickle(args: &[&str], doc: &[u8], pieces: &'static [usize]) -> Run {
    use std::io::Write;
    let mut child = crate::harness::spawn_piped("spira-parse", args);
    let mut stdin = child.stdin.take().unwrap();
    let doc = doc.to_vec();
    let writer = std::thread::spawn(move || {
        let mut rest = &doc[..];
        for n in pieces.iter().cycle() {
            let (p, more) = rest.split_at((*n).min(rest.len()));
            // The parser may stop early (a bad report): a broken pipe ends the writing.
            if p.is_empty() || stdin.write_all(p).and_then(|_| stdin.flush()).is_err() {
                break;
            }
            rest = more;
            std::thread::sleep(std::time::Duration::from_micros(300));
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run {
        cmd: format!("spira-parse {} < (trickled in pieces)", args.join(" ")),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
#[ignore = "slow: make test runs it"]
fn a_report_trickling_through_a_pipe_reads_the_same_on_one_thread_and_two() {
    let good = report(2_000, None);
    let bad = report(
        2_000,
        Some((1_800, "    <testcase name=\"b\"></testcas>\n")),
    );
    assert!(good.len() > 400_000, "{}", good.len());
    for (doc, code) in [(&good, 0), (&bad, 1)] {
        const PIECES: &[usize] = &[1_499, 37, 5, 800, 61];
        let one = trickle(
            &["-j", "1", "--max-field-bytes", "64K"],
            doc.as_bytes(),
            PIECES,
        );
        let two = trickle(
            &["-j", "2", "--max-field-bytes", "64K"],
            doc.as_bytes(),
            PIECES,
        );
        one.expect_code(code);
        same(&one, &two);
        // The reader got it right, beyond being the same both ways.
        assert!(one.json().len() > 1_800, "{one}");
        assert!(one.stderr.contains("<stdin>:"), "{one}");
    }
}

/// A directory of many reports of every kind: good ones small and large (past the output a
/// worker holds before it waits, and past the reader thread's threshold), bad ones (cut short,
/// malformed, binary, empty), warnings, files that are no report, a dangling symlink, a JSON,
/// a TAP, a CSV and an allure-results directory; more files than the window of files in flight.
fn many_reports(t: &TempDir) -> std::path::PathBuf {
    let dir = t.path("many");
    std::fs::create_dir_all(dir.join("allure-results")).unwrap();
    let w = |name: &str, body: &[u8]| std::fs::write(dir.join(name), body).unwrap();
    for i in 0..150 {
        let doc = match i % 10 {
            3 => report(3 + i, Some((1, "    <testcase name=\"&nbsp;\"/>\n"))),
            7 => report(40, Some((20, "    <testcase name=\"b\"></testcas>\n"))),
            _ => report(5 + i % 7, None),
        };
        w(&format!("r{i:03}.xml"), doc.as_bytes());
    }
    // Outputs of megabytes: held past their share, read with a reader thread when a core is free.
    for i in 0..3 {
        w(&format!("big{i}.xml"), report(3_000 + i, None).as_bytes());
    }
    w("cut.xml", &report(50, None).as_bytes()[..3000]);
    w("empty.xml", b"");
    w("binary.xml", &[0u8, 159, 146, 150, 1, 2, 3, 0, 0, 0]);
    w("package.json", br#"{"name": "app", "version": "1.0.0"}"#);
    w(
        "pom.xml",
        b"<project><modelVersion>4.0.0</modelVersion></project>",
    );
    w(
        "jest.json",
        br#"{"numTotalTests": 1, "testResults": [{"name": "/a.test.js", "assertionResults": [{"fullName": "a works", "title": "works", "status": "passed", "ancestorTitles": []}]}]}"#,
    );
    w("t.tap", b"TAP version 13\n1..2\nok 1 - a\nnot ok 2 - b\n");
    w("runs.csv", b"name,status\nlogin,passed\nlogout,failed\n");
    w(
        "allure-results/a-result.json",
        br#"{"uuid": "1", "historyId": "h", "name": "x", "fullName": "t.x", "status": "passed", "start": 1, "stop": 2}"#,
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.join("nowhere.xml"), dir.join("dangling.xml")).unwrap();
    dir
}

/// `-j 1` and `-j 2`, `-j 4`, `-j 8` on the same directory write the same bytes, warnings and
/// errors included, and exit the same way: with `--keep-going` (every file read), and without
/// (the first bad file stops the run, and nothing after it is written).
#[test]
fn many_files_read_the_same_with_one_job_and_many() {
    let t = TempDir::new("many-jobs");
    let dir = many_reports(&t);
    let dir = dir.display().to_string();
    for keep in [true, false] {
        if !keep {
            // Else the walk itself stops on it, before any file is read.
            std::fs::remove_file(format!("{dir}/dangling.xml")).unwrap();
        }
        let args = |j: &'static str| -> Vec<&str> {
            let mut a = vec!["-j", j, "--stats"];
            if keep {
                a.push("--keep-going");
            }
            a.push(&dir);
            a
        };
        let one = run("spira-parse", &args("1"), None);
        for j in ["2", "4", "8"] {
            same(&one, &run("spira-parse", &args(j), None));
        }
        // What one job did, beyond being the same: every kind of file met.
        if keep {
            one.expect_code(2);
            assert!(one.json().len() > 10_000, "{}", one.json().len());
            for said in [
                "undefined entity",
                "r007.xml:",
                "cut.xml",
                "empty.xml",
                "binary.xml",
                "package.json",
                "pom.xml",
                "dangling.xml",
            ] {
                assert!(one.stderr.contains(said), "{said}: {}", one.stderr);
            }
            let formats: std::collections::BTreeSet<String> = one
                .json()
                .iter()
                .map(|l| l["format"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(formats.len(), 5, "{formats:?}");
        } else {
            // The first bad file in walk order stops the run, after the big files were written.
            one.expect_code(1);
            assert!(one.stderr.contains("cut.xml"), "{}", one.stderr);
            assert!(!one.stderr.contains("r007.xml"), "{}", one.stderr);
            assert!(one.json().len() > 9_000, "{}", one.json().len());
        }
    }
    // Named files in the order given, a file named twice read once, and stdin among them.
    let names = ["r001.xml", "big1.xml", "r001.xml", "-", "r003.xml"];
    let paths: Vec<String> = names
        .iter()
        .map(|n| {
            if *n == "-" {
                n.to_string()
            } else {
                format!("{dir}/{n}")
            }
        })
        .collect();
    let stdin = report(30, None);
    let with = |j: &'static str| {
        let mut a = vec!["-j", j];
        a.extend(paths.iter().map(String::as_str));
        run("spira-parse", &a, Some(stdin.as_bytes()))
    };
    let one = with("1");
    one.expect_code(0);
    same(&one, &with("4"));
}
