//! Where settings come from: flags over the environment, profiles, several targets in one
//! run, and the commands that describe the tool (config, profiles, fields, completions,
//! man, help).

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use datadog_cnm_mock::MockServer;

use crate::support::{API_KEY, APP_KEY, Mock, bare, expect, json, run, tripwire, window};

/// A directory of its own under the system's temporary directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ddcnm-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// Write the config file under `XDG_CONFIG_HOME` = this directory.
    fn config(&self, text: &str) -> PathBuf {
        let dir = self.0.join("ddcnm");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config.toml");
        std::fs::write(&file, text).unwrap();
        file
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// `ddcnm` with only `HOME` and `XDG_CONFIG_HOME` set (and `PATH`, for key commands).
fn with_config(scratch: &Scratch) -> assert_cmd::Command {
    let mut cmd = bare();
    cmd.env("HOME", scratch.path())
        .env("XDG_CONFIG_HOME", scratch.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

#[test]
fn flags_beat_the_environment() {
    let mock = Mock::new();
    let (_dead, dead) = tripwire();
    // A base URL left in the environment does not beat --base-url …
    let out = expect(
        bare()
            .env("DD_CNM_BASE_URL", format!("http://{dead}"))
            .env("DD_API_KEY", API_KEY)
            .env("DD_APP_KEY", APP_KEY)
            .args([
                "--base-url",
                &mock.url(),
                "connections",
                "-o",
                "csv",
                "--limit",
                "1",
            ])
            .args(window()),
        0,
    );
    assert_eq!(out.stdout.lines().count(), 2);
    // … nor --site, as `config` shows without sending anything.
    let config = expect(
        bare().env("DD_CNM_BASE_URL", mock.url()).args([
            "--site",
            "datadoghq.eu",
            "config",
            "-o",
            "json",
        ]),
        0,
    );
    let settings = json(&config.stdout);
    let row = |name: &str| {
        settings
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["setting"] == name)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(row("api url")["value"], "https://api.datadoghq.eu/");
    assert_eq!(row("api url")["source"], "flag --site");
    assert_eq!(row("api key")["value"], "not set");
    assert_eq!(mock.requests(), 1, "config sent nothing");
    // A bad DD_SITE fails only the commands that need a site.
    expect(bare().env("DD_SITE", "bogus").arg("sites"), 0);
    expect(bare().env("DD_SITE", "bogus").args(["fields", "dns"]), 0);
    let bad = expect(
        bare()
            .env("DD_SITE", "bogus")
            .env("DD_API_KEY", API_KEY)
            .env("DD_APP_KEY", APP_KEY)
            .arg("connections"),
        2,
    );
    assert!(
        bad.stderr.contains("environment DD_SITE `bogus`"),
        "{}",
        bad.stderr
    );
}

#[test]
fn profiles_give_sites_keys_and_defaults_and_several_run_together() {
    let one = Mock::start(MockServer::builder().require_keys("key-one", "app-one"));
    let two = Mock::start(MockServer::builder().require_keys("key-two", "app-two"));
    let scratch = Scratch::new("profiles");
    scratch.config(&format!(
        r#"
[profiles.one]
base_url = "{}"
api_key_command = "echo key-one"
app_key_command = "printf '%s' app-one"
group_by = ["client_team"]
limit = 3

[profiles.two]
base_url = "{}"
api_key_command = "sh -c 'echo key-two'"
app_key_env = "TWO_APP_KEY"
group_by = "client_team"
"#,
        one.url(),
        two.url()
    ));
    let single = expect(
        with_config(&scratch)
            .args(["--profile", "one", "connections", "-o", "json"])
            .args(window()),
        0,
    );
    let rows = json(&single.stdout);
    assert_eq!(
        rows.as_array().map(Vec::len),
        Some(3),
        "the profile's limit"
    );
    assert!(
        rows[0]["group_bys"]["client_team"].is_array(),
        "the profile's group-by"
    );
    assert!(rows[0].get("profile").is_none(), "one target: no labels");

    let both = expect(
        with_config(&scratch)
            .env("TWO_APP_KEY", "app-two")
            .args([
                "--profile",
                "one,two",
                "connections",
                "-o",
                "json",
                "--limit",
                "2",
            ])
            .args(window()),
        0,
    );
    let rows = json(&both.stdout);
    let labels: Vec<(&str, &str)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["profile"].as_str().unwrap(), r["site"].as_str().unwrap()))
        .collect();
    assert_eq!(labels.len(), 4);
    assert_eq!(labels.iter().filter(|(p, _)| *p == "one").count(), 2);
    assert_eq!(labels.iter().filter(|(p, _)| *p == "two").count(), 2);
    assert!(labels[0].1.starts_with("http://127.0.0.1:"), "{labels:?}");

    // A series: window k of every profile before window k + 1 of any.
    let series = expect(
        with_config(&scratch)
            .env("TWO_APP_KEY", "app-two")
            .args([
                "--profile",
                "one,two",
                "connections",
                "-o",
                "csv",
                "--limit",
                "1",
            ])
            .args(["--step", "20m"])
            .args(window()),
        0,
    );
    let order: Vec<(String, String)> = series
        .stdout
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (fields[2].to_owned(), fields[0].to_owned())
        })
        .collect();
    let starts: Vec<&str> = order.iter().map(|(start, _)| start.as_str()).collect();
    let profiles: Vec<&str> = order.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(starts.len(), 6, "{}", series.stdout);
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
    assert_eq!(profiles, ["one", "two", "one", "two", "one", "two"]);

    // One profile failing does not hide the other's rows: exit 7, the failure named.
    let partial = run(with_config(&scratch)
        .args([
            "--profile",
            "one,two",
            "connections",
            "-o",
            "csv",
            "--limit",
            "2",
        ])
        .args(window()));
    assert_eq!(partial.code, 7, "{}", partial.stderr);
    assert_eq!(partial.stdout.lines().count(), 1 + 2);
    assert!(partial.stdout.starts_with("profile,site,client_team,"));
    assert!(partial.stderr.contains("profile two"), "{}", partial.stderr);
    assert!(partial.stderr.contains("TWO_APP_KEY"), "{}", partial.stderr);
    assert!(
        partial.stderr.contains("1 of 2 profiles failed"),
        "{}",
        partial.stderr
    );

    // `profiles` and `config` say where keys come from, never what they are.
    let listed = expect(with_config(&scratch).args(["profiles", "-o", "csv"]), 0);
    assert!(listed.stdout.contains("one,"), "{}", listed.stdout);
    assert!(listed.stdout.contains("command `echo key-one`"));
    let config = expect(
        with_config(&scratch).args(["--profile", "two", "config"]),
        0,
    );
    assert!(config.stdout.contains("not run"), "{}", config.stdout);
    for out in [&single, &both, &partial, &listed, &config] {
        for secret in ["key-one", "app-one", "key-two", "app-two"] {
            // The commands themselves may be shown (here they hold the keys, for the test).
            let shown = out
                .stdout
                .replace("echo key-one", "")
                .replace("printf '%s' app-one", "")
                .replace("echo key-two", "");
            assert!(!shown.contains(secret), "{secret} in:\n{}", out.stdout);
            assert!(!out.stderr.contains(secret), "{secret} in:\n{}", out.stderr);
        }
    }
}

