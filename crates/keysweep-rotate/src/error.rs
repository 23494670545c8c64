//! Errors of stores and issuers ([`BackendError`]) and of the engine ([`Error`]).
//!
//! No error message ever contains a secret value. Backend implementations must
//! build messages from identifiers (ARNs, version ids, access key ids) and
//! provider error codes only; the engine itself formats only ids, states and
//! fingerprints.

use crate::state::{State, Step};
use serde::{Deserialize, Serialize};

/// What went wrong in a store or issuer call, in provider-neutral terms.
///
/// The class decides what the engine does next, and is what the journal
/// records (`error_class`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorClass {
    /// The secret, version, staged value or credential does not exist.
    NotFound,
    /// A compare-and-swap failed or an idempotency token is already bound to
    /// another value: somebody else changed the target.
    Conflict,
    /// A quota was hit (IAM's two access keys per user).
    LimitExceeded,
    /// Another rotation holds the target (a foreign `AWSPENDING`, a Vault
    /// lock key).
    Locked,
    /// Permission denied, or the rotator would use the leaked credential.
    Denied,
    /// The backend cannot do this (deactivate a random secret).
    Unsupported,
    /// The request or the stored data is malformed (not JSON, field missing).
    Invalid,
    /// A timeout, throttling or network error: retrying may help.
    Transient,
    /// A credential did not pass its test.
    TestFailed,
    /// A precondition recorded in the plan no longer holds.
    Stale,
    /// Simulated process death (fault-injecting fakes only): the engine
    /// stops at once without journaling the step's outcome, as if killed.
    Crash,
    /// Anything else.
    Other,
}

impl ErrorClass {
    /// The `snake_case` name used in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::NotFound => "not_found",
            ErrorClass::Conflict => "conflict",
            ErrorClass::LimitExceeded => "limit_exceeded",
            ErrorClass::Locked => "locked",
            ErrorClass::Denied => "denied",
            ErrorClass::Unsupported => "unsupported",
            ErrorClass::Invalid => "invalid",
            ErrorClass::Transient => "transient",
            ErrorClass::TestFailed => "test_failed",
            ErrorClass::Stale => "stale",
            ErrorClass::Crash => "crash",
            ErrorClass::Other => "other",
        }
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from a [`SecretStore`](crate::SecretStore) or
/// [`Issuer`](crate::Issuer). The message names ids and provider error codes,
/// never values.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{class}: {message}")]
pub struct BackendError {
    /// The class, which drives the engine's decision.
    pub class: ErrorClass,
    /// A human explanation without secret values.
    pub message: String,
}

impl BackendError {
    /// A new error. `message` must not contain secret values.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> BackendError {
        BackendError {
            class,
            message: message.into(),
        }
    }

    /// Whether this is the simulated crash of a fault-injecting fake.
    pub fn is_crash(&self) -> bool {
        self.class == ErrorClass::Crash
    }
}

/// Result of a store or issuer call.
pub type BackendResult<T> = std::result::Result<T, BackendError>;

/// An error of the rotation engine, the planner or the journal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A store or issuer call failed during a step.
    #[error("step {step}: {source}")]
    Step {
        /// The step that failed.
        step: Step,
        /// The backend's error.
        #[source]
        source: BackendError,
    },
    /// A step failed before promotion; the rotation was compensated (staged
    /// value discarded, new credential revoked, lock released) and is ABORTED.
    #[error("rotation {rotation_id} aborted: step {step} failed: {source}")]
    Aborted {
        /// The rotation id.
        rotation_id: String,
        /// The step that failed.
        step: Step,
        /// Its error.
        #[source]
        source: BackendError,
    },
    /// A store or issuer call failed outside the state machine (planning,
    /// precondition checks).
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// A fake simulated process death during `step`; nothing about the step's
    /// outcome was journaled. Resume from the journal.
    #[error("simulated crash during step {step}")]
    Crashed {
        /// The step that was running.
        step: Step,
    },
    /// The plan's preconditions no longer hold; plan again.
    #[error("stale plan {rotation_id}: {reasons:?}")]
    StalePlan {
        /// The plan's rotation id.
        rotation_id: String,
        /// Which preconditions failed (ids and fingerprints only).
        reasons: Vec<String>,
    },
    /// The plan cannot be carried out at all (e.g. the issuer is at its
    /// credential limit and the strategy refuses to free a slot).
    #[error("cannot plan: {0}")]
    Refused(String),
    /// The plan file was edited after it was made.
    #[error("plan {rotation_id}: plan_hash does not match its contents")]
    PlanHashMismatch {
        /// The plan's rotation id.
        rotation_id: String,
    },
    /// `apply` was called for a rotation that already has a journal.
    #[error("rotation {0} was already applied; use resume, rollback or finalize")]
    AlreadyStarted(String),
    /// No journal exists for the rotation.
    #[error("no journal for rotation {0}")]
    NoJournal(String),
    /// Another process holds the rotation's lock file.
    #[error("rotation {0} is locked by another process")]
    Locked(String),
    /// The operation is not allowed in the rotation's current state.
    #[error("cannot {op} rotation {rotation_id} in state {state}")]
    InvalidState {
        /// The rotation id.
        rotation_id: String,
        /// Its state.
        state: State,
        /// The refused operation.
        op: &'static str,
    },
    /// `finalize` was called before the grace period ended.
    #[error("grace period of rotation {rotation_id} ends in {remaining_secs} s")]
    GraceNotElapsed {
        /// The rotation id.
        rotation_id: String,
        /// Seconds left.
        remaining_secs: i64,
    },
    /// A JSON secret document could not be read or edited.
    #[error("JSON field {field}: {reason}")]
    Field {
        /// The field path.
        field: String,
        /// Why (position information only, never content).
        reason: String,
    },
    /// The journal is unreadable.
    #[error("journal {path}: line {line}: {reason}")]
    CorruptJournal {
        /// The journal file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// Why.
        reason: String,
    },
    /// An I/O error on the journal or lock file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A rotation id that is not `[a-z0-9-]{1,64}`.
    #[error("invalid rotation id")]
    InvalidRotationId,
}

impl Error {
    /// The class recorded in the journal for this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Step { source, .. } | Error::Aborted { source, .. } | Error::Backend(source) => {
                source.class
            }
            Error::Crashed { .. } => ErrorClass::Crash,
            Error::StalePlan { .. } | Error::PlanHashMismatch { .. } => ErrorClass::Stale,
            Error::Locked(_) => ErrorClass::Locked,
            Error::Field { .. } => ErrorClass::Invalid,
            Error::Refused(_) => ErrorClass::LimitExceeded,
            _ => ErrorClass::Other,
        }
    }
}

/// Result of engine operations.
pub type Result<T> = std::result::Result<T, Error>;
