//! Making untrusted text safe for each place it goes: the log ([`sanitize`]), annotations
//! (the runner's own escaping), output files (heredoc with a checked delimiter) and Markdown
//! ([`markdown_text`], [`markdown_link`]). Pure functions; the rules follow actions/runner and
//! actions/toolkit.

use std::fmt::Write as _;

/// A log line quotes at most this much of one API text.
const MAX_LOG_TEXT_CHARS: usize = 2000;
/// One text in the summary; the whole summary stays far below GitHub's 1 MiB.
pub const MAX_SUMMARY_TEXT_CHARS: usize = 16 * 1024;

/// `%`, CR and LF as the runner's `escapeData` does (`%` first).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Property values additionally escape `:` and `,` (`escapeProperty`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `::name key=value,...::data`, properties with empty values left out as the toolkit does.
pub fn workflow_command(name: &str, properties: &[(&str, &str)], data: &str) -> String {
    let props: Vec<String> = properties
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    let head = if props.is_empty() {
        name.to_string()
    } else {
        format!("{name} {}", props.join(","))
    };
    format!("::{head}::{}", escape_data(data))
}

/// Cuts `text` to `max` characters, saying so.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}… [truncated]", &text[..cut]),
    }
}

/// Makes untrusted text safe inside one log line: line breaks and other control characters
/// (ANSI escapes, bidi overrides) become visible escapes, and `##[`, which the runner honours
/// as a legacy command prefix anywhere in a line, is broken up.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in truncate(text, MAX_LOG_TEXT_CHARS).chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_bidi_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.replace("##[", "## [")
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Untrusted text as inert Markdown: no links, images, HTML, emphasis or table breaks.
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in truncate(text, MAX_SUMMARY_TEXT_CHARS).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("<br>"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '|' | '~' | '!' | '{' | '}'
            | '$' | '^' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// One output in the runner's heredoc form. `delimiter` must not occur in `value`.
pub fn output_record(name: &str, value: &str, delimiter: &str) -> String {
    debug_assert!(!value.contains(delimiter));
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

/// A fresh `ghadelimiter_<random hex>` that occurs nowhere in `value`.
pub fn fresh_delimiter(value: &str, mut random: impl FnMut() -> u128) -> String {
    loop {
        let candidate = format!("ghadelimiter_{:032x}", random());
        if !value.contains(&candidate) {
            return candidate;
        }
    }
}

/// A help link from the service as a Markdown link, when it is a plain http(s) URL; anything
/// else is shown as inert text.
pub fn markdown_link(url: &str) -> String {
    let url = url.trim();
    let is_web = url.starts_with("https://") || url.starts_with("http://");
    let is_plain = url.len() <= 2048
        && url.bytes().all(|b| {
            b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'`' | b'\\' | b'|')
        });
    if !(is_web && is_plain) {
        return markdown_text(url);
    }
    // Brackets and parentheses would end the link early: percent-encode them.
    let target = url
        .replace('(', "%28")
        .replace(')', "%29")
        .replace('[', "%5B")
        .replace(']', "%5D");
    format!("[{}]({target})", markdown_text(url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::parse_workflow_command;

    const HOSTILE: &str = "table missing\n::set-output name=passed::true\r\n%0A::error::x, a: b %25 ##[set-output name=passed;]true\u{1b}[31m\u{202e}";

    #[test]
    fn annotation_escaping_round_trips_through_the_runner_parser() {
        let line = workflow_command("error", &[("title", "a: b, c%\nd")], HOSTILE);
        assert_eq!(line.lines().count(), 1);
        let command = parse_workflow_command(&line).unwrap();
        assert_eq!(command.name, "error");
        assert_eq!(
            command.properties,
            [("title".to_string(), "a: b, c%\nd".to_string())]
        );
        assert_eq!(command.data, HOSTILE);
    }

    #[test]
    fn empty_properties_are_left_out() {
        assert_eq!(
            workflow_command("warning", &[("title", "")], "m"),
            "::warning::m"
        );
    }

    #[test]
    fn sanitized_text_is_one_inert_line() {
        let s = sanitize(HOSTILE);
        assert!(!s.contains('\n') && !s.contains('\r') && !s.contains('\u{1b}'));
        assert!(!s.contains("##["));
        assert!(!s.contains('\u{202e}'));
        assert!(s.contains("\\n::set-output"));
        assert!(s.contains("\\u{1b}"));
    }

    #[test]
    fn long_texts_are_truncated_visibly() {
        assert_eq!(truncate("abcdef", 3), "abc… [truncated]");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("漢字漢字", 2), "漢字… [truncated]");
    }

    #[test]
    fn markdown_text_is_inert() {
        let md = markdown_text("[click](https://evil) ![x](y) <img src=x> | a\nb *c* `d`");
        assert!(!md.contains("](") && !md.contains("<img") && !md.contains('\n'));
        assert!(md.contains("\\|") && md.contains("<br>"));
        assert!(md.contains("&lt;img"));
    }

    #[test]
    fn help_links_are_links_only_when_plain_web_urls() {
        assert_eq!(
            markdown_link("https://cloud.tencent.com/document/product/571/58700"),
            "[https://cloud.tencent.com/document/product/571/58700](https://cloud.tencent.com/document/product/571/58700)"
        );
        assert_eq!(
            markdown_link("https://x.example/a_(b)"),
            "[https://x.example/a\\_\\(b\\)](https://x.example/a_%28b%29)"
        );
        assert!(!markdown_link("javascript:alert(1)").contains("]("));
        assert!(!markdown_link("https://x.example/<script>").contains("]("));
        assert!(!markdown_link("https://x.example/a b").contains("]("));
    }
}
