//! A fake AWS Secrets Manager secret and a [`SecretStore`] over it.

use super::faults::Faults;
use crate::error::{BackendError, BackendResult, ErrorClass};
use crate::store::{
    RetireMode, SecretStore, StoreCaps, StoreRef, StoreState, VersionInfo, VersionRef,
};
use crate::value::{RotationToken, SecretValue};
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// The label consumers read.
pub const AWSCURRENT: &str = "AWSCURRENT";
/// The label of a value being rotated in.
pub const AWSPENDING: &str = "AWSPENDING";
/// The label of the value that was current before.
pub const AWSPREVIOUS: &str = "AWSPREVIOUS";

struct Version {
    id: String,
    value: Vec<u8>,
    stages: BTreeSet<String>,
}

#[derive(Default)]
struct State {
    versions: Vec<Version>,
    rotation_enabled: bool,
}

impl State {
    fn holder(&self, stage: &str) -> Option<usize> {
        self.versions.iter().position(|v| v.stages.contains(stage))
    }

    fn find(&self, id: &str) -> Option<usize> {
        self.versions.iter().position(|v| v.id == id)
    }

    /// Moves `stage` to version `to`; AWSCURRENT's old holder gets AWSPREVIOUS.
    fn attach(&mut self, stage: &str, to: usize) {
        let old = self.holder(stage);
        for v in &mut self.versions {
            v.stages.remove(stage);
        }
        self.versions[to].stages.insert(stage.to_string());
        if stage == AWSCURRENT {
            if let Some(o) = old.filter(|o| *o != to) {
                for v in &mut self.versions {
                    v.stages.remove(AWSPREVIOUS);
                }
                self.versions[o].stages.insert(AWSPREVIOUS.into());
            }
        }
    }
}

/// One Secrets Manager secret in memory, with AWS's label semantics:
///
/// * each staging label is on at most one version;
/// * `PutSecretValue` is idempotent by `ClientRequestToken` (same token and
///   value: no-op; same token, different value: `ResourceExistsException`,
///   here [`ErrorClass::Conflict`]), as real AWS (moto instead overwrites);
/// * `UpdateSecretVersionStage` moving a label that is attached elsewhere
///   needs `RemoveFromVersionId` naming its holder — the compare-and-swap;
///   moving `AWSCURRENT` gives its old holder `AWSPREVIOUS`;
/// * versions without labels are deprecated but stay readable by id.
///
/// Cheap to clone; clones share the secret (that is how a test plays a
/// concurrent writer or hands fresh store handles to a resumed engine).
#[derive(Clone, Default)]
pub struct FakeSecretsManager(Arc<Mutex<State>>);

fn err(class: ErrorClass, m: impl Into<String>) -> BackendError {
    BackendError::new(class, m)
}

impl FakeSecretsManager {
    /// A secret whose first version (a random id) holds `value` as AWSCURRENT.
    pub fn new(value: &[u8]) -> FakeSecretsManager {
        let sm = FakeSecretsManager::default();
        let id = RotationToken::new().to_string();
        sm.put_secret_value(&id, value, &[AWSCURRENT])
            .expect("fresh secret");
        sm
    }

    /// `PutSecretValue(ClientRequestToken, SecretBinary, VersionStages)`;
    /// stages default to `AWSCURRENT` when empty.
    pub fn put_secret_value(
        &self,
        token: &str,
        value: &[u8],
        stages: &[&str],
    ) -> BackendResult<String> {
        if !(32..=64).contains(&token.len()) {
            return Err(err(
                ErrorClass::Invalid,
                "ClientRequestToken must be 32-64 characters",
            ));
        }
        let mut s = self.0.lock().unwrap();
        if let Some(i) = s.find(token) {
            return if s.versions[i].value == value {
                Ok(token.to_string())
            } else {
                Err(err(
                    ErrorClass::Conflict,
                    format!("ResourceExistsException: version {token} exists with other data"),
                ))
            };
        }
        s.versions.push(Version {
            id: token.to_string(),
            value: value.to_vec(),
            stages: BTreeSet::new(),
        });
        let to = s.versions.len() - 1;
        let stages: &[&str] = if stages.is_empty() {
            &[AWSCURRENT]
        } else {
            stages
        };
        for st in stages {
            s.attach(st, to);
        }
        Ok(token.to_string())
    }

