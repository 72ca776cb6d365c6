//! `spira-inspect`: a readable summary of any spira-pipe stream.
fn main() -> std::process::ExitCode {
    spira_pipe::cli::main("spira-inspect", spira_pipe::inspect::run)
}
