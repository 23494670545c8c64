//! States, steps and the fold of a journal into a rotation's progress.

use crate::error::ErrorClass;
use crate::issuer::CredentialId;
use crate::journal::JournalRecord;
use crate::plan::RotationPlan;
use crate::store::VersionRef;
use crate::value::RotationToken;
use jiff::Timestamp;
use keysweep_core::Fingerprint;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The state of a rotation (DESIGN.md 7.4).
///
/// ```text
/// PLANNED ─lock─▶ LOCKED ─issue+stage─▶ CREATED ─set─▶ SET ─test─▶ TESTED
///   ─promote(CAS)─▶ PROMOTED ─cleanup─▶ CUTOVER ─deactivate─▶ OLD_DEACTIVATED   (apply)
///   ─revoke─▶ OLD_REVOKED ─verify_dead, retire─▶ DONE                           (finalize)
/// any failure before PROMOTED ─▶ ABORTED; rollback after PROMOTED ─▶ ROLLED_BACK
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    /// Planned; nothing changed yet.
    Planned,
    /// The store-side lock is held.
    Locked,
    /// The new credential exists and is staged (`AWSPENDING`).
    Created,
    /// The issuer put it into effect (or a manual follow-up was recorded).
    Set,
    /// It passed its test.
    Tested,
    /// It is current (`AWSCURRENT`); the old version is previous.
    Promoted,
    /// The pending label is gone and the lock released.
    Cutover,
    /// The old credential is deactivated; `apply` ends here.
    OldDeactivated,
    /// The old credential is revoked (point of no return).
    OldRevoked,
    /// Finalized.
    Done,
    /// Failed before promotion and cleaned up.
    Aborted,
    /// Rolled back after promotion.
    RolledBack,
}

impl State {
    /// Whether no further step will run.
    pub fn is_terminal(self) -> bool {
        matches!(self, State::Done | State::Aborted | State::RolledBack)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self).expect("serialises");
        f.write_str(s.as_str().unwrap_or("?"))
    }
}

/// A journaled step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Step {
    /// The journal header, carrying the plan.
    Plan,
    /// Take the store-side lock.
    Lock,
    /// Revoke an inactive, unused credential to free an issuer slot.
    FreeSlot,
    /// ContainFirst: deactivate (or, at the credential limit, revoke) the old
    /// credential before anything else.
    Contain,
    /// Mint the new credential (createSecret, value half).
    Issue,
    /// Stage it in the store as pending (createSecret, storage half).
    Stage,
    /// setSecret.
    Set,
    /// testSecret.
    Test,
    /// finishSecret: make the new version current (compare-and-swap).
    Promote,
    /// Remove the pending label and release the lock.
    Cleanup,
    /// Deactivate the old credential.
    Deactivate,
    /// Marker: `finalize` started.
    Finalize,
    /// Revoke the old credential.
    Revoke,
    /// Check that the old credential is dead.
    VerifyDead,
    /// Retire the old version in the store.
    Retire,
    /// Marker: compensation after a failure before promotion started.
    Abort,
    /// Marker: an operator rollback started.
    Rollback,
    /// Compensation: reactivate the old credential.
    ReactivateOld,
    /// Compensation: make the old version current again (compare-and-swap).
    Demote,
    /// Compensation: remove the pending label / staging key.
    Discard,
    /// Compensation: revoke the new credential.
    RevokeNew,
    /// Compensation: release the store-side lock.
    Release,
    /// Terminal marker: DONE.
    Done,
    /// Terminal marker: ABORTED.
    Aborted,
    /// Terminal marker: ROLLED_BACK.
    RolledBack,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self).expect("serialises");
        f.write_str(s.as_str().unwrap_or("?"))
    }
}

/// The compensation steps, in order: old credential usable first, then the
/// store pointed back at it, then the new credential removed.
pub(crate) const COMPENSATION: [Step; 5] = [
    Step::ReactivateOld,
    Step::Demote,
    Step::Discard,
    Step::RevokeNew,
    Step::Release,
];

/// The phase of a journal record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The step is about to call the backends.
    Started,
    /// It took effect.
    Ok,
    /// It failed (see `error_class`).
    Failed,
}

/// Which sequence the rotation is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// `apply`'s steps.
    Apply,
    /// `finalize`'s steps.
    Finalize,
    /// Compensating a failure before promotion (ends ABORTED).
    Abort,
    /// Compensating on operator request (ends ROLLED_BACK).
    Rollback,
}

/// Everything the journal says about a rotation.
#[derive(Clone, Debug)]
pub(crate) struct Progress {
    pub plan: RotationPlan,
    pub token: RotationToken,
    /// The last phase seen per step.
    pub last: BTreeMap<Step, Phase>,
    /// How often each step was started.
    pub started: BTreeMap<Step, usize>,
    pub mode: Mode,
    pub new_credential: Option<CredentialId>,
    pub new_fingerprint: Option<Fingerprint>,
    pub new_version: Option<VersionRef>,
    pub contained: Option<String>,
    pub deactivated_at: Option<Timestamp>,
    pub cutover_at: Option<Timestamp>,
    pub follow_ups: Vec<String>,
    pub last_record: Option<(Step, Phase, Option<ErrorClass>)>,
}

