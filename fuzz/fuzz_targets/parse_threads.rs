//! spira-parse's reader thread against one thread: the input follows some 70 KB of plain
//! testcases, so that the reader thread takes over after the first reads, and the results and
//! the error (message and position) must be the same with `-j 1` and `-j 2`.
#![no_main]
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use clap::Parser;
use libfuzzer_sys::fuzz_target;
use spira_pipe::parse::{parse_bytes, Args};

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

fn parse(doc: &[u8], args: &Args) -> (Vec<u8>, Result<u64, String>) {
    let out = Arc::new(Mutex::new(Vec::new()));
    let r = parse_bytes(doc, args, Box::new(Shared(out.clone()))).map_err(|e| e.to_string());
    let v = out.lock().unwrap().clone();
    (v, r)
}

fuzz_target!(|data: &[u8]| {
    static PREFIX: OnceLock<Vec<u8>> = OnceLock::new();
    static ARGS: OnceLock<(Args, Args)> = OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let mut s = String::from("<testsuites>\n<testsuite name=\"s\">\n");
        for i in 0..1000 {
            s.push_str(&format!("<testcase classname=\"c\" name=\"t{i}\" time=\"0.1\"/>\n"));
        }
        s.into_bytes()
    });
    let (one, two) = ARGS.get_or_init(|| {
        let a = |j: &str| Args::parse_from(["spira-parse", "-j", j, "--max-field-bytes", "64"]);
        (a("1"), a("2"))
    });
    let mut doc = prefix.clone();
    doc.extend_from_slice(data);
    assert_eq!(parse(&doc, one), parse(&doc, two));
});
