//! The configuration file: `$XDG_CONFIG_HOME/ddcnm/config.toml` (default
//! `~/.config/ddcnm/config.toml`), profiles of where to send requests, where their keys
//! come from, and query defaults.
//!
//! ```toml
//! [profiles.prod]
//! site = "datadoghq.eu"                      # or base_url = "https://proxy.example/"
//! api_key_command = "pass show datadog/prod-api-key"
//! app_key_env = "PROD_DD_APP_KEY"
//! group_by = ["client_service", "server_service"]
//! limit = 500
//! output = "table"
//! ```
//!
//! Reading the file never runs anything and never reads a key: key commands run only
//! when a command needs the keys ([`KeySource::read`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::exit::Failure;

/// The parsed file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Profiles by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// One `[profiles.NAME]` table.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// A Datadog site (`datadoghq.eu`, `eu1`, …).
    pub site: Option<String>,
    /// A URL instead of the site's API (a proxy, a mock).
    pub base_url: Option<String>,
    /// The variable holding the API key.
    pub api_key_env: Option<String>,
    /// The variable holding the application key.
    pub app_key_env: Option<String>,
    /// A command printing the API key.
    pub api_key_command: Option<String>,
    /// A command printing the application key.
    pub app_key_command: Option<String>,
    /// The API key itself (only in a file private to its owner).
    pub api_key: Option<String>,
    /// The application key itself (only in a file private to its owner).
    pub app_key: Option<String>,
    /// Default `--group-by`: a list, or one comma-separated string.
    pub group_by: Option<GroupBy>,
    /// Default `--limit`.
    pub limit: Option<u32>,
    /// Default `--output` (`table`, `wide`, `json`, `ndjson`, `csv`).
    pub output: Option<String>,
}

// By hand, so that keys written in the file never reach a debug print.
impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |key: &Option<String>| key.as_ref().map(|_| "[redacted]");
        f.debug_struct("Profile")
            .field("site", &self.site)
            .field("base_url", &self.base_url)
            .field("api_key_env", &self.api_key_env)
            .field("app_key_env", &self.app_key_env)
            .field("api_key_command", &self.api_key_command)
            .field("app_key_command", &self.app_key_command)
            .field("api_key", &set(&self.api_key))
            .field("app_key", &set(&self.app_key))
            .field("group_by", &self.group_by)
            .field("limit", &self.limit)
            .field("output", &self.output)
            .finish()
    }
}

/// `group_by = ["a", "b"]` or `group_by = "a,b"`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum GroupBy {
    /// A list of fields.
    List(Vec<String>),
    /// Fields separated by commas.
    Joined(String),
}

impl GroupBy {
    /// The fields, trimmed, empty ones dropped.
    pub fn fields(&self) -> Vec<String> {
        let items: Vec<&str> = match self {
            Self::List(items) => items.iter().map(String::as_str).collect(),
            Self::Joined(text) => text.split(',').collect(),
        };
        items
            .into_iter()
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// Which key a [`KeySource`] holds, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// The API key.
    Api,
    /// The application key.
    App,
}

impl KeyKind {
    /// `API key` or `application key`.
    pub fn words(self) -> &'static str {
        match self {
            Self::Api => "API key",
            Self::App => "application key",
        }
    }

    /// `api_key` or `app_key`, the prefix of the profile's settings.
    pub fn setting(self) -> &'static str {
        match self {
            Self::Api => "api_key",
            Self::App => "app_key",
        }
    }
}

