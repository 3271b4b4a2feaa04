//! The step outputs as a workflow reads them: `fromJSON(steps.gate.outputs.jobs)` must work in
//! every outcome, however much the service wrote.

mod common;

use common::http::{Reply, Responder};
use common::*;
use serde_json::Value;

#[test]
fn the_jobs_output_of_thirty_long_messages_is_valid_json() {
    let message = "the table \"t\" is missing; ".repeat(120);
    let server = Responder::always(Reply::json(&not_passed(&message)));
    let ids: Vec<String> = (0..30).map(|i| format!("dts-{i:08}")).collect();
    let run = Gate::against(&server.url())
        .env("DTS_JOB_ID", &ids.join(","))
        .env("DTS_FAIL_FAST", "false")
        // Thirty requests at the service's own limit rather than the default budget: 1.5 s, not 3.
        .env("DTS_MAX_REQUEST_RATE", "20")
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    let jobs = run.output("jobs");
    assert!(jobs.chars().count() <= 64 * 1024, "{}", jobs.len());
    let jobs: Value = serde_json::from_str(jobs).expect("the jobs output is JSON");
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 30);
    for (job, id) in jobs.iter().zip(&ids) {
        assert_eq!(job["id"], id.as_str());
        assert_eq!(job["result"], "not-passed");
    }
    // The message is still whole where it fits: in the JSON report and error-message.
    assert_eq!(run.output("error-message"), message);
}
