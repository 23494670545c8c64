//! [`IamAccessKeyIssuer`]: an IAM user's access keys as an [`Issuer`].

use crate::error::{code_of, denied, err, sdk_error};
use crate::settings::{refuse_body_logging, AwsSettings};
use crate::IAM_ISSUER_KIND;
use async_trait::async_trait;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_iam::types::StatusType;
use keysweep_rotate::{
    BackendResult, CreateCtx, Credential, CredentialId, CredentialInfo, CredentialStatus,
    ErrorClass, Issuer, IssuerCaps, IssuerRef, IssuerState, Liveness, Permission, Risk,
    RotationToken, SecretValue, SetOutcome, Severity, TestEvidence,
};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The default bound on [`Issuer::test`]'s and [`Issuer::verify_dead`]'s
/// retries: new IAM keys take seconds to work everywhere in real AWS.
pub const DEFAULT_TEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The name prefix of AWS's quarantine policies (`AWSCompromisedKeyQuarantineV3`).
const QUARANTINE_PREFIX: &str = "AWSCompromisedKeyQuarantine";

/// Region used for IAM and STS when none is configured (IAM is global).
const FALLBACK_REGION: &str = "us-east-1";

/// The access keys of one IAM user as an [`Issuer`] (DESIGN.md 7.7).
///
/// * A [`Credential`]'s id is the `AccessKeyId`, its value the
///   `SecretAccessKey`. A secret key alone does not tell which key it is, so
///   [`Issuer::inspect`] leaves `current` empty; plans name the document's id
///   field ([`Target::id_field`](keysweep_rotate::Target::id_field), e.g.
///   `aws_access_key_id`) and the engine finds the old key by it.
/// * `inspect` lists the user's keys with their status (`ListAccessKeys`,
///   both count towards IAM's limit of 2) and reports the user as quarantined
///   when a policy named `AWSCompromisedKeyQuarantine*` is attached
///   (`ListAttachedUserPolicies`).
/// * **The rotator never rotates its own identity**: `inspect` and `create`
///   refuse (`Denied`) when STS `GetCallerIdentity` with the rotator's
///   credentials names the user being rotated; a leaked key must not be used
///   to replace itself, and AWS's quarantine policy would deny it anyway.
/// * `create` is `CreateAccessKey` (`LimitExceeded` at two keys); IAM keys
///   cannot be tagged, so [`Issuer::find`] recognises a key minted by an
///   interrupted rotation as the one key not seen at plan time.
/// * `test` calls STS `GetCallerIdentity` *with the new key*, retrying with
///   backoff up to the test timeout (default [`DEFAULT_TEST_TIMEOUT`],
///   option `test_timeout_secs`), and checks the answer names the user.
/// * `deactivate`/`reactivate` are `UpdateAccessKey(Inactive/Active)`,
///   `revoke` is `DeleteAccessKey` (already gone: success).
/// * `verify_dead` calls `GetCallerIdentity` with the old key:
///   `InvalidClientTokenId` means dead.
///
/// `set` has nothing to do (a key works once created); distributing the new
/// key to consumers that do not read the store is a manual follow-up,
/// reported by [`Issuer::plan_risks`].
pub struct IamAccessKeyIssuer {
    settings: AwsSettings,
    config: SdkConfig,
    iam: aws_sdk_iam::Client,
    user_name: String,
    test_timeout: Duration,
    /// The rotator's identity, once asked.
    identity: Mutex<Option<Identity>>,
}

impl std::fmt::Debug for IamAccessKeyIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamAccessKeyIssuer")
            .field("user_name", &self.user_name)
            .field("settings", &self.settings)
            .field("test_timeout", &self.test_timeout)
            .finish_non_exhaustive()
    }
}

/// Who a set of credentials authenticates as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    pub arn: String,
    pub partition: String,
    pub account: String,
}

impl Identity {
    fn parse(arn: &str) -> Option<Identity> {
        let p: Vec<&str> = arn.splitn(6, ':').collect();
        (p.len() == 6 && p[0] == "arn").then(|| Identity {
            arn: arn.to_string(),
            partition: p[1].to_string(),
            account: p[4].to_string(),
        })
    }

    /// The IAM user name, if this is an IAM user (`...:user/path/name`).
    fn user_name(&self) -> Option<&str> {
        let resource = self.arn.splitn(6, ':').nth(5)?;
        let rest = resource.strip_prefix("user/")?;
        rest.rsplit('/').next()
    }

