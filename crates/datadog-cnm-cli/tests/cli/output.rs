//! Every command and output format.

use datadog_cnm_mock::{CustomResponse, Fault, MockServer};

use crate::support::{API_KEY, APP_KEY, FROM, Mock, TO, bare, expect, json, ndjson, query, redact};

// ---- connections and dns, every format ----

#[test]
fn connections_table_has_groups_then_human_metrics_and_a_truncation_footer() {
    let mock = Mock::new();
    let out = query(
        &mock,
        "connections",
        "table",
        &[
            "--group-by",
            "client_service,server_service",
            "--limit",
            "5",
        ],
    );
    assert!(out.stdout.contains("GiB"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("truncated: 5 rows came back, the limit"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr, "");
    insta::assert_snapshot!(redact(&out.stdout));
}

#[test]
fn connections_json_is_an_array_of_rows_with_every_metric() {
    let mock = Mock::new();
    let out = query(
        &mock,
        "connections",
        "json",
        &["--group-by", "client_team", "--limit", "2"],
    );
    let rows = json(&out.stdout);
    let rows = rows.as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        let object = row.as_object().cloned().unwrap_or_default();
        assert_eq!(object.len(), 1 + 17, "{row}");
        assert!(row["group_bys"]["client_team"][0].is_string());
        assert!(row["tcp_rto_count"].is_i64());
    }
    // Machine formats keep stdout clean; the truncation note goes to stderr.
    assert!(
        out.stderr.starts_with("warning: truncated"),
        "{}",
        out.stderr
    );
    insta::assert_snapshot!(redact(&out.stdout));
}

#[test]
fn connections_ndjson_is_one_row_per_line() {
    let mock = Mock::new();
    let out = query(
        &mock,
        "connections",
        "ndjson",
        &["--group-by", "server_team", "--limit", "3", "--quiet"],
    );
    let rows = ndjson(&out.stdout);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|row| row["bytes_sent_by_server"].is_i64()));
    assert_eq!(out.stderr, "", "--quiet drops the truncation warning");
    insta::assert_snapshot!(redact(&out.stdout));
}

#[test]
fn connections_csv_has_group_keys_then_metrics() {
    let mock = Mock::new();
    let out = query(
        &mock,
        "connections",
        "csv",
        &["--group-by", "client_env,client_team", "--limit", "3"],
    );
    let header = out.stdout.lines().next().unwrap_or_default();
    assert!(header.starts_with("client_env,client_team,bytes_sent_by_client,"));
    assert_eq!(header.split(',').count(), 2 + 17);
    assert_eq!(out.stdout.lines().count(), 1 + 3);
    insta::assert_snapshot!(redact(&out.stdout));
}

#[test]
fn dns_table_groups_by_query_by_default() {
    let mock = Mock::new();
    let out = query(&mock, "dns", "table", &["--limit", "5"]);
    assert!(out.stdout.contains("network.dns_query"));
    insta::assert_snapshot!(redact(&out.stdout));
}

#[test]
fn dns_json_flattens_metrics_under_their_api_names() {
    let mock = Mock::new();
    let out = query(
        &mock,
        "dns",
        "json",
        &["--group-by", "client_service", "--limit", "2"],
    );
    let rows = json(&out.stdout);
    let first = &rows[0];
    assert!(first["group_bys"]["client_service"][0].is_string());
    assert!(first["dns_total_requests"].is_i64());
    assert!(first["dns_responses.nxdomain"].is_i64());
    assert_eq!(
        first["dns_total_requests"].as_i64(),
        first["dns_successful_responses"]
            .as_i64()
            .zip(first["dns_failures"].as_i64())
            .map(|(ok, failed)| ok + failed)
    );
    insta::assert_snapshot!(redact(&out.stdout));
}

#[test]
fn dns_ndjson_and_csv() {
    let mock = Mock::new();
    let flags = ["--group-by", "network.dns_query,client_env", "--limit", "3"];
    let lines = query(&mock, "dns", "ndjson", &flags).stdout;
    assert_eq!(ndjson(&lines).len(), 3);
    let csv = query(&mock, "dns", "csv", &flags).stdout;
    assert!(csv.starts_with("network.dns_query,client_env,dns_total_requests,"));
    insta::assert_snapshot!("dns_ndjson", redact(&lines));
    insta::assert_snapshot!("dns_csv", redact(&csv));
}

