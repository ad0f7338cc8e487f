//! The comparison on small hand-written fixtures (`xtask/tests/fixtures/`): each kind of
//! difference, what must not count as one, and clear errors. `sites` checks where each
//! difference is in each file; `workspace` checks our own spec and `FIXES.md`.

mod sites;
mod workspace;

use std::path::Path;

use super::compare::{self, Difference, Kind};
use super::node::Node;
use super::slice::{self, Spec};

const UPSTREAM: &str = include_str!("../../../tests/fixtures/upstream.yaml");
const REFACTORED: &str = include_str!("../../../tests/fixtures/upstream-refactored.yaml");

fn spec(text: &str, label: &str) -> Spec {
    Spec::parse(text, label).unwrap()
}

fn differences(upstream: &str, ours: &str) -> Vec<Difference> {
    let (up, our) = (spec(upstream, "upstream"), spec(ours, "ours"));
    let up_ops = up.operations().unwrap();
    let our_ops = our.operations().unwrap();
    let up_slice = slice::slice(&up, &up_ops).unwrap();
    let our_slice = slice::slice(&our, &our_ops).unwrap();
    compare::compare(
        (&up, &up_ops, &up_slice.components),
        (&our, &our_ops, &our_slice.components),
    )
    .differences
}

/// `text` with `from` replaced by `to`; `from` must occur exactly once, so that a fixture
/// edit cannot silently miss.
fn edit(text: &str, from: &str, to: &str) -> String {
    let count = text.matches(from).count();
    assert_eq!(count, 1, "{from:?} occurs {count} times in the fixture");
    text.replacen(from, to, 1)
}

fn listing(differences: &[Difference]) -> String {
    differences
        .iter()
        .map(|d| {
            format!(
                "{} {} ({:?} → {:?})\n",
                d.kind, d.location, d.before, d.after
            )
        })
        .collect()
}

#[track_caller]
fn find<'d>(differences: &'d [Difference], kind: Kind, location: &str) -> &'d Difference {
    differences
        .iter()
        .find(|d| d.kind == kind && d.location.to_string() == location)
        .unwrap_or_else(|| panic!("no `{kind} {location}` among:\n{}", listing(differences)))
}

#[track_caller]
fn only(differences: &[Difference], expected: &[(Kind, &str)]) {
    let found: Vec<(Kind, String)> = differences
        .iter()
        .map(|d| (d.kind, d.location.to_string()))
        .collect();
    let expected: Vec<(Kind, String)> = expected
        .iter()
        .map(|(k, l)| (*k, (*l).to_owned()))
        .collect();
    assert_eq!(found, expected, "differences:\n{}", listing(differences));
}

#[test]
fn identical_specs_have_no_differences() {
    only(&differences(UPSTREAM, UPSTREAM), &[]);
}

#[test]
fn refs_inlined_or_referenced_and_formatting_make_no_difference() {
    assert!(REFACTORED.contains("$ref: \"#/components/parameters/From\""));
    only(&differences(UPSTREAM, REFACTORED), &[]);
    only(&differences(REFACTORED, UPSTREAM), &[]);
}

#[test]
fn shuffled_key_order_makes_no_difference() {
    fn reverse(node: &Node) -> Node {
        match node {
            Node::Map(entries) => Node::Map(
                entries
                    .iter()
                    .rev()
                    .map(|(k, v)| (k.clone(), reverse(v)))
                    .collect(),
            ),
            Node::Seq(items) => Node::Seq(items.iter().map(reverse).collect()),
            other => other.clone(),
        }
    }
    let shuffled = serde_norway::to_string(&reverse(&spec(UPSTREAM, "upstream").root)).unwrap();
    assert!(shuffled.starts_with("x-group-parameters: true\ntags:"));
    only(&differences(UPSTREAM, &shuffled), &[]);
}

