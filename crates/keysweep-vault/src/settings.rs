//! Connection settings: address, namespace, TLS and authentication.

use crate::http::Vault;
use keysweep_rotate::{BackendError, BackendResult, ErrorClass};
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
use vaultrs::client::{Client, VaultClient, VaultClientSettingsBuilder};

/// How long one HTTP request to Vault may take before it fails (as
/// [`ErrorClass::Transient`]).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The AppRole mount used when `KEYSWEEP_VAULT_APPROLE_MOUNT` is unset.
pub const DEFAULT_APPROLE_MOUNT: &str = "approle";

/// How keysweep authenticates to Vault. `Debug` redacts the token, the
/// role id and the secret id.
#[derive(Clone)]
#[non_exhaustive]
pub enum VaultAuth {
    /// A Vault token (`VAULT_TOKEN`, `~/.vault-token`).
    Token(SecretString),
    /// AppRole login (`auth/<mount>/login`), done by
    /// [`VaultSettings::client`].
    AppRole {
        /// Where the AppRole method is mounted (default `approle`).
        mount: String,
        /// The role id. Not a secret by Vault's definition, but
        /// semi-sensitive, so it is not printed either.
        role_id: String,
        /// The secret id.
        secret_id: SecretString,
    },
}

impl fmt::Debug for VaultAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VaultAuth::Token(_) => f.write_str("Token(<redacted>)"),
            VaultAuth::AppRole { mount, .. } => f
                .debug_struct("AppRole")
                .field("mount", mount)
                .field("role_id", &format_args!("<redacted>"))
                .field("secret_id", &format_args!("<redacted>"))
                .finish(),
        }
    }
}

/// Connection settings. The non-secret parts go into a
/// [`StoreRef`](keysweep_rotate::StoreRef)'s options ([`VaultSettings::to_options`]);
/// the token or secret id never does, and `Debug` redacts them.
///
/// # Example
///
/// ```
/// use keysweep_vault::{VaultAuth, VaultSettings};
/// use std::collections::BTreeMap;
///
/// let s = VaultSettings {
///     address: "https://vault.example:8200".into(),
///     namespace: Some("team-a".into()),
///     ca_cert: None,
///     skip_verify: false,
///     auth: VaultAuth::Token("hvs.not-printed".to_string().into()),
/// };
/// assert!(!format!("{s:?}").contains("not-printed"));
/// let opts = s.to_options();
/// assert_eq!(opts["address"], "https://vault.example:8200");
/// assert_eq!(opts["namespace"], "team-a");
/// assert_eq!(opts.len(), 2);
/// ```
#[derive(Clone)]
pub struct VaultSettings {
    /// The server, `http(s)://host:port` (`VAULT_ADDR`; no default).
    pub address: String,
    /// Vault Enterprise / OpenBao namespace, sent as `X-Vault-Namespace`
    /// (`VAULT_NAMESPACE`; default none).
    pub namespace: Option<String>,
    /// A PEM bundle of CA certificates to trust for an `https` address
    /// (`VAULT_CACERT`; default: the system roots).
    pub ca_cert: Option<PathBuf>,
    /// Skip TLS verification (`VAULT_SKIP_VERIFY`; default false). Unsafe.
    pub skip_verify: bool,
    /// Authentication.
    pub auth: VaultAuth,
}

impl fmt::Debug for VaultSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultSettings")
            .field("address", &self.address)
            .field("namespace", &self.namespace)
            .field("ca_cert", &self.ca_cert)
            .field("skip_verify", &self.skip_verify)
            .field("auth", &self.auth)
            .finish()
    }
}

fn invalid(m: impl Into<String>) -> BackendError {
    BackendError::new(ErrorClass::Invalid, m)
}

/// Go's `strconv.ParseBool`, which the Vault CLI applies to
/// `VAULT_SKIP_VERIFY`.
fn parse_bool(name: &str, v: &str) -> BackendResult<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(invalid(format!("{name} is not a boolean"))),
    }
}

fn check_address(a: &str) -> BackendResult<()> {
    let url = url::Url::parse(a).map_err(|_| invalid("the Vault address is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(
            "the Vault address must be an http(s) URL with a host",
        ));
    }
    Ok(())
}

