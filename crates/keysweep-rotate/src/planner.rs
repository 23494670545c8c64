//! The read-only planner and the precondition check of `apply`.

use crate::error::{BackendError, Error, ErrorClass, Result};
use crate::issuer::{CredentialId, CredentialStatus, Issuer};
use crate::json_field::{extract_field, FieldPath};
use crate::plan::{
    OnFull, Operation, PlannedStep, Precondition, Risk, RotationPlan, Severity, Strategy, Target,
};
use crate::state::Step;
use crate::store::{RetireMode, SecretStore, VersionRef};
use crate::value::{RotationToken, SecretValue};
use jiff::Timestamp;
use keysweep_core::{Fingerprint, FingerprintKey};

/// Builds a [`RotationPlan`] by inspecting a store and an issuer (read-only).
///
/// Defaults: whole-value rotation (no field), [`Strategy::overlap`] with a
/// grace of 7 days, [`RetireMode::DropLabels`], a fresh random token, the
/// built-in fingerprint key.
#[derive(Clone, Debug)]
pub struct PlanBuilder {
    field: Option<FieldPath>,
    id_field: Option<FieldPath>,
    strategy: Strategy,
    retire: RetireMode,
    token: Option<RotationToken>,
    key: FingerprintKey,
}

impl Default for PlanBuilder {
    fn default() -> PlanBuilder {
        PlanBuilder::new()
    }
}

impl PlanBuilder {
    /// A builder with the defaults.
    pub fn new() -> PlanBuilder {
        PlanBuilder {
            field: None,
            id_field: None,
            strategy: Strategy::overlap(7 * 24 * 3600),
            retire: RetireMode::DropLabels,
            token: None,
            key: FingerprintKey::default(),
        }
    }

    /// Rotate one field of a JSON secret.
    pub fn field(&mut self, field: FieldPath) -> &mut PlanBuilder {
        self.field = Some(field);
        self
    }

    /// The JSON field holding the credential's public id, rewritten with the
    /// new credential's id (see [`Target::id_field`]).
    pub fn id_field(&mut self, field: FieldPath) -> &mut PlanBuilder {
        self.id_field = Some(field);
        self
    }

    /// The strategy.
    pub fn strategy(&mut self, s: Strategy) -> &mut PlanBuilder {
        self.strategy = s;
        self
    }

    /// How `finalize` retires the old version.
    pub fn retire(&mut self, r: RetireMode) -> &mut PlanBuilder {
        self.retire = r;
        self
    }

    /// A fixed token (tests); default random.
    pub fn token(&mut self, t: RotationToken) -> &mut PlanBuilder {
        self.token = Some(t);
        self
    }

    /// The fingerprint key (use the same one as the scanner).
    pub fn key(&mut self, key: FingerprintKey) -> &mut PlanBuilder {
        self.key = key;
        self
    }

