//! The engine: `apply`, `status`, `resume`, `rollback`, `finalize`.

use crate::error::{BackendError, BackendResult, Error, Result};
use crate::issuer::{Issuer, IssuerRef};
use crate::journal::{check_id, Journal, JournalRecord, LockFile};
use crate::plan::{Operation, RotationPlan};
use crate::planner::check_preconditions;
use crate::run::Run;
use crate::state::{Mode, Phase, Progress, RotationStatus, State, Step};
use crate::store::{SecretStore, StoreRef};
use async_trait::async_trait;
use jiff::Timestamp;
use keysweep_core::FingerprintKey;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing::Instrument;

/// Re-creates stores and issuers from a plan's target description, so that
/// every operation after a crash can run from the journal alone.
#[async_trait]
pub trait BackendFactory: Send + Sync {
    /// The store described by `r`.
    async fn store(&self, r: &StoreRef) -> BackendResult<Arc<dyn SecretStore>>;
    /// The issuer described by `r`.
    async fn issuer(&self, r: &IssuerRef) -> BackendResult<Arc<dyn Issuer>>;
}

/// A source of the current time (tests move it forward past grace periods).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Runs rotations and keeps their journals in one directory.
///
/// Cheap to clone. All operations take the rotation's lock file first, so two
/// processes never drive one rotation; `status` only reads.
#[derive(Clone)]
pub struct Engine {
    pub(crate) dir: PathBuf,
    pub(crate) key: FingerprintKey,
    pub(crate) factory: Arc<dyn BackendFactory>,
    pub(crate) clock: Clock,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("dir", &self.dir)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// Builds an [`Engine`].
///
/// Defaults: the built-in fingerprint key (use the scanner's key so journal
/// fingerprints match findings) and the system clock.
pub struct EngineBuilder {
    dir: PathBuf,
    factory: Arc<dyn BackendFactory>,
    key: FingerprintKey,
    clock: Clock,
}

impl EngineBuilder {
    /// The fingerprint key.
    pub fn key(&mut self, key: FingerprintKey) -> &mut EngineBuilder {
        self.key = key;
        self
    }

    /// The clock.
    pub fn clock(&mut self, clock: Clock) -> &mut EngineBuilder {
        self.clock = clock;
        self
    }

    /// The engine.
    pub fn build(&self) -> Engine {
        Engine {
            dir: self.dir.clone(),
            key: self.key.clone(),
            factory: self.factory.clone(),
            clock: self.clock.clone(),
        }
    }
}

impl Engine {
    /// A builder for an engine keeping journals in `dir` and re-creating
    /// backends with `factory`.
    pub fn builder(dir: impl Into<PathBuf>, factory: Arc<dyn BackendFactory>) -> EngineBuilder {
        EngineBuilder {
            dir: dir.into(),
            factory,
            key: FingerprintKey::default(),
            clock: Arc::new(Timestamp::now),
        }
    }

    /// The journal directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Re-checks the plan (hash and preconditions; a stale plan is refused
    /// before anything is written), journals it and runs the `apply` steps:
    /// up to OLD_DEACTIVATED (or CUTOVER when the issuer cannot deactivate).
    /// A failure before promotion is compensated (staged value discarded, new
    /// credential revoked, lock released) and returned as [`Error::Aborted`]
    /// with the rotation ABORTED; a failure after promotion is returned as
    /// [`Error::Step`] and `resume` retries it. [`Error::Crashed`] (fakes
    /// only) means: resume from the journal.
    pub async fn apply(&self, plan: &RotationPlan) -> Result<RotationStatus> {
        let span = tracing::info_span!("rotate apply", rotation = %plan.id);
        self.apply_inner(plan).instrument(span).await
    }

    async fn apply_inner(&self, plan: &RotationPlan) -> Result<RotationStatus> {
        check_id(&plan.id)?;
        let lock = LockFile::acquire(&self.dir, &plan.id)?;
        if Journal::path(&self.dir, &plan.id)?.exists() {
            return Err(Error::AlreadyStarted(plan.id.clone()));
        }
        let (store, issuer) = self.backends(plan).await?;
        check_preconditions(plan, store.as_ref(), issuer.as_ref(), &self.key)
            .await
            .map_err(|e| crash_at(e, Step::Plan))?;
        let mut journal = Journal::open(&self.dir, &plan.id, true)?;
        let header = JournalRecord {
            rotation_id: plan.id.clone(),
            token: plan.token.clone(),
            step: Step::Plan,
            phase: Phase::Ok,
            ids: BTreeMap::from([("old_version".to_string(), plan.old_version.0.clone())]),
            fingerprints: BTreeMap::new(),
            error_class: None,
            at: (self.clock)(),
            state: State::Planned,
            note: None,
            plan: Some(Box::new(plan.clone())),
        };
        journal.append(&header)?;
        tracing::info!(store = %plan.target.store, issuer = %plan.target.issuer.kind, "applying plan");
        let progress = Progress::fold(std::slice::from_ref(&header)).expect("header has plan");
        Run::new(self, journal, progress, store, issuer, lock)
            .drive()
            .await
    }

    /// The rotation's status, from its journal alone.
    pub fn status(&self, rotation_id: &str) -> Result<RotationStatus> {
        let p = self.load(rotation_id)?;
        Ok(RotationStatus::from_progress(&p))
    }

