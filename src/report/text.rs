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
/// (ANSI escapes, bidi overrides) become visible escapes, and every CI system's log command
/// ([`neutralise_commands`]) is broken up.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in truncate(text, MAX_LOG_TEXT_CHARS).chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => push_visible(&mut out, c),
        }
    }
    neutralise_commands(&out)
}

/// Text for an annotation on GitHub, which shows line breaks and tabs as such: `\r\n` becomes
/// `\n`, any other control character (ANSI escapes, a lone `\r`) and bidi overrides a visible
/// escape, and log commands are broken up ([`neutralise_commands`]).
pub fn annotation_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.replace("\r\n", "\n").chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c => push_visible(&mut out, c),
        }
    }
    neutralise_commands(&out)
}

/// `c`, or `\u{..}` when it is a control character or a bidi override.
fn push_visible(out: &mut String, c: char) {
    if c.is_control() || is_bidi_control(c) {
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    } else {
        out.push(c);
    }
}

/// Breaks up the log commands of every CI system the README names, wherever they occur in a
/// line: GitHub's legacy `##[`, Azure Pipelines' `##vso[` and `##[section]`-style commands and
/// TeamCity's `##teamcity[` (any `##`, letters, `[`, in any case) get a space before the `[`.
/// GitHub's `::` commands only count at the start of a line; the writer guards that.
pub fn neutralise_commands(line: &str) -> String {
    if !line.contains("##") {
        return line.to_string();
    }
    let mut out = String::with_capacity(line.len() + 8);
    let mut rest = line;
    while let Some(i) = rest.find("##") {
        let after = &rest[i + 2..];
        let letters = after.bytes().take_while(|b| *b == b'#').count()
            + after
                .bytes()
                .skip_while(|b| *b == b'#')
                .take_while(u8::is_ascii_alphabetic)
                .count();
        out.push_str(&rest[..i + 2 + letters]);
        rest = &after[letters..];
        if rest.starts_with('[') {
            out.push(' ');
        }
    }
    out.push_str(rest);
    out
}

