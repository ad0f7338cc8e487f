//! Where each difference is in each file (the concrete paths `spec-sync` and
//! `upstream-patch` edit), and lists parallel to an enum, compared by value.

use super::{UPSTREAM, differences, edit, find, only};
use crate::spec_diff::compare::Kind;
use crate::spec_diff::node::path_text;

#[test]
fn every_difference_says_where_it_is_in_each_file() {
    let ours = include_str!("../../../tests/fixtures/ours.yaml");
    let found = differences(UPSTREAM, ours);
    let at = |kind: Kind, location: &str| {
        let d = find(&found, kind, location);
        (path_text(&d.location.upstream), path_text(&d.location.ours))
    };
    // Through our `$ref` to a shared schema; upstream's is inline in the parameter list.
    assert_eq!(
        at(
            Kind::Added,
            "GetAggregatedConnections › parameter group_by › schema › pattern"
        ),
        (
            "paths./api/v2/network/connections/aggregate.get.parameters[2].schema.pattern".into(),
            "components.schemas.CnmGroupBy.pattern".into()
        )
    );
    // A parameter only we have: upstream would get a new item of the operation's list.
    assert_eq!(
        at(Kind::Added, "GetAggregatedDns › parameter query"),
        (
            "paths./api/v2/network/dns/aggregate.get.parameters[+]".into(),
            "paths./api/v2/network/dns/aggregate.get.parameters[4]".into()
        )
    );
    // Properties sit under `properties`, which the printed location leaves out.
    assert_eq!(
        at(
            Kind::Removed,
            "components › schemas › APIErrorResponse › errors › items › type"
        ),
        (
            "components.schemas.APIErrorResponse.properties.errors.items.type".into(),
            "components.schemas.APIErrorResponse.properties.errors.items.type".into()
        )
    );
    // Enum values by position; the side without the value gets a new item.
    assert_eq!(
        at(
            Kind::Added,
            "components › schemas › DnsMetricKey › enum › dns_timeouts"
        ),
        (
            "components.schemas.DnsMetricKey.enum[+]".into(),
            "components.schemas.DnsMetricKey.enum[3]".into()
        )
    );
}

#[test]
fn lists_parallel_to_an_enum_are_compared_by_value() {
    // The same values and names in another order: no difference.
    let reordered = edit(
        UPSTREAM,
        "        - dns_total_requests\n        - dns_failures\n",
        "        - dns_failures\n        - dns_total_requests\n",
    );
    let reordered = edit(
        &reordered,
        "        - DNS_TOTAL_REQUESTS\n        - DNS_FAILURES\n",
        "        - DNS_FAILURES\n        - DNS_TOTAL_REQUESTS\n",
    );
    only(&differences(UPSTREAM, &reordered), &[]);
    // Names swapped against their values: each value's name changed.
    let swapped = edit(
        UPSTREAM,
        "        - DNS_TOTAL_REQUESTS\n        - DNS_FAILURES\n",
        "        - DNS_FAILURES\n        - DNS_TOTAL_REQUESTS\n",
    );
    let found = differences(UPSTREAM, &swapped);
    only(
        &found,
        &[
            (
                Kind::Changed,
                "components › schemas › DnsMetricKey › x-enum-varnames › dns_failures",
            ),
            (
                Kind::Changed,
                "components › schemas › DnsMetricKey › x-enum-varnames › dns_total_requests",
            ),
        ],
    );
    assert_eq!(found[0].after.as_deref(), Some("\"DNS_TOTAL_REQUESTS\""));
}