    /// Inspects `store` and `issuer` and returns the plan. Refuses when the
    /// entry is held by another rotation or the issuer has no free slot and
    /// the strategy does not allow freeing one.
    pub async fn plan(&self, store: &dyn SecretStore, issuer: &dyn Issuer) -> Result<RotationPlan> {
        let token = self.token.clone().unwrap_or_default();
        let target = Target {
            store: store.describe(),
            field: self.field.clone(),
            id_field: self.id_field.clone(),
            issuer: issuer.describe(),
        };
        let observed = observe(store, issuer, &target, &self.key).await?;
        if observed.foreign_pending {
            return Err(Error::Backend(BackendError::new(
                ErrorClass::Locked,
                format!(
                    "{} has a pending version from another rotation",
                    target.store
                ),
            )));
        }
        let caps = issuer.capabilities();
        let scaps = store.capabilities();
        let full = caps
            .max_credentials
            .is_some_and(|m| observed.credentials.len() >= m);
        let old = observed.old_credential.clone();
        let mut risks = Vec::new();
        let mut risk = |code: &str, severity, message: String| {
            risks.push(Risk {
                code: code.into(),
                severity,
                message,
            })
        };
        let mut free_slot = None;
        let mut contain_revokes = false;
        if full {
            match self.strategy {
                Strategy::Overlap {
                    on_full: OnFull::Refuse,
                    ..
                } => {
                    return Err(Error::Refused(format!(
                        "issuer {} is at its limit of {} credentials; free one or use \
                         on_full = revoke_inactive or the contain_first strategy",
                        target.issuer.kind,
                        observed.credentials.len()
                    )))
                }
                Strategy::Overlap { .. } => {
                    let victim = observed
                        .inactive
                        .iter()
                        .find(|id| Some(*id) != old.as_ref());
                    let Some(victim) = victim else {
                        return Err(Error::Refused(
                            "issuer is at its credential limit and has no inactive credential \
                             to revoke"
                                .into(),
                        ));
                    };
                    risk(
                        "free-slot",
                        Severity::Warning,
                        format!("inactive credential {victim} will be revoked to free a slot"),
                    );
                    free_slot = Some(victim.clone());
                }
                Strategy::ContainFirst { .. } if old.is_some() => contain_revokes = true,
                Strategy::ContainFirst { .. } => {
                    return Err(Error::Refused(
                        "issuer is at its credential limit and the old credential is \
                         unidentified, so containing it cannot free a slot"
                            .into(),
                    ))
                }
            }
        }
        let mut steps = Vec::new();
        let mut add = |step, operation, detail: String| {
            steps.push(PlannedStep {
                step,
                operation,
                detail,
            })
        };
        use Operation::{Apply, Finalize};
        add(Step::Lock, Apply, format!("lock {}", target.store));
        if let Some(v) = &free_slot {
            add(Step::FreeSlot, Apply, format!("revoke inactive {v}"));
        }
        let old_name = old
            .as_ref()
            .map_or("<unidentified>".into(), |c| c.0.clone());
        if matches!(self.strategy, Strategy::ContainFirst { .. }) && old.is_some() {
            let how = if contain_revokes || !caps.deactivate {
                "revoke"
            } else {
                "deactivate"
            };
            add(
                Step::Contain,
                Apply,
                format!("{how} old credential {old_name}"),
            );
            contain_revokes = how == "revoke";
            risk(
                "contain-first",
                Severity::High,
                "consumers lose access until the new credential is promoted".into(),
            );
            if contain_revokes {
                risk(
                    "contain-revokes",
                    Severity::High,
                    format!("{old_name} is revoked before its replacement exists; no rollback"),
                );
            }
        }
        add(
            Step::Issue,
            Apply,
            format!("mint a new {} credential", target.issuer.kind),
        );
        add(
            Step::Stage,
            Apply,
            format!("stage it as pending version {token}"),
        );
        add(
            Step::Set,
            Apply,
            "put the new credential into effect".into(),
        );
        add(Step::Test, Apply, "test the new credential".into());
        add(
            Step::Promote,
            Apply,
            format!(
                "make {token} current if current is still {}",
                observed.version
            ),
        );
        add(
            Step::Cleanup,
            Apply,
            "remove the pending label, release the lock".into(),
        );
        let overlap = matches!(self.strategy, Strategy::Overlap { .. });
        if overlap && caps.deactivate && old.is_some() {
            add(Step::Deactivate, Apply, format!("deactivate {old_name}"));
        }
        if caps.revoke && old.is_some() && !contain_revokes {
            add(Step::Revoke, Finalize, format!("revoke {old_name}"));
        }
        if caps.verify_dead && old.is_some() {
            add(
                Step::VerifyDead,
                Finalize,
                format!("verify {old_name} is dead"),
            );
        }
        if scaps.versioned {
            add(
                Step::Retire,
                Finalize,
                format!("retire version {} ({:?})", observed.version, self.retire),
            );
        }
        if observed.native_rotation {
            risk(
                "native-rotation",
                Severity::Warning,
                "the store rotates this secret itself; it may race with keysweep".into(),
            );
        }
        if observed.quarantined {
            risk(
                "quarantined",
                Severity::High,
                "the principal is quarantined; the rotator needs its own identity".into(),
            );
        }
        if old.is_none() && caps.revoke {
            risk(
                "old-unidentified",
                Severity::Warning,
                "the issuer did not identify the old credential; it will not be revoked".into(),
            );
        }
        if !caps.revoke {
            risk(
                "manual-follow-up",
                Severity::Info,
                format!(
                    "{} cannot revoke; consumers of {} must be updated (recorded at the set step)",
                    target.issuer.kind, target.store
                ),
            );
        }
        if !scaps.versioned || scaps.max_versions == Some(1) {
            risk(
                "unversioned",
                Severity::High,
                "the store keeps no previous version; rollback is impossible".into(),
            );
        }
        risks.extend(store.plan_risks().await?);
        risks.extend(issuer.plan_risks().await?);
        let mut permissions = store.required_permissions();
        permissions.extend(issuer.required_permissions());
        permissions.sort();
        permissions.dedup();
        let mut preconditions = vec![
            Precondition::CurrentVersion {
                version: observed.version.clone(),
            },
            Precondition::CurrentValue {
                fingerprint: observed.fingerprint,
            },
            Precondition::NoForeignPending,
        ];
        if !observed.credentials.is_empty() {
            preconditions.push(Precondition::Credentials {
                ids: observed.credentials.clone(),
            });
        }
        let mut plan = RotationPlan {
            format: 1,
            id: format!("rot-{}", token.short()),
            token,
            created_at: Timestamp::now(),
            target,
            strategy: self.strategy,
            retire: self.retire,
            old_version: observed.version,
            old_credential: old,
            free_slot,
            contain_by_revoke: contain_revokes,
            preconditions,
            steps,
            permissions,
            risks,
            plan_hash: String::new(),
        };
        plan.plan_hash = plan.compute_hash();
        tracing::info!(rotation = %plan.id, store = %plan.target.store, steps = plan.steps.len(),
            risks = plan.risks.len(), "planned rotation");
        Ok(plan)
    }
}

