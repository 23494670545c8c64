//! A thin JSON layer over vaultrs's HTTP client.
//!
//! vaultrs's typed KV functions hide what this crate needs (the status code
//! and body of a 404 on a deleted version, `LIST` on an absent folder, the
//! mount type), and its request and response structs derive `Debug` with the
//! secret data inside. So the stores send raw JSON through vaultrs's own
//! rustify client and middleware (address, `X-Vault-Token`,
//! `X-Vault-Namespace`, the `v1/` prefix) with one generic endpoint, and map
//! failures to [`BackendError`]s whose messages carry the method, the API
//! path, the status and Vault's error strings, never a request or response
//! body.

use keysweep_rotate::{BackendError, ErrorClass};
use rustify::endpoint::Endpoint;
use rustify::enums::{RequestMethod, RequestType, ResponseType};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use vaultrs::client::{Client, VaultClient};

/// An HTTP method of the Vault API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    List,
    Post,
    Put,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::List => "LIST",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    fn rustify(self) -> RequestMethod {
        match self {
            Method::Get => RequestMethod::GET,
            Method::List => RequestMethod::LIST,
            Method::Post => RequestMethod::POST,
            Method::Put => RequestMethod::PUT,
            Method::Delete => RequestMethod::DELETE,
        }
    }
}

/// One request. `Debug` is deliberately not derived: the body may hold a
/// secret document.
struct Raw {
    method: Method,
    path: String,
    query: Option<String>,
    body: Option<Vec<u8>>,
}

impl Endpoint for Raw {
    type Response = Value;
    const REQUEST_BODY_TYPE: RequestType = RequestType::JSON;
    const RESPONSE_BODY_TYPE: ResponseType = ResponseType::JSON;

    fn path(&self) -> String {
        self.path.clone()
    }

    fn method(&self) -> RequestMethod {
        self.method.rustify()
    }

    fn query(&self) -> Result<Option<String>, rustify::errors::ClientError> {
        Ok(self.query.clone())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, rustify::errors::ClientError> {
        Ok(self.body.clone())
    }
}

/// A failed Vault call: the HTTP status and Vault's `errors` strings, or a
/// transport error. Holds no body.
#[derive(Clone, Debug)]
pub(crate) struct ApiError {
    /// What was called: `GET secret/data/app/db`.
    pub what: String,
    /// HTTP status, when the server answered.
    pub status: Option<u16>,
    /// Vault's `errors` array (messages, not values).
    pub errors: Vec<String>,
    /// Transport or client failure, when the server did not answer.
    pub transport: Option<String>,
}

/// Vault's answer to a write whose `cas` does not match.
pub(crate) const CAS_MISMATCH: &str = "check-and-set parameter did not match";

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }

    pub fn is_cas_mismatch(&self) -> bool {
        self.status == Some(400) && self.errors.iter().any(|e| e.contains(CAS_MISMATCH))
    }

    pub fn class(&self) -> ErrorClass {
        match self.status {
            // A TLS verification failure does not go away by retrying.
            None if self
                .transport
                .as_deref()
                .is_some_and(|t| t.contains("certificate")) =>
            {
                ErrorClass::Other
            }
            None => ErrorClass::Transient,
            Some(400) if self.is_cas_mismatch() => ErrorClass::Conflict,
            Some(400) => ErrorClass::Invalid,
            Some(401 | 403) => ErrorClass::Denied,
            Some(404) => ErrorClass::NotFound,
            Some(405) => ErrorClass::Unsupported,
            Some(412 | 429 | 500 | 502 | 503 | 504) => ErrorClass::Transient,
            Some(_) => ErrorClass::Other,
        }
    }

    /// The error as a [`BackendError`] (class from the status).
    pub fn backend(&self) -> BackendError {
        BackendError::new(self.class(), self.to_string())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vault {}: ", self.what)?;
        match (self.status, &self.transport) {
            (Some(s), _) => {
                write!(f, "HTTP {s}")?;
                if !self.errors.is_empty() {
                    write!(f, ": {}", self.errors.join("; "))?;
                }
                Ok(())
            }
            (None, Some(t)) => f.write_str(t),
            (None, None) => f.write_str("failed"),
        }
    }
}

impl From<ApiError> for BackendError {
    fn from(e: ApiError) -> BackendError {
        e.backend()
    }
}

/// Keeps Vault's error strings short; they name paths and reasons, and are
/// cut so a pathological message cannot carry a document.
fn clip(s: &str) -> String {
    const MAX: usize = 300;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn transport_error(e: &rustify::errors::ClientError) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if parts.len() >= 5 {
            break;
        }
        parts.push(s.to_string());
        src = s.source();
    }
    parts.dedup();
    clip(&parts.join(": "))
}

/// A connected Vault client (cheap to clone).
#[derive(Clone)]
pub(crate) struct Vault {
    client: Arc<VaultClient>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The settings hold the token: print the address only.
        write!(f, "Vault({})", self.client.settings().address)
    }
}

impl Vault {
    pub fn new(client: VaultClient) -> Vault {
        Vault {
            client: Arc::new(client),
        }
    }

