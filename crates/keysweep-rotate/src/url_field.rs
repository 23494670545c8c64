//! The password component of a connection URL (`postgres://user:PASSWORD@host/db`).
//!
//! Scanners find database passwords inside URLs, and stores often keep the
//! whole URL. [`FieldPath`](crate::FieldPath)s ending in `#password` address
//! that component; this module finds and replaces it without touching the
//! rest of the URL. Passwords are percent-decoded when read and
//! percent-encoded when written, as URLs require.

use std::ops::Range;

/// The byte range of the password in `url` (as written, percent-encoded), if
/// the URL has `scheme://user:password@` form.
pub(crate) fn password_span(url: &str) -> Option<Range<usize>> {
    let scheme_end = url.find("://")?;
    let scheme = &url[..scheme_end];
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        return None;
    }
    let auth_start = scheme_end + 3;
    let rest = &url[auth_start..];
    let auth_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..auth_len];
    let at = authority.rfind('@')?;
    let userinfo = &authority[..at];
    let colon = userinfo.find(':')?;
    Some(auth_start + colon + 1..auth_start + at)
}

/// What [`percent_encode`] leaves as it is: RFC 3986's unreserved characters.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-decodes `s` (a URL component) with the `percent-encoding` crate:
/// `%XX` escapes are decoded, a malformed escape stays as written; `None`
/// if the result is not UTF-8. keysweep's one URL decoder.
pub fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans() {
        let u = "postgres://app:s3cr%2Ft@db.example:5432/prod?sslmode=require";
        assert_eq!(&u[password_span(u).unwrap()], "s3cr%2Ft");
        let u = "postgresql://app:pw@[::1]/db";
        assert_eq!(&u[password_span(u).unwrap()], "pw");
        // The last '@' of the authority ends the user info.
        let u = "redis://:p@ss@host:6379";
        assert_eq!(&u[password_span(u).unwrap()], "p@ss");
        assert!(password_span("postgres://app@host/db").is_none());
        assert!(password_span("not a url").is_none());
        assert!(password_span("postgres://host/db?x=a:b@c").is_none());
    }

    #[test]
    fn encoding_round_trips() {
        for s in ["plain", "p@ss/w:rd?#%", "é ü", ""] {
            assert_eq!(percent_decode(&percent_encode(s)).as_deref(), Some(s));
        }
        assert_eq!(percent_encode("a b/c"), "a%20b%2Fc");
        // Malformed escapes stay as written (as libpq and browsers do).
        assert_eq!(percent_decode("%zz").as_deref(), Some("%zz"));
        assert_eq!(percent_decode("%4").as_deref(), Some("%4"));
        assert!(percent_decode("%ff").is_none());
    }
}
