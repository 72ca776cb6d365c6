//! `spira-map`: result lines in, Spira test runs out.

/// spira-map makes a few short-lived allocations per result, where glibc's malloc and free
/// took a tenth of its time: mimalloc makes it about 13% faster, for some 10 MB more memory
/// (flat: it does not grow with the input). The other tools keep the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    spira_pipe::cli::main("spira-map", spira_pipe::map::run)
}
