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

// Data sync jobs (2021-12-06): `DescribeCheckSyncJobResult` and `DescribeSyncJobs`.

/// The source endpoint's password a `DescribeSyncJobs` item echoes: never to be printed.
pub const SYNC_SRC_PASSWORD: &str = "sync-src-password-e8d7c6";
/// The target endpoint's password a `DescribeSyncJobs` item echoes: never to be printed.
pub const SYNC_DST_PASSWORD: &str = "sync-dst-password-b5a493";
/// The endpoint's temporary key a `DescribeSyncJobs` item echoes: never to be printed.
pub const SYNC_TMP_SECRET_KEY: &str = "sync-tmp-secret-key-7f6e5d";
/// The endpoint's temporary token a `DescribeSyncJobs` item echoes: never to be printed.
pub const SYNC_TMP_TOKEN: &str = "sync-tmp-token-4c3b2a";

/// An error or warning of a sync check step (`StepTip`); by default with a solution and a
/// help link derived from `code`.
#[derive(Debug, Clone)]
pub struct SyncTip {
    code: String,
    message: String,
    solution: String,
    help_doc: String,
}

/// A tip `code` saying `message`, with solution `"fix {code}"` and a help link.
pub fn sync_tip(code: &str, message: &str) -> SyncTip {
    SyncTip {
        code: code.to_string(),
        message: message.to_string(),
        solution: format!("fix {code}"),
        help_doc: "https://cloud.tencent.com/document/product/571/58700".to_string(),
    }
}

impl SyncTip {
    pub fn solution(mut self, solution: &str) -> SyncTip {
        self.solution = solution.to_string();
        self
    }

    pub fn help_doc(mut self, help_doc: &str) -> SyncTip {
        self.help_doc = help_doc.to_string();
        self
    }
}

impl From<SyncTip> for Value {
    fn from(tip: SyncTip) -> Value {
        json!({"Code": tip.code, "Message": tip.message, "Solution": tip.solution,
               "HelpDoc": tip.help_doc, "SkipInfo": ""})
    }
}

/// A sync check step (`StepInfo` of `DescribeCheckSyncJobResult`), named `"{id} step"`.
#[derive(Debug, Clone)]
pub struct SyncStep {
    no: u64,
    id: String,
    name: Option<String>,
    status: String,
    errors: Vec<SyncTip>,
    warnings: Vec<SyncTip>,
}

/// Step `no`, `id`, with `status` (`finished`, `skipped`, `failed`, `running`, `paused`,
/// `notStarted`), no errors, no warnings.
pub fn sync_step(no: u64, id: &str, status: &str) -> SyncStep {
    SyncStep {
        no,
        id: id.to_string(),
        name: None,
        status: status.to_string(),
        errors: Vec::new(),
        warnings: Vec::new(),
    }
}

impl SyncStep {
    /// `StepName`, as the service names it (`连接DB检查`), instead of `"{id} step"`.
    pub fn named(mut self, name: &str) -> SyncStep {
        self.name = Some(name.to_string());
        self
    }

    pub fn errors(mut self, errors: impl IntoIterator<Item = SyncTip>) -> SyncStep {
        self.errors = errors.into_iter().collect();
        self
    }

    pub fn warnings(mut self, warnings: impl IntoIterator<Item = SyncTip>) -> SyncStep {
        self.warnings = warnings.into_iter().collect();
        self
    }
}

impl From<SyncStep> for Value {
    fn from(step: SyncStep) -> Value {
        let finished = matches!(step.status.as_str(), "finished" | "skipped" | "failed");
        let errors: Vec<Value> = step.errors.into_iter().map(Value::from).collect();
        let warnings: Vec<Value> = step.warnings.into_iter().map(Value::from).collect();
        let name = step.name.unwrap_or_else(|| format!("{} step", step.id));
        json!({"StepNo": step.no, "StepId": step.id, "StepName": name,
               "Status": step.status, "StartTime": "", "FinishTime": "",
               "Progress": if finished { 100 } else { 0 }, "Errors": errors, "Warnings": warnings})
    }
}

/// A `DescribeCheckSyncJobResult` answer being built.
#[derive(Debug, Clone)]
pub struct SyncCheck {
    status: String,
    request_id: String,
    steps: Vec<SyncStep>,
}

/// A sync check answer with `status`, RequestId `req-sync-{status}` and no steps.
pub fn sync_check(status: &str) -> SyncCheck {
    SyncCheck {
        status: status.to_string(),
        request_id: format!("req-sync-{status}"),
        steps: Vec::new(),
    }
}

impl SyncCheck {
    pub fn steps(mut self, steps: impl IntoIterator<Item = SyncStep>) -> SyncCheck {
        self.steps = steps.into_iter().collect();
        self
    }

    pub fn request_id(mut self, request_id: &str) -> SyncCheck {
        self.request_id = request_id.to_string();
        self
    }

