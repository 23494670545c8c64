//! SQL quoting, SCRAM-SHA-256 verifiers and the password-change transaction.

use secrecy::{ExposeSecret, SecretString};
use std::error::Error as StdError;
use std::fmt;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::Client;

/// Quotes an SQL identifier (a role name) in double quotes, doubling any
/// double quote inside (`postgres_protocol::escape::escape_identifier`, a
/// translation of libpq's `PQescapeIdentifier`; always quoting, so the name
/// keeps its case).
///
/// Role names cannot contain NUL; callers validate that (PostgreSQL
/// rejects it).
///
/// ```
/// use keysweep_postgres::quote_identifier;
/// assert_eq!(quote_identifier("app"), r#""app""#);
/// assert_eq!(quote_identifier(r#"we"ird"#), r#""we""ird""#);
/// ```
pub fn quote_identifier(name: &str) -> String {
    postgres_protocol::escape::escape_identifier(name)
}

/// Quotes an SQL string literal (`postgres_protocol::escape::escape_literal`,
/// libpq's `PQescapeLiteral`): single quotes are doubled, and a value
/// containing a backslash is written as an escape string ` E'…'` (with a
/// leading space) with backslashes doubled, so the literal means the same
/// whatever `standard_conforming_strings` is.
///
/// ```
/// use keysweep_postgres::quote_literal;
/// assert_eq!(quote_literal("it's"), "'it''s'");
/// assert_eq!(quote_literal(r"a\b"), r" E'a\\b'");
/// ```
pub fn quote_literal(value: &str) -> String {
    postgres_protocol::escape::escape_literal(value)
}

/// A SCRAM-SHA-256 verifier,
/// `SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>` (RFC 5803 as stored by
/// PostgreSQL in `pg_authid.rolpassword`).
///
/// It is not the password, but it is sensitive: it allows an offline guessing
/// attack on the password, and together with a recorded SCRAM exchange it
/// lets an attacker compute the client proof. So it is redacted like a
/// password: `Debug` hides it, and as a query parameter its `Debug` (which
/// tokio-postgres logs at debug level) is redacted too.
pub(crate) struct Verifier(SecretString);

impl Verifier {
    /// A verifier with a fresh random 16-byte salt and 4096 iterations, the
    /// algorithm of libpq's `PQencryptPasswordConn` (SASLprep when the
    /// password is valid UTF-8 without prohibited characters, raw bytes
    /// otherwise, exactly as the server does at login).
    pub(crate) fn new(password: &[u8]) -> Verifier {
        Verifier(SecretString::from(
            postgres_protocol::password::scram_sha_256(password),
        ))
    }

    #[cfg(test)]
    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Verifier(<redacted>)")
    }
}