impl VaultSettings {
    /// Settings from the environment, as the Vault CLI reads it, with the
    /// store options taking precedence for the non-secret parts:
    ///
    /// | setting | option | environment |
    /// |---|---|---|
    /// | address (required) | `address` | `VAULT_ADDR` |
    /// | namespace | `namespace` | `VAULT_NAMESPACE` |
    /// | CA bundle | `ca_cert` | `VAULT_CACERT` |
    /// | skip TLS verification | `skip_verify` | `VAULT_SKIP_VERIFY` |
    ///
    /// Authentication, first match wins: `VAULT_TOKEN`; then AppRole when
    /// both `VAULT_ROLE_ID` and `VAULT_SECRET_ID` are set (mount
    /// `KEYSWEEP_VAULT_APPROLE_MOUNT`, default `approle`); then the token in
    /// `~/.vault-token`. Empty variables count as unset. mTLS client
    /// certificates come from `VAULT_CLIENT_CERT`/`VAULT_CLIENT_KEY` through
    /// vaultrs.
    ///
    /// Fails with `Invalid` for a missing or malformed address or boolean,
    /// and `Denied` when no credentials are found.
    pub fn from_env_and_options(
        options: &BTreeMap<String, String>,
    ) -> Result<VaultSettings, BackendError> {
        VaultSettings::from_sources(options, &process_env, &home_token, None)
    }

    /// Like [`VaultSettings::from_env_and_options`], with these credentials
    /// instead of any from the environment (for a CLI flag, a secret manager
    /// or tests).
    pub fn from_options_with_auth(
        options: &BTreeMap<String, String>,
        auth: VaultAuth,
    ) -> Result<VaultSettings, BackendError> {
        VaultSettings::from_sources(options, &process_env, &|| None, Some(auth))
    }

    pub(crate) fn from_sources(
        options: &BTreeMap<String, String>,
        env: &dyn Fn(&str) -> Option<String>,
        home_token: &dyn Fn() -> Option<String>,
        auth: Option<VaultAuth>,
    ) -> Result<VaultSettings, BackendError> {
        let opt = |k: &str| options.get(k).filter(|v| !v.is_empty()).cloned();
        let address = opt("address")
            .or_else(|| env("VAULT_ADDR"))
            .ok_or_else(|| {
                invalid("no Vault address: set VAULT_ADDR or the store option `address`")
            })?;
        check_address(&address)?;
        let skip_verify = match opt("skip_verify") {
            Some(v) => parse_bool("the store option skip_verify", &v)?,
            None => match env("VAULT_SKIP_VERIFY") {
                Some(v) => parse_bool("VAULT_SKIP_VERIFY", &v)?,
                None => false,
            },
        };
        let auth = if let Some(a) = auth {
            a
        } else if let Some(t) = env("VAULT_TOKEN") {
            VaultAuth::Token(SecretString::from(t))
        } else if let (Some(role_id), Some(secret_id)) =
            (env("VAULT_ROLE_ID"), env("VAULT_SECRET_ID"))
        {
            VaultAuth::AppRole {
                mount: env("KEYSWEEP_VAULT_APPROLE_MOUNT")
                    .unwrap_or_else(|| DEFAULT_APPROLE_MOUNT.into()),
                role_id,
                secret_id: SecretString::from(secret_id),
            }
        } else if let Some(t) = home_token() {
            VaultAuth::Token(SecretString::from(t))
        } else {
            return Err(BackendError::new(
                ErrorClass::Denied,
                "no Vault credentials: set VAULT_TOKEN, VAULT_ROLE_ID and VAULT_SECRET_ID, \
                 or log in so that ~/.vault-token exists",
            ));
        };
        Ok(VaultSettings {
            address,
            namespace: opt("namespace").or_else(|| env("VAULT_NAMESPACE")),
            ca_cert: opt("ca_cert")
                .or_else(|| env("VAULT_CACERT"))
                .map(PathBuf::from),
            skip_verify,
            auth,
        })
    }

