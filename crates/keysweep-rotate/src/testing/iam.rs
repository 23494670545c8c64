//! A fake IAM-like credential issuer.

use super::faults::Faults;
use crate::error::{BackendError, BackendResult, ErrorClass};
use crate::issuer::{
    CreateCtx, Credential, CredentialId, CredentialInfo, CredentialStatus, Issuer, IssuerCaps,
    IssuerRef, IssuerState, Liveness, SetOutcome, TestEvidence,
};
use crate::random::RandomIssuer;
use crate::value::{RotationToken, SecretValue};
use async_trait::async_trait;
use std::sync::{Arc, Mutex};

struct Cred {
    id: CredentialId,
    value: Vec<u8>,
    status: CredentialStatus,
    token: Option<RotationToken>,
}

struct State {
    creds: Vec<Cred>,
    max: usize,
    next: u64,
    ever: Vec<Vec<u8>>,
}

/// One principal's credentials, like an IAM user's access keys: at most `max`
/// credentials active or not (IAM: 2), deactivate/reactivate/revoke, and a
/// test that accepts only active credentials (real IAM; moto accepts inactive
/// keys). Credentials remember the rotation token they were minted for, so
/// [`Issuer::find`] works.
///
/// Cheap to clone; clones share the state.
#[derive(Clone)]
pub struct FakeIam(Arc<Mutex<State>>);

impl FakeIam {
    /// A principal allowed `max` credentials.
    pub fn new(max: usize) -> FakeIam {
        FakeIam(Arc::new(Mutex::new(State {
            creds: Vec::new(),
            max,
            next: 1,
            ever: Vec::new(),
        })))
    }

    /// Adds an active credential with this value (the one that leaked).
    pub fn add_credential(&self, value: &[u8]) -> CredentialId {
        let mut s = self.0.lock().unwrap();
        let id = CredentialId(format!("AKIAFAKE{:012}", s.next));
        s.next += 1;
        s.ever.push(value.to_vec());
        s.creds.push(Cred {
            id: id.clone(),
            value: value.to_vec(),
            status: CredentialStatus::Active,
            token: None,
        });
        id
    }

    /// Sets a credential's status.
    pub fn set_status(&self, id: &CredentialId, status: CredentialStatus) {
        let mut s = self.0.lock().unwrap();
        if let Some(c) = s.creds.iter_mut().find(|c| &c.id == id) {
            c.status = status;
        }
    }

    /// Whether `value` is an active credential.
    pub fn accepts(&self, value: &[u8]) -> bool {
        let s = self.0.lock().unwrap();
        s.creds
            .iter()
            .any(|c| c.value == value && c.status == CredentialStatus::Active)
    }

    /// The credentials and their status.
    pub fn credentials(&self) -> Vec<(CredentialId, CredentialStatus)> {
        let s = self.0.lock().unwrap();
        s.creds.iter().map(|c| (c.id.clone(), c.status)).collect()
    }

    /// The id of the credential with this value, if it exists.
    pub fn id_of(&self, value: &[u8]) -> Option<CredentialId> {
        let s = self.0.lock().unwrap();
        s.creds
            .iter()
            .find(|c| c.value == value)
            .map(|c| c.id.clone())
    }

    /// Every value ever minted or added (for leak checks in tests).
    pub fn all_values(&self) -> Vec<SecretValue> {
        let s = self.0.lock().unwrap();
        s.ever.iter().map(|v| SecretValue::new(v.clone())).collect()
    }
}

/// An [`Issuer`] over a [`FakeIam`], with fault injection around every method.
#[derive(Clone)]
pub struct FakeIssuer {
    iam: FakeIam,
    principal: String,
    faults: Faults,
}

impl FakeIssuer {
    /// An issuer for `principal` over `iam`, with `faults`.
    pub fn new(iam: FakeIam, principal: &str, faults: Faults) -> FakeIssuer {
        FakeIssuer {
            iam,
            principal: principal.into(),
            faults,
        }
    }
}

fn not_found(id: &CredentialId) -> BackendError {
    BackendError::new(ErrorClass::NotFound, format!("NoSuchEntity: {id}"))
}

#[async_trait]
impl Issuer for FakeIssuer {
    fn describe(&self) -> IssuerRef {
        IssuerRef::new("memory", self.principal.clone())
    }

