//! Ranking, comparing and trends: what the answers are, and how tables show them.

use datadog_cnm_mock::{Fault, MockServer, Target};
use serde_json::Value;

use crate::support::{FROM, Mock, TO, expect, json, query, redact, run};

const PAIRS: [&str; 2] = ["--group-by", "client_service,server_service"];

fn pair(row: &Value) -> (String, String) {
    let first = |key: &str| row["group_bys"][key][0].as_str().unwrap_or("").to_owned();
    (first("client_service"), first("server_service"))
}

#[test]
fn top_10_is_the_top_of_every_group_the_api_returns() {
    let mock = Mock::new();
    let top = json(
        &query(
            &mock,
            "connections",
            "json",
            &[&PAIRS[..], &["--sort-by", "tcp_retransmits", "--top", "10"]].concat(),
        )
        .stdout,
    );
    let everything = json(
        &query(
            &mock,
            "connections",
            "json",
            &[&PAIRS[..], &["--limit", "7500"]].concat(),
        )
        .stdout,
    );
    let mut all: Vec<(i64, (String, String))> = everything
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["tcp_retransmits"].as_i64().unwrap(), pair(row)))
        .collect();
    assert!(all.len() > 10, "the mock has more than ten pairs");
    // Largest first; ties keep the server's order, as the ranking does.
    all.sort_by_key(|row| std::cmp::Reverse(row.0));
    let expected: Vec<(i64, (String, String))> = all.into_iter().take(10).collect();
    let got: Vec<(i64, (String, String))> = top
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["tcp_retransmits"].as_i64().unwrap(), pair(row)))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn ascending_ranks_and_derived_metrics_rank_too() {
    let mock = Mock::new();
    let rows = json(
        &query(
            &mock,
            "connections",
            "json",
            &[
                &PAIRS[..],
                &["--sort-by", "tcp_retransmit_ratio:asc", "--top", "5"],
            ]
            .concat(),
        )
        .stdout,
    );
    let ratios: Vec<f64> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["tcp_retransmit_ratio"].as_f64().unwrap())
        .collect();
    assert_eq!(ratios.len(), 5);
    assert!(ratios.windows(2).all(|w| w[0] <= w[1]), "{ratios:?}");
    // The derived value is the formula's.
    let first = &rows[0];
    let expected = first["tcp_retransmits"].as_f64().unwrap()
        / first["packets_sent_by_client"].as_f64().unwrap();
    assert!((ratios[0] - expected).abs() < 1e-12);
}

#[test]
fn compare_keeps_the_previous_day_as_a_direct_query_of_it_sees_it() {
    let mock = Mock::new();
    let compared = json(
        &query(
            &mock,
            "connections",
            "json",
            &[&PAIRS[..], &["--compare", "1d"]].concat(),
        )
        .stdout,
    );
    let day_before = json(
        &expect(
            mock.ddcnm()
                .args(["connections", "-o", "json", "--limit", "7500"])
                .args(PAIRS)
                .args([
                    "--from",
                    "2025-06-01T11:00:00Z",
                    "--to",
                    "2025-06-01T12:00:00Z",
                ]),
            0,
        )
        .stdout,
    );
    let previous: std::collections::HashMap<(String, String), i64> = day_before
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (pair(row), row["bytes_sent_by_client"].as_i64().unwrap()))
        .collect();
    let rows = compared.as_array().unwrap();
    assert!(!rows.is_empty());
    let mut both = 0;
    for row in rows {
        assert!(
            row.get("previous").is_some(),
            "every row has previous: {row}"
        );
        match row["status"].as_str() {
            Some("both") => {
                both += 1;
                assert_eq!(
                    row["previous"]["bytes_sent_by_client"].as_i64(),
                    previous.get(&pair(row)).copied(),
                    "{row}"
                );
            }
            Some("new") => assert!(row["previous"].is_null()),
            Some("gone") => assert!(row["bytes_sent_by_client"].is_null()),
            other => panic!("status {other:?}"),
        }
    }
    assert!(both > 0);
}

#[test]
fn compare_in_csv_and_as_a_table_ranked_by_the_change() {
    let mock = Mock::new();
    let flags = [
        &PAIRS[..],
        &[
            "--compare",
            "1d",
            "--sort-by",
            "delta:tcp_retransmits",
            "--top",
            "5",
        ],
    ]
    .concat();
    let csv = query(&mock, "connections", "csv", &flags).stdout;
    let header = csv.lines().next().unwrap_or_default();
    assert!(
        header.contains(",status,previous_bytes_sent_by_client,"),
        "{header}"
    );
    assert_eq!(csv.lines().count(), 1 + 5);
    let table = expect(
        mock.ddcnm()
            .env("COLUMNS", "120")
            .args(["connections"])
            .args(crate::support::window())
            .args(&flags),
        0,
    );
    assert!(
        table
            .stdout
            .contains("ranked by the change of tcp_retransmits (top 5)")
    );
    assert!(table.stdout.contains("Δ%"));
    insta::assert_snapshot!("compare_table", redact(&table.stdout));
}

