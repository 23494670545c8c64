//! `keysweep rotate locate`: find which KV v2 entries hold a leaked value.

use crate::common::{under, Kv2Options};
use crate::http::ApiError;
use crate::kv2::KvV2;
use crate::settings::VaultSettings;
use crate::{kv1_refusal, KV2_KIND};
use jiff::Timestamp;
use keysweep_rotate::{BackendError, BackendResult, ErrorClass, SecretValue, StoreRef, VersionRef};
use std::collections::VecDeque;

/// Where [`locate`] found a match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultLocation<T> {
    /// The KV v2 entry, ready for planning (kind `vault-kv2`, locator
    /// `mount/path`, connection options and the default staging and lock
    /// prefixes).
    pub store: StoreRef,
    /// The version holding the value.
    pub version: VersionRef,
    /// Whether that version is the current one.
    pub current: bool,
    /// What the matcher returned (one location per returned item).
    pub matched: T,
}

fn denied(e: &ApiError) -> bool {
    e.class() == ErrorClass::Denied
}

/// Walks the KV v2 `mount` under `prefix` (`""`: the whole mount; a folder
/// or a single key), reads every retained version of every key (skipping
/// deleted and destroyed ones, and keysweep's own staging and lock keys under
/// the default prefixes) and returns where `matcher` matches.
///
/// `matcher` sees each version's document as compact JSON (the same value a
/// [`Kv2Store`](crate::Kv2Store) reads); it must not log it. Folders and keys
/// the token may not list or read are skipped with a warning; an unreadable
/// `prefix` itself is an error.
///
/// Needs `list` on `<mount>/metadata/<prefix>/*` and `read` on
/// `<mount>/metadata/<prefix>/*` and `<mount>/data/<prefix>/*`.
pub async fn locate<M, T>(
    settings: &VaultSettings,
    mount: &str,
    prefix: &str,
    matcher: M,
) -> BackendResult<Vec<VaultLocation<T>>>
where
    M: Fn(&SecretValue) -> Vec<T>,
{
    let mount = mount.trim_matches('/');
    crate::common::check_key("mount", mount)?;
    let prefix = prefix.trim_matches('/');
    if !prefix.is_empty() {
        crate::common::check_key("prefix", prefix)?;
    }
    let vault = settings.vault().await?;
    if vault.kv_version(mount).await? == Some(1) {
        return Err(BackendError::new(
            ErrorClass::Unsupported,
            format!(
                "locate walks KV v2 only; {mount}/ is KV v1 ({})",
                kv1_refusal()
            ),
        ));
    }
    let kv = KvV2 {
        vault,
        mount: mount.to_string(),
    };
    let opts = Kv2Options::default();
    let mut options = settings.to_options();
    opts.to_options(&mut options);
    if mount.contains('/') {
        options.insert("mount".into(), mount.to_string());
    }
    let skip = |p: &str| {
        [&opts.staging_prefix, &opts.lock_prefix]
            .iter()
            .any(|x| p == x.as_str() || under(p, x))
    };

    let mut keys = Vec::new();
    if !prefix.is_empty() && !skip(prefix) {
        keys.push(prefix.to_string());
    }
    let mut dirs = VecDeque::from([prefix.to_string()]);
    let mut first = true;
    while let Some(dir) = dirs.pop_front() {
        let names = match kv.list(&dir).await {
            Ok(n) => n,
            Err(e) if denied(&e) && !first => {
                tracing::warn!(error = %e, "locate: skipping a folder the token may not list");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        first = false;
        for name in names {
            let full = if dir.is_empty() {
                name.clone()
            } else {
                format!("{dir}/{name}")
            };
            match full.strip_suffix('/') {
                Some(sub) if !skip(sub) => dirs.push_back(sub.to_string()),
                Some(_) => {}
                None if !skip(&full) && full != prefix => keys.push(full),
                None => {}
            }
        }
    }

    let now = Timestamp::now();
    let mut found = Vec::new();
    let mut versions_read = 0usize;
    for key in &keys {
        let meta = match kv.metadata(key).await {
            Ok(Some(m)) => m,
            Ok(None) => continue,
            Err(e) if denied(&e) => {
                tracing::warn!(error = %e, "locate: skipping a key the token may not read");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        for (n, vm) in meta.numbered() {
            if !vm.live(now) {
                continue;
            }
            let doc = match kv.read(key, Some(n)).await {
                Ok(Some((_, d))) => d,
                Ok(None) => continue,
                Err(e) if denied(&e) => {
                    tracing::warn!(error = %e, "locate: skipping a version the token may not read");
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            versions_read += 1;
            let value = crate::common::to_value(&doc);
            drop(doc);
            for matched in matcher(&value) {
                found.push(VaultLocation {
                    store: StoreRef {
                        kind: KV2_KIND.into(),
                        locator: format!("{mount}/{key}"),
                        options: options.clone(),
                    },
                    version: VersionRef(n.to_string()),
                    current: n == meta.current_version,
                    matched,
                });
            }
        }
    }
    tracing::info!(
        mount,
        prefix,
        keys = keys.len(),
        versions = versions_read,
        matches = found.len(),
        "locate finished"
    );
    Ok(found)
}
