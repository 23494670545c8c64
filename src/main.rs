//! The `keysweep` binary: a thin shim over `keysweep-cli`.
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(keysweep_cli::main());
}