#[test]
fn tables_fit_the_terminal_and_say_what_they_left_out() {
    let mock = Mock::new();
    for columns in ["80", "200"] {
        let out = expect(
            mock.ddcnm()
                .env("COLUMNS", columns)
                .args(["connections", "--limit", "5"])
                .args(crate::support::window()),
            0,
        );
        let widest = out
            .stdout
            .lines()
            .filter(|line| !line.starts_with("connections · ") && !line.contains("did not fit"))
            .filter(|line| !line.starts_with("truncated:"))
            .map(|line| line.chars().count())
            .max()
            .unwrap_or(0);
        let width: usize = columns.parse().unwrap();
        assert!(widest <= width, "{widest} > {width}:\n{}", out.stdout);
        insta::assert_snapshot!(format!("table_{columns}_columns"), redact(&out.stdout));
    }
    // -o wide: every metric, however wide.
    let wide = expect(
        mock.ddcnm()
            .env("COLUMNS", "80")
            .args(["connections", "-o", "wide", "--limit", "2"])
            .args(crate::support::window()),
        0,
    );
    assert!(wide.stdout.contains("tcp_rto_count") || wide.stdout.contains("rto"));
    assert!(!wide.stdout.contains("did not fit"));
}

#[test]
fn a_six_hour_trend_marks_its_partial_windows_in_every_format() {
    let mock = Mock::new();
    let window = [
        "--from",
        "2025-06-02T05:30:00Z",
        "--to",
        "2025-06-02T11:30:00Z",
    ];
    let flags = [&PAIRS[..], &["--step", "1h", "--top", "4"]].concat();
    let table = expect(
        mock.ddcnm()
            .env("COLUMNS", "120")
            .args(["connections"])
            .args(window)
            .args(&flags),
        0,
    );
    // Aligned on the hour: a half hour, five hours, a half hour.
    assert!(table.stdout.contains("7 windows"), "{}", table.stdout);
    assert!(table.stdout.contains("· marks partial windows (1, 7)"));
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|line| line.contains("·") && line.contains('█')),
        "a sparkline with its partial windows marked"
    );
    insta::assert_snapshot!("trend_table", redact(&table.stdout));

    let rows = json(
        &expect(
            mock.ddcnm()
                .args(["connections", "-o", "json"])
                .args(window)
                .args(&flags),
            0,
        )
        .stdout,
    );
    let rows = rows.as_array().unwrap();
    let partial: Vec<bool> = rows
        .iter()
        .map(|row| row["partial"].as_bool().unwrap())
        .collect();
    assert_eq!(rows.len(), 7 * 4);
    assert!(partial[..4].iter().all(|p| *p) && partial[24..].iter().all(|p| *p));
    assert!(partial[4..24].iter().all(|p| !*p));
    assert_eq!(rows[0]["window_start"], "2025-06-02T05:30:00Z");
    assert_eq!(rows[4]["window_start"], "2025-06-02T06:00:00Z");
}

#[test]
fn flags_that_do_not_combine_as_expected_are_warned_about() {
    let mock = Mock::new();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--tags", "env:prod", "--query", "client_env:prod"],
            "the tags are ignored",
        ),
        (
            &["--group-by", "no_such_field", "--limit", "3"],
            "`no_such_field`",
        ),
        (
            &["--step", "1h", "--limit", "1"],
            "the series has one window",
        ),
        (
            &["--top", "3", "--limit", "10"],
            "--limit 10 is not sent: --top asks the API for its maximum",
        ),
    ];
    for (flags, warning) in cases {
        let out = query(&mock, "connections", "csv", flags);
        assert!(out.stderr.contains(warning), "{flags:?}: {}", out.stderr);
    }
    // A step longer than the window would leave only a partial window: refused.
    let long = expect(
        mock.ddcnm()
            .args(["connections", "--step", "2h", "--limit", "1"])
            .args(["--from", FROM, "--to", TO]),
        2,
    );
    assert!(
        long.stderr
            .contains("--step 2h is longer than the 1h window"),
        "{}",
        long.stderr
    );
}

