//! spira-parse's workers against one thread: the fuzz input is cut into reports (at each 0xFF
//! byte), a few large generated JUnit reports are put among them (so that some output outgrows
//! what a worker holds before waiting for its turn), and the whole is read as the inputs of one
//! run with `-j 1` and with `-j 3`, with and without `--keep-going`: the output bytes, the
//! counts and the error must be the same.
#![no_main]
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use clap::Parser;
use libfuzzer_sys::fuzz_target;
use spira_pipe::parse::{parse_many, Args};

struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn run(docs: &[Vec<u8>], args: &Args) -> (Vec<u8>, Result<(u64, usize), String>) {
    let out = Arc::new(Mutex::new(Vec::new()));
    let o = out.clone();
    let r = parse_many(docs, args, Box::new(move || Box::new(Shared(o.clone()))))
        .map_err(|e| e.to_string());
    let v = out.lock().unwrap().clone();
    (v, r)
}

fn big(n: usize) -> Vec<u8> {
    let mut s = String::from("<testsuite name=\"big\">\n");
    for i in 0..n {
        s.push_str(&format!("<testcase classname=\"c.K\" name=\"t{i}\" time=\"0.1\"/>\n"));
    }
    s.push_str("</testsuite>\n");
    s.into_bytes()
}

fuzz_target!(|data: &[u8]| {
    static BIG: OnceLock<Vec<u8>> = OnceLock::new();
    static ARGS: OnceLock<[Args; 4]> = OnceLock::new();
    let big = BIG.get_or_init(|| big(3000));
    let args = ARGS.get_or_init(|| {
        let a = |v: &[&str]| Args::parse_from(v);
        [
            a(&["spira-parse", "-j", "1"]),
            a(&["spira-parse", "-j", "3"]),
            a(&["spira-parse", "-j", "1", "--keep-going"]),
            a(&["spira-parse", "-j", "3", "--keep-going"]),
        ]
    });
    let mut docs: Vec<Vec<u8>> = data.split(|b| *b == 0xFF).map(<[u8]>::to_vec).collect();
    if docs.len() > 40 {
        return;
    }
    for at in [1, 4] {
        if docs.len() >= at {
            docs.insert(at, big.clone());
        }
    }
    for pair in args.chunks(2) {
        let one = run(&docs, &pair[0]);
        let three = run(&docs, &pair[1]);
        assert_eq!(one.1, three.1, "the outcome differs");
        assert!(one.0 == three.0, "the output differs");
    }
});
