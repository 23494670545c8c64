//! Refusals that protect secret values before any backend is called.

/// Environment variables that make the AWS SDK log request or response
/// bodies, which carry secret values (the list `keysweep-aws` refuses).
pub const BODY_LOGGING_VARS: [&str; 2] = ["LOG_SIGNABLE_BODY", "LOG_SENSITIVE_BODIES"];

/// A body-logging variable is set.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{var} is set: the AWS SDK would log request or response bodies, which carry secret \
     values; unset it to rotate"
)]
pub struct BodyLoggingError {
    /// The variable.
    pub var: &'static str,
}

/// Refuses to rotate when any of [`BODY_LOGGING_VARS`] is set. The front
/// end passes its environment lookup (`|k| std::env::var_os(k).is_some()`);
/// the library reads no environment itself.
pub fn refuse_body_logging(is_set: impl Fn(&str) -> bool) -> Result<(), BodyLoggingError> {
    match BODY_LOGGING_VARS.into_iter().find(|v| is_set(v)) {
        Some(var) => Err(BodyLoggingError { var }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_variables_are_refused() {
        assert!(refuse_body_logging(|_| false).is_ok());
        for var in BODY_LOGGING_VARS {
            let e = refuse_body_logging(|k| k == var).unwrap_err();
            assert_eq!(e.var, var);
            assert!(e.to_string().starts_with(var), "{e}");
        }
    }

    #[cfg(feature = "aws")]
    #[test]
    fn the_list_is_the_aws_backends_list() {
        assert_eq!(BODY_LOGGING_VARS, keysweep_aws::BODY_LOGGING_VARS);
    }
}
