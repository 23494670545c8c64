//! Suggested `[[rotation]]` entries for located findings.

use crate::locate::Located;
use std::collections::BTreeSet;
use std::fmt::Write as _;

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// `[[rotation]]` entries for the located findings, as TOML to append to
/// `keysweep-rotate.toml`: current versions only, one entry per store entry
/// and field, with an issuer guessed from the [`Hints`](crate::Hints)
/// (PostgreSQL for database URLs, IAM for AWS secret keys, else `random`).
pub fn suggest_config(located: &[Located]) -> String {
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
    use crate::{Hints, RotateConfig};
    use keysweep_rotate::StoreRef;

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
        let text = suggest_config(&[l.clone(), l]);
        let cfg = RotateConfig::parse("suggested", &text).unwrap();
        assert_eq!(cfg.rotations.len(), 1);
        let t = cfg.rotations[0]
            .to_target(&Default::default(), &Default::default())
            .unwrap();
        assert_eq!(t.target.issuer.kind, "postgres");
        assert_eq!(t.target.issuer.principal, "app");
        assert_eq!(t.target.issuer.options["port"], "5432");
    }

    #[test]
    fn aws_keys_get_an_iam_issuer_and_arns_a_short_name() {
        let l = Located {
            rule_id: "ks.aws.2".into(),
            fingerprint: "cd".repeat(32),
            kind: "aws-secret-access-key".into(),
            path: "a.env".into(),
            line: 2,
            store: StoreRef::new(
                "aws-secretsmanager",
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/ci-AbCdEf",
            ),
            field: Some("aws_secret_access_key".into()),
            version: "v1".into(),
            labels: vec!["AWSCURRENT".into()],
            hints: Hints {
                id_field: Some("aws_access_key_id".into()),
                iam_user: Some("ci-bot".into()),
                ..Hints::default()
            },
        };
        let mut previous = l.clone();
        previous.labels = vec!["AWSPREVIOUS".into()];
        let text = suggest_config(&[l, previous]);
        let cfg = RotateConfig::parse("suggested", &text).unwrap();
        assert_eq!(cfg.rotations.len(), 1, "{text}");
        let r = &cfg.rotations[0];
        assert_eq!(r.name, "prod-ci");
        assert_eq!(r.id_field.as_deref(), Some("aws_access_key_id"));
        assert_eq!(r.issuer.kind, "aws-iam-access-key");
        assert_eq!(r.issuer.principal, "ci-bot");
    }
}
