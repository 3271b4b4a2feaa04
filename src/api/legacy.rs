//! Decoding `DescribeMigrateCheckJob` (2018-03-30). Strict where the verdict depends on it: a
//! finished check must carry an integer `CheckFlag`.

use serde_json::Value;

use super::{ApiError, ApiVersion, CheckAnswer, CheckFlag, Envelope, describe};

pub(super) fn decode(envelope: &Envelope) -> Result<CheckAnswer, ApiError> {
    let fields = &envelope.fields;
    let status = envelope.status()?;
    let check_flag = match fields.get("CheckFlag") {
        Some(Value::Number(n)) if n.is_i64() => n.as_i64().map(CheckFlag::Code),
        None | Some(Value::Null) if status != "finished" => None,
        other => {
            return Err(envelope.malformed(format!(
                "Response.CheckFlag should be an integer, got {}",
                describe(other)
            )));
        }
    };
    let progress = match fields.get("Progress") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Ok(CheckAnswer {
        api: ApiVersion::V2018,
        status,
        check_flag,
        progress,
        error_code: fields.get("ErrorCode").and_then(Value::as_i64),
        error_message: envelope.text("ErrorMessage"),
        request_id: envelope.request_id.clone(),
        deprecated_warning: envelope.deprecated_warning(),
        steps: Vec::new(),
    })
}
