//! The gate's own secrets, removed from everything the service sends back. A service that
//! quotes the request in an error message (`AuthFailure` answers have quoted the signature
//! and the session token) must not make the gate print them in its log, outputs, summary or
//! reports: every string of an answer is scrubbed before anything else reads it.

use serde_json::Value;

use super::Credentials;

/// What stands in for a secret.
pub const REDACTED: &str = "***";
/// Secrets shorter than this are not scrubbed: replacing every "ab" in a message would
/// destroy it, and no real key or token is that short.
const MIN_SECRET_LEN: usize = 8;
const SIGNATURE_MARK: &str = "Signature=";
const SIGNATURE_LEN: usize = 64;

/// The secret strings of one client.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets(Vec<String>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} scrubbed)", self.0.len())
    }
}

impl Secrets {
    /// The key and token of `credentials` (the SecretId is an identifier, shown on purpose).
    pub fn of(credentials: &Credentials) -> Secrets {
        let mut secrets = Secrets::default();
        secrets.add(&credentials.secret_key);
        if let Some(token) = &credentials.token {
            secrets.add(token);
        }
        secrets
    }

    /// Adds one more secret (an identity token, a temporary key).
    pub fn add(&mut self, secret: &str) {
        if secret.len() >= MIN_SECRET_LEN && !self.0.iter().any(|s| s == secret) {
            self.0.push(secret.to_string());
            // Longest first, so a secret that contains another is replaced whole.
            self.0.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// `text` with every secret, and the signature of any TC3 `Authorization` value, replaced.
    pub fn scrub(&self, text: &str) -> String {
        let mut clean = without_signatures(text);
        for secret in &self.0 {
            if clean.contains(secret.as_str()) {
                clean = clean.replace(secret.as_str(), REDACTED);
            }
        }
        clean
    }

    /// Scrubs every string (keys too) of a decoded JSON answer, in place.
    pub fn scrub_value(&self, value: &mut Value) {
        match value {
            Value::String(text) => *text = self.scrub(text),
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_value(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut v) in entries {
                    self.scrub_value(&mut v);
                    map.insert(self.scrub(&key), v);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// Replaces the hex signature after each `Signature=`: it is a secret-derived value that
/// proves nothing to a reader, and with the request it could be replayed for five minutes.
fn without_signatures(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(SIGNATURE_MARK) {
        let (before, after) = rest.split_at(at + SIGNATURE_MARK.len());
        out.push_str(before);
        let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex >= SIGNATURE_LEN {
            out.push_str(REDACTED);
            rest = &after[hex..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Secrets {
        Secrets::of(&Credentials {
            secret_id: "AKIDexample0001".into(),
            secret_key: "super-secret-key-0042".into(),
            token: Some("session-token-abcdef".into()),
        })
    }

    #[test]
    fn keys_tokens_and_signatures_are_replaced() {
        let signature = "a".repeat(64);
        let echoed = format!(
            "request was: Authorization: TC3-HMAC-SHA256 Credential=AKIDexample0001/2026-12-01/dts/tc3_request, SignedHeaders=content-type;host, Signature={signature}; X-TC-Token: session-token-abcdef; key super-secret-key-0042"
        );
        let clean = secrets().scrub(&echoed);
        assert!(!clean.contains(&signature), "{clean}");
        assert!(!clean.contains("session-token-abcdef"), "{clean}");
        assert!(!clean.contains("super-secret-key-0042"), "{clean}");
        assert!(clean.contains("Signature=***;"), "{clean}");
        assert!(clean.contains("X-TC-Token: ***;"), "{clean}");
        // The SecretId names the key; it stays, as the dry run shows it too.
        assert!(clean.contains("AKIDexample0001"), "{clean}");
    }

    #[test]
    fn every_string_of_an_answer_is_scrubbed() {
        let mut answer = serde_json::json!({"Response": {
            "Error": {"Code": "AuthFailure", "Message": "bad token session-token-abcdef"},
            "StepInfo": [{"Detail": ["super-secret-key-0042"]}],
            "session-token-abcdef": 1,
        }});
        secrets().scrub_value(&mut answer);
        let text = answer.to_string();
        assert!(!text.contains("session-token-abcdef"), "{text}");
        assert!(!text.contains("super-secret-key-0042"), "{text}");
        assert_eq!(answer["Response"]["Error"]["Message"], "bad token ***");
    }

    #[test]
    fn short_values_and_ordinary_text_are_left_alone() {
        let mut s = Secrets::default();
        s.add("abc");
        assert_eq!(s.scrub("abc Signature=12ab"), "abc Signature=12ab");
    }
}