    /// Whether this is IAM user `name` (IAM user names are unique ignoring
    /// case within an account).
    fn is_user(&self, name: &str) -> bool {
        self.arn.split(':').nth(2) == Some("iam")
            && self
                .user_name()
                .is_some_and(|u| u.eq_ignore_ascii_case(name))
    }
}

impl IamAccessKeyIssuer {
    /// An issuer for the keys of IAM user `user_name`, with the rotator's
    /// credentials from the standard AWS chain. Makes no AWS call. Refused
    /// (`Denied`) when `LOG_SIGNABLE_BODY` or `LOG_SENSITIVE_BODIES` is set.
    pub async fn new(settings: AwsSettings, user_name: &str) -> BackendResult<IamAccessKeyIssuer> {
        refuse_body_logging()?;
        let config = settings.sdk_config().await;
        IamAccessKeyIssuer::with_config(settings, &config, user_name)
    }

    /// An issuer using an explicit SDK configuration (e.g. from
    /// [`AwsSettings::sdk_config_with_credentials`] in tests). `settings` are
    /// only recorded in [`Issuer::describe`]; `config` must agree with them.
    pub fn with_config(
        settings: AwsSettings,
        config: &SdkConfig,
        user_name: &str,
    ) -> BackendResult<IamAccessKeyIssuer> {
        refuse_body_logging()?;
        if user_name.is_empty() || user_name.contains(['/', ':']) {
            return Err(err(
                ErrorClass::Invalid,
                format!("{user_name:?} is not an IAM user name"),
            ));
        }
        let config = if config.region().is_some() {
            config.clone()
        } else {
            config
                .to_builder()
                .region(Region::new(FALLBACK_REGION))
                .build()
        };
        Ok(IamAccessKeyIssuer {
            settings,
            iam: aws_sdk_iam::Client::new(&config),
            config,
            user_name: user_name.to_string(),
            test_timeout: DEFAULT_TEST_TIMEOUT,
            identity: Mutex::new(None),
        })
    }

    /// Re-creates an issuer from its [`IssuerRef`] (kind
    /// [`crate::IAM_ISSUER_KIND`]; options: the
    /// [`AwsSettings`] keys and `test_timeout_secs`), for a
    /// [`BackendFactory`](keysweep_rotate::BackendFactory).
    pub async fn from_ref(r: &IssuerRef) -> BackendResult<IamAccessKeyIssuer> {
        if r.kind != IAM_ISSUER_KIND {
            return Err(err(
                ErrorClass::Unsupported,
                format!("issuer kind {} is not {IAM_ISSUER_KIND}", r.kind),
            ));
        }
        let timeout = test_timeout_option(r)?;
        let issuer =
            IamAccessKeyIssuer::new(AwsSettings::from_options(&r.options), &r.principal).await?;
        Ok(match timeout {
            Some(t) => issuer.with_test_timeout(t),
            None => issuer,
        })
    }

    /// Bounds the retries of `test` and `verify_dead` (default
    /// [`DEFAULT_TEST_TIMEOUT`]); recorded in [`Issuer::describe`] as the
    /// option `test_timeout_secs` (whole seconds, at least 1) so a resumed
    /// rotation uses the same bound.
    pub fn with_test_timeout(mut self, timeout: Duration) -> IamAccessKeyIssuer {
        self.test_timeout = timeout.max(Duration::from_secs(1));
        self
    }

    /// The IAM user whose keys this issuer rotates.
    pub fn user_name(&self) -> &str {
        &self.user_name
    }

    /// An STS client authenticating with `id`/`secret` (the key under test),
    /// at the same region and endpoint.
    fn sts_with(
        &self,
        id: &CredentialId,
        secret: &SecretValue,
    ) -> BackendResult<aws_sdk_sts::Client> {
        let secret = secret.expose_str().ok_or_else(|| {
            err(
                ErrorClass::TestFailed,
                format!("the secret of {id} is not a valid secret access key"),
            )
        })?;
        let creds = Credentials::new(id.as_str(), secret, None, None, "keysweep-key-under-test");
        let conf = aws_sdk_sts::config::Builder::from(&self.config)
            .credentials_provider(SharedCredentialsProvider::new(creds))
            .build();
        Ok(aws_sdk_sts::Client::from_conf(conf))
    }

