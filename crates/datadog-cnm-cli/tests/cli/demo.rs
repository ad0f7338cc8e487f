//! `demo` and `mock-server`.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::support::{API_KEY, APP_KEY, bare, expect};

// ---- demo and mock-server ----

#[test]
fn demo_works_offline_with_no_environment() {
    let out = expect(bare().arg("demo"), 0);
    // Five steps of an investigation, each with its command.
    assert_eq!(
        out.stdout.matches("\n$ ddcnm ").count(),
        5,
        "{}",
        out.stdout
    );
    for found in [
        "ranked by tcp_retransmits (top 5)",
        "trend of tcp_retransmits",
        " new ",
        " gone ",
        "ranked by the change of dns_responses.nxdomain",
    ] {
        assert!(out.stdout.contains(found), "{found}:\n{}", out.stdout);
    }
    // It fits a terminal of 100 columns.
    let widest = out
        .stdout
        .lines()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    assert!(widest <= 100, "{widest} columns:\n{}", out.stdout);
    // The demo's output at a fixed time is snapshot-tested in the binary's own tests.
    assert_eq!(out.stderr, "");
}

#[test]
fn demo_prints_tables_only() {
    let out = expect(bare().args(["demo", "--output", "json"]), 2);
    assert!(out.stderr.contains("tables only"), "{}", out.stderr);
}

#[test]
fn mock_server_prints_a_url_that_serves() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ddcnm"))
        .args(["mock-server", "--seed", "7", "--rate-limit", "100/60s"])
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let mut url = String::new();
    if let Some(stdout) = child.stdout.take() {
        BufReader::new(stdout)
            .read_line(&mut url)
            .unwrap_or_else(|e| panic!("read: {e}"));
    }
    let url = url.trim().to_owned();
    let result = std::panic::catch_unwind(|| {
        assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");
        let out = expect(
            bare()
                .args([
                    "connections",
                    "-o",
                    "csv",
                    "--limit",
                    "2",
                    "--base-url",
                    &url,
                ])
                .env("DD_API_KEY", API_KEY)
                .env("DD_APP_KEY", APP_KEY),
            0,
        );
        assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
    });
    child.kill().ok();
    child.wait().ok();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
