//! The plan model: what `plan` prints and `apply` consumes.

use crate::issuer::{CredentialId, IssuerRef};
use crate::json_field::FieldPath;
use crate::state::Step;
use crate::store::{RetireMode, StoreRef, VersionRef};
use crate::value::{fp_hex, hex, RotationToken};
use jiff::Timestamp;
use keysweep_core::Fingerprint;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What is rotated: a store entry (optionally one JSON field of it) and the
/// issuer of the credential it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Where consumers read the secret.
    pub store: StoreRef,
    /// The JSON field holding the credential, if the secret is a JSON
    /// document; `None` rotates the whole value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<FieldPath>,
    /// The JSON field holding the credential's public id (an IAM
    /// `AccessKeyId` next to its secret key): the engine writes the new id
    /// there together with the new secret, and recognises the old credential
    /// by it when the issuer cannot tell from the secret alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_field: Option<FieldPath>,
    /// Who mints and revokes it.
    pub issuer: IssuerRef,
}

/// How old and new credentials overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum Strategy {
    /// The default: the new credential is created, tested and promoted while
    /// the old one still works; the old one is deactivated at the end of
    /// `apply` and revoked by `finalize` once `grace_secs` have passed.
    Overlap {
        /// Seconds between deactivation and revocation.
        grace_secs: u64,
        /// What to do when the issuer has no free credential slot.
        #[serde(default)]
        on_full: OnFull,
    },
    /// Incident mode: the old credential is deactivated right after the lock,
    /// before the new one exists. Consumers break until promotion. When the
    /// issuer is at its credential limit the old credential is **revoked**
    /// instead (IAM counts inactive keys against the limit), so rollback
    /// cannot restore it.
    ContainFirst {
        /// Seconds between promotion and `finalize`'s checks.
        grace_secs: u64,
    },
}

impl Strategy {
    /// The default overlap strategy with a grace period in seconds.
    pub fn overlap(grace_secs: u64) -> Strategy {
        Strategy::Overlap {
            grace_secs,
            on_full: OnFull::Refuse,
        }
    }

    /// The grace period.
    pub fn grace_secs(&self) -> u64 {
        match *self {
            Strategy::Overlap { grace_secs, .. } | Strategy::ContainFirst { grace_secs } => {
                grace_secs
            }
        }
    }
}

/// What [`Strategy::Overlap`] does when the issuer is at its credential limit
/// (IAM: two access keys per user, active or not).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFull {
    /// Refuse to plan (default): a human decides which key may go.
    #[default]
    Refuse,
    /// Revoke an *inactive* credential other than the leaked one (nobody can
    /// be using it) in a `free_slot` step; refuse if there is none.
    RevokeInactive,
}

/// A fact observed at plan time that must still hold at apply time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Precondition {
    /// The store's current version id.
    CurrentVersion {
        /// Observed version.
        version: VersionRef,
    },
    /// The keyed fingerprint of the credential value (the field, for JSON).
    CurrentValue {
        /// Observed fingerprint.
        #[serde(with = "fp_hex")]
        fingerprint: Fingerprint,
    },
    /// No pending version other than ours exists.
    NoForeignPending,
    /// The issuer's credentials of the principal, exactly.
    Credentials {
        /// Observed ids, sorted.
        ids: Vec<CredentialId>,
    },
}

/// Which operation runs a planned step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `apply`.
    Apply,
    /// `finalize`.
    Finalize,
}

/// One step of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStep {
    /// The step.
    pub step: Step,
    /// Which operation runs it.
    pub operation: Operation,
    /// What it does, in words (ids only).
    pub detail: String,
}

/// A permission the rotator needs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Permission {
    /// E.g. `secretsmanager:PutSecretValue`.
    pub action: String,
    /// E.g. the secret's ARN.
    pub resource: String,
}

/// How bad a risk is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// May need action.
    Warning,
    /// Likely outage or irreversible loss.
    High,
}

/// A risk the plan carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    /// Stable code, e.g. `manual-follow-up`.
    pub code: String,
    /// Severity.
    pub severity: Severity,
    /// Explanation (ids only).
    pub message: String,
}

/// A rotation plan: read-only output of [`PlanBuilder::plan`](crate::PlanBuilder::plan), input of
/// [`Engine::apply`](crate::Engine::apply). JSON-serialisable; holds no
/// secret values (fingerprints only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationPlan {
    /// Plan format version (1).
    pub format: u32,
    /// The rotation id, `rot-` and 12 hex digits of the token.
    pub id: String,
    /// The idempotency token of every step.
    pub token: RotationToken,
    /// When the plan was made.
    pub created_at: Timestamp,
    /// What is rotated.
    pub target: Target,
    /// How.
    pub strategy: Strategy,
    /// How `finalize` retires the old version.
    pub retire: RetireMode,
    /// The current version at plan time (the leaked value's version).
    pub old_version: VersionRef,
    /// The old (leaked) credential, if the issuer identified it.
    pub old_credential: Option<CredentialId>,
    /// The credential a `free_slot` step revokes.
    pub free_slot: Option<CredentialId>,
    /// Whether the `contain` step revokes (rather than deactivates) the old
    /// credential.
    #[serde(default)]
    pub contain_by_revoke: bool,
    /// Facts re-checked by `apply`.
    pub preconditions: Vec<Precondition>,
    /// Ordered steps of `apply` and `finalize`.
    pub steps: Vec<PlannedStep>,
    /// Permissions the rotator needs.
    pub permissions: Vec<Permission>,
    /// Risks.
    pub risks: Vec<Risk>,
    /// SHA-256 (hex) of the plan's JSON with this field empty; `apply` refuses
    /// an edited plan.
    pub plan_hash: String,
}

impl RotationPlan {
    /// Computes the hash of the plan's contents (with `plan_hash` empty).
    pub fn compute_hash(&self) -> String {
        let mut p = self.clone();
        p.plan_hash.clear();
        let bytes = serde_json::to_vec(&p).expect("plans serialise");
        hex(&Sha256::digest(&bytes))
    }

    /// Whether `plan_hash` matches the contents.
    pub fn hash_ok(&self) -> bool {
        self.plan_hash == self.compute_hash()
    }

    /// The planned steps of one operation, in order.
    pub fn steps_of(&self, op: Operation) -> impl Iterator<Item = Step> + '_ {
        self.steps
            .iter()
            .filter(move |s| s.operation == op)
            .map(|s| s.step)
    }
}
