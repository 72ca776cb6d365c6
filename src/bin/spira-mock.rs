//! `spira-mock`: a local Spira REST server.
fn main() -> std::process::ExitCode {
    spira_pipe::cli::main("spira-mock", spira_pipe::mock::run)
}
