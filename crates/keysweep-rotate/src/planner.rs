//! The read-only planner and the precondition check of `apply`.

use crate::error::{BackendError, Error, ErrorClass, Result};
use crate::issuer::{CredentialId, CredentialStatus, Issuer, IssuerCaps};
use crate::json_field::{extract_field, FieldPath};
use crate::plan::{
    OnFull, Operation, Permission, PlannedStep, Precondition, Risk, RotationPlan, Severity,
    Strategy, Target,
};
use crate::state::Step;
use crate::store::{RetireMode, SecretStore, StoreCaps, VersionRef};
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
    ///
    /// The reads happen here; the plan itself is computed from what they
    /// observed by small pure steps (`free_slot`, `planned_steps`,
    /// `observed_risks`, `preconditions`, `permissions`).
    pub async fn plan(&self, store: &dyn SecretStore, issuer: &dyn Issuer) -> Result<RotationPlan> {
        let token = self.token.clone().unwrap_or_default();
        let target = Target {
            store: store.describe(),
            field: self.field.clone(),
            id_field: self.id_field.clone(),
            issuer: issuer.describe(),
        };
        let observed = observe(store, issuer, &target, &self.key).await?;
        let inputs = Inputs {
            strategy: self.strategy,
            retire: self.retire,
            caps: issuer.capabilities(),
            scaps: store.capabilities(),
            target: &target,
            observed: &observed,
            token: &token,
        };
        refuse_foreign_pending(&inputs)?;
        let slot = free_slot(&inputs)?;
        let (steps, contain) = planned_steps(&inputs, &slot);
        let mut risks = slot.risks;
        risks.extend(contain.risks);
        risks.extend(observed_risks(&inputs));
        risks.extend(store.plan_risks().await?);
        risks.extend(issuer.plan_risks().await?);
        let permissions = permissions(store.required_permissions(), issuer.required_permissions());
        let preconditions = preconditions(&observed);
        let mut plan = RotationPlan {
            format: 1,
            id: format!("rot-{}", token.short()),
            token,
            created_at: Timestamp::now(),
            target,
            strategy: self.strategy,
            retire: self.retire,
            old_version: observed.version,
            old_credential: observed.old_credential,
            free_slot: slot.victim,
            contain_by_revoke: contain.by_revoke,
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

/// What the pure planning steps work from: the builder's settings and what
/// [`observe`] read.
struct Inputs<'a> {
    strategy: Strategy,
    retire: RetireMode,
    caps: IssuerCaps,
    scaps: StoreCaps,
    target: &'a Target,
    observed: &'a Observed,
    token: &'a RotationToken,
}

impl Inputs<'_> {
    /// The issuer holds as many credentials as it may.
    fn full(&self) -> bool {
        self.caps
            .max_credentials
            .is_some_and(|m| self.observed.credentials.len() >= m)
    }

    /// The old credential's id for step details.
    fn old_name(&self) -> String {
        self.observed
            .old_credential
            .as_ref()
            .map_or("<unidentified>".into(), |c| c.0.clone())
    }
}

fn risk(code: &str, severity: Severity, message: String) -> Risk {
    Risk {
        code: code.into(),
        severity,
        message,
    }
}

/// Refuses an entry another rotation holds (a foreign pending version).
fn refuse_foreign_pending(i: &Inputs<'_>) -> Result<()> {
    if i.observed.foreign_pending {
        return Err(Error::Backend(BackendError::new(
            ErrorClass::Locked,
            format!(
                "{} has a pending version from another rotation",
                i.target.store
            ),
        )));
    }
    Ok(())
}

/// How a full issuer gets a free slot.
#[derive(Debug, Default, PartialEq)]
struct Slot {
    /// An inactive credential to revoke first (overlap, `revoke_inactive`).
    victim: Option<CredentialId>,
    /// Containing the old credential must revoke it (contain-first).
    contain_revokes: bool,
    /// The risks of that.
    risks: Vec<Risk>,
}

/// When the issuer is at its credential limit: which inactive credential
/// to revoke, or whether containment must revoke; refused when the strategy
/// allows neither.
fn free_slot(i: &Inputs<'_>) -> Result<Slot> {
    let mut slot = Slot::default();
    if !i.full() {
        return Ok(slot);
    }
    let old = i.observed.old_credential.as_ref();
    match i.strategy {
        Strategy::Overlap {
            on_full: OnFull::Refuse,
            ..
        } => {
            return Err(Error::Refused(format!(
                "issuer {} is at its limit of {} credentials; free one or use \
                 on_full = revoke_inactive or the contain_first strategy",
                i.target.issuer.kind,
                i.observed.credentials.len()
            )))
        }
        Strategy::Overlap { .. } => {
            let Some(victim) = i.observed.inactive.iter().find(|id| Some(*id) != old) else {
                return Err(Error::Refused(
                    "issuer is at its credential limit and has no inactive credential \
                     to revoke"
                        .into(),
                ));
            };
            slot.risks.push(risk(
                "free-slot",
                Severity::Warning,
                format!("inactive credential {victim} will be revoked to free a slot"),
            ));
            slot.victim = Some(victim.clone());
        }
        Strategy::ContainFirst { .. } if old.is_some() => slot.contain_revokes = true,
        Strategy::ContainFirst { .. } => {
            return Err(Error::Refused(
                "issuer is at its credential limit and the old credential is \
                 unidentified, so containing it cannot free a slot"
                    .into(),
            ))
        }
    }
    Ok(slot)
}