/// What planning and precondition checks observe.
struct Observed {
    version: VersionRef,
    fingerprint: Fingerprint,
    foreign_pending: bool,
    native_rotation: bool,
    old_credential: Option<CredentialId>,
    credentials: Vec<CredentialId>,
    inactive: Vec<CredentialId>,
    quarantined: bool,
}

async fn observe(
    store: &dyn SecretStore,
    issuer: &dyn Issuer,
    target: &Target,
    key: &FingerprintKey,
) -> Result<Observed> {
    let state = store.inspect().await?;
    let (version, doc) = store.read_current().await?;
    let value = credential_value(&doc, target.field.as_ref())?;
    let mut istate = issuer.inspect(&value).await?;
    if let (None, Some(f)) = (&istate.current, &target.id_field) {
        // The issuer cannot tell which credential the secret is (IAM); the
        // document names it.
        let id = extract_field(&doc, f)?;
        let id = id.expose_str().unwrap_or_default();
        istate.current = istate
            .credentials
            .iter()
            .find(|c| c.id.as_str() == id)
            .map(|c| c.id.clone());
    }
    let mut credentials: Vec<CredentialId> =
        istate.credentials.iter().map(|c| c.id.clone()).collect();
    credentials.sort();
    Ok(Observed {
        foreign_pending: state.pending.as_ref().is_some_and(|p| p != &version),
        native_rotation: state.native_rotation,
        fingerprint: value.fingerprint(key),
        version,
        old_credential: istate.current,
        inactive: istate
            .credentials
            .iter()
            .filter(|c| c.status == CredentialStatus::Inactive)
            .map(|c| c.id.clone())
            .collect(),
        credentials,
        quarantined: istate.quarantined,
    })
}

/// The credential inside a stored document: the field, or the whole value.
pub(crate) fn credential_value(
    doc: &SecretValue,
    field: Option<&FieldPath>,
) -> Result<SecretValue> {
    match field {
        Some(f) => extract_field(doc, f),
        None => Ok(doc.clone()),
    }
}

/// Re-checks a plan's hash and preconditions (read-only). Returns
/// [`Error::StalePlan`] listing what changed.
pub async fn check_preconditions(
    plan: &RotationPlan,
    store: &dyn SecretStore,
    issuer: &dyn Issuer,
    key: &FingerprintKey,
) -> Result<()> {
    if !plan.hash_ok() {
        return Err(Error::PlanHashMismatch {
            rotation_id: plan.id.clone(),
        });
    }
    let o = match observe(store, issuer, &plan.target, key).await {
        Ok(o) => o,
        Err(Error::Backend(BackendError {
            class: ErrorClass::NotFound,
            message,
        })) => {
            return Err(Error::StalePlan {
                rotation_id: plan.id.clone(),
                reasons: vec![format!("not found: {message}")],
            })
        }
        Err(e) => return Err(e),
    };
    let mut reasons = Vec::new();
    for p in &plan.preconditions {
        match p {
            Precondition::CurrentVersion { version } if *version != o.version => reasons.push(
                format!("current version is {}, plan saw {version}", o.version),
            ),
            Precondition::CurrentValue { fingerprint } if *fingerprint != o.fingerprint => reasons
                .push(format!(
                    "current value fingerprint is {}, plan saw {}",
                    o.fingerprint.short(),
                    fingerprint.short()
                )),
            Precondition::NoForeignPending if o.foreign_pending => {
                reasons.push("another rotation holds a pending version".into())
            }
            Precondition::Credentials { ids } if *ids != o.credentials => reasons.push(format!(
                "issuer credentials are {:?}, plan saw {ids:?}",
                o.credentials
            )),
            _ => {}
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        tracing::warn!(rotation = %plan.id, ?reasons, "stale plan refused");
        Err(Error::StalePlan {
            rotation_id: plan.id.clone(),
            reasons,
        })
    }
}
