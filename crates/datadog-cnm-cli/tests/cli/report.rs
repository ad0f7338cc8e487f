//! `ddcnm report` against the bundled mock: the document's parts, the file, flags checked
//! before anything is sent, a failed window, a 7500-row page.

use datadog_cnm_mock::{Fault, Target};

use crate::support::{Mock, expect, window};

/// Nothing in `html` makes a browser load or run anything, and every tag is closed.
fn assert_self_contained(html: &str) {
    let lower = html.to_lowercase();
    for forbidden in [
        "src=", "href=", "srcset=", "@import", "<script", "<link", "<iframe", "<img",
    ] {
        assert!(!lower.contains(forbidden), "`{forbidden}` in the report");
    }
    for (at, _) in lower.match_indices("url(") {
        assert!(
            lower[at..].starts_with("url(#"),
            "a url() outside the report"
        );
    }
    assert!(
        html.contains("default-src 'none'"),
        "no Content-Security-Policy"
    );
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    assert_eq!(
        html.matches("<table").count(),
        html.matches("</table>").count()
    );
}

#[test]
fn the_report_of_the_mock_has_a_map_charts_tables_and_changes() {
    let mock = Mock::new();
    let out = expect(
        mock.ddcnm()
            .args(["report", "--html", "-", "--step", "15m", "--compare", "1d"])
            .args(["--group-by", "client_service,server_service"])
            .args(window()),
        0,
    );
    let html = &out.stdout;
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "{}",
        &html[..200.min(html.len())]
    );
    assert_self_contained(html);
    assert_eq!(html.matches("<svg class=\"map\"").count(), 1);
    assert_eq!(
        html.matches("class=\"edge\"").count(),
        60,
        "the default --map-edges"
    );
    assert!(html.contains("Left out: "), "the map says what it left out");
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 4);
    for title in [
        "Bytes per second",
        "TCP retransmits per second",
        "DNS requests per second",
        "DNS failures per second",
        "Connections by bytes",
        "DNS by failures",
        "Connections · New pairs",
        "DNS · Largest increases of failures",
    ] {
        assert!(html.contains(&format!("<h3>{title}</h3>")), "{title}");
    }
    assert!(html.contains("<dd>2025-06-02T11:00:00Z → 2025-06-02T12:00:00Z UTC (1h)</dd>"));
    // The whole window and a day before, for each endpoint, then four windows each.
    assert_eq!(mock.requests(), 2 * 2 + 2 * 4);
    assert_eq!(out.stderr, "");
}

#[test]
fn the_report_is_written_to_its_file() {
    let mock = Mock::new();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-file");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("r.html");
    let _ = std::fs::remove_file(&path);
    let out = expect(
        mock.ddcnm()
            .arg("report")
            .arg("--html")
            .arg(&path)
            .args(["--map-edges", "5"])
            .args(window()),
        0,
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(out.stderr.starts_with("wrote "), "{}", out.stderr);
    let html = std::fs::read_to_string(&path).unwrap();
    assert_self_contained(&html);
    assert_eq!(html.matches("class=\"edge\"").count(), 5);
    assert!(
        html.contains("Trend charts need <code>--step</code>"),
        "without --step the report says how to get charts"
    );
}

#[test]
fn flags_are_checked_before_anything_is_sent() {
    let mock = Mock::new();
    let cases: [(&[&str], &str); 6] = [
        (&["--html", "no-such-dir-7a2e/r.html"], "does not exist"),
        (&["--html", "."], "is a directory"),
        (
            &["--html", "-", "--sort-by", "dns_total_requests"],
            "--sort-by",
        ),
        (
            &["--html", "-", "--last", "7d", "--step", "1m"],
            "e.g. --step 30m",
        ),
        (&["--html", "-", "--dns-group-by", "a,,b"], "--dns-group-by"),
        (&["--html", "-", "--map-edges", "0"], "--map-edges"),
    ];
    for (args, says) in cases {
        let out = expect(mock.ddcnm().arg("report").args(args), 2);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
    assert_eq!(mock.requests(), 0, "nothing was sent");
}

#[test]
fn without_a_server_side_the_report_says_how_to_get_a_map() {
    let mock = Mock::new();
    let out = expect(
        mock.ddcnm()
            .args(["report", "--html", "-", "--group-by", "client_team"])
            .args(window()),
        0,
    );
    assert!(out.stderr.contains("needs a client-side and a server-side"));
    assert!(
        out.stdout
            .contains("The map needs a client-side and a server-side group-by key")
    );
    assert!(!out.stdout.contains("<svg class=\"map\""));
    assert!(out.stdout.contains("<h3>Connections by bytes</h3>"));
}

#[test]
fn a_failed_window_is_marked_and_the_exit_code_says_partial() {
    let mock = Mock::new();
    // Requests: 1 the connections page, 2 the DNS page, then the connections windows
    // one at a time; the second of those fails without a retry.
    mock.server().inject(
        Fault::Status {
            status: 400,
            times: 1,
        }
        .on(Target::Request(4)),
    );
    let out = expect(
        mock.ddcnm()
            .args(["report", "--html", "-", "--step", "15m", "--keep-going"])
            .args(["--concurrency", "1"])
            .args(window()),
        7,
    );
    assert!(out.stderr.contains("connections window"), "{}", out.stderr);
    assert!(
        out.stderr.contains("1 of 8 windows failed"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout.matches("<g class=\"failed\">").count(), 2);
    assert!(
        out.stdout
            .contains("1 connections window failed and is marked in the charts")
    );
}

#[test]
fn the_report_of_a_7500_row_page_stays_small() {
    let mock = Mock::new();
    let out = expect(
        mock.ddcnm()
            .args([
                "report",
                "--html",
                "-",
                "--group-by",
                "client_host,server_host",
            ])
            .args(window()),
        0,
    );
    assert!(out.stdout.contains("came back with 7,500 rows, the limit"));
    assert!(
        out.stdout
            .contains("The top 60 of 7,500 client → server pairs")
    );
    assert!(
        out.stdout.len() < 1024 * 1024,
        "{} bytes for a 7500-row page",
        out.stdout.len()
    );
}
