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
    let mut filter = filter
        .add_directive("ignore=info".parse().expect("static directive"))
        .add_directive("globset=info".parse().expect("static directive"));
    // The rotation backends' HTTP and SDK stacks can log request and response
    // bodies (secret values) at debug/trace: capped at warn, whatever the
    // filter asks for.
    for target in keysweep_backends::CAPPED_LOG_TARGETS {
        filter = filter.add_directive(format!("{target}=warn").parse().expect("static directive"));
    }
    for target in keysweep_backends::SILENCED_LOG_TARGETS {
        filter = filter.add_directive(format!("{target}=off").parse().expect("static directive"));
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .without_time()
        .try_init();
}