    /// Calls `method path?query` with an optional JSON body. Returns the
    /// response's JSON (`None` for an empty body, e.g. HTTP 204).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: Option<String>,
        body: Option<&Value>,
    ) -> Result<Option<Value>, ApiError> {
        let what = format!("{} {path}", method.as_str());
        let body = match body {
            Some(b) => Some(serde_json::to_vec(b).map_err(|_| ApiError {
                what: what.clone(),
                status: None,
                errors: vec![],
                transport: Some("request body does not serialise".into()),
            })?),
            None => None,
        };
        let raw = Raw {
            method,
            path: path.to_string(),
            query,
            body,
        };
        tracing::trace!(method = method.as_str(), path, "vault request");
        let res = raw
            .with_middleware(self.client.middle())
            .exec(self.client.http())
            .await;
        match res {
            Ok(r) => {
                let bytes = r.response.body();
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                serde_json::from_slice(bytes)
                    .map(Some)
                    .map_err(|e| ApiError {
                        what,
                        status: Some(r.response.status().as_u16()),
                        errors: vec![],
                        transport: Some(format!(
                            "response is not JSON (line {}, column {})",
                            e.line(),
                            e.column()
                        )),
                    })
            }
            Err(rustify::errors::ClientError::ServerResponseError { code, content }) => {
                let errors = content
                    .as_deref()
                    .and_then(|c| serde_json::from_str::<Value>(c).ok())
                    .and_then(|v| {
                        v.get("errors").and_then(Value::as_array).map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(clip)
                                .collect::<Vec<_>>()
                        })
                    })
                    .unwrap_or_default();
                let e = ApiError {
                    what,
                    status: Some(code),
                    errors,
                    transport: None,
                };
                tracing::debug!(error = %e, "vault answered with an error");
                Err(e)
            }
            Err(e) => {
                let e = ApiError {
                    what,
                    status: None,
                    errors: vec![],
                    transport: Some(transport_error(&e)),
                };
                tracing::debug!(error = %e, "vault request failed");
                Err(e)
            }
        }
    }

    /// `call`, returning the response's `data` object (or `Value::Null`).
    pub async fn data(
        &self,
        method: Method,
        path: &str,
        query: Option<String>,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        Ok(self
            .call(method, path, query, body)
            .await?
            .and_then(|mut v| v.get_mut("data").map(Value::take))
            .unwrap_or(Value::Null))
    }

    /// The KV version of `mount` (`1` or `2`) from
    /// `sys/internal/ui/mounts/<mount>`, which any token with a capability
    /// under the mount may read. `Ok(None)` when Vault does not tell
    /// (permission denied on an old server); `Invalid` when the mount is not
    /// a KV engine; `NotFound` when there is no such mount.
    pub async fn kv_version(&self, mount: &str) -> Result<Option<u8>, BackendError> {
        let path = format!("sys/internal/ui/mounts/{mount}");
        let d = match self.data(Method::Get, &path, None, None).await {
            Ok(d) => d,
            Err(e) if e.class() == ErrorClass::Denied => {
                tracing::debug!(
                    mount,
                    "cannot read the mount's type; assuming the requested KV version"
                );
                return Ok(None);
            }
            Err(e) if e.is_not_found() || e.status() == Some(400) => {
                return Err(BackendError::new(
                    ErrorClass::NotFound,
                    format!("vault: no secrets engine is mounted at {mount}/ ({e})"),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let ty = d.get("type").and_then(Value::as_str).unwrap_or("");
        let mounted_at = d.get("path").and_then(Value::as_str).unwrap_or("");
        if mounted_at.trim_end_matches('/') != mount {
            return Err(BackendError::new(
                ErrorClass::NotFound,
                format!(
                    "vault: {mount}/ is not a mount point (the enclosing mount is {mounted_at:?}); \
                     name the mount with the store option `mount`"
                ),
            ));
        }
        if ty != "kv" && ty != "generic" {
            return Err(BackendError::new(
                ErrorClass::Invalid,
                format!("vault: the engine at {mount}/ is {ty:?}, not a KV engine"),
            ));
        }
        let version = d
            .get("options")
            .and_then(|o| o.get("version"))
            .and_then(Value::as_str)
            .unwrap_or("1");
        Ok(Some(if version == "2" { 2 } else { 1 }))
    }
}

/// The `data` of a KV response as an object, or `None` when Vault returned
/// `null` (a deleted or destroyed version).
pub(crate) fn object(v: Value) -> Option<serde_json::Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, errors: &[&str]) -> ApiError {
        ApiError {
            what: "POST secret/data/app/db".into(),
            status: Some(status),
            errors: errors.iter().map(|s| s.to_string()).collect(),
            transport: None,
        }
    }

    #[test]
    fn classes_follow_status_and_message() {
        let cas = err(
            400,
            &["check-and-set parameter did not match the current version"],
        );
        assert!(cas.is_cas_mismatch());
        assert_eq!(cas.class(), ErrorClass::Conflict);
        assert_eq!(
            cas.to_string(),
            "vault POST secret/data/app/db: HTTP 400: check-and-set parameter did not match \
             the current version"
        );
        assert_eq!(err(400, &["bad"]).class(), ErrorClass::Invalid);
        assert_eq!(err(403, &["permission denied"]).class(), ErrorClass::Denied);
        assert_eq!(err(404, &[]).class(), ErrorClass::NotFound);
        assert_eq!(err(503, &[]).class(), ErrorClass::Transient);
        assert_eq!(err(418, &[]).class(), ErrorClass::Other);
        let t = ApiError {
            what: "GET x".into(),
            status: None,
            errors: vec![],
            transport: Some("connection refused".into()),
        };
        assert_eq!(t.class(), ErrorClass::Transient);
        let tls = ApiError {
            transport: Some(
                "client error (Connect): invalid peer certificate: UnknownIssuer".into(),
            ),
            ..t.clone()
        };
        assert_eq!(tls.class(), ErrorClass::Other);
        assert_eq!(t.backend().message, "vault GET x: connection refused");
    }

    #[test]
    fn clip_cuts_long_messages_on_char_boundaries() {
        let s = "é".repeat(400);
        let c = clip(&s);
        assert!(c.len() <= 304);
        assert!(c.ends_with('…'));
    }
}
