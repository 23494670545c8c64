//! The [`SecretStore`] trait: where consumers read a secret.

use crate::error::BackendResult;
use crate::plan::{Permission, Risk};
use crate::value::{RotationToken, SecretValue};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A redaction-safe description of a store entry, precise enough for a
/// [`BackendFactory`](crate::BackendFactory) to re-create the store after a
/// crash.
///
/// Known kinds: `aws-secretsmanager` (locator: secret name or ARN; options:
/// `region`, `endpoint_url`), `vault-kv2` (locator: `mount/path`; options:
/// `address`, `staging_prefix`, `lock_prefix`), `memory` (the testing fake).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreRef {
    /// The store implementation.
    pub kind: String,
    /// Which secret (a name, an ARN, a KV path).
    pub locator: String,
    /// Non-secret connection settings.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

impl StoreRef {
    /// A reference with no options.
    pub fn new(kind: impl Into<String>, locator: impl Into<String>) -> StoreRef {
        StoreRef {
            kind: kind.into(),
            locator: locator.into(),
            options: BTreeMap::new(),
        }
    }
}

impl fmt::Display for StoreRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.locator)
    }
}

/// A version of a stored secret: an AWS `VersionId` (for versions we write,
/// the [`RotationToken`]), a Vault KV v2 version number in decimal.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VersionRef(pub String);

impl VersionRef {
    /// The version id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&RotationToken> for VersionRef {
    fn from(t: &RotationToken) -> VersionRef {
        VersionRef(t.as_str().to_string())
    }
}

impl fmt::Display for VersionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for VersionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VersionRef({})", self.0)
    }
}

/// One version and its labels, as [`SecretStore::inspect`] reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// The version.
    pub version: VersionRef,
    /// Its staging labels (AWS) or state words (`current`, `deleted`).
    pub labels: Vec<String>,
}

/// What a store looks like now, without values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreState {
    /// The version consumers read (`AWSCURRENT`, KV v2 `current_version`).
    pub current: Option<VersionRef>,
    /// The pending version, if any (`AWSPENDING`, a Vault staging key).
    pub pending: Option<VersionRef>,
    /// The previous version, if any (`AWSPREVIOUS`).
    pub previous: Option<VersionRef>,
    /// All versions the store reports.
    pub versions: Vec<VersionInfo>,
    /// Whether the store runs its own rotation (AWS `RotationEnabled`): a
    /// plan risk, since a Lambda could rotate concurrently.
    pub native_rotation: bool,
}

/// What a store can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCaps {
    /// Old versions stay readable, so rollback is possible.
    pub versioned: bool,
    /// Promotion is a compare-and-swap.
    pub cas: bool,
    /// Versions carry labels (AWS staging labels).
    pub labels: bool,
    /// Maximum versions kept, when the store prunes (`max_versions`).
    pub max_versions: Option<u32>,
}

/// How to retire the old (leaked) version after its credential is revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RetireMode {
    /// Remove its labels (AWS: drop `AWSPREVIOUS`; the version becomes
    /// deprecated and AWS garbage-collects it). Vault: same as `SoftDelete`.
    DropLabels,
    /// Vault `delete_versions` (reversible).
    SoftDelete,
    /// Vault `destroy_versions` (irreversible).
    Destroy,
}

/// Where consumers read the secret: an AWS Secrets Manager secret, a Vault KV
/// path.
///
/// Values are whole documents. Field addressing (`password` inside a JSON
/// secret) is done once by the engine ([`replace_field`](crate::replace_field)),
/// so stores only move whole values.
///
/// Every mutating method is **idempotent by token**: the engine replays a step
/// after a crash, so calling it again with the same arguments after it already
/// took effect must succeed without changing anything.
///
/// Differences from the sketch in DESIGN.md 7.2, and why:
/// * `acquire` returns nothing and `release` exists: a lock guard object
///   cannot survive a crash; the journal remembers that the lock was taken and
///   `release` is a journaled step.
/// * `promote` does not also clear the pending label; that is the separate,
///   journaled `discard_staged` of the cleanup step, so a crash between the
///   two leaves a state `resume` recognises (PROMOTED, not yet CUTOVER).
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The redaction-safe identifier of the entry this store handles.
    fn describe(&self) -> StoreRef;

    /// What the store can do.
    fn capabilities(&self) -> StoreCaps;

    /// Permissions the rotator needs on this store, for the plan.
    fn required_permissions(&self) -> Vec<Permission> {
        Vec::new()
    }

    /// Versions and labels, no values.
    async fn inspect(&self) -> BackendResult<StoreState>;

    /// Store-specific risks for the plan (e.g. Vault's `max_versions` or
    /// `delete_version_after` pruning the previous version). Read-only;
    /// messages name ids and settings, never values.
    async fn plan_risks(&self) -> BackendResult<Vec<Risk>> {
        Ok(Vec::new())
    }

    /// The current version and its value.
    async fn read_current(&self) -> BackendResult<(VersionRef, SecretValue)>;

    /// The value of one version.
    async fn read_version(&self, version: &VersionRef) -> BackendResult<SecretValue>;

    /// Takes the store-side lock for `token`: fails with
    /// [`ErrorClass::Locked`](crate::ErrorClass::Locked) when another rotation
    /// holds the entry. AWS: checks that no foreign `AWSPENDING` exists
    /// (the pending label is the lock). Vault: writes a lock key with `cas=0`.
    async fn acquire(&self, token: &RotationToken) -> BackendResult<()>;

    /// Releases the lock taken by `acquire` (no-op when not held).
    async fn release(&self, token: &RotationToken) -> BackendResult<()>;

    /// Stores `value` as the pending version for `token` (createSecret,
    /// storage half), returning its version. If a pending value for `token`
    /// exists with the same bytes this is a no-op; with different bytes it
    /// fails with `Conflict` (never overwrite).
    async fn stage(&self, token: &RotationToken, value: &SecretValue) -> BackendResult<VersionRef>;

    /// The pending value for `token`. Fails with `NotFound` if the pending
    /// label or staging key is no longer ours.
    async fn read_staged(&self, token: &RotationToken) -> BackendResult<SecretValue>;

    /// Makes the pending version current (finishSecret) if and only if the
    /// current version is still `expected_current` (compare-and-swap; a
    /// mismatch is `Conflict`). Succeeds without change when `token`'s version
    /// is already current. Returns the new current version.
    async fn promote(
        &self,
        token: &RotationToken,
        expected_current: &VersionRef,
    ) -> BackendResult<VersionRef>;

    /// Makes `to` current again if the current version is still
    /// `expected_current` (rollback, compare-and-swap). Succeeds without
    /// change when `to` is already current.
    async fn demote(
        &self,
        to: &VersionRef,
        expected_current: &VersionRef,
    ) -> BackendResult<VersionRef>;

    /// Removes the pending label or staging key of `token`, never touching the
    /// current version. No-op when absent.
    async fn discard_staged(&self, token: &RotationToken) -> BackendResult<()>;

    /// Retires an old version (see [`RetireMode`]). No-op when already
    /// retired; refuses (`Conflict`) to retire the current version.
    async fn retire_version(&self, version: &VersionRef, how: RetireMode) -> BackendResult<()>;
}
