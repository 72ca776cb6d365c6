//! RunnerStackTrace as Inflectra's reader writes it: type, message, details, output and
//! properties; here also the other outcomes and earlier attempts. Written straight as JSON
//! string content where it can be (long fields are copied as they are escaped in the line).

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::line::Line;
use crate::cli;

/// Where a stack trace is written: decoded text, or JSON string content.
trait TraceText {
    /// Appends plain text.
    fn text(&mut self, s: &str);
    /// Appends a string field of the result line as given (a JSON string literal), less its
    /// trailing white space.
    fn field(&mut self, raw: &RawValue) -> serde_json::Result<()>;
}

impl TraceText for String {
    fn text(&mut self, s: &str) {
        self.push_str(s);
    }

    fn field(&mut self, raw: &RawValue) -> serde_json::Result<()> {
        let text: Cow<'_, str> = serde_json::from_str(raw.get())?;
        self.push_str(text.trim_end());
        Ok(())
    }
}

/// The trace as the inside of a JSON string: long fields (stack traces, output) are copied as
/// they are escaped in the line, not decoded and escaped again.
impl TraceText for Vec<u8> {
    fn text(&mut self, s: &str) {
        crate::json::escape(self, s);
    }

    fn field(&mut self, raw: &RawValue) -> serde_json::Result<()> {
        let literal = raw.get();
        // A string literal's quotes are ASCII: the inside starts and ends on character bounds.
        let inner = literal
            .strip_prefix('"')
            .and_then(|l| l.strip_suffix('"'))
            .filter(|_| literal.len() >= 2)
            .ok_or_else(|| <serde_json::Error as serde::de::Error>::custom("expected a string"))?;
        if memchr::memmem::find(inner.as_bytes(), b"\\u").is_some() {
            // `\u` escapes are decoded, so a lone surrogate is an error here as it is in text.
            let text: Cow<'_, str> = serde_json::from_str(literal)?;
            crate::json::escape(self, text.trim_end());
        } else {
            self.extend_from_slice(crate::json::trim_end_escaped(inner.as_bytes()));
        }
        Ok(())
    }
}

/// The stack trace of a run: type, message, details, the other outcomes, the reruns, the steps
/// (when `steps`), output and properties, as Inflectra's reader assembles it (not yet trimmed).
fn stack_trace<T: TraceText>(r: &Line<'_>, s: &mut T, steps: bool) -> serde_json::Result<()> {
    let line = |s: &mut T, parts: &[&str]| {
        for p in parts {
            s.text(p);
        }
        s.text("\n");
    };
    if let Some(t) = &r.failure_type {
        line(s, &["Type: ", t]);
    }
    if let Some(m) = &r.message {
        line(s, &["Message: ", m]);
    }
    if let Some(d) = r.details {
        s.field(d)?;
        s.text("\n");
    }
    for o in &r.other_outcomes {
        line(s, &["\n--- also <", &o.kind, "> ---"]);
        for part in [&o.failure_type, &o.message, &o.details]
            .into_iter()
            .flatten()
        {
            line(s, &[part.trim_end()]);
        }
    }
    for (i, x) in r.reruns.iter().enumerate() {
        line(
            s,
            &[
                "\n--- attempt ",
                &(i + 1).to_string(),
                " (",
                &x.kind,
                ") ---",
            ],
        );
        for part in [&x.message, &x.details].into_iter().flatten() {
            line(s, &[part.trim_end()]);
        }
    }
    if steps && !r.steps.is_empty() {
        s.text("\n--- steps ---\n");
        for (i, x) in r.steps.iter().enumerate() {
            let n = (i + 1).to_string();
            line(s, &[&n, ". ", &x.name, " [", x.status.as_str(), "]"]);
            for l in x.message.as_deref().unwrap_or("").trim_end().lines() {
                line(s, &["   ", l]);
            }
        }
    }
    for (title, text) in [("stdout", r.stdout), ("stderr", r.stderr)] {
        if let Some(t) = text {
            s.text("\n--- ");
            s.text(title);
            s.text(" ---\n");
            s.field(t)?;
            s.text("\n");
        }
    }
    if !r.properties.is_empty() {
        s.text("\n--- properties ---\n");
        for p in &r.properties {
            line(s, &[&p.name, " = ", &p.value]);
        }
    }
    Ok(())
}

/// The stack trace as text, trimmed; None when empty. `steps`: whether it lists the steps
/// (they are not listed when they are written as TestRunSteps).
pub(super) fn stack_trace_text(r: &Line<'_>, steps: bool) -> serde_json::Result<Option<String>> {
    let mut s = String::new();
    stack_trace(r, &mut s, steps)?;
    Ok(cli::trim_owned(s))
}

/// The stack trace as the inside of a JSON string, trimmed; None when empty.
pub(super) fn stack_trace_json(
    r: &Line<'_>,
    out: &mut Vec<u8>,
    steps: bool,
) -> serde_json::Result<bool> {
    out.clear();
    stack_trace(r, out, steps)?;
    let end = crate::json::trim_end_escaped(out).len();
    out.truncate(end);
    let start = out.len() - crate::json::trim_start_escaped(out).len();
    out.drain(..start);
    Ok(!out.is_empty())
}

pub(super) fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}
