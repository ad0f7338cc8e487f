//! `cargo xtask spec-diff` as a user runs it: the report, its formats, `--slice-out`, exit
//! codes and error messages. Fixtures are small hand-written files under `tests/fixtures/`.

// Test code: a panic that shows the error is the right way to fail (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// Run the xtask binary from the crate directory, so fixture paths (and the report) are
/// the same on every machine.
fn xtask(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    output.unwrap_or_else(|e| panic!("cannot run xtask: {e}"))
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "xtask failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap_or_else(|e| panic!("stdout: {e}"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const FIXTURE_ARGS: [&str; 6] = [
    "--upstream",
    "tests/fixtures/upstream.yaml",
    "--ours",
    "tests/fixtures/ours.yaml",
    "--fixes",
    "tests/fixtures/FIXES.md",
];

fn spec_diff(extra: &[&str]) -> Output {
    let mut args = vec!["spec-diff"];
    args.extend(FIXTURE_ARGS);
    args.extend(extra);
    xtask(&args)
}

/// A scratch directory of this test process, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("xtask-spec-diff-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Scratch(dir)
    }

    fn file(&self, name: &str, contents: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn markdown_report() {
    let report = stdout(&spec_diff(&[]));
    assert!(report.contains("**3 unexplained**"));
    insta::assert_snapshot!(report);
}

#[test]
fn json_report() {
    let report = stdout(&spec_diff(&["--format", "json"]));
    let parsed: serde_json::Value =
        serde_json::from_str(&report).unwrap_or_else(|e| panic!("not JSON: {e}\n{report}"));
    assert_eq!(parsed["summary"]["unexplained"], 3);
    insta::assert_snapshot!(report);
}

#[test]
fn the_report_is_stable_and_the_default_format_is_markdown() {
    let first = stdout(&spec_diff(&[]));
    assert_eq!(first, stdout(&spec_diff(&[])));
    assert_eq!(first, stdout(&spec_diff(&["--format=markdown"])));
}

#[test]
fn identical_specs_report_no_differences() {
    let report = stdout(&xtask(&[
        "spec-diff",
        "--upstream",
        "tests/fixtures/upstream.yaml",
        "--ours",
        "tests/fixtures/upstream-refactored.yaml",
        "--fixes",
        "tests/fixtures/FIXES.md",
    ]));
    assert!(report.contains("**0 differences**"), "{report}");
    assert!(report.contains("None: every difference is explained"));
}

#[test]
fn slice_out_writes_a_standalone_slice_of_upstream() {
    let scratch = Scratch::new("slice");
    let slice = scratch.0.join("slice.yaml").display().to_string();
    stdout(&spec_diff(&["--slice-out", &slice]));
    let text = std::fs::read_to_string(&slice).unwrap();
    assert!(text.starts_with("# GetAggregatedConnections and GetAggregatedDns"));
    assert!(text.contains("operationId: GetAggregatedDns") && !text.contains("GetOther"));
    // The slice compared with the file it came from: nothing differs.
    let report = stdout(&xtask(&[
        "spec-diff",
        "--upstream",
        &slice,
        "--ours",
        "tests/fixtures/upstream.yaml",
        "--fixes",
        "tests/fixtures/FIXES.md",
        "--format",
        "json",
    ]));
    assert!(report.contains("\"differences\": 0,"), "{report}");
}

#[test]
fn our_own_fragment_is_the_default_and_differs_from_itself_in_nothing() {
    let report = stdout(&xtask(&[
        "spec-diff",
        "--upstream",
        "../spec/datadog-cnm.yaml",
        "--format",
        "json",
    ]));
    assert!(
        report.contains("\"ours\": \"spec/datadog-cnm.yaml\""),
        "{report}"
    );
    assert!(report.contains("\"fixes\": \"spec/FIXES.md\""));
    assert!(report.contains("\"differences\": []"), "{report}");
}

#[track_caller]
fn fails_with(output: &Output, code: i32, message: &str) {
    let stderr = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "no report on failure");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: ") && first.contains(message),
        "first line of stderr {first:?} lacks {message:?}"
    );
}

#[test]
fn unusable_input_fails_with_one_clear_line() {
    let scratch = Scratch::new("errors");
    let missing = xtask(&["spec-diff", "--upstream", "tests/fixtures/nope.yaml"]);
    fails_with(&missing, 1, "cannot read tests/fixtures/nope.yaml: ");
    assert_eq!(stderr(&missing).lines().count(), 1);

    let invalid = scratch.file("invalid.yaml", "openapi: 3.0.0\npaths: {a: [\n");
    let output = xtask(&["spec-diff", "--upstream", &invalid]);
    fails_with(&output, 1, "is not valid YAML: ");
    assert_eq!(stderr(&output).lines().count(), 1);

    let other = scratch.file(
        "other.yaml",
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get: {operationId: GetA, responses: {}}\n",
    );
    let output = xtask(&["spec-diff", "--upstream", &other]);
    fails_with(
        &output,
        1,
        "does not define operationId GetAggregatedConnections or GetAggregatedDns (searched the 1 operation under `paths`)",
    );
}

#[test]
fn bad_usage_exits_2_with_the_usage() {
    let output = xtask(&["spec-diff"]);
    fails_with(&output, 2, "--upstream FILE is required");
    assert!(stderr(&output).contains("usage: cargo xtask <command>"));
    fails_with(
        &spec_diff(&["--format", "html"]),
        2,
        "--format must be markdown or json, not \"html\"",
    );
    fails_with(
        &spec_diff(&["--bogus"]),
        2,
        "unexpected argument \"--bogus\"",
    );
    fails_with(
        &xtask(&["spec-diff", "--upstream"]),
        2,
        "--upstream needs a value",
    );
}

#[test]
fn help_lists_spec_diff() {
    let help = stdout(&xtask(&["help"]));
    assert!(help.contains("spec-diff --upstream FILE [--format markdown|json] [--slice-out PATH]"));
}
