//! What the service answers, as JSON bodies: `DescribeMigrateCheckJob` (2018-03-30) answers,
//! `DescribeMigrationCheckJob` (2021-12-06) answers built from steps and items, service errors,
//! and the bare acknowledgement of `CreateMigrateCheckJob` and `StartMigrateJob`.

use serde_json::{Value, json};

/// A `DescribeMigrateCheckJob` (2018-03-30) answer body.
pub fn answer(status: &str, flag: i64, progress: &str, code: i64, message: &str) -> String {
    json!({"Response": {
        "Status": status,
        "CheckFlag": flag,
        "Progress": progress,
        "ErrorCode": code,
        "ErrorMessage": message,
        "RequestId": format!("req-{status}-{flag}"),
    }})
    .to_string()
}

/// The documented 2018-03-30 pass: finished, CheckFlag 1, ErrorCode 0, "ok".
pub fn pass() -> String {
    answer("finished", 1, "100", 0, "ok")
}

/// A finished 2018-03-30 check that did not pass: CheckFlag 0, ErrorCode -1, `message`.
pub fn not_passed(message: &str) -> String {
    answer("finished", 0, "100", -1, message)
}

/// A 2018-03-30 check still running (CheckFlag 3, not checked yet) at `progress` percent.
pub fn running(progress: &str) -> String {
    answer("running", 3, progress, 0, "")
}

/// A service error body.
pub fn service_error(code: &str, message: &str) -> String {
    json!({"Response": {
        "Error": {"Code": code, "Message": message},
        "RequestId": "req-error",
    }})
    .to_string()
}

/// The service refusing the credentials: a permanent error.
pub fn signature_failure() -> String {
    service_error(
        "AuthFailure.SignatureFailure",
        "The provided credentials could not be validated.",
    )
}

/// The answer of an action that only acknowledges (`CreateMigrateCheckJob`, `StartMigrateJob`).
pub fn acknowledged(request_id: &str) -> String {
    json!({"Response": {"RequestId": request_id}}).to_string()
}

/// The request body the gate sends for `job`.
pub fn job_body(job: &str) -> String {
    format!(r#"{{"JobId":"{job}"}}"#)
}

/// A 2021-12-06 check item; by default with two log lines, a solution and a help link.
#[derive(Debug, Clone)]
pub struct Item {
    name: String,
    result: String,
    reason: String,
    logs: usize,
}

/// An item `name` with `result` (`failed`, `warning`, ...) for `reason`.
pub fn item(name: &str, result: &str, reason: &str) -> Item {
    Item {
        name: name.to_string(),
        result: result.to_string(),
        reason: reason.to_string(),
        logs: 2,
    }
}

impl Item {
    /// With `n` log lines (`"{name}: log 1"`, ...) instead of two.
    pub fn logs(mut self, n: usize) -> Item {
        self.logs = n;
        self
    }
}

impl From<Item> for Value {
    fn from(item: Item) -> Value {
        let name = &item.name;
        let logs: Vec<String> = (1..=item.logs)
            .map(|i| format!("{name}: log {i}"))
            .collect();
        json!({"CheckItemName": name, "CheckResult": item.result, "Description": "",
               "FailureReason": item.reason, "Solution": format!("fix {name}"), "ErrorLog": logs,
               "HelpDoc": ["https://cloud.tencent.com/document/product/571/58685"], "SkipInfo": ""})
    }
}

/// A 2021-12-06 check step; by default named `"{id} step"`, not skipped, without items.
#[derive(Debug, Clone)]
pub struct Step {
    no: u64,
    id: String,
    name: String,
    status: String,
    skipped: bool,
    items: Vec<Item>,
}

/// Step number `no`, `id`, with `status` (`pass`, `failed`, `warning`, `notStarted`, ...).
pub fn step(no: u64, id: &str, status: &str) -> Step {
    Step {
        no,
        id: id.to_string(),
        name: format!("{id} step"),
        status: status.to_string(),
        skipped: false,
        items: Vec::new(),
    }
}

impl Step {
    pub fn named(mut self, name: &str) -> Step {
        self.name = name.to_string();
        self
    }

    /// Skipped by the user (`HasSkipped`).
    pub fn skipped(mut self) -> Step {
        self.skipped = true;
        self
    }

    pub fn items(mut self, items: impl IntoIterator<Item = Item>) -> Step {
        self.items = items.into_iter().collect();
        self
    }
}

impl From<Step> for Value {
    fn from(step: Step) -> Value {
        let items: Vec<Value> = step.items.into_iter().map(Value::from).collect();
        json!({"StepNo": step.no, "StepId": step.id, "StepName": step.name,
               "StepStatus": step.status, "StepMessage": "", "DetailCheckItems": items,
               "HasSkipped": step.skipped})
    }
}

/// A `DescribeMigrationCheckJob` (2021-12-06) answer being built.
#[derive(Debug, Clone)]
pub struct Check {
    status: String,
    flag: String,
    brief: String,
    request_id: String,
    steps: Vec<Step>,
}

/// A 2021-12-06 answer with `status` and `flag` (`""` when not yet set), brief message
/// "brief message", RequestId `req-{status}` and no steps.
pub fn check(status: &str, flag: &str) -> Check {
    Check {
        status: status.to_string(),
        flag: flag.to_string(),
        brief: "brief message".to_string(),
        request_id: format!("req-{status}"),
        steps: Vec::new(),
    }
}

impl Check {
    pub fn steps(mut self, steps: impl IntoIterator<Item = Step>) -> Check {
        self.steps = steps.into_iter().collect();
        self
    }

    pub fn brief(mut self, brief: &str) -> Check {
        self.brief = brief.to_string();
        self
    }

    pub fn request_id(mut self, request_id: &str) -> Check {
        self.request_id = request_id.to_string();
        self
    }

    /// The answer body.
    pub fn body(self) -> String {
        let steps: Vec<Value> = self.steps.into_iter().map(Value::from).collect();
        json!({"Response": {"Status": self.status, "CheckFlag": self.flag, "BriefMsg": self.brief,
                            "StepInfo": steps, "RequestId": self.request_id}})
        .to_string()
    }
}
