//! Mapping AWS SDK errors to [`BackendError`]s without leaking values.
//!
//! An SDK error's `Display` may include the service's message, and a
//! construction failure could in principle describe request input. So the
//! message of a [`BackendError`] is built from the operation name, the
//! resource (ARN, name, version id, access key id), the AWS error code and a
//! *sanitized* service message: at most 200 printable characters, with every
//! long base64-like run (what a secret access key or password looks like)
//! replaced by `<redacted>`. Request bodies are never formatted.

use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use keysweep_rotate::{BackendError, ErrorClass};

/// The class of an AWS error code (and HTTP status, for errors without a
/// parsable code).
pub(crate) fn classify(code: Option<&str>, status: Option<u16>) -> ErrorClass {
    use ErrorClass::*;
    if let Some(code) = code {
        let class = match code {
            "ResourceNotFoundException" | "NoSuchEntity" | "NoSuchEntityException" => {
                Some(NotFound)
            }
            "InvalidRequestException"
            | "InvalidParameterException"
            | "InvalidParameterValue"
            | "InvalidParameterCombination"
            | "InvalidInput"
            | "ValidationError"
            | "ValidationException"
            | "MalformedPolicyDocumentException"
            | "MalformedPolicyDocument"
            | "InvalidNextTokenException" => Some(Invalid),
            "AccessDenied"
            | "AccessDeniedException"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "IncompleteSignature"
            | "MissingAuthenticationToken"
            | "InvalidSignatureException"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "RequestExpired"
            | "UnauthorizedOperation"
            | "DecryptionFailure"
            | "OptInRequired" => Some(Denied),
            "LimitExceededException" | "LimitExceeded" => Some(LimitExceeded),
            "ResourceExistsException"
            | "EntityAlreadyExists"
            | "PreconditionNotMetException"
            | "DeleteConflict"
            | "ConcurrentModification" => Some(Conflict),
            "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "RequestThrottled"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "ServiceFailure"
            | "InternalFailure"
            | "InternalServiceError"
            | "InternalServiceErrorException"
            | "InternalError"
            | "RequestTimeout"
            | "RequestTimeoutException"
            | "EntityTemporarilyUnmodifiable"
            | "PriorRequestNotComplete" => Some(Transient),
            _ => None,
        };
        if let Some(c) = class {
            return c;
        }
    }
    match status {
        Some(401 | 403) => Denied,
        Some(404) => NotFound,
        Some(409) => Conflict,
        Some(408 | 429) => Transient,
        Some(s) if s >= 500 => Transient,
        _ => Other,
    }
}

/// Keeps at most 200 printable characters of a service message and redacts
/// long base64-like runs (24+ characters of `[A-Za-z0-9+/=_]`), which is what
/// secret keys, passwords and tokens look like; ARNs, access key ids (20
/// characters), UUIDs and words survive. Markup (moto answers some errors
/// with an XML document as the message) is dropped.
pub(crate) fn sanitize(message: &str) -> String {
    let message = message.trim();
    if message.starts_with('<') {
        return String::new();
    }
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 24 {
            out.push_str("<redacted>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in message.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_') {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(if c.is_control() { ' ' } else { c });
        }
    }
    flush(&mut run, &mut out);
    if out.chars().count() > 200 {
        out = out.chars().take(200).collect::<String>() + "…";
    }
    out
}

/// The AWS error code of an SDK error, if the service sent one.
///
/// Falls back to the `<Code>` element of an XML error body the SDK could not
/// parse: moto answers authentication failures of every protocol with the
/// EC2-style `<ErrorResponse><Errors><Error><Code>…`, which neither the
/// awsQuery (IAM, STS) nor the JSON (Secrets Manager) parsers read.
pub(crate) fn code_of<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> Option<String> {
    if let Some(c) = e.code().filter(|c| !c.bytes().all(|b| b.is_ascii_digit())) {
        return Some(c.to_string());
    }
    code_in_body(e.raw_response()?.body().bytes()?)
}

/// The text of the first `<Code>` element, if it looks like an error code.
fn code_in_body(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body.get(..body.len().min(4096))?).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let len = text[start..].find("</Code>")?;
    let code = &text[start..start + len];
    let ok = !code.is_empty()
        && code.len() <= 64
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
        && !code.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| code.to_string())
}

