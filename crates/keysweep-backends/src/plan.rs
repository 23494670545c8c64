//! Planning a [`PlannedTarget`]: build its store and issuer with
//! [`Backends`] and run the read-only planner.

use crate::config::PlannedTarget;
use crate::Backends;
use keysweep_rotate::{
    BackendError, BackendFactory, FingerprintKey, NamedPlan, PlanBuilder, StoreRef,
};

/// Why a target could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Its store could not be built (unknown kind, bad settings).
    #[error("{name:?}: store {store}")]
    Store {
        /// The target's name.
        name: String,
        /// The store.
        store: StoreRef,
        /// Why.
        #[source]
        source: BackendError,
    },
    /// Its issuer could not be built.
    #[error("{name:?}: issuer {kind}")]
    Issuer {
        /// The target's name.
        name: String,
        /// The issuer's kind.
        kind: String,
        /// Why.
        #[source]
        source: BackendError,
    },
    /// The planner refused or a read failed.
    #[error("{name:?} ({store})")]
    Plan {
        /// The target's name.
        name: String,
        /// The store.
        store: StoreRef,
        /// The engine's error (its class decides exit codes).
        #[source]
        source: keysweep_rotate::Error,
    },
}

/// Inspects the target's store and issuer (read-only) and returns its plan,
/// named as the target is.
pub async fn plan_target(t: &PlannedTarget, key: &FingerprintKey) -> Result<NamedPlan, PlanError> {
    let store = Backends
        .store(&t.target.store)
        .await
        .map_err(|source| PlanError::Store {
            name: t.name.clone(),
            store: t.target.store.clone(),
            source,
        })?;
    let issuer = Backends
        .issuer(&t.target.issuer)
        .await
        .map_err(|source| PlanError::Issuer {
            name: t.name.clone(),
            kind: t.target.issuer.kind.clone(),
            source,
        })?;
    let mut b = PlanBuilder::new();
    b.strategy(t.strategy).retire(t.retire).key(key.clone());
    if let Some(f) = &t.target.field {
        b.field(f.clone());
    }
    if let Some(f) = &t.target.id_field {
        b.id_field(f.clone());
    }
    let plan = b
        .plan(store.as_ref(), issuer.as_ref())
        .await
        .map_err(|source| PlanError::Plan {
            name: t.name.clone(),
            store: t.target.store.clone(),
            source,
        })?;
    Ok(NamedPlan {
        name: t.name.clone(),
        plan,
    })
}
