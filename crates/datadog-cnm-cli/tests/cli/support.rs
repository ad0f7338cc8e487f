//! What every test uses: a mock server on its own runtime, `ddcnm` with a cleared
//! environment, and redaction of times and ports for snapshots.

use std::net::{SocketAddr, TcpListener};
use std::sync::LazyLock;
use std::time::Duration;

use assert_cmd::Command;
use datadog_cnm_mock::{MockServer, MockServerBuilder};
use regex::Regex;
use serde_json::Value;

pub(crate) const FROM: &str = "2025-06-02T11:00:00Z";
pub(crate) const TO: &str = "2025-06-02T12:00:00Z";
/// Distinctive fake keys, searched for in every output of the key-leak test.
pub(crate) const API_KEY: &str = "fake-api-key-7f3a9c";
pub(crate) const APP_KEY: &str = "fake-app-key-e21b04";

/// A mock server on its own runtime, so that tests stay synchronous while it serves.
/// Dropping it drops the server (which stops it), then the runtime (which ends its tasks
/// without waiting for slow responses).
pub(crate) struct Mock {
    server: MockServer,
    _runtime: tokio::runtime::Runtime,
}

impl Mock {
    pub(crate) fn start(builder: MockServerBuilder) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        let server = runtime
            .block_on(builder.start())
            .unwrap_or_else(|e| panic!("mock server: {e}"));
        Self {
            server,
            _runtime: runtime,
        }
    }

    pub(crate) fn new() -> Self {
        Self::start(MockServer::builder())
    }

    pub(crate) fn server(&self) -> &MockServer {
        &self.server
    }

    pub(crate) fn url(&self) -> String {
        self.server().url().to_owned()
    }

    pub(crate) fn requests(&self) -> u64 {
        self.server().stats().requests
    }

    /// `ddcnm` with keys and this server's URL, and nothing else from the environment.
    pub(crate) fn ddcnm(&self) -> Command {
        let mut cmd = bare();
        cmd.env("DD_CNM_BASE_URL", self.url())
            .env("DD_API_KEY", API_KEY)
            .env("DD_APP_KEY", APP_KEY);
        cmd
    }
}

/// `ddcnm` with an empty environment.
pub(crate) fn bare() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ddcnm"));
    cmd.env_clear().timeout(Duration::from_secs(60));
    cmd
}

/// The fixed window, as flags.
pub(crate) fn window() -> [&'static str; 4] {
    ["--from", FROM, "--to", TO]
}

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

pub(crate) fn run(cmd: &mut Command) -> Run {
    let output = cmd.output().unwrap_or_else(|e| panic!("spawn: {e}"));
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Run and insist on `code`, showing both streams when it differs.
pub(crate) fn expect(cmd: &mut Command, code: i32) -> Run {
    let result = run(cmd);
    assert_eq!(
        result.code, code,
        "stdout:\n{}\nstderr:\n{}",
        result.stdout, result.stderr
    );
    result
}

/// Times, Unix seconds in URLs, and ports replaced by placeholders.
pub(crate) fn redact(text: &str) -> String {
    static RULES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
        [
            (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[TIME]"),
            (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?", "[TIME]"),
            (r"→ \d{2}:\d{2}(:\d{2})?", "→ [TIME]"),
            (r"\b(from|to)=\d+", "$1=[UNIX]"),
            (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        ]
        .into_iter()
        .map(|(pattern, to)| {
            let regex = Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
            (regex, to)
        })
        .collect()
    });
    let mut text = text.to_owned();
    for (regex, to) in RULES.iter() {
        text = regex.replace_all(&text, *to).into_owned();
    }
    text
}

pub(crate) fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

pub(crate) fn ndjson(text: &str) -> Vec<Value> {
    text.lines().map(json).collect()
}

pub(crate) fn query(mock: &Mock, endpoint: &str, format: &str, extra: &[&str]) -> Run {
    expect(
        mock.ddcnm()
            .args([endpoint, "--output", format])
            .args(window())
            .args(extra),
        0,
    )
}

/// A TCP listener that counts connections, to prove that nothing was sent.
pub(crate) fn tripwire() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    listener
        .set_nonblocking(true)
        .unwrap_or_else(|e| panic!("nonblocking: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("local_addr: {e}"));
    (listener, addr)
}