#[test]
fn a_named_profile_beats_the_environment_and_default_applies_without_one() {
    let mock = Mock::start(MockServer::builder().require_keys("k", "a"));
    let (_dead, dead) = tripwire();
    let scratch = Scratch::new("default-profile");
    scratch.config(&format!(
        "[profiles.default]\nbase_url = \"{}\"\napi_key_command = \"echo k\"\napp_key_command = \"echo a\"\n",
        mock.url()
    ));
    // Named on the command line, the profile's target beats DD_CNM_BASE_URL …
    expect(
        with_config(&scratch)
            .env("DD_CNM_BASE_URL", format!("http://{dead}"))
            .args(["--profile", "default", "connections", "--limit", "1"])
            .args(window()),
        0,
    );
    // … while the implicit `default` profile ranks below the environment.
    let config = expect(
        with_config(&scratch)
            .env("DD_CNM_BASE_URL", format!("http://{dead}"))
            .args(["config", "-o", "csv"]),
        0,
    );
    assert!(
        config.stdout.contains("target,http://127.0.0.1:"),
        "{}",
        config.stdout
    );
    assert!(
        config.stdout.contains("environment DD_CNM_BASE_URL"),
        "{}",
        config.stdout
    );
    assert!(
        config.stdout.contains("profile,default,default"),
        "{}",
        config.stdout
    );
}

