//! `cargo xtask spec-diff`: how our fragment differs from a full upstream definition.
//!
//! Reads a full upstream v2 `openapi.yaml` (Datadog publishes it in each of its API client
//! repositories as `.generator/schemas/v2/openapi.yaml`), slices out the two CNM operations
//! with everything they reference, compares them semantically with `spec/datadog-cnm.yaml`
//! (key order, formatting and `$ref`-versus-inline do not count), and prints every
//! difference attributed to an entry of `spec/FIXES.md`. Exits 0 whenever it ran, whatever
//! the differences; the report's "Unexplained" section is what needs attention.

pub mod compare;
pub mod explain;
pub mod node;
mod report;
pub mod slice;

#[cfg(test)]
mod tests;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use self::report::{OperationRow, Report, Side};
use self::slice::Spec;

/// Our fragment, relative to the workspace root.
pub const OURS_PATH: &str = "spec/datadog-cnm.yaml";
/// Where the explanations live, relative to the workspace root.
pub const FIXES_PATH: &str = "spec/FIXES.md";

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For people, and for pasting into an upstream issue.
    Markdown,
    /// For tools.
    Json,
}

/// The command line of `spec-diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `--upstream FILE`: the full upstream definition.
    pub upstream: PathBuf,
    /// `--ours PATH`: our fragment (default `spec/datadog-cnm.yaml` in the workspace).
    pub ours: Option<PathBuf>,
    /// `--fixes PATH`: the explanations (default `spec/FIXES.md` in the workspace).
    pub fixes: Option<PathBuf>,
    /// `--format markdown|json`.
    pub format: Format,
    /// `--slice-out PATH`: also write the upstream slice there, as YAML.
    pub slice_out: Option<PathBuf>,
}

impl Options {
    /// Parse the arguments after `spec-diff`; the error is one line for the user.
    pub fn parse(args: &[&str]) -> Result<Options, String> {
        let mut upstream = None;
        let mut ours = None;
        let mut fixes = None;
        let mut format = Format::Markdown;
        let mut slice_out = None;
        let mut args = args.iter();
        while let Some(&arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
                _ => (arg, None),
            };
            let mut value = || match inline {
                Some(value) => Ok(value),
                None => args
                    .next()
                    .copied()
                    .ok_or_else(|| format!("{flag} needs a value")),
            };
            match flag {
                "--upstream" => upstream = Some(PathBuf::from(value()?)),
                "--ours" => ours = Some(PathBuf::from(value()?)),
                "--fixes" => fixes = Some(PathBuf::from(value()?)),
                "--slice-out" => slice_out = Some(PathBuf::from(value()?)),
                "--format" => {
                    format = match value()? {
                        "markdown" | "md" => Format::Markdown,
                        "json" => Format::Json,
                        other => {
                            return Err(format!(
                                "--format must be markdown or json, not {other:?}"
                            ));
                        }
                    }
                }
                other => return Err(format!("unexpected argument {other:?}")),
            }
        }
        let upstream = upstream.ok_or("--upstream FILE is required")?;
        Ok(Options {
            upstream,
            ours,
            fixes,
            format,
            slice_out,
        })
    }
}

/// Run `spec-diff` from the workspace root `root` and print the report.
pub fn run(root: &Path, options: &Options) -> Result<ExitCode> {
    let output = diff(root, options)?;
    print!("{output}");
    Ok(ExitCode::SUCCESS)
}

/// Everything `run` does, returning the report instead of printing it.
pub fn diff(root: &Path, options: &Options) -> Result<String> {
    let (ours_path, ours_label) = input(root, options.ours.as_deref(), OURS_PATH);
    let (fixes_path, fixes_label) = input(root, options.fixes.as_deref(), FIXES_PATH);
    let upstream_label = options.upstream.display().to_string();

    let upstream = Spec::load(&options.upstream, &upstream_label)?;
    let ours = Spec::load(&ours_path, &ours_label)?;
    let fixes =
        fs::read_to_string(&fixes_path).with_context(|| format!("cannot read {fixes_label}"))?;
    let entries = explain::parse(&fixes, &fixes_label)?;

    let up_ops = upstream.operations()?;
    let our_ops = ours.operations()?;
    let up_slice = slice::slice(&upstream, &up_ops)?;
    let our_slice = slice::slice(&ours, &our_ops)?;
    if let Some(path) = &options.slice_out {
        let yaml = slice::to_yaml(&upstream, &up_slice)?;
        fs::write(path, yaml).with_context(|| format!("cannot write {}", path.display()))?;
    }

    let comparison = compare::compare(
        (&upstream, &up_ops, &up_slice.components),
        (&ours, &our_ops, &our_slice.components),
    );
    let attribution = explain::attribute(&entries, &comparison.differences);
    let report = Report {
        upstream: Side {
            label: upstream_label,
            version: upstream.version().to_owned(),
        },
        ours: Side {
            label: ours_label,
            version: ours.version().to_owned(),
        },
        fixes: fixes_label,
        operations: up_ops
            .iter()
            .zip(&our_ops)
            .map(|(u, o)| OperationRow {
                id: u.id.to_owned(),
                upstream: u.endpoint(),
                ours: o.endpoint(),
            })
            .collect(),
        comparison,
        entries,
        attribution,
    };
    Ok(match options.format {
        Format::Markdown => report.markdown(),
        Format::Json => report.json(),
    })
}

/// Compare the two operations (and what they use) of `upstream` with those of `ours`.
pub fn compare_specs(upstream: &Spec, ours: &Spec) -> Result<compare::Comparison> {
    let up_ops = upstream.operations()?;
    let our_ops = ours.operations()?;
    let up_slice = slice::slice(upstream, &up_ops)?;
    let our_slice = slice::slice(ours, &our_ops)?;
    Ok(compare::compare(
        (upstream, &up_ops, &up_slice.components),
        (ours, &our_ops, &our_slice.components),
    ))
}

/// Read and parse a `FIXES.md`.
pub fn load_fixes(path: &Path, label: &str) -> Result<Vec<explain::Entry>> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read {label}"))?;
    explain::parse(&text, label)
}

/// The path to read and the name to report it under: as given, or the workspace default.
pub fn input(root: &Path, given: Option<&Path>, default: &str) -> (PathBuf, String) {
    match given {
        Some(path) => (path.to_owned(), path.display().to_string()),
        None => (root.join(default), default.to_owned()),
    }
}
