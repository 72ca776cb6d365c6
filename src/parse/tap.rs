//! TAP (the Test Anything Protocol) 12, 13 and 14, as Perl's harnesses, node:test, node-tap,
//! pytest-tap and many shells write it, read line by line. One result per test point at every
//! level: subtests indented four spaces, streamed (`# Subtest: name`, the children, then the
//! parent's point) or buffered (`ok 1 - name {`, the children, `}`), node's points for
//! `describe` blocks included. `ok` → passed, `not ok` → failed; a `# SKIP` directive →
//! skipped; `# TODO` → skipped with outcome `todo`, whether ok or not (a directive is matched by
//! its first word's start, as tap-parser does, and `\#` is not one). `Bail out!` → one error
//! result, and the rest of the input is not read. A plan that promised more points than came →
//! one error result "N planned tests did not run". A YAML diagnostic block after a point gives
//! its message (`message:`, or node's `error:`), its details (the block) and its duration
//! (node's `duration_ms:`).

use std::io::Read;
use std::sync::Arc;

use super::report::Report;
use crate::error::Result;
use crate::record::{Status, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "tap";

/// Whether a head of text looks like TAP: its first line that is not blank or a comment is a
/// version line, a plan or a test point.
pub(crate) fn looks_like_tap(text: &str) -> bool {
    let Some(first) = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
    else {
        return false;
    };
    let lower = first.to_ascii_lowercase();
    lower.starts_with("tap version ")
        || plan(first).is_some()
        || point(first).is_some()
        || lower.starts_with("bail out!")
}

/// A level of subtests: its name, its plan, the points seen.
#[derive(Default)]
struct Level {
    name: Option<String>,
    plan: Option<u64>,
    points: u64,
}

struct Tap<'r, 'w> {
    report: &'r mut Report<'w>,
    max_field: usize,
    /// Level 0 is the top; level d holds the subtests indented 4 × d spaces.
    levels: Vec<Level>,
    /// The last point, until it is known whether a YAML block follows it.
    pending: Option<TestResult>,
    /// The YAML block being read, and the indent of its `---`.
    yaml: Option<(usize, String)>,
    /// The suites of the last result: the points of one subtest share them.
    last: crate::parse::json::LastSuites,
}

pub(crate) fn parse(reader: impl Read, report: &mut Report<'_>, max_field: usize) -> Result<()> {
    let name = report.name.clone();
    let mut t = Tap {
        report,
        max_field,
        levels: vec![Level::default()],
        pending: None,
        yaml: None,
        last: Default::default(),
    };
    let mut bailed = false;
    super::json::each_line(reader, &name, |_, raw| {
        let Some(raw) = raw else {
            return t.report.hand_on();
        };
        if bailed {
            return Ok(());
        }
        let line = match raw.text {
            Some(t) => std::borrow::Cow::Borrowed(t),
            None => String::from_utf8_lossy(raw.bytes),
        };
        let line = line.trim_end_matches(['\n', '\r']);
        bailed = t.line(line)?;
        Ok(())
    })?;
    t.flush()?;
    if !bailed {
        t.close_levels(0)?;
        t.check_plan(0)?;
    }
    Ok(())
}

/// `1..N` (with an optional `# SKIP` reason): N.
fn plan(line: &str) -> Option<u64> {
    let rest = line.trim().strip_prefix("1..")?;
    let digits = rest.split(|c: char| !c.is_ascii_digit()).next()?;
    let after = rest.get(digits.len()..).unwrap_or("").trim();
    if digits.is_empty() || !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    digits.parse().ok()
}

/// A test point: whether ok, and the rest of the line after `ok` / `not ok`.
fn point(line: &str) -> Option<(bool, &str)> {
    let (ok, rest) = if let Some(r) = line.strip_prefix("not ok") {
        (false, r)
    } else {
        (true, line.strip_prefix("ok")?)
    };
    (rest.is_empty() || rest.starts_with([' ', '\t'])).then_some((ok, rest))
}

/// A point's number, description (without the `- `), directive word and reason, and whether it
/// opens a buffered subtest (`{` at its end).
struct Point<'a> {
    number: Option<&'a str>,
    description: &'a str,
    directive: Option<(String, &'a str)>,
    opens: bool,
}

fn split_point(rest: &str) -> Point<'_> {
    let mut rest = rest.trim();
    let opens = rest.ends_with('{');
    if opens {
        rest = rest.trim_end_matches('{').trim_end();
    }
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let number = rest.get(..digits).filter(|n| !n.is_empty());
    let rest = rest.get(digits..).unwrap_or("").trim_start();
    let rest = rest.strip_prefix("- ").unwrap_or(rest);
    let rest = if rest == "-" { "" } else { rest };
    // The first `#` not escaped by a backslash starts the directive.
    let bytes = rest.as_bytes();
    let hash = (0..bytes.len()).find(|&i| {
        bytes.get(i) == Some(&b'#')
            && bytes[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
    });
    let (description, directive) = match hash {
        Some(i) => {
            let after = rest.get(i + 1..).unwrap_or("").trim();
            let word: String = after
                .chars()
                .take_while(char::is_ascii_alphabetic)
                .collect::<String>()
                .to_ascii_lowercase();
            let kind = if word.starts_with("skip") {
                Some("skip")
            } else if word.starts_with("todo") {
                Some("todo")
            } else {
                None
            };
            match kind {
                Some(k) => {
                    let reason = after.get(word.len()..).unwrap_or("").trim();
                    let reason = reason.trim_start_matches(':').trim();
                    (
                        rest.get(..i).unwrap_or(rest).trim(),
                        Some((k.to_string(), reason)),
                    )
                }
                None => (rest, None),
            }
        }
        None => (rest, None),
    };
    Point {
        number,
        description,
        directive,
        opens,
    }
}

/// The value of `key` in a YAML block, as text: a plain or quoted scalar on the key's line, or
/// a block scalar (`|`, `|-`, `>`) on the lines indented below it.
fn yaml_value(block: &str, key: &str) -> Option<String> {
    let mut lines = block.lines();
    while let Some(l) = lines.next() {
        let Some(v) = l
            .trim_start()
            .strip_prefix(key)
            .and_then(|r| r.strip_prefix(':'))
        else {
            continue;
        };
        let v = v.trim();
        if !matches!(v, "|" | "|-" | "|+" | ">" | ">-") {
            let v = scalar(v);
            return (!v.is_empty()).then_some(v);
        }
        let own = indent(l);
        let body: Vec<&str> = lines
            .take_while(|b| b.trim().is_empty() || indent(b) > own)
            .collect();
        let cut = body
            .iter()
            .filter(|b| !b.trim().is_empty())
            .map(|b| indent(b))
            .min()?;
        let text: Vec<&str> = body
            .iter()
            .map(|b| b.get(cut..).unwrap_or("").trim_end())
            .collect();
        return Some(text.join("\n").trim_end().to_string());
    }
    None
}

/// A one-line YAML scalar: a double-quoted one with its escapes read (`\"`, `\n`, `\e`,
/// `\u00e9`…), a single-quoted one with `''` read as `'`, a plain one as it is.
fn scalar(v: &str) -> String {
    if let Some(inner) = v.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return inner.replace("''", "'");
    }
    let Some(inner) = v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return v.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |chars: &mut std::str::Chars<'_>, n: usize| {
            let digits: String = chars.by_ref().take(n).collect();
            u32::from_str_radix(&digits, 16)
                .ok()
                .and_then(char::from_u32)
        };
        let decoded = match chars.next() {
            Some('n') => Some('\n'),
            Some('t') => Some('\t'),
            Some('r') => Some('\r'),
            Some('e') => Some('\u{1b}'),
            Some('0') => Some('\0'),
            Some('a') => Some('\u{7}'),
            Some('b') => Some('\u{8}'),
            Some('x') => hex(&mut chars, 2),
            Some('u') => hex(&mut chars, 4),
            Some('U') => hex(&mut chars, 8),
            Some(other) => Some(other),
            None => None,
        };
        out.extend(decoded);
    }
    out
}

