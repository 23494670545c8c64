//! Pieces shared by the KV v2 and KV v1 stores: locators, key names,
//! documents, lock bodies.

use jiff::{SignedDuration, Timestamp};
use keysweep_rotate::{BackendError, BackendResult, ErrorClass, RotationToken, SecretValue};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Default staging prefix (inside the same mount).
pub const DEFAULT_STAGING_PREFIX: &str = ".keysweep/staging";
/// Default lock prefix (inside the same mount).
pub const DEFAULT_LOCK_PREFIX: &str = ".keysweep/locks";
/// Default lock time-to-live.
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(3600);

/// Where a store keeps its bookkeeping keys, in the same mount as the secret.
///
/// The defaults (`Kv2Options::default()`): staging prefix
/// `.keysweep/staging`, lock prefix `.keysweep/locks`, lock TTL one hour.
/// Pending values live at `<staging_prefix>/<path>/<token>` and the lock at
/// `<lock_prefix>/<path>`, so one policy stanza per prefix covers them
/// ([`rotator_policy`](crate::rotator_policy)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kv2Options {
    /// Prefix of staging keys (default `.keysweep/staging`).
    pub staging_prefix: String,
    /// Prefix of lock keys (default `.keysweep/locks`).
    pub lock_prefix: String,
    /// How long a lock is honoured before another rotation may break it
    /// (default one hour). A rotation's `apply` must finish within it.
    pub lock_ttl: Duration,
}

impl Default for Kv2Options {
    fn default() -> Kv2Options {
        Kv2Options {
            staging_prefix: DEFAULT_STAGING_PREFIX.into(),
            lock_prefix: DEFAULT_LOCK_PREFIX.into(),
            lock_ttl: DEFAULT_LOCK_TTL,
        }
    }
}

impl Kv2Options {
    /// Options from store options `staging_prefix`, `lock_prefix` and
    /// `lock_ttl_secs`, defaulting the missing ones.
    pub(crate) fn from_options(o: &BTreeMap<String, String>) -> BackendResult<Kv2Options> {
        let mut k = Kv2Options::default();
        if let Some(s) = o.get("staging_prefix") {
            k.staging_prefix = s.clone();
        }
        if let Some(s) = o.get("lock_prefix") {
            k.lock_prefix = s.clone();
        }
        if let Some(s) = o.get("lock_ttl_secs") {
            let secs: u64 = s
                .parse()
                .map_err(|_| invalid("store option lock_ttl_secs is not a number"))?;
            k.lock_ttl = Duration::from_secs(secs);
        }
        Ok(k)
    }

    /// The options as store options (all three, so a changed default never
    /// changes where a journaled rotation looks).
    pub(crate) fn to_options(&self, o: &mut BTreeMap<String, String>) {
        o.insert("staging_prefix".into(), self.staging_prefix.clone());
        o.insert("lock_prefix".into(), self.lock_prefix.clone());
        o.insert("lock_ttl_secs".into(), self.lock_ttl.as_secs().to_string());
    }

