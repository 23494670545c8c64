//! `locate`: which store entry holds each leaked value.
//!
//! Candidate values (AWS Secrets Manager `AWSCURRENT`/`AWSPREVIOUS`, every
//! retained version of Vault KV v2 keys) are fingerprinted with the
//! scanner's key and compared with the findings' fingerprints; only places
//! and non-secret [`Hints`] come back, never values.

use crate::config::{RotateConfig, VaultMount};
use crate::findings::FindingRef;
use keysweep_rotate::{
    BackendError, Fingerprint, FingerprintKey, LocatedField, Locator, SecretValue, StoreRef, Wanted,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Non-secret facts about the value around a match, for suggesting an issuer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Hints {
    /// For a URL password: the URL's user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_user: Option<String>,
    /// The URL's host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_host: Option<String>,
    /// The URL's port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_port: Option<u16>,
    /// The URL's database (its first path segment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_dbname: Option<String>,
    /// A sibling JSON field that holds an AWS access key id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_field: Option<String>,
    /// That access key id (public, like a user name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// The IAM user owning that key, when the rotator may ask IAM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iam_user: Option<String>,
}

/// One located finding: the finding and the place holding its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Located {
    /// The finding's rule id.
    pub rule_id: String,
    /// The finding's fingerprint.
    pub fingerprint: String,
    /// The finding's rule kind.
    pub kind: String,
    /// The finding's file.
    pub path: String,
    /// The finding's line.
    pub line: u64,
    /// The store entry holding the value.
    pub store: StoreRef,
    /// The field inside it (`None`: the whole value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The version holding it.
    pub version: String,
    /// That version's labels (`AWSCURRENT`, `AWSPREVIOUS`; `current` for
    /// Vault's current version).
    pub labels: Vec<String>,
    /// Non-secret facts for suggesting an issuer.
    pub hints: Hints,
}

/// Where to search.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocateOptions {
    /// Search AWS Secrets Manager with these settings (`None`: do not).
    pub aws: Option<AwsSearch>,
    /// Vault KV v2 mounts to search.
    pub vault_mounts: Vec<VaultMount>,
    /// Vault settings (`[vault]`: address, namespace, …).
    pub vault: BTreeMap<String, String>,
}

/// How to search AWS Secrets Manager.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsSearch {
    /// `[aws]` settings (region, endpoint_url, profile).
    pub options: BTreeMap<String, String>,
    /// Only secrets whose name starts with this.
    pub name_prefix: Option<String>,
}

impl LocateOptions {
    /// The config's `[locate]` (and `[aws]`, `[vault]`) settings; front ends
    /// add their overrides to the result.
    pub fn from_config(cfg: &RotateConfig) -> LocateOptions {
        LocateOptions {
            aws: cfg.locate.aws.then(|| AwsSearch {
                options: cfg.aws.clone(),
                name_prefix: cfg.locate.aws_name_prefix.clone(),
            }),
            vault_mounts: cfg.locate.vault.clone(),
            vault: cfg.vault.clone(),
        }
    }
}

/// What [`locate`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LocateReport {
    /// What was searched (`AWS Secrets Manager`, `Vault secret/apps`).
    pub searched: Vec<String>,
    /// Every (finding, place) pair.
    pub located: Vec<Located>,
    /// Findings found nowhere.
    pub not_located: Vec<FindingRef>,
}

