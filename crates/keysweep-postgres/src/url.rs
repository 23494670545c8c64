//! The non-secret parts of a `postgres://` URL found by the scanner.

use keysweep_rotate::{BackendError, ErrorClass};
use std::fmt;

/// The non-secret parts of a `postgres://` or `postgresql://` URL: what the
/// CLI needs to build an [`IssuerRef`](keysweep_rotate::IssuerRef) for the
/// role whose password leaked. The password is never decoded or kept.
///
/// `Display` writes `postgres://user@host:port/dbname` (no password).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlParts {
    /// The user (role) name, percent-decoded.
    pub user: String,
    /// The first host, percent-decoded, without IPv6 brackets; `localhost`
    /// when the URL names none (libpq would use its default Unix socket).
    /// A value starting with `/` is a Unix socket directory.
    pub host: String,
    /// The first host's port; default 5432.
    pub port: u16,
    /// The database, percent-decoded, if the URL has a path.
    pub dbname: Option<String>,
}

impl fmt::Display for UrlParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "postgres://{}@{}:{}", self.user, host, self.port)?;
        if let Some(db) = &self.dbname {
            write!(f, "/{db}")?;
        }
        Ok(())
    }
}

fn invalid(reason: &str) -> BackendError {
    // Never quote the URL: it carries a password.
    BackendError::new(
        ErrorClass::Invalid,
        format!("not a usable postgres:// URL: {reason}"),
    )
}

/// Parses a `postgres://` or `postgresql://` URL (scheme case-insensitive)
/// into its non-secret parts.
///
/// Follows libpq's URI rules where they matter, and is lenient where
/// leaked URLs are sloppy:
///
/// * the user information ends at the **last** `@` before the first `/`, so
///   a password with a raw `@` still parses (libpq would reject it); a
///   password with a raw `/` does not;
/// * the user is percent-decoded; the password is skipped, never decoded;
/// * hosts: the first of a comma-separated list; `[v6]` brackets removed;
///   percent-decoded (`%2Fvar%2Frun%2Fpostgresql` is a socket directory);
/// * port: that host's, else 5432;
/// * the query string (`?sslmode=…`, `?schema=…`) and fragment are ignored,
///   including libpq's `host=`/`port=`/`user=`/`dbname=` parameters.
///
/// Errors never contain the URL.
///
/// # Example
///
/// ```
/// use keysweep_postgres::url_parts;
///
/// let p = url_parts("postgresql://app%40prod:s3cr%3At@[::1]:6432/orders?sslmode=require").unwrap();
/// assert_eq!((p.user.as_str(), p.host.as_str(), p.port), ("app@prod", "::1", 6432));
/// assert_eq!(p.dbname.as_deref(), Some("orders"));
/// assert_eq!(p.to_string(), "postgres://app@prod@[::1]:6432/orders");
/// assert!(url_parts("mysql://app:pw@db/orders").is_err());
/// ```
pub fn url_parts(url: &str) -> Result<UrlParts, BackendError> {
    let url = url.trim();
    let rest =
        strip_scheme(url).ok_or_else(|| invalid("scheme is not postgres:// or postgresql://"))?;
    // The user information ends at the last `@` before the first `/`.
    let first_slash = rest.find('/').unwrap_or(rest.len());
    let (userinfo, after) = match rest[..first_slash].rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let user_raw = userinfo
        .map(|u| u.split(':').next().unwrap_or(""))
        .unwrap_or("");
    if user_raw.is_empty() {
        return Err(invalid("no user name"));
    }
    let user = keysweep_rotate::percent_decode(user_raw)
        .ok_or_else(|| invalid("user name is not valid UTF-8"))?;
    // Host list, then an optional path, then query and fragment (ignored).
    let host_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let hostspec = &after[..host_end];
    let tail = &after[host_end..];
    let dbname = match tail.strip_prefix('/') {
        Some(path) => {
            let path = &path[..path.find(['?', '#']).unwrap_or(path.len())];
            let db = keysweep_rotate::percent_decode(path)
                .ok_or_else(|| invalid("database name is not valid UTF-8"))?;
            (!db.is_empty()).then_some(db)
        }
        None => None,
    };
    let first = hostspec.split(',').next().unwrap_or("");
    let (host_raw, port_raw) = split_host_port(first)?;
    let host = keysweep_rotate::percent_decode(host_raw)
        .ok_or_else(|| invalid("host is not valid UTF-8"))?;
    let host = if host.is_empty() {
        "localhost".to_string()
    } else {
        host
    };
    let port = match port_raw {
        None | Some("") => 5432,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(invalid("port is not a number from 1 to 65535")),
        },
    };
    Ok(UrlParts {
        user,
        host,
        port,
        dbname,
    })
}

fn strip_scheme(url: &str) -> Option<&str> {
    for scheme in ["postgresql://", "postgres://"] {
        if url.len() >= scheme.len() && url[..scheme.len()].eq_ignore_ascii_case(scheme) {
            return Some(&url[scheme.len()..]);
        }
    }
    None
}

