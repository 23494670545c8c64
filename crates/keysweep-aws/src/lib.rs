//! keysweep's rotation backends for AWS: an AWS Secrets Manager
//! [`SecretStore`] and an IAM access-key [`Issuer`], implementing the traits
//! of [`keysweep_rotate`].
//!
//! * [`SecretsManagerStore`] drives AWS's four-step rotation protocol from
//!   the client (`PutSecretValue` with `AWSPENDING`, then a compare-and-swap
//!   `UpdateSecretVersionStage` of `AWSCURRENT`), with no rotation Lambda.
//!   Store kind [`STORE_KIND`].
//! * [`IamAccessKeyIssuer`] mints, tests (STS with the new key),
//!   deactivates, deletes and verifies the death of an IAM user's access
//!   keys, and refuses to run as the user it rotates. Issuer kind
//!   [`IAM_ISSUER_KIND`].
//! * [`locate()`] finds which secret versions hold a leaked value;
//!   [`rotator_policy`] is the least-privilege policy the rotator needs.
//! * [`store_from_ref`] and [`issuer_from_ref`] let a
//!   [`BackendFactory`](keysweep_rotate::BackendFactory) re-create them from
//!   a plan.
//!
//! Connection settings ([`AwsSettings`]: region, endpoint, profile) are
//! recorded in plans; credentials always come from the standard AWS chain at
//! run time and are never written anywhere.
//!
//! **Secret hygiene.** Values travel as [`SecretValue`]s and reach the SDK
//! only as request input. Errors and `tracing` events carry ARNs, names,
//! version ids, access key ids and AWS error codes, with service messages
//! sanitized. Everything refuses to run while `LOG_SIGNABLE_BODY` or
//! `LOG_SENSITIVE_BODIES` is set, since the SDK would then log request bodies
//! (`PutSecretValue` carries the secret) or response bodies
//! (`GetSecretValue`, `CreateAccessKey`). Without them the SDK redacts bodies
//! even at `trace` (a test captures a whole rotation's `trace` output and
//! finds no key); the CLI should still cap the SDK's log targets
//! (`aws_smithy_*`, `aws_sdk_*`, `aws_config`) at `info`, for volume.
//!
//! # Example
//!
//! Planning and applying the rotation of an IAM key stored as JSON in a
//! secret (needs AWS credentials of a rotator that is *not* `app`):
//!
//! ```no_run
//! use keysweep_aws::{AwsSettings, IamAccessKeyIssuer, SecretsManagerStore};
//! use keysweep_rotate::{FieldPath, PlanBuilder};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = AwsSettings { region: Some("eu-west-1".into()), ..Default::default() };
//! let store = SecretsManagerStore::new(settings.clone(), "app/aws").await?;
//! let issuer = IamAccessKeyIssuer::new(settings, "app").await?;
//! let plan = PlanBuilder::new()
//!     .field(FieldPath::new("aws_secret_access_key")?)
//!     .id_field(FieldPath::new("aws_access_key_id")?)
//!     .plan(&store, &issuer)
//!     .await?;
//! println!("{}", serde_json::to_string_pretty(&plan)?); // no values inside
//! # Ok(()) }
//! ```
//!
//! # Crate features
//!
//! None. The AWS SDK is built without its default features: rustls over
//! `ring` (through `aws-smithy-http-client`) instead of `aws-lc-rs`, plus the
//! `sso` and `credentials-process` credential providers so every standard
//! way of logging in works.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod iam;
mod locate;
mod policy;
mod settings;
mod store;

pub use iam::{IamAccessKeyIssuer, DEFAULT_TEST_TIMEOUT};
pub use locate::{
    access_key_owner, access_key_owner_with_config, locate, locate_with_config, AwsLocation,
};
pub use policy::rotator_policy;
pub use settings::{AwsSettings, BODY_LOGGING_VARS};
pub use store::SecretsManagerStore;

#[cfg(doc)]
use keysweep_rotate::SecretValue;
use keysweep_rotate::{BackendResult, Issuer, IssuerRef, SecretStore, StoreRef};
use std::sync::Arc;

/// The [`StoreRef::kind`] of [`SecretsManagerStore`].
pub const STORE_KIND: &str = "aws-secretsmanager";

/// The [`IssuerRef::kind`] of [`IamAccessKeyIssuer`].
pub const IAM_ISSUER_KIND: &str = "aws-iam-access-key";

/// The store for `r` if its kind is [`STORE_KIND`], `Ok(None)` for other
/// kinds (for a CLI's [`BackendFactory`](keysweep_rotate::BackendFactory)
/// that tries each provider crate in turn).
pub async fn store_from_ref(r: &StoreRef) -> BackendResult<Option<Arc<dyn SecretStore>>> {
    if r.kind != STORE_KIND {
        return Ok(None);
    }
    Ok(Some(Arc::new(SecretsManagerStore::from_ref(r).await?)))
}

/// The issuer for `r` if its kind is [`IAM_ISSUER_KIND`], `Ok(None)` for
/// other kinds.
pub async fn issuer_from_ref(r: &IssuerRef) -> BackendResult<Option<Arc<dyn Issuer>>> {
    if r.kind != IAM_ISSUER_KIND {
        return Ok(None);
    }
    Ok(Some(Arc::new(IamAccessKeyIssuer::from_ref(r).await?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dispatch_ignores_other_kinds() {
        assert!(store_from_ref(&StoreRef::new("vault-kv2", "secret/x"))
            .await
            .unwrap()
            .is_none());
        assert!(issuer_from_ref(&IssuerRef::new("random", ""))
            .await
            .unwrap()
            .is_none());
    }
}
