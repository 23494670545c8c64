//! Diagnostics: `KEYSWEEP_LOG` (a `tracing` filter such as `debug` or
//! `keysweep_core=trace`), read once at import, turns on a subscriber that
//! writes to stderr, as the command line does. Unset or empty: nothing is
//! installed and logging costs nothing. The core never logs secret values.

use tracing_subscriber::EnvFilter;

/// The environment variable read at import.
pub const LOG_ENV: &str = "KEYSWEEP_LOG";

pub fn init() {
    let spec = match std::env::var(LOG_ENV) {
        Ok(s) if !s.trim().is_empty() => s,
        _ => return,
    };
    if let Err(e) = EnvFilter::try_new(&spec) {
        eprintln!("keysweep: ignoring invalid {LOG_ENV}={spec:?}: {e}");
        return;
    }
    // As in the command line (keysweep-backends' directives): third-party
    // crates are capped, and the rotation backends' HTTP and SDK stacks,
    // which can log request and response bodies (secret values) at
    // debug/trace, are capped at warn whatever the filter asks for.
    let Ok(filter) = EnvFilter::try_new(keysweep_backends::log_directives(&spec).join(",")) else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .without_time()
        .try_init();
}
