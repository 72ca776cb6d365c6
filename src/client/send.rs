//! One request to Spira with retries. What is certain not to have reached the server (a
//! connection that could not be made, 429, 503) is tried again after an exponential backoff
//! with full jitter; 401 and 403 stop everything; any other status is the server's final
//! answer. What may have reached it (a connection broken after the request was written, a
//! timeout while waiting for the answer, 500, 502, 504, an answer that broke off) is, for a
//! request that stores something, not sent again blindly: it is the caller's to find out what
//! the server holds. A request that stores nothing (a GET) is simply tried again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::cli;
use crate::config::{Auth, Connection};

/// How requests are tried again: shared by the tools that change Spira.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct RetryArgs {
    /// Retries of a request after 429, 500, 502, 503, 504, a broken connection or a timeout.
    #[arg(long, default_value_t = 5)]
    pub(crate) retries: u32,

    /// The longest wait before a retry, in seconds, whatever a 429's Retry-After asks.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub(crate) max_wait: u64,

    /// The first backoff, in milliseconds; it doubles on each retry (full jitter), up to 30 s.
    #[arg(long, default_value_t = 500, hide = true)]
    pub(crate) backoff_ms: u64,
}

impl RetryArgs {
    /// A sender that tries again as these options say.
    pub(crate) fn sender<'a>(
        &self,
        agent: ureq::Agent,
        conn: &'a Connection,
        auth: Auth,
        verbose: bool,
        stop: &'a AtomicBool,
    ) -> Sender<'a> {
        Sender {
            agent,
            conn,
            auth,
            retries: self.retries,
            backoff_ms: self.backoff_ms,
            max_wait: Duration::from_secs(self.max_wait),
            verbose,
            stop,
        }
    }
}

/// The final answer to one request, after any retries.
pub(crate) enum Answer {
    /// 200 (or 201), with the body.
    Ok(String),
    /// A status that retrying will not change, with the first line of the body.
    Rejected(u16, String),
    /// 401 or 403.
    Denied(u16),
    /// A redirect (3xx), never followed: the status and where it pointed.
    Redirected(u16, String),
    /// The request may or may not have been carried out; why.
    Uncertain(String),
    /// Retries ran out on failures that surely stored nothing; the last reason.
    GaveUp(String),
    /// Another worker stopped the upload before this request could be sent (again).
    Stopped,
}

/// An answer, how many retries it took, and whether an earlier attempt may have reached the
/// server (only for requests sent blindly again: [`Sender::post_blind`]).
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
    /// The longest wait before a retry, whatever the server asks (`--max-wait`).
    pub(crate) max_wait: Duration,
    pub(crate) verbose: bool,
    pub(crate) stop: &'a AtomicBool,
}

/// The outcome of one attempt.
enum Attempt {
    /// A final status, the body, and the `Location` of a redirect.
    Done(u16, String, Option<String>),
    Retry {
        why: String,
        wait: Option<Duration>,
        /// The request may have reached the server and been carried out.
        maybe_done: bool,
    },
}

/// How a request is sent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A POST that stores something: a failure after which it may be stored is final.
    Storing,
    /// A POST sent again whatever happened (today's behaviour, and `--no-reconcile`).
    Blind,
    /// A GET: nothing is stored, so it is always tried again.
    Reading,
}