/// A mock whose third request (the third window, one at a time) is answered 400.
fn third_request_fails() -> Mock {
    Mock::start(
        MockServer::builder().fault(
            Fault::Status {
                status: 400,
                times: 1,
            }
            .on(Target::Request(3)),
        ),
    )
}

/// `connections` in six 10-minute windows, one at a time, two rows each, in `format`,
/// with `extra` flags, against a mock whose third window fails.
fn six_windows_third_failing(format: &str, extra: &[&str]) -> crate::support::Run {
    run(third_request_fails()
        .ddcnm()
        .args([
            "connections",
            "-o",
            format,
            "--step",
            "10m",
            "--concurrency",
            "1",
        ])
        .args(["--limit", "2", "--group-by", "client_env"])
        .args(extra)
        .args(["--from", FROM, "--to", TO]))
}

#[test]
fn keep_going_prints_every_other_window_and_exits_partial() {
    let out = six_windows_third_failing("ndjson", &["--keep-going"]);
    assert_eq!(out.code, 7, "{}", out.stderr);
    let rows: Vec<Value> = out.stdout.lines().map(json).collect();
    assert_eq!(rows.len(), 5 * 2, "five windows of two rows");
    assert!(
        !rows
            .iter()
            .any(|r| r["window_start"] == "2025-06-02T11:20:00Z")
    );
    assert!(
        out.stderr
            .contains("window [2025-06-02T11:20:00Z, 2025-06-02T11:30:00Z) failed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("error: 1 of 6 windows failed"),
        "{}",
        out.stderr
    );
    // Without --keep-going the series stops at the failure, with the API error's code.
    let stopped = six_windows_third_failing("ndjson", &[]);
    assert_eq!(stopped.code, 5, "{}", stopped.stderr);
    assert_eq!(
        stopped.stdout.lines().count(),
        2 * 2,
        "the windows before it were printed"
    );
    // In JSON, what was printed is still one valid array.
    let stopped = six_windows_third_failing("json", &[]);
    assert_eq!(stopped.code, 5, "{}", stopped.stderr);
    let rows = json(&stopped.stdout);
    assert_eq!(
        rows.as_array().map(Vec::len),
        Some(2 * 2),
        "{}",
        stopped.stdout
    );
}

/// A series is printed as it arrives: the first window's rows are out while the last
/// window is still being fetched.
#[test]
fn a_series_streams_its_windows_as_they_arrive() {
    use std::io::BufRead;
    let mock = Mock::start(MockServer::builder().latency(std::time::Duration::from_millis(700)));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ddcnm"))
        .env_clear()
        .env("DD_CNM_BASE_URL", mock.url())
        .env("DD_API_KEY", crate::support::API_KEY)
        .env("DD_APP_KEY", crate::support::APP_KEY)
        .args([
            "connections",
            "-o",
            "ndjson",
            "--step",
            "10m",
            "--concurrency",
            "1",
        ])
        .args([
            "--limit",
            "1",
            "--group-by",
            "client_env",
            "--from",
            FROM,
            "--to",
            TO,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = json(&lines.next().unwrap().unwrap());
    assert_eq!(first["window_start"], FROM);
    // One window at a time, each answered 0.7 s late: five windows are still to come.
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first window was printed only at the end"
    );
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert_eq!(rest.len(), 5);
    assert!(child.wait().unwrap().success());
}

/// With --keep-going a failed window keeps its place in a trend, marked, and the windows
/// around it are not drawn as neighbours.
#[test]
fn a_trend_marks_a_failed_window_in_its_place() {
    let out = run(third_request_fails()
        .ddcnm()
        .env("COLUMNS", "200")
        .args([
            "connections",
            "--step",
            "10m",
            "--concurrency",
            "1",
            "--keep-going",
        ])
        .args([
            "--trend",
            "bytes_sent_by_client",
            "--top",
            "2",
            "--no-align",
        ])
        .args(["--group-by", "client_env", "--from", FROM, "--to", TO]));
    assert_eq!(out.code, 7, "{}", out.stderr);
    assert!(out.stdout.contains("6 windows"), "{}", out.stdout);
    let line = out
        .stdout
        .lines()
        .find(|line| line.contains('✕'))
        .unwrap_or_else(|| panic!("no failed bar: {}", out.stdout));
    let bars: String = line.chars().filter(|c| "▁▂▃▄▅▆▇█✕".contains(*c)).collect();
    assert_eq!(bars.chars().count(), 6, "{line}");
    assert_eq!(bars.chars().nth(2), Some('✕'), "{line}");
    assert!(
        out.stdout.contains("✕ marks failed window (3)"),
        "{}",
        out.stdout
    );
}