    pub(crate) fn check(&self, path: &str) -> BackendResult<()> {
        check_key("staging_prefix", &self.staging_prefix)?;
        check_key("lock_prefix", &self.lock_prefix)?;
        if self.staging_prefix == self.lock_prefix
            || under(&self.staging_prefix, &self.lock_prefix)
            || under(&self.lock_prefix, &self.staging_prefix)
        {
            return Err(invalid("staging_prefix and lock_prefix must not overlap"));
        }
        if self.lock_ttl.is_zero() {
            return Err(invalid("lock_ttl must be positive"));
        }
        for p in [&self.staging_prefix, &self.lock_prefix] {
            if path == p.as_str() || under(path, p) {
                return Err(invalid(format!(
                    "{path} is inside keysweep's bookkeeping prefix {p}"
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn lock_key(&self, path: &str) -> String {
        format!("{}/{path}", self.lock_prefix)
    }

    pub(crate) fn staging_dir(&self, path: &str) -> String {
        format!("{}/{path}", self.staging_prefix)
    }

    pub(crate) fn staging_key(&self, path: &str, token: &RotationToken) -> String {
        format!("{}/{path}/{token}", self.staging_prefix)
    }
}

/// Whether `path` is strictly below the folder `prefix`.
pub(crate) fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with('/'))
}

pub(crate) fn invalid(m: impl Into<String>) -> BackendError {
    BackendError::new(ErrorClass::Invalid, m)
}

/// Checks a mount, path or prefix: non-empty `/`-separated segments, none
/// `.` or `..`, and no characters that Vault policies treat as globs (`*`,
/// `+`) or that would break the policy text (`"`, `\`, control characters).
pub(crate) fn check_key(what: &str, p: &str) -> BackendResult<()> {
    if p.is_empty() {
        return Err(invalid(format!("{what} is empty")));
    }
    if p.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(invalid(format!(
            "{what} {p:?} has an empty, `.` or `..` segment (no leading or trailing `/`)"
        )));
    }
    if p.chars()
        .any(|c| matches!(c, '*' | '+' | '"' | '\\') || c.is_control())
    {
        return Err(invalid(format!(
            "{what} {p:?} contains `*`, `+`, `\"`, `\\` or a control character"
        )));
    }
    Ok(())
}

/// Splits a locator `mount/path`. The mount is the first segment, or the
/// store option `mount` when it has several (`team/kv`).
pub(crate) fn split_locator(
    locator: &str,
    mount_option: Option<&str>,
) -> BackendResult<(String, String)> {
    let (mount, path) = match mount_option.filter(|m| !m.is_empty()) {
        Some(m) => {
            let m = m.trim_matches('/');
            let path = locator
                .strip_prefix(m)
                .and_then(|r| r.strip_prefix('/'))
                .ok_or_else(|| {
                    invalid(format!(
                        "locator {locator:?} does not start with mount {m:?}"
                    ))
                })?;
            (m.to_string(), path.to_string())
        }
        None => {
            let (m, p) = locator
                .split_once('/')
                .ok_or_else(|| invalid(format!("locator {locator:?} is not `mount/path`")))?;
            (m.to_string(), p.to_string())
        }
    };
    check_key("mount", &mount)?;
    check_key("path", &path)?;
    Ok((mount, path))
}

/// A KV document as the store's value: compact JSON, keys in the order Vault
/// returned them.
pub(crate) fn to_value(doc: &Map<String, Value>) -> SecretValue {
    SecretValue::new(serde_json::to_vec(doc).expect("a JSON map serialises"))
}

/// Parses a store value back into a KV document. The error names only the
/// position, never the content.
pub(crate) fn parse_doc(v: &SecretValue) -> BackendResult<Map<String, Value>> {
    match serde_json::from_slice::<Value>(v.expose()) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(invalid(
            "a Vault KV secret must be a JSON object (a map of fields)",
        )),
        Err(e) => Err(invalid(format!(
            "the value is not JSON (line {}, column {}); a Vault KV secret must be a JSON object",
            e.line(),
            e.column()
        ))),
    }
}

/// The lock key's body: who holds it and until when. No secrets.
pub(crate) fn lock_body(token: &RotationToken, ttl: Duration, store: &str) -> Map<String, Value> {
    let ttl = SignedDuration::try_from(ttl).unwrap_or(SignedDuration::MAX);
    let expires = Timestamp::now().checked_add(ttl).unwrap_or(Timestamp::MAX);
    let mut m = Map::new();
    m.insert("rotation_token".into(), Value::String(token.to_string()));
    m.insert(
        "rotation_id".into(),
        Value::String(format!("rot-{}", token.short())),
    );
    m.insert("expires_at".into(), Value::String(expires.to_string()));
    m.insert("store".into(), Value::String(store.to_string()));
    m
}

/// A lock read back: the holder's token and expiry (`None` if unreadable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LockInfo {
    pub token: Option<String>,
    pub expires_at: Option<Timestamp>,
}

impl LockInfo {
    pub fn parse(m: &Map<String, Value>) -> LockInfo {
        LockInfo {
            token: m
                .get("rotation_token")
                .and_then(Value::as_str)
                .map(str::to_string),
            expires_at: m
                .get("expires_at")
                .and_then(Value::as_str)
                .and_then(|s| s.parse().ok()),
        }
    }

