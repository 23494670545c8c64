//! Shared fixtures for the rotation tests.
#![allow(dead_code)]

use keysweep_rotate::testing::{
    FakeFactory, FakeIam, FakeSecretsManager, Faults, AWSCURRENT, AWSPENDING,
};
use keysweep_rotate::{
    extract_field, Engine, FieldPath, PlanBuilder, RotationPlan, RotationToken, SecretValue,
    Strategy,
};
use std::sync::Arc;

/// The leaked credential's value. Contains a marker the sentinel test greps for.
pub const OLD: &str = "SENTINELold0credential0value0Q7x2Lm9P";

pub struct Fixture {
    pub sm: FakeSecretsManager,
    pub iam: FakeIam,
    pub field: Option<FieldPath>,
    pub dir: tempfile::TempDir,
    pub factory: FakeFactory,
}

impl Fixture {
    /// A JSON secret `{"user": …, "password": OLD, …}` rotated by field.
    pub fn json() -> Fixture {
        let doc = format!(
            "{{\n  \"user\": \"app\",\n  \"password\": \"{OLD}\",\n  \"port\": 5432.0\n}}\n"
        );
        Fixture::with(doc.as_bytes(), Some(FieldPath::new("password").unwrap()))
    }

    /// A plain secret holding OLD.
    pub fn plain() -> Fixture {
        Fixture::with(OLD.as_bytes(), None)
    }

    pub fn with(doc: &[u8], field: Option<FieldPath>) -> Fixture {
        let iam = FakeIam::new(2);
        iam.add_credential(OLD.as_bytes());
        let sm = FakeSecretsManager::new(doc);
        let factory = FakeFactory::new(sm.clone(), iam.clone());
        Fixture {
            sm,
            iam,
            field,
            dir: tempfile::tempdir().unwrap(),
            factory,
        }
    }

    pub fn builder(&self) -> PlanBuilder {
        let mut b = PlanBuilder::new();
        if let Some(f) = &self.field {
            b.field(f.clone());
        }
        b.strategy(Strategy::overlap(3600));
        b
    }

    pub async fn plan(&self) -> RotationPlan {
        self.plan_with(&self.builder()).await
    }

    pub async fn plan_with(&self, b: &PlanBuilder) -> RotationPlan {
        let f = self.factory.with_faults(Faults::new());
        b.plan(&f.store_handle("app/db"), &f.issuer_handle("app"))
            .await
            .expect("plan")
    }

    /// An engine whose backends share this fixture's state, with `faults`.
    pub fn engine(&self, faults: Faults) -> Engine {
        Engine::builder(self.dir.path(), Arc::new(self.factory.with_faults(faults))).build()
    }

    /// The credential value inside a stored document.
    pub fn cred_of(&self, doc: &SecretValue) -> SecretValue {
        match &self.field {
            Some(f) => extract_field(doc, f).unwrap(),
            None => doc.clone(),
        }
    }

    pub fn current_value(&self) -> SecretValue {
        let doc = self.sm.get_secret_value(None, Some(AWSCURRENT)).unwrap();
        self.cred_of(&doc)
    }

    /// Invariant 1: AWSCURRENT points at a credential the issuer accepts.
    pub fn assert_current_accepted(&self, ctx: &str) {
        let v = self.current_value();
        assert!(
            self.iam.accepts(v.expose()),
            "{ctx}: AWSCURRENT holds a credential the issuer rejects; {:?} {:?}",
            self.sm,
            self.iam
        );
    }

    /// Invariants 2 and 3 after DONE/ABORTED/ROLLED_BACK.
    pub fn assert_clean(&self, ctx: &str) {
        self.assert_current_accepted(ctx);
        assert_eq!(
            self.sm.version_with(AWSPENDING),
            None,
            "{ctx}: orphan AWSPENDING; {:?}",
            self.sm
        );
        assert!(self.iam.credentials().len() <= 2, "{ctx}: {:?}", self.iam);
    }
}

pub fn token(n: u8) -> RotationToken {
    RotationToken::from_random_bytes([n; 16])
}
