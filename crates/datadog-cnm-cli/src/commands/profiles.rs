//! `profiles`: the profiles of the config file, where each sends requests and where its
//! keys come from (never the keys).

use std::io::Write;

use crate::config::{self, KeyKind, Profile};
use crate::exit::Failure;
use crate::output::Out;
use crate::settings::Settings;

/// Print one record per profile.
pub fn run<W: Write>(settings: &Settings, out: &mut Out<W>) -> Result<(), Failure> {
    let Some(path) = &settings.config_path else {
        return Err(Failure::Usage(
            "no config file: neither XDG_CONFIG_HOME nor HOME is set".to_owned(),
        ));
    };
    let config = config::load(path)?;
    let in_use: Vec<&str> = settings
        .profiles
        .as_ref()
        .map(|p| p.value.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let records: Vec<Vec<String>> = config
        .profiles
        .iter()
        .map(|(name, profile)| {
            vec![
                name.clone(),
                if in_use.contains(&name.as_str()) {
                    "yes"
                } else {
                    ""
                }
                .to_owned(),
                target_of(profile),
                key_of(profile, KeyKind::Api),
                key_of(profile, KeyKind::App),
            ]
        })
        .collect();
    if records.is_empty() && settings.chatty() {
        eprintln!(
            "no profiles in {} (`ddcnm config --help` shows how to write one)",
            path.display()
        );
    }
    out.records(
        &["name", "in use", "target", "api key", "app key"],
        &records,
    )?;
    Ok(())
}

fn target_of(profile: &Profile) -> String {
    match (&profile.base_url, &profile.site) {
        (Some(url), _) => crate::settings::redact_url(url),
        (None, Some(site)) => site.clone(),
        (None, None) => "(site from DD_SITE, else datadoghq.com)".to_owned(),
    }
}

fn key_of(profile: &Profile, kind: KeyKind) -> String {
    profile.key_source(kind).map_or_else(
        || "(from DD_* variables)".to_owned(),
        |source| source.describe(),
    )
}