/// The indent of a line, in spaces (a tab is four).
fn indent(line: &str) -> usize {
    line.chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum()
}

impl Tap<'_, '_> {
    /// Reads one line; true after a bail out.
    fn line(&mut self, line: &str) -> Result<bool> {
        let text = line.trim();
        if let Some((at, block)) = self.yaml.as_mut() {
            if text == "..." {
                let block = std::mem::take(block);
                self.yaml = None;
                self.diagnostics(&block);
            } else {
                let cut = line
                    .get(*at..)
                    .filter(|_| indent(line) >= *at)
                    .unwrap_or(text);
                block.push_str(cut);
                block.push('\n');
            }
            return Ok(false);
        }
        if text == "---" && self.pending.is_some() {
            self.yaml = Some((indent(line), String::new()));
            return Ok(false);
        }
        if text.starts_with('#') && !text.starts_with("# Subtest:") && self.pending.is_some() {
            self.comment(text);
            return Ok(false);
        }
        self.flush()?;
        let depth = indent(line) / 4;
        if text.len() >= 9
            && text
                .get(..9)
                .is_some_and(|b| b.eq_ignore_ascii_case("bail out!"))
        {
            self.bail_out(text.get(9..).unwrap_or("").trim(), depth)?;
            return Ok(true);
        }
        if let Some(name) = text.strip_prefix("# Subtest:") {
            self.close_levels(depth)?;
            self.level(depth + 1).name = Some(name.trim().to_string());
            return Ok(false);
        }
        if text == "}" {
            self.close_levels(depth)?;
            return Ok(false);
        }
        if let Some(n) = plan(text) {
            self.close_levels(depth)?;
            self.level(depth).plan = Some(n);
            return Ok(false);
        }
        if let Some((ok, rest)) = point(text) {
            self.close_levels(depth)?;
            self.point(ok, rest, depth);
        }
        Ok(false)
    }

