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
    let filter = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new(default));
    // Third-party crates never see secret values through keysweep, but cap them
    // anyway so nothing they print at trace level ends up in CI logs.
    let filter = filter
        .add_directive("ignore=info".parse().expect("static directive"))
        .add_directive("globset=info".parse().expect("static directive"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .without_time()
        .try_init();
}
