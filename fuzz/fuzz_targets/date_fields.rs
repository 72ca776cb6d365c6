//! Arbitrary bytes as every date- or duration-bearing attribute and field of each report format
//! (spira-parse, both threads), of a result line (spira-map, with the default and the WCF date
//! form) and of a run line (spira-inspect): errors and warnings are fine, panics are not.
#![no_main]
use clap::Parser;
use libfuzzer_sys::fuzz_target;
use spira_pipe::parse::{parse_bytes, Args};

mod date_reports;
mod input_file;
use input_file::input_file;

fuzz_target!(|data: &[u8]| {
    let v = String::from_utf8_lossy(data);
    static ARGS: std::sync::OnceLock<[Args; 2]> = std::sync::OnceLock::new();
    let args = ARGS.get_or_init(|| {
        [
            Args::parse_from(["spira-parse", "-j", "1"]),
            Args::parse_from(["spira-parse", "-j", "2"]),
        ]
    });
    for (_, report) in date_reports::reports(&v) {
        for a in args {
            let _ = parse_bytes(report.as_bytes(), a, Box::new(std::io::sink()));
        }
    }
    let line = serde_json::json!({
        "format": "junit", "report": "r", "suites": ["s"], "name": "t", "status": "passed",
        "duration": v.parse::<f64>().ok(), "start": v, "suite_start": v,
    });
    let run = serde_json::json!({"TestCaseId": 1, "ExecutionStatusId": 2, "StartDate": v,
                                 "EndDate": v, "RunnerName": "x"});
    let text = format!("{line}\n{line}\n{run}\n");
    let Some(path) = input_file(text.as_bytes(), "date_fields.jsonl") else { return };
    let p = path.as_str();
    for extra in [&[][..], &["--date-format", "wcf", "--aggregate"]] {
        let mut argv = vec!["spira-map", "--default-test-case", "1", "--start", "2024-05-14T12:00:00Z", p];
        argv.extend_from_slice(extra);
        let _ = spira_pipe::map::run(spira_pipe::map::Args::parse_from(argv));
    }
    let _ = spira_pipe::inspect::run(spira_pipe::inspect::Args::parse_from(["spira-inspect", p]));
});