    fn level(&mut self, depth: usize) -> &mut Level {
        if self.levels.len() <= depth {
            self.levels.resize_with(depth + 1, Level::default);
        }
        &mut self.levels[depth]
    }

    /// The levels deeper than `depth` end: their plans are checked.
    fn close_levels(&mut self, depth: usize) -> Result<()> {
        while self.levels.len() > depth + 1 {
            let d = self.levels.len() - 1;
            self.check_plan(d)?;
            self.levels.pop();
        }
        Ok(())
    }

    fn result(&mut self, depth: usize) -> TestResult {
        let names = self.levels.iter().take(depth + 1).skip(1);
        let suites = self.last.of(names.map(|l| l.name.as_deref().unwrap_or("")));
        let mut r = TestResult::in_suites(
            FORMAT,
            &self.report.name,
            suites.clone(),
            Arc::from([]),
            None,
        );
        r.classname = (!suites.is_empty()).then(|| suites.join(" > "));
        r
    }

    fn point(&mut self, ok: bool, rest: &str, depth: usize) {
        let p = split_point(rest);
        let level = self.level(depth);
        level.points += 1;
        let seen = level.points;
        let mut r = self.result(depth);
        let description = p
            .description
            .strip_prefix("Subtest: ")
            .unwrap_or(p.description);
        r.name = Some(match (description, p.number) {
            ("", Some(n)) => format!("test {n}"),
            ("", None) => format!("test {seen}"),
            (d, _) => d.to_string(),
        });
        let (status, outcome) = match &p.directive {
            Some((k, _)) => (Status::Skipped, k.clone()),
            None if ok => (Status::Passed, "ok".to_string()),
            None => (Status::Failed, "not ok".to_string()),
        };
        r.status = status;
        r.outcome = Some(outcome);
        if let Some((_, reason)) = p.directive.filter(|(_, r)| !r.is_empty()) {
            r.message = self.text(reason);
        }
        if p.opens {
            self.level(depth + 1).name = r.name.clone();
        }
        self.pending = Some(r);
    }

    fn text(&self, s: &str) -> Option<String> {
        crate::parse::json::cap_text(s, self.max_field)
    }

    /// The YAML block of the pending point: message, details, duration.
    fn diagnostics(&mut self, block: &str) {
        let message = yaml_value(block, "message").or_else(|| yaml_value(block, "error"));
        let message = message.and_then(|m| crate::parse::json::cap_first_line(&m, self.max_field));
        let duration = yaml_value(block, "duration_ms").and_then(|d| d.parse::<f64>().ok());
        let details = self.text(block.trim_end());
        if let Some(r) = self.pending.as_mut() {
            if r.status != Status::Passed {
                r.message = r.message.take().or(message);
                r.details = details;
            }
            r.duration = duration.map(|ms| ms / 1000.0);
        }
    }

