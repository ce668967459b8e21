//! The `sanshe` program: see `sanshe --help`.

fn main() {
    std::process::exit(sanshe::cli::main());
}