impl ToSql for Verifier {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        self.0.expose_secret().to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <&str as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

/// Runs `ALTER ROLE <role> PASSWORD <verifier>` server-side, built by
/// `format('%I', '%L')` from two transaction-local settings, so that neither
/// the verifier nor the role name is ever part of a statement's text:
///
/// * `log_statement = ddl` or `mod` logs nothing of it (a `DO` block and a
///   `SELECT` are not DDL); `log_statement = all` logs the statements, whose
///   text holds no secret, and the bind parameters, which hold the verifier,
///   unless the admin is a superuser: then `log_parameter_max_length` is set
///   to 0 for this transaction (PostgreSQL 13+);
/// * `pg_stat_activity` and `pg_stat_statements` see only the statement
///   text;
/// * tokio-postgres's own debug log (the `log` crate, target
///   `tokio_postgres`) prints statement texts and the `Debug` of parameters,
///   which [`Verifier`] redacts;
/// * a failure inside the `DO` block is re-raised with its SQLSTATE and a
///   fixed message, so PL/pgSQL's error context (which would quote the
///   `ALTER ROLE` statement, verifier included) never reaches the server log
///   or the client.
pub(crate) const SET_PASSWORD_DO: &str = "DO $keysweep$ BEGIN \
    EXECUTE format('ALTER ROLE %I PASSWORD %L', \
        current_setting('keysweep.role'), current_setting('keysweep.verifier')); \
    EXCEPTION WHEN OTHERS THEN \
        RAISE EXCEPTION USING ERRCODE = SQLSTATE, MESSAGE = 'keysweep: ALTER ROLE failed'; \
    END $keysweep$";

/// The fixed message of [`SET_PASSWORD_DO`]'s re-raised error.
pub(crate) const SET_PASSWORD_FAILED: &str = "keysweep: ALTER ROLE failed";

/// Sets `role`'s password to `verifier` in one transaction (see
/// [`SET_PASSWORD_DO`]). Returns whether parameter logging was suppressed.
pub(crate) async fn set_password(
    client: &mut Client,
    role: &str,
    verifier: &Verifier,
) -> Result<bool, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let row = tx
        .query_one(
            "SELECT current_setting('is_superuser') = 'on', \
             current_setting('server_version_num')::int >= 130000",
            &[],
        )
        .await?;
    let quiet = row.get::<_, bool>(0) && row.get::<_, bool>(1);
    if quiet {
        tx.batch_execute("SET LOCAL log_parameter_max_length = 0")
            .await?;
    }
    tx.execute(
        "SELECT set_config('keysweep.role', $1, true), set_config('keysweep.verifier', $2, true)",
        &[&role, verifier],
    )
    .await?;
    tx.batch_execute(SET_PASSWORD_DO).await?;
    tx.commit().await?;
    Ok(quiet)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};

    #[test]
    fn identifiers() {
        assert_eq!(quote_identifier("app"), "\"app\"");
        assert_eq!(quote_identifier("App"), "\"App\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_identifier("\""), "\"\"\"\"");
        assert_eq!(
            quote_identifier("x\"; DROP ROLE y; --"),
            "\"x\"\"; DROP ROLE y; --\""
        );
        assert_eq!(quote_identifier("rôle"), "\"rôle\"");
    }

    #[test]
    fn literals() {
        assert_eq!(quote_literal(""), "''");
        assert_eq!(quote_literal("abc"), "'abc'");
        assert_eq!(quote_literal("a'b"), "'a''b'");
        assert_eq!(quote_literal("'"), "''''");
        assert_eq!(quote_literal("a\\'b"), " E'a\\\\''b'");
        assert_eq!(
            quote_literal("x'; ALTER ROLE y SUPERUSER; --"),
            "'x''; ALTER ROLE y SUPERUSER; --'"
        );
    }

    fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
        m.update(msg);
        m.finalize().into_bytes().to_vec()
    }

    /// RFC 5802 `Hi()` (PBKDF2-HMAC-SHA-256 with one block), written
    /// independently of postgres-protocol.
    fn hi(password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        let mut u = hmac(password, &[salt, &1u32.to_be_bytes()].concat());
        let mut out = u.clone();
        for _ in 1..iterations {
            u = hmac(password, &u);
            out.iter_mut().zip(&u).for_each(|(o, x)| *o ^= x);
        }
        out
    }

    /// Checks a verifier's format and recomputes its keys from the password.
    fn check(verifier: &str, password: &[u8]) {
        let rest = verifier.strip_prefix("SCRAM-SHA-256$").expect("prefix");
        let (params, keys) = rest.split_once('$').expect("two parts");
        let (iter, salt) = params.split_once(':').expect("iterations:salt");
        let (stored, server) = keys.split_once(':').expect("StoredKey:ServerKey");
        let iter: u32 = iter.parse().unwrap();
        assert_eq!(iter, 4096);
        let salt = STANDARD.decode(salt).unwrap();
        assert_eq!(salt.len(), 16);
        let salted = hi(password, &salt, iter);
        let client_key = hmac(&salted, b"Client Key");
        let stored_key = Sha256::digest(&client_key).to_vec();
        let server_key = hmac(&salted, b"Server Key");
        assert_eq!(STANDARD.decode(stored).unwrap(), stored_key);
        assert_eq!(STANDARD.decode(server).unwrap(), server_key);
        // Safe inside a literal as it is, and free of the password.
        assert!(verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"$:+/=-".contains(&b)));
        assert_eq!(quote_literal(verifier), format!("'{verifier}'"));
    }

    #[test]
    fn scram_verifier_matches_rfc_5802() {
        let pw = "Sentinel0123456789abcdefABCDEF42";
        let v = Verifier::new(pw.as_bytes());
        check(v.expose(), pw.as_bytes());
        assert!(!v.expose().contains(pw));
        // A fresh salt each time.
        let w = Verifier::new(pw.as_bytes());
        assert_ne!(v.expose(), w.expose());
        // Invalid UTF-8 is hashed as raw bytes, like the server does.
        check(Verifier::new(b"\xff\xfepw").expose(), b"\xff\xfepw");
    }

    #[test]
    fn verifier_debug_is_redacted() {
        let v = Verifier::new(b"password");
        assert_eq!(format!("{v:?}"), "Verifier(<redacted>)");
        let params: [&(dyn ToSql + Sync); 2] = [&"role", &v];
        assert!(!format!("{params:?}").contains("SCRAM"));
    }

    #[test]
    fn set_statement_has_no_placeholders_for_secrets() {
        assert!(
            !SET_PASSWORD_DO.contains('$') || SET_PASSWORD_DO.matches("$keysweep$").count() == 2
        );
        assert!(SET_PASSWORD_DO.contains(SET_PASSWORD_FAILED));
    }
}