    /// The rotator's own identity (cached).
    async fn rotator(&self) -> BackendResult<Identity> {
        if let Some(i) = self.identity.lock().expect("identity lock").clone() {
            return Ok(i);
        }
        let out = aws_sdk_sts::Client::new(&self.config)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| sdk_error("sts:GetCallerIdentity", "rotator", e))?;
        let arn = out.arn().unwrap_or_default();
        let id = Identity::parse(arn).ok_or_else(|| {
            err(
                ErrorClass::Other,
                format!("GetCallerIdentity returned an unparsable ARN {arn:?}"),
            )
        })?;
        tracing::debug!(rotator = %id.arn, "rotator identity");
        *self.identity.lock().expect("identity lock") = Some(id.clone());
        Ok(id)
    }

    /// Refuses when the rotator is the user being rotated.
    async fn refuse_self(&self) -> BackendResult<Identity> {
        let me = self.rotator().await?;
        if me.is_user(&self.user_name) {
            return Err(denied(format!(
                "the rotator's own identity {} is the IAM user {} whose key is being rotated; \
                 never rotate a key with the leaked key's identity: use another principal",
                me.arn, self.user_name
            )));
        }
        Ok(me)
    }

    fn user_arn(&self) -> String {
        match self.identity.lock().expect("identity lock").as_ref() {
            Some(i) => format!(
                "arn:{}:iam::{}:user/{}",
                i.partition, i.account, self.user_name
            ),
            None => format!("arn:aws:iam::*:user/{}", self.user_name),
        }
    }

    async fn keys(&self) -> BackendResult<Vec<(CredentialInfo, Option<i64>)>> {
        let pages = self
            .iam
            .list_access_keys()
            .user_name(&self.user_name)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("iam:ListAccessKeys", &self.user_name, e))?;
        let mut out = Vec::new();
        for page in pages {
            for k in page.access_key_metadata() {
                let Some(id) = k.access_key_id() else {
                    continue;
                };
                let status = match k.status() {
                    Some(StatusType::Active) => CredentialStatus::Active,
                    _ => CredentialStatus::Inactive,
                };
                out.push((
                    CredentialInfo {
                        id: CredentialId(id.to_string()),
                        status,
                    },
                    k.create_date().map(|d| d.secs()),
                ));
            }
        }
        Ok(out)
    }

    async fn quarantined(&self) -> BackendResult<bool> {
        let pages = self
            .iam
            .list_attached_user_policies()
            .user_name(&self.user_name)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| sdk_error("iam:ListAttachedUserPolicies", &self.user_name, e))?;
        Ok(pages.iter().any(|p| {
            p.attached_policies().iter().any(|a| {
                a.policy_name()
                    .is_some_and(|n| n.starts_with(QUARANTINE_PREFIX))
            })
        }))
    }

    async fn set_status(&self, id: &CredentialId, status: StatusType) -> BackendResult<()> {
        self.iam
            .update_access_key()
            .user_name(&self.user_name)
            .access_key_id(id.as_str())
            .status(status.clone())
            .send()
            .await
            .map_err(|e| sdk_error("iam:UpdateAccessKey", id.as_str(), e))?;
        tracing::info!(user = %self.user_name, key = %id, status = status.as_str(), "access key status set");
        Ok(())
    }

    /// One `GetCallerIdentity` with a key: its ARN, or the AWS error code
    /// and class.
    async fn whoami(
        &self,
        sts: &aws_sdk_sts::Client,
        id: &CredentialId,
    ) -> Result<Identity, (Option<String>, keysweep_rotate::BackendError)> {
        match sts.get_caller_identity().send().await {
            Ok(out) => {
                let arn = out.arn().unwrap_or_default();
                Identity::parse(arn).ok_or_else(|| {
                    (
                        None,
                        err(ErrorClass::Other, format!("unparsable ARN {arn:?}")),
                    )
                })
            }
            Err(e) => {
                let code = code_of(&e);
                Err((code, sdk_error("sts:GetCallerIdentity", id.as_str(), e)))
            }
        }
    }
}

fn test_timeout_option(r: &IssuerRef) -> BackendResult<Option<Duration>> {
    r.options
        .get("test_timeout_secs")
        .map(|s| {
            s.parse::<u64>().map(Duration::from_secs).map_err(|_| {
                err(
                    ErrorClass::Invalid,
                    "option test_timeout_secs is not a whole number of seconds",
                )
            })
        })
        .transpose()
}

