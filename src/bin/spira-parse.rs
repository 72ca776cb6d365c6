//! `spira-parse`: test reports in, result lines out.

/// A directory of small reports makes many short-lived allocations per file, where glibc's
/// malloc and free took a tenth of the time; mimalloc is faster at them, and with several
/// workers it keeps a heap per thread.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() -> std::process::ExitCode {
    spira_pipe::cli::main("spira-parse", spira_pipe::parse::run)
}
