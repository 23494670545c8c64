//! Addressing one field of a JSON secret document.
//!
//! Many secrets are JSON documents (`{"username": "app", "password": "…"}`,
//! `{"aws_access_key_id": "…", "aws_secret_access_key": "…"}`). A rotation of
//! such a secret replaces one string field and must keep the rest intact.
//! [`replace_field`] splices the new JSON string literal into the original
//! bytes, so everything else (key order, whitespace, number spelling, other
//! fields) stays byte-for-byte identical; if the splice cannot be verified it
//! falls back to a semantic rewrite (same keys and values, order preserved,
//! compact formatting).
//!
//! Errors never quote the document: serde_json's messages are reduced to a
//! line and column.

use crate::error::Error;
use crate::url_field::{password_span, percent_decode, percent_encode};
use crate::value::SecretValue;
use secrecy::zeroize::Zeroizing;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Where a credential sits inside a stored document.
///
/// * A dot-separated path to a string field of a JSON object, such as
///   `password`, `aws_secret_access_key` or `db.primary.password`.
/// * `#password`: the password component of a connection URL that is the
///   whole value (`postgres://app:PASSWORD@db/prod`).
/// * `dsn#password`: the password of the URL held in the JSON field `dsn`.
///
/// URL passwords are percent-decoded when read and percent-encoded when
/// written. Keys containing dots or `#` are not addressable; such documents
/// are rare in secret stores.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FieldPath(String);

impl FieldPath {
    /// Parses a path; every segment must be non-empty.
    pub fn new(path: &str) -> Result<FieldPath, Error> {
        let err = |reason: &str| {
            Err(Error::Field {
                field: path.to_string(),
                reason: reason.into(),
            })
        };
        let (json, url) = match path.split_once('#') {
            Some((json, "password")) => (json, true),
            Some(_) => return err("only `#password` (a URL's password) may follow `#`"),
            None => (path, false),
        };
        if !(url && json.is_empty()) && (json.is_empty() || json.split('.').any(str::is_empty)) {
            return err("empty path segment");
        }
        Ok(FieldPath(path.to_string()))
    }

    /// The JSON part of the path (before any `#`), if there is one.
    pub fn json_path(&self) -> Option<&str> {
        let json = self.0.split('#').next().unwrap_or("");
        (!json.is_empty()).then_some(json)
    }

