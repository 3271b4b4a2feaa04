//! Decoding `DescribeMigrationDetail` (2021-12-06), the answer the `ready` and `complete`
//! stages wait on. Every field of these models may be null, so absence is tolerated; a value of
//! the wrong type is not (it is not a DTS answer). `-1` lags are kept as unknown, never zero.

use serde_json::{Map, Value};

use super::{ApiError, Envelope, JobKind, describe, text_of};

/// A tip of a migration step (`ProcessStepTip`) or an `ErrorInfoItem`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tip {
    pub code: String,
    pub message: String,
    pub solution: String,
    pub help_doc: String,
}

/// One step of the migration (`StepDetailInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MigrationStep {
    pub id: String,
    pub name: String,
    pub status: String,
    pub percent: Option<i64>,
    pub message: String,
    pub errors: Vec<Tip>,
    pub warnings: Vec<Tip>,
}

/// A job's state as the later stages read it: a decoded `DescribeMigrationDetail` answer, or
/// a sync job's `DescribeSyncJobs` item (`kind` says which; statuses are the kind's own).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MigrationDetail {
    pub kind: JobKind,
    /// The job's `Status`, possibly a value this tool does not know.
    pub status: String,
    /// `TradeInfo.TradeStatus`, empty when absent.
    pub trade_status: String,
    pub brief_message: String,
    /// `StepInfo.StepNow` (1-based), when sent.
    pub step_now: Option<i64>,
    pub steps: Vec<MigrationStep>,
    /// `StepInfo.SecondsBehindMaster`; `None` when missing or negative (`-1`: invalid).
    pub seconds_behind: Option<u64>,
    /// `StepInfo.MasterSlaveDistance` in MB; `None` when missing or negative.
    pub distance_mb: Option<u64>,
    /// `ErrorInfo[]`.
    pub errors: Vec<Tip>,
    pub request_id: String,
}

impl MigrationDetail {
    /// The step the job is at: `StepNow` when it names a listed step, else the first running
    /// one, else the last listed.
    pub fn current_step(&self) -> Option<&MigrationStep> {
        let by_number = self
            .step_now
            .and_then(|n| usize::try_from(n).ok())
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| self.steps.get(i));
        by_number
            .or_else(|| self.steps.iter().find(|s| s.status == "running"))
            .or_else(|| self.steps.last())
    }

    /// The job is at its last listed step (a sync job's incremental sync): `StepNow` says so,
    /// or without it the last step is the one running. Never without steps.
    pub fn in_last_step(&self) -> bool {
        let Some(last) = self.steps.last() else {
            return false;
        };
        match self.step_now {
            Some(now) => usize::try_from(now).is_ok_and(|now| now == self.steps.len()),
            None => last.status == "running",
        }
    }

    /// The job is isolated or offlined (or on its way there): it will never be ready. Migration
    /// jobs spell these in lower case, sync jobs in PascalCase.
    pub fn is_out_of_service(&self) -> bool {
        ["isolating", "isolated", "offlining", "offlined"]
            .iter()
            .any(|s| self.trade_status.eq_ignore_ascii_case(s))
    }
}

pub(super) fn decode(envelope: &Envelope) -> Result<MigrationDetail, ApiError> {
    let fields = &envelope.fields;
    let status = envelope.status()?;
    let malformed = |what: String| envelope.malformed(what);
    let trade = object(fields.get("TradeInfo"), "Response.TradeInfo").map_err(malformed)?;
    let trade_status = match &trade {
        Some(t) => {
            string(t.get("TradeStatus"), "Response.TradeInfo.TradeStatus").map_err(malformed)?
        }
        None => String::new(),
    };
    let info = object(fields.get("StepInfo"), "Response.StepInfo").map_err(malformed)?;
    let (mut step_now, mut seconds_behind, mut distance_mb, mut steps) =
        (None, None, None, Vec::new());
    if let Some(info) = &info {
        step_now = integer(info.get("StepNow"), "Response.StepInfo.StepNow").map_err(malformed)?;
        seconds_behind = lag(
            info.get("SecondsBehindMaster"),
            "Response.StepInfo.SecondsBehindMaster",
        )
        .map_err(malformed)?;
        distance_mb = lag(
            info.get("MasterSlaveDistance"),
            "Response.StepInfo.MasterSlaveDistance",
        )
        .map_err(malformed)?;
        steps = list(
            info.get("StepInfo"),
            "Response.StepInfo.StepInfo",
            decode_step,
        )
        .map_err(malformed)?;
    }
    let errors = list(fields.get("ErrorInfo"), "Response.ErrorInfo", |v, at| {
        decode_tip(v, at, "ErrorLog")
    })
    .map_err(malformed)?;
    Ok(MigrationDetail {
        kind: JobKind::Migration,
        status,
        trade_status,
        brief_message: envelope.text("BriefMsg"),
        step_now,
        steps,
        seconds_behind,
        distance_mb,
        errors,
        request_id: envelope.request_id.clone(),
    })
}