/// How contain-first contains the old credential.
#[derive(Debug, Default, PartialEq)]
struct Containment {
    /// By revoking it (no rollback) rather than deactivating it.
    by_revoke: bool,
    /// The risks of containing.
    risks: Vec<Risk>,
}

/// The ordered steps of `apply` and `finalize`, and how the old credential
/// is contained (contain-first).
fn planned_steps(i: &Inputs<'_>, slot: &Slot) -> (Vec<PlannedStep>, Containment) {
    use Operation::{Apply, Finalize};
    let mut steps = Vec::new();
    let mut add = |step, operation, detail: String| {
        steps.push(PlannedStep {
            step,
            operation,
            detail,
        })
    };
    let (target, token, caps) = (i.target, i.token, &i.caps);
    let has_old = i.observed.old_credential.is_some();
    let old_name = i.old_name();
    add(Step::Lock, Apply, format!("lock {}", target.store));
    if let Some(v) = &slot.victim {
        add(Step::FreeSlot, Apply, format!("revoke inactive {v}"));
    }
    let mut contain = Containment {
        by_revoke: slot.contain_revokes,
        risks: Vec::new(),
    };
    if matches!(i.strategy, Strategy::ContainFirst { .. }) && has_old {
        let how = if contain.by_revoke || !caps.deactivate {
            "revoke"
        } else {
            "deactivate"
        };
        add(
            Step::Contain,
            Apply,
            format!("{how} old credential {old_name}"),
        );
        contain.by_revoke = how == "revoke";
        contain.risks.push(risk(
            "contain-first",
            Severity::High,
            "consumers lose access until the new credential is promoted".into(),
        ));
        if contain.by_revoke {
            contain.risks.push(risk(
                "contain-revokes",
                Severity::High,
                format!("{old_name} is revoked before its replacement exists; no rollback"),
            ));
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
            i.observed.version
        ),
    );
    add(
        Step::Cleanup,
        Apply,
        "remove the pending label, release the lock".into(),
    );
    let overlap = matches!(i.strategy, Strategy::Overlap { .. });
    if overlap && caps.deactivate && has_old {
        add(Step::Deactivate, Apply, format!("deactivate {old_name}"));
    }
    if caps.revoke && has_old && !contain.by_revoke {
        add(Step::Revoke, Finalize, format!("revoke {old_name}"));
    }
    if caps.verify_dead && has_old {
        add(
            Step::VerifyDead,
            Finalize,
            format!("verify {old_name} is dead"),
        );
    }
    if i.scaps.versioned {
        add(
            Step::Retire,
            Finalize,
            format!("retire version {} ({:?})", i.observed.version, i.retire),
        );
    }
    (steps, contain)
}

/// Risks that follow from what the store and issuer are and reported.
fn observed_risks(i: &Inputs<'_>) -> Vec<Risk> {
    let (o, caps, scaps) = (i.observed, &i.caps, &i.scaps);
    let mut risks = Vec::new();
    if o.native_rotation {
        risks.push(risk(
            "native-rotation",
            Severity::Warning,
            "the store rotates this secret itself; it may race with keysweep".into(),
        ));
    }
    if o.quarantined {
        risks.push(risk(
            "quarantined",
            Severity::High,
            "the principal is quarantined; the rotator needs its own identity".into(),
        ));
    }
    if o.old_credential.is_none() && caps.revoke {
        risks.push(risk(
            "old-unidentified",
            Severity::Warning,
            "the issuer did not identify the old credential; it will not be revoked".into(),
        ));
    }
    if !caps.revoke {
        risks.push(risk(
            "manual-follow-up",
            Severity::Info,
            format!(
                "{} cannot revoke; consumers of {} must be updated (recorded at the set step)",
                i.target.issuer.kind, i.target.store
            ),
        ));
    }
    if !scaps.versioned || scaps.max_versions == Some(1) {
        risks.push(risk(
            "unversioned",
            Severity::High,
            "the store keeps no previous version; rollback is impossible".into(),
        ));
    }
    risks
}