    /// `UpdateSecretVersionStage(VersionStage, MoveToVersionId, RemoveFromVersionId)`.
    pub fn update_secret_version_stage(
        &self,
        stage: &str,
        move_to: Option<&str>,
        remove_from: Option<&str>,
    ) -> BackendResult<()> {
        let mut s = self.0.lock().unwrap();
        let holder = s.holder(stage).map(|i| s.versions[i].id.clone());
        match move_to {
            Some(to) => {
                let ti = s
                    .find(to)
                    .ok_or_else(|| err(ErrorClass::NotFound, format!("no version {to}")))?;
                if holder.as_deref() == Some(to) {
                    return Ok(());
                }
                if let Some(h) = &holder {
                    if remove_from != Some(h.as_str()) {
                        return Err(err(
                            ErrorClass::Conflict,
                            format!(
                                "InvalidParameterException: {stage} is on {h}, not on RemoveFromVersionId {}",
                                remove_from.unwrap_or("<empty>")
                            ),
                        ));
                    }
                }
                s.attach(stage, ti);
                Ok(())
            }
            None => {
                let from = remove_from
                    .ok_or_else(|| err(ErrorClass::Invalid, "nothing to move or remove"))?;
                if stage == AWSCURRENT {
                    return Err(err(
                        ErrorClass::Invalid,
                        "InvalidParameterException: AWSCURRENT can only be moved",
                    ));
                }
                if holder.as_deref() != Some(from) {
                    return Err(err(
                        ErrorClass::Conflict,
                        format!("InvalidParameterException: {stage} is not on {from}"),
                    ));
                }
                let fi = s.find(from).expect("holder exists");
                s.versions[fi].stages.remove(stage);
                Ok(())
            }
        }
    }

    /// `GetSecretValue(VersionId, VersionStage)`: with both, the version must
    /// carry the stage; with neither, AWSCURRENT.
    pub fn get_secret_value(
        &self,
        version_id: Option<&str>,
        stage: Option<&str>,
    ) -> BackendResult<SecretValue> {
        let s = self.0.lock().unwrap();
        let i = match (version_id, stage) {
            (Some(id), st) => {
                let i = s
                    .find(id)
                    .ok_or_else(|| err(ErrorClass::NotFound, format!("no version {id}")))?;
                if let Some(st) = st {
                    if !s.versions[i].stages.contains(st) {
                        return Err(err(
                            ErrorClass::NotFound,
                            format!("version {id} is not {st}"),
                        ));
                    }
                }
                i
            }
            (None, st) => {
                let st = st.unwrap_or(AWSCURRENT);
                s.holder(st)
                    .ok_or_else(|| err(ErrorClass::NotFound, format!("no version is {st}")))?
            }
        };
        Ok(SecretValue::new(s.versions[i].value.clone()))
    }

    /// `DescribeSecret`'s `VersionIdsToStages`.
    pub fn version_ids_to_stages(&self) -> BTreeMap<String, Vec<String>> {
        let s = self.0.lock().unwrap();
        s.versions
            .iter()
            .map(|v| (v.id.clone(), v.stages.iter().cloned().collect()))
            .collect()
    }

    /// The version holding `stage`.
    pub fn version_with(&self, stage: &str) -> Option<String> {
        let s = self.0.lock().unwrap();
        s.holder(stage).map(|i| s.versions[i].id.clone())
    }

    /// Sets `RotationEnabled` (a plan risk).
    pub fn set_rotation_enabled(&self, on: bool) {
        self.0.lock().unwrap().rotation_enabled = on;
    }

    /// Every value ever stored (for leak checks in tests).
    pub fn all_values(&self) -> Vec<SecretValue> {
        let s = self.0.lock().unwrap();
        s.versions
            .iter()
            .map(|v| SecretValue::new(v.value.clone()))
            .collect()
    }
}

/// A [`SecretStore`] over a [`FakeSecretsManager`], mapped the way DESIGN.md
/// 7.5 maps the real one, with fault injection around every method.
#[derive(Clone)]
pub struct FakeStore {
    sm: FakeSecretsManager,
    name: String,
    faults: Faults,
}

impl FakeStore {
    /// A store named `name` over `sm`, with `faults`.
    pub fn new(sm: FakeSecretsManager, name: &str, faults: Faults) -> FakeStore {
        FakeStore {
            sm,
            name: name.into(),
            faults,
        }
    }
}

#[async_trait]
impl SecretStore for FakeStore {
    fn describe(&self) -> StoreRef {
        StoreRef::new("memory", self.name.clone())
    }

    fn capabilities(&self) -> StoreCaps {
        StoreCaps {
            versioned: true,
            cas: true,
            labels: true,
            max_versions: None,
        }
    }

    fn required_permissions(&self) -> Vec<crate::Permission> {
        [
            "DescribeSecret",
            "GetSecretValue",
            "PutSecretValue",
            "UpdateSecretVersionStage",
        ]
        .iter()
        .map(|a| crate::Permission {
            action: format!("memory:{a}"),
            resource: self.name.clone(),
        })
        .collect()
    }