#[test]
fn bad_config_files_are_clear_errors() {
    let scratch = Scratch::new("bad-config");
    scratch.config("[profiles.a]\nsite = \"eu\"\nlimt = 5\n");
    let typo = expect(
        with_config(&scratch).args(["--profile", "a", "connections"]),
        2,
    );
    assert!(
        typo.stderr
            .contains("line 3, column 1: unknown field `limt`"),
        "{}",
        typo.stderr
    );
    // `config` reports the broken file instead of failing.
    let config = expect(with_config(&scratch).arg("config"), 0);
    assert!(
        config.stdout.contains("unknown field `limt`"),
        "{}",
        config.stdout
    );
    scratch.config("[profiles.a]\nsite = \"eu\"\n");
    let unknown = expect(
        with_config(&scratch).args(["--profile", "zz", "connections"]),
        2,
    );
    assert!(
        unknown.stderr.contains("no profile `zz`") && unknown.stderr.contains("(it has: a)"),
        "{}",
        unknown.stderr
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = scratch.config("[profiles.a]\napi_key = \"inline\"\napp_key = \"inline\"\n");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let open = expect(
            with_config(&scratch).args(["--profile", "a", "connections"]),
            2,
        );
        assert!(open.stderr.contains("chmod 600"), "{}", open.stderr);
        assert!(!open.stderr.contains("inline"));
    }
}

#[test]
fn application_keys_that_disagree_are_warned_about() {
    let mock = Mock::new();
    let out = expect(
        mock.ddcnm()
            .env("DD_APPLICATION_KEY", "another")
            .args(["connections", "--limit", "1", "-o", "csv"])
            .args(window()),
        0,
    );
    assert!(
        out.stderr.contains("DD_APP_KEY and DD_APPLICATION_KEY"),
        "{}",
        out.stderr
    );
}

#[test]
fn completions_man_and_fields() {
    for shell in ["bash", "zsh", "fish"] {
        let script = expect(bare().args(["completions", shell]), 0).stdout;
        assert!(
            script.contains("ddcnm") && script.contains("connections"),
            "{shell}"
        );
    }
    let man = expect(bare().arg("man"), 0).stdout;
    assert!(man.contains(".TH ddcnm"), "{}", &man[..200.min(man.len())]);
    let fields = expect(bare().arg("fields"), 0).stdout;
    for name in [
        "client_service",
        "network.dns_query",
        "tcp_retransmits",
        "rtt_micro_seconds",
        "dns_responses.nxdomain",
        "tcp_retransmit_ratio",
    ] {
        assert!(fields.contains(name), "{name}");
    }
    insta::assert_snapshot!("fields", fields);
    let rows = json(&expect(bare().args(["fields", "-o", "json"]), 0).stdout);
    let rtt = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "rtt_micro_seconds")
        .cloned()
        .unwrap_or_default();
    assert_eq!(rtt["unit"], "microseconds");
    assert_eq!(rtt["aggregation"], "mean");
}

#[test]
fn every_subcommand_has_help_with_examples() {
    for command in [
        "connections",
        "dns",
        "export connections",
        "fields",
        "config",
        "profiles",
        "sites",
        "mock-server",
        "demo",
        "report",
        "completions",
        "man",
    ] {
        let help = expect(bare().args(command.split(' ')).arg("--help"), 0).stdout;
        if !matches!(command, "sites" | "demo" | "man") {
            assert!(
                help.contains("Examples:") || help.contains("Install:"),
                "{command}"
            );
        }
        insta::assert_snapshot!(format!("help_{}", command.replace(' ', "_")), help);
    }
}

/// A closed stdout ends the command quietly, in every format.
#[test]
fn a_closed_pipe_is_not_an_error() {
    let mock = Mock::new();
    for format in ["json", "csv", "ndjson", "table"] {
        let mut child = Process::new(env!("CARGO_BIN_EXE_ddcnm"))
            .env_clear()
            .env("DD_CNM_BASE_URL", mock.url())
            .env("DD_API_KEY", API_KEY)
            .env("DD_APP_KEY", APP_KEY)
            .args([
                "connections",
                "--limit",
                "7500",
                "--group-by",
                "client_host,server_host",
            ])
            .args(["-o", format])
            .args(window())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read 100 bytes, then close our end while ddcnm is still writing.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 100];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
        drop(stdout);
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let ok = output.status.success()
            || std::os::unix::process::ExitStatusExt::signal(&output.status) == Some(13);
        assert!(ok, "{format}: {:?} {stderr}", output.status);
        assert!(!stderr.contains("error"), "{format}: {stderr}");
    }
}

#[test]
fn an_empty_csv_still_has_the_default_group_by_columns() {
    let mock = Mock::new();
    let out = expect(
        mock.ddcnm()
            .args([
                "connections",
                "-o",
                "csv",
                "--query",
                "client_service:no-such-service",
            ])
            .args(window()),
        0,
    );
    assert!(
        out.stdout
            .starts_with("client_service,server_service,bytes_sent_by_client,"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stdout.lines().count(), 1);
}
