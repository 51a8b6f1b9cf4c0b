//! Keeping credentials out of everything vigil prints or writes.
//!
//! CI publishes the JUnit and the job log, so no token, password or key
//! may reach them, whatever an error message from a library quotes. Two
//! layers: the secrets vigil itself was given (kubeconfig tokens,
//! passwords, keys, exec plugin arguments and environment, the Jira token)
//! are registered and replaced wherever they appear; and text that looks
//! like a credential (URL user info, `Bearer ...`, `password=...`, JWTs,
//! private keys) is masked even when vigil did not know the value.
//!
//! Every `[Monitor:vigil]` message and every error line on stderr goes
//! through [`text`].

use std::sync::{OnceLock, RwLock};

use regex::Regex;

/// What replaces a credential.
pub const MASK: &str = "[redacted]";

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remembers a value that must never be printed. Very short values are
/// ignored: masking every `a` would garble the text and protect nothing.
pub fn register(secret: &str) {
    let s = secret.trim();
    if s.len() < 6 {
        return;
    }
    let mut all = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !all.iter().any(|x| x == s) {
        all.push(s.to_owned());
        // Longest first, so a secret containing another is masked whole.
        all.sort_by_key(|x| std::cmp::Reverse(x.len()));
    }
}

fn patterns() -> &'static [(Regex, &'static str)] {
    static P: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    P.get_or_init(|| {
        [
            // -----BEGIN ... PRIVATE KEY----- blocks, even cut short.
            (
                r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)",
                "[redacted private key]",
            ),
            // scheme://user:password@host
            (
                r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@",
                "${1}[redacted]@",
            ),
            // Authorization values.
            (
                r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}",
                "${1} [redacted]",
            ),
            // JSON web tokens (service account and OIDC tokens).
            (
                r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
                "[redacted]",
            ),
            // --client-secret=..., password: ..., "token": "..."
            (
                r#"(?i)([a-z0-9_-]*(?:secret|token|password|passwd|apikey|api-key|api_key|credential)[a-z0-9_-]*)("?\s*[:=]\s*"?)[^\s"',;&]+"#,
                "${1}${2}[redacted]",
            ),
        ]
        .into_iter()
        .map(|(re, with)| (Regex::new(re).expect("redaction pattern compiles"), with))
        .collect()
    })
}

/// `s` with every registered secret masked: exact values only, so it can
/// run over any text (a JSON report, a file vigil writes) without touching
/// anything else. Every line vigil prints goes through it (`crate::term`).
pub fn known(s: &str) -> std::borrow::Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|x| s.contains(x.as_str())) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = s.to_owned();
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `s` with every registered secret and everything that looks like a
/// credential masked: for messages (errors, notes, meta tests).
pub fn text(s: &str) -> String {
    let mut out = known(s).into_owned();
    for (re, with) in patterns() {
        if re.is_match(&out) {
            out = re.replace_all(&out, *with).into_owned();
        }
    }
    out
}

/// A URL with its user info (`user:password@`) removed, for messages.
pub fn url(u: &str) -> String {
    text(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_masked_anywhere() {
        register("s3cr3t-t0ken-value");
        assert_eq!(
            text("failed: header s3cr3t-t0ken-value rejected"),
            "failed: header [redacted] rejected"
        );
        register("abc"); // too short to mask
        assert_eq!(text("abc"), "abc");
    }

    #[test]
    fn credential_shapes_are_masked_unregistered() {
        assert_eq!(
            text("GET https://admin:hunter2@api.example.com:6443/version"),
            "GET https://[redacted]@api.example.com:6443/version"
        );
        assert_eq!(
            text("Authorization: Bearer abcdef123456"),
            "Authorization: Bearer [redacted]"
        );
        assert_eq!(
            text("exec: oidc-login --oidc-client-secret=Zm9vYmFy --issuer=x"),
            "exec: oidc-login --oidc-client-secret=[redacted] --issuer=x"
        );
        assert_eq!(
            text(r#"{"token": "xyz123456"}"#),
            r#"{"token": "[redacted]"}"#
        );
        assert_eq!(text("password: hunter22"), "password: [redacted]");
        assert_eq!(
            text("tok eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig-nature here"),
            "tok [redacted] here"
        );
        assert_eq!(
            text(
                "key: -----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- done"
            ),
            "key: [redacted private key] done"
        );
        assert_eq!(
            text("-----BEGIN PRIVATE KEY-----\nMIIE cut"),
            "[redacted private key]"
        );
    }

    #[test]
    fn ordinary_messages_are_left_alone() {
        for s in [
            "the server repeated the continue token \"abc\"",
            "HTTP 503 Service Unavailable: etcd leader changed",
            "https://api.example.com:6443 did not answer within 30s",
            "tokens expire; log in again",
        ] {
            assert_eq!(text(s), s);
        }
    }
}
