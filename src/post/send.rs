//! One JSON POST to Spira with retries: 429 (honouring `Retry-After`), 500, 502, 503, 504,
//! broken connections and timeouts are tried again after an exponential backoff with full
//! jitter; 401 and 403 stop everything; any other status is the server's final answer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::cli;
use crate::config::{Auth, Connection};

/// The final answer to one request, after any retries.
pub(crate) enum Answer {
    /// 200 (or 201), with the body.
    Ok(String),
    /// A status that retrying will not change, with the first line of the body.
    Rejected(u16, String),
    /// 401 or 403.
    Denied(u16),
    /// Retries ran out; the last reason.
    GaveUp(String),
    /// Another worker stopped the upload before this request could be sent (again).
    Stopped,
}

/// An answer, how many retries it took, and whether an earlier attempt may have reached the
/// server (so that a success may have stored the same data twice).
pub(crate) struct Sent {
    pub(crate) answer: Answer,
    pub(crate) retries: u64,
    pub(crate) maybe_stored: bool,
}

/// What every request needs.
pub(crate) struct Sender<'a> {
    pub(crate) agent: ureq::Agent,
    pub(crate) conn: &'a Connection,
    pub(crate) auth: Auth,
    pub(crate) retries: u32,
    pub(crate) backoff_ms: u64,
    pub(crate) verbose: bool,
    pub(crate) stop: &'a AtomicBool,
}

/// The outcome of one attempt.
enum Attempt {
    Done(u16, String),
    Retry {
        why: String,
        wait: Option<Duration>,
        maybe_stored: bool,
    },
}

impl Sender<'_> {
    /// POSTs `body` (JSON) to `url` until it gets a final answer, the retries run out, or the
    /// upload is stopped.
    pub(crate) fn post(&self, url: &str, body: &str, rng: &mut u64) -> Sent {
        let mut sent = Sent {
            answer: Answer::Stopped,
            retries: 0,
            maybe_stored: false,
        };
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return sent;
            }
            match self.attempt(url, body) {
                Attempt::Done(status, text) => {
                    sent.answer = match status {
                        200 | 201 => Answer::Ok(text),
                        401 | 403 => Answer::Denied(status),
                        _ => Answer::Rejected(status, self.conn.redact(&first_line(&text))),
                    };
                    return sent;
                }
                Attempt::Retry {
                    why,
                    wait,
                    maybe_stored,
                } => {
                    sent.maybe_stored |= maybe_stored;
                    let why = self.conn.redact(&why);
                    if sent.retries >= u64::from(self.retries) {
                        sent.answer = Answer::GaveUp(format!(
                            "gave up after {} attempts: {why}",
                            sent.retries + 1
                        ));
                        return sent;
                    }
                    sent.retries += 1;
                    let wait = wait.unwrap_or_else(|| backoff(self.backoff_ms, sent.retries, rng));
                    if self.verbose {
                        cli::info(format_args!(
                            "POST {}: {why}; retry {} in {} ms",
                            self.conn.redact(url),
                            sent.retries,
                            wait.as_millis()
                        ));
                    }
                    std::thread::sleep(wait);
                }
            }
        }
    }

    fn attempt(&self, url: &str, body: &str) -> Attempt {
        let resp = self
            .conn
            .post(&self.agent, url, self.auth)
            .header("Content-Type", "application/json")
            .send(body);
        let mut resp = match resp {
            Ok(r) => r,
            // The request may have reached the server before the connection broke.
            Err(e) => {
                return Attempt::Retry {
                    why: e.to_string(),
                    wait: None,
                    maybe_stored: true,
                }
            }
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(300)));
        let text = match resp
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_string()
        {
            Ok(t) => t,
            Err(e) => {
                return Attempt::Retry {
                    why: format!("the answer broke off: {e}"),
                    wait: None,
                    maybe_stored: status == 200 || status == 201,
                }
            }
        };
        if self.verbose {
            cli::info(format_args!("POST {} {status}", self.conn.redact(url)));
        }
        match status {
            429 | 500 | 502 | 503 | 504 => Attempt::Retry {
                why: format!("{status} {}", first_line(&text)),
                wait: if status == 429 { retry_after } else { None },
                maybe_stored: false,
            },
            _ => Attempt::Done(status, text),
        }
    }
}

/// The first line of an error body, without the quotes of a JSON string, at most 500 characters.
pub(crate) fn first_line(text: &str) -> String {
    let t = text.trim().trim_matches('"');
    t.lines().next().unwrap_or("").chars().take(500).collect()
}

/// Exponential backoff with full jitter: a random wait up to base × 2^(try-1), at most 30 s.
fn backoff(base_ms: u64, tries: u64, rng: &mut u64) -> Duration {
    let cap = base_ms.saturating_mul(1 << (tries - 1).min(16)).min(30_000);
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    Duration::from_millis(*rng % (cap + 1))
}

/// A seed for the jitter, different per process and per worker.
pub(crate) fn seed(salt: u64) -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    (t ^ u64::from(std::process::id()) ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1
}