pub(super) fn object<'a>(
    value: Option<&'a Value>,
    at: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        other => Err(format!("{at} should be an object, got {}", describe(other))),
    }
}

pub(super) fn string(value: Option<&Value>, at: &str) -> Result<String, String> {
    match value {
        None | Some(Value::Null) | Some(Value::String(_)) => Ok(text_of(value)),
        other => Err(format!("{at} should be a string, got {}", describe(other))),
    }
}

pub(super) fn integer(value: Option<&Value>, at: &str) -> Result<Option<i64>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("{at} should be an integer, got {n}")),
        other => Err(format!(
            "{at} should be an integer, got {}",
            describe(other)
        )),
    }
}

/// A lag at `at`: a negative value (`-1`, invalid) is unknown, never zero.
pub(super) fn lag(value: Option<&Value>, at: &str) -> Result<Option<u64>, String> {
    let n = integer(value, at)?;
    Ok(n.and_then(|n| u64::try_from(n).ok()))
}

/// An object that must be there: `null` is as wrong as another type.
pub(super) fn required_object<'a>(
    value: &'a Value,
    at: &str,
) -> Result<&'a Map<String, Value>, String> {
    object(Some(value), at)?.ok_or_else(|| format!("{at} should be an object, got null"))
}

pub(super) fn list<T>(
    value: Option<&Value>,
    at: &str,
    item: impl Fn(&Value, &str) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| item(v, &format!("{at}[{i}]")))
            .collect(),
        other => Err(format!("{at} should be a list, got {}", describe(other))),
    }
}

fn decode_step(value: &Value, at: &str) -> Result<MigrationStep, String> {
    let step = required_object(value, at)?;
    let field = |name: &str| string(step.get(name), &format!("{at}.{name}"));
    Ok(MigrationStep {
        id: field("StepId")?,
        name: field("StepName")?,
        status: field("Status")?,
        percent: integer(step.get("Percent"), &format!("{at}.Percent"))?,
        message: field("StepMessage")?,
        errors: list(step.get("Errors"), &format!("{at}.Errors"), |v, at| {
            decode_tip(v, at, "Message")
        })?,
        warnings: list(step.get("Warnings"), &format!("{at}.Warnings"), |v, at| {
            decode_tip(v, at, "Message")
        })?,
    })
}

