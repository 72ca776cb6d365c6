//! `spira-batch`: run lines grouped into record-multiple bodies.
fn main() -> std::process::ExitCode {
    spira_pipe::cli::main("spira-batch", spira_pipe::batch::run)
}