#[test]
fn parameters_added_removed_changed_and_reordered() {
    let tags = "        - description: Comma-separated list of tags to filter DNS traffic by.\n";
    let ours = edit(
        UPSTREAM,
        tags,
        &format!("        - {{in: query, name: query, schema: {{type: string}}}}\n{tags}"),
    );
    let ours = edit(
        &ours,
        "        - description: Comma-separated list of tags to filter connections by.\n          in: query\n          name: tags\n          schema:\n            type: string\n",
        "",
    );
    let ours = edit(
        &ours,
        "connections to be returned. The maximum value is 7500. The default is 100.\n          in: query\n          name: limit\n          schema:\n            default: 100\n            format: int32\n            maximum: 7500",
        "connections to be returned. The maximum value is 7500. The default is 100.\n          in: query\n          name: limit\n          schema:\n            default: 100\n            format: int32\n            maximum: 1000",
    );
    let differences = differences(UPSTREAM, &ours);
    only(
        &differences,
        &[
            (Kind::Removed, "GetAggregatedConnections › parameter tags"),
            (
                Kind::Changed,
                "GetAggregatedConnections › parameter limit › schema › maximum",
            ),
            (Kind::Added, "GetAggregatedDns › parameter query"),
        ],
    );
    let maximum = &differences[1];
    assert_eq!(
        (maximum.before.as_deref(), maximum.after.as_deref()),
        (Some("7500"), Some("1000"))
    );
    let query = &differences[2];
    assert_eq!(
        query.after.as_deref(),
        Some(r#"{"in":"query","name":"query","schema":{"type":"string"}}"#)
    );
}

#[test]
fn parameter_order_changes_are_reported() {
    let ours = edit(
        UPSTREAM,
        "    get:\n      description: Get all aggregated DNS traffic.\n      operationId: GetAggregatedDns\n      parameters:\n",
        "    get:\n      description: Get all aggregated DNS traffic.\n      operationId: GetAggregatedDns\n      parameters:\n        - {in: query, name: limit, description: The number of aggregated DNS entries to be returned. The maximum value is 7500. The default is 100., schema: {default: 100, format: int32, maximum: 7500, minimum: 1, type: integer}}\n",
    );
    // Drop the original `limit` of the DNS operation (the last parameter in the file's op).
    let dns_limit = "        - description: The number of aggregated DNS entries to be returned. The maximum value is 7500. The default is 100.\n          in: query\n          name: limit\n          schema:\n            default: 100\n            format: int32\n            maximum: 7500\n            minimum: 1\n            type: integer\n";
    let ours = edit(&ours, dns_limit, "");
    let differences = differences(UPSTREAM, &ours);
    only(
        &differences,
        &[(Kind::Changed, "GetAggregatedDns › parameters")],
    );
    assert_eq!(
        differences[0].after.as_deref(),
        Some("limit, from, to, group_by, tags")
    );
}

#[test]
fn schema_fields_added_and_removed() {
    let resets = "        tcp_resets:\n          description: The number of TCP connections that were reset by the server.\n          format: int64\n          type: integer\n";
    let ours = edit(
        UPSTREAM,
        resets,
        "        tcp_timeouts:\n          format: int64\n          type: integer\n",
    );
    only(
        &differences(UPSTREAM, &ours),
        &[
            (
                Kind::Removed,
                "components › schemas › SingleAggregatedConnectionResponseDataAttributes › tcp_resets",
            ),
            (
                Kind::Added,
                "components › schemas › SingleAggregatedConnectionResponseDataAttributes › tcp_timeouts",
            ),
        ],
    );
}

#[test]
fn types_and_formats_changed() {
    let ours = edit(
        UPSTREAM,
        "over the given period.\n          format: int64\n          type: integer",
        "over the given period.\n          format: double\n          type: number",
    );
    let differences = differences(UPSTREAM, &ours);
    let base = "components › schemas › SingleAggregatedConnectionResponseDataAttributes › bytes_sent_by_client";
    only(
        &differences,
        &[
            (Kind::Changed, format!("{base} › format").as_str()),
            (Kind::Changed, format!("{base} › type").as_str()),
        ],
    );
    let format = &differences[0];
    assert_eq!(format.before.as_deref(), Some("\"int64\""));
    assert_eq!(format.after.as_deref(), Some("\"double\""));
}

#[test]
fn enum_values_added_and_removed() {
    let ours = edit(
        UPSTREAM,
        "        - dns_failures\n        - dns_responses.nxdomain\n",
        "        - dns_responses.nxdomain\n        - dns_timeouts\n",
    );
    // The parallel list follows (it is compared by value: see the next test).
    let ours = edit(
        &ours,
        "        - DNS_FAILURES\n        - DNS_RESPONSES_NXDOMAIN\n",
        "        - DNS_RESPONSES_NXDOMAIN\n        - DNS_TIMEOUTS\n",
    );
    only(
        &differences(UPSTREAM, &ours),
        &[
            (
                Kind::Removed,
                "components › schemas › DnsMetricKey › enum › dns_failures",
            ),
            (
                Kind::Added,
                "components › schemas › DnsMetricKey › enum › dns_timeouts",
            ),
            (
                Kind::Removed,
                "components › schemas › DnsMetricKey › x-enum-varnames › dns_failures",
            ),
            (
                Kind::Added,
                "components › schemas › DnsMetricKey › x-enum-varnames › dns_timeouts",
            ),
        ],
    );
}

#[test]
fn responses_added_and_removed_and_media_types_changed() {
    let dns_200 = "                $ref: \"#/components/schemas/SingleAggregatedDnsResponseArray\"\n          description: OK\n";
    let ours = edit(
        UPSTREAM,
        &format!("            application/json:\n              schema:\n{dns_200}"),
        &format!(
            "            application/vnd.api+json:\n              schema:\n{dns_200}        \"404\":\n          $ref: \"#/components/responses/NotFoundResponse\"\n"
        ),
    );
    let ours = edit(
        &ours,
        "          $ref: \"#/components/responses/BadRequestResponse\"\n        \"429\":\n          $ref: \"#/components/responses/TooManyRequestsResponse\"\n      summary: Get all aggregated connections",
        "          $ref: \"#/components/responses/BadRequestResponse\"\n      summary: Get all aggregated connections",
    );
    only(
        &differences(UPSTREAM, &ours),
        &[
            (Kind::Removed, "GetAggregatedConnections › response 429"),
            (
                Kind::Removed,
                "GetAggregatedDns › response 200 › content › application/json",
            ),
            (
                Kind::Added,
                "GetAggregatedDns › response 200 › content › application/vnd.api+json",
            ),
            (Kind::Added, "GetAggregatedDns › response 404"),
        ],
    );
}

#[test]
fn constraints_changed() {
    let ours = edit(
        UPSTREAM,
        "to group connections by. The maximum number of group_by(s) is 10.\n          in: query\n          name: group_by\n          schema:\n            type: string\n",
        "to group connections by. The maximum number of group_by(s) is 10.\n          in: query\n          name: group_by\n          schema:\n            pattern: \"^[^,]+(,[^,]+){0,9}$\"\n            type: string\n",
    );
    let ours = edit(
        &ours,
        "          description: Array of aggregated DNS objects.\n",
        "          description: Array of aggregated DNS objects.\n          maxItems: 7500\n",
    );
    let ours = edit(
        &ours,
        "The maximum value is 7500. The default is 100.\n          in: query\n          name: limit\n          schema:\n            default: 100\n            format: int32\n            maximum: 7500\n            minimum: 1\n            type: integer\n      responses:\n        \"200\":\n          content:\n            application/json:\n              schema:\n                $ref: \"#/components/schemas/SingleAggregatedDnsResponseArray\"",
        "The maximum value is 7500. The default is 100.\n          in: query\n          name: limit\n          schema:\n            default: 100\n            format: int32\n            maximum: 7500\n            minimum: 0\n            type: integer\n      responses:\n        \"200\":\n          content:\n            application/json:\n              schema:\n                $ref: \"#/components/schemas/SingleAggregatedDnsResponseArray\"",
    );
    only(
        &differences(UPSTREAM, &ours),
        &[
            (
                Kind::Added,
                "GetAggregatedConnections › parameter group_by › schema › pattern",
            ),
            (
                Kind::Changed,
                "GetAggregatedDns › parameter limit › schema › minimum",
            ),
            (
                Kind::Added,
                "components › schemas › SingleAggregatedDnsResponseArray › data › maxItems",
            ),
        ],
    );
}

#[test]
fn descriptions_changed_are_prose() {
    let ours = edit(
        UPSTREAM,
        "description: Get all aggregated DNS traffic.",
        "description: Get the aggregated DNS traffic of a window.",
    );
    let differences = differences(UPSTREAM, &ours);
    only(
        &differences,
        &[(Kind::Changed, "GetAggregatedDns › description")],
    );
    assert!(differences[0].prose);
    assert_eq!(
        differences[0].after.as_deref(),
        Some("Get the aggregated DNS traffic of a window.")
    );
}

#[test]
fn headers_added_and_matched_case_insensitively() {
    let ok = "                $ref: \"#/components/schemas/SingleAggregatedConnectionResponseArray\"\n          description: OK\n";
    let with = |names: [&str; 2]| {
        let headers: String = names
            .iter()
            .map(|n| format!("            {n}:\n              schema: {{type: string}}\n"))
            .collect();
        edit(UPSTREAM, ok, &format!("{ok}          headers:\n{headers}"))
    };
    let upstream = with(["x-ratelimit-limit", "X-Other"]);
    let ours = with(["X-RateLimit-Limit", "X-RateLimit-Reset"]);
    only(
        &differences(&upstream, &ours),
        &[
            (
                Kind::Removed,
                "GetAggregatedConnections › response 200 › headers › X-Other",
            ),
            (
                Kind::Added,
                "GetAggregatedConnections › response 200 › headers › X-RateLimit-Reset",
            ),
        ],
    );
}

#[test]
fn security_scopes_changed() {
    let secured = |text: &str, scope: &str| {
        edit(
            text,
            "      summary: Get all aggregated DNS traffic\n",
            &format!(
                "      security:\n        - apiKeyAuth: []\n          appKeyAuth: []\n        - AuthZ: [{scope}]\n      summary: Get all aggregated DNS traffic\n"
            ),
        )
    };
    let upstream = secured(UPSTREAM, "dashboards_read");
    let ours = edit(
        &secured(UPSTREAM, "network_connections_read"),
        "            metrics_read: View custom metrics.\n",
        "            metrics_read: View custom metrics.\n            network_connections_read: Read network data.\n",
    );
    only(
        &differences(&upstream, &ours),
        &[
            (
                Kind::Removed,
                "GetAggregatedDns › security › AuthZ › scopes › dashboards_read",
            ),
            (
                Kind::Added,
                "GetAggregatedDns › security › AuthZ › scopes › network_connections_read",
            ),
            (
                Kind::Added,
                "components › securitySchemes › AuthZ › flows › authorizationCode › scopes › network_connections_read",
            ),
        ],
    );
    // Without AuthZ on our side, the whole alternative is what differs.
    only(
        &differences(&upstream, UPSTREAM),
        &[(Kind::Removed, "GetAggregatedDns › security › AuthZ")],
    );
}

#[test]
fn duplicate_server_enum_values_are_reported() {
    let upstream = edit(
        UPSTREAM,
        "          - datadoghq.eu\n",
        "          - datadoghq.eu\n          - us3.datadoghq.com\n",
    );
    let differences = differences(&upstream, UPSTREAM);
    only(
        &differences,
        &[(
            Kind::Changed,
            "servers[0] › variables › site › enum › us3.datadoghq.com",
        )],
    );
    assert_eq!(
        differences[0].before.as_deref(),
        Some("\"us3.datadoghq.com\" listed 2 times")
    );
    assert_eq!(
        differences[0].after.as_deref(),
        Some("\"us3.datadoghq.com\" listed once")
    );
}

#[test]
fn a_shared_component_is_reported_once_and_recursion_ends() {
    let ours = edit(
        UPSTREAM,
        "          items:\n            description: A list of items.\n            example: Bad Request\n            type: string\n",
        "          items:\n            description: One error.\n            type: string\n",
    );
    // APIErrorResponse is used by four responses, but compared once, by name.
    let found = differences(UPSTREAM, &ours);
    assert_eq!(found.len(), 2, "{}", listing(&found));
    find(
        &found,
        Kind::Removed,
        "components › schemas › APIErrorResponse › errors › items › example",
    );

    // A schema that contains itself, reached through differently named refs on each side.
    let recursive = |target: &str| {
        let text = edit(
            UPSTREAM,
            "          $ref: \"#/components/schemas/SingleAggregatedDnsResponseDataAttributes\"\n",
            &format!(
                "          $ref: \"#/components/schemas/SingleAggregatedDnsResponseDataAttributes\"\n        next:\n          $ref: \"#/components/schemas/{target}\"\n"
            ),
        );
        edit(
            &text,
            "    SingleAggregatedDnsResponseDataAttributes:\n",
            "    DnsAlias:\n      $ref: \"#/components/schemas/SingleAggregatedDnsResponseData\"\n    SingleAggregatedDnsResponseDataAttributes:\n",
        )
    };
    let upstream = recursive("SingleAggregatedDnsResponseData");
    only(&differences(&upstream, &recursive("DnsAlias")), &[]);
}

#[test]
fn the_slice_keeps_the_operations_and_what_they_use_only() {
    let up = spec(UPSTREAM, "upstream");
    let ops = up.operations().unwrap();
    let sliced = slice::slice(&up, &ops).unwrap();
    let names: Vec<String> = sliced
        .components
        .iter()
        .map(|(kind, name)| format!("{kind}/{name}"))
        .collect();
    assert!(names.contains(&"schemas/DnsMetricKey".to_owned()));
    assert!(names.contains(&"securitySchemes/apiKeyAuth".to_owned()));
    for unrelated in [
        "schemas/OtherThing",
        "responses/NotFoundResponse",
        "parameters/OtherPageSize",
        "securitySchemes/AuthZ",
    ] {
        assert!(
            !names.contains(&unrelated.to_owned()),
            "{unrelated} in {names:?}"
        );
    }
    let yaml = slice::to_yaml(&up, &sliced).unwrap();
    assert!(!yaml.contains("GetOther") && !yaml.contains("x-group-parameters"));
    assert!(yaml.contains("name: Cloud Network Monitoring") && !yaml.contains("name: Other\n"));
    // The slice stands alone and means the same as the operations in the whole file.
    only(&differences(UPSTREAM, &yaml), &[]);
}

#[test]
fn unusable_input_fails_with_a_clear_error() {
    let error = |result: anyhow::Result<Spec>| match result {
        Ok(_) => panic!("accepted"),
        Err(e) => format!("{e:#}"),
    };
    let missing = error(Spec::load(Path::new("/nonexistent/openapi.yaml"), "x.yaml"));
    assert!(missing.starts_with("cannot read x.yaml: "), "{missing}");
    let invalid = error(Spec::parse("openapi: 3.0.0\npaths: [unclosed\n", "x.yaml"));
    assert!(
        invalid.starts_with("x.yaml is not valid YAML: "),
        "{invalid}"
    );
    let swagger = error(Spec::parse("swagger: '2.0'\npaths: {}\n", "x.yaml"));
    assert!(swagger.contains("not an OpenAPI 3 document"), "{swagger}");

    let without = spec(
        "openapi: 3.0.0\npaths:\n  /a:\n    get: {operationId: GetAggregatedDns}\n",
        "x.yaml",
    );
    let Err(missing_op) = without.operations() else {
        panic!("found operations that are not there");
    };
    assert_eq!(
        missing_op.to_string(),
        "x.yaml does not define operationId GetAggregatedConnections (searched the 1 operation under `paths`)"
    );
    let broken = edit(
        UPSTREAM,
        "#/components/schemas/DnsMetricKey",
        "#/components/schemas/Nope",
    );
    let broken = spec(&broken, "x.yaml");
    let ops = broken.operations().unwrap();
    let Err(dangling) = slice::slice(&broken, &ops) else {
        panic!("a dangling $ref was accepted");
    };
    assert!(
        dangling
            .to_string()
            .contains("\"#/components/schemas/Nope\" points at nothing")
    );
}