/// The permissions of both sides, sorted, without duplicates.
fn permissions(store: Vec<Permission>, issuer: Vec<Permission>) -> Vec<Permission> {
    let mut all = store;
    all.extend(issuer);
    all.sort();
    all.dedup();
    all
}

/// What `apply` re-checks: the current version and value, no foreign
/// pending version, and the issuer's credentials when it lists any.
fn preconditions(o: &Observed) -> Vec<Precondition> {
    let mut out = vec![
        Precondition::CurrentVersion {
            version: o.version.clone(),
        },
        Precondition::CurrentValue {
            fingerprint: o.fingerprint,
        },
        Precondition::NoForeignPending,
    ];
    if !o.credentials.is_empty() {
        out.push(Precondition::Credentials {
            ids: o.credentials.clone(),
        });
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::IssuerRef;
    use crate::store::StoreRef;

    fn observed(credentials: &[&str], inactive: &[&str], old: Option<&str>) -> Observed {
        let id = |s: &&str| CredentialId(s.to_string());
        Observed {
            version: VersionRef("v1".into()),
            fingerprint: Fingerprint::from_hex(&"ab".repeat(32)).unwrap(),
            foreign_pending: false,
            native_rotation: false,
            old_credential: old.map(|s| CredentialId(s.into())),
            credentials: credentials.iter().map(id).collect(),
            inactive: inactive.iter().map(id).collect(),
            quarantined: false,
        }
    }

    fn caps(max: Option<usize>) -> IssuerCaps {
        IssuerCaps {
            max_credentials: max,
            overlap: true,
            deactivate: true,
            revoke: true,
            verify_dead: true,
        }
    }

    const SCAPS: StoreCaps = StoreCaps {
        versioned: true,
        cas: true,
        labels: true,
        max_versions: None,
    };

    fn target() -> Target {
        Target {
            store: StoreRef::new("fake", "app/db"),
            field: None,
            id_field: None,
            issuer: IssuerRef::new("fake-iam", "app"),
        }
    }

    #[test]
    fn a_full_issuer_frees_a_slot_only_as_the_strategy_allows() {
        let (t, token) = (target(), RotationToken::new());
        let o = observed(&["AK1", "AK2"], &["AK2"], Some("AK1"));
        let inputs = |strategy| Inputs {
            strategy,
            retire: RetireMode::DropLabels,
            caps: caps(Some(2)),
            scaps: SCAPS,
            target: &t,
            observed: &o,
            token: &token,
        };
        let refuse = free_slot(&inputs(Strategy::overlap(60)));
        assert!(matches!(refuse, Err(Error::Refused(_))), "{refuse:?}");
        let slot = free_slot(&inputs(Strategy::Overlap {
            grace_secs: 60,
            on_full: OnFull::RevokeInactive,
        }))
        .unwrap();
        assert_eq!(slot.victim, Some(CredentialId("AK2".into())));
        assert_eq!(slot.risks[0].code, "free-slot");
        let contain = inputs(Strategy::ContainFirst { grace_secs: 60 });
        let slot = free_slot(&contain).unwrap();
        assert!(slot.contain_revokes && slot.victim.is_none());
        let (steps, c) = planned_steps(&contain, &slot);
        assert!(c.by_revoke);
        assert_eq!(
            c.risks.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
            ["contain-first", "contain-revokes"]
        );
        let names: Vec<Step> = steps.iter().map(|s| s.step).collect();
        assert_eq!(names[..2], [Step::Lock, Step::Contain]);
        assert!(!names.contains(&Step::Revoke), "{names:?}");
    }

    #[test]
    fn preconditions_risks_and_permissions_follow_the_observations() {
        let (t, token) = (target(), RotationToken::new());
        let o = observed(&[], &[], None);
        assert_eq!(preconditions(&o).len(), 3);
        let o2 = observed(&["AK1"], &[], Some("AK1"));
        assert!(matches!(
            preconditions(&o2).last(),
            Some(Precondition::Credentials { .. })
        ));
        let inputs = Inputs {
            strategy: Strategy::overlap(60),
            retire: RetireMode::DropLabels,
            caps: caps(None),
            scaps: StoreCaps {
                versioned: false,
                ..SCAPS
            },
            target: &t,
            observed: &o,
            token: &token,
        };
        let codes: Vec<String> = observed_risks(&inputs)
            .into_iter()
            .map(|r| r.code)
            .collect();
        assert_eq!(codes, ["old-unidentified", "unversioned"]);
        let (steps, _) = planned_steps(&inputs, &Slot::default());
        assert!(!steps
            .iter()
            .any(|s| s.step == Step::Retire || s.step == Step::Deactivate));
        let p = |a: &str| Permission {
            action: a.into(),
            resource: "*".into(),
        };
        assert_eq!(
            permissions(vec![p("b"), p("a")], vec![p("a")]),
            [p("a"), p("b")]
        );
    }
}
