//! `spira-ids`: the project's test cases as CSV.
fn main() -> std::process::ExitCode {
    spira_pipe::cli::main("spira-ids", spira_pipe::ids::run)
}