/// A line the gate writes that is not one of its own workflow commands: log commands broken
/// up, and a leading `::` (which the runner reads as a command, even after spaces) too.
pub fn inert_line(line: &str) -> String {
    let line = neutralise_commands(line);
    let start = line.len() - line.trim_start().len();
    if line[start..].starts_with("::") {
        format!("{}: :{}", &line[..start], &line[start + 2..])
    } else {
        line
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A run of this many characters without a space gets a line-break opportunity (`<wbr>`), so a
/// long token cannot stretch a table.
const MAX_UNBROKEN_CHARS: usize = 80;

/// Untrusted text as Markdown: every `https://` URL in it ([`find_https_url`]) a link to
/// exactly that URL, everything else inert (no other links or autolinks, no images, HTML,
/// emphasis or table breaks).
pub fn markdown_text(text: &str) -> String {
    let text = truncate(text, MAX_SUMMARY_TEXT_CHARS);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some((start, end)) = find_https_url(rest) {
        out.push_str(&inert_markdown(&rest[..start]));
        out.push_str(&url_link(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(&inert_markdown(rest));
    out
}

/// A service help link: [`markdown_text`] of it, so a link only when it is an `https://` URL.
pub fn markdown_link(url: &str) -> String {
    markdown_text(url.trim())
}

/// Where the first `https://` URL in `text` starts and ends: the scheme (in any case), then
/// URL characters (RFC 3986's, but `[`, `]`), without trailing punctuation or an unbalanced
/// `)`, as GFM's autolinks end.
pub fn find_https_url(text: &str) -> Option<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("https://") {
        let start = from + i;
        let body = start + "https://".len();
        let len = text[body..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || b"-._~:/?#@!$&'()*+,;=%".contains(b))
            .count();
        let mut url = &text[start..body + len];
        loop {
            let trimmed = url.trim_end_matches(['.', ',', ':', ';', '!', '?', '\'', '*']);
            let trimmed = match trimmed.strip_suffix(')') {
                Some(t) if t.matches('(').count() < trimmed.matches(')').count() => t,
                _ => trimmed,
            };
            if trimmed == url {
                break;
            }
            url = trimmed;
        }
        if url.len() > "https://".len() {
            return Some((start, start + url.len()));
        }
        from = body;
    }
    None
}

/// `[url](<url>)`: the text inert, the destination exactly `url` (`&` as an entity, which
/// the renderer decodes).
fn url_link(url: &str) -> String {
    format!("[{}](<{}>)", inert_markdown(url), url.replace('&', "&amp;"))
}

/// Untrusted text as inert Markdown. Line breaks become `<br>`, tabs spaces; other control
/// characters are dropped. Autolinks are broken with escapes (`:` before `/`, the `.` after
/// `www`) and,
/// for e-mail addresses, an empty comment after `@`.
fn inert_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut unbroken = 0;
    let mut prev = ['\0'; 3];
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            unbroken = 0;
        } else {
            unbroken += 1;
            if unbroken > MAX_UNBROKEN_CHARS {
                out.push_str("<wbr>");
                unbroken = 1;
            }
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("<br>"),
            '\t' => out.push(' '),
            '@' => out.push_str("@<!-- -->"),
            '.' if prev.iter().collect::<String>().eq_ignore_ascii_case("www") => {
                out.push_str("\\.");
            }
            ':' if text[i + 1..].starts_with('/') => out.push_str("\\:"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '|' | '~' | '!' | '{' | '}'
            | '$' | '^' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
        prev = [prev[1], prev[2], c];
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
        let md = markdown_text("[click](javascript:x) ![x](y) <img src=x> | a\nb *c* `d`");
        assert!(!md.contains("](") && !md.contains("<img") && !md.contains('\n'));
        assert!(md.contains("\\|") && md.contains("<br>"));
        assert!(md.contains("&lt;img"));
        // Other autolinks are broken up: schemes, www., e-mail addresses.
        assert_eq!(
            markdown_text("http://x.example www.x.example a@b.example\tc"),
            "http\\://x.example www\\.x.example a@<!-- -->b.example c"
        );
    }

    #[test]
    fn https_urls_are_links_to_exactly_that_url() {
        assert_eq!(
            markdown_text("see https://cloud.tencent.com/document/product/571/58700)."),
            "see [https\\://cloud.tencent.com/document/product/571/58700](<https://cloud.tencent.com/document/product/571/58700>)\\)."
        );
        assert_eq!(
            markdown_text("(https://x.example/a_(b)?c=1&d=2)"),
            "\\([https\\://x.example/a\\_\\(b\\)?c=1&amp;d=2](<https://x.example/a_(b)?c=1&amp;d=2>)\\)"
        );
        assert_eq!(find_https_url("HTTPS://X.example/p, next"), Some((0, 19)));
        assert_eq!(find_https_url("https:// alone"), None);
        assert_eq!(find_https_url("https://x.example/\u{3002}"), Some((0, 18)));
    }

    #[test]
    fn help_links_are_links_only_when_https_urls() {
        assert_eq!(
            markdown_link(" https://cloud.tencent.com/document/product/571/58700 "),
            "[https\\://cloud.tencent.com/document/product/571/58700](<https://cloud.tencent.com/document/product/571/58700>)"
        );
        assert!(!markdown_link("javascript:alert(1)").contains("]("));
        assert!(!markdown_link("http://x.example/a").contains("]("));
    }

    #[test]
    fn long_tokens_can_break() {
        let md = markdown_text(&"x".repeat(100));
        assert_eq!(md.matches("<wbr>").count(), 1);
        assert!(!markdown_text(&"x ".repeat(100)).contains("<wbr>"));
    }

    #[test]
    fn every_log_command_is_broken_up() {
        for (text, inert) in [
            (
                "a ##vso[task.setvariable variable=X]true",
                "a ##vso [task.setvariable variable=X]true",
            ),
            ("##[section]x ##VSO[y", "## [section]x ##VSO [y"),
            ("###[x ##teamcity[m", "### [x ##teamcity [m"),
            ("C## [ok]", "C## [ok]"),
        ] {
            assert_eq!(neutralise_commands(text), inert);
        }
        assert_eq!(inert_line("  ::error::x"), "  : :error::x");
        assert_eq!(inert_line("a ::error::x"), "a ::error::x");
    }

    #[test]
    fn annotation_text_keeps_lines_and_shows_controls() {
        assert_eq!(
            annotation_text("a\r\nb\tc\u{1b}[31m\u{202e}\rd ##vso[x"),
            "a\nb\tc\\u{1b}[31m\\u{202e}\\u{d}d ##vso [x"
        );
    }
}
