//! `spira-inspect --markdown`: the summary a CI job page shows (GitHub's
//! `$GITHUB_STEP_SUMMARY`, a pull request comment). A headline, the runs by status, then the
//! failed and blocked tests, the flaky ones, the runs Spira rejected and the tests without a
//! test case; with a base URL and a project, created lines link into Spira's pages.
//!
//! Report text is untrusted: every name and message goes through [`text`], which escapes it
//! for Markdown and HTML alike, so that it cannot break a table or a list, inject HTML or a
//! link, or change the layout. The page stays under `--max-bytes`: a list that does not fit
//! ends with "and N more".

use std::collections::BTreeMap;

use crate::spira::web::{self, Page};

/// How many entries of each list are kept for --markdown (memory stays flat however long the
/// stream; what is not kept is counted).
const LISTED: usize = 2000;

/// The first [`LISTED`] of a list, and how many there were.
pub(super) struct Listed<T> {
    pub(super) items: Vec<T>,
    pub(super) total: u64,
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Listed {
            items: Vec::new(),
            total: 0,
        }
    }
}

impl<T> Listed<T> {
    pub(super) fn push(&mut self, item: impl FnOnce() -> T) {
        self.total += 1;
        if self.items.len() < LISTED {
            self.items.push(item());
        }
    }
}

/// A test to name on the CI page: a failed, blocked or flaky one.
pub(super) struct Notable {
    pub(super) status: String,
    pub(super) name: String,
    /// The message's first line that is not blank.
    pub(super) message: String,
    pub(super) run: Option<u64>,
    pub(super) test_case: Option<u64>,
}

/// One dead-letter record.
pub(super) struct Rejected {
    pub(super) status: String,
    pub(super) message: String,
    pub(super) runs: u64,
    /// The first few runs' test names.
    pub(super) names: Vec<String>,
}

/// What the page shows, as spira-inspect counted it.
pub(super) struct Facts<'a> {
    pub(super) stored: u64,
    pub(super) runs: u64,
    pub(super) results: u64,
    pub(super) rejected_runs: u64,
    pub(super) unmapped_total: u64,
    /// The stored runs' statuses, or in a preview everything's.
    pub(super) statuses: &'a BTreeMap<String, u64>,
    pub(super) builds: &'a BTreeMap<String, u64>,
    pub(super) releases: &'a BTreeMap<String, u64>,
    pub(super) failing: &'a Listed<Notable>,
    pub(super) flaky: &'a Listed<Notable>,
    pub(super) rejected: &'a Listed<Rejected>,
    /// The tests without a test case, most often first.
    pub(super) unmapped: Vec<(&'a str, u64)>,
}

/// 1234567 → "1,234,567".
pub(super) fn thousands(n: u64) -> String {
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

/// Where the links point: Spira's base URL and the project.
pub(super) struct Links {
    base: String,
    project: u64,
}

impl Links {
    /// From `--url`/SPIRA_URL and `--project`/SPIRA_PROJECT_ID; none without both.
    pub(super) fn new(url: Option<String>, project: Option<u64>) -> Option<Links> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let base = url.or_else(|| env("SPIRA_URL"))?;
        let project = match project {
            Some(p) => p,
            None => env("SPIRA_PROJECT_ID")?.trim().parse().ok()?,
        };
        Some(Links { base, project })
    }

    fn to(&self, page: Page, id: u64) -> String {
        web::url(&self.base, self.project, page, id)
    }
}

/// Entries a list shows before the rest folds into `<details>`.
const SHOWN: usize = 10;

/// Bytes kept free for what every section must still write (its heading, closing tags, its
/// "and N more" line).
const RESERVE: usize = 1024;

/// Characters of a name or message shown.
const NAME_CHARS: usize = 200;
const MESSAGE_CHARS: usize = 200;

/// The page being written, with its byte cap.
struct Doc {
    s: String,
    max: usize,
}

impl Doc {
    /// Writes `t` if it leaves room for what must follow.
    fn fits(&mut self, t: &str) -> bool {
        let fits = self.s.len() + t.len() + RESERVE <= self.max;
        if fits {
            self.s.push_str(t);
        }
        fits
    }

    /// Writes `t` whatever the cap (headings and closing tags: bounded and short).
    fn put(&mut self, t: &str) {
        self.s.push_str(t);
    }
}

/// The summary as GitHub-flavoured Markdown, at most `max` bytes.
pub(super) fn page(f: &Facts<'_>, links: Option<&Links>, max: usize) -> String {
    f.page(links, max)
}

