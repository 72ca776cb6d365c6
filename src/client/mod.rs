//! Talking to Spira's REST API, for every tool that does: the paged listings.

pub(crate) mod send;

use serde::Deserialize;

use serde_json::{json, Map};

use crate::config::{Auth, Connection, ConnectionArgs};
use crate::error::{Error, Result};

/// Rows per page: Spira answers at most 500.
pub(crate) const PAGE: usize = 500;

/// One test case as Spira lists it.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TestCase {
    /// Its ID (TC:n).
    pub(crate) test_case_id: u64,
    /// Its name.
    #[serde(default)]
    pub(crate) name: Option<String>,
}

/// Calls `f` with each page of the project's test cases, 500 at a time. A refusal (401, 403)
/// or any other error status is an `Error::Server` (exit 3).
pub(crate) fn each_page(
    agent: &ureq::Agent,
    conn: &Connection,
    args: &ConnectionArgs,
    f: impl FnMut(Vec<TestCase>) -> Result<()>,
) -> Result<()> {
    let base = conn.project_base(args.api_version);
    let list = |row: usize| {
        let url = format!("{base}/test-cases?starting_row={row}&number_of_rows={PAGE}");
        (url, None)
    };
    let bad = |_: &str, e: serde_json::Error| {
        Error::Server(format!("the test case list is not what Spira sends: {e}"))
    };
    pages(agent, conn, args.auth, list, bad, f)
}

/// Calls `f` with each page of a list, [`PAGE`] rows at a time, until a page is short: `list`
/// gives a page's URL (and the body to POST, if any) from its first row (from 1); `bad` the
/// error for an answer that is not a page of `T`.
pub(crate) fn pages<T: serde::de::DeserializeOwned>(
    agent: &ureq::Agent,
    conn: &Connection,
    auth: Auth,
    list: impl Fn(usize) -> (String, Option<String>),
    bad: impl Fn(&str, serde_json::Error) -> Error,
    mut f: impl FnMut(Vec<T>) -> Result<()>,
) -> Result<()> {
    let mut row = 1usize;
    loop {
        let (url, body) = list(row);
        let text = call(agent, conn, auth, &url, body.as_deref())?;
        let page: Vec<T> = serde_json::from_str(&text).map_err(|e| bad(&url, e))?;
        let n = page.len();
        f(page)?;
        if n < PAGE {
            return Ok(());
        }
        row += PAGE;
    }
}

/// One request (a GET, or a POST of `body`) and its answer's text: a refusal (401, 403), a
/// redirect or another status than 200 is an `Error::Server` (exit 3) with the server's
/// message, a 404 an `Error::Usage` (the URL or project is wrong).
pub(crate) fn call(
    agent: &ureq::Agent,
    conn: &Connection,
    auth: Auth,
    url: &str,
    body: Option<&str>,
) -> Result<String> {
    let resp = match body {
        None => conn.get(agent, url, auth).call(),
        Some(b) => conn
            .post(agent, url, auth)
            .header("Content-Type", "application/json")
            .send(b),
    };
    let mut resp = resp.map_err(|e| {
        Error::Server(format!(
            "cannot reach {}{}: {}",
            conn.url,
            conn.via(),
            conn.redact(&e.to_string())
        ))
    })?;
    let status = resp.status().as_u16();
    // The lists read are well under a megabyte a page: a far larger answer is not Spira's.
    let text = resp
        .body_mut()
        .with_config()
        .limit(ANSWER_LIMIT)
        .read_to_string()
        .map_err(|e| {
            Error::Server(match e {
                ureq::Error::BodyExceedsLimit(_) => format!(
                    "the answer from {} is larger than {} MiB: not Spira's",
                    conn.redact(url),
                    ANSWER_LIMIT >> 20
                ),
                e => format!("cannot read the answer: {}", conn.redact(&e.to_string())),
            })
        })?;
    match status {
        200 => Ok(text),
        300..=399 => {
            let to = resp
                .headers()
                .get("location")
                .map(|v| conn.redact(&String::from_utf8_lossy(v.as_bytes())))
                .unwrap_or_else(|| "nowhere".into());
            Err(redirected(status, &to))
        }
        401 | 403 => Err(Error::Server(format!(
            "{status} from Spira: check the user name and API key (RSS token), whether the account is locked, and that the user is a member of project PR:{}",
            conn.project
        ))),
        404 => Err(not_found(&conn.redact(url), &conn.redact(&text))),
        _ => {
            let shown: String = conn.redact(text.trim()).chars().take(300).collect();
            Err(Error::Server(format!("{status} from Spira: {}", crate::cli::printable(&shown))))
        }
    }
}

/// The most bytes of an answer read into memory.
const ANSWER_LIMIT: u64 = 64 << 20;

/// The error of a 404 on an API path: the URL, the API version or the project is wrong, which
/// is a configuration error (exit 2), not a rejected request. `message` is the answer's body.
pub(crate) fn not_found(url: &str, message: &str) -> Error {
    let shown: String = message
        .trim()
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    Error::Usage(format!(
        "404 from {url} ({shown}): the URL does not reach Spira's REST API for this project; check --url (Spira's base URL, without /Services/...), --api-version and --project (nothing was stored)"
    ))
}

/// The error of a redirect, which is never followed.
pub(crate) fn redirected(status: u16, location: &str) -> Error {
    Error::Server(format!(
        "the server answered {status}, a redirect to {location}: redirects are not followed (the credentials would go along, and a POST would be turned into a GET that stores nothing); give the address it names with --url, or check the URL's scheme and path"
    ))
}

/// One request as it would be sent, the key shown as `***` wherever it would appear.
pub(crate) fn request_line(
    buf: &mut Vec<u8>,
    conn: &Connection,
    url: &str,
    auth: Auth,
    body: &str,
) {
    method_line(buf, conn, "POST", url, auth, Some(body));
}

/// As [`request_line`], for any method; a request without a body has `"body": null`.
pub(crate) fn method_line(
    buf: &mut Vec<u8>,
    conn: &Connection,
    method: &str,
    url: &str,
    auth: Auth,
    body: Option<&str>,
) {
    let mut headers = Map::new();
    headers.insert("Content-Type".into(), json!("application/json"));
    headers.insert("Accept".into(), json!("application/json"));
    let shown_url = match auth {
        Auth::Query => format!(
            "{url}?username={}&api-key=***",
            crate::config::percent_encode(&conn.username)
        ),
        _ => url.to_string(),
    };
    match auth {
        Auth::Headers => {
            headers.insert("username".into(), json!(conn.username));
            headers.insert("api-key".into(), json!("***"));
        }
        Auth::Basic => {
            headers.insert("Authorization".into(), json!("Basic ***"));
        }
        Auth::Query => {}
    }
    // Written in reading order: method, URL, headers, body.
    buf.extend_from_slice(b"{\"method\":");
    let _ = serde_json::to_writer(&mut *buf, method);
    buf.extend_from_slice(b",\"url\":");
    let _ = serde_json::to_writer(&mut *buf, &shown_url);
    buf.extend_from_slice(b",\"headers\":");
    let _ = serde_json::to_writer(&mut *buf, &headers);
    buf.extend_from_slice(b",\"body\":");
    buf.extend_from_slice(body.unwrap_or("null").as_bytes());
    buf.push(b'}');
}
