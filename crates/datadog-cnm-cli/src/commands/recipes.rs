//! `docs/recipes.md` shows real output: every `$ ddcnm …` block in it is run against the
//! bundled mock at the recipes' fixed time, and must print what the document says.
//!
//! After a change that alters the output on purpose, regenerate the document with
//! `DDCNM_WRITE_RECIPES=1 cargo test -p datadog-cnm-cli recipes`, and read the diff.

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use clap::Parser;
use datadog_cnm_mock::MockServer;

use super::demo::{DEMO_API_KEY, DEMO_APP_KEY, for_mock, run_line};
use crate::cli::Cli;
use crate::settings::Settings;

/// The recipes' clock: 2026-11-30T10:00:00Z, a Monday morning.
const NOW: u64 = 1_796_032_800;

fn document() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/recipes.md")
}

/// The document with every command's block replaced by what the command prints now.
async fn regenerated(text: &str) -> String {
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    let server = MockServer::builder()
        .require_keys(DEMO_API_KEY, DEMO_APP_KEY)
        .now(now)
        .start()
        .await
        .unwrap();
    let cli = Cli::try_parse_from(["ddcnm", "demo"]).unwrap();
    let settings = Settings::resolve(&cli, std::sync::Arc::new(|_: &str| None));
    let settings = for_mock(&settings, server.url(), "ddcnm mock-server", "100");
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        out.push_str(line);
        out.push('\n');
        let Some(command) = line.strip_prefix("$ ddcnm ") else {
            continue;
        };
        // The old output, up to the block's end, is replaced.
        while lines.peek().is_some_and(|l| !l.starts_with("```")) {
            lines.next();
        }
        let args = shell_words::split(command).unwrap();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut printed = Vec::new();
        run_line(&args, &settings, &mut printed, now).await.unwrap();
        out.push_str(&String::from_utf8(printed).unwrap());
    }
    server.shutdown().await;
    out
}

#[tokio::test]
async fn every_recipe_prints_what_the_document_shows() {
    let text = std::fs::read_to_string(document()).unwrap();
    assert!(
        text.matches("\n$ ddcnm ").count() >= 4,
        "the four questions"
    );
    let fresh = regenerated(&text).await;
    if std::env::var_os("DDCNM_WRITE_RECIPES").is_some() {
        std::fs::write(document(), &fresh).unwrap();
        return;
    }
    assert!(
        fresh == text,
        "docs/recipes.md differs from what its commands print; if the change is intended, \
         run DDCNM_WRITE_RECIPES=1 cargo test -p datadog-cnm-cli recipes and review the diff"
    );
}
