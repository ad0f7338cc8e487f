//! `cargo xtask spec-sync`: bring our fragment up to date with an upstream `openapi.yaml`.
//!
//! Compares upstream with our fragment (as `spec-diff` does) and takes every difference no
//! entry of `FIXES.md` explains — a new or changed property, parameter, enum value,
//! response, description — by editing our file's text in place (`take`, `yaml_edit`):
//! everything an entry explains stays ours (our fixes `F`, upstream changes newer than the
//! file `U`, our own extensions and other `N` entries). The result is compared again: an
//! edit that makes something else differ (a shared component of ours that upstream changed
//! in one operation only) is undone and left to the maintainer, so that a second run
//! changes nothing. It then prints what it took, what it kept, and what to decide (a new
//! metric needs its aggregation before `cargo xtask codegen` accepts it).

mod metrics;
mod summary;
mod take;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use self::summary::Summary;
use self::take::Taking;
use crate::cli::SpecFiles;
use crate::spec_diff::compare::{Difference, Kind};
use crate::spec_diff::explain;
use crate::spec_diff::node::{Seg, path_text};
use crate::spec_diff::slice::Spec;
use crate::spec_diff::{self, FIXES_PATH, OURS_PATH};
use crate::spec_edit::{self, SpecEdit};

/// How many times an edit that makes something else differ is undone before giving up.
const ROUNDS: usize = 4;

/// What a sync produced.
pub struct Outcome {
    /// Our fragment's new text (the old one when nothing was taken).
    pub text: String,
    /// Whether the text changed.
    pub changed: bool,
    /// What to print.
    pub summary: String,
}

/// Run `spec-sync` from the workspace root `root`: update the file and print the summary.
pub fn run(root: &Path, options: &SpecFiles) -> Result<ExitCode> {
    let (ours_path, ours_label) = spec_diff::input(root, options.ours.as_deref(), OURS_PATH);
    let outcome = sync(root, options)?;
    if outcome.changed {
        fs::write(&ours_path, &outcome.text)
            .with_context(|| format!("cannot write {ours_label}"))?;
    }
    print!("{}", outcome.summary);
    Ok(ExitCode::SUCCESS)
}

/// Everything `run` does except writing the file.
pub fn sync(root: &Path, options: &SpecFiles) -> Result<Outcome> {
    let (ours_path, ours_label) = spec_diff::input(root, options.ours.as_deref(), OURS_PATH);
    let (fixes_path, fixes_label) = spec_diff::input(root, options.fixes.as_deref(), FIXES_PATH);
    let upstream_label = options.upstream.display().to_string();
    let upstream = Spec::load(&options.upstream, &upstream_label)?;
    let text =
        fs::read_to_string(&ours_path).with_context(|| format!("cannot read {ours_label}"))?;
    let ours = Spec::parse(&text, &ours_label)?;
    let entries = spec_diff::load_fixes(&fixes_path, &fixes_label)?;

    let differences = spec_diff::compare_specs(&upstream, &ours)?.differences;
    let attribution = explain::attribute(&entries, &differences);
    let unexplained: Vec<usize> = (0..differences.len())
        .filter(|&i| attribution[i].is_none())
        .collect();
    let plan = take::plan(&upstream, &ours, &differences, &unexplained);
    let mut by_hand = plan.by_hand;
    let mut takings = without_conflicts(plan.takings, &differences, &mut by_hand);

    let mut round = 0;
    let (new_text, brought) = loop {
        round += 1;
        let (new_text, brought, failed) = apply(&text, &ours, &upstream, &takings)?;
        if let Some((at, error)) = failed {
            let taking = takings.remove(at);
            by_hand.push((
                taking.difference,
                format!("cannot edit the file here: {error:#}"),
            ));
            continue;
        }
        let new_ours = Spec::parse(&new_text, &ours_label)
            .context("the updated fragment does not read back; this is a bug in spec-sync")?;
        let now = spec_diff::compare_specs(&upstream, &new_ours)?.differences;
        let now_attribution = explain::attribute(&entries, &now);
        let introduced: Vec<&Difference> = now
            .iter()
            .zip(&now_attribution)
            .filter(|(d, a)| a.is_none() && !differences.iter().any(|old| same(old, d)))
            .map(|(d, _)| d)
            .collect();
        let contested = contested(&takings, &differences, &introduced);
        if contested.is_empty() || round == ROUNDS {
            break (new_text, brought);
        }
        for at in contested.into_iter().rev() {
            let taking = takings.remove(at);
            let reason = format!(
                "taking it changes {} of ours, which another place upstream leaves as it was \
                 (ours shares it); split it, or explain the difference in {fixes_label}",
                path_text(&differences[taking.difference].location.ours)
            );
            by_hand.push((taking.difference, reason));
        }
    };

    let final_ours = Spec::parse(&new_text, &ours_label)?;
    let taken: Vec<&Difference> = takings.iter().map(|t| &differences[t.difference]).collect();
    let mut decide = metrics::decisions(&final_ours, &metric_names(&taken, Kind::Removed));
    decide.extend(metrics::removed(&ours, &metric_names(&taken, Kind::Added)));
    by_hand.sort_by_key(|(i, _)| *i);
    decide.extend(by_hand.iter().map(|(i, why)| {
        let d = &differences[*i];
        format!("`{}` ({}, not taken): {why}", d.location, d.kind)
    }));
    let kept = entries
        .iter()
        .enumerate()
        .map(|(i, entry)| (entry, attribution.iter().filter(|a| **a == Some(i)).count()))
        .collect();
    let changed = new_text != text;
    let summary = Summary {
        ours: &ours_label,
        upstream: &upstream_label,
        fixes: &fixes_label,
        took: taken,
        brought,
        kept,
        decide,
        changed: changed.then(|| line_changes(&text, &new_text)),
    }
    .render();
    Ok(Outcome {
        text: new_text,
        changed,
        summary,
    })
}

