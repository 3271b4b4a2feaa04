//! Decoding the data-consistency check (compare) of API 2021-12-06: `CreateCompareTask`,
//! `DescribeCompareTasks` and `DescribeCompareReport`, the answers the `compare` stage waits on.
//! As for `DescribeMigrationDetail`, absence and null are tolerated; a value of the wrong type
//! is not. A count that is missing stays unknown (`None`), never zero.

use serde_json::Value;

use super::detail::{integer, list, object, required_object, string};
use super::{ApiError, Envelope};

/// One `CompareTaskItem` of `DescribeCompareTasks`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompareTask {
    pub task_id: String,
    /// `Status`: created, readyRun, running, success, stopping, failed, canceled; empty when
    /// the answer does not list the task at all.
    pub status: String,
    /// `Conclusion`: same, different, skipAll (empty until finished).
    pub conclusion: String,
    pub method: String,
    pub message: String,
    /// `CompareProcess.Percent`, when sent.
    pub percent: Option<i64>,
    /// Whether the answer listed the task.
    pub listed: bool,
    pub request_id: String,
}

/// One table that differs (`DifferenceItem`): one chunk of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Difference {
    pub db: String,
    pub schema: String,
    pub table: String,
    pub chunk: Option<i64>,
    pub index_name: String,
    pub lower: String,
    pub upper: String,
    pub src_item: String,
    pub dst_item: String,
}

/// One table not compared (`SkippedItem`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Skipped {
    pub db: String,
    pub schema: String,
    pub table: String,
    pub reason: String,
}

/// Names a table as `db.schema.table` (the schema only when there is one).
pub fn table_name(db: &str, schema: &str, table: &str) -> String {
    [db, schema, table]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(".")
}

impl Difference {
    pub fn table_name(&self) -> String {
        table_name(&self.db, &self.schema, &self.table)
    }

    /// The chunk and its bounds, in words.
    pub fn bounds(&self) -> String {
        let mut text = match self.chunk {
            Some(c) => format!("chunk {c}"),
            None => "chunk ?".to_string(),
        };
        if !self.index_name.is_empty() {
            text.push_str(&format!(", index {}", self.index_name));
        }
        text.push_str(&format!(
            ", from {} to {}",
            or_unknown(&self.lower),
            or_unknown(&self.upper)
        ));
        if !self.src_item.is_empty() || !self.dst_item.is_empty() {
            text.push_str(&format!(
                " (source {}, target {})",
                or_unknown(&self.src_item),
                or_unknown(&self.dst_item)
            ));
        }
        text
    }
}

impl Skipped {
    pub fn table_name(&self) -> String {
        table_name(&self.db, &self.schema, &self.table)
    }
}

fn or_unknown(text: &str) -> &str {
    if text.is_empty() { "?" } else { text }
}

/// A decoded `DescribeCompareReport` answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompareReport {
    /// `Abstract.Conclusion`: same, different (skipAll from the task list).
    pub conclusion: String,
    /// `Abstract.Status`: success, failed.
    pub status: String,
    pub total_tables: Option<i64>,
    pub checked_tables: Option<i64>,
    pub different_tables: Option<i64>,
    pub skipped_tables: Option<i64>,
    pub different_rows: Option<i64>,
    pub differences: Vec<Difference>,
    /// `Detail.Difference.TotalCount`.
    pub differences_total: Option<i64>,
    pub skipped: Vec<Skipped>,
    /// `Detail.Skipped.TotalCount`.
    pub skipped_total: Option<i64>,
    pub request_id: String,
}

/// `CreateCompareTask`: the new task's `CompareTaskId`, which must be there.
pub(super) fn decode_created(envelope: &Envelope) -> Result<String, ApiError> {
    match envelope.fields.get("CompareTaskId") {
        Some(Value::String(id)) if !id.trim().is_empty() => Ok(id.clone()),
        other => Err(envelope.malformed(format!(
            "Response.CompareTaskId should be the new task's id, got {}",
            super::describe(other)
        ))),
    }
}