impl Facts<'_> {
    fn page(&self, links: Option<&Links>, max: usize) -> String {
        // A preview (nothing stored yet) has no links: its runs have no page yet.
        let links = links.filter(|_| self.stored > 0);
        let mut d = Doc {
            s: String::new(),
            max,
        };
        self.md_headline(&mut d, links);
        self.md_statuses(&mut d);
        let title = format!("Failed and blocked ({})", thousands(self.failing.total));
        list(&mut d, &title, self.failing, |n| notable(n, links));
        let title = format!("Flaky ({})", thousands(self.flaky.total));
        list(&mut d, &title, self.flaky, |n| notable(n, links));
        let title = format!(
            "Rejected by Spira ({} runs, kept in the dead-letter file)",
            thousands(self.rejected_runs)
        );
        list(&mut d, &title, self.rejected, rejected);
        self.md_unmapped(&mut d);
        if d.s.len() > max {
            // Only a --max-bytes near its floor with very long headings gets here.
            let mut end = max;
            while !d.s.is_char_boundary(end) {
                end -= 1;
            }
            d.s.truncate(end);
        }
        d.s
    }

    /// `## Spira: N runs stored`, the counts that matter, the builds and releases.
    fn md_headline(&self, d: &mut Doc, links: Option<&Links>) {
        let sent = self.runs - self.rejected_runs;
        let head = if self.stored > 0 {
            format!("## Spira: {} runs stored\n\n", thousands(self.stored))
        } else if sent > 0 {
            format!("## Spira preview: {} runs to send\n\n", thousands(sent))
        } else if self.results > 0 {
            format!("## Spira: {} test results\n\n", thousands(self.results))
        } else if self.rejected_runs > 0 {
            "## Spira: no run stored\n\n".to_string()
        } else {
            "## Spira: nothing read\n\n".to_string()
        };
        d.put(&head);
        let statuses = self.statuses;
        let count = |names: &[&str]| -> u64 {
            names
                .iter()
                .map(|n| statuses.get(*n).copied().unwrap_or(0))
                .sum()
        };
        let mut parts = Vec::new();
        for (n, what, strong) in [
            (count(&["Failed", "failed", "error"]), "failed", true),
            (count(&["Blocked"]), "blocked", true),
            (count(&["Caution", "warning"]), "caution", false),
            (count(&["Not Run", "skipped"]), "skipped", false),
            (count(&["Passed", "passed"]), "passed", false),
            (self.rejected_runs, "rejected", true),
            (self.unmapped_total, "unmapped", false),
        ] {
            if n > 0 {
                let t = format!("{} {what}", thousands(n));
                parts.push(if strong { format!("**{t}**") } else { t });
            }
        }
        if !parts.is_empty() {
            d.put(&format!("{}\n\n", parts.join(" · ")));
        }
        let mut targets = Vec::new();
        for (label, m, page) in [
            ("build", &self.builds, Page::Build),
            ("release", &self.releases, Page::Release),
        ] {
            let ids: Vec<&String> = m.keys().filter(|k| *k != "none").collect();
            for k in ids.iter().take(3) {
                let id = k.get(3..).and_then(|n| n.parse::<u64>().ok());
                targets.push(match (links, id) {
                    (Some(l), Some(id)) => format!("{label} [{}]({})", text(k, 20), l.to(page, id)),
                    _ => format!("{label} {}", text(k, 20)),
                });
            }
            if ids.len() > 3 {
                targets.push(format!("and {} more {label}s", ids.len() - 3));
            }
        }
        if !targets.is_empty() {
            d.put(&format!("{}\n\n", targets.join(" · ")));
        }
    }

    /// The table by status.
    fn md_statuses(&self, d: &mut Doc) {
        let statuses = self.statuses;
        if statuses.is_empty() {
            return;
        }
        let what = if self.stored > 0 || self.runs > 0 {
            "Runs"
        } else {
            "Results"
        };
        d.put(&format!("| Status | {what} |\n|---|---:|\n"));
        for (status, n) in statuses.iter().take(12) {
            d.put(&format!("| {} | {} |\n", text(status, 40), thousands(*n)));
        }
        d.put("\n");
    }

    /// The tests without a test case.
    fn md_unmapped(&self, d: &mut Doc) {
        if self.unmapped_total == 0 {
            return;
        }
        let shown: Vec<String> = self
            .unmapped
            .iter()
            .map(|(n, c)| {
                let times = if *c > 1 {
                    format!(" ×{c}")
                } else {
                    String::new()
                };
                format!("- {}{times}\n", name(n))
            })
            .collect();
        let title = format!("Without a test case ({})", thousands(self.unmapped_total));
        let listed = Listed {
            total: shown.len() as u64,
            items: shown,
        };
        list(d, &title, &listed, String::clone);
    }
}