impl Progress {
    /// Folds a journal. The first record must be the `plan` header.
    pub fn fold(records: &[JournalRecord]) -> Option<Progress> {
        let first = records.first()?;
        let plan = first.plan.as_deref()?.clone();
        let mut p = Progress {
            token: plan.token.clone(),
            plan,
            last: BTreeMap::new(),
            started: BTreeMap::new(),
            mode: Mode::Apply,
            new_credential: None,
            new_fingerprint: None,
            new_version: None,
            contained: None,
            deactivated_at: None,
            cutover_at: None,
            follow_ups: Vec::new(),
            last_record: None,
        };
        for r in records {
            p.apply(r);
        }
        Some(p)
    }

    pub fn apply(&mut self, r: &JournalRecord) {
        self.last.insert(r.step, r.phase);
        if r.phase == Phase::Started {
            *self.started.entry(r.step).or_default() += 1;
        }
        self.last_record = Some((r.step, r.phase, r.error_class));
        match (r.step, r.phase) {
            (Step::Abort, Phase::Started) => self.mode = Mode::Abort,
            (Step::Rollback, Phase::Started) => self.mode = Mode::Rollback,
            (Step::Finalize, Phase::Started) => self.mode = Mode::Finalize,
            (Step::Issue, Phase::Ok) => {
                self.new_credential = r.ids.get("new_credential").cloned().map(CredentialId);
                self.new_fingerprint = r
                    .fingerprints
                    .get("new_value")
                    .and_then(|h| Fingerprint::from_hex(h));
            }
            (Step::Stage, Phase::Ok) => {
                self.new_version = r.ids.get("new_version").cloned().map(VersionRef);
            }
            (Step::Contain, Phase::Ok) => self.contained = r.ids.get("contain").cloned(),
            (Step::Deactivate, Phase::Ok) => self.deactivated_at = Some(r.at),
            (Step::Cleanup, Phase::Ok) => self.cutover_at = Some(r.at),
            (Step::Set, Phase::Ok) => {
                if let Some(n) = &r.note {
                    self.follow_ups.push(n.clone());
                }
            }
            _ => {}
        }
    }

    pub fn ok(&self, step: Step) -> bool {
        self.last.get(&step) == Some(&Phase::Ok)
    }

    pub fn seen(&self, step: Step) -> bool {
        self.last.contains_key(&step)
    }

    /// The state implied by the completed steps.
    pub fn state(&self) -> State {
        use Step::*;
        let milestones = [
            (Done, State::Done),
            (Aborted, State::Aborted),
            (RolledBack, State::RolledBack),
            (Revoke, State::OldRevoked),
            (Deactivate, State::OldDeactivated),
            (Cleanup, State::Cutover),
            (Promote, State::Promoted),
            (Test, State::Tested),
            (Set, State::Set),
            (Stage, State::Created),
            (Lock, State::Locked),
        ];
        milestones
            .iter()
            .find(|(s, _)| self.ok(*s))
            .map_or(State::Planned, |(_, st)| *st)
    }

    /// The step that is started but has no outcome, if any.
    pub fn incomplete(&self) -> Option<Step> {
        match self.last_record {
            Some((s, Phase::Started, _)) if !matches!(s, Step::Abort | Step::Rollback) => Some(s),
            _ => None,
        }
    }
}

/// What `status` reports, from the journal alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationStatus {
    /// The rotation id.
    pub rotation_id: String,
    /// Its token.
    pub token: RotationToken,
    /// The state.
    pub state: State,
    /// The sequence being run.
    pub mode: Mode,
    /// The last journaled step and its phase.
    pub last_step: Option<(Step, Phase)>,
    /// The error class of the last record, if it failed.
    pub error_class: Option<ErrorClass>,
    /// A step that started and never finished (what `resume` replays).
    pub incomplete: Option<Step>,
    /// When the old credential was deactivated (grace starts here).
    pub deactivated_at: Option<Timestamp>,
    /// Manual follow-ups recorded by the issuer's set step.
    pub follow_ups: Vec<String>,
    /// The new credential's id, once issued.
    pub new_credential: Option<CredentialId>,
    /// The new version's id, once staged.
    pub new_version: Option<VersionRef>,
}

impl RotationStatus {
    pub(crate) fn from_progress(p: &Progress) -> RotationStatus {
        RotationStatus {
            rotation_id: p.plan.id.clone(),
            token: p.token.clone(),
            state: p.state(),
            mode: p.mode,
            last_step: p.last_record.map(|(s, ph, _)| (s, ph)),
            error_class: p.last_record.and_then(|(_, _, c)| c),
            incomplete: p.incomplete(),
            deactivated_at: p.deactivated_at,
            follow_ups: p.follow_ups.clone(),
            new_credential: p.new_credential.clone(),
            new_version: p.new_version.clone(),
        }
    }
}
