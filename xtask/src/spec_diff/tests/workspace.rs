//! Our own `spec/datadog-cnm.yaml` and `spec/FIXES.md`: the fragment differs from itself in
//! nothing, and every difference from an upstream-like file is explained by an entry.

use std::path::Path;

use super::{differences, listing, only};
use crate::spec_diff::compare::Difference;
use crate::spec_diff::explain::{self, Category, Entry};

fn workspace_file(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn our_fragment_compared_with_itself_has_no_differences() {
    let ours = workspace_file(crate::spec_diff::OURS_PATH);
    only(&differences(&ours, &ours), &[]);
}

/// Our real spec and `FIXES.md` against an upstream-like fixture: what explains what.
fn explained(upstream_fixture: &str) -> (Vec<Entry>, Vec<(Difference, Option<usize>)>) {
    let upstream = workspace_file(&format!("xtask/tests/fixtures/{upstream_fixture}"));
    let found = differences(&upstream, &workspace_file(crate::spec_diff::OURS_PATH));
    let entries =
        explain::parse(&workspace_file(crate::spec_diff::FIXES_PATH), "FIXES.md").unwrap();
    let attribution = explain::attribute(&entries, &found);
    let unexplained: Vec<Difference> = found
        .iter()
        .zip(&attribution)
        .filter(|(_, a)| a.is_none())
        .map(|(d, _)| d.clone())
        .collect();
    assert!(
        unexplained.is_empty(),
        "differences between {upstream_fixture} and spec/datadog-cnm.yaml that no entry of \
         spec/FIXES.md explains (add a fix entry or extend its diff locations):\n{}",
        listing(&unexplained)
    );
    (entries, found.into_iter().zip(attribution).collect())
}

fn matched(
    entries: &[Entry],
    explained: &[(Difference, Option<usize>)],
    category: Category,
) -> Vec<String> {
    entries
        .iter()
        .enumerate()
        .filter(|(i, e)| e.category == category && explained.iter().any(|(_, a)| *a == Some(*i)))
        .map(|(_, e)| e.id.clone())
        .collect()
}

#[test]
fn fixes_explain_every_difference_from_a_2026_04_upstream() {
    let (entries, explained) = explained("upstream-2026-04.yaml");
    let fixes = matched(&entries, &explained, Category::Fix);
    // F2 never shows (both declare application/json); F8 needs a file with the duplicate.
    assert_eq!(
        fixes,
        ["F1", "F3", "F4", "F5", "F6", "F7", "F9", "F10", "F11"]
    );
    let newer = matched(&entries, &explained, Category::NewerUpstream);
    assert_eq!(newer, ["U1", "U2", "U3", "U4", "U5", "U6"]);
}

#[test]
fn fixes_explain_every_difference_from_a_2026_08_upstream() {
    let (entries, explained) = explained("upstream-2026-08.yaml");
    let fixes = matched(&entries, &explained, Category::Fix);
    assert_eq!(
        fixes,
        ["F1", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11"]
    );
    assert!(matched(&entries, &explained, Category::NewerUpstream).is_empty());
}

#[test]
fn every_fixes_entry_says_where_it_shows_or_why_not() {
    let entries =
        explain::parse(&workspace_file(crate::spec_diff::FIXES_PATH), "FIXES.md").unwrap();
    let mut ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate entry ids in spec/FIXES.md");
    for entry in &entries {
        assert!(
            !entry.patterns.is_empty() || entry.not_visible.is_some(),
            "{} has neither diff locations nor a `Not visible when` note",
            entry.id
        );
    }
}

#[test]
fn every_fix_says_whether_it_goes_upstream() {
    let entries =
        explain::parse(&workspace_file(crate::spec_diff::FIXES_PATH), "FIXES.md").unwrap();
    for entry in entries.iter().filter(|e| e.category == Category::Fix) {
        assert!(
            entry.send_upstream.is_some(),
            "{} has no `- **Send upstream**: yes` or `no (why)` line (upstream-patch needs one)",
            entry.id
        );
    }
}
