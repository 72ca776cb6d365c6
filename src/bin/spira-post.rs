//! `spira-post`: batches of runs recorded in Spira.
fn main() -> std::process::ExitCode {
    spira_pipe::cli::main("spira-post", spira_pipe::post::run)
}
