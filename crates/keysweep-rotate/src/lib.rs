//! keysweep's rotation engine: replace a leaked credential safely.
//!
//! No network: provider crates (`keysweep-aws`, `keysweep-vault`) implement
//! the two traits here, and this crate drives them.
//!
//! * A [`SecretStore`] is where consumers read the secret (an AWS Secrets
//!   Manager secret, a Vault KV path); an [`Issuer`] mints, tests, deactivates
//!   and revokes the credential (IAM access keys, a database role, or the
//!   [`RandomIssuer`] for application secrets). Values are [`SecretValue`]s,
//!   which cannot be printed; logs and journals carry keyed fingerprints.
//!   JSON secrets are rotated one field at a time ([`FieldPath`]).
//! * [`PlanBuilder`] inspects both (read-only) and returns a
//!   [`RotationPlan`]: steps, preconditions with observed version ids,
//!   required permissions, risks and a hash. It serialises to JSON and holds
//!   no values.
//! * [`Engine::apply`] refuses a stale or edited plan, takes a lock file and
//!   runs a state machine mirroring AWS's createSecret → setSecret →
//!   testSecret → finishSecret, then deactivates the old credential
//!   ([`State`] has the diagram). Every step is journaled (append-only JSONL,
//!   fsynced) and idempotent by [`RotationToken`], so [`Engine::resume`],
//!   [`Engine::rollback`], [`Engine::finalize`] and [`Engine::status`] work
//!   from the journal alone after a crash, with stores and issuers re-created
//!   by a [`BackendFactory`] from the plan's target description.
//!
//! # Where each concept lives
//!
//! | module (private)  | public items |
//! |-------------------|--------------|
//! | `store`, `issuer` | [`SecretStore`], [`StoreRef`], [`RetireMode`]; [`Issuer`], [`IssuerRef`] |
//! | `plan`            | the plan model: [`RotationPlan`], [`Strategy`], [`OnFull`], [`Target`], steps, risks |
//! | `planner`         | [`PlanBuilder`] (reads, then small pure steps), [`check_preconditions`] |
//! | `plan_file`       | plan files: [`PlanFile`], [`NamedPlan`] (load, parse, atomic save, `version`) |
//! | `spec`            | text forms: `FromStr`/`Display` of [`StoreRef`] (`KIND:LOCATOR`), [`IssuerRef`] (`KIND[:PRINCIPAL]`), [`RetireMode`], [`OnFull`], [`StrategyKind`]; [`SpecError`] |
//! | `duration`        | [`parse_duration`] (`7d`, `12h`, `30m`, `45s`, seconds; jiff), [`format_duration`] |
//! | `state_dir`       | [`resolve_state_dir`]: explicit, config, environment value, default |
//! | `engine`, `run`, `state`, `journal` | [`Engine`], the state machine, [`RotationStatus`], journals |
//! | `locate`          | [`Locator`]: which stored values match findings' fingerprints |
//!
//! The library reads no environment variable of its own (the front ends
//! read `KEYSWEEP_*` and pass values in); [`FingerprintKey::from_env`] is
//! keysweep-core's.
//!
//! # Example
//!
//! Rotating the `password` field of a JSON secret with the in-memory fakes:
//!
//! ```
//! # #[cfg(feature = "testing")] {
//! use keysweep_rotate::testing::{FakeFactory, FakeIam, FakeSecretsManager};
//! use keysweep_rotate::{Engine, FieldPath, PlanBuilder, State};
//! use std::sync::Arc;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let iam = FakeIam::new(2);
//! iam.add_credential(b"leaked-password-0001");
//! let sm = FakeSecretsManager::new(br#"{"user": "app", "password": "leaked-password-0001"}"#);
//! let factory = FakeFactory::new(sm.clone(), iam.clone());
//!
//! let plan = PlanBuilder::new()
//!     .field(FieldPath::new("password")?)
//!     .plan(&factory.store_handle("app/db"), &factory.issuer_handle("app"))
//!     .await?;
//! println!("{}", serde_json::to_string_pretty(&plan).unwrap()); // no values inside
//!
//! let dir = tempfile::tempdir().unwrap();
//! let engine = Engine::builder(dir.path(), Arc::new(factory)).build();
//! let status = engine.apply(&plan).await?;
//! assert_eq!(status.state, State::OldDeactivated);
//! let status = engine.finalize(&plan.id, true).await?; // true: skip the grace period
//! assert_eq!(status.state, State::Done);
//! assert_eq!(iam.credentials().len(), 1);
//! # Ok::<(), keysweep_rotate::Error>(())
//! # }).unwrap();
//! # }
//! ```
//!
//! # Crate features
//!
//! * `testing` (off by default): the `testing` module with in-memory fakes
//!   modelling AWS Secrets Manager labels and an IAM-like issuer, with fault
//!   injection (fail or crash before or after any call). Provider crates enable
//!   it in their dev-dependencies.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod duration;
mod engine;
mod error;
mod issuer;
mod journal;
mod json_field;
mod locate;
mod plan;
mod plan_file;
mod planner;
mod random;
mod run;
mod spec;
mod state;
mod state_dir;
mod store;
mod url_field;
mod value;

#[cfg(feature = "testing")]
pub mod testing;

pub use async_trait::async_trait;
pub use duration::{format_duration, parse_duration, DurationError};
pub use engine::{BackendFactory, Clock, Engine, EngineBuilder};
pub use error::{BackendError, BackendResult, Error, ErrorClass, Result};
pub use issuer::{
    CreateCtx, Credential, CredentialId, CredentialInfo, CredentialStatus, Issuer, IssuerCaps,
    IssuerRef, IssuerState, Liveness, SetOutcome, TestEvidence,
};
pub use journal::JournalRecord;
pub use json_field::{extract_field, replace_field, FieldPath};
pub use keysweep_core::{Fingerprint, FingerprintKey};
pub use locate::{LocatedField, Locator, Wanted};
pub use plan::{
    OnFull, Operation, Permission, PlannedStep, Precondition, Risk, RotationPlan, Severity,
    Strategy, Target,
};
pub use plan_file::{NamedPlan, PlanFile, PlanFileError, PLAN_FILE_VERSION, PLAN_FORMAT};
pub use planner::{check_preconditions, PlanBuilder};
pub use random::{RandomIssuer, RandomIssuerBuilder, ALPHANUMERIC};
pub use spec::{SpecError, StrategyKind};
pub use state::{Mode, Phase, RotationStatus, State, Step};
pub use state_dir::{resolve_state_dir, DEFAULT_STATE_DIR, STATE_DIR_ENV};
pub use store::{
    RetireMode, SecretStore, StoreCaps, StoreRef, StoreState, VersionInfo, VersionRef,
};
pub use url_field::percent_decode;
pub use value::{RotationToken, SecretValue};
