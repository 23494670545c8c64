//! In-memory fakes for tests (`feature = "testing"`).
//!
//! * [`FakeSecretsManager`] models one AWS Secrets Manager secret's label
//!   semantics; [`FakeStore`] is the [`SecretStore`] over it.
//! * [`FakeIam`] models one principal's credentials with a limit (IAM's two
//!   keys); [`FakeIssuer`] is the [`Issuer`] over it.
//! * [`Faults`] numbers every call through the fakes sharing it and can crash
//!   or fail any of them before or after its effect, or run code there (a
//!   concurrent writer).
//! * [`FakeFactory`] hands out fresh handles over shared backends, as a real
//!   factory re-creates SDK clients after a crash.
//!
//! The provider crates can reuse [`Faults`] and the scenarios in this crate's
//! tests against their own stores and issuers.

mod faults;
mod iam;
mod sm;

pub use faults::{Action, Fault, Faults, Match, When};
pub use iam::{FakeIam, FakeIssuer};
pub use sm::{FakeSecretsManager, FakeStore, AWSCURRENT, AWSPENDING, AWSPREVIOUS};

use crate::engine::BackendFactory;
use crate::error::{BackendError, BackendResult, ErrorClass};
use crate::issuer::{Issuer, IssuerRef};
use crate::random::RandomIssuer;
use crate::store::{SecretStore, StoreRef};
use async_trait::async_trait;
use std::sync::Arc;

/// A [`BackendFactory`] over shared fake backends: store kind `memory`, issuer
/// kinds `memory` and `random`. Every handle it makes shares its [`Faults`].
#[derive(Clone, Debug)]
pub struct FakeFactory {
    /// The secret.
    pub sm: FakeSecretsManager,
    /// The principal's credentials.
    pub iam: FakeIam,
    /// Faults for every handle made.
    pub faults: Faults,
}

impl FakeFactory {
    /// A factory over these backends, with no faults.
    pub fn new(sm: FakeSecretsManager, iam: FakeIam) -> FakeFactory {
        FakeFactory {
            sm,
            iam,
            faults: Faults::new(),
        }
    }

    /// The same backends with other faults.
    pub fn with_faults(&self, faults: Faults) -> FakeFactory {
        FakeFactory {
            faults,
            ..self.clone()
        }
    }

    /// A store handle.
    pub fn store_handle(&self, name: &str) -> FakeStore {
        FakeStore::new(self.sm.clone(), name, self.faults.clone())
    }

    /// An issuer handle.
    pub fn issuer_handle(&self, principal: &str) -> FakeIssuer {
        FakeIssuer::new(self.iam.clone(), principal, self.faults.clone())
    }
}

impl std::fmt::Debug for FakeSecretsManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FakeSecretsManager({:?})", self.version_ids_to_stages())
    }
}

impl std::fmt::Debug for FakeIam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FakeIam({:?})", self.credentials())
    }
}

#[async_trait]
impl BackendFactory for FakeFactory {
    async fn store(&self, r: &StoreRef) -> BackendResult<Arc<dyn SecretStore>> {
        match r.kind.as_str() {
            "memory" => Ok(Arc::new(self.store_handle(&r.locator))),
            k => Err(BackendError::new(
                ErrorClass::Unsupported,
                format!("store kind {k}"),
            )),
        }
    }

    async fn issuer(&self, r: &IssuerRef) -> BackendResult<Arc<dyn Issuer>> {
        match r.kind.as_str() {
            "memory" => Ok(Arc::new(self.issuer_handle(&r.principal))),
            "random" => Ok(Arc::new(RandomIssuer::from_ref(r)?)),
            k => Err(BackendError::new(
                ErrorClass::Unsupported,
                format!("issuer kind {k}"),
            )),
        }
    }
}
