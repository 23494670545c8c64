//! Decoding layers end to end: secrets under base64, hex, percent-encoding,
//! escapes and HTML entities are found, reported at the encoded span with
//! their chain of decodings, and fingerprinted like the plain secret.

use base64::Engine as _;
use keysweep_core::{Encoding, Scanner};

const AWS: &str = "AKIAQYLPMN5HHHFPZAM2";
const GH: &str = "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";
const HOOK: &str =
    "https://hooks.slack.com/services/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";

fn scanner() -> Scanner {
    Scanner::with_default_rules().unwrap()
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// (rule kind, secret, decodings, line) of each finding.
fn scan(text: &str) -> Vec<(String, String, Vec<Encoding>, usize)> {
    let s = scanner();
    s.scan_slice(&mut s.scratch(), text.as_bytes(), None)
        .into_iter()
        .map(|f| {
            (
                f.rule.kind.clone(),
                String::from_utf8(f.secret.expose().to_vec()).unwrap(),
                f.decoded.clone(),
                f.line,
            )
        })
        .collect()
}

fn secrets(text: &str) -> Vec<(String, Vec<Encoding>)> {
    scan(text).into_iter().map(|(_, s, d, _)| (s, d)).collect()
}

#[test]
fn a_base64_env_line() {
    let text = format!(
        "# config\nENV_B64={}\n",
        b64(&format!("AWS_ACCESS_KEY_ID={AWS}"))
    );
    let found = scan(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, AWS);
    assert_eq!(found[0].2, [Encoding::Base64]);
    assert_eq!(found[0].3, 2, "reported on the line of the encoded span");
}

#[test]
fn a_kubernetes_secret() {
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  token: {}\n",
        b64(&format!("GITHUB_TOKEN={GH}"))
    );
    assert_eq!(secrets(&text), [(GH.to_string(), vec![Encoding::Base64])]);
}

#[test]
fn percent_encoded_urls_and_tokens() {
    let q = HOOK.replace(':', "%3A").replace('/', "%2F");
    let text = format!("curl 'https://relay.example.com/forward?to={q}&x=1'\n");
    assert_eq!(
        secrets(&text),
        [(HOOK.to_string(), vec![Encoding::Percent])]
    );
    let text = format!("GITHUB_TOKEN={}\n", GH.replace('_', "%5F"));
    assert_eq!(secrets(&text), [(GH.to_string(), vec![Encoding::Percent])]);
}

#[test]
fn escapes_entities_and_hex() {
    let text = format!("{{\"token\": \"{}\"}}\n", GH.replace('_', "\\u005f"));
    assert_eq!(secrets(&text), [(GH.to_string(), vec![Encoding::Escape])]);
    let text = format!("<code>{}</code>\n", GH.replace('_', "&#95;"));
    assert_eq!(secrets(&text), [(GH.to_string(), vec![Encoding::Html])]);
    let hex: String = format!("aws_access_key_id={AWS}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        secrets(&format!("blob = {hex}\n")),
        [(AWS.to_string(), vec![Encoding::Hex])]
    );
}

#[test]
fn nested_decodings_up_to_the_depth() {
    let inner = format!("GITHUB_TOKEN={}", GH.replace('_', "%5F"));
    let text = format!("v: {}\n", b64(&inner));
    assert_eq!(
        secrets(&text),
        [(GH.to_string(), vec![Encoding::Base64, Encoding::Percent])]
    );
    let s = scanner().with_decode_depth(1);
    assert!(s
        .scan_slice(&mut s.scratch(), text.as_bytes(), None)
        .is_empty());
    let s = scanner().with_decode_depth(0);
    let plain = format!("v: {}\n", b64(&format!("GITHUB_TOKEN={GH}")));
    assert!(s
        .scan_slice(&mut s.scratch(), plain.as_bytes(), None)
        .is_empty());
}

#[test]
fn decoded_findings_keep_the_fingerprint_and_hide_the_encoding() {
    let s = scanner();
    let plain = &s.scan_slice(
        &mut s.scratch(),
        format!("GITHUB_TOKEN={GH}\n").as_bytes(),
        None,
    )[0];
    let encoded = format!("x: {}\n", b64(&format!("GITHUB_TOKEN={GH}")));
    let f = &s.scan_slice(&mut s.scratch(), encoded.as_bytes(), None)[0];
    assert_eq!(f.fingerprint, plain.fingerprint);
    assert_eq!(&encoded[f.span.clone()], b64(&format!("GITHUB_TOKEN={GH}")));
    // The snippet redacts the encoded span, which holds the secret.
    assert!(
        !f.snippet.contains(&b64(&format!("GITHUB_TOKEN={GH}"))[8..]),
        "{}",
        f.snippet
    );
    assert!(!format!("{f:?}").contains("Q7x2Lm9P"));
}

#[test]
fn a_plain_secret_is_not_reported_twice() {
    // The token is plain inside a percent-encoded URL: one finding, plain.
    let text = format!("https://api.example.com/?next=%2Fhome&token={GH}\n");
    assert_eq!(secrets(&text), [(GH.to_string(), vec![])]);
}

#[test]
fn a_huge_base64_span_is_bounded() {
    // 2 MiB of base64 text: over MAX_ENCODED, not decoded, no crash.
    let big = b64(&"A".repeat(3 << 19));
    let text = format!("x = {big}\n");
    let s = scanner();
    assert!(s
        .scan_slice(&mut s.scratch(), text.as_bytes(), None)
        .is_empty());
}
