//! Diagnostics on stderr through `tracing`, filtered by `KEYSWEEP_LOG` or -v/-q.

/// Environment variable with a `tracing` filter (e.g. `debug`, `keysweep_core=trace`).
pub const LOG_ENV: &str = "KEYSWEEP_LOG";

pub fn init(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    // KEYSWEEP_LOG when it is a valid filter, else the -v/-q level; the
    // rotation backends' HTTP and SDK stacks are capped whatever it asks for
    // (keysweep-backends' directives).
    let spec = std::env::var(LOG_ENV).unwrap_or_default();
    if spec.trim().is_empty() || keysweep_backends::install_stderr_logging(&spec).is_err() {
        let _ = keysweep_backends::install_stderr_logging(default);
    }
}
