//! `spira-parse`: test reports in, result lines out.
fn main() -> std::process::ExitCode {
    spira_pipe::cli::main("spira-parse", spira_pipe::parse::run)
}
