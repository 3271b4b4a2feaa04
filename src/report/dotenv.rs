//! The `DTS_REPORT_DOTENV` report: `KEY=VALUE` lines for GitLab's `artifacts:reports:dotenv`,
//! which later jobs receive as variables. GitLab refuses the whole file over one bad line (a
//! space or a line break, even quoted) and over 5 KB, so only machine values are written, from
//! a safe character set and cut short; free text (messages) stays out.

use super::facts::RunFacts;

/// How a variable's value is read from the facts.
type Fact = fn(&RunFacts) -> String;

/// The variables, in this order, and the fact each one carries: the step outputs' values but
/// for the free text (`error-message`, `jobs`), the exit code, and whether it was the demo.
const KEYS: [(&str, Fact); 14] = [
    ("DTS_GATE_PASSED", |f| f.scalars.passed.to_string()),
    ("DTS_GATE_RESULT", |f| f.scalars.result.to_string()),
    ("DTS_GATE_STATUS", |f| f.scalars.status.clone()),
    ("DTS_GATE_CHECK_FLAG", |f| f.scalars.check_flag.clone()),
    ("DTS_GATE_PROGRESS", |f| f.scalars.progress.clone()),
    ("DTS_GATE_ERROR_CODE", |f| f.scalars.error_code.clone()),
    ("DTS_GATE_REQUEST_ID", |f| f.scalars.request_id.clone()),
    ("DTS_GATE_POLLS", |f| f.scalars.polls.to_string()),
    ("DTS_GATE_ELAPSED_SECONDS", |f| {
        f.scalars.elapsed_seconds.to_string()
    }),
    ("DTS_GATE_FAILED_STEPS", |f| f.scalars.failed_steps.clone()),
    ("DTS_GATE_WARNING_STEPS", |f| {
        f.scalars.warning_steps.clone()
    }),
    ("DTS_GATE_MIGRATION_STARTED", |f| {
        f.scalars.migration_started.to_string()
    }),
    ("DTS_GATE_DEMO", |f| f.demo.to_string()),
    ("DTS_GATE_EXIT_CODE", |f| f.exit_code.to_string()),
];

/// 14 lines of at most this many value characters stay well under GitLab's 5 KB.
pub const MAX_VALUE_CHARS: usize = 300;

/// The dotenv text of a run.
pub fn render(facts: &RunFacts) -> String {
    KEYS.iter()
        .map(|(key, fact)| format!("{key}={}\n", safe_value(&fact(facts))))
        .collect()
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