/// The same difference (location and kind) in two comparisons.
fn same(a: &Difference, b: &Difference) -> bool {
    a.kind == b.kind && a.location == b.location
}

/// Takings that set one place of ours to different values (ours shares a component both
/// of upstream's operations write separately, and they disagree) go to the maintainer.
fn without_conflicts(
    takings: Vec<Taking>,
    differences: &[Difference],
    by_hand: &mut Vec<(usize, String)>,
) -> Vec<Taking> {
    // Insertions into sequences never clash: each one adds its own item.
    let edits: Vec<(usize, &spec_edit::Edit)> = takings
        .iter()
        .enumerate()
        .flat_map(|(i, t)| t.edits.iter().map(move |e| (i, e)))
        .filter(|(_, e)| !matches!(e, spec_edit::Edit::InsertItem(..)))
        .collect();
    let conflicting: BTreeSet<usize> = edits
        .iter()
        .filter(|(i, edit)| {
            edits
                .iter()
                .any(|(j, other)| i != j && other.path() == edit.path() && other != edit)
        })
        .map(|(i, _)| *i)
        .collect();
    let mut kept = Vec::new();
    for (i, taking) in takings.into_iter().enumerate() {
        if conflicting.contains(&i) {
            let at = path_text(&differences[taking.difference].location.ours);
            let reason = format!(
                "upstream's operations disagree about {at}, which ours writes once; decide by hand"
            );
            by_hand.push((taking.difference, reason));
        } else {
            kept.push(taking);
        }
    }
    kept
}

/// What applying the takings gave: the new text, the components brought along, and the
/// first taking that could not be applied (its index and the error).
type Applied = (String, Vec<String>, Option<(usize, anyhow::Error)>);

/// Apply the takings to `text`.
fn apply(text: &str, ours: &Spec, upstream: &Spec, takings: &[Taking]) -> Result<Applied> {
    let all = takings
        .iter()
        .flat_map(|t| t.edits.iter().cloned())
        .collect();
    let mut edit = SpecEdit::new(text.to_owned(), ours, upstream);
    for step in spec_edit::ordered(all) {
        if let Err(error) = edit.apply(&step) {
            let Some(at) = takings.iter().position(|t| t.edits.contains(&step)) else {
                return Err(error);
            };
            return Ok((text.to_owned(), Vec::new(), Some((at, error))));
        }
    }
    let brought = edit.brought.iter().cloned().collect();
    Ok((edit.doc.into_text(), brought, None))
}

/// Takings whose edits touch the place of ours where a difference they introduced sits.
fn contested(
    takings: &[Taking],
    differences: &[Difference],
    introduced: &[&Difference],
) -> Vec<usize> {
    let related = |a: &[Seg], b: &[Seg]| a.starts_with(b) || b.starts_with(a);
    (0..takings.len())
        .filter(|&i| {
            let own = &differences[takings[i].difference].location.ours;
            let paths: Vec<Vec<Seg>> = takings[i].edits.iter().map(|e| e.path()).collect();
            introduced.iter().any(|d| {
                related(&d.location.ours, own) || paths.iter().any(|p| related(&d.location.ours, p))
            })
        })
        .collect()
}

/// The connection metrics and DNS metric keys among the taken differences of one kind:
/// `Removed` (only upstream had them: new) or `Added` (only ours had them: gone).
fn metric_names(taken: &[&Difference], kind: Kind) -> BTreeSet<String> {
    taken
        .iter()
        .filter(|d| d.kind == kind)
        .filter_map(|d| match d.location.segments.as_slice() {
            [c, s, schema, name] if c == "components" && s == "schemas" => {
                let metric = schema == metrics::CONNECTION_ATTRIBUTES;
                metric.then(|| name.clone())
            }
            [c, s, schema, e, value] if c == "components" && s == "schemas" && e == "enum" => {
                (schema == metrics::DNS_METRIC_KEY).then(|| value.clone())
            }
            _ => None,
        })
        .collect()
}

/// Lines added and removed between two texts.
fn line_changes(before: &str, after: &str) -> (usize, usize) {
    let diff = similar::TextDiff::from_lines(before, after);
    let mut counts = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => counts.0 += 1,
            similar::ChangeTag::Delete => counts.1 += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    counts
}
