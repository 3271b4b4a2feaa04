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
