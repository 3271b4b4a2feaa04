//! The `DTS_REPORT_DOTENV` report: `KEY=VALUE` lines for GitLab's `artifacts:reports:dotenv`,
//! which later jobs receive as variables. GitLab refuses the whole file over one bad line (a
//! space or a line break, even quoted) and over 5 KB, so only machine values are written, from
//! a safe character set and cut short; free text (messages) stays out.

use super::render::{RunSummary, outputs};
use crate::outcome::exit_code;

/// The outputs that become variables, in this order; `error-message` and `jobs` are free text.
const KEYS: [(&str, &str); 12] = [
    ("passed", "DTS_GATE_PASSED"),
    ("result", "DTS_GATE_RESULT"),
    ("status", "DTS_GATE_STATUS"),
    ("check-flag", "DTS_GATE_CHECK_FLAG"),
    ("progress", "DTS_GATE_PROGRESS"),
    ("error-code", "DTS_GATE_ERROR_CODE"),
    ("request-id", "DTS_GATE_REQUEST_ID"),
    ("polls", "DTS_GATE_POLLS"),
    ("elapsed-seconds", "DTS_GATE_ELAPSED_SECONDS"),
    ("failed-steps", "DTS_GATE_FAILED_STEPS"),
    ("warning-steps", "DTS_GATE_WARNING_STEPS"),
    ("migration-started", "DTS_GATE_MIGRATION_STARTED"),
];

/// 13 lines of at most this many value characters stay well under GitLab's 5 KB.
pub const MAX_VALUE_CHARS: usize = 300;

/// The dotenv text of a run.
pub fn render(run: &RunSummary) -> String {
    let outputs = outputs(run);
    let mut text = String::new();
    for (output, key) in KEYS {
        let value = outputs
            .iter()
            .find(|(name, _)| *name == output)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        text.push_str(&format!("{key}={}\n", safe_value(value)));
    }
    text.push_str(&format!("DTS_GATE_EXIT_CODE={}\n", exit_code(run.outcome)));
    text
}

/// Keeps `[A-Za-z0-9._,:/-]`, replaces anything else with `_`, and cuts at [`MAX_VALUE_CHARS`].
pub fn safe_value(value: &str) -> String {
    value
        .chars()
        .take(MAX_VALUE_CHARS)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ',' | ':' | '/' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_characters_become_underscores() {
        assert_eq!(
            safe_value("a b\n\"c'$(d)`e`;\\f=g#h\u{1b}[31m漢"),
            "a_b__c___d__e___f_g_h__31m_"
        );
        assert_eq!(
            safe_value("SrcPrivilegeCheck,DstEmptyCheck"),
            "SrcPrivilegeCheck,DstEmptyCheck"
        );
        assert_eq!(
            safe_value("AuthFailure.SignatureFailure"),
            "AuthFailure.SignatureFailure"
        );
        assert_eq!(safe_value(&"x".repeat(1000)).len(), MAX_VALUE_CHARS);
    }
}
