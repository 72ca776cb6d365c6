//! Build facts the tools print with `--version`: the commit (from git, or `SPIRA_COMMIT` when
//! the source is built outside a git checkout, as from a source archive) and the target triple.

fn main() {
    let commit = std::env::var("SPIRA_COMMIT").ok().or_else(|| {
        std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    });
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    // musl's memcpy and memmove are slow on short copies: native/musl_memcpy.c replaces them in
    // the static x86_64 musl builds (measured in BENCHMARKS.md).
    if target == "x86_64-unknown-linux-musl" {
        println!("cargo:rerun-if-changed=native/musl_memcpy.c");
        cc::Build::new()
            .file("native/musl_memcpy.c")
            .flag("-fno-builtin")
            .flag("-fno-tree-loop-distribute-patterns")
            .opt_level(2)
            .compile("spira_memcpy");
    }
    println!(
        "cargo:rustc-env=SPIRA_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".into())
    );
    println!("cargo:rustc-env=SPIRA_TARGET={target}");
    println!("cargo:rerun-if-env-changed=SPIRA_COMMIT");
    println!("cargo:rerun-if-changed=.git/HEAD");
    // The branch HEAD names moves with each commit.
    if let Ok(head) = std::fs::read_to_string(".git/HEAD") {
        if let Some(r) = head.trim().strip_prefix("ref: ") {
            println!("cargo:rerun-if-changed=.git/{r}");
        }
    }
}