#[test]
fn dns_server_ungrouped_alone_is_one_total_row() {
    let mock = Mock::new();
    let out = query(&mock, "dns", "csv", &["--group-by", "server_ungrouped"]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert!(
        lines[0].starts_with("dns_total_requests,"),
        "no group column"
    );
}

// ---- series ----

#[test]
fn step_rows_carry_their_windows_and_add_up_to_the_whole() {
    let mock = Mock::new();
    let pair = [
        "--group-by",
        "client_service,server_service",
        "--query",
        "client_service:ratings-proxy AND server_service:quotes-db",
    ];
    let series = query(
        &mock,
        "connections",
        "json",
        &[&pair[..], &["--step", "10m"]].concat(),
    );
    let rows = json(&series.stdout);
    let rows = rows.as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0]["window_start"], FROM);
    assert_eq!(rows[5]["window_end"], TO);
    for pair in rows.windows(2) {
        assert_eq!(pair[0]["window_end"], pair[1]["window_start"]);
    }
    let whole = json(&query(&mock, "connections", "json", &pair).stdout);
    let sum: i64 = rows
        .iter()
        .filter_map(|row| row["bytes_sent_by_client"].as_i64())
        .sum();
    assert_eq!(whole[0]["bytes_sent_by_client"].as_i64(), Some(sum));
    // Without a terminal there is no progress bar, and nothing else on stderr.
    assert_eq!(series.stderr, "");
}

#[test]
fn step_output_in_table_and_csv() {
    let mock = Mock::new();
    let flags = [
        "--group-by",
        "client_env",
        "--step",
        "20m",
        "--limit",
        "2",
        "--concurrency",
        "2",
    ];
    // A table of a series is a trend: one line per group, a sparkline over the windows.
    let table = query(&mock, "connections", "table", &flags);
    assert!(table.stdout.contains("3 windows"), "{}", table.stdout);
    assert!(table.stdout.contains("trend of total_bytes"));
    assert!(
        table
            .stdout
            .contains("truncated: 3 of 3 windows returned 2 rows")
    );
    insta::assert_snapshot!("step_table", redact(&table.stdout));
    // --per-window: a table per window instead.
    let per_window = query(
        &mock,
        "connections",
        "table",
        &[&flags[..], &["--per-window"]].concat(),
    );
    assert_eq!(
        per_window.stdout.matches("connections · ").count(),
        3,
        "{}",
        per_window.stdout
    );
    insta::assert_snapshot!("step_table_per_window", redact(&per_window.stdout));
    let csv = query(&mock, "dns", "csv", &flags);
    assert!(
        csv.stdout
            .starts_with("window_start,window_end,partial,client_env,")
    );
    assert_eq!(csv.stdout.lines().count(), 1 + 3 * 2);
    insta::assert_snapshot!("step_csv", redact(&csv.stdout));
}

// ---- sites, help ----

#[test]
fn sites_in_every_format() {
    let table = expect(bare().arg("sites"), 0).stdout;
    assert!(table.contains("https://api.datadoghq.eu/"));
    insta::assert_snapshot!("sites_table", table);
    let sites = json(&expect(bare().args(["sites", "--output", "json"]), 0).stdout);
    assert_eq!(sites.as_array().map(Vec::len), Some(9));
    assert_eq!(sites[3]["name"], "eu1");
    assert_eq!(sites[3]["domain"], "datadoghq.eu");
    assert_eq!(sites[3]["api_url"], "https://api.datadoghq.eu/");
    let lines = expect(bare().args(["-o", "ndjson", "sites"]), 0).stdout;
    assert_eq!(lines.lines().count(), 9);
    let csv = expect(bare().args(["sites", "-o", "csv"]), 0).stdout;
    assert!(csv.starts_with("name,domain,api_url\nus1,datadoghq.com,https://api.datadoghq.com/\n"));
}

#[test]
fn help_lists_every_command_with_examples() {
    let help = expect(bare().arg("--help"), 0).stdout;
    for command in [
        "connections",
        "dns",
        "sites",
        "mock-server",
        "demo",
        "Examples:",
    ] {
        assert!(help.contains(command), "{command}");
    }
    insta::assert_snapshot!("help", help);
}

