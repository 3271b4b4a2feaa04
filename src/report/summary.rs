//! The job summary (`GITHUB_STEP_SUMMARY`): Markdown, verdict first, then each job's key table
//! and, for 2021-12-06 answers, its steps and every failed and warning item. Service text is
//! made inert with [`markdown_text`]; the whole stays below GitHub's 1 MiB.

use std::fmt::Write as _;

use super::facts::{JobFacts, RunFacts, flag_header, flag_text, progress_text};
use super::text::{markdown_link, markdown_text};
use super::verdict::{failed_steps_text, first_reason};
use crate::api::{ApiVersion, CheckAnswer, CheckItem, CheckStep, JobKind, StepStatus};
use crate::hints::Setting;
use crate::outcome::{JobOutcome, Outcome, Severity, Start};

/// The summary must stay below GitHub's 1 MiB per step, whatever the service returns.
pub const MAX_SUMMARY_BYTES: usize = 900 * 1024;

/// The job summary, verdict first.
pub fn summary_markdown(facts: &RunFacts) -> String {
    let run = facts.run;
    let mut md = String::new();
    let jobs = facts.jobs.as_slice();
    let subject = match jobs {
        [one] => markdown_text(one.id()),
        many => format!("{} jobs", many.len()),
    };
    let heading = match (run.outcome, jobs) {
        (Outcome::InvalidConfig(_), _) => "⚠️ dts-gate: invalid configuration".to_string(),
        (Outcome::DryRun { .. }, _) => {
            "🔎 dts-gate dry run: nothing was sent or checked".to_string()
        }
        (_, [one]) => job_heading(one, &subject, run.api),
        _ => match run.outcome.severity() {
            Severity::Passed => format!("✅ DTS checks passed: {subject}"),
            Severity::NotWaitedFor => format!("⏭️ DTS checks not waited for: {subject}"),
            Severity::NotPassed => format!("❌ DTS checks did not pass: {subject}"),
            Severity::TimedOut => format!("⏱️ DTS checks timed out: {subject}"),
            Severity::Error => format!("⚠️ DTS checks could not all be read: {subject}"),
            Severity::Cancelled => format!("🛑 dts-gate cancelled: {subject}"),
        },
    };
    let _ = writeln!(md, "### {heading}\n");

    if let Outcome::InvalidConfig(errors) = run.outcome {
        md.push_str("Nothing was sent to the service. Fix these variables:\n\n");
        for e in errors {
            let _ = writeln!(md, "- {}", markdown_text(&e.to_string()));
        }
        return md;
    }
    if let Outcome::DryRun { .. } = run.outcome {
        md.push_str("Nothing was sent; the log lists the calls a run would make.\n");
        polling_warnings_markdown(facts, &mut md);
        return md;
    }
    if let Some(verdict) = &facts.verdict {
        let _ = writeln!(md, "> {}\n", markdown_text(&verdict.message));
    }
    if let [one] = jobs {
        job_markdown(one, facts, &mut md);
    } else {
        let rows: Vec<Vec<String>> = jobs
            .iter()
            .map(|job| {
                let a = job.answer;
                vec![
                    markdown_text(job.id()),
                    job.job.result().to_string(),
                    markdown_text(&a.map(|a| a.status.clone()).unwrap_or_default()),
                    markdown_text(
                        &a.map(|a| flag_text(a.check_flag.as_ref()))
                            .unwrap_or_default(),
                    ),
                    markdown_text(&a.map(progress_text).unwrap_or_default()),
                    markdown_text(&job.message),
                    start_text(&job.job.start),
                ]
            })
            .collect();
        md.push_str(&table(
            &[
                "Job",
                "Result",
                "Task status",
                flag_header(run.api),
                "Progress",
                "Message",
                start_header(run.api),
            ],
            &rows,
        ));
        let _ = writeln!(
            md,
            "\nRegion {}, API {}, {} requests, {}s.",
            markdown_text(run.region),
            run.api.as_str(),
            run.polls,
            run.elapsed.as_secs()
        );
        for job in jobs {
            let _ = writeln!(
                md,
                "\n#### {}\n",
                job_heading(job, &markdown_text(job.id()), run.api)
            );
            if let Some(verdict) = &job.verdict {
                let _ = writeln!(md, "> {}\n", markdown_text(&verdict.message));
            }
            job_markdown(job, facts, &mut md);
        }
    }
    polling_warnings_markdown(facts, &mut md);
    cap_summary(md, facts)
}

