//! The [`Issuer`] trait: who mints and revokes a credential.

use crate::error::BackendResult;
use crate::plan::{Permission, Risk};
use crate::value::{RotationToken, SecretValue};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A redaction-safe description of an issuer, precise enough for a
/// [`BackendFactory`](crate::BackendFactory) to re-create it after a crash.
///
/// Known kinds: `random` ([`RandomIssuer`](crate::RandomIssuer); options
/// `alphabet`, `length`), `aws-iam-access-key` (principal: the IAM user),
/// `postgres`, `memory` (the testing fake).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerRef {
    /// The issuer implementation.
    pub kind: String,
    /// Whose credential (an IAM user name, a database role); may be empty.
    pub principal: String,
    /// Non-secret settings.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

impl IssuerRef {
    /// A reference with no options.
    pub fn new(kind: impl Into<String>, principal: impl Into<String>) -> IssuerRef {
        IssuerRef {
            kind: kind.into(),
            principal: principal.into(),
            options: BTreeMap::new(),
        }
    }
}

/// The public identifier of a credential (an IAM `AccessKeyId`, a database
/// role name): loggable, never the secret part.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CredentialId(pub String);

impl CredentialId {
    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialId({})", self.0)
    }
}

/// A credential's id and secret value, as minted by [`Issuer::create`].
#[derive(Clone, Debug)]
pub struct Credential {
    /// Public id.
    pub id: CredentialId,
    /// The secret; `Debug` redacts it.
    pub value: SecretValue,
}

/// Whether a credential may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialStatus {
    /// Usable.
    Active,
    /// Deactivated (reversible).
    Inactive,
}

/// One credential as the issuer lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialInfo {
    /// Its id.
    pub id: CredentialId,
    /// Active or not.
    pub status: CredentialStatus,
}

/// What an issuer reports about the principal owning a credential.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerState {
    /// The credential whose value is the one inspected (the leaked one), if
    /// the issuer can tell.
    pub current: Option<CredentialId>,
    /// All credentials of the principal (counting towards its limit).
    pub credentials: Vec<CredentialInfo>,
    /// Whether the principal is quarantined (AWS
    /// `AWSCompromisedKeyQuarantine*` attached): rotation may be denied.
    pub quarantined: bool,
}

/// What an issuer can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerCaps {
    /// The most credentials a principal may hold, active or not (IAM: 2).
    pub max_credentials: Option<usize>,
    /// Old and new credentials can be valid at the same time.
    pub overlap: bool,
    /// `deactivate`/`reactivate` are supported.
    pub deactivate: bool,
    /// `revoke` is supported.
    pub revoke: bool,
    /// `verify_dead` can tell a dead credential from a live one.
    pub verify_dead: bool,
}

/// The outcome of [`Issuer::set`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum SetOutcome {
    /// The issuer applied the new credential (e.g. `ALTER ROLE … PASSWORD`),
    /// or nothing needed doing (IAM keys exist once created).
    Applied,
    /// A human must finish the step (e.g. update consumers of a random
    /// application secret). The text names places, never values; it is
    /// journaled and shown by `status`.
    ManualFollowUp {
        /// What to do.
        instructions: String,
    },
}

/// What a passed [`Issuer::test`] observed (no values), for the journal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestEvidence {
    /// E.g. `sts:GetCallerIdentity arn:aws:iam::1:user/app after 2 tries`.
    pub detail: String,
}

/// The result of [`Issuer::verify_dead`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Liveness {
    /// The credential no longer authenticates.
    Dead,
    /// It still works.
    Alive,
    /// The issuer cannot tell.
    Unknown,
}

/// Context for [`Issuer::create`].
#[derive(Clone, Debug, Default)]
pub struct CreateCtx {
    /// Credential ids observed at plan time (the old one included), so an
    /// issuer without tags can recognise what it minted for this rotation.
    pub known: Vec<CredentialId>,
    /// The old credential, when the issuer needs it (e.g. to log in as the
    /// rotator of a database role).
    pub old: Option<CredentialId>,
}

/// Who minted a credential and can mint, test, deactivate and revoke it: IAM
/// access keys, a database user, nothing (a random application secret).
///
/// Every mutating method must be safe to call again after it took effect
/// (the engine replays steps after a crash): `deactivate`, `reactivate` and
/// `revoke` of a credential already in that state succeed.
///
/// Differences from the sketch in DESIGN.md 7.2, and why:
/// * no associated `Draft` type: the engine holds issuers as
///   `Arc<dyn Issuer>` built by a factory from the plan, which needs an
///   object-safe trait;
/// * `create` returns the [`Credential`] (id and value) so the engine can
///   journal the id before it stages the value, and [`Issuer::find`] lets the
///   engine find a credential minted by a `create` whose result was lost in a
///   crash, so it can be revoked instead of leaking a slot;
/// * `deactivate`/`reactivate`/`revoke` take ids, and `verify_dead` takes the
///   whole old credential, read back from the store's previous version.
#[async_trait]
pub trait Issuer: Send + Sync {
    /// The redaction-safe identifier of this issuer.
    fn describe(&self) -> IssuerRef;

    /// What this issuer can do.
    fn capabilities(&self) -> IssuerCaps;

    /// Permissions the rotator needs on this issuer, for the plan.
    fn required_permissions(&self) -> Vec<Permission> {
        Vec::new()
    }

    /// Which credential `current` is, and the principal's credentials.
    async fn inspect(&self, current: &SecretValue) -> BackendResult<IssuerState>;

    /// Issuer-specific risks for the plan (e.g. the rotator's own identity
    /// is close to the leaked one). Read-only; ids only, never values.
    async fn plan_risks(&self) -> BackendResult<Vec<Risk>> {
        Ok(Vec::new())
    }

    /// Mints a new credential for `token` (createSecret, value half). Fails
    /// with `LimitExceeded` when the principal has no free slot.
    async fn create(&self, token: &RotationToken, ctx: &CreateCtx) -> BackendResult<Credential>;

    /// The credential minted by `create` for `token`, if one exists; used to
    /// clean up after a crash that lost `create`'s result. Issuers that cannot
    /// tag credentials compare against `ctx.known` (and creation time).
    async fn find(
        &self,
        token: &RotationToken,
        ctx: &CreateCtx,
    ) -> BackendResult<Option<CredentialId>>;

    /// Puts the new credential into effect (setSecret). `old` is the
    /// credential being replaced, if known.
    async fn set(&self, new: &Credential, old: Option<&CredentialId>) -> BackendResult<SetOutcome>;

    /// Checks that `new` works (testSecret), with the issuer's own bounded
    /// retries; fails with `TestFailed` otherwise.
    async fn test(&self, new: &Credential) -> BackendResult<TestEvidence>;

    /// Deactivates a credential (reversible).
    async fn deactivate(&self, id: &CredentialId) -> BackendResult<()>;

    /// Reactivates a deactivated credential.
    async fn reactivate(&self, id: &CredentialId) -> BackendResult<()>;

    /// Revokes (deletes) a credential: irreversible. Succeeds if already gone.
    async fn revoke(&self, id: &CredentialId) -> BackendResult<()>;

    /// Whether a revoked credential is really dead.
    async fn verify_dead(&self, old: &Credential) -> BackendResult<Liveness>;
}