    fn capabilities(&self) -> IssuerCaps {
        IssuerCaps {
            max_credentials: Some(self.iam.0.lock().unwrap().max),
            overlap: true,
            deactivate: true,
            revoke: true,
            verify_dead: true,
        }
    }

    async fn inspect(&self, current: &SecretValue) -> BackendResult<IssuerState> {
        self.faults.call("issuer.inspect", || {
            let s = self.iam.0.lock().unwrap();
            Ok(IssuerState {
                current: s
                    .creds
                    .iter()
                    .find(|c| c.value == current.expose())
                    .map(|c| c.id.clone()),
                credentials: s
                    .creds
                    .iter()
                    .map(|c| CredentialInfo {
                        id: c.id.clone(),
                        status: c.status,
                    })
                    .collect(),
                quarantined: false,
            })
        })
    }

    async fn create(&self, token: &RotationToken, _ctx: &CreateCtx) -> BackendResult<Credential> {
        self.faults.call("issuer.create", || {
            let value = RandomIssuer::builder().build()?.generate()?;
            let mut s = self.iam.0.lock().unwrap();
            if s.creds.len() >= s.max {
                return Err(BackendError::new(
                    ErrorClass::LimitExceeded,
                    format!(
                        "LimitExceeded: cannot exceed quota of {} credentials",
                        s.max
                    ),
                ));
            }
            let id = CredentialId(format!("AKIAFAKE{:012}", s.next));
            s.next += 1;
            s.ever.push(value.expose().to_vec());
            s.creds.push(Cred {
                id: id.clone(),
                value: value.expose().to_vec(),
                status: CredentialStatus::Active,
                token: Some(token.clone()),
            });
            Ok(Credential { id, value })
        })
    }

    async fn find(
        &self,
        token: &RotationToken,
        _ctx: &CreateCtx,
    ) -> BackendResult<Option<CredentialId>> {
        self.faults.call("issuer.find", || {
            let s = self.iam.0.lock().unwrap();
            Ok(s.creds
                .iter()
                .find(|c| c.token.as_ref() == Some(token))
                .map(|c| c.id.clone()))
        })
    }

    async fn set(
        &self,
        _new: &Credential,
        _old: Option<&CredentialId>,
    ) -> BackendResult<SetOutcome> {
        self.faults.call("issuer.set", || Ok(SetOutcome::Applied))
    }

    async fn test(&self, new: &Credential) -> BackendResult<TestEvidence> {
        self.faults.call("issuer.test", || {
            if self.iam.accepts(new.value.expose()) {
                Ok(TestEvidence {
                    detail: format!("{} authenticates as {}", new.id, self.principal),
                })
            } else {
                Err(BackendError::new(
                    ErrorClass::TestFailed,
                    format!("{} does not authenticate", new.id),
                ))
            }
        })
    }

    async fn deactivate(&self, id: &CredentialId) -> BackendResult<()> {
        self.faults.call("issuer.deactivate", || {
            let mut s = self.iam.0.lock().unwrap();
            let c = s
                .creds
                .iter_mut()
                .find(|c| &c.id == id)
                .ok_or_else(|| not_found(id))?;
            c.status = CredentialStatus::Inactive;
            Ok(())
        })
    }

    async fn reactivate(&self, id: &CredentialId) -> BackendResult<()> {
        self.faults.call("issuer.reactivate", || {
            let mut s = self.iam.0.lock().unwrap();
            let c = s
                .creds
                .iter_mut()
                .find(|c| &c.id == id)
                .ok_or_else(|| not_found(id))?;
            c.status = CredentialStatus::Active;
            Ok(())
        })
    }

    async fn revoke(&self, id: &CredentialId) -> BackendResult<()> {
        self.faults.call("issuer.revoke", || {
            self.iam.0.lock().unwrap().creds.retain(|c| &c.id != id);
            Ok(())
        })
    }

    async fn verify_dead(&self, old: &Credential) -> BackendResult<Liveness> {
        self.faults.call("issuer.verify_dead", || {
            Ok(if self.iam.accepts(old.value.expose()) {
                Liveness::Alive
            } else {
                Liveness::Dead
            })
        })
    }
}