/// A GFM table; a column empty in every row is left out.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let kept: Vec<usize> = (0..header.len())
        .filter(|&c| rows.iter().any(|r| !r[c].is_empty()))
        .collect();
    let line = |cells: Vec<&str>| format!("| {} |\n", cells.join(" | "));
    let mut out = line(kept.iter().map(|&c| header[c]).collect());
    out.push_str(&format!("|{}|\n", vec!["---"; kept.len()].join("|")));
    for row in rows {
        out.push_str(&line(kept.iter().map(|&c| row[c].as_str()).collect()));
    }
    out
}

/// The warnings raised while waiting (GitHub annotates at most 10 of a kind per step, and a
/// repeated one once), every one of them.
fn polling_warnings_markdown(facts: &RunFacts, md: &mut String) {
    if facts.polling_warnings.is_empty() {
        return;
    }
    md.push_str("\n#### Warnings while waiting\n\n");
    for n in &facts.polling_warnings {
        let _ = writeln!(
            md,
            "- **{}**: {}",
            bold_text(&n.title),
            markdown_text(&n.message)
        );
    }
}

/// Text for inside `**...**`: Markdown-escaped and without spaces at either end, which would
/// leave the asterisks showing; `(no name)` when nothing is left.
fn bold_text(text: &str) -> String {
    let md = markdown_text(text.trim());
    match md.trim() {
        "" => "(no name)".to_string(),
        md => md.to_string(),
    }
}

fn job_heading(job: &JobFacts, subject: &str, api: ApiVersion) -> String {
    match job.job.start {
        Start::Refused(_) => {
            return format!(
                "⚠️ DTS check passed, {} not started: {subject}",
                api.kind().noun()
            );
        }
        Start::Cancelled { .. } => return format!("🛑 dts-gate cancelled: {subject}"),
        _ => {}
    }
    match &job.job.outcome {
        JobOutcome::Passed(_) => format!("✅ DTS check passed: {subject}"),
        JobOutcome::NotPassed(a) if a.is_task_failure() => {
            format!("❌ DTS check task failed: {subject}")
        }
        JobOutcome::NotPassed(_) => format!("❌ DTS check did not pass: {subject}"),
        JobOutcome::TimedOut { .. } => format!("⏱️ DTS check timed out: {subject}"),
        JobOutcome::Failed { .. } => format!("⚠️ DTS check could not be read: {subject}"),
        JobOutcome::Cancelled { .. } => format!("🛑 dts-gate cancelled: {subject}"),
        JobOutcome::NotWaitedFor { .. } => format!("⏭️ DTS check not waited for: {subject}"),
    }
}

/// The header of the row or column that says what became of the start: the job's kind, since a
/// sync job's start (`StartSyncJob`) starts no migration.
fn start_header(api: ApiVersion) -> &'static str {
    match api.kind() {
        JobKind::Migration => "Migration",
        JobKind::Sync => "Sync job",
    }
}

fn start_text(start: &Start) -> String {
    match start {
        Start::NotRequested => "not requested".to_string(),
        Start::Withheld => "not started".to_string(),
        Start::Started { request_id } => format!("started \\({}\\)", markdown_text(request_id)),
        Start::Refused(error) => format!("failed: {}", markdown_text(&error.code())),
        Start::Cancelled { .. } => "not started \\(cancelled\\)".to_string(),
    }
}

