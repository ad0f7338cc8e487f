//! `cargo xtask spec-sync` as a maintainer runs it, on the small fixtures under
//! `tests/fixtures/sync/`: an upstream with a new connection metric, a new DNS metric key, a
//! reworded parameter and a new response, against a fragment of ours with a fix (JSON:API
//! error items), a newer upstream change (the `query` parameter) and `x-cnm-*` semantics.

// Test code: a panic that shows the error is the right way to fail (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Scratch, fixture, stderr, stdout, xtask, xtask_in};

/// A scratch copy of the three sync fixtures, run from inside it so that the summary names
/// the files the same way on every machine.
fn scratch(name: &str) -> Scratch {
    let scratch = Scratch::new(name);
    for file in ["upstream.yaml", "ours.yaml", "FIXES.md"] {
        scratch.file(file, &fixture(&format!("sync/{file}")));
    }
    scratch
}

const ARGS: [&str; 7] = [
    "spec-sync",
    "--upstream",
    "upstream.yaml",
    "--ours",
    "ours.yaml",
    "--fixes",
    "FIXES.md",
];

fn sync(scratch: &Scratch) -> String {
    stdout(&xtask_in(Some(&scratch.0), &ARGS))
}

/// The lines that changed, as a unified diff without headers.
fn changes(before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(1)
        .to_string()
}

#[test]
fn takes_new_metrics_and_keeps_fixes_and_newer_upstream() {
    let scratch = scratch("sync-takes");
    let summary = sync(&scratch);
    let before = fixture("sync/ours.yaml");
    let after = scratch.read("ours.yaml");
    insta::assert_snapshot!("summary", summary);
    insta::assert_snapshot!("changes", changes(&before, &after));

    let parsed: serde_json::Value = serde_norway::from_str(&after).unwrap();
    let schemas = &parsed["components"]["schemas"];
    // Taken: the new metric, in sorted place, and the new DNS key, appended with its names.
    let metrics: Vec<&String> =
        schemas["SingleAggregatedConnectionResponseDataAttributes"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
    let mut sorted = metrics.clone();
    sorted.sort();
    assert_eq!(metrics, sorted);
    assert!(metrics.iter().any(|m| *m == "tcp_syn_retransmits"));
    let dns = &schemas["DnsMetricKey"];
    assert_eq!(dns["enum"][3], "dns_responses.refused");
    assert_eq!(dns["x-enum-varnames"][3], "DNS_RESPONSES_REFUSED");
    // Kept: our fix (F1), the newer upstream parameter (U1) and our semantics (N5).
    assert_eq!(
        schemas["APIErrorItem"]["oneOf"][0]["$ref"],
        "#/components/schemas/JSONAPIErrorItem"
    );
    let parameters = &parsed["paths"]["/api/v2/network/dns/aggregate"]["get"]["parameters"];
    assert_eq!(parameters[2]["$ref"], "#/components/parameters/CnmQuery");
    assert_eq!(dns["x-cnm-aggregations"].as_array().unwrap().len(), 3);
    // The decisions name what codegen will refuse.
    assert!(summary.contains(
        "new metric `tcp_syn_retransmits`: add `x-cnm-aggregation` (sum|mean|rate|percentile)"
    ));
    assert!(summary.contains(
        "new DNS metric `dns_responses.refused`: append its aggregation (sum|mean|rate|percentile) to `x-cnm-aggregations`"
    ));
}

#[test]
fn a_second_run_changes_nothing_and_still_asks() {
    let scratch = scratch("sync-twice");
    sync(&scratch);
    let first = scratch.read("ours.yaml");
    let summary = sync(&scratch);
    assert_eq!(
        scratch.read("ours.yaml"),
        first,
        "the second run rewrote the file"
    );
    assert!(summary.contains("Took from upstream: nothing"), "{summary}");
    assert!(summary.contains("ours.yaml is unchanged."), "{summary}");
    assert!(summary.contains("metric `tcp_syn_retransmits` (no aggregation yet)"));
    // With the aggregations added, nothing is left to decide, and nothing differs unexplained.
    let decided = first
        .replace(
            "        - percentile\n      x-cnm-columns",
            "        - percentile\n        - sum\n      x-cnm-columns",
        )
        .replace(
            "retransmitted while establishing connections.\n          format: int64\n          type: integer\n",
            "retransmitted while establishing connections.\n          format: int64\n          type: integer\n          x-cnm-aggregation: sum\n",
        );
    assert_ne!(decided, first);
    scratch.file("ours.yaml", &decided);
    let summary = sync(&scratch);
    assert!(summary.contains("Nothing to decide."), "{summary}");
    assert_eq!(scratch.read("ours.yaml"), decided);
    let report = stdout(&xtask_in(
        Some(&scratch.0),
        &[
            "spec-diff",
            "--upstream",
            "upstream.yaml",
            "--ours",
            "ours.yaml",
            "--fixes",
            "FIXES.md",
            "--format",
            "json",
        ],
    ));
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["summary"]["unexplained"], 0, "{report:#}");
}

