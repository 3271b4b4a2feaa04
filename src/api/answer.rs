//! The answer model: a decoded check answer of either API version, its steps and items, and
//! what they mean. Renderers ask these types (`is_failed`, `is_warning`, ...) instead of
//! comparing the service's strings themselves.

use std::fmt;

use super::ApiVersion;

/// `CheckFlag`: an integer in 2018-03-30 (`1` passed, `0` not passed, `3` not checked), a
/// name in 2021-12-06 (`checkPass`, `checkNotPass`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckFlag {
    Code(i64),
    Name(String),
}

impl fmt::Display for CheckFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckFlag::Code(c) => write!(f, "{c}"),
            CheckFlag::Name(n) => f.write_str(n),
        }
    }
}

/// A decoded check answer of either API version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckAnswer {
    pub api: ApiVersion,
    /// The service's `Status`, possibly a value this tool does not know.
    pub status: String,
    /// `None` until the check finished (and in malformed-but-tolerated running answers).
    pub check_flag: Option<CheckFlag>,
    /// Percent as text: 2018's `Progress` as sent; 2021's steps finished out of all steps.
    pub progress: Option<String>,
    /// 2018's `ErrorCode`.
    pub error_code: Option<i64>,
    /// 2018's `ErrorMessage`, 2021's `BriefMsg`.
    pub error_message: String,
    pub request_id: String,
    /// `Response.DeprecatedWarning`, shown to the user as a warning.
    pub deprecated_warning: Option<String>,
    /// 2021's `StepInfo`, in the service's order; empty for 2018.
    pub steps: Vec<CheckStep>,
}

/// One step of a 2021-12-06 check (`CheckStep`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckStep {
    pub step_no: Option<u64>,
    pub step_id: String,
    pub step_name: String,
    /// `pass`, `failed`, `notStarted`, `blocked`, `warning`.
    pub status: String,
    pub message: String,
    pub items: Vec<CheckItem>,
    /// The user chose to skip this step's failures (`SkipCheckItem`).
    pub has_skipped: bool,
}

impl CheckStep {
    /// A step that is done, whatever its result.
    pub fn is_finished(&self) -> bool {
        !matches!(self.status.as_str(), "notStarted" | "running" | "")
    }

    /// A failure that still counts: failed and not skipped by the user.
    pub fn is_failed(&self) -> bool {
        self.status == "failed" && !self.has_skipped
    }

    /// A warning, or a failure the user chose to skip.
    pub fn is_warning(&self) -> bool {
        self.status == "warning" || (self.status == "failed" && self.has_skipped)
    }

    /// `StepName (StepId)`, or whichever of the two exists.
    pub fn label(&self) -> String {
        match (self.step_name.is_empty(), self.step_id.is_empty()) {
            (false, false) if self.step_name != self.step_id => {
                format!("{} ({})", self.step_name, self.step_id)
            }
            (false, _) => self.step_name.clone(),
            (true, false) => self.step_id.clone(),
            (true, true) => format!("step {}", self.step_no.unwrap_or_default()),
        }
    }
}

/// One check item inside a step (`DetailCheckItem`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckItem {
    pub name: String,
    pub description: String,
    /// `pass`, `failed`, `warning`.
    pub result: String,
    pub failure_reason: String,
    pub solution: String,
    pub error_log: Vec<String>,
    pub help_doc: Vec<String>,
    pub skip_info: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_labels() {
        let step = |name: &str, id: &str| CheckStep {
            step_name: name.into(),
            step_id: id.into(),
            ..CheckStep::default()
        };
        assert_eq!(
            step("Version check", "VersionCheck").label(),
            "Version check (VersionCheck)"
        );
        assert_eq!(step("", "VersionCheck").label(), "VersionCheck");
        assert_eq!(step("x", "x").label(), "x");
        assert_eq!(step("", "").label(), "step 0");
    }
}
