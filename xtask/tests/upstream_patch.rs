//! `cargo xtask upstream-patch`: the patch it writes, that it applies (with `git apply` and
//! with our own applier), and that upstream then agrees with us on every fix marked
//! "Send upstream: yes" — on the small sync fixtures and on our real spec and `FIXES.md`
//! against the upstream stand-ins of 2026-04 and 2026-08.

// Test code: a panic that shows the error is the right way to fail (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::{Scratch, apply_unified, fixture, stderr, stdout, xtask, xtask_in};

const PATCHED_PATH: &str = ".generator/schemas/v2/openapi.yaml";

fn patch(upstream: &str, ours_and_fixes: Option<(&str, &str)>) -> (String, String) {
    let mut args = vec!["upstream-patch", "--upstream", upstream];
    if let Some((ours, fixes)) = ours_and_fixes {
        args.extend(["--ours", ours, "--fixes", fixes]);
    }
    let output = xtask(&args);
    (stdout(&output), stderr(&output))
}

const SYNC: Option<(&str, &str)> = Some((
    "tests/fixtures/sync/ours.yaml",
    "tests/fixtures/sync/FIXES.md",
));

/// The ids of the `F` entries of a `FIXES.md` marked `Send upstream: yes`.
fn sent(fixes: &str) -> Vec<String> {
    let mut sent = Vec::new();
    let mut current = None;
    for line in fixes.lines() {
        if let Some(heading) = line.strip_prefix("## F") {
            current = heading.split_once('.').map(|(n, _)| format!("F{n}"));
        } else if line.starts_with("## ") || line.starts_with("### ") {
            current = None;
        } else if line.trim() == "- **Send upstream**: yes" {
            sent.extend(current.take());
        }
    }
    sent
}

/// The differences `spec-diff` still attributes to the given entries.
fn still_attributed(upstream: &str, ours: &[&str], ids: &[String]) -> Vec<String> {
    let mut args = vec!["spec-diff", "--upstream", upstream, "--format", "json"];
    args.extend(ours);
    let report: serde_json::Value = serde_json::from_str(&stdout(&xtask(&args))).unwrap();
    report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| ids.iter().any(|id| d["explained_by"] == id.as_str()))
        .map(|d| format!("{} {}", d["explained_by"], d["location"]))
        .collect()
}

#[test]
fn the_patch_of_the_fixtures() {
    let (diff, notes) = patch("tests/fixtures/sync/upstream.yaml", SYNC);
    assert!(diff.starts_with(
        "--- a/.generator/schemas/v2/openapi.yaml\n+++ b/.generator/schemas/v2/openapi.yaml\n@@ "
    ));
    insta::assert_snapshot!("fixture_patch", diff);
    insta::assert_snapshot!("fixture_notes", notes);
}

#[test]
fn the_patch_applies_with_git_and_upstream_then_agrees() {
    let (diff, _) = patch("tests/fixtures/sync/upstream.yaml", SYNC);
    let upstream = fixture("sync/upstream.yaml");
    let ours = apply_unified(&upstream, &diff);
    let scratch = Scratch::new("patch-git");
    scratch.file(PATCHED_PATH, &upstream);
    let patch_file = scratch.file("cnm-fixes.patch", &diff);
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(&scratch.0)
            .output()
            .unwrap_or_else(|e| panic!("git (installed on CI) cannot run: {e}"))
    };
    for args in [
        vec!["init", "--quiet"],
        vec!["apply", "--check", patch_file.to_str().unwrap()],
        vec!["apply", patch_file.to_str().unwrap()],
    ] {
        let output = git(&args);
        assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
    }
    assert_eq!(
        scratch.read(PATCHED_PATH),
        ours,
        "git and our applier disagree"
    );

    let patched = scratch.0.join(PATCHED_PATH);
    let sync = [
        "--ours",
        "tests/fixtures/sync/ours.yaml",
        "--fixes",
        "tests/fixtures/sync/FIXES.md",
    ];
    let ids = sent(&fixture("sync/FIXES.md"));
    assert_eq!(ids, ["F1", "F2"]);
    let left = still_attributed(patched.to_str().unwrap(), &sync, &ids);
    assert!(
        left.is_empty(),
        "still different after the patch: {left:#?}"
    );
    // The fix marked "no" is not carried.
    let kept = still_attributed(patched.to_str().unwrap(), &sync, &["F3".to_owned()]);
    assert_eq!(kept.len(), 1, "{kept:?}");
}