#[test]
fn an_edit_a_shared_component_cannot_take_is_left_to_decide() {
    let scratch = scratch("sync-shared");
    // Upstream rewords `from` in one operation only; ours writes it once for both.
    let upstream = fixture("sync/upstream.yaml");
    let reworded = upstream.replacen(
        "Unix timestamp of the start of the query window.",
        "Unix timestamp (seconds) of the start of the query window.",
        1,
    );
    assert_ne!(reworded, upstream);
    scratch.file("upstream.yaml", &reworded);
    let summary = sync(&scratch);
    assert!(
        summary.contains(
            "`GetAggregatedConnections › parameter from › description` (changed, not taken): \
             taking it changes components.parameters.CnmFrom.description of ours"
        ),
        "{summary}"
    );
    assert!(
        scratch
            .read("ours.yaml")
            .contains("Unix timestamp of the start")
    );
    let again = scratch.read("ours.yaml");
    sync(&scratch);
    assert_eq!(scratch.read("ours.yaml"), again);
}

#[test]
fn unusable_input_fails_and_bad_usage_exits_2() {
    let scratch = scratch("sync-errors");
    let missing = xtask_in(
        Some(&scratch.0),
        &[
            "spec-sync",
            "--upstream",
            "nope.yaml",
            "--ours",
            "ours.yaml",
        ],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).starts_with("error: cannot read nope.yaml: "));
    scratch.file("bad.yaml", "openapi: 3.0.0\npaths: {a: [\n");
    let invalid = xtask_in(
        Some(&scratch.0),
        &[
            "spec-sync",
            "--upstream",
            "upstream.yaml",
            "--ours",
            "bad.yaml",
        ],
    );
    assert_eq!(invalid.status.code(), Some(1));
    assert!(stderr(&invalid).contains("bad.yaml is not valid YAML"));
    assert_eq!(scratch.read("bad.yaml"), "openapi: 3.0.0\npaths: {a: [\n");

    let usage = xtask(&["spec-sync"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(stderr(&usage).starts_with("error: --upstream FILE is required"));
    let usage = xtask(&["spec-sync", "--upstream", "a", "--format", "json"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(stderr(&usage).starts_with("error: unexpected argument \"--format\""));
}

#[test]
fn our_fragment_is_current_with_both_upstream_stand_ins() {
    let scratch = Scratch::new("sync-workspace");
    let ours = std::fs::read_to_string("../spec/datadog-cnm.yaml").unwrap();
    let copy = scratch.file("datadog-cnm.yaml", &ours);
    for stand_in in ["upstream-2026-04.yaml", "upstream-2026-08.yaml"] {
        let summary = stdout(&xtask(&[
            "spec-sync",
            "--upstream",
            &format!("tests/fixtures/{stand_in}"),
            "--ours",
            copy.to_str().unwrap(),
            "--fixes",
            "../spec/FIXES.md",
        ]));
        assert!(
            summary.contains("Took from upstream: nothing"),
            "{stand_in}:\n{summary}"
        );
        assert!(
            summary.contains("Nothing to decide."),
            "{stand_in}:\n{summary}"
        );
        assert_eq!(scratch.read("datadog-cnm.yaml"), ours);
    }
}

#[test]
fn help_lists_spec_sync_and_upstream_patch() {
    let help = stdout(&xtask(&["help"]));
    assert!(help.contains("spec-sync --upstream FILE [--ours PATH] [--fixes PATH]"));
    assert!(help.contains("upstream-patch --upstream FILE [--ours PATH] [--fixes PATH]"));
}

#[test]
fn a_renamed_parameter_takes_the_old_ones_place() {
    let scratch = scratch("sync-renamed");
    let upstream = fixture("sync/upstream.yaml").replace(
        "        - description: Comma-separated list of tags (`key:value`) to filter DNS traffic by.\n          in: query\n          name: tags\n",
        "        - description: Tag filter.\n          in: query\n          name: tag_filter\n",
    );
    scratch.file("upstream.yaml", &upstream);
    let summary = sync(&scratch);
    assert!(
        summary.contains(
            "  + GetAggregatedDns › parameter tag_filter\n  - GetAggregatedDns › parameter tags\n"
        ),
        "{summary}"
    );
    let ours: serde_json::Value = serde_norway::from_str(&scratch.read("ours.yaml")).unwrap();
    let parameters = &ours["paths"]["/api/v2/network/dns/aggregate"]["get"]["parameters"];
    assert_eq!(parameters[1]["name"], "tag_filter");
    assert_eq!(parameters[2]["$ref"], "#/components/parameters/CnmQuery");
    assert_eq!(parameters.as_array().unwrap().len(), 3);
}
