//! The job summary as GitHub shows it: the real binary's `GITHUB_STEP_SUMMARY`, rendered with
//! GitHub's own Markdown engine (cmark-gfm, through PyPI's `cmarkgfm`, with raw HTML allowed as
//! GitHub allows it before sanitising). `.ci/test` installs `cmarkgfm`; a missing one fails
//! these tests, never skips them.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::http::{Reply, Responder};
use common::*;
use serde_json::{Value, json};

const RENDER: &str = "import sys\ntry:\n    import cmarkgfm\n    from cmarkgfm.cmark import Options\nexcept ImportError:\n    sys.exit(17)\nsys.stdout.write(cmarkgfm.github_flavored_markdown_to_html(sys.stdin.read(), options=Options.CMARK_OPT_UNSAFE))\n";

/// `markdown` as GitHub renders it to HTML.
fn render(markdown: &str) -> String {
    let mut child = Command::new("python3")
        .args(["-c", RENDER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 could not be run ({e}); these tests render the summary with PyPI's cmarkgfm: install python3, then `python3 -m pip install cmarkgfm` (.ci/test does this)"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(markdown.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ne!(
        out.status.code(),
        Some(17),
        "cmarkgfm is missing: `python3 -m pip install cmarkgfm` (.ci/test installs it); these tests render the summary with GitHub's Markdown engine"
    );
    assert!(out.status.success(), "cmarkgfm failed: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// HTML character references back to text, as a browser reads an attribute.
fn unescape_html(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every link's target, as the browser follows it.
fn hrefs(html: &str) -> Vec<String> {
    html.split("<a href=\"")
        .skip(1)
        .map(|rest| unescape_html(&rest[..rest.find('"').unwrap()]))
        .collect()
}

/// The text of `html` without its tags, character references decoded.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape_html(&out)
}

/// A 2021-12-06 item with every text field given.
fn item_json(name: &str, result: &str, reason: &str, help: &[&str]) -> Value {
    json!({"CheckItemName": name, "CheckResult": result, "Description": "",
           "FailureReason": reason, "Solution": "", "ErrorLog": [], "HelpDoc": help,
           "SkipInfo": ""})
}

/// The summary of a 2021-12-06 run whose one failed step holds `items`.
fn summary_2021(items: Vec<Value>, brief: &str) -> String {
    let body = json!({"Response": {"Status": "success", "CheckFlag": "checkNotPass",
        "BriefMsg": brief, "RequestId": "req-md", "StepInfo": [
            {"StepNo": 0, "StepId": "ConnectDBCheck", "StepName": "Connection",
             "StepStatus": "pass", "StepMessage": "", "DetailCheckItems": [], "HasSkipped": false},
            {"StepNo": 1, "StepId": "SrcPrivilegeCheck", "StepName": "Privileges",
             "StepStatus": "failed", "StepMessage": "", "DetailCheckItems": items,
             "HasSkipped": false}]}});
    let server = Responder::always(Reply::json(&body.to_string()));
    let run = Gate::against(&server.url())
        .env("DTS_API_VERSION", "2021-12-06")
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    run.summary
}

#[test]
fn https_urls_in_service_text_link_to_exactly_that_url_and_nothing_else_links() {
    let reason = "see https://cloud.tencent.com/document/product/571/58700). Or http://plain.example/x, www.example.com, ops@example.com, mailto:ops@example.com, xmpp:ops@example.com, ftp://f.example/ and javascript:alert(1).";
    let help = [
        "https://x.example/a_b?c=1&d=2&copy=3#f",
        "http://insecure.example/doc",
        "javascript:alert(1)",
    ];
    let md = summary_2021(
        vec![item_json("grants", "failed", reason, &help)],
        "success",
    );
    let html = render(&md);
    let mut links = hrefs(&html);
    links.sort();
    links.dedup();
    assert_eq!(
        links,
        [
            "https://cloud.tencent.com/document/product/571/58700",
            "https://x.example/a_b?c=1&d=2&copy=3#f",
        ],
        "{md}\n{html}"
    );
    let text = visible(&html);
    // Everything reads as it was sent: no stray backslash, entity or underscore escape.
    assert!(text.contains(reason), "{text}");
    for h in help {
        assert!(text.contains(h), "{h} missing from {text}");
    }
    assert!(!text.contains('\\') && !text.contains("&amp;"), "{text}");
}

#[test]
fn odd_item_names_stay_plain_bold_text() {
    let items = vec![
        item_json("", "failed", "no name", &[]),
        item_json("trailing space ", "failed", "x", &[]),
        item_json(" \u{7} ", "warning", "control only", &[]),
    ];
    let md = summary_2021(items, "success");
    let html = render(&md);
    assert!(!visible(&html).contains("**"), "{md}\n{html}");
    assert_eq!(html.matches("<strong>").count(), 3, "{html}");
}

#[test]
fn a_dry_run_summary_is_one_line_and_no_empty_table() {
    let run = Gate::against("https://dts.tencentcloudapi.com")
        .arg("--dry-run")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let html = render(&run.summary);
    assert!(!html.contains("<table>"), "{html}");
    assert!(
        visible(&html).contains("Nothing was sent; the log lists the calls a run would make."),
        "{html}"
    );
}

/// `--demo=fail` with the 2021-12-06 API, on GitHub or not.
fn failing_demo_2021(on_github: bool) -> Run {
    let mut gate = Gate::bare()
        .arg("--demo=fail")
        .env("DTS_API_VERSION", "2021-12-06")
        .env("DTS_POLL_INTERVAL", "100ms");
    if !on_github {
        gate = gate.outside_github();
    }
    let run = gate.run();
    assert_eq!(run.code, 1, "{run:?}");
    run
}

/// The first table in `html` that holds `header`.
fn table_with<'a>(html: &'a str, header: &str) -> &'a str {
    html.split("<table>")
        .find(|t| t.contains(header))
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_else(|| panic!("no table with {header}:\n{html}"))
}

#[test]
fn a_failed_2021_check_says_what_it_found_not_success() {
    let run = failing_demo_2021(true);
    let html = render(&run.summary);
    let keys = visible(table_with(&html, "<th>Job</th>"));
    assert!(
        keys.contains("Failed steps\n1 of 6 check steps failed: Source instance privilege check (SrcPrivilegeCheck)"),
        "{keys}"
    );
    assert!(
        keys.contains(
            "First reason\nREPLICATION CLIENT privilege: The source account dts_user lacks"
        ),
        "{keys}"
    );
    assert!(keys.contains("Task status\nsuccess"), "{keys}");
    assert!(!keys.contains("Message\nsuccess"), "{keys}");
    let message = run.output("error-message");
    assert!(
        message.starts_with("1 of 6 check steps failed: Source instance privilege check"),
        "{message}"
    );
    // Step numbers agree: the log's `step 3/6` is the table's 3.
    assert!(
        run.stdout
            .contains("step 3/6 Source instance privilege check (SrcPrivilegeCheck): failed")
    );
    let steps = visible(table_with(&html, "<th>Step</th>"));
    assert!(
        steps.contains("3\nSource instance privilege check (SrcPrivilegeCheck)\n❌ failed"),
        "{steps}"
    );
}

#[test]
fn tables_have_no_empty_header_nor_empty_column() {
    let run = failing_demo_2021(true);
    let html = render(&run.summary);
    assert!(!html.contains("<th></th>"), "{html}");
    // No step has a message in the demo: no Message column.
    let steps = table_with(&html, "<th>Step</th>");
    assert!(
        !steps.contains("<th>Message</th>") && !steps.contains("<td></td>"),
        "{steps}"
    );
}

#[test]
fn a_long_2018_message_breaks_and_is_shown_once_tabs_kept_as_spaces() {
    let token = "A".repeat(3000);
    let message = format!("before\ttab {token}");
    let server = Responder::always(Reply::json(&not_passed(&message)));
    let run = Gate::against(&server.url()).run();
    assert_eq!(run.code, 1, "{run:?}");
    let html = render(&run.summary);
    // Once, under the verdict; long enough to break anywhere.
    assert_eq!(html.matches("before").count(), 1, "{html}");
    assert!(html.matches("<wbr>").count() >= 3000 / 80, "{html}");
    assert!(visible(&html).contains("before tab AAAA"), "{html}");
}

#[test]
fn the_log_counts_and_aligns() {
    let run = failing_demo_2021(true);
    let lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains(" steps)"))
        .collect();
    // The percent sign of every progress line is in the same column.
    let columns: Vec<usize> = lines.iter().map(|l| l.find('%').unwrap()).collect();
    assert!(columns.windows(2).all(|w| w[0] == w[1]), "{lines:#?}");
    let server = Responder::always(Reply::json(&pass()));
    let run = Gate::against(&server.url()).run();
    assert!(
        run.stdout.contains(" and 1 poll; message: ok"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("after 0s"), "{}", run.stdout);
}

#[test]
fn outside_github_a_notice_has_real_lines() {
    let run = failing_demo_2021(false);
    assert!(!run.stderr.contains("\\n"), "{}", run.stderr);
    assert!(
        run.stderr.contains("\n  Solution: Run GRANT"),
        "{}",
        run.stderr
    );
}