#[test]
fn our_fixes_patch_both_upstream_stand_ins() {
    let ids = sent(&std::fs::read_to_string("../spec/FIXES.md").unwrap());
    assert!(ids.contains(&"F1".to_owned()) && !ids.contains(&"F10".to_owned()));
    let scratch = Scratch::new("patch-stand-ins");
    for (stand_in, f8) in [
        ("upstream-2026-04.yaml", "skipped, nothing to change"),
        ("upstream-2026-08.yaml", "carried (1 difference)"),
    ] {
        let (diff, notes) = patch(&format!("tests/fixtures/{stand_in}"), None);
        assert!(
            notes.contains(&format!("  F8  {f8}")),
            "{stand_in}:\n{notes}"
        );
        assert!(notes.contains("  F10 not sent: "), "{notes}");
        let patched = scratch.file(stand_in, &apply_unified(&fixture(stand_in), &diff));
        let left = still_attributed(patched.to_str().unwrap(), &[], &ids);
        assert!(
            left.is_empty(),
            "{stand_in} still differs after the patch: {left:#?}"
        );
    }
}

#[test]
fn the_patch_leaves_every_other_line_alone() {
    let (diff, _) = patch("tests/fixtures/upstream-2026-08.yaml", None);
    let removed: Vec<&str> = diff
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .collect();
    // Only what the fixes replace: the string error items, the implicit-flow sentence, the
    // DNS `group_by` sentence, the second `uk1.datadoghq.com`.
    assert_eq!(
        removed,
        [
            "-            - Bad Request",
            "-            description: A list of items.",
            "-            example: Bad Request",
            "-            type: string",
            "-      description: This API uses OAuth 2 with the implicit grant flow.",
            "-        - description: Comma-separated list of fields to group DNS traffic by. The server side defaults to `network.dns_query` if unspecified. `server_ungrouped` may be used if groups are not desired. The maximum number of group_by(s) is 10.",
            "-          - uk1.datadoghq.com",
        ]
    );
}

#[test]
fn every_fix_must_say_whether_it_goes_upstream() {
    let output = xtask(&[
        "upstream-patch",
        "--upstream",
        "tests/fixtures/upstream.yaml",
        "--ours",
        "tests/fixtures/ours.yaml",
        "--fixes",
        "tests/fixtures/FIXES.md",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_eq!(
        stderr(&output).lines().next().unwrap(),
        "error: tests/fixtures/FIXES.md: F1, F2, F3, F4, F5, F6 have no `Send upstream` line; \
         add `- **Send upstream**: yes` or `- **Send upstream**: no (why)` to each fix"
    );
    let scratch = Scratch::new("patch-errors");
    let fixes = scratch.file(
        "FIXES.md",
        &fixture("sync/FIXES.md").replace("**Send upstream**: yes", "**Send upstream**: maybe"),
    );
    let output = xtask_in(
        Some(&scratch.0),
        &[
            "upstream-patch",
            "--upstream",
            &format!(
                "{}/tests/fixtures/sync/upstream.yaml",
                env!("CARGO_MANIFEST_DIR")
            ),
            "--fixes",
            fixes.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output)
            .contains("the `Send upstream` line of F1 must be `yes` or `no (why)`, not \"maybe\""),
        "{}",
        stderr(&output)
    );
    let usage = xtask(&["upstream-patch", "--ours", "x"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(stderr(&usage).starts_with("error: --upstream FILE is required"));
}
