//! `spira-cases`: the Spira test cases a report needs, created.
fn main() -> std::process::ExitCode {
    spira_pipe::cli::main("spira-cases", spira_pipe::cases::run)
}
