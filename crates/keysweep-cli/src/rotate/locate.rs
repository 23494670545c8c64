//! `keysweep rotate locate`: which store entry holds each leaked value.
//!
//! Candidate values (AWS Secrets Manager `AWSCURRENT`/`AWSPREVIOUS`, every
//! retained version of Vault KV v2 keys) are fingerprinted with the scanner's
//! key and compared with the findings' fingerprints; only places are printed.

use super::args::{LocateArgs, RotateFormat};
use super::config::{self, FindingRef, RotateConfig, VaultMount};
use anyhow::{bail, Result};
use keysweep_rotate::{FingerprintKey, LocatedField, Locator, SecretValue, StoreRef, Wanted};
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write;

/// Non-secret facts about the value around a match, for suggesting an issuer.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Hints {
    /// For a URL password: the URL's user, host, port and database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_port: Option<u16>,
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

/// One located finding.
#[derive(Clone, Debug, Serialize)]
pub struct Located {
    pub rule_id: String,
    pub fingerprint: String,
    pub kind: String,
    pub path: String,
    pub line: u64,
    pub store: StoreRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub version: String,
    pub labels: Vec<String>,
    pub hints: Hints,
}

/// Non-secret parts of a `scheme://user:pass@host:port/db` URL.
fn url_hints(url: &str, h: &mut Hints) {
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

// Without the `aws`/`vault` features nothing is ever searched.
#[cfg_attr(
    not(all(feature = "aws", feature = "vault")),
    allow(unused_mut, unreachable_code, unused_variables)
)]
pub async fn run(a: &LocateArgs) -> Result<i32> {
    let cfg = RotateConfig::load(a.common.config.as_deref())?;
    let findings = config::load_findings(&a.findings)?;
    if findings.is_empty() {
        bail!("{}: no findings to locate", a.findings.display());
    }
    let wanted: Vec<Wanted> = findings
        .iter()
        .filter_map(|f| {
            Some(Wanted {
                rule_id: f.rule_id.clone(),
                fingerprint: keysweep_rotate::Fingerprint::from_hex(&f.fingerprint)?,
            })
        })
        .collect();
    let locator = Locator::new(FingerprintKey::from_env(), wanted);
    let mut mounts = cfg.locate.vault.clone();
    for m in &a.vault_mounts {
        mounts.push(VaultMount::parse(m)?);
    }
    let search_aws = cfg.locate.aws && !a.no_aws;
    let mut hits: Vec<(StoreRef, String, Vec<String>, LocatedField, Hints)> = Vec::new();
    let mut searched: Vec<String> = Vec::new();

    if search_aws {
        #[cfg(feature = "aws")]
        {
            let settings =
                keysweep_aws::AwsSettings::from_options(&super::aws_defaults(&a.common, &cfg));
            let prefix = a
                .aws_prefix
                .as_deref()
                .or(cfg.locate.aws_name_prefix.as_deref());
            let found = keysweep_aws::locate(&settings, prefix, matcher(&locator))
                .await
                .map_err(|e| anyhow::anyhow!("AWS Secrets Manager: {e}"))?;
            for l in found {
                let (m, mut h) = l.matched;
                if let Some(id) = &h.access_key_id {
                    // Which IAM user owns the key (iam:GetAccessKeyLastUsed);
                    // best effort: the rotator may lack the permission.
                    match keysweep_aws::access_key_owner(&settings, id).await {
                        Ok(user) => h.iam_user = user,
                        Err(e) => {
                            tracing::info!(key = %id, error = %e, "cannot tell which IAM user owns the key")
                        }
                    }
                }
                hits.push((l.store, l.version.to_string(), l.labels, m, h));
            }
            searched.push("AWS Secrets Manager".to_string());
        }
        #[cfg(not(feature = "aws"))]
        if a.common.endpoint_url.is_some() || a.aws_prefix.is_some() {
            bail!("this keysweep was built without the `aws` feature; rebuild with --features aws");
        }
    }
    if !mounts.is_empty() {
        #[cfg(feature = "vault")]
        {
            let settings = keysweep_vault::VaultSettings::from_env_and_options(&cfg.vault)
                .map_err(|e| anyhow::anyhow!("Vault: {e}"))?;
            for m in &mounts {
                let found =
                    keysweep_vault::locate(&settings, &m.mount, &m.prefix, matcher(&locator))
                        .await
                        .map_err(|e| anyhow::anyhow!("Vault mount {}: {e}", m.mount))?;
                for l in found {
                    let labels = if l.current {
                        vec!["current".to_string()]
                    } else {
                        Vec::new()
                    };
                    hits.push((
                        l.store,
                        l.version.to_string(),
                        labels,
                        l.matched.0,
                        l.matched.1,
                    ));
                }
                searched.push(format!("Vault {}/{}", m.mount, m.prefix));
            }
        }
        #[cfg(not(feature = "vault"))]
        bail!("this keysweep was built without the `vault` feature; rebuild with --features vault");
    }
    if searched.is_empty() {
        bail!("nothing to search: enable [locate] aws, or give --vault-mount / [[locate.vault]]");
    }

    let mut located = Vec::new();
    for (store, version, labels, m, hints) in hits {
        for f in findings.iter().filter(|f| {
            f.rule_id == m.wanted.rule_id && f.fingerprint == m.wanted.fingerprint.to_hex()
        }) {
            located.push(Located {
                rule_id: f.rule_id.clone(),
                fingerprint: f.fingerprint.clone(),
                kind: f.kind.clone(),
                path: f.path.clone(),
                line: f.line,
                store: store.clone(),
                field: m.field.as_ref().map(|p| p.to_string()),
                version: version.clone(),
                labels: labels.clone(),
                hints: hints.clone(),
            });
        }
    }
    let found_fps: BTreeSet<&str> = located.iter().map(|l| l.fingerprint.as_str()).collect();
    let missing: Vec<&FindingRef> = findings
        .iter()
        .filter(|f| !found_fps.contains(f.fingerprint.as_str()))
        .collect();

    if let Some(path) = &a.suggest_config {
        let mut dest = crate::output::open(Some(path))?;
        dest.write_all(suggest(&located).as_bytes())?;
        dest.finish()?;
    }
    let mut out = std::io::stdout().lock();
    match a.common.format {
        RotateFormat::Json => {
            let missing: Vec<_> = missing
                .iter()
                .map(|f| serde_json::json!({"rule_id": f.rule_id, "fingerprint": f.fingerprint, "path": f.path, "line": f.line}))
                .collect();
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({"searched": searched, "located": located, "not_located": missing}),
            )?;
            writeln!(out)?;
        }
        RotateFormat::Human => {
            writeln!(out, "Searched: {}", searched.join(", "))?;
            for l in &located {
                write!(
                    out,
                    "  {} {}  {}:{}\n    → {}",
                    l.rule_id,
                    &l.fingerprint[..12],
                    l.path,
                    l.line,
                    l.store
                )?;
                if let Some(f) = &l.field {
                    write!(out, "  field {f}")?;
                }
                write!(out, "  version {}", l.version)?;
                if !l.labels.is_empty() {
                    write!(out, " ({})", l.labels.join(", "))?;
                }
                writeln!(out)?;
            }
            for f in &missing {
                writeln!(
                    out,
                    "  {} {}  {}:{}\n    → not found in any searched store",
                    f.rule_id,
                    &f.fingerprint[..12],
                    f.path,
                    f.line
                )?;
            }
            writeln!(
                out,
                "\nLocated {} of {} findings.",
                findings.len() - missing.len(),
                findings.len()
            )?;
            if let Some(p) = &a.suggest_config {
                writeln!(
                    out,
                    "Suggested [[rotation]] entries written to {}.",
                    p.display()
                )?;
            }
        }
    }
    Ok(if missing.is_empty() { 0 } else { 1 })
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// `[[rotation]]` entries for the located findings (current versions only;
/// one per store entry and field).
fn suggest(located: &[Located]) -> String {
    let mut out =
        String::from("# Suggested by `keysweep rotate locate`; review the issuer of each entry.\n");
    let mut seen = BTreeSet::new();
    for l in located {
        // An access key id is the public half of a key pair; rotating the
        // secret key (its own entry) replaces it too.
        if l.kind == "aws-access-key-id" {
            continue;
        }
        let current = l.labels.iter().any(|x| x == "AWSCURRENT" || x == "current");
        if !current || !seen.insert((l.store.to_string(), l.field.clone())) {
            continue;
        }
        let fps: BTreeSet<&str> = located
            .iter()
            .filter(|o| o.store == l.store && o.field == l.field)
            .map(|o| o.fingerprint.as_str())
            .collect();
        // A readable name: the secret's name, not its ARN.
        let short = match l.store.locator.split_once(":secret:") {
            Some((_, n)) => n
                .rsplit_once('-')
                .filter(|(_, sfx)| sfx.len() == 6)
                .map_or(n, |(n, _)| n),
            None => l.store.locator.as_str(),
        };
        let name: String = short
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let _ = writeln!(out, "\n[[rotation]]\nname = {}", toml_str(&name));
        let _ = writeln!(
            out,
            "fingerprints = [{}]",
            fps.iter()
                .map(|f| toml_str(f))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let opts = l
            .store
            .options
            .iter()
            .map(|(k, v)| format!("{k} = {}", toml_str(v)))
            .collect::<Vec<_>>()
            .join(", ");
        let opts = if opts.is_empty() {
            String::new()
        } else {
            format!(", options = {{ {opts} }}")
        };
        let _ = writeln!(
            out,
            "store = {{ kind = {}, locator = {}{opts} }}",
            toml_str(&l.store.kind),
            toml_str(&l.store.locator)
        );
        if let Some(f) = &l.field {
            let _ = writeln!(out, "field = {}", toml_str(f));
        }
        let h = &l.hints;
        if l.kind.contains("postgres")
            || (l.field.as_deref().is_some_and(|f| f.ends_with("#password"))
                && h.url_user.is_some())
        {
            let mut o = Vec::new();
            if let Some(x) = &h.url_host {
                o.push(format!("host = {}", toml_str(x)));
            }
            if let Some(x) = h.url_port {
                o.push(format!("port = {x}"));
            }
            if let Some(x) = &h.url_dbname {
                o.push(format!("dbname = {}", toml_str(x)));
            }
            let _ = writeln!(
                out,
                "issuer = {{ kind = \"postgres\", principal = {}, options = {{ {} }} }}  # admin connection from $KEYSWEEP_PG_ADMIN_URL",
                toml_str(h.url_user.as_deref().unwrap_or("")),
                o.join(", ")
            );
        } else if l.kind.starts_with("aws-secret-access-key") {
            if let Some(idf) = &h.id_field {
                let _ = writeln!(out, "id_field = {}", toml_str(idf));
            }
            match &h.iam_user {
                Some(u) => {
                    let _ = writeln!(
                        out,
                        "issuer = {{ kind = \"aws-iam-access-key\", principal = {} }}",
                        toml_str(u)
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "issuer = {{ kind = \"aws-iam-access-key\", principal = \"\" }}  # TODO: the IAM user owning the key"
                    );
                }
            }
        } else {
            let _ = writeln!(
                out,
                "issuer = {{ kind = \"random\", options = {{ length = 40 }} }}  # consumers must pick up the new value"
            );
        }
        let _ = writeln!(out, "grace = \"7d\"");
    }
    out
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

    #[test]
    fn suggestions_parse_as_config() {
        let l = Located {
            rule_id: "ks.postgres.1".into(),
            fingerprint: "ab".repeat(32),
            kind: "postgres-url".into(),
            path: "a.env".into(),
            line: 1,
            store: StoreRef::new("vault-kv2", "secret/app/db"),
            field: Some("#password".into()),
            version: "3".into(),
            labels: vec!["current".into()],
            hints: Hints {
                url_user: Some("app".into()),
                url_host: Some("127.0.0.1".into()),
                url_port: Some(5432),
                url_dbname: None,
                ..Hints::default()
            },
        };
        let text = suggest(&[l.clone(), l]);
        let cfg: RotateConfig = toml::from_str(&text).unwrap();
        assert_eq!(cfg.rotations.len(), 1);
        let t = cfg.rotations[0]
            .to_target(&Default::default(), &Default::default())
            .unwrap();
        assert_eq!(t.target.issuer.kind, "postgres");
        assert_eq!(t.target.issuer.principal, "app");
        assert_eq!(t.target.issuer.options["port"], "5432");
    }
}