impl Sender<'_> {
    /// POSTs `body` (JSON) to `url` until it gets a final answer, the retries run out, the
    /// upload is stopped, or a failure leaves it uncertain whether it was carried out.
    pub(crate) fn post(&self, url: &str, body: &str, rng: &mut u64) -> Sent {
        self.send(Mode::Storing, url, Some(body), rng)
    }

    /// POSTs `body` and sends it again after any failure that may pass on a second try, even
    /// one after which it may have been carried out (`maybe_stored` says so).
    pub(crate) fn post_blind(&self, url: &str, body: &str, rng: &mut u64) -> Sent {
        self.send(Mode::Blind, url, Some(body), rng)
    }

    /// GETs `url`, trying again after any failure that may pass on a second try.
    pub(crate) fn get(&self, url: &str, rng: &mut u64) -> Sent {
        self.send(Mode::Reading, url, None, rng)
    }

    fn send(&self, mode: Mode, url: &str, body: Option<&str>, rng: &mut u64) -> Sent {
        let mut sent = Sent {
            answer: Answer::Stopped,
            retries: 0,
            maybe_stored: false,
        };
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return sent;
            }
            let (why, wait) = match self.attempt(url, body) {
                Attempt::Done(status, text, location) => {
                    sent.answer = match status {
                        200 | 201 => Answer::Ok(text),
                        401 | 403 => Answer::Denied(status),
                        300..=399 => Answer::Redirected(
                            status,
                            self.conn
                                .redact(&location.unwrap_or_else(|| "nowhere".into())),
                        ),
                        _ => Answer::Rejected(status, self.conn.redact(&first_line(&text))),
                    };
                    return sent;
                }
                Attempt::Retry {
                    why,
                    maybe_done: true,
                    ..
                } if mode == Mode::Storing => {
                    sent.answer = Answer::Uncertain(self.conn.redact(&why));
                    return sent;
                }
                Attempt::Retry {
                    why,
                    wait,
                    maybe_done,
                } => {
                    sent.maybe_stored |= maybe_done && mode == Mode::Blind;
                    (self.conn.redact(&why), wait)
                }
            };
            if sent.retries >= u64::from(self.retries) {
                sent.answer = Answer::GaveUp(format!(
                    "gave up after {} attempts: {why}",
                    sent.retries + 1
                ));
                return sent;
            }
            sent.retries += 1;
            let wait = match wait {
                // Retry-After is honoured up to the longest backoff, and said.
                Some(asked) => {
                    let capped = asked.min(self.max_wait);
                    cli::info(format_args!(
                        "{}: the server asks to wait {} s (Retry-After){}; retry {} in {} s",
                        self.conn.redact(url),
                        asked.as_secs(),
                        if capped < asked { ", capped" } else { "" },
                        sent.retries,
                        capped.as_secs()
                    ));
                    capped
                }
                None => backoff(self.backoff_ms, sent.retries, rng).min(self.max_wait),
            };
            if self.verbose {
                cli::info(format_args!(
                    "{} {}: {why}; retry {} in {} ms",
                    if body.is_some() { "POST" } else { "GET" },
                    self.conn.redact(url),
                    sent.retries,
                    wait.as_millis()
                ));
            }
            std::thread::sleep(wait);
        }
    }

    fn attempt(&self, url: &str, body: Option<&str>) -> Attempt {
        let resp = match body {
            Some(b) => self
                .conn
                .post(&self.agent, url, self.auth)
                .header("Content-Type", "application/json")
                .send(b),
            None => self.conn.get(&self.agent, url, self.auth).call(),
        };
        let mut resp = match resp {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Retry {
                    maybe_done: may_have_reached(&e),
                    why: format!("{e}{}", self.conn.via()),
                    wait: None,
                }
            }
        };
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let limit = answer_limit(body);
        let text = match resp.body_mut().with_config().limit(limit).read_to_string() {
            Ok(t) => t,
            Err(e) => {
                let why = match e {
                    ureq::Error::BodyExceedsLimit(_) => format!(
                        "the answer is larger than {} MiB, more than Spira's answer to this request can be",
                        limit >> 20
                    ),
                    e => format!("the answer broke off: {e}"),
                };
                return Attempt::Retry {
                    why,
                    wait: None,
                    maybe_done: true,
                };
            }
        };
        if self.verbose {
            let method = if body.is_some() { "POST" } else { "GET" };
            cli::info(format_args!("{method} {} {status}", self.conn.redact(url)));
        }
        match status {
            // Refused before anything was done: too many requests, or the service unavailable.
            429 | 503 => Attempt::Retry {
                why: format!("{status} {}", first_line(&text)),
                wait: if status == 429 { retry_after } else { None },
                maybe_done: false,
            },
            // A server error or a gateway that gave up: the work may have been done.
            500 | 502 | 504 => Attempt::Retry {
                why: format!("{status} {}", first_line(&text)),
                wait: None,
                maybe_done: true,
            },
            _ => Attempt::Done(status, text, location),
        }
    }
}

/// The most bytes of an answer read into memory: 64 MiB, or four times the request for a large
/// one (Spira's answer to record-multiple echoes the runs sent, with their IDs). A larger
/// answer is not Spira's: it is treated as an answer that broke off.
pub(crate) fn answer_limit(body: Option<&str>) -> u64 {
    const MIN: u64 = 64 << 20;
    body.map_or(MIN, |b| MIN.max(4 * b.len() as u64))
}

/// Whether a request that failed with `e` may have reached the server: not when no connection
/// was made (the host unknown, the connection refused, a timeout while connecting).
fn may_have_reached(e: &ureq::Error) -> bool {
    use ureq::{Error, Timeout};
    !matches!(
        e,
        Error::HostNotFound
            | Error::ConnectionFailed
            | Error::ConnectProxyFailed(_)
            | Error::BadUri(_)
            | Error::InvalidProxyUrl
            | Error::Timeout(Timeout::Resolve | Timeout::Connect)
    )
}

/// The first line of an error body, without the quotes of a JSON string, at most 500 characters.
pub(crate) fn first_line(text: &str) -> String {
    let t = text.trim().trim_matches('"');
    t.lines().next().unwrap_or("").chars().take(500).collect()
}

/// The longest wait before a retry, whatever the server asks.
const MAX_WAIT_MS: u64 = 30_000;

/// Exponential backoff with full jitter: a random wait up to base × 2^(try-1), at most 30 s.
fn backoff(base_ms: u64, tries: u64, rng: &mut u64) -> Duration {
    let cap = base_ms
        .saturating_mul(1 << (tries - 1).min(16))
        .min(MAX_WAIT_MS);
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
