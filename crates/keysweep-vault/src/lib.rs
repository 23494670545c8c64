//! keysweep rotation backends for HashiCorp Vault and OpenBao KV secrets.
//!
//! * [`Kv2Store`] implements [`keysweep_rotate::SecretStore`] over a KV v2
//!   secret (store kind [`KV2_KIND`], locator `mount/path`). The pending value
//!   lives at a staging key written with `cas=0`, promotion and rollback are
//!   check-and-set writes against the version observed at plan time, and a
//!   `cas=0` lock key keeps two rotations apart (DESIGN.md 7.6; the type's
//!   docs map every step to its Vault calls).
//! * [`Kv1Store`] (kind [`KV1_KIND`]) is the opt-in, unversioned,
//!   last-write-wins variant: refused unless the store option
//!   `allow_unversioned=true`.
//! * [`VaultSettings`] reads the address, namespace, TLS settings and
//!   credentials (token or AppRole) the way the Vault CLI does;
//!   [`store_from_ref`] rebuilds a store from a journaled
//!   [`StoreRef`] for a
//!   [`BackendFactory`](keysweep_rotate::BackendFactory).
//! * [`locate()`] finds which keys and versions of a KV v2 mount hold a leaked
//!   value; [`rotator_policy`] prints the least-privilege policy a rotator
//!   needs.
//!
//! Values are [`SecretValue`](keysweep_rotate::SecretValue)s holding the KV
//! data map as compact JSON (keys in the order Vault returns them). No value,
//! token or secret id is ever logged or put in an error: messages carry
//! mounts, paths, version numbers and Vault's error strings. vaultrs's own
//! request and response types derive `Debug` with secrets inside, so this
//! crate never formats them, and its dependencies log at `trace` level: cap
//! the targets in [`NOISY_LOG_TARGETS`] at `warn`.
//!
//! # Example
//!
//! ```no_run
//! use keysweep_rotate::{PlanBuilder, FieldPath, RandomIssuer, SecretStore};
//! use keysweep_vault::{Kv2Options, Kv2Store, VaultSettings};
//! use std::collections::BTreeMap;
//!
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! // VAULT_ADDR and VAULT_TOKEN (or VAULT_ROLE_ID + VAULT_SECRET_ID) are set.
//! let settings = VaultSettings::from_env_and_options(&BTreeMap::new())?;
//! let store = Kv2Store::new(settings, "secret", "app/db", Kv2Options::default()).await?;
//! let issuer = RandomIssuer::builder().build()?;
//! let plan = PlanBuilder::new()
//!     .field(FieldPath::new("password")?)
//!     .plan(&store, &issuer)
//!     .await?;
//! println!("{}", serde_json::to_string_pretty(&plan)?); // no values inside
//! println!("{}", keysweep_vault::rotator_policy("secret", "app/db", &Kv2Options::default()));
//! # Ok(()) }
//! ```
//!
//! # Crate features
//!
//! None. TLS is rustls (vaultrs's default).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod common;
mod http;
mod kv1;
mod kv2;
mod locate;
mod policy;
mod settings;

pub use common::{Kv2Options, DEFAULT_LOCK_PREFIX, DEFAULT_LOCK_TTL, DEFAULT_STAGING_PREFIX};
pub use kv1::Kv1Store;
pub use kv2::Kv2Store;
pub use locate::{locate, VaultLocation};
pub use policy::rotator_policy;
pub use settings::{VaultAuth, VaultSettings, DEFAULT_APPROLE_MOUNT};

use keysweep_rotate::{BackendResult, SecretStore, StoreRef};
use std::sync::Arc;

/// Store kind of [`Kv2Store`].
pub const KV2_KIND: &str = "vault-kv2";

/// Store kind of [`Kv1Store`].
pub const KV1_KIND: &str = "vault-kv1";

/// Log targets of this crate's dependencies that log requests at `debug` and
/// `trace` (URLs, connection details, vaultrs's settings). The CLI caps them
/// at `warn`, whatever `-v` or `KEYSWEEP_LOG` says.
pub const NOISY_LOG_TARGETS: &[&str] = &[
    "vaultrs",
    "rustify",
    "rustify_derive",
    "reqwest",
    "hyper",
    "hyper_util",
    "hyper_rustls",
    "h2",
    "rustls",
    "tokio_rustls",
    "tower",
];

/// Why KV v1 is refused by default.
pub(crate) fn kv1_refusal() -> &'static str {
    "KV v1 has no versions and no check-and-set; rollback would be impossible; the store \
     option allow_unversioned=true rotates it anyway"
}

/// The store a [`StoreRef`] describes, for a
/// [`BackendFactory`](keysweep_rotate::BackendFactory): a [`Kv2Store`] for
/// kind [`KV2_KIND`], a [`Kv1Store`] for [`KV1_KIND`] (refused unless
/// `allow_unversioned=true`), `Ok(None)` for other kinds.
pub async fn store_from_ref(r: &StoreRef) -> BackendResult<Option<Arc<dyn SecretStore>>> {
    match r.kind.as_str() {
        KV2_KIND => Ok(Some(Arc::new(Kv2Store::from_ref(r).await?))),
        KV1_KIND => Ok(Some(Arc::new(Kv1Store::from_ref(r).await?))),
        _ => Ok(None),
    }
}

/// [`store_from_ref`] with these credentials instead of the environment's.
pub async fn store_from_ref_with_auth(
    r: &StoreRef,
    auth: VaultAuth,
) -> BackendResult<Option<Arc<dyn SecretStore>>> {
    match r.kind.as_str() {
        KV2_KIND => Ok(Some(Arc::new(Kv2Store::from_ref_with_auth(r, auth).await?))),
        KV1_KIND => Ok(Some(Arc::new(Kv1Store::from_ref_with_auth(r, auth).await?))),
        _ => Ok(None),
    }
}
