//! keysweep's rotation backends by kind.
//!
//! [`Backends`] is the [`BackendFactory`] the command line and the Python
//! bindings hand to [`keysweep_rotate::Engine`]: it turns a plan's
//! [`StoreRef`]/[`IssuerRef`] into a live store or issuer. Cloud backends are
//! cargo features, so a scanner-only build compiles no SDK:
//!
//! | feature    | kinds                                         |
//! |------------|-----------------------------------------------|
//! | (always)   | issuer `random`                               |
//! | `aws`      | store `aws-secretsmanager`, issuer `aws-iam-access-key` |
//! | `vault`    | stores `vault-kv2`, `vault-kv1`               |
//! | `postgres` | issuer `postgres`                             |
//!
//! A kind whose feature is off is refused with the feature to enable.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use keysweep_rotate::{
    async_trait, BackendError, BackendFactory, BackendResult, ErrorClass, Issuer, IssuerRef,
    RandomIssuer, SecretStore, StoreRef,
};
use std::sync::Arc;

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

/// Stores and issuers by kind (see the crate docs for which are built in).
#[derive(Clone, Copy, Debug, Default)]
pub struct Backends;

/// The cargo feature providing `kind`, if it is a known kind.
fn feature_of(kind: &str) -> Option<&'static str> {
    if kind.starts_with("aws-") {
        Some("aws")
    } else if kind.starts_with("vault-") {
        Some("vault")
    } else if kind == "postgres" {
        Some("postgres")
    } else {
        None
    }
}

fn unavailable(what: &str, kind: &str) -> BackendError {
    let msg = match feature_of(kind) {
        Some(f) => format!(
            "{what} kind `{kind}` is not built into this keysweep (it has: {}); it needs the \
             `{f}` cargo feature (command line: `cargo install keysweep --features {f}`, \
             or --features rotate-all)",
            built_in().join(", ")
        ),
        None => format!(
            "unknown {what} kind `{kind}` (stores: aws-secretsmanager, vault-kv2, vault-kv1; \
             issuers: random, aws-iam-access-key, postgres)"
        ),
    };
    BackendError::new(ErrorClass::Unsupported, msg)
}

#[async_trait]
impl BackendFactory for Backends {
    async fn store(&self, r: &StoreRef) -> BackendResult<Arc<dyn SecretStore>> {
        #[cfg(feature = "aws")]
        if let Some(s) = keysweep_aws::store_from_ref(r).await? {
            return Ok(s);
        }
        #[cfg(feature = "vault")]
        if let Some(s) = keysweep_vault::store_from_ref(r).await? {
            return Ok(s);
        }
        Err(unavailable("store", &r.kind))
    }

    async fn issuer(&self, r: &IssuerRef) -> BackendResult<Arc<dyn Issuer>> {
        if r.kind == "random" {
            return Ok(Arc::new(RandomIssuer::from_ref(r)?));
        }
        #[cfg(feature = "aws")]
        if let Some(i) = keysweep_aws::issuer_from_ref(r).await? {
            return Ok(i);
        }
        #[cfg(feature = "postgres")]
        if let Some(i) = keysweep_postgres::issuer_from_ref(r).await? {
            return Ok(i);
        }
        Err(unavailable("issuer", &r.kind))
    }
}

/// The kinds this build can handle.
pub fn built_in() -> Vec<&'static str> {
    let mut v = vec!["random"];
    if cfg!(feature = "aws") {
        v.extend(["aws-secretsmanager", "aws-iam-access-key"]);
    }
    if cfg!(feature = "vault") {
        v.extend(["vault-kv2", "vault-kv1"]);
    }
    if cfg!(feature = "postgres") {
        v.push("postgres");
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_missing_kinds_explain_themselves() {
        let e = unavailable("store", "aws-secretsmanager").to_string();
        assert!(e.contains("--features aws"), "{e}");
        let e = unavailable("issuer", "carrier-pigeon").to_string();
        assert!(e.contains("unknown issuer kind"), "{e}");
        assert!(built_in().contains(&"random"));
    }
}
