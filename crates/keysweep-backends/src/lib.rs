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
//!
//! It also holds the rotation application layer the command line and the
//! Python bindings share (they parse arguments, call these and print):
//!
//! | module (private) | public items |
//! |------------------|--------------|
//! | `config`   | `keysweep-rotate.toml`: [`RotateConfig`] ([`RotateConfig::load`], [`RotateConfig::select`], [`RotateConfig::planned_targets`]), [`RotationEntry`], [`PlannedTarget`], [`merge_defaults`], [`strategy`], [`retire`], [`field`], [`VaultMount`]; [`ConfigError`], [`EntryError`] |
//! | `findings` | [`FindingRef`], [`parse_findings`] (scan JSON, bare arrays, JSON Lines) |
//! | `plan`     | [`plan_target`]: a [`PlannedTarget`] to a named plan; [`PlanError`] |
//! | `locate`   | [`locate()`]: where findings' values are stored ([`LocateOptions`], [`LocateReport`], [`Located`], [`Hints`], IAM owners); [`LocateError`] |
//! | `suggest`  | [`suggest_config`]: `[[rotation]]` entries for located findings |
//! | `safety`   | [`refuse_body_logging`] ([`BODY_LOGGING_VARS`]) |
//! | `logging`  | [`log_directives()`], [`CAPPED_LOG_TARGETS`], [`SILENCED_LOG_TARGETS`] |
//!
//! Plan files, durations, spec parsing and the state-dir rule are in
//! `keysweep-rotate`. Nothing here reads environment variables (the
//! provider crates read their own SDK settings, such as `VAULT_ADDR`).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod config;
mod findings;
mod locate;
mod logging;
mod plan;
mod safety;
mod suggest;

pub use config::{
    field, merge_defaults, retire, strategy, BackendSpec, ConfigError, EntryError, LocateConfig,
    MountError, PlannedTarget, RotateConfig, RotationEntry, VaultMount, DEFAULT_CONFIG,
    DEFAULT_GRACE_SECS,
};
pub use findings::{parse_findings, FindingRef, FindingsError};
pub use locate::{locate, AwsSearch, Hints, LocateError, LocateOptions, LocateReport, Located};
#[cfg(feature = "stderr-log")]
pub use logging::install_stderr_logging;
pub use logging::{log_directives, CAPPED_LOG_TARGETS, SILENCED_LOG_TARGETS};
pub use plan::{plan_target, PlanError};
pub use safety::{refuse_body_logging, BodyLoggingError, BODY_LOGGING_VARS};
pub use suggest::suggest_config;

use keysweep_rotate::{
    async_trait, BackendError, BackendFactory, BackendResult, ErrorClass, Issuer, IssuerRef,
    RandomIssuer, SecretStore, StoreRef,
};
use std::sync::Arc;

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
             `{f}` cargo feature",
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
        assert!(e.contains("`aws` cargo feature"), "{e}");
        let e = unavailable("issuer", "carrier-pigeon").to_string();
        assert!(e.contains("unknown issuer kind"), "{e}");
        assert!(built_in().contains(&"random"));
    }

    #[test]
    fn plan_target_names_the_failing_side() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let t = PlannedTarget {
            name: "x".into(),
            target: keysweep_rotate::Target {
                store: StoreRef::new("carrier-pigeon", "loft/1"),
                field: None,
                id_field: None,
                issuer: IssuerRef::new("random", ""),
            },
            strategy: keysweep_rotate::Strategy::overlap(60),
            retire: keysweep_rotate::RetireMode::DropLabels,
        };
        let e = rt
            .block_on(plan_target(&t, &Default::default()))
            .unwrap_err();
        assert!(matches!(e, PlanError::Store { .. }), "{e:?}");
        assert_eq!(e.to_string(), "\"x\": store carrier-pigeon:loft/1");
        assert!(std::error::Error::source(&e)
            .unwrap()
            .to_string()
            .contains("unknown store kind"));
    }
}