    /// The plan a rotation was applied with, from its journal.
    pub fn plan_of(&self, rotation_id: &str) -> Result<RotationPlan> {
        Ok(self.load(rotation_id)?.plan)
    }

    /// The ids of all rotations journaled in this engine's directory, sorted.
    /// A missing directory has none.
    pub fn list(&self) -> Result<Vec<String>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::Io {
                    path: self.dir.display().to_string(),
                    source: e,
                })
            }
        };
        let mut ids: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let id = name.strip_suffix(".jsonl")?;
                check_id(id).is_ok().then(|| id.to_string())
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Continues a rotation from its journal: replays the last incomplete
    /// step (steps are idempotent by token) and goes on in the same mode
    /// (apply, finalize, abort or rollback).
    pub async fn resume(&self, rotation_id: &str) -> Result<RotationStatus> {
        let span = tracing::info_span!("rotate resume", rotation = rotation_id);
        self.resume_inner(rotation_id).instrument(span).await
    }

    async fn resume_inner(&self, rotation_id: &str) -> Result<RotationStatus> {
        let (run, p) = self.open(rotation_id).await?;
        tracing::info!(state = %p.state(), mode = ?p.mode, incomplete = ?p.incomplete(), "resuming");
        run.drive().await
    }

    /// Rolls a rotation back: make the old version current again
    /// (compare-and-swap against the new one), reactivate the old credential,
    /// revoke the new one. Before promotion this is an abort (ends ABORTED);
    /// after it, ROLLED_BACK. Refused once the old credential is revoked.
    pub async fn rollback(&self, rotation_id: &str) -> Result<RotationStatus> {
        let span = tracing::info_span!("rotate rollback", rotation = rotation_id);
        self.rollback_inner(rotation_id).instrument(span).await
    }

    async fn rollback_inner(&self, rotation_id: &str) -> Result<RotationStatus> {
        let (mut run, p) = self.open(rotation_id).await?;
        let state = p.state();
        let revoked = p.seen(Step::Revoke) || p.plan.contain_by_revoke && p.seen(Step::Contain);
        if state.is_terminal() || revoked {
            return Err(Error::InvalidState {
                rotation_id: rotation_id.into(),
                state,
                op: "roll back",
            });
        }
        if !matches!(p.mode, Mode::Abort | Mode::Rollback) {
            let marker = if p.seen(Step::Promote) {
                Step::Rollback
            } else {
                Step::Abort
            };
            run.begin(marker, None, Some("operator request".into()))?;
        }
        run.drive().await
    }

    /// Finishes a rotation after its grace period: revoke the old credential
    /// (point of no return), verify it is dead, retire the old version.
    /// `force` skips the grace check.
    pub async fn finalize(&self, rotation_id: &str, force: bool) -> Result<RotationStatus> {
        let span = tracing::info_span!("rotate finalize", rotation = rotation_id);
        self.finalize_inner(rotation_id, force)
            .instrument(span)
            .await
    }

    async fn finalize_inner(&self, rotation_id: &str, force: bool) -> Result<RotationStatus> {
        let (mut run, p) = self.open(rotation_id).await?;
        if p.mode != Mode::Finalize {
            let applied = p.mode == Mode::Apply
                && p.plan.steps_of(Operation::Apply).all(|s| p.ok(s))
                && !p.state().is_terminal();
            if !applied {
                return Err(Error::InvalidState {
                    rotation_id: rotation_id.into(),
                    state: p.state(),
                    op: "finalize",
                });
            }
            let since = p.deactivated_at.or(p.cutover_at).expect("apply completed");
            let grace = p.plan.strategy.grace_secs() as i64;
            let elapsed = (self.clock)().as_second() - since.as_second();
            if elapsed < grace && !force {
                return Err(Error::GraceNotElapsed {
                    rotation_id: rotation_id.into(),
                    remaining_secs: grace - elapsed,
                });
            }
            run.begin(Step::Finalize, None, None)?;
        }
        run.drive().await
    }

    fn load(&self, rotation_id: &str) -> Result<Progress> {
        let records = Journal::load(&self.dir, rotation_id)?;
        Progress::fold(&records).ok_or_else(|| Error::CorruptJournal {
            path: Journal::path(&self.dir, rotation_id)
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            line: 1,
            reason: "first record is not the plan header".into(),
        })
    }

    async fn open(&self, rotation_id: &str) -> Result<(Run<'_>, Progress)> {
        check_id(rotation_id)?;
        let lock = LockFile::acquire(&self.dir, rotation_id)?;
        let p = self.load(rotation_id)?;
        let journal = Journal::open(&self.dir, rotation_id, false)?;
        let (store, issuer) = self.backends(&p.plan).await?;
        Ok((Run::new(self, journal, p.clone(), store, issuer, lock), p))
    }

    async fn backends(
        &self,
        plan: &RotationPlan,
    ) -> Result<(Arc<dyn SecretStore>, Arc<dyn Issuer>)> {
        let store = self.factory.store(&plan.target.store).await?;
        let issuer = self.factory.issuer(&plan.target.issuer).await?;
        Ok((store, issuer))
    }
}

/// Turns a simulated crash of a backend into [`Error::Crashed`].
pub(crate) fn crash_at(e: Error, step: Step) -> Error {
    match e {
        Error::Backend(BackendError {
            class: crate::ErrorClass::Crash,
            ..
        }) => Error::Crashed { step },
        e => e,
    }
}