/// `DescribeCompareTasks`: the item of `task_id`; an answer that does not list it gives a task
/// of unknown (empty) status, never a finished one.
pub(super) fn decode_tasks(envelope: &Envelope, task_id: &str) -> Result<CompareTask, ApiError> {
    let malformed = |what: String| envelope.malformed(what);
    let items =
        list(envelope.fields.get("Items"), "Response.Items", decode_task).map_err(malformed)?;
    let mut found = items.into_iter().filter(|t| t.task_id == task_id);
    let task = match (found.next(), found.next()) {
        (Some(task), None) => task,
        (Some(_), Some(_)) => {
            return Err(envelope.malformed(format!(
                "Response.Items lists the compare task {task_id} more than once"
            )));
        }
        (None, _) => CompareTask {
            task_id: task_id.to_string(),
            ..CompareTask::default()
        },
    };
    Ok(CompareTask {
        request_id: envelope.request_id.clone(),
        ..task
    })
}

fn decode_task(value: &Value, at: &str) -> Result<CompareTask, String> {
    let item = required_object(value, at)?;
    let field = |name: &str| string(item.get(name), &format!("{at}.{name}"));
    let process = object(item.get("CompareProcess"), &format!("{at}.CompareProcess"))?;
    let percent = match process {
        Some(p) => integer(p.get("Percent"), &format!("{at}.CompareProcess.Percent"))?,
        None => None,
    };
    let mut message = field("Message")?;
    if message.is_empty()
        && let Some(p) = process
    {
        message = string(p.get("Message"), &format!("{at}.CompareProcess.Message"))?;
    }
    Ok(CompareTask {
        task_id: field("CompareTaskId")?,
        status: field("Status")?,
        conclusion: field("Conclusion")?,
        method: field("Method")?,
        message,
        percent,
        listed: true,
        request_id: String::new(),
    })
}

/// `DescribeCompareReport`.
pub(super) fn decode_report(envelope: &Envelope) -> Result<CompareReport, ApiError> {
    let malformed = |what: String| envelope.malformed(what);
    let summary =
        object(envelope.fields.get("Abstract"), "Response.Abstract").map_err(malformed)?;
    let detail = object(envelope.fields.get("Detail"), "Response.Detail").map_err(malformed)?;
    let mut report = CompareReport {
        request_id: envelope.request_id.clone(),
        ..CompareReport::default()
    };
    if let Some(s) = summary {
        let text = |name: &str| string(s.get(name), &format!("Response.Abstract.{name}"));
        let count = |name: &str| integer(s.get(name), &format!("Response.Abstract.{name}"));
        report.conclusion = text("Conclusion").map_err(malformed)?;
        report.status = text("Status").map_err(malformed)?;
        report.total_tables = count("TotalTables").map_err(malformed)?;
        report.checked_tables = count("CheckedTables").map_err(malformed)?;
        report.different_tables = count("DifferentTables").map_err(malformed)?;
        report.skipped_tables = count("SkippedTables").map_err(malformed)?;
        report.different_rows = count("DifferentRows").map_err(malformed)?;
    }
    if let Some(d) = detail {
        let at = "Response.Detail.Difference";
        if let Some(diff) = object(d.get("Difference"), at).map_err(malformed)? {
            report.differences_total =
                integer(diff.get("TotalCount"), &format!("{at}.TotalCount")).map_err(malformed)?;
            report.differences = list(diff.get("Items"), &format!("{at}.Items"), decode_difference)
                .map_err(malformed)?;
        }
        let at = "Response.Detail.Skipped";
        if let Some(skip) = object(d.get("Skipped"), at).map_err(malformed)? {
            report.skipped_total =
                integer(skip.get("TotalCount"), &format!("{at}.TotalCount")).map_err(malformed)?;
            report.skipped = list(skip.get("Items"), &format!("{at}.Items"), decode_skipped)
                .map_err(malformed)?;
        }
    }
    Ok(report)
}

