//! The one redaction layer (DESIGN §6.7). Every text that leaves the engine — errors, log lines,
//! run records and their per-user results, CLI output, C and Java error messages — passes
//! through `text`, which replaces
//! - every secret value the process has loaded from a configuration (registered by
//!   `config::Secret`), and
//! - every credential shape seen in transit: `Bearer`/`SSWS` tokens, `Basic` ones in an
//!   `Authorization` header, JWTs, PEM private
//!   key blocks, and the values of `client_secret`, `client_assertion`, `assertion`,
//!   `api_token`, `access_token`, `refresh_token`, `id_token`, `password` and `private_key`
//!   in forms, query strings and JSON,
//!
//! with `[REDACTED]`, and cuts the text to `MAX_TEXT_CHARS` (`USERSYNC_MAX_TEXT_CHARS`). Provider error messages are cut
//! shorter still where they are read (`PROVIDER_TEXT_CHARS`).

use std::borrow::Cow;
use std::sync::{OnceLock, RwLock};

use regex::{Regex, RegexSet};

pub const REDACTED: &str = "[REDACTED]";

/// The longest text the engine lets out in one piece (an error, a note, a log line), unless the
/// environment variable `USERSYNC_MAX_TEXT_CHARS` says otherwise (read once per process).
pub(crate) const MAX_TEXT_CHARS: usize = 4000;

fn max_text_chars() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| {
        std::env::var("USERSYNC_MAX_TEXT_CHARS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|n| *n >= 200)
            .unwrap_or(MAX_TEXT_CHARS)
    })
}

/// The longest part of a provider's answer (its error message) quoted in an error.
pub(crate) const PROVIDER_TEXT_CHARS: usize = 300;

/// Shorter values are not registered: redacting every "abc" would garble ordinary text, and a
/// secret that short is no secret.
const MIN_SECRET_CHARS: usize = 6;

/// At most this many distinct secrets are remembered (a process that loads configurations in a
/// loop must not grow without bound); beyond it the oldest are forgotten, the shapes still apply.
const MAX_SECRETS: usize = 1024;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remembers a secret value so that it is replaced wherever it shows up later.
/// Equal in time independent of where they differ: a secret (a token) is not guessed a byte at
/// a time by timing the comparison.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn register(secret: &str) {
    if secret.chars().count() < MIN_SECRET_CHARS {
        return;
    }
    let mut list = SECRETS.write().unwrap_or_else(|p| p.into_inner());
    if list.iter().any(|s| s == secret) {
        return;
    }
    if list.len() >= MAX_SECRETS {
        list.remove(0);
    }
    list.push(secret.to_string());
    // Longest first, so a secret that contains another is replaced whole.
    list.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

struct Shapes {
    any: RegexSet,
    each: Vec<(Regex, &'static str)>,
}

fn shapes() -> &'static Shapes {
    static SHAPES: OnceLock<Shapes> = OnceLock::new();
    SHAPES.get_or_init(|| {
        let rules: [(&str, &'static str); 5] = [
            // A PEM private key, to its end line or, cut off, to the end of the text.
            // (Base64 lines, raw or JSON-escaped: the match never runs past a JSON string.)
            (
                r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[A-Za-z0-9+/=\s]|\\[nr])*(?:-----END [A-Z ]*PRIVATE KEY-----)?",
                REDACTED,
            ),
            // A JSON Web Token (a client assertion, an access token).
            (r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*", REDACTED),
            // An Authorization header's credentials.
            (r"(?i)\b(bearer|ssws)(\s+|%20|\+)[A-Za-z0-9._~+/=-]{6,}", "${1}${2}[REDACTED]"),
            // Basic credentials where they are an Authorization header: "basic" alone is a word.
            (r#"(?i)(authorization\\?["']?\s*[:=]\s*\\?["']?basic\s+)[A-Za-z0-9+/=._~-]{4,}"#, "${1}[REDACTED]"),
            // A named credential in a form, query, header or JSON (quotes possibly escaped).
            (
                r#"(?i)(client_secret|client_assertion|assertion|api_token|apitoken|access_token|refresh_token|id_token|password|private_key)(=|\\?["']\s*:\s*\\?["'])([^"'&\s,;}\\]+)"#,
                "${1}${2}[REDACTED]",
            ),
        ];
        let any = RegexSet::new(rules.iter().map(|(p, _)| *p)).expect("redaction patterns compile");
        let each = rules.iter().map(|(p, r)| (Regex::new(p).expect("redaction pattern compiles"), *r)).collect();
        Shapes { any, each }
    })
}

/// `text` with every secret and credential shape replaced, cut to `MAX_TEXT_CHARS`.
pub fn text(text: &str) -> String {
    clean(text).into_owned()
}

/// Like `text`, borrowing when nothing needed replacing (the common case).
pub fn clean(text: &str) -> Cow<'_, str> {
    let out = document(text);
    match cut(&out, max_text_chars()) {
        Some(short) => Cow::Owned(short),
        None => out,
    }
}

/// Secrets and credential shapes replaced, without a length cap: for whole documents (a JSON
/// answer, a run's details) that must stay well-formed. Replacements never break JSON.
pub fn document(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    {
        let secrets = SECRETS.read().unwrap_or_else(|p| p.into_inner());
        for s in secrets.iter() {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), REDACTED));
            }
        }
    }
    let shapes = shapes();
    if shapes.any.is_match(&out) {
        let mut owned = out.into_owned();
        for (re, with) in &shapes.each {
            if let Cow::Owned(s) = re.replace_all(&owned, *with) {
                owned = s;
            }
        }
        out = Cow::Owned(owned);
    }
    out
}

