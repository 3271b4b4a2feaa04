//! `action.yml` as the runner reads it: every input reaches the binary as its variable, an
//! empty input leaves the job's own variable in force, and the binary owns every default.

use std::collections::BTreeMap;

const ACTION: &str = include_str!("../action.yml");

/// The inputs and their defaults, from the `inputs:` block.
fn inputs() -> BTreeMap<String, String> {
    let block = ACTION
        .split("\ninputs:\n")
        .nth(1)
        .and_then(|rest| rest.split("\noutputs:\n").next())
        .expect("an inputs block");
    let mut inputs = BTreeMap::new();
    let mut current = None;
    for line in block.lines() {
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
            && !name.starts_with(' ')
        {
            current = Some(name.to_string());
        } else if let (Some(name), Some(default)) = (&current, line.strip_prefix("    default: ")) {
            inputs.insert(name.clone(), default.trim_matches('\'').to_string());
        }
    }
    inputs
}

/// `VARIABLE: ${{ expression }}` lines of the gate step's `env:`.
fn gate_env() -> Vec<(String, String)> {
    let step = ACTION.split("- id: gate").nth(1).expect("a gate step");
    step.lines()
        .filter_map(|line| line.trim().split_once(": ${{ "))
        .map(|(var, expr)| (var.to_string(), expr.trim_end_matches(" }}").to_string()))
        .collect()
}

/// Inputs of the installer, not of the gate.
const INSTALL_INPUTS: [&str; 3] = ["version", "download-url", "build-from-source"];
/// Modes that exit 0 without checking a job: only their input may select them.
const NO_FALLBACK: [&str; 2] = ["DTS_DRY_RUN", "DTS_DEMO"];

#[test]
fn every_gate_input_is_passed_on_with_the_jobs_variable_as_fallback() {
    let env = gate_env();
    for input in inputs()
        .keys()
        .filter(|i| !INSTALL_INPUTS.contains(&i.as_str()))
    {
        let (var, expr) = env
            .iter()
            .find(|(_, expr)| expr.starts_with(&format!("inputs.{input}")))
            .unwrap_or_else(|| panic!("input {input} is not passed to the gate"));
        if NO_FALLBACK.contains(&var.as_str()) {
            assert_eq!(*expr, format!("inputs.{input}"), "{var}");
        } else {
            assert_eq!(*expr, format!("inputs.{input} || env.{var}"), "{var}");
        }
    }
}

#[test]
fn gate_inputs_default_to_empty_so_the_binary_owns_every_default() {
    for (input, default) in inputs() {
        if !INSTALL_INPUTS.contains(&input.as_str()) {
            assert_eq!(default, "", "input {input} has its own default");
        }
    }
}

#[test]
fn the_binary_is_told_it_runs_as_the_action() {
    let step = ACTION.split("- id: gate").nth(1).unwrap();
    assert!(step.contains("DTS_GATE_SURFACE: action"));
}

#[test]
fn output_descriptions_name_every_value() {
    let outputs = ACTION.split("\noutputs:\n").nth(1).unwrap();
    let description = |name: &str| {
        outputs
            .split(&format!("\n  {name}:\n"))
            .nth(1)
            .and_then(|rest| rest.lines().next())
            .unwrap_or_else(|| panic!("output {name}"))
            .to_string()
    };
    for result in ["passed", "not-passed", "timed-out", "error", "cancelled"] {
        assert!(description("result").contains(result), "result: {result}");
    }
    for status in ["finished", "notStarted", "success", "failed"] {
        assert!(description("status").contains(status), "status: {status}");
    }
    for flag in ["checkPass", "checkNotPass", "1 passed", "0 not passed"] {
        assert!(
            description("check-flag").contains(flag),
            "check-flag: {flag}"
        );
    }
}