/// Where a profile's key comes from (never the key itself in `Debug` or messages).
#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    /// An environment variable.
    Env(String),
    /// A command's standard output, trimmed.
    Command(String),
    /// Written in the file.
    File(String),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl KeySource {
    /// `environment variable PROD_KEY`, `command \`pass …\``, `the config file`.
    pub fn describe(&self) -> String {
        match self {
            Self::Env(name) => format!("environment variable {name}"),
            Self::Command(command) => format!("command `{command}`"),
            Self::File(_) => "the config file".to_owned(),
        }
    }

    /// Read the key: look up the variable in `env`, or run the command (without a shell;
    /// its standard input and error are the terminal's, so a password manager may ask for
    /// a passphrase). What the command printed is never shown in an error.
    pub fn read(
        &self,
        kind: KeyKind,
        profile: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, Failure> {
        let context = || format!("profile `{profile}`: the {}", kind.words());
        match self {
            Self::File(key) => Ok(key.clone()),
            Self::Env(name) => env(name)
                .filter(|value| !value.trim().is_empty())
                .map(|value| value.trim().to_owned())
                .ok_or_else(|| {
                    Failure::Usage(format!(
                        "{} comes from {name} ({}_env), which is not set or empty; export \
                         it or change the profile",
                        context(),
                        kind.setting()
                    ))
                }),
            Self::Command(command) => run_key_command(command, &context(), kind),
        }
    }
}

fn run_key_command(command: &str, context: &str, kind: KeyKind) -> Result<String, Failure> {
    let setting = format!("{}_command", kind.setting());
    let words = shell_words::split(command).map_err(|e| {
        Failure::Usage(format!(
            "{context} comes from {setting} `{command}`, which does not split into words \
             ({e}); check its quotes"
        ))
    })?;
    let Some((program, args)) = words.split_first() else {
        return Err(Failure::Usage(format!(
            "{context}: {setting} is empty; write the command that prints the key"
        )));
    };
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .output()
        .map_err(|e| {
            Failure::Usage(format!(
                "{context} comes from {setting}, but `{program}` could not be run ({e}); \
                 check that it is installed and on PATH (the command runs without a shell: \
                 write `sh -c '…'` to use one)"
            ))
        })?;
    if !output.status.success() {
        return Err(Failure::Usage(format!(
            "{context} comes from {setting} `{program} …`, which failed ({}); its output is \
             not shown, as it may hold the key: run it yourself to see why",
            output.status
        )));
    }
    let key = String::from_utf8(output.stdout)
        .map(|text| text.trim().to_owned())
        .unwrap_or_default();
    if key.is_empty() {
        return Err(Failure::Usage(format!(
            "{context} comes from {setting} `{program} …`, which printed nothing (or not UTF-8 \
             text); it must print the key on standard output"
        )));
    }
    Ok(key)
}

impl Profile {
    /// Where this profile's key of `kind` comes from, if it says.
    pub fn key_source(&self, kind: KeyKind) -> Option<KeySource> {
        let (env, command, file) = match kind {
            KeyKind::Api => (&self.api_key_env, &self.api_key_command, &self.api_key),
            KeyKind::App => (&self.app_key_env, &self.app_key_command, &self.app_key),
        };
        if let Some(name) = env {
            return Some(KeySource::Env(name.trim().to_owned()));
        }
        if let Some(command) = command {
            return Some(KeySource::Command(command.clone()));
        }
        file.as_ref()
            .map(|key| KeySource::File(key.trim().to_owned()))
    }

    /// The problems of one profile that make it unusable: two sources for one key, a
    /// site and a base URL at once.
    fn check(&self, name: &str) -> Result<(), String> {
        // `--profile a,b` names several profiles: a name with a comma could never be chosen.
        if name.trim().is_empty() || name.contains(',') || name.trim() != name {
            return Err(format!(
                "profile `{name}`: a profile's name must be non-empty, without commas or \
                 surrounding spaces (--profile a,b names two profiles)"
            ));
        }
        for (setting, value) in [
            ("api_key_env", &self.api_key_env),
            ("app_key_env", &self.app_key_env),
            ("api_key_command", &self.api_key_command),
            ("app_key_command", &self.app_key_command),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(format!(
                    "profile `{name}`: {setting} is empty; name the variable or command, or \
                     remove the setting"
                ));
            }
        }
        for (kind, sources) in [
            (
                KeyKind::Api,
                [&self.api_key_env, &self.api_key_command, &self.api_key],
            ),
            (
                KeyKind::App,
                [&self.app_key_env, &self.app_key_command, &self.app_key],
            ),
        ] {
            if sources.iter().filter(|s| s.is_some()).count() > 1 {
                let key = kind.setting();
                return Err(format!(
                    "profile `{name}` gives its {} in more than one way; keep one of \
                     {key}_env, {key}_command and {key}",
                    kind.words()
                ));
            }
        }
        if self.site.is_some() && self.base_url.is_some() {
            return Err(format!(
                "profile `{name}` has both site and base_url; keep one (base_url sends \
                 requests to that URL instead of the site's API)"
            ));
        }
        Ok(())
    }

    /// Whether keys are written in the file itself.
    fn has_keys(&self) -> bool {
        self.api_key.is_some() || self.app_key.is_some()
    }
}

/// Where the file is: `$XDG_CONFIG_HOME/ddcnm/config.toml`, else
/// `$HOME/.config/ddcnm/config.toml`; `None` without either variable.
pub fn path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let non_empty = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let base = match non_empty("XDG_CONFIG_HOME") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(non_empty("HOME")?).join(".config"),
    };
    Some(base.join("ddcnm").join("config.toml"))
}

/// Read and check the file at `path`; a missing file is an empty configuration.
pub fn load(path: &Path) -> Result<Config, Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => {
            return Err(Failure::Usage(format!(
                "could not read the config file {}: {e}",
                path.display()
            )));
        }
    };
    let config = parse(&text)
        .map_err(|message| Failure::Usage(format!("config file {}: {message}", path.display())))?;
    if config.profiles.values().any(Profile::has_keys) && !private(path) {
        return Err(Failure::Usage(format!(
            "the config file {} holds keys (api_key or app_key) but others may read it; make \
             it private with `chmod 600 {}`, or use api_key_command / api_key_env instead",
            path.display(),
            path.display()
        )));
    }
    Ok(config)
}

/// Parse the text of a config file; errors say where (line and column) and what.
pub fn parse(text: &str) -> Result<Config, String> {
    let config: Config = toml::from_str(text).map_err(|e| located(text, &e))?;
    for (name, profile) in &config.profiles {
        profile.check(name)?;
    }
    Ok(config)
}

