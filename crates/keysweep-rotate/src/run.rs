//! The step runner: journals each step around its store and issuer calls.
//!
//! Every step is written as `started`, then runs, then is written as `ok` or
//! `failed`; a simulated crash writes nothing more. The next step is always
//! derived from the journal (the first planned step of the current mode whose
//! last record is not `ok`), so a resumed run and an uninterrupted one take the
//! same path. Values live only in memory: after a crash the new credential is
//! read back from the store (pending label, or its version after promotion)
//! and checked against the fingerprint journaled when it was issued.

use crate::engine::Engine;
use crate::error::{BackendError, BackendResult, Error, ErrorClass, Result};
use crate::issuer::{CreateCtx, Credential, CredentialId, Issuer, Liveness, SetOutcome};
use crate::journal::{Journal, JournalRecord, LockFile};
use crate::json_field::replace_field;
use crate::plan::{Operation, Precondition};
use crate::planner::credential_value;
use crate::state::{Mode, Phase, Progress, RotationStatus, Step, COMPENSATION};
use crate::store::{SecretStore, VersionRef};
use crate::value::{RotationToken, SecretValue};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a step reports for its `ok` record.
#[derive(Default)]
struct Out {
    ids: BTreeMap<String, String>,
    fps: BTreeMap<String, String>,
    note: Option<String>,
    /// Stage found that the issued value was lost in a crash: issue again.
    reissue: bool,
}

impl Out {
    fn id(mut self, k: &str, v: impl ToString) -> Out {
        self.ids.insert(k.into(), v.to_string());
        self
    }
    fn fp(mut self, k: &str, v: &keysweep_core::Fingerprint) -> Out {
        self.fps.insert(k.into(), v.to_hex());
        self
    }
    fn note(mut self, n: impl Into<String>) -> Out {
        self.note = Some(n.into());
        self
    }
}

fn invalid(e: Error) -> BackendError {
    BackendError::new(e.class(), e.to_string())
}

pub(crate) struct Run<'e> {
    engine: &'e Engine,
    journal: Journal,
    p: Progress,
    store: Arc<dyn SecretStore>,
    issuer: Arc<dyn Issuer>,
    new_cred: Option<Credential>,
    abort_cause: Option<(Step, BackendError)>,
    _lock: LockFile,
}