/// `text` cut to `max` characters with a note of what was left out; `None` if it fits.
pub fn cut(text: &str, max: usize) -> Option<String> {
    let (end, _) = text.char_indices().nth(max)?;
    Some(format!("{}… ({} more bytes cut)", &text[..end], text.len() - end))
}

/// `text` cut to `max` characters, as a new string.
pub fn shorten(text: &str, max: usize) -> String {
    cut(text, max).unwrap_or_else(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_replaced_wherever_they_appear() {
        register("Zq9-unit-test-secret");
        register("abc"); // too short to register
        assert_eq!(
            text("the key Zq9-unit-test-secret, twice: Zq9-unit-test-secret"),
            "the key [REDACTED], twice: [REDACTED]"
        );
        assert_eq!(text("abc"), "abc");
    }

    #[test]
    fn credential_shapes_are_replaced() {
        let cases = [
            ("Authorization: Bearer abcdef.ghijkl-123", "Authorization: Bearer [REDACTED]"),
            ("SSWS 00abcDEF_ghi-JKL", "SSWS [REDACTED]"),
            (
                "grant_type=client_credentials&client_secret=s%7Eecret123&scope=x",
                "grant_type=client_credentials&client_secret=[REDACTED]&scope=x",
            ),
            (r#"{"client_secret": "hunter22", "x": 1}"#, r#"{"client_secret": "[REDACTED]", "x": 1}"#),
            (r#"{\"api_token\":\"tok-123456\"}"#, r#"{\"api_token\":\"[REDACTED]\"}"#),
            ("client_assertion=eyJhbGciOi.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", "client_assertion=[REDACTED]"),
            ("token eyJhbGciOi.eyJzdWIiOiJ4In0.c2ln here", "token [REDACTED] here"),
            ("key: -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- end", "key: [REDACTED] end"),
            ("cut: -----BEGIN RSA PRIVATE KEY-----\nMIIEow", "cut: [REDACTED]"),
        ];
        for (input, expected) in cases {
            assert_eq!(text(input), expected, "{input}");
        }
        assert!(matches!(clean("nothing to hide here: GET /v1.0/users 403"), Cow::Borrowed(_)));
        assert_eq!(text("Authorization: Basic dXNlcjpwYXNz"), "Authorization: Basic [REDACTED]");
        assert_eq!(text("department: Basic Research"), "department: Basic Research", "a word, not a credential");
        // A configuration error that names a key is not a credential.
        assert_eq!(text("source.api_token: missing; expected a token"), "source.api_token: missing; expected a token");
        let json = r#"{"detail":"-----BEGIN PRIVATE KEY-----\nMIIE+/x=\n-----END PRIVATE KEY-----\n","client_secret":"x1y2z3","n":1}"#;
        let out = document(json);
        let v: serde_json::Value = serde_json::from_str(&out).expect("still JSON");
        assert_eq!(v["detail"], "[REDACTED]\n");
        assert_eq!(v["client_secret"], "[REDACTED]");
    }

    #[test]
    fn long_texts_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_TEXT_CHARS + 10);
        let out = text(&long);
        assert!(out.starts_with(&"é".repeat(MAX_TEXT_CHARS)));
        assert!(out.ends_with("(20 more bytes cut)"), "{}", &out[out.len() - 40..]);
        assert_eq!(shorten("short", 10), "short");
    }
}