/// `line 3, column 7: unknown field `sitee`, expected one of …`.
fn located(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().to_owned();
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// Whether only its owner may read or write `path` (Unix mode 0600 or stricter).
#[cfg(unix)]
fn private(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
}

/// Elsewhere, the file system's own permissions apply.
#[cfg(not(unix))]
fn private(_: &Path) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_with_every_setting() {
        let config = parse(
            r#"
[profiles.prod]
site = "datadoghq.eu"
api_key_command = "pass show 'datadog/prod api'"
app_key_env = "PROD_APP"
group_by = "client_service, server_service"
limit = 50
output = "json"

[profiles.mock]
base_url = "http://127.0.0.1:8126"
api_key = "k"
app_key = "a"
group_by = ["client_team"]
"#,
        )
        .unwrap();
        let prod = &config.profiles["prod"];
        assert_eq!(prod.site.as_deref(), Some("datadoghq.eu"));
        assert_eq!(
            prod.key_source(KeyKind::Api),
            Some(KeySource::Command(
                "pass show 'datadog/prod api'".to_owned()
            ))
        );
        assert_eq!(
            prod.key_source(KeyKind::App),
            Some(KeySource::Env("PROD_APP".to_owned()))
        );
        assert_eq!(
            prod.group_by.as_ref().map(GroupBy::fields),
            Some(vec![
                "client_service".to_owned(),
                "server_service".to_owned()
            ])
        );
        let mock = &config.profiles["mock"];
        assert_eq!(
            mock.key_source(KeyKind::Api),
            Some(KeySource::File("k".to_owned()))
        );
        assert!(!format!("{mock:?}").contains("\"k\""), "{mock:?}");
    }

    #[test]
    fn mistakes_are_located_and_explained() {
        let typo = parse("[profiles.a]\nsite = \"eu\"\nsitee = 1\n").unwrap_err();
        assert!(
            typo.starts_with("line 3, column 1: unknown field `sitee`"),
            "{typo}"
        );
        let syntax = parse("[profiles.a]\nsite = eu\n").unwrap_err();
        assert!(syntax.starts_with("line 2, column 8:"), "{syntax}");
        let two =
            parse("[profiles.a]\napi_key_env = \"A\"\napi_key_command = \"x\"\n").unwrap_err();
        assert!(
            two.contains("keep one of api_key_env, api_key_command and api_key"),
            "{two}"
        );
        let both = parse("[profiles.a]\nsite = \"eu\"\nbase_url = \"http://x\"\n").unwrap_err();
        assert!(both.contains("both site and base_url"), "{both}");
        for (text, needle) in [
            ("[profiles.\"a,b\"]\nsite = \"eu\"\n", "without commas"),
            ("[profiles.\"\"]\nsite = \"eu\"\n", "must be non-empty"),
            ("[profiles.a]\napi_key_env = \"\"\n", "api_key_env is empty"),
            (
                "[profiles.a]\napp_key_command = \" \"\n",
                "app_key_command is empty",
            ),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(needle), "{text}: {error}");
        }
    }

    #[test]
    fn the_file_lives_under_xdg_config_home_or_home() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(
            path(&env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/ddcnm/config.toml"))
        );
        assert_eq!(
            path(&env(&[("HOME", "/h")])),
            Some(PathBuf::from("/h/.config/ddcnm/config.toml"))
        );
        assert_eq!(path(&env(&[])), None);
    }

    #[test]
    fn key_commands_run_without_a_shell_and_never_echo_what_they_print() {
        let env = |_: &str| None;
        let read =
            |command: &str| KeySource::Command(command.to_owned()).read(KeyKind::Api, "p", &env);
        assert_eq!(read("echo '  the key  '").ok(), Some("the key".to_owned()));
        // No shell: `$HOME` and `;` are plain words.
        assert_eq!(read("echo $HOME; x").ok(), Some("$HOME; x".to_owned()));
        let failed = read("sh -c 'echo secret-output; exit 3'").unwrap_err();
        let message = failed.message(&crate::exit::Context::default());
        assert!(message.contains("failed"), "{message}");
        assert!(!message.contains("secret-output"), "{message}");
        let missing = read("no-such-program-ddcnm").unwrap_err();
        assert!(missing.message(&Default::default()).contains("on PATH"));
        let quotes = read("echo 'unclosed").unwrap_err();
        assert!(quotes.message(&Default::default()).contains("quotes"));
        let empty = read("true").unwrap_err();
        assert!(
            empty
                .message(&Default::default())
                .contains("printed nothing")
        );
    }

    #[cfg(unix)]
    #[test]
    fn keys_in_a_file_others_can_read_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("ddcnm-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config.toml");
        std::fs::write(&file, "[profiles.a]\napi_key = \"k\"\napp_key = \"a\"\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = load(&file).unwrap_err().message(&Default::default());
        assert!(refused.contains("chmod 600"), "{refused}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(load(&file).is_ok());
        assert!(load(&dir.join("missing.toml")).is_ok_and(|c| c.profiles.is_empty()));
        std::fs::remove_dir_all(&dir).ok();
    }
}
