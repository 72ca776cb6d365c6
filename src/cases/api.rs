//! The requests spira-cases makes, through the shared retrying sender: JSON in and out, each
//! answer turned into what the caller needs (a value, a rejection it reports, or an outcome it
//! must check), and the failures that stop everything turned into errors.

use serde_json::Value;

use crate::client::send::{Answer, Sender};
use crate::error::{Error, Result};

/// What a request that creates something came to.
pub(super) enum Posted {
    /// Done: the server's answer.
    Done(Value),
    /// Refused by the server, with its status and message: this one thing is not done.
    Rejected(u16, String),
    /// It may or may not be done (the answer was lost): the caller checks.
    Uncertain(String),
}

/// Spira's project API for one project.
pub(super) struct Api<'a> {
    pub(super) sender: Sender<'a>,
    /// `.../RestService.svc/projects/{id}`.
    pub(super) base: String,
}

impl Api<'_> {
    /// GETs `path` (under the project) and reads its JSON; any failure stops everything.
    pub(super) fn get(&self, path: &str, rng: &mut u64) -> Result<Value> {
        let url = format!("{}/{path}", self.base);
        match self.sender.get(&url, rng).answer {
            Answer::Ok(text) => serde_json::from_str(&text)
                .map_err(|e| Error::Server(format!("the answer to GET {path} is not JSON: {e}"))),
            Answer::Rejected(404, m) => {
                Err(crate::client::not_found(&self.sender.conn.redact(&url), &m))
            }
            other => Err(self.fatal(other, &format!("GET {path}"))),
        }
    }

    /// POSTs `body` to `path`: done, rejected, or uncertain; a refusal of the credentials, a
    /// redirect or a network that stays down stops everything.
    pub(super) fn post(&self, path: &str, body: &Value, rng: &mut u64) -> Result<Posted> {
        let url = format!("{}/{path}", self.base);
        match self.sender.post(&url, &body.to_string(), rng).answer {
            Answer::Ok(text) => Ok(match serde_json::from_str(&text) {
                Ok(v) => Posted::Done(v),
                Err(_) => Posted::Uncertain("the answer is not JSON".into()),
            }),
            Answer::Rejected(status, message) => Ok(Posted::Rejected(status, message)),
            Answer::Uncertain(why) => Ok(Posted::Uncertain(why)),
            other => Err(self.fatal(other, &format!("POST {path}"))),
        }
    }

    /// The error of an answer that stops everything.
    fn fatal(&self, answer: Answer, what: &str) -> Error {
        match answer {
            Answer::Denied(status) => Error::Server(format!(
                "{status} from Spira: check the user name and API key (RSS token), whether the account is locked, and that the user may create test cases in project PR:{} (nothing more was sent)",
                self.sender.conn.project
            )),
            Answer::Redirected(status, to) => crate::client::redirected(status, &to),
            Answer::Rejected(status, m) => Error::Server(format!("{what}: {status} {m}")),
            Answer::GaveUp(why) | Answer::Uncertain(why) => {
                Error::Server(format!("{what}: {why}"))
            }
            Answer::Stopped => Error::Server(format!("{what}: stopped")),
            Answer::Ok(_) => Error::Server(format!("{what}: an answer that was not expected")),
        }
    }
}

/// A positive integer field of an answer.
pub(super) fn id(v: &Value, field: &str) -> Option<u64> {
    v.get(field).and_then(Value::as_u64).filter(|&n| n > 0)
}