/// Backoff between tries: 0.5 s, 1 s, 2 s, then 4 s.
fn backoff(try_no: u32) -> Duration {
    Duration::from_millis(500 << try_no.min(3))
}

#[async_trait]
impl Issuer for IamAccessKeyIssuer {
    fn describe(&self) -> IssuerRef {
        let mut options = self.settings.to_options();
        if self.test_timeout != DEFAULT_TEST_TIMEOUT {
            options.insert(
                "test_timeout_secs".into(),
                self.test_timeout.as_secs().to_string(),
            );
        }
        IssuerRef {
            kind: IAM_ISSUER_KIND.to_string(),
            principal: self.user_name.clone(),
            options,
        }
    }

    fn capabilities(&self) -> IssuerCaps {
        IssuerCaps {
            max_credentials: Some(2),
            overlap: true,
            deactivate: true,
            revoke: true,
            verify_dead: true,
        }
    }

    fn required_permissions(&self) -> Vec<Permission> {
        let user = self.user_arn();
        let mut p: Vec<Permission> = [
            "ListAccessKeys",
            "CreateAccessKey",
            "UpdateAccessKey",
            "DeleteAccessKey",
            "ListAttachedUserPolicies",
        ]
        .iter()
        .map(|a| Permission {
            action: format!("iam:{a}"),
            resource: user.clone(),
        })
        .collect();
        p.push(Permission {
            action: "sts:GetCallerIdentity".into(),
            resource: "*".into(),
        });
        p
    }

    async fn inspect(&self, _current: &SecretValue) -> BackendResult<IssuerState> {
        self.refuse_self().await?;
        let keys = self.keys().await?;
        let quarantined = self.quarantined().await?;
        if quarantined {
            tracing::warn!(user = %self.user_name, "user has an AWSCompromisedKeyQuarantine policy attached");
        }
        Ok(IssuerState {
            // A secret access key alone does not say which key it is: the
            // plan's id field does.
            current: None,
            credentials: keys.into_iter().map(|(k, _)| k).collect(),
            quarantined,
        })
    }

    async fn plan_risks(&self) -> BackendResult<Vec<Risk>> {
        Ok(vec![Risk {
            code: "distribute-new-key".into(),
            severity: Severity::Info,
            message: format!(
                "consumers of IAM user {}'s old access key that do not read it from the store \
                 (CI secrets, ~/.aws/credentials, other stores) must be given the new key before \
                 the old one is deactivated",
                self.user_name
            ),
        }])
    }

    async fn create(&self, token: &RotationToken, _ctx: &CreateCtx) -> BackendResult<Credential> {
        self.refuse_self().await?;
        let out = self
            .iam
            .create_access_key()
            .user_name(&self.user_name)
            .send()
            .await
            .map_err(|e| sdk_error("iam:CreateAccessKey", &self.user_name, e))?;
        let key = out.access_key.ok_or_else(|| {
            err(
                ErrorClass::Other,
                "CreateAccessKey answered without an access key",
            )
        })?;
        let id = CredentialId(key.access_key_id);
        tracing::info!(user = %self.user_name, key = %id, %token, "access key created");
        Ok(Credential {
            id,
            value: SecretValue::new(key.secret_access_key.into_bytes()),
        })
    }