/// One job's key table and, for 2021 answers, its steps. A row without a value is left out,
/// and the service's message when the verdict above already quotes it.
fn job_markdown(job: &JobFacts, facts: &RunFacts, md: &mut String) {
    let run = facts.run;
    // A failure the user skipped is passed over by the service: say so first, never silently.
    if let Some(a) = job.answer {
        let skipped: Vec<String> = a.skipped_failures().map(|s| s.label()).collect();
        if !skipped.is_empty() {
            let _ = writeln!(
                md,
                "> ⚠️ **Failed check steps skipped by the user, not passed**: {}. The service does not hold them against the check; make sure they are safe to ignore before you start the {}.\n",
                markdown_text(&skipped.join(", ")),
                run.api.kind().noun()
            );
        }
    }
    let mut rows: Vec<(&str, String)> = vec![
        ("Job", markdown_text(job.id())),
        ("Region", markdown_text(run.region)),
        ("API version", run.api.as_str().to_string()),
    ];
    if let Some(a) = job.answer {
        let found = failed_steps_text(a);
        if let Some(found) = &found {
            rows.push(("Failed steps", markdown_text(found)));
            let reason = first_reason(a).unwrap_or_default();
            rows.push(("First reason", markdown_text(&reason)));
        }
        rows.push(("Task status", markdown_text(&a.status)));
        rows.push((
            flag_header(run.api),
            markdown_text(&flag_text(a.check_flag.as_ref())),
        ));
        rows.push(("Progress", markdown_text(&progress_text(a))));
        if let Some(code) = a.error_code {
            rows.push(("Error code", code.to_string()));
        }
        let quoted = matches!(job.job.outcome, JobOutcome::NotPassed(_)) && found.is_none();
        if !quoted {
            rows.push(("Service message", markdown_text(&a.error_message)));
        }
    }
    if let JobOutcome::Failed { error, .. } = &job.job.outcome {
        rows.push(("API error", markdown_text(&error.to_string())));
        if let Some(hint) = crate::hints::api_error(error, run.api, run.surface) {
            rows.push(("What to do", markdown_text(&hint)));
        }
    }
    if job.job.start != Start::NotRequested {
        rows.push((start_header(run.api), start_text(&job.job.start)));
    }
    rows.push(("Request id", markdown_text(&job.request_id)));
    if facts.jobs.len() == 1 {
        rows.push(("Elapsed", format!("{}s", run.elapsed.as_secs())));
        rows.push(("Polls", run.polls.to_string()));
    } else {
        rows.push(("Polls", job.job.polls.to_string()));
    }
    // The first row is the table's header: GFM has no table without one.
    let mut rows = rows.into_iter().filter(|(_, v)| !v.is_empty());
    if let Some((k, v)) = rows.next() {
        let _ = writeln!(md, "| {k} | {v} |\n|---|---|");
    }
    for (k, v) in rows {
        let _ = writeln!(md, "| {k} | {v} |");
    }
    if let Some(a) = job.answer.filter(|a| !a.steps.is_empty()) {
        steps_markdown(a, md);
    }
}

/// The step's own predicates decide, so a sync step that says `finished` shows as what it is:
/// warned (a warning item), failed (an error item), or passed.
fn status_icon(step: &CheckStep) -> &'static str {
    if step.is_warning() {
        return "⚠️";
    }
    if step.is_failed() {
        return "❌";
    }
    match step.status {
        StepStatus::Pass | StepStatus::Finished => "✅",
        StepStatus::Blocked => "⛔",
        _ => "⏳",
    }
}

fn steps_markdown(answer: &CheckAnswer, md: &mut String) {
    // Numbered by position, as the log numbers them (`step 3/6`).
    let rows: Vec<Vec<String>> = answer
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let skipped = if step.has_skipped { " (skipped)" } else { "" };
            vec![
                (i + 1).to_string(),
                markdown_text(&step.label()),
                format!(
                    "{} {}{skipped}",
                    status_icon(step),
                    markdown_text(step.status.as_str())
                ),
                markdown_text(&step.message),
            ]
        })
        .collect();
    md.push_str("\n#### Check steps\n\n");
    md.push_str(&table(&["#", "Step", "Status", "Message"], &rows));
    type Wanted = fn(&CheckItem) -> bool;
    let kinds: [(&str, Wanted); 2] = [
        ("Failed check items", CheckItem::is_failed),
        ("Warnings", CheckItem::is_warning),
    ];
    for (heading, wanted) in kinds {
        let entries: Vec<(&CheckStep, &CheckItem)> =
            answer.items().filter(|(_, i)| wanted(i)).collect();
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(md, "\n#### {heading}\n");
        for (step, item) in entries {
            item_markdown(step, item, md);
        }
    }
}

