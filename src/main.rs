//! The `keysweep` binary: a thin shim over `keysweep-cli`.

fn main() {
    std::process::exit(keysweep_cli::main());
}