    async fn find(
        &self,
        _token: &RotationToken,
        ctx: &CreateCtx,
    ) -> BackendResult<Option<CredentialId>> {
        let unknown: Vec<CredentialId> = self
            .keys()
            .await?
            .into_iter()
            .map(|(k, _)| k.id)
            .filter(|id| !ctx.known.contains(id))
            .collect();
        match unknown.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
            many => Err(err(
                ErrorClass::Conflict,
                format!(
                    "IAM user {} has several keys not seen at plan time ({}); \
                     cannot tell which one this rotation created",
                    self.user_name,
                    many.iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    async fn set(
        &self,
        _new: &Credential,
        _old: Option<&CredentialId>,
    ) -> BackendResult<SetOutcome> {
        Ok(SetOutcome::Applied)
    }

    async fn test(&self, new: &Credential) -> BackendResult<TestEvidence> {
        let sts = self.sts_with(&new.id, &new.value)?;
        let me = self.rotator().await?;
        let deadline = Instant::now() + self.test_timeout;
        let mut tries = 0u32;
        loop {
            tries += 1;
            match self.whoami(&sts, &new.id).await {
                Ok(who) if who.is_user(&self.user_name) && who.account == me.account => {
                    tracing::info!(key = %new.id, arn = %who.arn, tries, "new key authenticates");
                    return Ok(TestEvidence {
                        detail: format!("sts:GetCallerIdentity {} after {tries} tries", who.arn),
                    });
                }
                Ok(who) => {
                    return Err(err(
                        ErrorClass::TestFailed,
                        format!(
                            "{} authenticates as {}, not as IAM user {} of account {}",
                            new.id, who.arn, self.user_name, me.account
                        ),
                    ))
                }
                Err((code, e)) => {
                    let wait = backoff(tries - 1);
                    if Instant::now() + wait > deadline {
                        return Err(err(
                            ErrorClass::TestFailed,
                            format!(
                                "{} does not authenticate after {tries} tries in {:?}: {}",
                                new.id,
                                self.test_timeout,
                                code.unwrap_or_else(|| e.message.clone())
                            ),
                        ));
                    }
                    tracing::debug!(key = %new.id, tries, class = %e.class, "new key not usable yet; retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn deactivate(&self, id: &CredentialId) -> BackendResult<()> {
        self.set_status(id, StatusType::Inactive).await
    }

    async fn reactivate(&self, id: &CredentialId) -> BackendResult<()> {
        self.set_status(id, StatusType::Active).await
    }

    async fn revoke(&self, id: &CredentialId) -> BackendResult<()> {
        match self
            .iam
            .delete_access_key()
            .user_name(&self.user_name)
            .access_key_id(id.as_str())
            .send()
            .await
        {
            Ok(_) => {
                tracing::info!(user = %self.user_name, key = %id, "access key deleted");
                Ok(())
            }
            Err(e) => {
                let e = sdk_error("iam:DeleteAccessKey", id.as_str(), e);
                if e.class == ErrorClass::NotFound {
                    tracing::debug!(key = %id, "access key already gone");
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn verify_dead(&self, old: &Credential) -> BackendResult<Liveness> {
        let sts = match self.sts_with(&old.id, &old.value) {
            Ok(s) => s,
            Err(_) => return Ok(Liveness::Unknown),
        };
        let deadline = Instant::now() + self.test_timeout;
        let mut tries = 0u32;
        loop {
            tries += 1;
            let verdict = match self.whoami(&sts, &old.id).await {
                Err((Some(code), _)) if code == "InvalidClientTokenId" => {
                    tracing::info!(key = %old.id, tries, "old key is dead");
                    return Ok(Liveness::Dead);
                }
                Ok(_) => Liveness::Alive,
                Err((_, e)) if e.class == ErrorClass::Transient => Liveness::Unknown,
                Err((code, e)) => {
                    tracing::warn!(key = %old.id, code = ?code, class = %e.class, "cannot tell whether the old key is dead");
                    return Ok(Liveness::Unknown);
                }
            };
            // Deletion takes a few seconds to reach every region: retry
            // while the key still works or the service hiccups.
            let wait = backoff(tries - 1);
            if Instant::now() + wait > deadline {
                tracing::warn!(key = %old.id, tries, ?verdict, "old key not confirmed dead");
                return Ok(verdict);
            }
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities() {
        let u = Identity::parse("arn:aws:iam::123456789012:user/ops/App").unwrap();
        assert_eq!(u.account, "123456789012");
        assert_eq!(u.partition, "aws");
        assert_eq!(u.user_name(), Some("App"));
        assert!(u.is_user("app"));
        assert!(!u.is_user("ops"));
        let r = Identity::parse("arn:aws:sts::123456789012:assumed-role/Rotator/app").unwrap();
        assert_eq!(r.user_name(), None);
        assert!(!r.is_user("app"));
        let root = Identity::parse("arn:aws:iam::123456789012:root").unwrap();
        assert!(!root.is_user("root"));
        assert!(Identity::parse("not-an-arn").is_none());
    }

    #[test]
    fn timeouts_and_backoff() {
        let mut r = IssuerRef::new(IAM_ISSUER_KIND, "app");
        assert_eq!(test_timeout_option(&r).unwrap(), None);
        r.options.insert("test_timeout_secs".into(), "5".into());
        assert_eq!(
            test_timeout_option(&r).unwrap(),
            Some(Duration::from_secs(5))
        );
        r.options.insert("test_timeout_secs".into(), "x".into());
        assert_eq!(
            test_timeout_option(&r).unwrap_err().class,
            ErrorClass::Invalid
        );
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(9), Duration::from_secs(4));
    }
}