/// A value that may be sent as a string or a number (the bounds of a chunk are keys).
fn text_or_number(value: Option<&Value>, at: &str) -> Result<String, String> {
    match value {
        Some(Value::Number(n)) => Ok(n.to_string()),
        other => string(other, at),
    }
}

fn decode_difference(value: &Value, at: &str) -> Result<Difference, String> {
    let item = required_object(value, at)?;
    let field = |name: &str| string(item.get(name), &format!("{at}.{name}"));
    let loose = |name: &str| text_or_number(item.get(name), &format!("{at}.{name}"));
    Ok(Difference {
        db: field("Db")?,
        schema: field("Schema")?,
        table: field("Table")?,
        chunk: integer(item.get("Chunk"), &format!("{at}.Chunk"))?,
        index_name: field("IndexName")?,
        lower: loose("LowerBoundary")?,
        upper: loose("UpperBoundary")?,
        src_item: loose("SrcItem")?,
        dst_item: loose("DstItem")?,
    })
}

fn decode_skipped(value: &Value, at: &str) -> Result<Skipped, String> {
    let item = required_object(value, at)?;
    let field = |name: &str| string(item.get(name), &format!("{at}.{name}"));
    Ok(Skipped {
        db: field("Db")?,
        schema: field("Schema")?,
        table: field("Table")?,
        reason: field("Reason")?,
    })
}

/// `CreateCompareTask`'s `Options` (`CompareOptions`): what the gate sets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompareOptions {
    /// `Method`: dataCheck, sampleDataCheck or rowsCount.
    pub method: String,
    /// `SampleRate` (1 to 100); the service's default (100) when `None`.
    pub sample_rate: Option<u32>,
    /// `ThreadCount` (1 to 8); the service's default (1) when `None`.
    pub threads: Option<u32>,
}

/// The name the gate gives the compare tasks it creates.
pub const TASK_NAME: &str = "dts-gate";

/// The body of `CreateCompareTask`: every migrated object, with `options`.
pub fn create_body(job_id: &str, options: &CompareOptions) -> Vec<u8> {
    let mut opts = serde_json::Map::new();
    opts.insert("Method".into(), Value::from(options.method.clone()));
    if let Some(rate) = options.sample_rate {
        opts.insert("SampleRate".into(), Value::from(rate));
    }
    if let Some(threads) = options.threads {
        opts.insert("ThreadCount".into(), Value::from(threads));
    }
    serde_json::to_vec(&serde_json::json!({
        "JobId": job_id,
        "TaskName": TASK_NAME,
        "ObjectMode": "sameAsMigrate",
        "Options": opts,
    }))
    .expect("a JSON object encodes")
}

/// The body of an action on one compare task (`StartCompare`, `StopCompare`,
/// `DescribeCompareTasks`).
pub fn task_body(job_id: &str, task_id: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "JobId": job_id, "CompareTaskId": task_id }))
        .expect("a JSON object encodes")
}

/// How many differing chunks and skipped tables one report asks for.
pub const REPORT_LIMIT: u32 = 100;

/// The body of `DescribeCompareReport`.
pub fn report_body(job_id: &str, task_id: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "JobId": job_id,
        "CompareTaskId": task_id,
        "DifferenceLimit": REPORT_LIMIT,
        "SkippedLimit": REPORT_LIMIT,
    }))
    .expect("a JSON object encodes")
}

#[cfg(test)]
mod tests {
    use super::super::{Secrets, parse_compare_created, parse_compare_report, parse_compare_tasks};
    use super::*;

    const CREATED: &str = r#"{"Response": {"CompareTaskId": "dts-8yv4w2i1-cmp-37skmii9", "RequestId": "ac300ff0-00f2-11ed-b005-4930e69d89c2"}}"#;

