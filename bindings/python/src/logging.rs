//! Diagnostics: `KEYSWEEP_LOG` (a `tracing` filter such as `debug` or
//! `keysweep_core=trace`), read once at import, turns on a subscriber that
//! writes to stderr, as the command line does. Unset or empty: nothing is
//! installed and logging costs nothing. The core never logs secret values.

/// The environment variable read at import.
pub const LOG_ENV: &str = "KEYSWEEP_LOG";

pub fn init() {
    let spec = match std::env::var(LOG_ENV) {
        Ok(s) if !s.trim().is_empty() => s,
        _ => return,
    };
    // As in the command line: keysweep-backends' subscriber and directives
    // (the rotation backends' HTTP and SDK stacks, which can log request and
    // response bodies at debug/trace, are capped at warn).
    if let Err(e) = keysweep_backends::install_stderr_logging(&spec) {
        eprintln!("keysweep: ignoring invalid {LOG_ENV}={spec:?}: {e}");
    }
}
