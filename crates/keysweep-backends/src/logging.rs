//! What a program logging keysweep's rotations must filter out.
//!
//! The directives are plain `tracing` filter strings (the `EnvFilter`
//! syntax), so this crate needs no subscriber.

/// Third-party `tracing` targets of the backends' SDK and HTTP stacks. A
/// program logging keysweep's rotations caps them at `warn` whatever its
/// filter asks for: at debug/trace they may print request and response
/// details (the stores' own targets never print values).
pub const CAPPED_LOG_TARGETS: &[&str] = &[
    "aws_config",
    "aws_credential_types",
    "aws_runtime",
    "aws_sdk_iam",
    "aws_sdk_secretsmanager",
    "aws_sdk_sts",
    "aws_sigv4",
    "aws_smithy_http",
    "aws_smithy_http_client",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "h2",
    "hyper",
    "hyper_rustls",
    "hyper_util",
    "postgres_protocol",
    "reqwest",
    "rustls",
    "tokio_postgres",
    "tokio_rustls",
    "tower",
    "vaultrs",
];

/// Targets to silence entirely: vaultrs's HTTP layer (`rustify`) logs every
/// non-2xx answer as an error, including the 404s the Vault store expects (a
/// staging key not written yet); the store reports real failures itself.
pub const SILENCED_LOG_TARGETS: &[&str] = &["rustify", "rustify_derive"];

/// Scanner dependencies capped at `info` (they never see secret values, but
/// nothing they print at trace level should end up in CI logs).
const QUIET_SCANNER_TARGETS: &[&str] = &["ignore", "globset"];

/// The filter directives of keysweep's front ends: `base` (a filter such as
/// `debug` or `keysweep_core=trace,info`, split at commas), then caps that
/// win over it: [`CAPPED_LOG_TARGETS`] at `warn`, [`SILENCED_LOG_TARGETS`]
/// off, `ignore`/`globset` at `info`. Join them with `,` for an `EnvFilter`.
pub fn log_directives(base: &str) -> Vec<String> {
    let mut out: Vec<String> = base
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .collect();
    out.extend(QUIET_SCANNER_TARGETS.iter().map(|t| format!("{t}=info")));
    out.extend(CAPPED_LOG_TARGETS.iter().map(|t| format!("{t}=warn")));
    out.extend(SILENCED_LOG_TARGETS.iter().map(|t| format!("{t}=off")));
    out
}

/// Installs, for a program, a `tracing` subscriber that writes to stderr
/// (targets shown, no timestamps) with the filter `spec` (`EnvFilter`
/// syntax, such as the value of `KEYSWEEP_LOG`) plus [`log_directives`].
/// An invalid `spec` installs nothing and is returned as the error. A
/// second call (a subscriber already installed) does nothing. The command
/// line and the Python bindings both call this (cargo feature
/// `stderr-log`).
#[cfg(feature = "stderr-log")]
pub fn install_stderr_logging(spec: &str) -> Result<(), String> {
    use tracing_subscriber::EnvFilter;
    EnvFilter::try_new(spec).map_err(|e| e.to_string())?;
    let filter = EnvFilter::try_new(log_directives(spec).join(",")).map_err(|e| e.to_string())?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .without_time()
        .try_init();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_come_after_the_base() {
        let d = log_directives("trace, hyper=trace,");
        assert_eq!(&d[..2], ["trace", "hyper=trace"]);
        let after = |x: &str| d.iter().rposition(|y| y == x).unwrap();
        assert!(after("hyper=warn") > after("hyper=trace"));
        assert!(d.contains(&"rustify=off".to_string()));
        assert!(d.contains(&"globset=info".to_string()));
        assert_eq!(log_directives("").len(), d.len() - 2);
    }
}
