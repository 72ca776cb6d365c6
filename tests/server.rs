//! A small HTTP server for the hostile-server tests: each request is answered by a rule, which
//! may forward it to a real spira-mock and change its answer, or answer by itself (an echo, a
//! redirect, a slow answer). One request per connection (`Connection: close`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// A request as the server read it.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request as one line of text, headers and body, as an echoing server shows it in
    /// its error message.
    pub fn echo(&self) -> String {
        let mut s = format!("{} {}", self.method, self.target);
        for (k, v) in &self.headers {
            s.push_str(&format!("; {k}: {v}"));
        }
        s.push_str("; ");
        s.push_str(&String::from_utf8_lossy(&self.body).replace('\n', " "));
        s
    }
}

/// A response: status, headers, body.
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn with(mut self, k: &str, v: &str) -> Resp {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// A running server; it stops with the test process.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Every request received, in order.
    pub seen: Arc<Mutex<Vec<Req>>>,
}

impl Server {
    /// Starts a server answering each request with `rule`.
    pub fn start(rule: impl Fn(&Req) -> Resp + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rule = Arc::new(rule);
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (rule, log) = (Arc::clone(&rule), Arc::clone(&log));
                std::thread::spawn(move || serve(conn, &*rule, &log));
            }
        });
        Server { url, seen }
    }

    pub fn requests(&self) -> Vec<Req> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(conn: TcpStream, rule: &(dyn Fn(&Req) -> Resp + Send + Sync), log: &Mutex<Vec<Req>>) {
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    let _ = r.read_exact(&mut body);
    let req = Req {
        method,
        target,
        headers,
        body,
    };
    log.lock().unwrap().push(req.clone());
    let resp = rule(&req);
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        resp.status,
        resp.body.len()
    )
    .into_bytes();
    for (k, v) in &resp.headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&resp.body);
    let mut w = conn;
    let _ = w.write_all(&out);
    let _ = w.flush();
}

/// Forwards a request to the spira-mock at `mock` and gives its answer.
pub fn forward(mock: &str, req: &Req) -> Resp {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut b = ureq::http::Request::builder()
        .method(req.method.as_str())
        .uri(format!("{mock}{}", req.target));
    for (k, v) in &req.headers {
        if !["host", "content-length", "connection"].contains(&k.to_ascii_lowercase().as_str()) {
            b = b.header(k.as_str(), v.as_str());
        }
    }
    let result = if req.method == "GET" {
        agent.run(b.body(()).unwrap())
    } else {
        agent.run(b.body(req.body.clone()).unwrap())
    };
    match result {
        Ok(mut r) => {
            let status = r.status().as_u16();
            let body = r.body_mut().read_to_vec().unwrap_or_default();
            Resp::new(status, body)
        }
        Err(e) => Resp::new(502, format!("forward failed: {e}")),
    }
}