    pub fn held_by(&self, token: &RotationToken) -> bool {
        self.token.as_deref() == Some(token.as_str())
    }

    /// Expired locks may be broken. An unreadable lock never expires (a
    /// human must look at it).
    pub fn expired(&self, now: Timestamp) -> bool {
        self.token.is_some() && self.expires_at.is_some_and(|t| t <= now)
    }

    /// "rotation rot-… until …" for messages.
    pub fn describe(&self) -> String {
        let who = self
            .token
            .as_deref()
            .and_then(RotationToken::parse)
            .map_or("an unknown holder".to_string(), |t| {
                format!("rotation rot-{}", t.short())
            });
        match self.expires_at {
            Some(t) => format!("{who} until {t}"),
            None => format!("{who} (no readable expiry; remove the lock key by hand)"),
        }
    }
}

/// Parses a KV v2 version number.
pub(crate) fn version_number(v: &keysweep_rotate::VersionRef) -> BackendResult<u64> {
    v.as_str()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| invalid(format!("{v} is not a KV v2 version number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators() {
        assert_eq!(
            split_locator("secret/app/db", None).unwrap(),
            ("secret".into(), "app/db".into())
        );
        assert_eq!(
            split_locator("team/kv/app", Some("team/kv")).unwrap(),
            ("team/kv".into(), "app".into())
        );
        for bad in [
            "secret",
            "secret/",
            "/secret/x",
            "secret//x",
            "secret/a/../b",
            "s/a*",
        ] {
            assert!(split_locator(bad, None).is_err(), "{bad}");
        }
        assert!(split_locator("other/app", Some("team/kv")).is_err());
    }

    #[test]
    fn options_round_trip_and_checks() {
        let o = Kv2Options::default();
        let mut m = BTreeMap::new();
        o.to_options(&mut m);
        assert_eq!(Kv2Options::from_options(&m).unwrap(), o);
        assert_eq!(o.lock_key("app/db"), ".keysweep/locks/app/db");
        let t = RotationToken::from_random_bytes([1; 16]);
        assert_eq!(
            o.staging_key("app/db", &t),
            format!(".keysweep/staging/app/db/{t}")
        );
        assert!(o.check("app/db").is_ok());
        assert!(o.check(".keysweep/staging/app").is_err());
        assert!(o.check(".keysweep/locks").is_err());
        assert!(o.check(".keysweep/other").is_ok());
        let mut bad = o.clone();
        bad.lock_prefix = ".keysweep/staging/locks".into();
        assert!(bad.check("app").is_err());
        m.insert("lock_ttl_secs".into(), "soon".into());
        assert!(Kv2Options::from_options(&m).is_err());
    }

    #[test]
    fn documents() {
        let v = SecretValue::from(r#"{"z":"1","a":{"b":2}}"#);
        let d = parse_doc(&v).unwrap();
        assert_eq!(to_value(&d).expose(), br#"{"z":"1","a":{"b":2}}"#);
        let e = parse_doc(&SecretValue::from("\"SENTINEL\"")).unwrap_err();
        assert!(!e.message.contains("SENTINEL"));
        let e = parse_doc(&SecretValue::from("SENTINEL")).unwrap_err();
        assert!(!e.message.contains("SENTINEL"));
        assert!(e.message.contains("line 1"));
    }

    #[test]
    fn locks() {
        let t = RotationToken::from_random_bytes([2; 16]);
        let body = lock_body(&t, Duration::from_secs(60), "vault-kv2:secret/x");
        let l = LockInfo::parse(&body);
        assert!(l.held_by(&t));
        assert!(!l.expired(Timestamp::now()));
        assert!(l.expired(Timestamp::now() + SignedDuration::from_secs(120)));
        assert!(l
            .describe()
            .starts_with(&format!("rotation rot-{}", t.short())));
        let junk = LockInfo::parse(&Map::new());
        assert!(!junk.expired(Timestamp::MAX));
        assert!(junk.describe().contains("by hand"));
    }
}
