//! The README and `--help` as a user reads them: rendered with GitHub's own Markdown engine
//! (cmark-gfm, from PyPI's `cmarkgfm`, which `.ci/test` installs), naming every variable the
//! binary reads, with snippets that work for the version that ships.

use std::io::Write;
use std::process::{Command, Stdio};

const README: &str = include_str!("../README.md");
const CONFIG: &str = include_str!("../src/config.rs");

/// The README as GitHub renders it.
fn rendered() -> String {
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import cmarkgfm, sys; sys.stdout.write(cmarkgfm.github_flavored_markdown_to_html(sys.stdin.read()))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(README.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "cmarkgfm is needed (pip install cmarkgfm; .ci/test installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every variable `config::Vars` reads, as the user writes it.
fn variables_read() -> Vec<String> {
    let block = CONFIG
        .split("pub struct Vars {")
        .nth(1)
        .and_then(|rest| rest.split("\n}").next())
        .expect("config::Vars");
    block
        .lines()
        .map(str::trim)
        .filter(|l| l.ends_with(": Option<String>,"))
        .map(|l| l.split(':').next().unwrap().to_ascii_uppercase())
        // The runners' own variables (GitHub's, GitLab's, the shell's), and the action's note
        // to the binary.
        .filter(|v| {
            !["GITHUB_", "ACTIONS_", "CI_"]
                .iter()
                .any(|p| v.starts_with(p))
                && !["HOSTNAME", "HOME", "DTS_GATE_SURFACE"].contains(&v.as_str())
        })
        .collect()
}

#[test]
fn the_exit_code_table_is_one_table() {
    let html = rendered();
    let table = html
        .split("id=\"exit-codes\"")
        .nth(1)
        .or_else(|| html.split(">Exit codes</h2>").nth(1))
        .and_then(|rest| rest.split("</table>").next())
        .expect("an exit codes section with a table");
    for code in ["<td>0</td>", "<td>4</td>", "<td>130, 143</td>"] {
        assert!(
            table.contains(code),
            "{code} is not a row of the table:\n{table}"
        );
    }
}

#[test]
fn every_variable_the_binary_reads_is_documented() {
    let help = Command::new(env!("CARGO_BIN_EXE_dts-gate"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let variables = variables_read();
    assert!(variables.len() > 15, "{variables:?}");
    for variable in variables {
        assert!(
            README.contains(&format!("`{variable}`")),
            "README does not document {variable}"
        );
        assert!(help.contains(&variable), "--help does not name {variable}");
    }
    for proxy in ["HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"] {
        assert!(help.contains(proxy) && README.contains(proxy), "{proxy}");
    }
}

#[test]
fn action_snippets_use_the_major_tag_of_the_version_that_ships() {
    let major = env!("CARGO_PKG_VERSION").split('.').next().unwrap();
    let uses: Vec<&str> = README
        .lines()
        .filter_map(|l| l.trim().strip_prefix("uses: dts-gate/dts-gate@"))
        .chain(
            README
                .lines()
                .filter_map(|l| l.trim().strip_prefix("- uses: dts-gate/dts-gate@")),
        )
        .collect();
    assert!(!uses.is_empty());
    for tag in uses {
        // A trailing comment is not part of the tag.
        let tag = tag.split_whitespace().next().unwrap_or_default();
        assert_eq!(tag, format!("v{major}"), "a snippet uses @{tag}");
    }
    assert!(README.contains("no release, tag or image has been published yet"));
    assert!(README.contains("cargo install --locked --path ."));
}
