//! How the GitHub Actions runner reads what the gate writes, following actions/runner
//! (`ActionCommand.TryParseV2`, `ActionCommand.TryParse`, `FileCommandManager`). The gate itself
//! never parses these; tests use them to prove that what the runner reads back is exactly what
//! was meant, and nothing more. The one copy: `src/lib.rs` includes this file for the unit tests
//! of `report`, and its own tests are in `tests/properties.rs`.

/// A `::name key=value,...::data` command as the runner decodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowCommand {
    pub name: String,
    pub properties: Vec<(String, String)>,
    pub data: String,
}

fn unescape_data(text: &str) -> String {
    text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
}

fn unescape_property(text: &str) -> String {
    text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

/// Parses one log line the way the runner does: trimmed at the start, it must begin with `::`.
pub fn parse_workflow_command(line: &str) -> Option<WorkflowCommand> {
    let rest = line.trim_start().strip_prefix("::")?;
    let end = rest.find("::")?;
    let (head, data) = (&rest[..end], &rest[end + 2..]);
    let (name, props) = head.split_once(' ').unwrap_or((head, ""));
    let properties = props
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), unescape_property(v))
        })
        .collect();
    Some(WorkflowCommand {
        name: name.to_string(),
        properties,
        data: unescape_data(data.strip_suffix('\r').unwrap_or(data)),
    })
}

/// The runner still honours the legacy `##[name ...]data` form anywhere in a line.
pub fn has_legacy_command(line: &str) -> bool {
    line.contains("##[")
}

/// Every command the runner would act on in `log` (both forms).
pub fn commands_in(log: &str) -> Vec<WorkflowCommand> {
    log.split('\n')
        .filter_map(|line| {
            parse_workflow_command(line).or_else(|| {
                has_legacy_command(line).then(|| WorkflowCommand {
                    name: "legacy".to_string(),
                    properties: Vec::new(),
                    data: line.to_string(),
                })
            })
        })
        .collect()
}

/// Parses a `GITHUB_OUTPUT` file as the runner does on Linux and macOS (only `\n` ends a line).
pub fn parse_output_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.is_empty() {
            continue;
        }
        let eq = line.find('=');
        let heredoc = line.find("<<");
        match (eq, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                out.push((line[..e].to_string(), line[e + 1..].to_string()));
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err(format!("invalid format {line:?}"));
                }
                let mut value = Vec::new();
                loop {
                    let Some(l) = lines.get(i) else {
                        return Err(format!("matching delimiter not found {delimiter:?}"));
                    };
                    i += 1;
                    if *l == delimiter {
                        break;
                    }
                    value.push(*l);
                }
                out.push((name.to_string(), value.join("\n")));
            }
            _ => return Err(format!("invalid format {line:?}")),
        }
    }
    Ok(out)
}