/// Splits `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(s: &str) -> Result<(&str, Option<&str>), BackendError> {
    if let Some(v6) = s.strip_prefix('[') {
        let close = v6
            .find(']')
            .ok_or_else(|| invalid("unclosed [ in an IPv6 host"))?;
        let host = &v6[..close];
        let after = &v6[close + 1..];
        return match after.strip_prefix(':') {
            Some(port) => Ok((host, Some(port))),
            None if after.is_empty() => Ok((host, None)),
            None => Err(invalid("unexpected text after an IPv6 host")),
        };
    }
    Ok(match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(url: &str) -> UrlParts {
        url_parts(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn common_shapes() {
        let u = p("postgres://app:hunter2@db.example.com/orders");
        assert_eq!(
            u,
            UrlParts {
                user: "app".into(),
                host: "db.example.com".into(),
                port: 5432,
                dbname: Some("orders".into()),
            }
        );
        let u = p("postgresql://app:pw@10.0.0.5:6543/orders?sslmode=require&schema=public");
        assert_eq!((u.host.as_str(), u.port), ("10.0.0.5", 6543));
        assert_eq!(u.dbname.as_deref(), Some("orders"));
        let u = p("POSTGRES://App:pw@host");
        assert_eq!((u.user.as_str(), u.dbname), ("App", None));
        let u = p("postgres://app:pw@host:5433/");
        assert_eq!((u.port, u.dbname), (5433, None));
        let u = p("postgres://app:pw@host?connect_timeout=10");
        assert_eq!((u.host.as_str(), u.dbname), ("host", None));
        let u = p("postgres://app@host/db#frag");
        assert_eq!(u.dbname.as_deref(), Some("db"));
    }

    #[test]
    fn percent_decoding() {
        let u = p("postgres://us%65r%40corp:p%40ss@h/my%20db");
        assert_eq!(u.user, "user@corp");
        assert_eq!(u.dbname.as_deref(), Some("my db"));
        let u = p("postgres://app:pw@%2Fvar%2Frun%2Fpostgresql/db");
        assert_eq!(u.host, "/var/run/postgresql");
        // An invalid escape stays as written.
        assert_eq!(p("postgres://a%zz:pw@h").user, "a%zz");
        assert_eq!(p("postgres://a%4:pw@h").user, "a%4");
        assert_eq!(p("postgres://a%:pw@h").user, "a%");
        assert!(url_parts("postgres://%ff%fe:pw@h").is_err());
    }

    #[test]
    fn ipv6_and_host_lists() {
        let u = p("postgres://app:pw@[::1]:6432/db");
        assert_eq!((u.host.as_str(), u.port), ("::1", 6432));
        let u = p("postgres://app:pw@[2001:db8::5]/db");
        assert_eq!((u.host.as_str(), u.port), ("2001:db8::5", 5432));
        assert_eq!(u.to_string(), "postgres://app@[2001:db8::5]:5432/db");
        let u = p("postgres://app:pw@primary:5433,replica:5434/db");
        assert_eq!((u.host.as_str(), u.port), ("primary", 5433));
        assert!(url_parts("postgres://app:pw@[::1/db").is_err());
        assert!(url_parts("postgres://app:pw@[::1]x/db").is_err());
    }

    #[test]
    fn sloppy_passwords() {
        // Raw `@`, `?`, `#` and `:` in the password.
        let u = p("postgres://app:p@ss?w#r:d@db:5433/orders");
        assert_eq!(
            (u.user.as_str(), u.host.as_str(), u.port),
            ("app", "db", 5433)
        );
        assert_eq!(u.dbname.as_deref(), Some("orders"));
        // No password at all, or an empty one.
        assert_eq!(p("postgres://app@db").user, "app");
        assert_eq!(p("postgres://app:@db").user, "app");
    }

    #[test]
    fn defaults_and_errors() {
        assert_eq!(p("postgres://app:pw@/db").host, "localhost");
        assert_eq!(p("postgres://app:pw@:5433/db").port, 5433);
        for bad in [
            "mysql://app:pw@db/x",
            "postgres:/app:pw@db",
            "postgres://db/x",
            "postgres://:pw@db/x",
            "postgres://app:pw@db:99999/x",
            "postgres://app:pw@db:0/x",
            "postgres://app:pw@db:port/x",
            "",
        ] {
            let e = url_parts(bad).unwrap_err();
            assert_eq!(e.class, ErrorClass::Invalid, "{bad}");
            assert!(!e.message.contains("pw"), "{bad}: {e}");
        }
    }

    #[test]
    fn errors_never_quote_the_password() {
        let e = url_parts("postgres://app:SENTINEL%ff@db:notaport/x").unwrap_err();
        assert!(!e.to_string().contains("SENTINEL"));
        let e = url_parts("postgres://app:SENTINEL@[::1/x").unwrap_err();
        assert!(!e.to_string().contains("SENTINEL"));
    }
}