/// A tip whose text is in the field `message` (`Message`, or `ErrorLog` in `ErrorInfo`).
pub(super) fn decode_tip(value: &Value, at: &str, message: &str) -> Result<Tip, String> {
    let tip = required_object(value, at)?;
    let field = |name: &str| string(tip.get(name), &format!("{at}.{name}"));
    Ok(Tip {
        code: field("Code")?,
        message: field(message)?,
        solution: field("Solution")?,
        help_doc: field("HelpDoc")?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Secrets, parse_migration_detail};
    use super::*;

    fn decode(body: &str) -> Result<MigrationDetail, ApiError> {
        parse_migration_detail(200, body.as_bytes(), &Secrets::default())
    }

    /// The reference's official example (its first part, the rest of the answer as the
    /// service sends it while catching up the binlog).
    const OFFICIAL: &str = r#"{"Response": {
        "Action": {"AllAction": ["view", "complete"], "AllowedAction": ["view", "stop", "complete"]},
        "BriefMsg": "",
        "ErrorInfo": [],
        "JobId": "dts-amm1jw5q",
        "Status": "readyComplete",
        "StepInfo": {
            "MasterSlaveDistance": 0, "SecondsBehindMaster": 0, "StepAll": 3, "StepNow": 3,
            "StepInfo": [
                {"StepId": "StructureMigration", "StepName": "结构迁移", "Status": "success", "Percent": 100, "Errors": [], "Warnings": [], "StepMessage": "", "StepNo": 1},
                {"StepId": "FullDataMigration", "StepName": "全量迁移", "Status": "success", "Percent": 100, "Errors": [], "Warnings": [], "StepMessage": "", "StepNo": 2},
                {"StepId": "IncrementalMigration", "StepName": "增量同步", "Status": "running", "Percent": 100, "Errors": null, "Warnings": [{"Code": "W1", "Message": "lag", "Solution": "wait", "HelpDoc": "https://cloud.tencent.com/document/product/571/58700"}], "StepMessage": "", "StepNo": 3}
            ]
        },
        "TradeInfo": {"TradeStatus": "normal", "PayType": "postpay"},
        "RequestId": "5268ea15-6636-44d1-89f9-e989d1c82e7d"
    }}"#;

    #[test]
    fn the_official_example_decodes() {
        let detail = decode(OFFICIAL).unwrap();
        assert_eq!(detail.status, "readyComplete");
        assert_eq!(detail.trade_status, "normal");
        assert_eq!(detail.seconds_behind, Some(0));
        assert_eq!(detail.distance_mb, Some(0));
        assert_eq!(detail.steps.len(), 3);
        let step = detail.current_step().unwrap();
        assert_eq!(step.id, "IncrementalMigration");
        assert_eq!(step.percent, Some(100));
        assert_eq!(step.warnings[0].solution, "wait");
        assert_eq!(detail.request_id, "5268ea15-6636-44d1-89f9-e989d1c82e7d");
        assert!(!detail.is_out_of_service());
    }

    #[test]
    fn a_negative_lag_is_unknown_not_zero() {
        let detail = decode(
            r#"{"Response": {"Status": "running", "RequestId": "r",
                "StepInfo": {"SecondsBehindMaster": -1, "MasterSlaveDistance": -1}}}"#,
        )
        .unwrap();
        assert_eq!(detail.seconds_behind, None);
        assert_eq!(detail.distance_mb, None);
        let bare = decode(r#"{"Response": {"Status": "running", "RequestId": "r"}}"#).unwrap();
        assert_eq!(bare.seconds_behind, None);
    }

    #[test]
    fn error_info_is_kept() {
        let detail = decode(
            r#"{"Response": {"Status": "failed", "RequestId": "r", "TradeInfo": {"TradeStatus": "isolated"},
                "ErrorInfo": [{"Code": "E1", "ErrorLog": "binlog purged", "Solution": "restart", "HelpDoc": "https://x"}]}}"#,
        )
        .unwrap();
        assert_eq!(detail.errors[0].message, "binlog purged");
        assert_eq!(detail.errors[0].help_doc, "https://x");
        assert!(detail.is_out_of_service());
    }

    #[test]
    fn wrong_types_and_missing_status_are_malformed() {
        for body in [
            r#"{"Response": {"RequestId": "r"}}"#,
            r#"{"Response": {"Status": 3, "RequestId": "r"}}"#,
            r#"{"Response": {"Status": "running", "RequestId": "r", "StepInfo": {"SecondsBehindMaster": "0"}}}"#,
            r#"{"Response": {"Status": "running", "RequestId": "r", "TradeInfo": []}}"#,
            r#"{"Response": {"Status": "running", "RequestId": "r", "ErrorInfo": {}}}"#,
            r#"{"Response": {"Status": "readyComplete", "Status": "failed", "RequestId": "r"}}"#,
        ] {
            assert!(
                matches!(decode(body), Err(ApiError::Malformed { .. })),
                "{body}"
            );
        }
    }
}
