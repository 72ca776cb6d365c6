//! Answers on the wire: how an answer is written, how a broken connection is faked, a query
//! value decoded, and the dice of the faults.

use std::io::Write;

use tiny_http::Request;

/// An answer: status, content type, extra headers and body.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) content_type: &'static str,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: Vec<u8>,
}

pub(super) fn text(status: u16, body: impl Into<String>) -> Answer {
    Answer {
        status,
        content_type: "text/plain; charset=utf-8",
        headers: Vec::new(),
        body: body.into().into_bytes(),
    }
}

pub(super) fn json_response(status: u16, body: Vec<u8>) -> Answer {
    Answer {
        status,
        content_type: "application/json; charset=utf-8",
        headers: Vec::new(),
        body,
    }
}

/// Writes the whole answer in one write: status line, headers and body together, so that
/// Nagle's algorithm never holds a body back waiting for a delayed ACK of its headers.
pub(super) fn respond(req: Request, a: Answer) {
    let reason = match a.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut out = Vec::with_capacity(a.body.len() + 256);
    let _ = write!(
        out,
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nServer: spira-mock\r\n",
        a.status,
        a.content_type,
        a.body.len()
    );
    for (k, v) in &a.headers {
        let _ = write!(out, "{k}: {v}\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&a.body);
    let mut w = req.into_writer();
    let _ = w.write_all(&out);
    let _ = w.flush();
}

/// Ends the exchange as a broken connection would: an answer the client cannot read.
pub(super) fn break_connection(req: Request) {
    let mut w = req.into_writer();
    let _ = w.write_all(b"XX\r\n\r\n");
    let _ = w.flush();
}

/// SplitMix64: a small, seedable dice for faults.
pub(super) fn next_random(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// A query value: `+` is a space, `%XX` a byte (the percent-encoding crate; a `%` that starts
/// no escape stays as written), bytes that are not UTF-8 are replaced.
pub(super) fn decode(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// A route's reply: status, body, and whether the body is JSON.
pub(super) type Reply = (u16, Vec<u8>, bool);

pub(super) fn plain(status: u16, msg: impl Into<String>) -> Reply {
    (status, msg.into().into_bytes(), false)
}

/// A page asked for by the query parameters named `start` (the first row, from 1) and `count`
/// (at most 500): how many rows to skip and how many to take.
pub(super) fn rows(
    query: &std::collections::HashMap<String, String>,
    start: &str,
    count: &str,
) -> (usize, usize) {
    let n = |k: &str, d: usize| {
        query
            .get(k)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(d)
    };
    (n(start, 1).max(1) - 1, n(count, 500).min(500))
}

/// A search's body, an array of `RemoteFilter`s; a 400 saying so when it is not one.
pub(super) fn remote_filters<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<Vec<T>, Reply> {
    serde_json::from_slice(body).map_err(|e| {
        plain(
            400,
            format!("The body must be an array of RemoteFilter: {e}"),
        )
    })
}