    /// A comment after a failed point (Perl's `#   Failed test ...` lines) joins its details.
    fn comment(&mut self, text: &str) {
        let max = self.max_field;
        if let Some(r) = self.pending.as_mut().filter(|r| r.status == Status::Failed) {
            let line = text.trim_start_matches('#').trim_end();
            let line = line.strip_prefix(' ').unwrap_or(line);
            let mut d = r.details.take().unwrap_or_default();
            if !d.is_empty() {
                d.push('\n');
            }
            d.push_str(line);
            r.details = crate::parse::json::cap_text(&d, max);
            if r.message.is_none() {
                r.message = crate::parse::json::cap_text(line.trim(), max);
            }
        }
    }

    /// Writes the pending point.
    fn flush(&mut self) -> Result<()> {
        match self.pending.take() {
            Some(r) => self.report.emit(&r),
            None => Ok(()),
        }
    }

    fn bail_out(&mut self, reason: &str, depth: usize) -> Result<()> {
        let mut r = self.result(depth);
        r.name = Some("Bail out!".into());
        r.status = Status::Error;
        r.outcome = Some("bail out".into());
        r.message = self.text(reason);
        self.report.emit(&r)
    }

    /// The error result of a level whose plan promised more points than came.
    fn check_plan(&mut self, depth: usize) -> Result<()> {
        let Some(level) = self.levels.get(depth) else {
            return Ok(());
        };
        let (Some(plan), seen) = (level.plan, level.points) else {
            return Ok(());
        };
        if plan <= seen {
            return Ok(());
        }
        let missing = plan - seen;
        let mut r = self.result(depth);
        r.name = Some(format!(
            "{missing} planned test{} did not run",
            if missing == 1 { "" } else { "s" }
        ));
        r.status = Status::Error;
        r.outcome = Some("planned".into());
        r.message = Some(format!("the plan 1..{plan} promised {plan}, {seen} came"));
        self.report.emit(&r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_plans_and_directives() {
        assert_eq!(plan("1..5"), Some(5));
        assert_eq!(plan("1..0 # skipping: rope"), Some(0));
        assert_eq!(plan("1..5x"), None);
        assert!(point("ok").is_some() && point("okay").is_none());
        assert_eq!(point("not ok 3 - x").map(|p| p.0), Some(false));
        let p = split_point(" 9 Elegy 9B           # TOdO");
        assert_eq!((p.number, p.description), (Some("9"), "Elegy 9B"));
        assert_eq!(p.directive.map(|d| d.0), Some("todo".to_string()));
        let p = split_point(" 1    Not a \\# TODO");
        assert!(p.directive.is_none());
        let p = split_point(" 7            # Skip contract negotiations");
        assert_eq!(
            p.directive,
            Some(("skip".to_string(), "contract negotiations"))
        );
        let p = split_point(" 1 - tbd # TODO foo {");
        assert!(p.opens);
        assert_eq!(p.description, "tbd");
        let block = "error: |-\n  Expected 1\n\n  got 0\ncode: 'X'\nmessage: \"plain\"\n";
        assert_eq!(
            yaml_value(block, "error").as_deref(),
            Some("Expected 1\n\ngot 0")
        );
        assert_eq!(yaml_value(block, "code").as_deref(), Some("X"));
        assert_eq!(yaml_value(block, "message").as_deref(), Some("plain"));
        assert!(looks_like_tap("# comment\nTAP version 14\n"));
        assert!(looks_like_tap("\n1..3\nok 1\n"));
        assert!(!looks_like_tap("name,status\nx,passed\n"));
    }

    #[test]
    fn quoted_yaml_scalars_are_read_as_yaml_reads_them() {
        let cases = [
            (
                r#""say \"hi\"\n\tthen \\ \e[31mred\x41\u00e9\U0001F600""#,
                "say \"hi\"\n\tthen \\ \u{1b}[31mredA\u{e9}\u{1F600}",
            ),
            ("'it''s'", "it's"),
            ("plain 'words'", "plain 'words'"),
            // A malformed escape, and a backslash that ends the text, are dropped.
            (r#""a\u00zz b\""#, "a b"),
            (r#""\x4""#, "\u{4}"),
        ];
        for (raw, want) in cases {
            assert_eq!(scalar(raw), want, "{raw}");
        }
    }
}
