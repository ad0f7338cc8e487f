//! `config`: the settings in effect and where each came from. Sends nothing, runs no key
//! command, and shows keys only as where they come from.

use std::io::{self, Write};

use datadog_cnm::{ClientBuilder, RetryPolicy};

use crate::config::KeySource;
use crate::output::Out;
use crate::settings::{Setting, Settings, Target};

/// Print one record per setting: its name, value and source.
pub fn run<W: Write>(settings: &Settings, out: &mut Out<W>) -> io::Result<()> {
    let mut records: Vec<Vec<String>> = Vec::new();
    let mut add = |setting: &str, value: String, source: String| {
        records.push(vec![setting.to_owned(), value, source]);
    };
    let config_file = match (&settings.config_path, &settings.config_error) {
        (_, Some(error)) => format!("error: {error}"),
        (Some(path), None) if path.exists() => path.display().to_string(),
        (Some(path), None) => format!("{} (none)", path.display()),
        (None, None) => "none (set HOME or XDG_CONFIG_HOME)".to_owned(),
    };
    add("config file", config_file, String::new());
    match &settings.profiles {
        Some(profiles) => add(
            "profile",
            profiles.value.join(","),
            profiles.source.to_string(),
        ),
        None => add("profile", "none".to_owned(), "default".to_owned()),
    }
    match &settings.targets {
        Ok(targets) => {
            let several = targets.len() > 1;
            for target in targets {
                target_records(target, several, settings, &mut add);
            }
        }
        Err(error) => add("target", format!("error: {error}"), String::new()),
    }
    add(
        "output",
        settings.output.value.name().to_owned(),
        settings.output.source.to_string(),
    );
    let (timeout, source) = match settings.timeout {
        Some(timeout) => (timeout, "flag --timeout"),
        None => (ClientBuilder::DEFAULT_TIMEOUT, "default"),
    };
    add(
        "timeout",
        format!("{}s", timeout.as_secs_f64()),
        source.to_owned(),
    );
    let (attempts, source) = match settings.max_attempts {
        Some(attempts) => (attempts, "flag --max-attempts"),
        None => (RetryPolicy::default().attempts_allowed(), "default"),
    };
    add("max attempts", attempts.to_string(), source.to_owned());
    if let Some(group_by) = &settings.group_by {
        add(
            "group by",
            group_by.value.join(","),
            group_by.source.to_string(),
        );
    }
    if let Some(limit) = &settings.limit {
        add("limit", limit.value.to_string(), limit.source.to_string());
    }
    for warning in &settings.warnings {
        add("warning", warning.clone(), String::new());
    }
    out.records(&["setting", "value", "source"], &records)
}

fn target_records(
    target: &Target,
    several: bool,
    settings: &Settings,
    add: &mut impl FnMut(&str, String, String),
) {
    let prefix = match (several, &target.profile) {
        (true, Some(profile)) => format!("{profile}: "),
        (true, None) => format!("{}: ", target.name()),
        (false, _) => String::new(),
    };
    let source = target.endpoint.source.to_string();
    match target.api_url() {
        Ok(url) => {
            add(&format!("{prefix}target"), target.name(), source.clone());
            add(&format!("{prefix}api url"), url, source);
        }
        Err(error) => add(
            &format!("{prefix}target"),
            format!("error: {error}"),
            source,
        ),
    }
    for (name, key) in [("api key", &target.api_key), ("app key", &target.app_key)] {
        let (value, source) = describe_key(key, settings);
        add(&format!("{prefix}{name}"), value, source);
    }
}

/// A key as `config` shows it: whether it is set and from where, never its value.
fn describe_key(key: &Option<Setting<KeySource>>, settings: &Settings) -> (String, String) {
    let Some(key) = key else {
        return ("not set".to_owned(), String::new());
    };
    let value = match &key.value {
        KeySource::Env(name) => match settings.env(name) {
            Some(value) if !value.trim().is_empty() => format!("set (from {name})"),
            _ => format!("not set ({name} is empty)"),
        },
        KeySource::Command(command) => format!("from command `{command}` (not run)"),
        KeySource::File(_) => "set (in the config file)".to_owned(),
    };
    (value, key.source.to_string())
}