    async fn inspect(&self) -> BackendResult<StoreState> {
        self.faults.call("store.inspect", || {
            let map = self.sm.version_ids_to_stages();
            Ok(StoreState {
                current: self.sm.version_with(AWSCURRENT).map(VersionRef),
                pending: self.sm.version_with(AWSPENDING).map(VersionRef),
                previous: self.sm.version_with(AWSPREVIOUS).map(VersionRef),
                versions: map
                    .into_iter()
                    .map(|(id, labels)| VersionInfo {
                        version: VersionRef(id),
                        labels,
                    })
                    .collect(),
                native_rotation: self.sm.0.lock().unwrap().rotation_enabled,
            })
        })
    }

    async fn read_current(&self) -> BackendResult<(VersionRef, SecretValue)> {
        self.faults.call("store.read_current", || {
            let v = self.sm.get_secret_value(None, Some(AWSCURRENT))?;
            let id = self.sm.version_with(AWSCURRENT).expect("has current");
            Ok((VersionRef(id), v))
        })
    }

    async fn read_version(&self, version: &VersionRef) -> BackendResult<SecretValue> {
        self.faults.call("store.read_version", || {
            self.sm.get_secret_value(Some(version.as_str()), None)
        })
    }

    async fn acquire(&self, token: &RotationToken) -> BackendResult<()> {
        self.faults.call("store.acquire", || {
            let pending = self.sm.version_with(AWSPENDING);
            let current = self.sm.version_with(AWSCURRENT);
            match pending {
                Some(p) if p != token.as_str() && Some(&p) != current.as_ref() => Err(err(
                    ErrorClass::Locked,
                    format!("AWSPENDING is on {p}, another rotation's version"),
                )),
                _ => Ok(()),
            }
        })
    }

    async fn release(&self, _token: &RotationToken) -> BackendResult<()> {
        // The lock is the AWSPENDING label, removed by discard_staged.
        self.faults.call("store.release", || Ok(()))
    }

    async fn stage(&self, token: &RotationToken, value: &SecretValue) -> BackendResult<VersionRef> {
        self.faults.call("store.stage", || {
            match self
                .sm
                .get_secret_value(Some(token.as_str()), Some(AWSPENDING))
            {
                Ok(v) if v.expose() == value.expose() => return Ok(VersionRef::from(token)),
                Ok(_) => {
                    return Err(err(
                        ErrorClass::Conflict,
                        format!("pending version {token} holds other data"),
                    ))
                }
                Err(e) if e.class == ErrorClass::NotFound => {}
                Err(e) => return Err(e),
            }
            self.sm
                .put_secret_value(token.as_str(), value.expose(), &[AWSPENDING])
                .map(VersionRef)
        })
    }

    async fn read_staged(&self, token: &RotationToken) -> BackendResult<SecretValue> {
        self.faults.call("store.read_staged", || {
            self.sm
                .get_secret_value(Some(token.as_str()), Some(AWSPENDING))
        })
    }

    async fn promote(
        &self,
        token: &RotationToken,
        expected_current: &VersionRef,
    ) -> BackendResult<VersionRef> {
        self.faults.call("store.promote", || {
            self.sm.update_secret_version_stage(
                AWSCURRENT,
                Some(token.as_str()),
                Some(expected_current.as_str()),
            )?;
            Ok(VersionRef::from(token))
        })
    }

    async fn demote(
        &self,
        to: &VersionRef,
        expected_current: &VersionRef,
    ) -> BackendResult<VersionRef> {
        self.faults.call("store.demote", || {
            self.sm.update_secret_version_stage(
                AWSCURRENT,
                Some(to.as_str()),
                Some(expected_current.as_str()),
            )?;
            Ok(to.clone())
        })
    }

    async fn discard_staged(&self, token: &RotationToken) -> BackendResult<()> {
        self.faults.call("store.discard_staged", || {
            if self.sm.version_with(AWSPENDING).as_deref() == Some(token.as_str()) {
                self.sm
                    .update_secret_version_stage(AWSPENDING, None, Some(token.as_str()))?;
            }
            Ok(())
        })
    }

    async fn retire_version(&self, version: &VersionRef, _how: RetireMode) -> BackendResult<()> {
        self.faults.call("store.retire_version", || {
            if self.sm.version_with(AWSCURRENT).as_deref() == Some(version.as_str()) {
                return Err(err(
                    ErrorClass::Conflict,
                    "refusing to retire the current version",
                ));
            }
            for st in [AWSPREVIOUS, AWSPENDING] {
                if self.sm.version_with(st).as_deref() == Some(version.as_str()) {
                    self.sm
                        .update_secret_version_stage(st, None, Some(version.as_str()))?;
                }
            }
            Ok(())
        })
    }
}
