//! `spira-validate`: lines checked against a JSON Schema.
fn main() -> std::process::ExitCode {
    spira_pipe::cli::main("spira-validate", spira_pipe::validate::run)
}
