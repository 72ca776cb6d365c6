//! `spira-pipe`: the nine tools behind one command (`spira-pipe parse …`), and each of them
//! when called by its own name.
/// As spira-parse and spira-map have it (see their binaries).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use spira_pipe::{batch, cases, cli, ids, inspect, map, mock, parse, post, validate};

const TOOLS: [cli::Tool; 9] = [
    ("parse", "report files -> result lines (JUnit, NUnit, xUnit, TRX, TestNG, CSV, JSON, TAP, Robot, Allure)", |a| cli::main_with("spira-parse", parse::run, a)),
    ("map", "result lines -> run lines: Spira IDs, status, dates, steps, field limits", |a| cli::main_with("spira-map", map::run, a)),
    ("validate", "lines -> the same lines, each checked against its JSON Schema", |a| cli::main_with("spira-validate", validate::run, a)),
    ("batch", "run lines -> batch lines: arrays of N runs", |a| cli::main_with("spira-batch", batch::run, a)),
    ("post", "batch lines -> created lines: the bulk upload, retries, journal, dry run", |a| cli::main_with("spira-post", post::run, a)),
    ("inspect", "any lines -> a summary: look before you upload", |a| cli::main_with("spira-inspect", inspect::run, a)),
    ("ids", "the project's test cases as CSV, for map files", |a| cli::main_with("spira-ids", ids::run, a)),
    ("cases", "result lines -> map CSV: creates the test cases a report needs", |a| cli::main_with("spira-cases", cases::run, a)),
    ("mock", "a local Spira for demos, tests and benchmarks", |a| cli::main_with("spira-mock", mock::run, a)),
];

fn main() -> std::process::ExitCode {
    cli::multi(&TOOLS)
}