    /// The reference's official `DescribeCompareTasks` example.
    const TASKS: &str = r#"{"Response": {"Items": [{
        "CheckProcess": {"Message": "", "Status": "", "StepAll": 0, "StepNow": 0, "Percent": 0, "Steps": []},
        "CompareProcess": {"Message": "done", "Status": "", "StepAll": 0, "StepNow": 0, "Steps": []},
        "CompareTaskId": "dts-amm1jw5q-cmp-bmuum7jk", "Conclusion": "same",
        "Config": {"ObjectItems": [{"DbMode": "partial", "DbName": "big100", "SchemaName": "", "TableMode": "partial", "Tables": null, "ViewMode": "none", "Views": null}], "ObjectMode": "partial", "AdvancedObjects": ["index"]},
        "CreatedAt": "2022-07-11 17:21:02", "FinishedAt": "2022-07-11 17:24:54", "Method": "dataCheck",
        "Options": {"Method": "dataCheck", "SampleRate": 100, "ThreadCount": 1},
        "JobId": "dts-amm1jw5q", "Message": "done", "StartedAt": "2022-07-11 17:24:09", "Status": "success", "TaskName": "defaultCmpTask"}],
        "RequestId": "11d35c90-01bb-11ed-bad9-7b3bbe11abda", "TotalCount": 1}}"#;

    /// The reference's official `DescribeCompareReport` example.
    const REPORT: &str = r#"{"Response": {
        "Abstract": {"CheckedTables": 1, "Conclusion": "same", "DifferentRows": 0, "DifferentTables": 0, "DstSampleRows": 0,
            "FinishedAt": "2024-12-20 19:07:20", "NearlyTableCount": 1,
            "Objects": {"AdvancedObjects": [], "ObjectItems": [{"DbMode": "partial", "DbName": "db_1", "SchemaName": "", "TableMode": "partial", "Tables": [{"ColumnMode": "all", "Columns": [], "TableName": "tb_1"}], "ViewMode": "partial", "Views": null}], "ObjectMode": "partial"},
            "Options": {"Method": "dataCheck", "SampleRate": 100, "ThreadCount": 1, "Type": "builtin"},
            "SkippedTables": 0, "SrcSampleRows": 0, "StartedAt": "2024-12-20 19:04:03", "Status": "success", "TotalTables": 1},
        "Detail": {"Difference": {"Items": [], "TotalCount": 0},
            "DifferenceAdvancedObjects": {"Items": null, "TotalCount": 0}, "DifferenceData": {"Items": null, "TotalCount": 0},
            "DifferenceOwner": {"Items": null, "TotalCount": 0}, "DifferenceRow": {"Items": null, "TotalCount": 0},
            "DifferenceSchema": {"Items": null, "TotalCount": 0}, "Skipped": {"Items": [], "TotalCount": 0}},
        "RequestId": "a3365b29-2042-4565-9206-8df9e2af1a17"}}"#;

    fn secrets() -> Secrets {
        Secrets::default()
    }

    #[test]
    fn the_official_examples_decode() {
        let id = parse_compare_created(200, CREATED.as_bytes(), &secrets()).unwrap();
        assert_eq!(id, "dts-8yv4w2i1-cmp-37skmii9");
        let task = parse_compare_tasks(
            200,
            TASKS.as_bytes(),
            &secrets(),
            "dts-amm1jw5q-cmp-bmuum7jk",
        )
        .unwrap();
        assert!(task.listed);
        assert_eq!(task.status, "success");
        assert_eq!(task.conclusion, "same");
        assert_eq!(task.method, "dataCheck");
        assert_eq!(task.message, "done");
        assert_eq!(task.request_id, "11d35c90-01bb-11ed-bad9-7b3bbe11abda");
        let report = parse_compare_report(200, REPORT.as_bytes(), &secrets()).unwrap();
        assert_eq!(report.conclusion, "same");
        assert_eq!(report.status, "success");
        assert_eq!(report.total_tables, Some(1));
        assert_eq!(report.checked_tables, Some(1));
        assert_eq!(report.different_tables, Some(0));
        assert_eq!(report.different_rows, Some(0));
        assert_eq!(report.skipped_tables, Some(0));
        assert!(report.differences.is_empty() && report.skipped.is_empty());
        assert_eq!(report.differences_total, Some(0));
    }

    #[test]
    fn a_task_not_listed_has_no_status_never_a_finished_one() {
        let task = parse_compare_tasks(200, TASKS.as_bytes(), &secrets(), "other").unwrap();
        assert!(!task.listed);
        assert_eq!(task.status, "");
        let twice = TASKS.replace(
            r#""Items": [{"#,
            r#""Items": [{"CompareTaskId": "dts-amm1jw5q-cmp-bmuum7jk", "Status": "running"}, {"#,
        );
        assert!(matches!(
            parse_compare_tasks(
                200,
                twice.as_bytes(),
                &secrets(),
                "dts-amm1jw5q-cmp-bmuum7jk"
            ),
            Err(ApiError::Malformed { .. })
        ));
    }

    #[test]
    fn differences_and_skipped_tables_decode_with_their_bounds_and_reasons() {
        let body = r#"{"Response": {"Abstract": {"Conclusion": "different", "Status": "success", "DifferentTables": 1, "DifferentRows": 3, "SkippedTables": 1},
            "Detail": {"Difference": {"TotalCount": 1, "Items": [{"Db": "shop", "Schema": "", "Table": "orders", "Chunk": 7, "IndexName": "PRIMARY", "LowerBoundary": "100", "UpperBoundary": 200, "SrcItem": "abc", "DstItem": "abd"}]},
                "Skipped": {"TotalCount": 1, "Items": [{"Db": "shop", "Table": "logs", "Reason": "no primary key"}]}},
            "RequestId": "r"}}"#;
        let report = parse_compare_report(200, body.as_bytes(), &secrets()).unwrap();
        let d = &report.differences[0];
        assert_eq!(d.table_name(), "shop.orders");
        assert_eq!(
            d.bounds(),
            "chunk 7, index PRIMARY, from 100 to 200 (source abc, target abd)"
        );
        assert_eq!(report.skipped[0].table_name(), "shop.logs");
        assert_eq!(report.skipped[0].reason, "no primary key");
    }

    #[test]
    fn wrong_types_and_a_missing_task_id_are_malformed() {
        for body in [
            r#"{"Response": {"RequestId": "r"}}"#,
            r#"{"Response": {"CompareTaskId": "", "RequestId": "r"}}"#,
            r#"{"Response": {"CompareTaskId": 7, "RequestId": "r"}}"#,
        ] {
            assert!(
                matches!(
                    parse_compare_created(200, body.as_bytes(), &secrets()),
                    Err(ApiError::Malformed { .. })
                ),
                "{body}"
            );
        }
        for body in [
            r#"{"Response": {"Abstract": {"DifferentTables": "0"}, "RequestId": "r"}}"#,
            r#"{"Response": {"Abstract": [], "RequestId": "r"}}"#,
            r#"{"Response": {"Detail": {"Difference": {"Items": {}}}, "RequestId": "r"}}"#,
            r#"{"Response": {"Abstract": {"Conclusion": "same", "Conclusion": "different"}, "RequestId": "r"}}"#,
        ] {
            assert!(
                matches!(
                    parse_compare_report(200, body.as_bytes(), &secrets()),
                    Err(ApiError::Malformed { .. })
                ),
                "{body}"
            );
        }
        assert!(matches!(
            parse_compare_tasks(
                200,
                br#"{"Response": {"Items": {}, "RequestId": "r"}}"#,
                &secrets(),
                "x"
            ),
            Err(ApiError::Malformed { .. })
        ));
    }
}
