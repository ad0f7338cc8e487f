//! `cargo xtask upstream-patch`: our fixes as a patch to Datadog's `openapi.yaml`.
//!
//! Compares a full upstream definition with our fragment (as `spec-diff` does), takes every
//! difference attributed to an `F` entry of `FIXES.md` marked `Send upstream: yes`, and
//! edits upstream's *text* so that it says what we say there: each edit replaces, inserts or
//! removes one value in place (`yaml_edit`), and components our values reference that
//! upstream lacks are added. Every other byte stays as upstream wrote it. The result is
//! compared again: no difference may remain for a "yes" entry. The unified diff goes to
//! stdout with the paths Datadog's client repositories use, so `git apply` takes it there;
//! what was carried, skipped or not sent goes to stderr.

mod carry;

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::cli::SpecFiles;
use crate::spec_diff::explain::{self, Category, Entry, SendUpstream};
use crate::spec_diff::slice::Spec;
use crate::spec_diff::{self, FIXES_PATH, OURS_PATH};
use crate::spec_edit::{self, SpecEdit};

/// Where Datadog's client repositories keep the v2 definition (the patch's paths).
pub const UPSTREAM_PATH: &str = ".generator/schemas/v2/openapi.yaml";

/// The patch and what to say about it.
pub struct Patch {
    /// The unified diff (empty when there is nothing to change).
    pub diff: String,
    /// What was carried, skipped and not sent, one line each.
    pub notes: Vec<String>,
    /// Differences of "yes" entries left after patching (none when the patch is complete).
    pub left: Vec<String>,
}

/// Run `upstream-patch` from the workspace root `root`.
pub fn run(root: &Path, options: &SpecFiles) -> Result<ExitCode> {
    let patch = make(root, options)?;
    for note in &patch.notes {
        eprintln!("{note}");
    }
    print!("{}", patch.diff);
    if patch.left.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "error: the patch does not carry every fix marked `Send upstream: yes`; still different:"
    );
    for left in &patch.left {
        eprintln!("  {left}");
    }
    Ok(ExitCode::FAILURE)
}

/// Everything `run` does, returning the patch instead of printing it.
pub fn make(root: &Path, options: &SpecFiles) -> Result<Patch> {
    let (ours_path, ours_label) = spec_diff::input(root, options.ours.as_deref(), OURS_PATH);
    let (fixes_path, fixes_label) = spec_diff::input(root, options.fixes.as_deref(), FIXES_PATH);
    let label = options.upstream.display().to_string();
    let text =
        fs::read_to_string(&options.upstream).with_context(|| format!("cannot read {label}"))?;
    let upstream = Spec::parse(&text, &label)?;
    let ours = Spec::load(&ours_path, &ours_label)?;
    let entries = spec_diff::load_fixes(&fixes_path, &fixes_label)?;
    check_decisions(&entries, &fixes_label)?;

    let comparison = spec_diff::compare_specs(&upstream, &ours)?;
    let attribution = explain::attribute(&entries, &comparison.differences);
    let plan = carry::plan(
        &upstream,
        &ours,
        &entries,
        &comparison.differences,
        &attribution,
    );
    let mut edit = SpecEdit::new(text.clone(), &upstream, &ours);
    for (step, index) in ordered(plan.edits) {
        edit.apply(&step)
            .with_context(|| format!("carrying {} into {label}", entries[index].id))?;
    }
    let brought: Vec<String> = edit.brought.iter().cloned().collect();
    let patched = edit.doc.into_text();

    let left = still_different(&patched, &label, &ours, &entries)?;
    let mut notes = notes(&label, &entries, &plan.carried, &brought);
    notes.extend(plan.by_hand.iter().map(|line| format!("  by hand: {line}")));
    Ok(Patch {
        diff: unified(&text, &patched),
        notes,
        left,
    })
}

/// Every `F` entry must say whether it goes upstream.
fn check_decisions(entries: &[Entry], label: &str) -> Result<()> {
    let missing: Vec<&str> = entries
        .iter()
        .filter(|e| e.category == Category::Fix && e.send_upstream.is_none())
        .map(|e| e.id.as_str())
        .collect();
    if !missing.is_empty() {
        bail!(
            "{label}: {} {} no `Send upstream` line; add `- **Send upstream**: yes` or \
             `- **Send upstream**: no (why)` to each fix",
            missing.join(", "),
            if missing.len() == 1 { "has" } else { "have" }
        );
    }
    Ok(())
}

/// The edits in an order where none moves another's target, each with its entry.
fn ordered(edits: Vec<(spec_edit::Edit, usize)>) -> Vec<(spec_edit::Edit, usize)> {
    let owner = |edit: &spec_edit::Edit| {
        edits
            .iter()
            .find(|(e, _)| e == edit)
            .map_or(0, |(_, index)| *index)
    };
    spec_edit::ordered(edits.iter().map(|(edit, _)| edit.clone()).collect())
        .into_iter()
        .map(|edit| {
            let index = owner(&edit);
            (edit, index)
        })
        .collect()
}

/// The differences the patched text still has for "yes" entries.
fn still_different(
    patched: &str,
    label: &str,
    ours: &Spec,
    entries: &[Entry],
) -> Result<Vec<String>> {
    let patched = Spec::parse(patched, &format!("{label} (patched)"))
        .context("the patched file does not read back; this is a bug in upstream-patch")?;
    let comparison = spec_diff::compare_specs(&patched, ours)?;
    let attribution = explain::attribute(entries, &comparison.differences);
    Ok(comparison
        .differences
        .iter()
        .zip(&attribution)
        .filter_map(|(d, a)| {
            let entry = &entries[(*a)?];
            carry::sent(entry).then(|| format!("{}: {} `{}`", entry.id, d.kind, d.location))
        })
        .collect())
}

/// One line per `F` entry: carried (how many differences), skipped (why), or not sent.
fn notes(
    label: &str,
    entries: &[Entry],
    carried: &std::collections::BTreeMap<usize, usize>,
    brought: &[String],
) -> Vec<String> {
    let mut notes = vec![format!("upstream-patch: our fixes as a patch to {label}")];
    for (index, entry) in entries.iter().enumerate() {
        if entry.category != Category::Fix {
            continue;
        }
        let mut line = format!("  {:<4}", entry.id);
        match (&entry.send_upstream, carried.get(&index)) {
            (Some(SendUpstream::No(why)), _) => {
                let _ = write!(line, "not sent: {why}");
            }
            (_, Some(&count)) => {
                let s = if count == 1 { "" } else { "s" };
                let _ = write!(line, "carried ({count} difference{s}): {}", entry.title);
            }
            (_, None) => {
                let why = entry.not_visible.as_deref().map_or_else(
                    || "upstream already agrees, or this file lacks what it fixes".to_owned(),
                    |why| format!("not visible in this file: {why}"),
                );
                let _ = write!(line, "skipped, nothing to change: {why}");
            }
        }
        notes.push(line);
    }
    if !brought.is_empty() {
        notes.push(format!(
            "  added the components our values reference: {}",
            brought.join(", ")
        ));
    }
    notes
}

/// A unified diff from `before` to `after` that `git apply` takes in Datadog's repositories.
fn unified(before: &str, after: &str) -> String {
    if before == after {
        return String::new();
    }
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{UPSTREAM_PATH}"), &format!("b/{UPSTREAM_PATH}"))
        .to_string()
}
