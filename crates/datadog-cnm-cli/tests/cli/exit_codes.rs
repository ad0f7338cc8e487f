//! Every exit code, and keys that never show.

use std::time::{Duration, Instant};

use datadog_cnm_mock::{Fault, MockServer};

use crate::support::{API_KEY, APP_KEY, Mock, bare, expect, redact, run, tripwire, window};

// ---- exit codes ----

#[test]
fn invalid_usage_exits_2_and_sends_nothing() {
    let mock = Mock::new();
    let cases: [&[&str]; 10] = [
        &["connections", "--bogus"],
        &["connections", "--limit", "8000"],
        &["connections", "--limit", "0"],
        &["dns", "--last", "1h", "--from", "-2h"],
        &["dns", "--from", "yesterday"],
        &["dns", "--last", "5"],
        &["dns", "--site", "moon"],
        &["dns", "--concurrency", "2"],
        &["connections", "--step", "0s"],
        &["--output", "xml", "sites"],
    ];
    for args in cases {
        let out = expect(mock.ddcnm().args(args), 2);
        assert!(
            out.stderr.starts_with("error: "),
            "{args:?}: {}",
            out.stderr
        );
    }
    let limit = run(mock.ddcnm().args(["connections", "--limit", "8000"]));
    insta::assert_snapshot!("limit_8000", limit.stderr);
    let conflict = run(mock.ddcnm().args(["dns", "--last", "1h", "--from", "-2h"]));
    assert!(
        conflict.stderr.contains("cannot be used with"),
        "{}",
        conflict.stderr
    );
    assert_eq!(mock.requests(), 0);
}

#[test]
fn input_the_client_library_rejects_exits_2_and_sends_nothing() {
    let mock = Mock::new();
    let cases: [(&[&str], &str); 5] = [
        (
            &["dns", "--group-by", "server_ungrouped,server_service"],
            "invalid group_by",
        ),
        (&["connections", "--group-by", "a,,b"], "invalid group_by"),
        (
            &["connections", "--to", "2999-01-01T00:00:00Z"],
            "in the future",
        ),
        (
            &["connections", "--from", "now", "--to", "-1h"],
            "must be before",
        ),
        (
            &["connections", "--last", "30d", "--step", "1s"],
            "invalid step",
        ),
    ];
    for (args, needle) in cases {
        let out = expect(mock.ddcnm().args(args), 2);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    }
    assert_eq!(mock.requests(), 0);
}

#[test]
fn a_real_site_without_keys_exits_2_naming_the_variable() {
    // Any request would go through this "proxy"; none may.
    let (listener, addr) = tripwire();
    let proxy = format!("http://{addr}");
    let no_api_key = expect(
        bare()
            .args(["connections", "--site", "eu"])
            .env("HTTPS_PROXY", &proxy)
            .env("DD_APP_KEY", APP_KEY),
        2,
    );
    assert!(
        no_api_key.stderr.contains("DD_API_KEY is not set"),
        "{}",
        no_api_key.stderr
    );
    insta::assert_snapshot!("no_api_key", no_api_key.stderr);
    let no_app_key = expect(
        bare()
            .args(["dns"])
            .env("DD_SITE", "datadoghq.eu")
            .env("HTTPS_PROXY", &proxy)
            .env("DD_API_KEY", API_KEY)
            .env("DD_APP_KEY", " "),
        2,
    );
    assert!(
        no_app_key.stderr.contains("DD_APP_KEY is not set"),
        "{}",
        no_app_key.stderr
    );
    assert!(no_app_key.stderr.contains("datadoghq.eu"));
    // A blank DD_SITE counts as unset: the default site.
    let blank_site = expect(
        bare()
            .arg("connections")
            .env("DD_SITE", "")
            .env("HTTPS_PROXY", &proxy),
        2,
    );
    assert!(
        blank_site.stderr.contains("DD_API_KEY is not set")
            && blank_site.stderr.contains("datadoghq.com"),
        "{}",
        blank_site.stderr
    );
    assert!(listener.accept().is_err(), "a connection was attempted");
}

