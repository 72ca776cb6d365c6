//! Facts about Spira the tools share: execution status IDs and field limits. The two date forms
//! the REST API reads are in [`crate::date`].

/// Execution status IDs.
pub(crate) mod status {
    /// Failed.
    pub(crate) const FAILED: u8 = 1;
    /// Passed.
    pub(crate) const PASSED: u8 = 2;
    /// Not Run.
    pub(crate) const NOT_RUN: u8 = 3;
    /// N/A.
    pub(crate) const NOT_APPLICABLE: u8 = 4;
    /// Blocked.
    pub(crate) const BLOCKED: u8 = 5;
    /// Caution.
    pub(crate) const CAUTION: u8 = 6;

    /// Spira's name for a status ID.
    pub(crate) fn name(id: u8) -> &'static str {
        match id {
            FAILED => "Failed",
            PASSED => "Passed",
            NOT_RUN => "Not Run",
            NOT_APPLICABLE => "N/A",
            BLOCKED => "Blocked",
            CAUTION => "Caution",
            _ => "unknown",
        }
    }

    /// The ID of a Spira status name (`Blocked`, `not run`, `N/A`, ...).
    pub(crate) fn by_name(name: &str) -> Option<u8> {
        let n: String = name
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect();
        Some(match n.as_str() {
            "failed" => FAILED,
            "passed" => PASSED,
            "notrun" => NOT_RUN,
            "n/a" | "na" | "notapplicable" => NOT_APPLICABLE,
            "blocked" => BLOCKED,
            "caution" => CAUTION,
            _ => return None,
        })
    }

    /// Worst first, for aggregation: Failed > Blocked > Caution > Not Run > N/A > Passed.
    pub(crate) fn severity(id: u8) -> u8 {
        match id {
            FAILED => 6,
            BLOCKED => 5,
            CAUTION => 4,
            NOT_RUN => 3,
            NOT_APPLICABLE => 2,
            PASSED => 1,
            _ => 0,
        }
    }
}

/// `RunnerName`: a database column of 20 characters.
pub(crate) const RUNNER_NAME_MAX: usize = 20;
/// `RunnerTestName` and `RunnerMessage`: 255 characters.
pub(crate) const TEXT_255: usize = 255;

/// The length of `s` in UTF-16 code units, as the server's columns count it.
pub(crate) fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// `s` cut to at most `max` UTF-16 units on a character boundary, ending with `…` when cut.
pub(crate) fn truncate_utf16(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    // A character never takes more UTF-16 units than UTF-8 bytes.
    if s.len() <= max || utf16_len(s) <= max {
        return std::borrow::Cow::Borrowed(s);
    }
    let budget = max.saturating_sub(1); // room for the ellipsis (one unit)
    let mut used = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if used + c.len_utf16() > budget {
            break;
        }
        used += c.len_utf16();
        end = i + c.len_utf8();
    }
    std::borrow::Cow::Owned(format!("{}…", &s[..end]))
}

/// Where Spira's web pages show an artifact: `{base}/{project}/TestRun/{id}.aspx` and the
/// like. The one place these patterns live (spira-inspect's links, spira-post's summary).
pub(crate) mod web {
    /// The kinds of artifact with a page of their own.
    #[derive(Clone, Copy, Debug)]
    pub(crate) enum Page {
        TestRun,
        TestCase,
        Build,
        Release,
    }

    /// The page of artifact `id` of `kind` in `project`, under the server's base URL (as
    /// `--url` or SPIRA_URL give it; a trailing `/` is dropped). Characters that would end a
    /// Markdown link or an HTML attribute are percent-encoded.
    pub(crate) fn url(base: &str, project: u64, kind: Page, id: u64) -> String {
        let page = match kind {
            Page::TestRun => "TestRun",
            Page::TestCase => "TestCase",
            Page::Build => "Build",
            Page::Release => "Release",
        };
        let mut out = String::with_capacity(base.len() + 32);
        for c in base.trim().trim_end_matches('/').chars() {
            match c {
                ' ' | '(' | ')' | '<' | '>' | '"' | '\'' | '[' | ']' | '`' | '\\' => {
                    out.push_str(&format!("%{:02X}", c as u32))
                }
                c if c.is_control() => {
                    let mut b = [0; 4];
                    for byte in c.encode_utf8(&mut b).bytes() {
                        out.push_str(&format!("%{byte:02X}"));
                    }
                }
                c => out.push(c),
            }
        }
        format!("{out}/{project}/{page}/{id}.aspx")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_pages_of_each_kind() {
        use web::{url, Page};
        let base = "https://acme.spiraservice.net/";
        assert_eq!(
            url(base, 3, Page::TestRun, 77),
            "https://acme.spiraservice.net/3/TestRun/77.aspx"
        );
        assert_eq!(
            url(base, 3, Page::TestCase, 1),
            "https://acme.spiraservice.net/3/TestCase/1.aspx"
        );
        assert_eq!(
            url(base, 3, Page::Build, 5),
            "https://acme.spiraservice.net/3/Build/5.aspx"
        );
        assert_eq!(
            url(base, 3, Page::Release, 9),
            "https://acme.spiraservice.net/3/Release/9.aspx"
        );
        assert_eq!(
            url("http://h/a b)", 1, Page::Build, 2),
            "http://h/a%20b%29/1/Build/2.aspx"
        );
        assert_eq!(
            url("http://h/\nx", 1, Page::Build, 2),
            "http://h/%0Ax/1/Build/2.aspx"
        );
    }

    #[test]
    fn truncates_by_utf16_units() {
        assert_eq!(truncate_utf16("abc", 3), "abc");
        assert_eq!(truncate_utf16("abcd", 3), "ab…");
        // An astral character is two units and is never split.
        assert_eq!(truncate_utf16("a😀b", 3), "a…");
        assert_eq!(utf16_len("a😀b"), 4);
        assert_eq!(truncate_utf16("ééééé", 4), "ééé…");
    }
}
