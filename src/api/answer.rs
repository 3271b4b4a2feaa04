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

impl CheckAnswer {
    /// The 2021 check task itself failed to run: no verdict on the job, but not a pass either.
    /// A sync check says `failed` also when its steps failed; only without a failed step or
    /// item is that the task's own failure.
    pub fn is_task_failure(&self) -> bool {
        match self.api {
            ApiVersion::V2018 => false,
            ApiVersion::V2021 => self.status == "failed",
            ApiVersion::Sync => {
                self.status == "failed"
                    && self.failed_steps().next().is_none()
                    && !self.items().any(|(_, item)| item.is_failed())
            }
        }
    }

    /// 2021-12-06 answers list check steps and their items; 2018-03-30 answers never do.
    pub fn has_step_details(&self) -> bool {
        self.api != ApiVersion::V2018
    }

    /// Whether `check_flag` means anything yet: 2018 answers carry `CheckFlag` 3 while running,
    /// so there it counts only once `finished`. A sync check's flag is its job's status, read
    /// only once the check finished.
    pub fn check_flag_is_final(&self) -> bool {
        self.api != ApiVersion::V2018 || self.status == "finished"
    }

    /// `running` or `notStarted`: the check has not got through its steps yet.
    pub fn is_underway(&self) -> bool {
        matches!(self.status.as_str(), "running" | "notStarted")
    }

    /// `progress` as a whole percent, or `None` when the service gave none or something else.
    pub fn progress_percent(&self) -> Option<u32> {
        self.progress.as_deref()?.trim().parse().ok()
    }

    /// Steps whose failure still counts (see [`CheckStep::is_failed`]).
    pub fn failed_steps(&self) -> impl Iterator<Item = &CheckStep> {
        self.steps.iter().filter(|s| s.is_failed())
    }

    /// Steps that warn, skipped failures included (see [`CheckStep::is_warning`]).
    pub fn warning_steps(&self) -> impl Iterator<Item = &CheckStep> {
        self.steps.iter().filter(|s| s.is_warning())
    }

    /// Failed steps the user chose to skip (`SkipCheckItem`): the check passes over them.
    pub fn skipped_failures(&self) -> impl Iterator<Item = &CheckStep> {
        self.steps.iter().filter(|s| s.is_skipped_failure())
    }

    /// Anything short of a clean pass: a warning step or item, a failure the user skipped, or a
    /// failed step in a check the service still calls passed.
    pub fn has_warnings(&self) -> bool {
        self.warning_steps().next().is_some()
            || self.failed_steps().next().is_some()
            || self.items().any(|(_, item)| item.is_warning())
    }

    /// Every item of every step, with its step, in the service's order.
    pub fn items(&self) -> impl Iterator<Item = (&CheckStep, &CheckItem)> {
        self.steps
            .iter()
            .flat_map(|s| s.items.iter().map(move |i| (s, i)))
    }
}

