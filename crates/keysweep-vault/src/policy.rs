//! The least-privilege Vault policy a rotator needs.

use crate::common::Kv2Options;
use keysweep_rotate::Permission;

/// One policy stanza: an API path (no `v1/`) and its capabilities.
pub(crate) type Rule = (String, &'static [&'static str]);

/// The rules of a KV v2 rotation of `mount/path`:
///
/// * the secret: `read` and `update` its data (cas writes to an existing
///   key), `read` its metadata, `update` on `delete/` and `destroy/` to retire
///   the old version;
/// * `read` the mount's config (`max_versions`, `delete_version_after` risks);
/// * its staging keys (one segment below `<staging>/<path>/`: `create`,
///   `read`, `delete` via metadata, `list` of that folder only);
/// * its lock key (`create`, `read`, `update` to break an expired lock;
///   `delete` via metadata).
///
/// Nothing else: no `list` of the mount, no other secret, no `sys/`.
/// (`sys/internal/ui/mounts/<mount>`, used to detect the KV version, needs
/// no policy.)
pub(crate) fn kv2_rules(mount: &str, path: &str, o: &Kv2Options) -> Vec<Rule> {
    let staging = o.staging_dir(path);
    let lock = o.lock_key(path);
    vec![
        (format!("{mount}/data/{path}"), &["read", "update"]),
        (format!("{mount}/metadata/{path}"), &["read"]),
        (format!("{mount}/delete/{path}"), &["update"]),
        (format!("{mount}/destroy/{path}"), &["update"]),
        (format!("{mount}/config"), &["read"]),
        (format!("{mount}/data/{staging}/+"), &["create", "read"]),
        (format!("{mount}/metadata/{staging}/+"), &["delete"]),
        (format!("{mount}/metadata/{staging}/"), &["list"]),
        (
            format!("{mount}/data/{lock}"),
            &["create", "read", "update"],
        ),
        (format!("{mount}/metadata/{lock}"), &["read", "delete"]),
    ]
}

/// The rules of a KV v1 rotation of `mount/path` (no versions, no cas).
pub(crate) fn kv1_rules(mount: &str, path: &str, o: &Kv2Options) -> Vec<Rule> {
    let staging = o.staging_dir(path);
    let lock = o.lock_key(path);
    vec![
        (format!("{mount}/{path}"), &["read", "update"]),
        (
            format!("{mount}/{staging}/+"),
            &["create", "read", "update", "delete"],
        ),
        (format!("{mount}/{staging}/"), &["list"]),
        (
            format!("{mount}/{lock}"),
            &["create", "read", "update", "delete"],
        ),
    ]
}

/// Rules as plan permissions: action = the capability list, resource = the
/// API path.
pub(crate) fn permissions(rules: &[Rule]) -> Vec<Permission> {
    rules
        .iter()
        .map(|(p, caps)| Permission {
            action: caps.join(","),
            resource: p.clone(),
        })
        .collect()
}

/// Rules as HCL.
pub(crate) fn hcl(header: &str, rules: &[Rule]) -> String {
    let mut out = format!("# {header}\n");
    for (p, caps) in rules {
        let caps: Vec<String> = caps.iter().map(|c| format!("\"{c}\"")).collect();
        out.push_str(&format!(
            "\npath \"{p}\" {{\n  capabilities = [{}]\n}}\n",
            caps.join(", ")
        ));
    }
    out
}

/// The least-privilege policy (HCL) a rotator needs to rotate the KV v2
/// secret `mount/path` with [`Kv2Store`](crate::Kv2Store): data and metadata
/// of that path, its staging and lock keys, the mount's config, and nothing
/// else. Paths are not validated here; [`Kv2Store::new`](crate::Kv2Store::new)
/// refuses mounts and paths with glob characters.
///
/// # Example
///
/// ```
/// use keysweep_vault::{rotator_policy, Kv2Options};
///
/// let hcl = rotator_policy("secret", "app/db", &Kv2Options::default());
/// assert!(hcl.contains("path \"secret/data/app/db\" {\n  capabilities = [\"read\", \"update\"]\n}"));
/// assert!(hcl.contains("path \"secret/data/.keysweep/staging/app/db/+\""));
/// assert!(!hcl.contains("secret/data/*"));
/// ```
pub fn rotator_policy(mount: &str, path: &str, opts: &Kv2Options) -> String {
    let mount = mount.trim_matches('/');
    hcl(
        &format!("keysweep rotator for the KV v2 secret {mount}/{path}"),
        &kv2_rules(mount, path, opts),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_text_and_permissions_agree() {
        let o = Kv2Options::default();
        let rules = kv2_rules("secret", "app/db", &o);
        let hcl = rotator_policy("secret/", "app/db", &o);
        for (p, caps) in &rules {
            assert!(hcl.contains(&format!("path \"{p}\"")), "{p}");
            assert!(!caps.is_empty());
        }
        assert_eq!(hcl.matches("path \"").count(), rules.len());
        assert!(hcl.starts_with("# keysweep rotator for the KV v2 secret secret/app/db\n"));
        let perms = permissions(&rules);
        assert!(perms.contains(&Permission {
            action: "create,read,update".into(),
            resource: "secret/data/.keysweep/locks/app/db".into(),
        }));
        // Nothing outside the path, its bookkeeping keys and the config.
        for (p, _) in &rules {
            assert!(
                p.ends_with("/app/db") || p.contains("/app/db/") || p == "secret/config",
                "{p}"
            );
        }
        let v1 = kv1_rules("kv", "app", &o);
        assert_eq!(v1[0].0, "kv/app");
    }
}