/// Converts an SDK error of `op` on `resource` into a [`BackendError`].
pub(crate) fn sdk_error<E>(op: &str, resource: &str, e: SdkError<E, HttpResponse>) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (class, detail) = match &e {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = code_of(&e);
            let code = code.as_deref();
            let class = classify(code, Some(status));
            let msg = e.message().map(sanitize).unwrap_or_default();
            let detail = match (code, msg.is_empty()) {
                (Some(c), true) => c.to_string(),
                (Some(c), false) => format!("{c}: {msg}"),
                (None, _) => format!("HTTP {status}"),
            };
            (class, detail)
        }
        SdkError::TimeoutError(_) => (ErrorClass::Transient, "timeout".to_string()),
        SdkError::DispatchFailure(d) => {
            let kind = if d.is_timeout() {
                "timeout"
            } else if d.is_io() {
                "I/O error"
            } else if d.is_user() {
                "configuration error"
            } else {
                "error"
            };
            let cause = d
                .as_connector_error()
                .map(|c| sanitize(&error_chain(c)))
                .unwrap_or_default();
            let class = if d.is_user() {
                ErrorClass::Invalid
            } else {
                ErrorClass::Transient
            };
            (class, format!("dispatch failure ({kind}): {cause}"))
        }
        SdkError::ResponseError(_) => (
            ErrorClass::Transient,
            "unparsable response from the service".to_string(),
        ),
        SdkError::ConstructionFailure(_) => {
            // E.g. no credentials or no region; input values are never part
            // of these messages, but sanitize anyway.
            let cause = std::error::Error::source(&e)
                .map(|s| sanitize(&error_chain(s)))
                .unwrap_or_default();
            (
                ErrorClass::Invalid,
                format!("could not build the request: {cause}"),
            )
        }
        _ => (ErrorClass::Other, "unknown SDK error".to_string()),
    };
    tracing::debug!(op, resource, class = %class, detail = %detail, "AWS call failed");
    BackendError::new(class, format!("{op} {resource}: {detail}"))
}

/// An error and its sources, joined with `: `.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// A `Denied` error.
pub(crate) fn denied(message: impl Into<String>) -> BackendError {
    BackendError::new(ErrorClass::Denied, message)
}

/// An error of `class`.
pub(crate) fn err(class: ErrorClass, message: impl Into<String>) -> BackendError {
    BackendError::new(class, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorClass::*;

    #[test]
    fn codes_map_to_classes() {
        let t = |c: &str| classify(Some(c), Some(400));
        assert_eq!(t("ResourceNotFoundException"), NotFound);
        assert_eq!(t("NoSuchEntity"), NotFound);
        assert_eq!(t("InvalidRequestException"), Invalid);
        assert_eq!(t("InvalidParameterException"), Invalid);
        assert_eq!(t("AccessDeniedException"), Denied);
        assert_eq!(t("AccessDenied"), Denied);
        assert_eq!(t("UnrecognizedClientException"), Denied);
        assert_eq!(t("InvalidClientTokenId"), Denied);
        assert_eq!(t("SignatureDoesNotMatch"), Denied);
        assert_eq!(t("LimitExceededException"), LimitExceeded);
        assert_eq!(t("LimitExceeded"), LimitExceeded);
        assert_eq!(t("ResourceExistsException"), Conflict);
        assert_eq!(t("ThrottlingException"), Transient);
        assert_eq!(t("Throttling"), Transient);
        assert_eq!(t("InternalServiceError"), Transient);
        assert_eq!(t("SomethingNew"), Other);
        // No code: the HTTP status decides (moto answers some denials with a
        // bare 403 whose body is not a JSON error).
        assert_eq!(classify(None, Some(403)), Denied);
        assert_eq!(classify(Some("403"), Some(403)), Denied);
        assert_eq!(classify(None, Some(503)), Transient);
        assert_eq!(classify(None, Some(429)), Transient);
        assert_eq!(classify(None, None), Other);
    }

    #[test]
    fn messages_are_sanitized() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let m = sanitize(&format!("bad value {secret} for arn:aws:iam::1:user/app"));
        assert!(!m.contains("wJalrXUtnFEMI"), "{m}");
        assert!(m.contains("<redacted>"));
        assert!(m.contains("arn:aws:iam::1:user/app"));
        let m = sanitize("The Access Key with id AKIAIOSFODNN7EXAMPLE cannot be found");
        assert!(m.contains("AKIAIOSFODNN7EXAMPLE"));
        let m = sanitize("version 3a7a37fa-9f7c-4828-8359-ccd7248fd8f9\nnot found");
        assert_eq!(m, "version 3a7a37fa-9f7c-4828-8359-ccd7248fd8f9 not found");
        assert_eq!(sanitize("<?xml version=\"1.0\"?><Error/>"), "");
        assert!(sanitize(&"x ".repeat(300)).chars().count() <= 201);
    }

    #[test]
    fn codes_from_unparsed_xml_bodies() {
        let moto = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ErrorResponse><Errors><Error>\
            <Code>InvalidClientTokenId</Code><Message>The security token included in the \
            request is invalid.</Message></Error></Errors></ErrorResponse>";
        assert_eq!(code_in_body(moto).as_deref(), Some("InvalidClientTokenId"));
        assert_eq!(code_in_body(b"<Code>403</Code>"), None);
        assert_eq!(code_in_body(b"<Code>a b</Code>"), None);
        assert_eq!(code_in_body(b"{\"__type\":\"X\"}"), None);
    }
}
