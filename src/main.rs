//! The `sanshe` program: see `sanshe --help`.

/// mimalloc gives freed memory back to the system soon after a burst, where glibc's per-thread arenas
/// kept it resident (scripts/bench-writes measures the server's RSS after 32 concurrent sign-ins).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(sanshe::cli::main());
}