#[test]
fn forbidden_exits_3() {
    let mock =
        Mock::start(MockServer::builder().require_keys("the-right-key", "the-right-app-key"));
    let out = expect(mock.ddcnm().args(["connections"]).args(window()), 3);
    assert!(out.stderr.contains("403"), "{}", out.stderr);
    insta::assert_snapshot!(redact(&out.stderr));
}

#[test]
fn rate_limited_after_retries_exits_4_and_shows_the_limit() {
    let mock = Mock::new();
    mock.server().inject(Fault::Status {
        status: 429,
        times: 100,
    });
    let started = Instant::now();
    let out = expect(
        mock.ddcnm()
            .args(["dns", "--max-attempts", "2"])
            .args(window()),
        4,
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        out.stderr.contains("rate limit: name=cnm_aggregate"),
        "{}",
        out.stderr
    );
    assert_eq!(mock.server().stats().faults, 2, "two attempts");
    insta::assert_snapshot!(redact(&out.stderr));
}

#[test]
fn other_api_errors_exit_5_with_the_server_title() {
    let mock = Mock::new();
    let out = expect(
        mock.ddcnm()
            .args(["connections", "--query", "client_service:("])
            .args(window()),
        5,
    );
    assert!(out.stderr.contains("Invalid query"), "{}", out.stderr);
    insta::assert_snapshot!(redact(&out.stderr));
    mock.server().inject(Fault::Status {
        status: 404,
        times: 1,
    });
    let not_found = expect(mock.ddcnm().args(["dns"]).args(window()), 5);
    assert!(not_found.stderr.contains("404"), "{}", not_found.stderr);
}

#[test]
fn connection_refused_exits_6() {
    let addr = {
        let (listener, addr) = tripwire();
        drop(listener);
        addr
    };
    let out = expect(
        bare()
            .args(["connections", "--max-attempts", "1", "--base-url"])
            .arg(format!("http://{addr}"))
            .env("DD_API_KEY", API_KEY)
            .env("DD_APP_KEY", APP_KEY),
        6,
    );
    assert!(
        out.stderr.contains("request failed after 1 attempt"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hint: could not get an answer"));
}

#[test]
fn timeouts_exit_6() {
    let mock = Mock::new();
    mock.server().inject(Fault::Delay {
        delay: Duration::from_secs(5),
        times: 1,
    });
    let out = expect(
        mock.ddcnm()
            .args(["dns", "--timeout", "1s", "--max-attempts", "1"])
            .args(window()),
        6,
    );
    assert!(out.stderr.contains("timed out"), "{}", out.stderr);
}

#[test]
fn an_undecodable_response_exits_1() {
    let mock = Mock::new();
    mock.server().inject(Fault::MalformedBody { times: 1 });
    let out = expect(mock.ddcnm().args(["dns"]).args(window()), 1);
    assert!(
        out.stderr.starts_with("error: could not decode"),
        "{}",
        out.stderr
    );
}

// ---- secrets ----

#[test]
fn keys_are_never_printed_even_with_verbose() {
    let mock = Mock::start(MockServer::builder().require_keys(API_KEY, APP_KEY));
    let mut outputs = Vec::new();
    let ok = expect(
        mock.ddcnm()
            .args(["-vv", "connections", "--step", "30m", "--limit", "2"])
            .args(window()),
        0,
    );
    assert!(
        ok.stderr.contains("cnm_request"),
        "-v shows attempts: {}",
        ok.stderr
    );
    outputs.push(ok);
    outputs.push(expect(
        mock.ddcnm()
            .args(["-v", "dns", "--query", "client_service:("])
            .args(window()),
        5,
    ));
    outputs.push(expect(
        mock.ddcnm()
            .args(["-v", "dns", "-o", "json"])
            .args(window())
            .env("DD_APP_KEY", "fake-wrong-app-key-5d9e"),
        3,
    ));
    for out in &outputs {
        for secret in [API_KEY, APP_KEY, "fake-wrong-app-key-5d9e"] {
            assert!(!out.stdout.contains(secret), "stdout leaks {secret}");
            assert!(
                !out.stderr.contains(secret),
                "stderr leaks {secret}:\n{}",
                out.stderr
            );
        }
    }
}
