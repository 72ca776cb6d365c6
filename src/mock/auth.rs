//! The three forms of credentials, and the lockout after repeated failures.

use std::collections::HashMap;
use std::sync::Mutex;

use tiny_http::Request;

use super::state::{Config, State};

/// Any of the three forms: `username`/`api-key` headers, the same as query parameters, or
/// HTTP Basic. Consecutive bad attempts lock the user.
pub(super) fn authenticate(
    req: &Request,
    query: &HashMap<String, String>,
    config: &Config,
    state: &Mutex<State>,
) -> std::result::Result<(), String> {
    let h = |name: &str| {
        req.headers()
            .iter()
            .find(|x| x.field.as_str().as_str().eq_ignore_ascii_case(name))
            .map(|x| x.value.as_str().to_string())
    };
    let basic = h("authorization").and_then(|v| {
        let b64 = v
            .strip_prefix("Basic ")
            .or_else(|| v.strip_prefix("basic "))?;
        let raw = base64_decode(b64.trim())?;
        let s = String::from_utf8(raw).ok()?;
        let (u, k) = s.split_once(':')?;
        Some((u.to_string(), k.to_string()))
    });
    let creds = match (h("username"), h("api-key")) {
        (Some(u), Some(k)) => Some((u, k)),
        _ => match (query.get("username"), query.get("api-key")) {
            (Some(u), Some(k)) => Some((u.clone(), k.clone())),
            _ => basic,
        },
    };
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    if st.locked {
        return Err(format!(
            "Unauthorized: the user '{}' is locked after too many failed attempts",
            config.args.username
        ));
    }
    match creds {
        Some((u, k))
            if u.eq_ignore_ascii_case(&config.args.username) && k == config.args.api_key =>
        {
            st.bad_attempts = 0;
            Ok(())
        }
        _ => {
            st.bad_attempts += 1;
            if st.bad_attempts >= config.args.lockout {
                st.locked = true;
            }
            Err("Unauthorized: the username or API key (RSS token) is not valid".into())
        }
    }
}

/// Standard base64, padded or not (the base64 crate).
pub(super) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(s).ok()
}
