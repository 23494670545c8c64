//! Diagnostics on stderr through `tracing`, filtered by `KEYSWEEP_LOG` or -v/-q.

use tracing_subscriber::EnvFilter;

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
    // KEYSWEEP_LOG when it is a valid filter, else the -v/-q level.
    let base = std::env::var(LOG_ENV)
        .ok()
        .filter(|s| EnvFilter::try_new(s).is_ok())
        .unwrap_or_else(|| default.to_string());
    // Third-party crates are capped whatever the filter asks for: the
    // rotation backends' HTTP and SDK stacks can log request and response
    // bodies (secret values) at debug/trace (keysweep-backends' list).
    let filter = EnvFilter::try_new(keysweep_backends::log_directives(&base).join(","))
        .unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .without_time()
        .try_init();
}
