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
    let filter = match EnvFilter::try_new(&spec) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("keysweep: ignoring invalid {LOG_ENV}={spec:?}: {e}");
            return;
        }
    };
    // As in the command line: cap third-party crates' chatter.
    let mut filter = filter
        .add_directive("ignore=info".parse().expect("static directive"))
        .add_directive("globset=info".parse().expect("static directive"));
    // The rotation backends' HTTP and SDK stacks can log request and response
    // bodies (secret values) at debug/trace: capped at warn, whatever the
    // filter asks for (the command line's list).
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