    /// The non-secret settings as store options (`address`, and `namespace`,
    /// `ca_cert`, `skip_verify` when set), so a [`StoreRef`](keysweep_rotate::StoreRef)
    /// re-creates the connection after a crash with credentials from the
    /// environment.
    pub fn to_options(&self) -> BTreeMap<String, String> {
        let mut o = BTreeMap::new();
        o.insert("address".to_string(), self.address.clone());
        if let Some(ns) = &self.namespace {
            o.insert("namespace".into(), ns.clone());
        }
        if let Some(ca) = &self.ca_cert {
            o.insert("ca_cert".into(), ca.display().to_string());
        }
        if self.skip_verify {
            o.insert("skip_verify".into(), "true".into());
        }
        o
    }

    /// A connected vaultrs client: TLS and namespace configured, and logged
    /// in first when the auth is AppRole. Nothing is read from the
    /// environment here except vaultrs's mTLS variables.
    pub async fn client(&self) -> BackendResult<VaultClient> {
        check_address(&self.address)?;
        let mut b = VaultClientSettingsBuilder::default();
        b.address(&self.address)
            .verify(!self.skip_verify)
            .timeout(Some(REQUEST_TIMEOUT))
            .ca_certs(
                self.ca_cert
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>(),
            );
        match &self.auth {
            VaultAuth::Token(t) => b.token(t.expose_secret()),
            VaultAuth::AppRole { .. } => b.token(""),
        };
        if let Some(ns) = &self.namespace {
            b.set_namespace(ns.clone());
        }
        let settings = b
            .build()
            .map_err(|e| invalid(format!("vault client settings: {e}")))?;
        let mut client = VaultClient::new(settings)
            .map_err(|e| BackendError::new(ErrorClass::Invalid, format!("vault client: {e}")))?;
        if let VaultAuth::AppRole {
            mount,
            role_id,
            secret_id,
        } = &self.auth
        {
            tracing::debug!(mount = %mount, address = %self.address, "logging in with AppRole");
            let auth =
                vaultrs::auth::approle::login(&client, mount, role_id, secret_id.expose_secret())
                    .await
                    .map_err(|e| login_error(mount, &e))?;
            client.set_token(&auth.client_token);
            tracing::debug!(mount = %mount, policies = ?auth.token_policies, "AppRole login ok");
        }
        Ok(client)
    }

    pub(crate) async fn vault(&self) -> BackendResult<Vault> {
        Ok(Vault::new(self.client().await?))
    }
}

/// Maps a login failure without formatting vaultrs's error with `Debug`.
fn login_error(mount: &str, e: &vaultrs::error::ClientError) -> BackendError {
    use vaultrs::error::ClientError as E;
    let (class, detail) = match e {
        E::APIError { code, errors } => (
            match code {
                400 | 401 | 403 => ErrorClass::Denied,
                404 => ErrorClass::NotFound,
                429 | 500..=599 => ErrorClass::Transient,
                _ => ErrorClass::Other,
            },
            format!("HTTP {code}: {}", errors.join("; ")),
        ),
        E::RestClientError { source } => match source {
            rustify::errors::ClientError::ServerResponseError { code, .. } => (
                if matches!(code, 400 | 401 | 403) {
                    ErrorClass::Denied
                } else {
                    ErrorClass::Other
                },
                format!("HTTP {code}"),
            ),
            other => (ErrorClass::Transient, other.to_string()),
        },
        other => (ErrorClass::Other, other.to_string()),
    };
    BackendError::new(
        class,
        format!("vault AppRole login at auth/{mount}: {detail}"),
    )
}

fn process_env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

