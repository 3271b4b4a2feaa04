//! Decoding `DescribeMigrationCheckJob` (2021-12-06). Every field of these models may be null,
//! so absence is tolerated; a value of the wrong type is not (it is not a DTS answer).

use serde_json::Value;

use super::{
    ApiError, ApiVersion, CheckAnswer, CheckFlag, CheckItem, CheckStep, Envelope, describe, text_of,
};

pub(super) fn decode(envelope: &Envelope) -> Result<CheckAnswer, ApiError> {
    let fields = &envelope.fields;
    let status = envelope.status()?;
    let check_flag = match fields.get("CheckFlag") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(CheckFlag::Name(s.clone())),
        other => {
            return Err(envelope.malformed(format!(
                "Response.CheckFlag should be a string, got {}",
                describe(other)
            )));
        }
    };
    let steps = match fields.get("StepInfo") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, v)| {
                decode_step(v)
                    .map_err(|what| envelope.malformed(format!("Response.StepInfo[{i}]: {what}")))
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(envelope.malformed(format!(
                "Response.StepInfo should be a list, got {}",
                describe(other)
            )));
        }
    };
    Ok(CheckAnswer {
        api: ApiVersion::V2021,
        progress: step_progress(&steps),
        status,
        check_flag,
        error_code: None,
        error_message: envelope.text("BriefMsg"),
        request_id: envelope.request_id.clone(),
        deprecated_warning: envelope.deprecated_warning(),
        steps,
    })
}

/// Steps finished out of all steps, as a whole percent; `None` before the service lists any.
pub fn step_progress(steps: &[CheckStep]) -> Option<String> {
    if steps.is_empty() {
        return None;
    }
    let finished = steps.iter().filter(|s| s.is_finished()).count();
    Some((finished * 100 / steps.len()).to_string())
}

fn decode_step(value: &Value) -> Result<CheckStep, String> {
    let Value::Object(step) = value else {
        return Err(format!(
            "should be an object, got {}",
            describe(Some(value))
        ));
    };
    let items = match step.get("DetailCheckItems") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, v)| decode_item(v).map_err(|what| format!("DetailCheckItems[{i}] {what}")))
            .collect::<Result<_, _>>()?,
        other => {
            return Err(format!(
                "DetailCheckItems should be a list, got {}",
                describe(other)
            ));
        }
    };
    Ok(CheckStep {
        step_no: step.get("StepNo").and_then(Value::as_u64),
        step_id: text_of(step.get("StepId")),
        step_name: text_of(step.get("StepName")),
        status: text_of(step.get("StepStatus")).into(),
        message: text_of(step.get("StepMessage")),
        items,
        has_skipped: step
            .get("HasSkipped")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

fn decode_item(value: &Value) -> Result<CheckItem, String> {
    let Value::Object(item) = value else {
        return Err(format!(
            "should be an object, got {}",
            describe(Some(value))
        ));
    };
    let list = |name: &str| -> Vec<String> {
        match item.get(name) {
            Some(Value::Array(lines)) => lines
                .iter()
                .filter_map(Value::as_str)
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    };
    Ok(CheckItem {
        name: text_of(item.get("CheckItemName")),
        description: text_of(item.get("Description")),
        result: text_of(item.get("CheckResult")).into(),
        failure_reason: text_of(item.get("FailureReason")),
        solution: text_of(item.get("Solution")),
        error_log: list("ErrorLog"),
        help_doc: list("HelpDoc"),
        skip_info: text_of(item.get("SkipInfo")),
    })
}