    /// The answer body.
    pub fn body(self) -> String {
        let count = self.steps.len();
        let done = self
            .steps
            .iter()
            .filter(|s| matches!(s.status.as_str(), "finished" | "skipped" | "failed"))
            .count();
        let progress = (done * 100).checked_div(count).unwrap_or(0);
        let steps: Vec<Value> = self.steps.into_iter().map(Value::from).collect();
        json!({"Response": {"Status": self.status, "StepCount": count, "StepCur": done,
                            "Progress": progress, "StepInfos": steps,
                            "RequestId": self.request_id}})
        .to_string()
    }
}

/// One `SyncJobInfo` of a `DescribeSyncJobs` answer, with its endpoints' echoed secrets.
#[derive(Debug, Clone)]
pub struct SyncJob {
    id: String,
    status: String,
    trade: String,
    step_now: Option<i64>,
    steps: Vec<(String, String)>,
    seconds: i64,
    mb: i64,
    message: String,
    err: Option<(String, String, String)>,
}

/// Job `id` with `status`, TradeStatus `Normal`, the four documented steps with the last
/// (`sinker`) running and `StepNow` 4, lag 0 s and 0 MB, no error.
pub fn sync_job(id: &str, status: &str) -> SyncJob {
    let steps = [
        ("schema-init", "finished"),
        ("dumper", "finished"),
        ("loader", "finished"),
        ("sinker", "running"),
    ];
    SyncJob {
        id: id.to_string(),
        status: status.to_string(),
        trade: "Normal".to_string(),
        step_now: Some(4),
        steps: steps
            .iter()
            .map(|(i, s)| (i.to_string(), s.to_string()))
            .collect(),
        seconds: 0,
        mb: 0,
        message: String::new(),
        err: None,
    }
}

impl SyncJob {
    pub fn trade(mut self, trade: &str) -> SyncJob {
        self.trade = trade.to_string();
        self
    }

    /// `Detail.StepNow` (`None`: absent).
    pub fn step_now(mut self, step_now: Option<i64>) -> SyncJob {
        self.step_now = step_now;
        self
    }

    /// `Detail.StepInfos` as `(StepId, Status)` pairs.
    pub fn steps(mut self, steps: &[(&str, &str)]) -> SyncJob {
        self.steps = steps
            .iter()
            .map(|(i, s)| (i.to_string(), s.to_string()))
            .collect();
        self
    }

    /// `Detail.SecondsBehindMaster` and `Detail.MasterSlaveDistance` (-1: unknown).
    pub fn lag(mut self, seconds: i64, mb: i64) -> SyncJob {
        self.seconds = seconds;
        self.mb = mb;
        self
    }

    /// `Detail.Message`.
    pub fn message(mut self, message: &str) -> SyncJob {
        self.message = message.to_string();
        self
    }

    /// `Detail.ErrInfo` with `Reason`, `Message`, `Solution`.
    pub fn err_info(mut self, reason: &str, message: &str, solution: &str) -> SyncJob {
        self.err = Some((reason.into(), message.into(), solution.into()));
        self
    }
}

impl From<SyncJob> for Value {
    fn from(job: SyncJob) -> Value {
        let steps: Vec<Value> = job
            .steps
            .iter()
            .enumerate()
            .map(|(i, (id, status))| {
                json!({"StepNo": i + 1, "StepId": id, "StepName": format!("{id} step"),
                       "Status": status, "Progress": -1, "StartTime": "", "Errors": null,
                       "Warnings": []})
            })
            .collect();
        let (reason, message, solution) = job.err.unwrap_or_default();
        let endpoint = |password: &str| {
            json!({"Region": "ap-guangzhou", "Ip": "10.0.0.8", "Port": 3306, "User": "root",
                   "Account": "", "Password": password, "TmpSecretId": "AKIDtmpsecretid",
                   "TmpSecretKey": SYNC_TMP_SECRET_KEY, "TmpToken": SYNC_TMP_TOKEN})
        };
        let mut detail = json!({"StepAll": steps.len(), "StepInfos": steps,
            "SecondsBehindMaster": job.seconds, "MasterSlaveDistance": job.mb,
            "Message": job.message, "Progress": -1, "CurrentStepProgress": 0,
            "ErrInfo": {"Reason": reason, "Message": message, "Solution": solution}});
        if let Some(now) = job.step_now {
            detail["StepNow"] = json!(now);
        }
        json!({"JobId": job.id, "JobName": format!("{} name", job.id), "Status": job.status,
               "TradeStatus": job.trade, "PayMode": "PostPay", "RunMode": "Immediate",
               "Detail": detail, "SrcInfo": endpoint(SYNC_SRC_PASSWORD),
               "DstInfo": endpoint(SYNC_DST_PASSWORD)})
    }
}

/// A `DescribeSyncJobs` answer listing `jobs`.
pub fn sync_jobs(jobs: impl IntoIterator<Item = SyncJob>) -> String {
    let list: Vec<Value> = jobs.into_iter().map(Value::from).collect();
    json!({"Response": {"TotalCount": list.len(), "JobList": list,
                        "RequestId": "req-describe-sync-jobs"}})
    .to_string()
}