fn home_token() -> Option<String> {
    let home = std::env::var_os("HOME")?;
    let t = std::fs::read_to_string(PathBuf::from(home).join(".vault-token")).ok()?;
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn env_and_options() {
        let env = env_of(&[
            ("VAULT_ADDR", "http://env:8200"),
            ("VAULT_TOKEN", "s.TOKENSENTINEL"),
            ("VAULT_NAMESPACE", "env-ns"),
            ("VAULT_SKIP_VERIFY", "1"),
            ("VAULT_CACERT", "/env/ca.pem"),
        ]);
        let s = VaultSettings::from_sources(&opts(&[]), &env, &|| None, None).unwrap();
        assert_eq!(s.address, "http://env:8200");
        assert_eq!(s.namespace.as_deref(), Some("env-ns"));
        assert!(s.skip_verify);
        assert_eq!(s.ca_cert, Some(PathBuf::from("/env/ca.pem")));
        assert!(matches!(&s.auth, VaultAuth::Token(t) if t.expose_secret() == "s.TOKENSENTINEL"));
        assert!(!format!("{s:?}").contains("TOKENSENTINEL"));

        let o = opts(&[
            ("address", "https://opt:8200"),
            ("namespace", "opt-ns"),
            ("skip_verify", "false"),
            ("ca_cert", "/opt/ca.pem"),
        ]);
        let s = VaultSettings::from_sources(&o, &env, &|| None, None).unwrap();
        assert_eq!(s.address, "https://opt:8200");
        assert_eq!(s.namespace.as_deref(), Some("opt-ns"));
        assert!(!s.skip_verify);
        assert_eq!(
            s.to_options(),
            opts(&[
                ("address", "https://opt:8200"),
                ("namespace", "opt-ns"),
                ("ca_cert", "/opt/ca.pem"),
            ])
        );
    }

    #[test]
    fn auth_precedence() {
        let approle = env_of(&[
            ("VAULT_ADDR", "http://a:1"),
            ("VAULT_ROLE_ID", "ROLEIDSENTINEL"),
            ("VAULT_SECRET_ID", "SECRETIDSENTINEL"),
            ("KEYSWEEP_VAULT_APPROLE_MOUNT", "ci-approle"),
        ]);
        let s = VaultSettings::from_sources(&opts(&[]), &approle, &|| Some("home".into()), None)
            .unwrap();
        match &s.auth {
            VaultAuth::AppRole {
                mount,
                role_id,
                secret_id,
            } => {
                assert_eq!(mount, "ci-approle");
                assert_eq!(role_id, "ROLEIDSENTINEL");
                assert_eq!(secret_id.expose_secret(), "SECRETIDSENTINEL");
            }
            a => panic!("{a:?}"),
        }
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("SENTINEL"), "{dbg}");
        assert!(dbg.contains("ci-approle"));

        let home = env_of(&[("VAULT_ADDR", "http://a:1"), ("VAULT_ROLE_ID", "only-role")]);
        let s = VaultSettings::from_sources(&opts(&[]), &home, &|| Some("hometoken".into()), None)
            .unwrap();
        assert!(matches!(&s.auth, VaultAuth::Token(t) if t.expose_secret() == "hometoken"));

        let e = VaultSettings::from_sources(&opts(&[]), &home, &|| None, None).unwrap_err();
        assert_eq!(e.class, ErrorClass::Denied);
    }

    #[test]
    fn explicit_auth_wins() {
        let env = env_of(&[("VAULT_ADDR", "http://a:1"), ("VAULT_TOKEN", "from-env")]);
        let auth = VaultAuth::Token(SecretString::from("explicit".to_string()));
        let s = VaultSettings::from_sources(&opts(&[]), &env, &|| None, Some(auth)).unwrap();
        assert!(matches!(&s.auth, VaultAuth::Token(t) if t.expose_secret() == "explicit"));
    }

    #[test]
    fn bad_inputs() {
        let env = env_of(&[("VAULT_TOKEN", "t")]);
        let e = VaultSettings::from_sources(&opts(&[]), &env, &|| None, None).unwrap_err();
        assert_eq!(e.class, ErrorClass::Invalid);
        assert!(e.message.contains("VAULT_ADDR"));
        for a in ["vault:8200", "ftp://x", "not a url"] {
            let e = VaultSettings::from_sources(&opts(&[("address", a)]), &env, &|| None, None);
            assert_eq!(e.unwrap_err().class, ErrorClass::Invalid, "{a}");
        }
        let e = VaultSettings::from_sources(
            &opts(&[("address", "http://x:1"), ("skip_verify", "yes")]),
            &env,
            &|| None,
            None,
        );
        assert_eq!(e.unwrap_err().class, ErrorClass::Invalid);
    }
}