/// A section: its heading, the first [`SHOWN`] entries, the rest folded into `<details>`,
/// and "and N more" for what the byte cap leaves out (or what was never kept).
fn list<T>(d: &mut Doc, title: &str, l: &Listed<T>, line: impl Fn(&T) -> String) {
    if l.total == 0 {
        return;
    }
    d.put(&format!("### {title}\n\n"));
    let mut shown = 0u64;
    let mut folded = false;
    for (i, item) in l.items.iter().enumerate() {
        if i == SHOWN {
            d.put(&format!(
                "<details><summary>{} more</summary>\n\n",
                thousands(l.total - SHOWN as u64)
            ));
            folded = true;
        }
        if !d.fits(&line(item)) {
            break;
        }
        shown += 1;
    }
    if shown < l.total {
        d.put(&format!("- … and {} more\n", thousands(l.total - shown)));
    }
    if folded {
        d.put("\n</details>\n");
    }
    d.put("\n");
}

/// A failed, blocked or flaky test's line.
fn notable(n: &Notable, links: Option<&Links>) -> String {
    let mut t = format!("- **{}** ", text(&n.status, 20));
    match (links, n.run) {
        (Some(l), Some(run)) => t.push_str(&format!(
            "[{}]({})",
            name(&n.name),
            l.to(Page::TestRun, run)
        )),
        _ => t.push_str(&name(&n.name)),
    }
    if let Some(tc) = n.test_case {
        match links {
            Some(l) => t.push_str(&format!(" · [TC:{tc}]({})", l.to(Page::TestCase, tc))),
            None => t.push_str(&format!(" · TC:{tc}")),
        }
    }
    if !n.message.is_empty() {
        t.push_str(&format!(": {}", text(&n.message, MESSAGE_CHARS)));
    }
    t.push('\n');
    t
}

/// A dead-letter record's line.
fn rejected(r: &Rejected) -> String {
    let mut t = String::from("- ");
    if !r.status.is_empty() {
        t.push_str(&format!("**{}** ", text(&r.status, 20)));
    }
    t.push_str(&if r.message.is_empty() {
        "(no reason given)".to_string()
    } else {
        text(&r.message, MESSAGE_CHARS)
    });
    let names: Vec<String> = r.names.iter().map(|n| name(n)).collect();
    t.push_str(&format!(
        ": {} run{} ({}{})\n",
        thousands(r.runs),
        if r.runs == 1 { "" } else { "s" },
        names.join(", "),
        if r.runs > r.names.len() as u64 {
            ", …"
        } else {
            ""
        }
    ));
    t
}

fn name(n: &str) -> String {
    if n.trim().is_empty() {
        "(no name)".to_string()
    } else {
        text(n, NAME_CHARS)
    }
}

/// Untrusted text made safe for Markdown and HTML, on one line, at most `max` characters
/// (then `…`): `&`, `<`, `>` and `"` become entities and every other ASCII punctuation mark is
/// escaped with a backslash, so no text can open a tag, a link, emphasis, a heading, a list
/// item, a table cell or code; control characters, line and paragraph separators and the
/// invisible characters that reorder or hide text become a space, and runs of spaces one
/// space.
pub(crate) fn text(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max * 2) + 8);
    let mut chars = 0;
    let mut space = true; // at the start: leading spaces are dropped
    for c in s.chars() {
        let c = if c.is_whitespace() || c.is_control() || hides(c) {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if space {
                continue;
            }
            space = true;
        } else {
            space = false;
        }
        if chars == max {
            out.push('…');
            return out;
        }
        chars += 1;
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Characters that reorder or hide text (bidirectional controls, zero-width characters).
fn hides(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn text_is_escaped_for_markdown_and_html() {
        assert_eq!(text("a|b", 10), "a\\|b");
        assert_eq!(text("<script>", 20), "&lt;script&gt;");
        assert_eq!(text("x\n# y", 20), "x \\# y");
        assert_eq!(text("  lead  and   trail  ", 40), "lead and trail");
        assert_eq!(text("abcdef", 3), "abc…");
        assert_eq!(text("é\u{202E}é", 5), "é é");
        assert_eq!(text("", 5), "");
    }
}