fn item_markdown(step: &CheckStep, item: &CheckItem, md: &mut String) {
    let _ = writeln!(
        md,
        "**{}**{}\n",
        bold_text(&step.item_title(item)),
        if step.has_skipped { " (skipped)" } else { "" }
    );
    for (label, text) in [
        ("Reason", &item.failure_reason),
        ("Description", &item.description),
        ("Solution", &item.solution),
        ("Skip", &item.skip_info),
    ] {
        if !text.is_empty() {
            let _ = writeln!(md, "- {label}: {}", markdown_text(text));
        }
    }
    if !item.help_doc.is_empty() {
        let links: Vec<String> = item.help_doc.iter().map(|u| markdown_link(u)).collect();
        let _ = writeln!(md, "- Help: {}", links.join(", "));
    }
    if !item.error_log.is_empty() {
        let lines: Vec<String> = item.error_log.iter().map(|l| markdown_text(l)).collect();
        let _ = writeln!(md, "- Log:<br>{}", lines.join("<br>"));
    }
    md.push('\n');
}

/// Cuts a summary that would pass GitHub's limit at a line boundary, and says where the rest
/// is: the JSON report, which has every step and item.
fn cap_summary(md: String, facts: &RunFacts) -> String {
    if md.len() <= MAX_SUMMARY_BYTES {
        return md;
    }
    let mut cut = MAX_SUMMARY_BYTES;
    while !md.is_char_boundary(cut) {
        cut -= 1;
    }
    let cut = md[..cut].rfind('\n').map_or(cut, |i| i + 1);
    format!(
        "{}\n_The summary was cut here to stay within GitHub's 1 MiB limit. Every step and item is in the JSON report ({})._\n",
        &md[..cut],
        markdown_text(&facts.run.surface.name(Setting::ReportJson))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiError;
    use crate::outcome::{JobOutcome, JobReport};
    use crate::report::fixtures::*;

    fn summary_of(outcome: &Outcome) -> String {
        summary_markdown(&RunFacts::of(&run_of(outcome)))
    }

    #[test]
    fn a_sync_summary_speaks_of_the_sync_job_not_a_migration() {
        let mut skipped = step(
            "OptimizeCheck",
            "failed",
            vec![item("no primary key", "failed")],
        );
        skipped.has_skipped = true;
        let outcome = Outcome::Jobs(vec![JobReport {
            start: Start::Refused(ApiError::Service {
                code: "FailedOperation".into(),
                message: "busy".into(),
                request_id: "req-start".into(),
            }),
            ..report(
                "sync-7x1a",
                JobOutcome::Passed(answer_sync("success", "CheckPass", vec![skipped])),
            )
        }]);
        let md = summary_of(&outcome);
        assert!(
            md.starts_with("### ⚠️ DTS check passed, sync job not started: sync-7x1a\n"),
            "{md}"
        );
        assert!(
            md.contains("| Sync job | failed: FailedOperation |"),
            "{md}"
        );
        assert!(md.contains("before you start the sync job."), "{md}");
        assert!(!md.contains("igration"), "{md}");
    }

    #[test]
    fn a_sync_check_shows_its_job_status_and_finished_steps_as_passed() {
        let mut warned = step(
            "SrcPrivilegeCheck",
            "finished",
            vec![item("grants", "warning")],
        );
        warned.step_no = Some(2);
        let outcome = single(JobOutcome::Passed(answer_sync(
            "success",
            "CheckPass",
            vec![step("ConnectDBCheck", "finished", vec![]), warned],
        )));
        let md = summary_of(&outcome);
        assert!(
            md.contains("| Sync job status | CheckPass \\(passed\\) |"),
            "{md}"
        );
        assert!(!md.contains("Check flag"), "{md}");
        assert!(md.contains("(ConnectDBCheck\\) | ✅ finished |"), "{md}");
        // Its warning item is the only sign of a warning: the step's status is `finished`.
        assert!(md.contains("(SrcPrivilegeCheck\\) | ⚠️ finished |"), "{md}");
        // An error item fails a step that says `finished`, in the table as everywhere.
        let failed = single(JobOutcome::NotPassed(answer_sync(
            "success",
            "CheckPass",
            vec![step(
                "DstEmptyCheck",
                "finished",
                vec![item("table exists", "failed")],
            )],
        )));
        let md = summary_of(&failed);
        assert!(md.contains("(DstEmptyCheck\\) | ❌ finished |"), "{md}");
    }

    #[test]
    fn summary_puts_the_verdict_first_and_escapes_service_text() {
        let outcome = single(JobOutcome::NotPassed(answer(
            "finished",
            Some(0),
            "<b>x</b> | [y](z)",
        )));
        let md = summary_of(&outcome);
        assert!(md.starts_with("### ❌ DTS check did not pass: dts-1kl0iy0v\n"));
        assert!(md.contains("| Check flag | 0 \\(not passed\\) |"));
        assert!(md.contains("&lt;b&gt;x&lt;/b&gt; \\| \\[y\\]\\(z\\)"));
        assert!(!md.contains("<b>"));
        for row in [
            "| Job |",
            "| Region |",
            "| Task status |",
            "| Progress |",
            "| Request id |",
            "| Elapsed | 12s |",
            "| Polls | 3 |",
            "| API version | 2018-03-30 |",
        ] {
            assert!(md.contains(row), "{row} missing from\n{md}");
        }
    }

    #[test]
    fn summary_stays_small_whatever_the_service_says() {
        let huge = "x".repeat(1_000_000);
        let outcome = single(JobOutcome::NotPassed(answer("finished", Some(0), &huge)));
        let md = summary_of(&outcome);
        assert!(md.len() < 100 * 1024, "{}", md.len());
        // Thousands of steps with long items still fit under GitHub's 1 MiB.
        let steps = (0..3000)
            .map(|i| {
                step(
                    &format!("Step{i}"),
                    "failed",
                    vec![item(&"y".repeat(2000), "failed")],
                )
            })
            .collect();
        let outcome = single(JobOutcome::NotPassed(answer_2021(
            "success",
            "checkNotPass",
            steps,
        )));
        let md = summary_of(&outcome);
        assert!(md.len() <= MAX_SUMMARY_BYTES + 200, "{}", md.len());
        assert!(
            md.ends_with("Every step and item is in the JSON report (DTS\\_REPORT\\_JSON)._\n"),
            "{}",
            &md[md.len() - 300..]
        );
    }

    #[test]
    fn a_not_passed_2021_check_lists_steps_failed_items_and_warnings() {
        let outcome = not_passed_2021();
        let summary = summary_of(&outcome);
        assert!(summary.contains("#### Check steps"));
        assert!(
            summary.contains("| 2 | SrcPrivilegeCheck name \\(SrcPrivilegeCheck\\) | ❌ failed |")
        );
        // What the check found, and the service's task status as such.
        assert!(
            summary.contains("| Failed steps | 2 of 5 check steps failed: SrcPrivilegeCheck name")
        );
        assert!(
            summary.contains("| First reason | REPLICATION CLIENT: REPLICATION CLIENT is wrong |")
        );
        assert!(summary.contains("| Task status | success |"));
        // No step has a message: no Message column.
        assert!(summary.contains("| # | Step | Status |\n"));
        assert!(summary.contains("⚠️ failed (skipped)"));
        assert!(summary.contains("#### Failed check items"));
        assert!(summary.contains("#### Warnings"));
        assert!(summary.contains("- Help: [https\\://cloud.tencent.com/document/product/571/58700](<https://cloud.tencent.com/document/product/571/58700>)"));
        assert!(summary.contains("log line 7"));
    }

    #[test]
    fn the_summary_lists_every_item_past_the_annotation_cap() {
        let outcome = fourteen_failed_items();
        let summary = summary_of(&outcome);
        for i in 0..14 {
            assert!(
                summary.contains(&format!("› item{i}**")),
                "item{i} missing from summary"
            );
        }
    }

    #[test]
    fn headings_follow_the_outcome() {
        let task_failed = task_failed_2021();
        assert!(summary_of(&task_failed).starts_with("### ❌ DTS check task failed"));
        let passed = single(JobOutcome::Passed(answer_2021(
            "success",
            "checkPass",
            vec![step("SrcPrivilegeCheck", "warning", vec![])],
        )));
        assert!(summary_of(&passed).starts_with("### ✅"));
    }
}
