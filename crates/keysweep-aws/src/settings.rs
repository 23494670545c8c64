//! Connection settings and SDK configuration.

use crate::error::denied;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use keysweep_rotate::BackendResult;
use std::collections::BTreeMap;

/// Non-secret connection settings; credentials always come from the standard
/// AWS chain (environment, shared profile, SSO, container or instance role,
/// ...).
///
/// Every field defaults to `None`, which lets the SDK's own resolution decide
/// (`AWS_REGION`/profile region, `AWS_ENDPOINT_URL`, `AWS_PROFILE`). They are
/// the `options` of the [`StoreRef`](keysweep_rotate::StoreRef) and
/// [`IssuerRef`](keysweep_rotate::IssuerRef) this crate writes into plans, so
/// a resumed rotation talks to the same place.
///
/// # Example
///
/// ```
/// use keysweep_aws::AwsSettings;
///
/// let s = AwsSettings { region: Some("eu-west-1".into()), ..AwsSettings::default() };
/// let opts = s.to_options();
/// assert_eq!(opts.len(), 1);
/// assert_eq!(AwsSettings::from_options(&opts), s);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// The region (option `region`). Default: the SDK chain; for a secret
    /// given by ARN, the ARN's region; IAM and STS fall back to `us-east-1`.
    pub region: Option<String>,
    /// An endpoint override for every service (option `endpoint_url`), e.g. a
    /// local moto server. Default: none (`AWS_ENDPOINT_URL` is honoured by
    /// the SDK itself).
    pub endpoint_url: Option<String>,
    /// The shared-config profile (option `profile`). Default: the SDK's
    /// (`AWS_PROFILE`, else `default`).
    pub profile: Option<String>,
}

impl AwsSettings {
    /// Reads the keys `region`, `endpoint_url` and `profile`; other keys are
    /// ignored, empty values count as absent.
    pub fn from_options(o: &BTreeMap<String, String>) -> AwsSettings {
        let get = |k: &str| o.get(k).filter(|v| !v.is_empty()).cloned();
        AwsSettings {
            region: get("region"),
            endpoint_url: get("endpoint_url"),
            profile: get("profile"),
        }
    }

    /// The settings that are set, as `options` for a store or issuer ref.
    pub fn to_options(&self) -> BTreeMap<String, String> {
        let mut o = BTreeMap::new();
        for (k, v) in [
            ("region", &self.region),
            ("endpoint_url", &self.endpoint_url),
            ("profile", &self.profile),
        ] {
            if let Some(v) = v {
                o.insert(k.to_string(), v.clone());
            }
        }
        o
    }

    /// The SDK configuration: `aws_config::defaults(BehaviorVersion::latest())`
    /// with these overrides and keysweep's HTTPS client (rustls over `ring`).
    /// Credentials come from the standard chain.
    pub async fn sdk_config(&self) -> SdkConfig {
        self.loader().load().await
    }

    /// Like [`AwsSettings::sdk_config`], with explicit static credentials
    /// instead of the chain. Meant for tests and for tools that already hold
    /// a rotator key; never pass the leaked credential here.
    pub async fn sdk_config_with_credentials(&self, credentials: Credentials) -> SdkConfig {
        self.loader()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .load()
            .await
    }

    fn loader(&self) -> aws_config::ConfigLoader {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut l = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
        if let Some(r) = &self.region {
            l = l.region(Region::new(r.clone()));
        }
        if let Some(e) = &self.endpoint_url {
            l = l.endpoint_url(e.clone());
        }
        if let Some(p) = &self.profile {
            l = l.profile_name(p.clone());
        }
        l
    }
}

/// Environment variables that make the SDK's trace logging print bodies:
/// `LOG_SIGNABLE_BODY` (request bodies, so `PutSecretValue`'s secret) and
/// `LOG_SENSITIVE_BODIES` (response bodies, so `GetSecretValue`'s and
/// `CreateAccessKey`'s secrets).
pub const BODY_LOGGING_VARS: [&str; 2] = ["LOG_SIGNABLE_BODY", "LOG_SENSITIVE_BODIES"];

/// Refuses to run (`Denied`) when one of [`BODY_LOGGING_VARS`] is set.
pub(crate) fn refuse_body_logging() -> BackendResult<()> {
    check_body_logging(|k| std::env::var_os(k).is_some())
}

fn check_body_logging(is_set: impl Fn(&str) -> bool) -> BackendResult<()> {
    for var in BODY_LOGGING_VARS {
        if is_set(var) {
            return Err(denied(format!(
                "{var} is set: the AWS SDK would log request or response bodies, which carry \
                 secret values; unset it to use keysweep's AWS backends"
            )));
        }
    }
    Ok(())
}

/// The region of an ARN (`arn:aws:secretsmanager:eu-west-1:1:secret:x`).
pub(crate) fn arn_region(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    (parts.next()? == "arn").then_some(())?;
    let _partition = parts.next()?;
    let _service = parts.next()?;
    parts.next().filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use keysweep_rotate::ErrorClass;

    #[test]
    fn options_round_trip() {
        let s = AwsSettings {
            region: Some("us-east-1".into()),
            endpoint_url: Some("http://127.0.0.1:5077".into()),
            profile: None,
        };
        let o = s.to_options();
        assert_eq!(o.len(), 2);
        assert_eq!(o["endpoint_url"], "http://127.0.0.1:5077");
        assert_eq!(AwsSettings::from_options(&o), s);
        let mut o = o;
        o.insert("profile".into(), String::new());
        o.insert("other".into(), "x".into());
        assert_eq!(AwsSettings::from_options(&o), s);
        assert!(AwsSettings::default().to_options().is_empty());
    }

    #[test]
    fn body_logging_is_refused() {
        assert!(check_body_logging(|_| false).is_ok());
        for var in BODY_LOGGING_VARS {
            let e = check_body_logging(|k| k == var).unwrap_err();
            assert_eq!(e.class, ErrorClass::Denied);
            assert!(e.message.contains(var));
        }
    }

    #[test]
    fn region_of_arn() {
        assert_eq!(
            arn_region("arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"),
            Some("eu-west-1")
        );
        assert_eq!(arn_region("arn:aws:iam::123456789012:user/app"), None);
        assert_eq!(arn_region("app/db"), None);
    }

    #[tokio::test]
    async fn config_applies_overrides() {
        let s = AwsSettings {
            region: Some("eu-central-1".into()),
            endpoint_url: Some("http://127.0.0.1:1".into()),
            profile: None,
        };
        let c = s
            .sdk_config_with_credentials(Credentials::new("AKIDEXAMPLE", "x", None, None, "t"))
            .await;
        assert_eq!(c.region().map(|r| r.as_ref()), Some("eu-central-1"));
        assert_eq!(c.endpoint_url(), Some("http://127.0.0.1:1"));
    }
}