/// Why `locate` could not search.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    /// No findings were given.
    #[error("no findings to locate")]
    NoFindings,
    /// Neither AWS nor any Vault mount is to be searched.
    #[error("nothing to search: enable [locate] aws, or list Vault mounts ([[locate.vault]])")]
    NothingToSearch,
    /// A store family this build lacks.
    #[error("this keysweep was built without the `{feature}` cargo feature")]
    NotBuiltIn {
        /// The cargo feature.
        feature: &'static str,
    },
    /// AWS Secrets Manager failed.
    #[error("AWS Secrets Manager")]
    Aws(#[source] BackendError),
    /// The Vault settings are incomplete.
    #[error("Vault")]
    VaultSettings(#[source] BackendError),
    /// A Vault mount could not be searched.
    #[error("Vault mount {mount}")]
    Vault {
        /// The mount.
        mount: String,
        /// Why.
        #[source]
        source: BackendError,
    },
}

/// Non-secret parts of a `scheme://user:pass@host:port/db` URL.
pub(crate) fn url_hints(url: &str, h: &mut Hints) {
    let Some((_, rest)) = url.split_once("://") else {
        return;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let Some(at) = authority.rfind('@') else {
        return;
    };
    let (userinfo, hostport) = (&authority[..at], &authority[at + 1..]);
    let user = userinfo.split(':').next().unwrap_or_default();
    h.url_user = Some(decode(user));
    let (host, port) = if let Some(r) = hostport.strip_prefix('[') {
        let (h6, p) = r.split_once(']').unwrap_or((r, ""));
        (h6.to_string(), p.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (hostport.to_string(), None),
        }
    };
    h.url_host = Some(host);
    h.url_port = port.and_then(|p| p.parse().ok());
    let db = path
        .trim_start_matches('/')
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    h.url_dbname = (!db.is_empty()).then(|| decode(db));
}

/// A URL component, percent-decoded when it decodes to UTF-8, else as written.
fn decode(s: &str) -> String {
    keysweep_rotate::percent_decode(s).unwrap_or_else(|| s.to_string())
}

const ID_FIELDS: &[&str] = &[
    "aws_access_key_id",
    "AccessKeyId",
    "access_key_id",
    "accessKeyId",
];

/// The matcher handed to the provider crates: matches plus hints.
#[cfg_attr(not(any(feature = "aws", feature = "vault")), allow(dead_code))]
fn matcher(locator: &Locator) -> impl Fn(&SecretValue) -> Vec<(LocatedField, Hints)> + '_ {
    move |v: &SecretValue| {
        let found = locator.matches(v);
        if found.is_empty() {
            return Vec::new();
        }
        let json: Option<serde_json::Value> =
            v.expose_str().and_then(|t| serde_json::from_str(t).ok());
        found
            .into_iter()
            .map(|m| {
                let mut h = Hints::default();
                if let Some(f) = &m.field {
                    if f.is_url_password() {
                        let url = match f.json_path() {
                            None => v.expose_str().map(str::to_string),
                            Some(p) => json
                                .as_ref()
                                .and_then(|j| j.pointer(&format!("/{}", p.replace('.', "/"))))
                                .and_then(|s| s.as_str().map(str::to_string)),
                        };
                        if let Some(u) = url {
                            url_hints(&u, &mut h);
                        }
                    }
                }
                if let Some(serde_json::Value::Object(o)) = &json {
                    if let Some((k, v)) = ID_FIELDS
                        .iter()
                        .find_map(|k| Some((*k, o.get(*k)?.as_str()?)))
                    {
                        h.id_field = Some(k.to_string());
                        h.access_key_id = Some(v.to_string());
                    }
                }
                (m, h)
            })
            .collect()
    }
}

/// A place a value was found, before it is paired with its findings.
struct Hit {
    store: StoreRef,
    version: String,
    labels: Vec<String>,
    matched: LocatedField,
    hints: Hints,
}

/// Searches the stores `opts` names for the findings' values (fingerprinted
/// with `key`, which must be the scanner's) and returns where each is,
/// including, for AWS access keys, the IAM user owning them when the
/// rotator may ask IAM (best effort).
pub async fn locate(
    findings: &[FindingRef],
    key: FingerprintKey,
    opts: &LocateOptions,
) -> Result<LocateReport, LocateError> {
    if findings.is_empty() {
        return Err(LocateError::NoFindings);
    }
    let wanted: Vec<Wanted> = findings
        .iter()
        .filter_map(|f| {
            Some(Wanted {
                rule_id: f.rule_id.clone(),
                fingerprint: Fingerprint::from_hex(&f.fingerprint)?,
            })
        })
        .collect();
    let locator = Locator::new(key, wanted);
    let mut hits = Vec::new();
    let mut searched = Vec::new();
    if let Some(aws) = &opts.aws {
        search_aws(aws, &locator, &mut hits, &mut searched).await?;
    }
    if !opts.vault_mounts.is_empty() {
        search_vault(opts, &locator, &mut hits, &mut searched).await?;
    }
    if searched.is_empty() {
        return Err(LocateError::NothingToSearch);
    }
    Ok(pair(findings, hits, searched))
}

#[cfg(feature = "aws")]
async fn search_aws(
    aws: &AwsSearch,
    locator: &Locator,
    hits: &mut Vec<Hit>,
    searched: &mut Vec<String>,
) -> Result<(), LocateError> {
    let settings = keysweep_aws::AwsSettings::from_options(&aws.options);
    let found = keysweep_aws::locate(&settings, aws.name_prefix.as_deref(), matcher(locator))
        .await
        .map_err(LocateError::Aws)?;
    for l in found {
        let (matched, mut hints) = l.matched;
        if let Some(id) = &hints.access_key_id {
            // Which IAM user owns the key (iam:GetAccessKeyLastUsed); best
            // effort: the rotator may lack the permission.
            match keysweep_aws::access_key_owner(&settings, id).await {
                Ok(user) => hints.iam_user = user,
                Err(e) => {
                    tracing::info!(key = %id, error = %e, "cannot tell which IAM user owns the key")
                }
            }
        }
        hits.push(Hit {
            store: l.store,
            version: l.version.to_string(),
            labels: l.labels,
            matched,
            hints,
        });
    }
    searched.push("AWS Secrets Manager".to_string());
    Ok(())
}

/// Without the `aws` feature AWS is skipped, unless the search was narrowed
/// to it (an endpoint or a name prefix), which is refused.
#[cfg(not(feature = "aws"))]
async fn search_aws(
    aws: &AwsSearch,
    _: &Locator,
    _: &mut Vec<Hit>,
    _: &mut Vec<String>,
) -> Result<(), LocateError> {
    if aws.options.contains_key("endpoint_url") || aws.name_prefix.is_some() {
        return Err(LocateError::NotBuiltIn { feature: "aws" });
    }
    Ok(())
}

#[cfg(feature = "vault")]
async fn search_vault(
    opts: &LocateOptions,
    locator: &Locator,
    hits: &mut Vec<Hit>,
    searched: &mut Vec<String>,
) -> Result<(), LocateError> {
    let settings = keysweep_vault::VaultSettings::from_env_and_options(&opts.vault)
        .map_err(LocateError::VaultSettings)?;
    for m in &opts.vault_mounts {
        let found = keysweep_vault::locate(&settings, &m.mount, &m.prefix, matcher(locator))
            .await
            .map_err(|source| LocateError::Vault {
                mount: m.mount.clone(),
                source,
            })?;
        for l in found {
            let labels = if l.current {
                vec!["current".to_string()]
            } else {
                Vec::new()
            };
            hits.push(Hit {
                store: l.store,
                version: l.version.to_string(),
                labels,
                matched: l.matched.0,
                hints: l.matched.1,
            });
        }
        searched.push(format!("Vault {}/{}", m.mount, m.prefix));
    }
    Ok(())
}

#[cfg(not(feature = "vault"))]
async fn search_vault(
    _: &LocateOptions,
    _: &Locator,
    _: &mut Vec<Hit>,
    _: &mut Vec<String>,
) -> Result<(), LocateError> {
    Err(LocateError::NotBuiltIn { feature: "vault" })
}

/// Pairs every hit with the findings of its value; the rest are not located.
fn pair(findings: &[FindingRef], hits: Vec<Hit>, searched: Vec<String>) -> LocateReport {
    let mut located = Vec::new();
    for h in hits {
        let want = &h.matched.wanted;
        for f in findings
            .iter()
            .filter(|f| f.rule_id == want.rule_id && f.fingerprint == want.fingerprint.to_hex())
        {
            located.push(Located {
                rule_id: f.rule_id.clone(),
                fingerprint: f.fingerprint.clone(),
                kind: f.kind.clone(),
                path: f.path.clone(),
                line: f.line,
                store: h.store.clone(),
                field: h.matched.field.as_ref().map(|p| p.to_string()),
                version: h.version.clone(),
                labels: h.labels.clone(),
                hints: h.hints.clone(),
            });
        }
    }
    let found: BTreeSet<&str> = located.iter().map(|l| l.fingerprint.as_str()).collect();
    let not_located = findings
        .iter()
        .filter(|f| !found.contains(f.fingerprint.as_str()))
        .cloned()
        .collect();
    LocateReport {
        searched,
        located,
        not_located,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_hints_are_non_secret_parts() {
        let mut h = Hints::default();
        url_hints(
            "postgres://app%2Dro:s3cret@db.internal:6432/billing?sslmode=require",
            &mut h,
        );
        assert_eq!(h.url_user.as_deref(), Some("app-ro"));
        assert_eq!(h.url_host.as_deref(), Some("db.internal"));
        assert_eq!(h.url_port, Some(6432));
        assert_eq!(h.url_dbname.as_deref(), Some("billing"));
        let mut h = Hints::default();
        url_hints("postgresql://u:p@[::1]/x", &mut h);
        assert_eq!(h.url_host.as_deref(), Some("::1"));
        assert_eq!(h.url_port, None);
        let s = serde_json::to_string(&h).unwrap();
        assert!(!s.contains("\"p\""), "{s}");
    }

    fn finding(fp: &str) -> FindingRef {
        FindingRef {
            rule_id: "ks.x.1".into(),
            kind: "generic".into(),
            path: "a.env".into(),
            line: 1,
            fingerprint: fp.into(),
        }
    }

    #[test]
    fn nothing_to_search_and_no_findings_are_refused() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let f = [finding(&"ab".repeat(32))];
        let e = rt
            .block_on(locate(
                &f,
                FingerprintKey::default(),
                &LocateOptions::default(),
            ))
            .unwrap_err();
        assert!(matches!(e, LocateError::NothingToSearch), "{e:?}");
        assert!(!e.to_string().contains("--"), "{e}");
        let e = rt
            .block_on(locate(
                &[],
                FingerprintKey::default(),
                &LocateOptions::default(),
            ))
            .unwrap_err();
        assert!(matches!(e, LocateError::NoFindings), "{e:?}");
    }

    #[test]
    fn matches_carry_hints_and_pair_with_findings() {
        let key = FingerprintKey::default();
        let value = SecretValue::new(
            br#"{"dsn": "postgres://app:leaked-pw-0001@db:5432/billing", "aws_access_key_id": "AKIAEXAMPLE"}"#
                .to_vec(),
        );
        let fingerprint = key.fingerprint("ks.x.1", b"leaked-pw-0001");
        let fp = fingerprint.to_hex();
        let locator = Locator::new(
            key,
            vec![Wanted {
                rule_id: "ks.x.1".into(),
                fingerprint,
            }],
        );
        let found = matcher(&locator)(&value);
        assert_eq!(found.len(), 1, "{found:?}");
        let (m, h) = found.into_iter().next().unwrap();
        assert_eq!(h.url_user.as_deref(), Some("app"));
        assert_eq!(h.url_dbname.as_deref(), Some("billing"));
        assert_eq!(h.access_key_id.as_deref(), Some("AKIAEXAMPLE"));
        let other = "cd".repeat(32);
        let report = pair(
            &[finding(&fp), finding(&other)],
            vec![Hit {
                store: StoreRef::new("vault-kv2", "secret/app"),
                version: "3".into(),
                labels: vec!["current".into()],
                matched: m,
                hints: h,
            }],
            vec!["Vault secret/".into()],
        );
        assert_eq!(report.located.len(), 1);
        assert_eq!(report.located[0].field.as_deref(), Some("dsn#password"));
        assert_eq!(report.not_located, [finding(&other)]);
        let json = serde_json::to_string(&report).unwrap();
        assert!(!json.contains("leaked-pw-0001"), "{json}");
    }
}
