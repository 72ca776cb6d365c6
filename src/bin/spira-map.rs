//! `spira-map`: result lines in, Spira test runs out.
fn main() -> std::process::ExitCode {
    spira_pipe::cli::main("spira-map", spira_pipe::map::run)
}