/// Group-by values are the server's text: a table on a terminal shows control characters
/// (escape sequences, line breaks) escaped, machine formats keep them as they came, and
/// a server echoing the keys in an error never gets them printed.
#[test]
fn server_text_cannot_drive_the_terminal_or_echo_the_keys() {
    let hostile = "evil\u{1b}]0;owned\u{7}\u{1b}[2J\nrow";
    let body = serde_json::json!({"data": [{
        "attributes": {"bytes_sent_by_client": 7, "group_bys": {"client_service": [hostile]}},
        "id": "x", "type": "aggregated_connection"
    }]})
    .to_string();
    let respond = |status: u16, body: &str| {
        Mock::start(MockServer::builder().fault(Fault::Respond {
            response: CustomResponse::new(status).body(body.to_owned()),
            times: 1,
        }))
    };
    let mock = respond(200, &body);
    let table = expect(
        mock.ddcnm()
            .args(["connections", "--group-by", "client_service"])
            .args(["--from", FROM, "--to", TO]),
        0,
    );
    assert!(
        table
            .stdout
            .contains(r"evil\u{1b}]0;owned\u{7}\u{1b}[2J\u{a}row"),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains('\u{1b}'), "{:?}", table.stdout);
    let mock = respond(200, &body);
    let rows = json(
        &expect(
            mock.ddcnm()
                .args(["connections", "--group-by", "client_service", "-o", "json"])
                .args(["--from", FROM, "--to", TO]),
            0,
        )
        .stdout,
    );
    assert_eq!(rows[0]["group_bys"]["client_service"][0], hostile);
    let echo = format!(
        r#"{{"errors":[{{"title":"Forbidden","detail":"key {API_KEY} / app {APP_KEY}: {}"}}]}}"#,
        "\\u001b[2J"
    );
    let mock = respond(403, &echo);
    let refused = expect(
        mock.ddcnm()
            .args(["--max-attempts", "1", "connections"])
            .args(["--from", FROM, "--to", TO]),
        3,
    );
    assert!(
        !refused.stderr.contains(API_KEY) && !refused.stderr.contains(APP_KEY),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("** redacted **"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains('\u{1b}'), "{:?}", refused.stderr);
}

/// Unknown attributes that are not metrics (a ratio, a text, a number beyond int64) cannot
/// be columns: they are named on stderr, once however many windows carry them, and
/// unknown integer metrics are printed.
#[test]
fn unknown_attributes_that_are_not_metrics_are_named_once() {
    let body = r#"{"data":[{"attributes":{"bytes_sent_by_client":7,"tcp_future":5,
        "tcp_new_ratio":0.25,"tcp_note":"x","tcp_big":99999999999999999999,
        "group_bys":{"client_env":["prod"]}},"id":"x","type":"aggregated_connection"}]}"#;
    let mock = Mock::start(MockServer::builder().fault(Fault::Respond {
        response: CustomResponse::new(200).body(body),
        times: 2,
    }));
    let out = expect(
        mock.ddcnm()
            .args(["connections", "-o", "ndjson", "--step", "30m", "--no-align"])
            .args(["--group-by", "client_env", "--concurrency", "1"])
            .args(["--from", FROM, "--to", TO]),
        0,
    );
    let rows: Vec<_> = out.stdout.lines().map(json).collect();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter().all(|row| row["tcp_future"] == 5),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stderr.matches("cannot show as metrics").count(),
        1,
        "{}",
        out.stderr
    );
    for shown in [
        "tcp_new_ratio (0.25)",
        "tcp_note (\"x\")",
        "tcp_big (1e+20)",
    ] {
        assert!(out.stderr.contains(shown), "{shown}: {}", out.stderr);
    }
}

/// A group the server sends twice is printed twice and said so once.
#[test]
fn repeated_groups_are_printed_and_named() {
    let row = r#"{"attributes":{"bytes_sent_by_client":7,"group_bys":{"client_env":["prod"]}}}"#;
    let body = format!(r#"{{"data":[{row},{row},{row}]}}"#);
    let mock = Mock::start(MockServer::builder().fault(Fault::Respond {
        response: CustomResponse::new(200).body(body),
        times: 1,
    }));
    let out = expect(
        mock.ddcnm()
            .args(["connections", "-o", "ndjson", "--group-by", "client_env"])
            .args(["--from", FROM, "--to", TO]),
        0,
    );
    assert_eq!(out.stdout.lines().count(), 3);
    assert!(
        out.stderr
            .contains("the server sent 1 group more than once"),
        "{}",
        out.stderr
    );
}