    /// Whether the path addresses a URL's password (`…#password`).
    pub fn is_url_password(&self) -> bool {
        self.0.ends_with("#password")
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn segments(&self) -> impl Iterator<Item = &str> {
        self.json_path().unwrap_or("").split('.')
    }

    fn err(&self, reason: impl Into<String>) -> Error {
        Error::Field {
            field: self.0.clone(),
            reason: reason.into(),
        }
    }
}

impl TryFrom<String> for FieldPath {
    type Error = Error;
    fn try_from(s: String) -> Result<FieldPath, Error> {
        FieldPath::new(&s)
    }
}

impl From<FieldPath> for String {
    fn from(p: FieldPath) -> String {
        p.0
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FieldPath({})", self.0)
    }
}

fn parse(doc: &[u8], path: &FieldPath) -> Result<Value, Error> {
    serde_json::from_slice(doc).map_err(|e| {
        path.err(format!(
            "document is not JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

fn lookup<'v>(v: &'v Value, path: &FieldPath) -> Result<&'v str, Error> {
    let mut cur = v;
    for seg in path.segments() {
        cur = cur
            .as_object()
            .ok_or_else(|| path.err("not an object along the path"))?
            .get(seg)
            .ok_or_else(|| path.err("field not found"))?;
    }
    cur.as_str()
        .ok_or_else(|| path.err("field is not a string"))
}

/// Reads the string at `path` from a JSON document.
///
/// # Example
///
/// ```
/// use keysweep_rotate::{extract_field, FieldPath, SecretValue};
///
/// let doc = SecretValue::from(r#"{"user": "app", "password": "pw-1"}"#);
/// let pw = extract_field(&doc, &FieldPath::new("password")?)?;
/// assert_eq!(pw.expose(), b"pw-1");
/// # Ok::<(), keysweep_rotate::Error>(())
/// ```
pub fn extract_field(doc: &SecretValue, path: &FieldPath) -> Result<SecretValue, Error> {
    let v;
    let text = match path.json_path() {
        Some(_) => {
            v = parse(doc.expose(), path)?;
            lookup(&v, path)?
        }
        None => doc
            .expose_str()
            .ok_or_else(|| path.err("document is not UTF-8"))?,
    };
    if !path.is_url_password() {
        return Ok(SecretValue::from(text));
    }
    let span = password_span(text).ok_or_else(|| path.err("not a URL with a password"))?;
    let decoded = Zeroizing::new(
        percent_decode(&text[span])
            .ok_or_else(|| path.err("percent-encoding that is not UTF-8"))?,
    );
    Ok(SecretValue::from(decoded.as_str()))
}

/// The text to put at the JSON path (or to use as the whole document): `new`,
/// or for a URL password the URL with its password replaced.
fn replacement(doc: &SecretValue, path: &FieldPath, new: &str) -> Result<Zeroizing<String>, Error> {
    if !path.is_url_password() {
        return Ok(Zeroizing::new(new.to_string()));
    }
    let v;
    let url = match path.json_path() {
        Some(_) => {
            v = parse(doc.expose(), path)?;
            lookup(&v, path)?
        }
        None => doc
            .expose_str()
            .ok_or_else(|| path.err("document is not UTF-8"))?,
    };
    let span = password_span(url).ok_or_else(|| path.err("not a URL with a password"))?;
    let encoded = Zeroizing::new(percent_encode(new));
    let mut out = Zeroizing::new(String::with_capacity(url.len() + encoded.len()));
    out.push_str(&url[..span.start]);
    out.push_str(&encoded);
    out.push_str(&url[span.end..]);
    Ok(out)
}

/// Returns `doc` with the string at `path` replaced by `new`, keeping the
/// rest of the document byte-for-byte where possible (see the module docs).
/// The field must exist and hold a string.
///
/// # Example
///
/// ```
/// use keysweep_rotate::{replace_field, FieldPath, SecretValue};
///
/// let doc = SecretValue::from("{ \"user\" : \"app\",\n  \"password\": \"old\", \"port\": 5.0 }");
/// let out = replace_field(&doc, &FieldPath::new("password")?, &SecretValue::from("n\"ew"))?;
/// assert_eq!(out.expose(), b"{ \"user\" : \"app\",\n  \"password\": \"n\\\"ew\", \"port\": 5.0 }");
/// # Ok::<(), keysweep_rotate::Error>(())
/// ```
pub fn replace_field(
    doc: &SecretValue,
    path: &FieldPath,
    new: &SecretValue,
) -> Result<SecretValue, Error> {
    let new_str = new
        .expose_str()
        .ok_or_else(|| path.err("new value is not UTF-8"))?;
    let new_text = replacement(doc, path, new_str)?;
    if path.json_path().is_none() {
        return Ok(SecretValue::from(new_text.as_str()));
    }
    let new_str = new_text.as_str();
    let bytes = doc.expose();
    let original = parse(bytes, path)?;
    lookup(&original, path)?;
    let literal = Zeroizing::new(serde_json::to_string(new_str).expect("strings serialise"));

    // The expected result, semantically.
    let mut expected = original;
    set(&mut expected, path, new_str);

    if let Some((start, end)) = Spans::new(bytes).find(path) {
        let mut out = Zeroizing::new(Vec::with_capacity(bytes.len() + literal.len()));
        out.extend_from_slice(&bytes[..start]);
        out.extend_from_slice(literal.as_bytes());
        out.extend_from_slice(&bytes[end..]);
        if serde_json::from_slice::<Value>(&out).ok().as_ref() == Some(&expected) {
            return Ok(SecretValue::new(out.to_vec()));
        }
    }
    tracing::debug!(field = %path, "byte-preserving splice failed; rewriting the document");
    let out = serde_json::to_vec(&expected).expect("values serialise");
    Ok(SecretValue::new(out))
}

fn set(v: &mut Value, path: &FieldPath, new: &str) {
    let mut cur = v;
    for seg in path.segments() {
        cur = cur
            .as_object_mut()
            .and_then(|o| o.get_mut(seg))
            .expect("path checked by lookup");
    }
    *cur = Value::String(new.to_string());
}

/// A minimal scanner over a document already known to be valid JSON, which
/// finds the byte span of the value at a path (the last duplicate key wins,
/// as in serde_json).
struct Spans<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Spans<'a> {
    fn new(b: &'a [u8]) -> Spans<'a> {
        Spans { b, i: 0 }
    }

    fn find(&mut self, path: &FieldPath) -> Option<(usize, usize)> {
        let segs: Vec<&str> = path.segments().collect();
        self.ws();
        let mut span = None;
        for seg in segs {
            span = self.member(seg)?;
            self.i = span?.0;
        }
        span
    }

    /// At an object: the span of the value of the last member named `key`.
    fn member(&mut self, key: &str) -> Option<Option<(usize, usize)>> {
        if self.peek()? != b'{' {
            return None;
        }
        self.i += 1;
        let mut found = None;
        loop {
            self.ws();
            match self.peek()? {
                b'}' => return Some(found),
                b',' => {
                    self.i += 1;
                    continue;
                }
                _ => {}
            }
            let (ks, ke) = self.string()?;
            let k: String = serde_json::from_slice(&self.b[ks..ke]).ok()?;
            self.ws();
            if self.peek()? != b':' {
                return None;
            }
            self.i += 1;
            self.ws();
            let span = self.value()?;
            if k == key {
                found = Some(span);
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn string(&mut self) -> Option<(usize, usize)> {
        let start = self.i;
        if self.peek()? != b'"' {
            return None;
        }
        self.i += 1;
        loop {
            match self.peek()? {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Some((start, self.i));
                }
                _ => self.i += 1,
            }
        }
    }

    fn value(&mut self) -> Option<(usize, usize)> {
        let start = self.i;
        match self.peek()? {
            b'"' => self.string(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some((start, self.i));
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.i += 1;
                }
                Some((start, self.i))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(doc: &str, path: &str, new: &str) -> String {
        let out = replace_field(
            &SecretValue::from(doc),
            &FieldPath::new(path).unwrap(),
            &SecretValue::from(new),
        )
        .unwrap();
        String::from_utf8(out.expose().to_vec()).unwrap()
    }

    #[test]
    fn splice_keeps_everything_else() {
        let doc = "{\n  \"a\": [1, {\"password\": \"x\"}],\n  \"password\" :\"old\\u0041\",\n  \"n\": 1.50e3\n}\n";
        assert_eq!(
            rep(doc, "password", "NEW"),
            "{\n  \"a\": [1, {\"password\": \"x\"}],\n  \"password\" :\"NEW\",\n  \"n\": 1.50e3\n}\n"
        );
    }

    #[test]
    fn nested_and_duplicates() {
        let doc = r#"{"db":{"password":"a","user":"u"},"db":{"password":"b","x":"}"}}"#;
        assert_eq!(
            rep(doc, "db.password", "c"),
            r#"{"db":{"password":"a","user":"u"},"db":{"password":"c","x":"}"}}"#
        );
        assert_eq!(rep(r#"{"k":"v"}"#, "k", "é\n"), "{\"k\":\"é\\n\"}");
    }

    #[test]
    fn errors_do_not_quote_content() {
        let p = FieldPath::new("password").unwrap();
        let bad = SecretValue::from("{\"password\": SENTINEL}");
        let e = extract_field(&bad, &p).unwrap_err().to_string();
        assert!(!e.contains("SENTINEL"), "{e}");
        let num = SecretValue::from("{\"password\": 12345678}");
        let e = extract_field(&num, &p).unwrap_err().to_string();
        assert!(e.contains("not a string") && !e.contains("12345678"), "{e}");
        let e = extract_field(&SecretValue::from("{}"), &p).unwrap_err();
        assert!(e.to_string().contains("not found"));
        assert!(FieldPath::new("a..b").is_err());
        assert!(FieldPath::new("#").is_err());
        assert!(FieldPath::new("dsn#user").is_err());
        assert!(FieldPath::new("a.#password").is_err());
        let pj: FieldPath = serde_json::from_str("\"aws_secret_access_key\"").unwrap();
        assert_eq!(pj.as_str(), "aws_secret_access_key");
    }

    #[test]
    fn url_passwords() {
        let whole = FieldPath::new("#password").unwrap();
        assert_eq!(whole.json_path(), None);
        let url = "postgres://app:old%40pw@db:5432/prod?sslmode=require";
        let got = extract_field(&SecretValue::from(url), &whole).unwrap();
        assert_eq!(got.expose(), b"old@pw");
        assert_eq!(
            rep(url, "#password", "n/w"),
            "postgres://app:n%2Fw@db:5432/prod?sslmode=require"
        );
        let doc = r#"{"dsn": "postgres://app:old@db/prod", "pool": 5}"#;
        let inner = FieldPath::new("dsn#password").unwrap();
        assert_eq!(inner.json_path(), Some("dsn"));
        assert_eq!(
            extract_field(&SecretValue::from(doc), &inner)
                .unwrap()
                .expose(),
            b"old"
        );
        assert_eq!(
            rep(doc, "dsn#password", "new1"),
            r#"{"dsn": "postgres://app:new1@db/prod", "pool": 5}"#
        );
        let e = extract_field(&SecretValue::from("postgres://db/prod"), &whole).unwrap_err();
        assert!(e.to_string().contains("not a URL with a password"), "{e}");
    }
}