/// Declares a status enum of the service's strings: the documented values as variants, no
/// value as `Missing`, and anything else kept as sent in `Other`. It compares equal to its
/// text (`status == "failed"`), shows as its text, and is built from text with `.into()`.
macro_rules! service_status {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub enum $name {
            /// No value (absent, null or empty).
            #[default]
            Missing,
            $($(#[$vmeta])* $variant,)*
            /// A value this tool does not know, as sent.
            Other(String),
        }

        impl $name {
            pub fn parse(text: &str) -> $name {
                match text {
                    "" => $name::Missing,
                    $($text => $name::$variant,)*
                    other => $name::Other(other.to_string()),
                }
            }

            /// The service's text.
            pub fn as_str(&self) -> &str {
                match self {
                    $name::Missing => "",
                    $($name::$variant => $text,)*
                    $name::Other(text) => text,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> $name {
                $name::parse(text)
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> $name {
                $name::parse(&text)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

service_status! {
    /// A check step's `StepStatus` (2021-12-06 migrations), or a sync check step's `Status`
    /// (`finished`, `skipped`, `paused` are the sync check's own).
    StepStatus {
        NotStarted => "notStarted",
        Running => "running",
        Pass => "pass",
        Warning => "warning",
        Failed => "failed",
        Blocked => "blocked",
        Finished => "finished",
        Skipped => "skipped",
        Paused => "paused",
    }
}

service_status! {
    /// A check item's `CheckResult` (2021-12-06).
    ItemResult {
        Pass => "pass",
        Warning => "warning",
        Failed => "failed",
    }
}

/// One step of a 2021-12-06 check (`CheckStep`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckStep {
    pub step_no: Option<u64>,
    pub step_id: String,
    pub step_name: String,
    pub status: StepStatus,
    pub message: String,
    pub items: Vec<CheckItem>,
    /// The user chose to skip this step's failures (`SkipCheckItem`).
    pub has_skipped: bool,
}

impl CheckStep {
    /// A step that is done, whatever its result.
    pub fn is_finished(&self) -> bool {
        !matches!(
            self.status,
            StepStatus::NotStarted | StepStatus::Running | StepStatus::Paused | StepStatus::Missing
        )
    }

    /// Passed: `pass`, or a sync check's `finished`.
    pub fn is_passed(&self) -> bool {
        matches!(self.status, StepStatus::Pass | StepStatus::Finished)
    }

    /// A failure that still counts: failed and not skipped by the user. A sync step that says
    /// `finished` yet lists an error failed too, whatever its status says.
    pub fn is_failed(&self) -> bool {
        let finished_with_errors =
            self.status == StepStatus::Finished && self.items.iter().any(CheckItem::is_failed);
        (self.status == StepStatus::Failed || finished_with_errors) && !self.has_skipped
    }

    /// A warning, a failure the user chose to skip, or a sync check step skipped (nothing
    /// checked it) or finished with warnings (a sync step has no `warning` status of its own).
    pub fn is_warning(&self) -> bool {
        matches!(self.status, StepStatus::Warning | StepStatus::Skipped)
            || self.is_skipped_failure()
            || (self.status == StepStatus::Finished
                && !self.is_failed()
                && self.items.iter().any(CheckItem::is_warning))
    }

    /// Failed, but the user chose to skip its failures (`SkipCheckItem`).
    pub fn is_skipped_failure(&self) -> bool {
        self.status == StepStatus::Failed && self.has_skipped
    }

    /// Not (yet) run: not finished, blocked by an earlier step, or (sync) skipped.
    pub fn did_not_run(&self) -> bool {
        !self.is_finished() || matches!(self.status, StepStatus::Blocked | StepStatus::Skipped)
    }

    /// `Step label › item name`: where an item is, for titles; the step alone when the item
    /// has no name of its own. Sync check codes often only repeat the step
    /// (`Warning: SrcPrivilegeCheck` in the step `SrcPrivilegeCheck`): such a name says nothing
    /// the label does not.
    pub fn item_title(&self, item: &CheckItem) -> String {
        match self.own_name(item) {
            Some(name) => format!("{} › {name}", self.label()),
            None => self.label(),
        }
    }

    /// The item's name when it says more than this step's label (see [`CheckStep::item_title`]).
    pub fn own_name<'a>(&self, item: &'a CheckItem) -> Option<&'a str> {
        let name = item.name.trim();
        let bare = name.split_once(':').map_or(name, |(_, rest)| rest).trim();
        let repeats_step = !self.step_id.is_empty() && bare == self.step_id;
        (!name.is_empty() && !repeats_step).then_some(name)
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
    pub result: ItemResult,
    pub failure_reason: String,
    pub solution: String,
    pub error_log: Vec<String>,
    pub help_doc: Vec<String>,
    pub skip_info: String,
}

impl CheckItem {
    pub fn is_failed(&self) -> bool {
        self.result == ItemResult::Failed
    }

    pub fn is_warning(&self) -> bool {
        self.result == ItemResult::Warning
    }

    pub fn is_failed_or_warning(&self) -> bool {
        self.is_failed() || self.is_warning()
    }
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

    #[test]
    fn item_titles_leave_out_a_name_that_only_repeats_the_step() {
        let step = CheckStep {
            step_id: "SrcPrivilegeCheck".into(),
            step_name: "Source privileges".into(),
            ..CheckStep::default()
        };
        let item = |name: &str| CheckItem {
            name: name.into(),
            ..CheckItem::default()
        };
        for repeat in [
            "Warning: SrcPrivilegeCheck",
            "Error:SrcPrivilegeCheck",
            "SrcPrivilegeCheck",
            " ",
        ] {
            assert_eq!(step.own_name(&item(repeat)), None, "{repeat:?}");
            assert_eq!(
                step.item_title(&item(repeat)),
                "Source privileges (SrcPrivilegeCheck)"
            );
        }
        assert_eq!(
            step.own_name(&item("REPLICATION CLIENT")),
            Some("REPLICATION CLIENT")
        );
        assert_eq!(
            step.item_title(&item("Warning: SrcPrivilegeCheckX")),
            "Source privileges (SrcPrivilegeCheck) › Warning: SrcPrivilegeCheckX"
        );
    }

    #[test]
    fn statuses_keep_the_service_text() {
        for text in [
            "",
            "notStarted",
            "running",
            "pass",
            "warning",
            "failed",
            "blocked",
            "paused",
        ] {
            let status = StepStatus::parse(text);
            assert_eq!(status.as_str(), text);
            assert_eq!(status.to_string(), text);
            assert_eq!(status, text);
        }
        assert_eq!(StepStatus::parse("Pass"), StepStatus::Other("Pass".into()));
        assert_eq!(ItemResult::from("failed"), ItemResult::Failed);
        assert_eq!(ItemResult::default(), ItemResult::Missing);
    }

    #[test]
    fn step_predicates() {
        let step = |status: &str, has_skipped: bool| CheckStep {
            status: status.into(),
            has_skipped,
            ..CheckStep::default()
        };
        assert!(step("failed", false).is_failed() && !step("failed", false).is_warning());
        assert!(step("failed", true).is_warning() && step("failed", true).is_skipped_failure());
        assert!(!step("failed", true).is_failed());
        assert!(step("warning", false).is_warning());
        for unfinished in ["", "notStarted", "running"] {
            assert!(
                !step(unfinished, false).is_finished() && step(unfinished, false).did_not_run()
            );
        }
        assert!(step("blocked", false).is_finished() && step("blocked", false).did_not_run());
        assert!(step("pass", false).is_passed() && !step("pass", false).did_not_run());
        // A sync step that says finished but lists an error failed; one with a warning warns.
        let with = |status: &str, result: &str| CheckStep {
            status: status.into(),
            items: vec![CheckItem {
                result: result.into(),
                ..CheckItem::default()
            }],
            ..CheckStep::default()
        };
        assert!(with("finished", "failed").is_failed() && !with("finished", "failed").is_warning());
        assert!(
            with("finished", "warning").is_warning() && !with("finished", "warning").is_failed()
        );
        assert!(!with("pass", "warning").is_warning());
    }
}
