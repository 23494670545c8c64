//! `keysweep rotate locate` for Secrets Manager: which secret holds a value.

use crate::error::sdk_error;
use crate::settings::{refuse_body_logging, AwsSettings};
use crate::store::{AWSCURRENT, AWSPREVIOUS};
use crate::STORE_KIND;
use aws_config::SdkConfig;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use keysweep_rotate::{BackendError, BackendResult, ErrorClass, SecretValue, StoreRef, VersionRef};

/// One place where a value matched: a secret version and what the matcher
/// returned for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsLocation<T> {
    /// The secret, as a plan's store (locator: the secret's ARN; options:
    /// the [`AwsSettings`] used).
    pub store: StoreRef,
    /// The version whose value matched.
    pub version: VersionRef,
    /// That version's staging labels (`AWSCURRENT` or `AWSPREVIOUS`, and any
    /// custom ones).
    pub labels: Vec<String>,
    /// What the matcher returned (e.g. a
    /// [`LocatedField`](keysweep_rotate::LocatedField)).
    pub matched: T,
}

/// Lists the secrets (`ListSecrets`, paginated, optionally only names
/// starting with `name_prefix`), reads the `AWSCURRENT` and `AWSPREVIOUS`
/// version of each (`GetSecretValue`) and returns one [`AwsLocation`] per
/// item `matcher` returns for a value.
///
/// `matcher` sees each value once and reports matching pieces, typically
/// `|v| locator.matches(v)` with a
/// [`Locator`](keysweep_rotate::Locator); values never leave it. Secrets the
/// rotator may not read (`Denied`), that are scheduled for deletion
/// (`Invalid`) or that vanish meanwhile are skipped with a `warn` event;
/// failing to list is an error. `name_prefix` is matched case-sensitively
/// (AWS's `name` filter) and may not start with `!`. Credentials come from
/// the standard chain; refused (`Denied`) when `LOG_SIGNABLE_BODY` or
/// `LOG_SENSITIVE_BODIES` is set.
///
/// Needs `secretsmanager:ListSecrets` (resource `*`) and `GetSecretValue`
/// on the secrets.
pub async fn locate<M, T>(
    settings: &AwsSettings,
    name_prefix: Option<&str>,
    matcher: M,
) -> BackendResult<Vec<AwsLocation<T>>>
where
    M: Fn(&SecretValue) -> Vec<T>,
{
    refuse_body_logging()?;
    let config = settings.sdk_config().await;
    locate_with_config(settings, &config, name_prefix, matcher).await
}

/// [`locate`] with an explicit SDK configuration (e.g. from
/// [`AwsSettings::sdk_config_with_credentials`]); `settings` are recorded in
/// the returned store refs.
pub async fn locate_with_config<M, T>(
    settings: &AwsSettings,
    config: &SdkConfig,
    name_prefix: Option<&str>,
    matcher: M,
) -> BackendResult<Vec<AwsLocation<T>>>
where
    M: Fn(&SecretValue) -> Vec<T>,
{
    refuse_body_logging()?;
    if let Some(p) = name_prefix {
        let ok = p.len() <= 512
            && !p.starts_with('!')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || " :_@/+=.-".contains(c));
        if !ok {
            return Err(BackendError::new(
                ErrorClass::Invalid,
                "a secret name prefix is up to 512 of [A-Za-z0-9 :_@/+=.-] and does not start \
                 with ! (negation)",
            ));
        }
    }
    let client = aws_sdk_secretsmanager::Client::new(config);
    let mut req = client.list_secrets();
    if let Some(p) = name_prefix.filter(|p| !p.is_empty()) {
        req = req.filters(
            Filter::builder()
                .key(FilterNameStringType::Name)
                .values(p)
                .build(),
        );
    }
    let mut pages = req.into_paginator().send();
    let mut out = Vec::new();
    let mut seen = 0usize;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ListSecrets", name_prefix.unwrap_or("*"), e))?;
        for entry in page.secret_list() {
            let Some(arn) = entry.arn().or(entry.name()) else {
                continue;
            };
            // AWS's name filter is a case-sensitive prefix match; check it
            // here too (moto matched anywhere in the name before 5.0.4).
            if let (Some(p), Some(name)) = (name_prefix, entry.name()) {
                if !name.starts_with(p) {
                    continue;
                }
            }
            seen += 1;
            for stage in [AWSCURRENT, AWSPREVIOUS] {
                let got = client
                    .get_secret_value()
                    .secret_id(arn)
                    .version_stage(stage)
                    .send()
                    .await;
                let mut v = match got {
                    Ok(v) => v,
                    Err(e) => {
                        let e = sdk_error("GetSecretValue", &format!("{arn} {stage}"), e);
                        match e.class {
                            ErrorClass::NotFound => {}
                            ErrorClass::Denied | ErrorClass::Invalid => {
                                tracing::warn!(secret = arn, stage, error = %e, "skipping secret");
                            }
                            _ => return Err(e),
                        }
                        continue;
                    }
                };
                let value = match (v.secret_string.take(), v.secret_binary.take()) {
                    (Some(s), _) => SecretValue::new(s.into_bytes()),
                    (None, Some(b)) => SecretValue::new(b.into_inner()),
                    (None, None) => continue,
                };
                let version = VersionRef(v.version_id().unwrap_or_default().to_string());
                let mut labels = v.version_stages().to_vec();
                labels.sort();
                for matched in matcher(&value) {
                    tracing::info!(secret = arn, %version, ?labels, "value located");
                    out.push(AwsLocation {
                        store: StoreRef {
                            kind: STORE_KIND.to_string(),
                            locator: arn.to_string(),
                            options: settings.to_options(),
                        },
                        version: version.clone(),
                        labels: labels.clone(),
                        matched,
                    });
                }
            }
        }
    }
    tracing::debug!(secrets = seen, found = out.len(), "locate done");
    Ok(out)
}

/// The IAM user owning the access key `access_key_id` (public, like a user
/// name), from `iam:GetAccessKeyLastUsed`; `None` when the key is unknown or
/// belongs to a root user. `locate` uses it to suggest the issuer of a leaked
/// key. Needs `iam:GetAccessKeyLastUsed` on the owning user.
pub async fn access_key_owner(
    settings: &AwsSettings,
    access_key_id: &str,
) -> BackendResult<Option<String>> {
    refuse_body_logging()?;
    let config = settings.sdk_config().await;
    access_key_owner_with_config(&config, access_key_id).await
}

/// [`access_key_owner`] with an explicit SDK configuration.
pub async fn access_key_owner_with_config(
    config: &SdkConfig,
    access_key_id: &str,
) -> BackendResult<Option<String>> {
    refuse_body_logging()?;
    let iam = aws_sdk_iam::Client::new(config);
    match iam
        .get_access_key_last_used()
        .access_key_id(access_key_id)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .user_name()
            .filter(|u| !u.is_empty())
            .map(str::to_string)),
        Err(e) => {
            let e = sdk_error("iam:GetAccessKeyLastUsed", access_key_id, e);
            if e.class == ErrorClass::NotFound {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}
