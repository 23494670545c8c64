//! Named structural validators ("checksums") that a rule can require.
//!
//! A candidate that fails its rule's validator is not reported. Validators are
//! referred to by name from rule files (`checksum = "github-crc32"`).

use base64::Engine as _;

/// A named validator a rule can require of its secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Checksum {
    /// GitHub-style tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, and npm's
    /// `npm_`): a four-character prefix, 30 base62 characters, then the CRC32
    /// (IEEE) of those 30 characters written in base62 (`0-9A-Za-z`),
    /// left-padded with `0` to six characters.
    GithubCrc32,
    /// A JSON Web Token: three dot-separated base64url parts whose first part
    /// decodes to a JSON object naming an `alg`.
    Jwt,
}

impl Checksum {
    /// Every validator name accepted in rule files.
    pub const NAMES: &'static [&'static str] = &["github-crc32", "jwt"];

    /// Looks a validator up by its rule-file name.
    pub fn from_name(name: &str) -> Option<Checksum> {
        match name {
            "github-crc32" => Some(Checksum::GithubCrc32),
            "jwt" => Some(Checksum::Jwt),
            _ => None,
        }
    }

    /// The rule-file name of this validator.
    pub fn name(self) -> &'static str {
        match self {
            Checksum::GithubCrc32 => "github-crc32",
            Checksum::Jwt => "jwt",
        }
    }

    /// Whether `secret` passes this validator.
    pub fn is_valid(self, secret: &[u8]) -> bool {
        match self {
            Checksum::GithubCrc32 => github_crc32_valid(secret),
            Checksum::Jwt => jwt_valid(secret),
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Encodes `n` in base62 (`0-9A-Za-z`), left-padded with `0` to `width`.
pub fn base62_padded(mut n: u64, width: usize) -> String {
    let mut out = Vec::new();
    while n > 0 {
        out.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).expect("base62 is ASCII")
}

/// The six-character checksum GitHub appends to a 30-character token body.
pub fn github_checksum(body: &[u8]) -> String {
    base62_padded(u64::from(crc32fast::hash(body)), 6)
}

fn github_crc32_valid(secret: &[u8]) -> bool {
    // prefix (4) + body (30) + checksum (6)
    if secret.len() != 40 || secret[3] != b'_' {
        return false;
    }
    let body = &secret[4..34];
    let check = &secret[34..];
    if !body.iter().chain(check).all(u8::is_ascii_alphanumeric) {
        return false;
    }
    github_checksum(body).as_bytes() == check
}

fn jwt_valid(secret: &[u8]) -> bool {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(_sig)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    if parts.next().is_some() || payload.is_empty() {
        return false;
    }
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let Ok(decoded) = engine.decode(header.strip_suffix(b"=").unwrap_or(header)) else {
        return false;
    };
    let text = String::from_utf8_lossy(&decoded);
    let trimmed = text.trim();
    trimmed.starts_with('{') && trimmed.ends_with('}') && trimmed.contains("\"alg\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make_github(prefix: &str, body: &str) -> String {
        format!("{prefix}{body}{}", github_checksum(body.as_bytes()))
    }

    #[test]
    fn base62_padding() {
        assert_eq!(base62_padded(0, 6), "000000");
        assert_eq!(base62_padded(61, 2), "0z");
        assert_eq!(base62_padded(62, 1), "10");
        assert_eq!(base62_padded(u64::from(u32::MAX), 6), "4gfFC3");
    }

    #[test]
    fn github_valid_and_invalid() {
        let body = "Q7x2Lm9PzR4kT1vW8nB3cY6dF0gH5j";
        assert_eq!(body.len(), 30);
        let tok = make_github("ghp_", body);
        assert!(Checksum::GithubCrc32.is_valid(tok.as_bytes()), "{tok}");
        let npm = make_github("npm_", body);
        assert!(Checksum::GithubCrc32.is_valid(npm.as_bytes()));
        // Flip one body character: the checksum no longer matches.
        let mut bad = tok.clone().into_bytes();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        assert!(!Checksum::GithubCrc32.is_valid(&bad));
        // Wrong checksum characters.
        let mut bad = tok.into_bytes();
        bad[39] = if bad[39] == b'0' { b'1' } else { b'0' };
        assert!(!Checksum::GithubCrc32.is_valid(&bad));
        // Wrong length and alphabet.
        assert!(!Checksum::GithubCrc32.is_valid(b"ghp_short"));
        let weird = make_github("ghp_", "Q7x2Lm9PzR4kT1vW8nB3cY6dF0gH5-");
        assert!(!Checksum::GithubCrc32.is_valid(weird.as_bytes()));
    }

    #[test]
    fn jwt_shapes() {
        // {"alg":"HS256","typ":"JWT"} . {"sub":"fake"} . signature
        let good =
            b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmYWtlIn0.c2lnbmF0dXJlLWZha2UtZmFrZQ";
        assert!(Checksum::Jwt.is_valid(good));
        assert!(!Checksum::Jwt.is_valid(b"eyJhbGciOiJIUzI1NiJ9"));
        // header that is not JSON with alg
        assert!(!Checksum::Jwt.is_valid(b"eyJmb28iOiJiYXIifQ.eyJzdWIiOiJmYWtlIn0.c2ln"));
        assert!(!Checksum::Jwt.is_valid(b"a.b.c.d"));
    }

    #[test]
    fn names_round_trip() {
        for name in Checksum::NAMES {
            assert_eq!(Checksum::from_name(name).unwrap().name(), *name);
        }
        assert_eq!(Checksum::from_name("luhn-ish"), None);
    }
}