impl<'e> Run<'e> {
    pub fn new(
        engine: &'e Engine,
        journal: Journal,
        p: Progress,
        store: Arc<dyn SecretStore>,
        issuer: Arc<dyn Issuer>,
        lock: LockFile,
    ) -> Run<'e> {
        Run {
            engine,
            journal,
            p,
            store,
            issuer,
            new_cred: None,
            abort_cause: None,
            _lock: lock,
        }
    }

    fn token(&self) -> &RotationToken {
        &self.p.token
    }

    fn record(
        &mut self,
        step: Step,
        phase: Phase,
        out: Out,
        class: Option<ErrorClass>,
    ) -> Result<()> {
        let mut rec = JournalRecord {
            rotation_id: self.p.plan.id.clone(),
            token: self.p.token.clone(),
            step,
            phase,
            ids: out.ids,
            fingerprints: out.fps,
            error_class: class,
            at: (self.engine.clock)(),
            state: self.p.state(),
            note: out.note,
            plan: None,
        };
        self.p.apply(&rec);
        rec.state = self.p.state();
        self.journal.append(&rec)
    }

    /// Journals a mode marker (`abort`, `rollback`, `finalize`).
    pub fn begin(
        &mut self,
        marker: Step,
        class: Option<ErrorClass>,
        note: Option<String>,
    ) -> Result<()> {
        tracing::info!(step = %marker, "entering mode");
        let out = Out {
            note,
            ..Out::default()
        };
        self.record(marker, Phase::Started, out, class)
    }

    fn next_step(&self) -> Option<Step> {
        let p = &self.p;
        if p.state().is_terminal() {
            return None;
        }
        let not_ok = |s: &Step| !p.ok(*s);
        match p.mode {
            Mode::Apply => p.plan.steps_of(Operation::Apply).find(not_ok),
            Mode::Finalize => p
                .plan
                .steps_of(Operation::Finalize)
                .chain([Step::Done])
                .find(not_ok),
            Mode::Abort => COMPENSATION.into_iter().chain([Step::Aborted]).find(not_ok),
            Mode::Rollback => COMPENSATION
                .into_iter()
                .chain([Step::RolledBack])
                .find(not_ok),
        }
    }

    /// Runs steps until the mode's sequence is done, a crash, or an error.
    pub async fn drive(mut self) -> Result<RotationStatus> {
        while let Some(step) = self.next_step() {
            match self.exec(step).await {
                Ok(()) => {}
                Err(Error::Step { step, source })
                    if self.p.mode == Mode::Apply && !self.p.ok(Step::Promote) =>
                {
                    tracing::warn!(%step, class = %source.class, "step failed before promotion; aborting");
                    self.begin(
                        Step::Abort,
                        Some(source.class),
                        Some(format!("{step} failed")),
                    )?;
                    self.abort_cause = Some((step, source));
                }
                Err(e) => return Err(e),
            }
        }
        let status = RotationStatus::from_progress(&self.p);
        tracing::info!(state = %status.state, "rotation stopped");
        match self.abort_cause.take() {
            Some((step, source)) => Err(Error::Aborted {
                rotation_id: self.p.plan.id.clone(),
                step,
                source,
            }),
            None => Ok(status),
        }
    }

    async fn exec(&mut self, step: Step) -> Result<()> {
        if matches!(step, Step::Done | Step::Aborted | Step::RolledBack) {
            return self.record(step, Phase::Ok, Out::default(), None);
        }
        self.record(step, Phase::Started, Out::default(), None)?;
        tracing::debug!(%step, "step started");
        match self.run_step(step).await {
            Ok(out) if out.reissue => {
                tracing::warn!(%step, "new value was lost in a crash; issuing again");
                let note = out.note.clone();
                self.record(step, Phase::Failed, out, Some(ErrorClass::NotFound))?;
                let out = Out {
                    note,
                    ..Out::default()
                };
                self.record(Step::Issue, Phase::Failed, out, Some(ErrorClass::NotFound))
            }
            Ok(out) => {
                self.record(step, Phase::Ok, out, None)?;
                tracing::info!(%step, state = %self.p.state(), "step ok");
                Ok(())
            }
            Err(e) if e.is_crash() => {
                tracing::warn!(%step, "simulated crash: stopping without journaling the outcome");
                Err(Error::Crashed { step })
            }
            Err(e) => {
                let out = Out::default().note(e.message.clone());
                self.record(step, Phase::Failed, out, Some(e.class))?;
                tracing::warn!(%step, class = %e.class, error = %e.message, "step failed");
                Err(Error::Step { step, source: e })
            }
        }
    }

    fn ctx(&self) -> CreateCtx {
        let known = self
            .p
            .plan
            .preconditions
            .iter()
            .find_map(|p| match p {
                Precondition::Credentials { ids } => Some(ids.clone()),
                _ => None,
            })
            .unwrap_or_default();
        CreateCtx {
            known,
            old: self.p.plan.old_credential.clone(),
        }
    }

    fn old(&self) -> BackendResult<CredentialId> {
        self.p.plan.old_credential.clone().ok_or_else(|| {
            BackendError::new(ErrorClass::Invalid, "the plan names no old credential")
        })
    }

    fn value_of(&self, doc: &SecretValue) -> BackendResult<SecretValue> {
        credential_value(doc, self.p.plan.target.field.as_ref()).map_err(invalid)
    }

    /// The new credential: from memory, or read back from the store and
    /// checked against the fingerprint journaled at issue time.
    async fn new_credential(&mut self) -> BackendResult<Credential> {
        if let Some(c) = &self.new_cred {
            return Ok(c.clone());
        }
        let id =
            self.p.new_credential.clone().ok_or_else(|| {
                BackendError::new(ErrorClass::Invalid, "no credential was issued")
            })?;
        let doc = match self.store.read_staged(self.token()).await {
            Ok(d) => d,
            Err(e) if e.class == ErrorClass::NotFound => {
                let v = self
                    .p
                    .new_version
                    .clone()
                    .unwrap_or_else(|| VersionRef::from(self.token()));
                self.store.read_version(&v).await?
            }
            Err(e) => return Err(e),
        };
        let value = self.value_of(&doc)?;
        if Some(value.fingerprint(&self.engine.key)) != self.p.new_fingerprint {
            return Err(BackendError::new(
                ErrorClass::Conflict,
                "the stored new value does not match the issued credential",
            ));
        }
        let c = Credential { id, value };
        self.new_cred = Some(c.clone());
        Ok(c)
    }

    /// The document to stage: the new value, spliced into the observed JSON
    /// document when a field is rotated.
    async fn document_for(&self, cred: &Credential) -> BackendResult<SecretValue> {
        let target = &self.p.plan.target;
        let Some(f) = &target.field else {
            return Ok(cred.value.clone());
        };
        let doc = self.store.read_version(&self.p.plan.old_version).await?;
        let doc = replace_field(&doc, f, &cred.value).map_err(invalid)?;
        match &target.id_field {
            None => Ok(doc),
            Some(idf) => {
                replace_field(&doc, idf, &SecretValue::from(cred.id.as_str())).map_err(invalid)
            }
        }
    }

    async fn run_step(&mut self, step: Step) -> BackendResult<Out> {
        let token = self.token().clone();
        let plan_old_version = self.p.plan.old_version.clone();
        let key = self.engine.key.clone();
        let out = Out::default();
        match step {
            Step::Lock => self.store.acquire(&token).await.map(|_| out),
            Step::FreeSlot => {
                let id = self.p.plan.free_slot.clone().ok_or_else(|| {
                    BackendError::new(ErrorClass::Invalid, "the plan names no slot to free")
                })?;
                self.issuer.revoke(&id).await?;
                Ok(out.id("revoked", id))
            }
            Step::Contain => {
                let old = self.old()?;
                if self.p.plan.contain_by_revoke {
                    self.issuer.revoke(&old).await?;
                    Ok(out.id("old_credential", old).id("contain", "revoked"))
                } else {
                    self.issuer.deactivate(&old).await?;
                    Ok(out.id("old_credential", old).id("contain", "deactivated"))
                }
            }
            Step::Issue => {
                let ctx = self.ctx();
                if self.p.started.get(&Step::Issue).copied().unwrap_or(0) > 1 {
                    if let Some(orphan) = self.issuer.find(&token, &ctx).await? {
                        tracing::warn!(credential = %orphan, "revoking a credential minted by an interrupted issue step");
                        self.issuer.revoke(&orphan).await?;
                    }
                }
                let cred = self.issuer.create(&token, &ctx).await?;
                let fp = cred.value.fingerprint(&key);
                let out = out.id("new_credential", &cred.id).fp("new_value", &fp);
                self.new_cred = Some(cred);
                Ok(out)
            }
            Step::Stage => self.stage(&token, &key).await,
            Step::Set => {
                let cred = self.new_credential().await?;
                let old = self.p.plan.old_credential.clone();
                match self.issuer.set(&cred, old.as_ref()).await? {
                    SetOutcome::Applied => Ok(out),
                    SetOutcome::ManualFollowUp { instructions } => {
                        tracing::warn!(follow_up = %instructions, "manual follow-up required");
                        Ok(out.note(instructions))
                    }
                }
            }
            Step::Test => {
                let cred = self.new_credential().await?;
                let ev = self.issuer.test(&cred).await?;
                Ok(out.note(ev.detail))
            }
            Step::Promote => {
                let v = self.store.promote(&token, &plan_old_version).await?;
                Ok(out.id("new_version", v).id("old_version", plan_old_version))
            }
            Step::Cleanup | Step::Discard | Step::Release => {
                if step != Step::Release {
                    self.store.discard_staged(&token).await?;
                }
                if step != Step::Discard {
                    self.store.release(&token).await?;
                }
                Ok(out)
            }
            Step::Deactivate => {
                let old = self.old()?;
                self.issuer.deactivate(&old).await?;
                Ok(out.id("old_credential", old))
            }
            Step::Revoke => {
                let old = self.old()?;
                self.issuer.revoke(&old).await?;
                Ok(out.id("old_credential", old))
            }
            Step::VerifyDead => {
                let id = self.old()?;
                let doc = self.store.read_version(&plan_old_version).await?;
                let value = self.value_of(&doc)?;
                match self.issuer.verify_dead(&Credential { id, value }).await? {
                    Liveness::Dead => Ok(out),
                    Liveness::Unknown => Ok(out.note("the issuer cannot tell; check by hand")),
                    Liveness::Alive => Err(BackendError::new(
                        ErrorClass::TestFailed,
                        "the old credential still authenticates",
                    )),
                }
            }
            Step::Retire => {
                self.store
                    .retire_version(&plan_old_version, self.p.plan.retire)
                    .await?;
                Ok(out.id("old_version", plan_old_version))
            }
            Step::ReactivateOld => {
                // An issuer without overlap (a database password) replaced the
                // old credential at `set`: put the old one back before the
                // store points at it again. This restores the leaked value on
                // purpose; that is what an abort or a rollback means.
                if !self.issuer.capabilities().overlap && self.p.seen(Step::Set) {
                    if let Some(old) = self.p.plan.old_credential.clone() {
                        let doc = self.store.read_version(&plan_old_version).await?;
                        let value = self.value_of(&doc)?;
                        let cred = Credential { id: old, value };
                        self.issuer
                            .set(&cred, self.p.new_credential.as_ref())
                            .await?;
                        return Ok(out
                            .id("old_credential", &cred.id)
                            .note("old credential set again (the issuer has no overlap)"));
                    }
                }
                let touched = self.p.seen(Step::Deactivate)
                    || (self.p.seen(Step::Contain) && !self.p.plan.contain_by_revoke);
                match &self.p.plan.old_credential {
                    Some(old) if touched && self.issuer.capabilities().deactivate => {
                        self.issuer.reactivate(old).await?;
                        Ok(out.id("old_credential", old))
                    }
                    _ => Ok(out.note("nothing to reactivate")),
                }
            }
            Step::Demote => self.demote(&plan_old_version, &key).await,
            Step::RevokeNew => {
                if !self.issuer.capabilities().revoke {
                    return Ok(out.note("the issuer cannot revoke; the new value is discarded"));
                }
                let mut ids: Vec<CredentialId> = self.p.new_credential.iter().cloned().collect();
                if self.p.seen(Step::Issue) {
                    if let Some(found) = self.issuer.find(&token, &self.ctx()).await? {
                        ids.push(found);
                    }
                }
                ids.sort();
                ids.dedup();
                for id in &ids {
                    self.issuer.revoke(id).await?;
                }
                let list: Vec<&str> = ids.iter().map(|c| c.as_str()).collect();
                Ok(out.id("revoked", list.join(",")))
            }
            Step::Plan
            | Step::Finalize
            | Step::Abort
            | Step::Rollback
            | Step::Done
            | Step::Aborted
            | Step::RolledBack => Ok(out),
        }
    }

    async fn stage(
        &mut self,
        token: &RotationToken,
        key: &keysweep_core::FingerprintKey,
    ) -> BackendResult<Out> {
        let out = Out::default();
        if let Some(cred) = self.new_cred.clone() {
            let doc = self.document_for(&cred).await?;
            let v = self.store.stage(token, &doc).await?;
            return Ok(out
                .id("new_version", v)
                .fp("new_value", &cred.value.fingerprint(key))
                .fp("new_document", &doc.fingerprint(key)));
        }
        // After a crash: the value survives only if it was staged.
        match self.store.read_staged(token).await {
            Ok(doc) => {
                let value = self.value_of(&doc)?;
                let fp = value.fingerprint(key);
                if Some(fp) != self.p.new_fingerprint {
                    return Err(BackendError::new(
                        ErrorClass::Conflict,
                        "the pending value does not match the issued credential",
                    ));
                }
                let v = self.store.stage(token, &doc).await?;
                let id = self.p.new_credential.clone().ok_or_else(|| {
                    BackendError::new(ErrorClass::Invalid, "no credential was issued")
                })?;
                self.new_cred = Some(Credential { id, value });
                Ok(out
                    .id("new_version", v)
                    .fp("new_value", &fp)
                    .fp("new_document", &doc.fingerprint(key)))
            }
            Err(e) if e.class == ErrorClass::NotFound => {
                let mut out = out;
                out.reissue = true;
                match self.p.new_credential.clone() {
                    Some(id) if self.issuer.capabilities().revoke => {
                        self.issuer.revoke(&id).await?;
                        Ok(out.id("revoked", &id).note(format!(
                            "issued credential {id} was lost before staging; revoked"
                        )))
                    }
                    _ => Ok(out.note("issued value was lost before staging")),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Compensation: if the current version holds our new value, make the old
    /// version current again (compare-and-swap); otherwise leave it alone.
    async fn demote(
        &mut self,
        old_version: &VersionRef,
        key: &keysweep_core::FingerprintKey,
    ) -> BackendResult<Out> {
        let out = Out::default();
        if !self.p.seen(Step::Promote) {
            return Ok(out.note("never promoted"));
        }
        let (current, doc) = self.store.read_current().await?;
        let ours = self
            .value_of(&doc)
            .map(|v| Some(v.fingerprint(key)) == self.p.new_fingerprint)
            .unwrap_or(false);
        if !ours {
            return Ok(out
                .id("current_version", &current)
                .note("the current version is not ours; left alone"));
        }
        let v = self.store.demote(old_version, &current).await?;
        Ok(out.id("current_version", v).id("demoted", current))
    }
}
