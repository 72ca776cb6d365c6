//! Parameters read from a parameterised test's name.

use crate::record::RunParameter;

/// Parameters from the last bracketed group of a name: `test_x[a-1]` gives `{1: a-1}`,
/// `Test(value: 2, b=3)` gives `{value: 2, b: 3}`; unnamed values are numbered from 1.
pub(crate) fn parameters(name: &str) -> Vec<RunParameter> {
    let name = name.trim_end();
    let (open, close) = match name.chars().last() {
        Some(']') => ('[', ']'),
        Some(')') => ('(', ')'),
        _ => return Vec::new(),
    };
    // The matching opening bracket of the last one.
    let mut depth = 0;
    let mut start = None;
    for (i, c) in name.char_indices().rev() {
        if c == close {
            depth += 1;
        } else if c == open {
            depth -= 1;
            if depth == 0 {
                start = Some(i);
                break;
            }
        }
    }
    let Some(start) = start else {
        return Vec::new();
    };
    let inner = &name[start + 1..name.len() - 1];
    if inner.trim().is_empty() {
        return Vec::new();
    }
    // Split at top-level commas only.
    let mut parts = Vec::new();
    let (mut level, mut quote, mut from) = (0i32, None, 0);
    for (i, c) in inner.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[' | '{') => level += 1,
            (None, ')' | ']' | '}') => level -= 1,
            (None, ',') if level == 0 => {
                parts.push(&inner[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[from..]);
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let p = p.trim();
            let named = p.split_once(['=', ':']).filter(|(k, _)| {
                !k.trim().is_empty() && k.trim().chars().all(|c| c.is_alphanumeric() || c == '_')
            });
            match named {
                Some((k, v)) => RunParameter {
                    name: k.trim().to_string(),
                    value: v.trim().to_string(),
                },
                None => RunParameter {
                    name: (i + 1).to_string(),
                    value: p.to_string(),
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_from_names() {
        let p = parameters("test_x[a-1]");
        assert_eq!(
            p,
            [RunParameter {
                name: "1".into(),
                value: "a-1".into()
            }]
        );
        let p = parameters("Rounds(value: 1.005, mode=\"up, down\")");
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0],
            RunParameter {
                name: "value".into(),
                value: "1.005".into()
            }
        );
        assert_eq!(p[1].name, "mode");
        assert_eq!(parameters("plain"), []);
        assert_eq!(parameters("test(int)[2]")[0].value, "2");
    }
}
