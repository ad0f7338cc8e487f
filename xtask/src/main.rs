//! `cargo xtask`: project automation for datadog-cnm.
//!
//! ```text
//! cargo xtask codegen            regenerate the low-level client from spec/datadog-cnm.yaml
//! cargo xtask codegen --check    fail (with a diff) when the checked-in code is stale
//! cargo xtask spec-diff --upstream FILE [--format markdown|json] [--slice-out PATH]
//!                                how our fragment differs from a full upstream openapi.yaml,
//!                                each difference attributed to an entry of spec/FIXES.md
//! cargo xtask spec-sync --upstream FILE
//!                                take into spec/datadog-cnm.yaml what upstream changed and
//!                                no entry of spec/FIXES.md explains; keep the rest
//! cargo xtask upstream-patch --upstream FILE > cnm-fixes.patch
//!                                our fixes marked "Send upstream: yes" as a patch to
//!                                upstream's .generator/schemas/v2/openapi.yaml
//! ```
//!
//! See `docs/spec-workflow.md` for when to run which.

mod cli;
mod codegen;
mod spec_diff;
mod spec_edit;
mod spec_sync;
mod upstream_patch;
mod yaml_edit;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  codegen [--check]   regenerate crates/datadog-cnm-raw/src/generated*.rs from spec/;
                      with --check, write nothing and fail when the files are stale
  spec-diff --upstream FILE [--format markdown|json] [--slice-out PATH]
            [--ours PATH] [--fixes PATH]
                      compare a full upstream v2 openapi.yaml (Datadog's
                      .generator/schemas/v2/openapi.yaml) with spec/datadog-cnm.yaml:
                      slice out GetAggregatedConnections and GetAggregatedDns with
                      everything they reference and print every semantic difference,
                      each attributed to an entry of spec/FIXES.md (Markdown by default);
                      --slice-out also writes the upstream slice as YAML; --ours and
                      --fixes replace the workspace's files. Exits 0 whenever it ran,
                      whatever the differences
  spec-sync --upstream FILE [--ours PATH] [--fixes PATH]
                      update spec/datadog-cnm.yaml (or --ours) from a full upstream
                      openapi.yaml: take every difference no entry of spec/FIXES.md
                      explains (new or changed properties, parameters, enum values,
                      responses, descriptions), keep what the F, U and N entries explain
                      (our fixes, newer upstream changes, our x-cnm-* extensions), and
                      edit only the lines that change. Prints what it took, what it kept
                      and what you must decide (an aggregation for each new metric).
                      Exits 0 whenever it ran, decisions pending or not; a second run
                      changes nothing
  upstream-patch --upstream FILE [--ours PATH] [--fixes PATH]
                      print a unified diff of FILE (paths a/ and b/
                      .generator/schemas/v2/openapi.yaml, for `git apply` in a
                      datadog-api-client-* checkout) that carries every F entry of
                      spec/FIXES.md marked `Send upstream: yes` and changes nothing else;
                      stderr says what was carried, skipped and not sent. Fails when a
                      fix lacks its `Send upstream` line, or the patch cannot carry one";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["codegen"] => codegen::run(&workspace_root(), codegen::Mode::Write),
        ["codegen", "--check"] => codegen::run(&workspace_root(), codegen::Mode::Check),
        ["spec-diff", rest @ ..] => match spec_diff::Options::parse(rest) {
            Ok(options) => spec_diff::run(&workspace_root(), &options),
            Err(message) => {
                eprintln!("error: {message}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        },
        ["spec-sync", rest @ ..] => match cli::SpecFiles::parse(rest) {
            Ok(options) => spec_sync::run(&workspace_root(), &options),
            Err(message) => {
                eprintln!("error: {message}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        },
        ["upstream-patch", rest @ ..] => match cli::SpecFiles::parse(rest) {
            Ok(options) => upstream_patch::run(&workspace_root(), &options),
            Err(message) => {
                eprintln!("error: {message}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        },
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives one level below it.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.clone(), PathBuf::from)
}
