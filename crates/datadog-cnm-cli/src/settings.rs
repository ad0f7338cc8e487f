//! Every setting, resolved once from the command line, the environment and the config file,
//! with where each value came from.
//!
//! Precedence, highest first:
//!
//! 1. flags (`--site`, `--base-url`, `--output`, …);
//! 2. profiles named on the command line (`--profile NAME`): naming one is a flag too, so
//!    its settings beat the environment (as `aws --profile` does);
//! 3. the environment (`DD_SITE`, `DD_CNM_BASE_URL`, `DD_API_KEY`, `DD_APP_KEY`);
//! 4. a profile chosen by `DDCNM_PROFILE`, or the profile named `default`;
//! 5. defaults (`datadoghq.com`, table output).
//!
//! Where requests go is one setting: the first level that gives a base URL or a site
//! decides (so `--site` beats an exported `DD_CNM_BASE_URL`). Nothing here fails early:
//! a bad `DD_SITE` or config file fails only the commands that need it.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use datadog_cnm::{Client, RetryPolicy, Site};

use crate::cli::{Cli, OutputFormat};
use crate::config::{self, Config, KeyKind, KeySource, Profile};
use crate::exit::{Context, Failure};
use crate::view::table::Width;

/// Environment variables: where requests go and the keys.
pub const DD_SITE: &str = "DD_SITE";
/// A URL instead of the site's API.
pub const DD_CNM_BASE_URL: &str = "DD_CNM_BASE_URL";
/// The API key.
pub const DD_API_KEY: &str = "DD_API_KEY";
/// The application key.
pub const DD_APP_KEY: &str = "DD_APP_KEY";
/// The application key's other name.
pub const DD_APPLICATION_KEY: &str = "DD_APPLICATION_KEY";
/// The profile to use when `--profile` is not given.
pub const DDCNM_PROFILE: &str = "DDCNM_PROFILE";

/// Looks up an environment variable.
pub type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What a command does when the client waits for the rate limit.
pub type WaitNotice = Box<dyn Fn(&datadog_cnm::RateLimitWait) + Send + Sync>;

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A flag, e.g. `--site`.
    Flag(&'static str),
    /// An environment variable.
    Env(String),
    /// A profile of the config file.
    Profile(String),
    /// The built-in default.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag(flag) => write!(f, "flag {flag}"),
            Self::Env(name) => write!(f, "environment {name}"),
            Self::Profile(name) => write!(f, "profile {name}"),
            Self::Default => f.write_str("default"),
        }
    }
}

/// A value and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub source: Source,
}

impl<T> Setting<T> {
    fn new(value: T, source: Source) -> Self {
        Self { value, source }
    }
}

/// Where requests go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A Datadog site's API.
    Site(Site),
    /// Another URL: a proxy, a mock server.
    BaseUrl(String),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Site(site) => write!(f, "{site}"),
            Self::BaseUrl(url) => f.write_str(&redact_url(url)),
        }
    }
}

/// One place to query: where, with which keys, under which profile.
#[derive(Clone, Debug)]
pub struct Target {
    /// The profile it comes from, if any.
    pub profile: Option<String>,
    /// Where requests go (a bad site or URL is kept as the error to report).
    pub endpoint: Setting<Result<Endpoint, String>>,
    /// Where the API key comes from.
    pub api_key: Option<Setting<KeySource>>,
    /// Where the application key comes from.
    pub app_key: Option<Setting<KeySource>>,
}

impl Target {
    /// The site or URL, for labels and messages (secrets in a URL redacted).
    pub fn name(&self) -> String {
        match &self.endpoint.value {
            Ok(endpoint) => endpoint.to_string(),
            Err(_) => "an invalid site".to_owned(),
        }
    }

    /// The API base URL requests go to, for `ddcnm config`.
    pub fn api_url(&self) -> Result<String, String> {
        match &self.endpoint.value {
            Ok(Endpoint::Site(site)) => Ok(site.api_base().to_string()),
            Ok(Endpoint::BaseUrl(url)) => Ok(redact_url(url)),
            Err(error) => Err(error.clone()),
        }
    }
}

/// Every setting, resolved.
#[derive(Clone)]
pub struct Settings {
    /// `--output`, or a profile's `output`.
    pub output: Setting<OutputFormat>,
    /// `--out FILE`: results go there instead of stdout.
    pub out: Option<PathBuf>,
    /// `--timeout`.
    pub timeout: Option<Duration>,
    /// `--max-attempts`.
    pub max_attempts: Option<u32>,
    /// `--quiet`.
    pub quiet: bool,
    /// The config file's path (`None` without `XDG_CONFIG_HOME` or `HOME`).
    pub config_path: Option<PathBuf>,
    /// Why the config file could not be used, if it could not.
    pub config_error: Option<String>,
    /// The profiles in use, and how they were chosen.
    pub profiles: Option<Setting<Vec<String>>>,
    /// The targets, or why there are none.
    pub targets: Result<Vec<Target>, String>,
    /// A profile's default `--group-by`.
    pub group_by: Option<Setting<Vec<String>>>,
    /// A profile's default `--limit`.
    pub limit: Option<Setting<u32>>,
    /// What to call the target in headings instead of its URL (the demo's mock).
    pub target_label: Option<String>,
    /// Things worth a warning, found while resolving.
    pub warnings: Vec<String>,
    env: Env,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("output", &self.output)
            .field("profiles", &self.profiles)
            .field("targets", &self.targets)
            .finish_non_exhaustive()
    }
}

/// Comma-separated values of a flag or variable, trimmed, empty ones dropped.
fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `https://user:pw@host/p?api_key=x` → `https://host/p?api_key=…`: what a URL may show.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut shown = if scheme.is_empty() {
        format!("{host}{path}")
    } else {
        format!("{scheme}://{host}{path}")
    };
    if !query.is_empty() {
        let names: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) => format!("{name}=…"),
                None => "…".to_owned(),
            })
            .collect();
        shown.push('?');
        shown.push_str(&names.join("&"));
    }
    shown
}

/// One level of precedence for where requests go and the keys.
struct Level<'a> {
    source: Source,
    base_url: Option<String>,
    site: Option<String>,
    profile: Option<&'a Profile>,
}

impl Settings {
    /// Resolve every setting of `cli`, with the environment of `env`.
    pub fn resolve(cli: &Cli, env: Env) -> Self {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut warnings = Vec::new();
        let config_path = config::path(&*env);
        let config: Result<Config, String> = match &config_path {
            Some(path) => config::load(path).map_err(|f| f.sentence()),
            None => Ok(Config::default()),
        };
        // Which profiles, and whether the command line named them.
        let chosen = match (&cli.profile, get(DDCNM_PROFILE)) {
            (Some(names), _) => Some(Setting::new(list(names), Source::Flag("--profile"))),
            (None, Some(names)) => Some(Setting::new(
                list(&names),
                Source::Env(DDCNM_PROFILE.to_owned()),
            )),
            (None, None) => match &config {
                Ok(config) if config.profiles.contains_key("default") => {
                    Some(Setting::new(vec!["default".to_owned()], Source::Default))
                }
                _ => None,
            },
        };
        let targets = resolve_targets(cli, &*env, &config, config_path.as_ref(), chosen.as_ref());
        let profiles_used: Vec<(&String, &Profile)> = match (&config, &chosen) {
            (Ok(config), Some(chosen)) => chosen
                .value
                .iter()
                .filter_map(|name| Some((name, config.profiles.get(name)?)))
                .collect(),
            _ => Vec::new(),
        };
        let agreed = |what: &str,
                      pick: &dyn Fn(&Profile) -> Option<String>,
                      warnings: &mut Vec<String>| {
            let mut found: Option<(String, &String)> = None;
            for (name, profile) in &profiles_used {
                if let Some(value) = pick(profile) {
                    match &found {
                        Some((seen, first)) if *seen != value => {
                            warnings.push(format!(
                                "profiles `{first}` and `{name}` set different {what}s; `{first}`'s \
                                 is used for both"
                            ));
                        }
                        Some(_) => {}
                        None => found = Some((value, name)),
                    }
                }
            }
            found.map(|(value, name)| Setting::new(value, Source::Profile(name.clone())))
        };
        let output = match cli.output {
            Some(format) => Setting::new(format, Source::Flag("--output")),
            None => match agreed("output", &|p| p.output.clone(), &mut warnings) {
                Some(setting) => match OutputFormat::from_str(setting.value.trim(), true) {
                    // Parquet is binary and for query rows only: a per-command choice.
                    Ok(format) if format != OutputFormat::Parquet => {
                        Setting::new(format, setting.source)
                    }
                    _ => {
                        warnings.push(format!(
                            "{}: output `{}` is not a default format (table, wide, json, \
                             ndjson, csv; Parquet only with -o parquet); using table",
                            setting.source, setting.value
                        ));
                        Setting::new(OutputFormat::Table, Source::Default)
                    }
                },
                None => Setting::new(OutputFormat::Table, Source::Default),
            },
        };
        let group_by = agreed(
            "group_by",
            &|p| p.group_by.as_ref().map(|g| g.fields().join(",")),
            &mut warnings,
        )
        .map(|s| Setting::new(list(&s.value), s.source));
        let limit = agreed("limit", &|p| p.limit.map(|l| l.to_string()), &mut warnings)
            .and_then(|s| Some(Setting::new(s.value.parse().ok()?, s.source)));
        if let (Some(app), Some(application)) = (get(DD_APP_KEY), get(DD_APPLICATION_KEY))
            && app.trim() != application.trim()
        {
            warnings.push(
                "DD_APP_KEY and DD_APPLICATION_KEY are both set and differ; DD_APP_KEY is used"
                    .to_owned(),
            );
        }
        Self {
            output,
            out: cli.out.clone(),
            timeout: cli.timeout.map(|t| t.0),
            max_attempts: cli.max_attempts,
            quiet: cli.quiet,
            config_error: config.as_ref().err().cloned(),
            config_path,
            profiles: chosen,
            targets,
            group_by,
            limit,
            target_label: None,
            warnings,
            env,
        }
    }

    /// These settings with one target, `label` for headings, and the environment of
    /// `env` (the demo's mock and keys).
    pub fn with_target(&self, target: Target, label: &str, env: Env) -> Self {
        Self {
            targets: Ok(vec![target]),
            target_label: Some(label.to_owned()),
            profiles: None,
            group_by: None,
            limit: None,
            env,
            ..self.clone()
        }
    }

    /// Look up an environment variable.
    pub fn env(&self, name: &str) -> Option<String> {
        (self.env)(name)
    }

    /// Where requests go, for messages: the first target's name.
    pub fn context(&self) -> Context {
        let target = match (&self.target_label, &self.targets) {
            (Some(label), _) => label.clone(),
            (None, Ok(targets)) => targets.first().map(Target::name).unwrap_or_default(),
            (None, Err(_)) => Site::default().to_string(),
        };
        Context { target }
    }

    /// The targets, or why there are none (a bad `DD_SITE`, a broken config file, an
    /// unknown profile).
    pub fn targets(&self) -> Result<&[Target], Failure> {
        self.targets
            .as_deref()
            .map_err(|message| Failure::Usage(message.clone()))
    }

    /// Whether stderr may carry progress bars and warnings.
    pub fn chatty(&self) -> bool {
        !self.quiet
    }

    /// Whether a progress bar may be drawn: stderr is a terminal and not `--quiet`.
    pub fn progress_bar(&self) -> bool {
        use std::io::IsTerminal;
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// How wide tables may be: `COLUMNS` when set, else the terminal's width when stdout
    /// is a terminal, else the default columns unfitted (a pipe or a file).
    pub fn table_width(&self) -> Width {
        use std::io::IsTerminal;
        if self.output.value == OutputFormat::Wide {
            return Width::Wide;
        }
        if let Some(columns) = self
            .env("COLUMNS")
            .and_then(|c| c.trim().parse::<usize>().ok())
            && columns > 0
        {
            return Width::Fit(columns);
        }
        if std::io::stdout().is_terminal()
            && let Some((terminal_size::Width(columns), _)) = terminal_size::terminal_size()
        {
            return Width::Fit(usize::from(columns));
        }
        Width::Default
    }

    /// The retry policy of `--max-attempts` and a command's time budget (`--deadline`).
    fn retry(&self, deadline: Option<Duration>) -> RetryPolicy {
        let mut policy = RetryPolicy::default();
        if let Some(attempts) = self.max_attempts {
            policy = policy.max_attempts(attempts);
        }
        if let Some(deadline) = deadline {
            policy = policy.max_elapsed(deadline);
        }
        policy
    }

    /// A client for `target`: its keys read (key commands run now), `deadline` bounding
    /// each request's waits and retries, `on_wait` hearing of rate-limit waits. Missing
    /// keys are reported here, by where they were looked for, before anything is sent.
    pub fn client(
        &self,
        target: &Target,
        deadline: Option<Duration>,
        on_wait: Option<WaitNotice>,
    ) -> Result<Client, Failure> {
        let endpoint = target.endpoint.value.clone().map_err(Failure::Usage)?;
        let name = target.name();
        let profile = target.profile.as_deref().unwrap_or("");
        let read = |kind: KeyKind, source: &Option<Setting<KeySource>>| match source {
            Some(setting) => setting.value.read(kind, profile, &*self.env),
            None => Err(Failure::Usage(missing_key(
                kind,
                &name,
                target.profile.as_deref(),
            ))),
        };
        let api_key = read(KeyKind::Api, &target.api_key)?;
        let app_key = read(KeyKind::App, &target.app_key)?;
        let mut builder = Client::builder()
            .api_key(api_key)
            .app_key(app_key)
            .retry(self.retry(deadline));
        builder = match &endpoint {
            Endpoint::Site(site) => builder.site(site.clone()),
            Endpoint::BaseUrl(url) => builder.base_url(url),
        };
        if let Some(on_wait) = on_wait {
            builder = builder.on_rate_limit_wait(on_wait);
        }
        if let Some(timeout) = self.timeout {
            builder = builder.timeout(timeout);
        }
        let client = builder.build()?;
        tracing::debug!(
            target = %name,
            from = %target.endpoint.source,
            api_key = %target.api_key.as_ref().map_or(String::new(), |k| k.source.to_string()),
            app_key = %target.app_key.as_ref().map_or(String::new(), |k| k.source.to_string()),
            profile = target.profile.as_deref().unwrap_or("-"),
            "querying {}",
            client.base_url()
        );
        Ok(client)
    }
}

/// What to say when no source gives a key.
fn missing_key(kind: KeyKind, target: &str, profile: Option<&str>) -> String {
    let variable = match kind {
        KeyKind::Api => "DD_API_KEY is not set; export your Datadog API key (and DD_APP_KEY)",
        KeyKind::App => {
            "DD_APP_KEY is not set (DD_APPLICATION_KEY also works); export your Datadog \
             application key"
        }
    };
    let profile = match profile {
        Some(name) => format!(
            ", or give profile `{name}` an {}_env or {}_command",
            kind.setting(),
            kind.setting()
        ),
        None => String::new(),
    };
    format!("{variable} to query {target}{profile}, or try `ddcnm demo` without keys")
}

fn resolve_targets(
    cli: &Cli,
    env: &dyn Fn(&str) -> Option<String>,
    config: &Result<Config, String>,
    config_path: Option<&PathBuf>,
    chosen: Option<&Setting<Vec<String>>>,
) -> Result<Vec<Target>, String> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    // A broken file fails every command that queries: it may hold the `default` profile.
    let config = config.as_ref().map_err(Clone::clone)?;
    let flag_sites = cli.site.as_deref().map(list).unwrap_or_default();
    let flag_base_url = cli
        .base_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    if cli.site.is_some() && flag_sites.is_empty() {
        return Err(
            "--site names no site; give one or several, e.g. --site eu1 or \
                    --site us1,eu1"
                .to_owned(),
        );
    }
    if flag_sites.len() > 1 && flag_base_url.is_some() {
        return Err(
            "--base-url sends every request to one URL: it cannot go with several \
                    --site values; drop one of them"
                .to_owned(),
        );
    }
    // The profiles, looked up (an unknown name is an error naming the file).
    let mut profiles: Vec<(String, Profile)> = Vec::new();
    if let Some(chosen) = chosen {
        if chosen.value.is_empty() {
            return Err(format!(
                "{} names no profile; give one or several, e.g. --profile prod or \
                 --profile prod,staging (`ddcnm profiles` lists them)",
                chosen.source
            ));
        }
        for name in &chosen.value {
            let profile = config.profiles.get(name).ok_or_else(|| {
                let file = config_path.map_or_else(
                    || "no config file (set HOME or XDG_CONFIG_HOME)".to_owned(),
                    |p| p.display().to_string(),
                );
                let known: Vec<&str> = config.profiles.keys().map(String::as_str).collect();
                format!(
                    "{}: no profile `{name}` in {file}{}",
                    chosen.source,
                    if known.is_empty() {
                        String::new()
                    } else {
                        format!(" (it has: {})", known.join(", "))
                    }
                )
            })?;
            profiles.push((name.clone(), profile.clone()));
        }
    }
    if flag_sites.len() > 1 && profiles.len() > 1 {
        return Err(
            "give several profiles or several sites, not both: --profile a,b queries each \
             profile's site, --site x,y each site with one set of keys"
                .to_owned(),
        );
    }
    let explicit = chosen.is_some_and(|c| matches!(c.source, Source::Flag(_)));
    let per_profile: Vec<Option<(String, Profile)>> = if profiles.is_empty() {
        vec![None]
    } else {
        profiles.into_iter().map(Some).collect()
    };
    let sites: Vec<Option<String>> = if flag_sites.is_empty() {
        vec![None]
    } else {
        flag_sites.into_iter().map(Some).collect()
    };
    let mut targets = Vec::new();
    for entry in &per_profile {
        for site in &sites {
            let profile = entry.as_ref().map(|(name, p)| (name.as_str(), p));
            let flags = Level {
                source: Source::Flag(if flag_base_url.is_some() {
                    "--base-url"
                } else {
                    "--site"
                }),
                base_url: flag_base_url.map(str::to_owned),
                site: site.clone(),
                profile: None,
            };
            let profile_level = profile.map(|(name, p)| Level {
                source: Source::Profile(name.to_owned()),
                base_url: p.base_url.clone(),
                site: p.site.clone(),
                profile: Some(p),
            });
            let environment = Level {
                source: Source::Env(
                    if get(DD_CNM_BASE_URL).is_some() {
                        DD_CNM_BASE_URL
                    } else {
                        DD_SITE
                    }
                    .to_owned(),
                ),
                base_url: get(DD_CNM_BASE_URL),
                site: get(DD_SITE),
                profile: None,
            };
            let mut levels: Vec<Level<'_>> = vec![flags];
            match profile_level {
                Some(level) if explicit => {
                    levels.push(level);
                    levels.push(environment);
                }
                Some(level) => {
                    levels.push(environment);
                    levels.push(level);
                }
                None => levels.push(environment),
            }
            let endpoint = levels
                .iter()
                .find_map(|level| {
                    if let Some(url) = &level.base_url {
                        return Some(Setting::new(
                            Ok(Endpoint::BaseUrl(url.clone())),
                            level.source.clone(),
                        ));
                    }
                    let site = level.site.as_ref()?;
                    let parsed = site.parse::<Site>().map(Endpoint::Site).map_err(|e| {
                        let reason = match e {
                            datadog_cnm::Error::Config { message } => message,
                            other => other.to_string(),
                        };
                        format!("{} `{site}`: {reason}", level.source)
                    });
                    Some(Setting::new(parsed, level.source.clone()))
                })
                .unwrap_or_else(|| {
                    Setting::new(Ok(Endpoint::Site(Site::default())), Source::Default)
                });
            let key = |kind: KeyKind| {
                levels.iter().find_map(|level| match level.profile {
                    Some(profile) => profile
                        .key_source(kind)
                        .map(|source| Setting::new(source, level.source.clone())),
                    None if matches!(level.source, Source::Env(_)) => {
                        let names: &[&str] = match kind {
                            KeyKind::Api => &[DD_API_KEY],
                            KeyKind::App => &[DD_APP_KEY, DD_APPLICATION_KEY],
                        };
                        names.iter().find(|n| get(n).is_some()).map(|n| {
                            Setting::new(
                                KeySource::Env((*n).to_owned()),
                                Source::Env((*n).to_owned()),
                            )
                        })
                    }
                    None => None,
                })
            };
            let target = Target {
                profile: profile.map(|(name, _)| name.to_owned()),
                endpoint,
                api_key: key(KeyKind::Api),
                app_key: key(KeyKind::App),
            };
            // The same rows twice would be counted twice downstream.
            if let Some(twin) = targets
                .iter()
                .find(|t: &&Target| t.profile == target.profile && t.name() == target.name())
            {
                return Err(format!(
                    "{} is named twice{}; name each site or profile once",
                    twin.name(),
                    twin.profile
                        .as_ref()
                        .map(|p| format!(" (profile `{p}`)"))
                        .unwrap_or_default()
                ));
            }
            targets.push(target);
        }
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// Settings of `args` with `vars` as the environment and `config` as the config file
    /// (under a scratch `XDG_CONFIG_HOME`).
    fn resolve(args: &[&str], vars: &[(&str, &str)], config: Option<&str>) -> Settings {
        // A directory per input, so tests running at once never share one.
        let key = {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            (args, vars, config).hash(&mut hasher);
            hasher.finish()
        };
        let dir =
            std::env::temp_dir().join(format!("ddcnm-settings-{}-{key:x}", std::process::id()));
        let mut env: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if let Some(text) = config {
            std::fs::create_dir_all(dir.join("ddcnm")).unwrap();
            std::fs::write(dir.join("ddcnm").join("config.toml"), text).unwrap();
            env.push(("XDG_CONFIG_HOME".to_owned(), dir.display().to_string()));
        }
        let cli =
            Cli::try_parse_from(std::iter::once("ddcnm").chain(args.iter().copied())).unwrap();
        let settings = Settings::resolve(
            &cli,
            Arc::new(move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())),
        );
        std::fs::remove_dir_all(&dir).ok();
        settings
    }

    fn endpoint(settings: &Settings) -> (String, Source) {
        let target = &settings.targets.as_ref().unwrap()[0];
        (target.name(), target.endpoint.source.clone())
    }

    const PROFILES: &str = r#"
[profiles.default]
site = "us5"
api_key_env = "DEFAULT_KEY"

[profiles.prod]
site = "datadoghq.eu"
api_key_env = "PROD_KEY"
output = "json"
"#;

    #[test]
    fn where_requests_go_follows_the_precedence() {
        let env = [
            ("DD_CNM_BASE_URL", "http://127.0.0.1:1"),
            ("DD_SITE", "us3"),
        ];
        let flag = resolve(&["--site", "eu", "config"], &env, Some(PROFILES));
        assert_eq!(
            endpoint(&flag),
            ("datadoghq.eu".to_owned(), Source::Flag("--site"))
        );
        let environment = resolve(&["config"], &env, Some(PROFILES));
        assert_eq!(
            endpoint(&environment),
            (
                "http://127.0.0.1:1".to_owned(),
                Source::Env(DD_CNM_BASE_URL.to_owned())
            )
        );
        let implicit = resolve(&["config"], &[], Some(PROFILES));
        assert_eq!(
            endpoint(&implicit),
            (
                "us5.datadoghq.com".to_owned(),
                Source::Profile("default".to_owned())
            )
        );
        let named = resolve(&["--profile", "prod", "config"], &env, Some(PROFILES));
        assert_eq!(
            endpoint(&named),
            (
                "datadoghq.eu".to_owned(),
                Source::Profile("prod".to_owned())
            )
        );
        assert_eq!(named.output.value, OutputFormat::Json);
        let by_variable = resolve(
            &["config"],
            &[("DDCNM_PROFILE", "prod"), ("DD_SITE", "us3")],
            Some(PROFILES),
        );
        assert_eq!(
            endpoint(&by_variable),
            (
                "us3.datadoghq.com".to_owned(),
                Source::Env(DD_SITE.to_owned())
            ),
            "a profile chosen by the environment ranks below it"
        );
        let nothing = resolve(&["config"], &[], None);
        assert_eq!(
            endpoint(&nothing),
            ("datadoghq.com".to_owned(), Source::Default)
        );
    }

    #[test]
    fn keys_follow_the_same_precedence() {
        let env = [("DD_API_KEY", "e"), ("DD_APP_KEY", "a")];
        let key = |settings: &Settings| {
            let target = &settings.targets.as_ref().unwrap()[0];
            target.api_key.clone().map(|k| (k.value, k.source))
        };
        let named = resolve(&["--profile", "prod", "config"], &env, Some(PROFILES));
        assert_eq!(
            key(&named),
            Some((
                KeySource::Env("PROD_KEY".to_owned()),
                Source::Profile("prod".to_owned())
            ))
        );
        let implicit = resolve(&["config"], &env, Some(PROFILES));
        assert_eq!(
            key(&implicit),
            Some((
                KeySource::Env("DD_API_KEY".to_owned()),
                Source::Env("DD_API_KEY".to_owned())
            ))
        );
        let app = |settings: &Settings| {
            let target = &settings.targets.as_ref().unwrap()[0];
            target.app_key.clone().map(|k| k.value)
        };
        assert_eq!(
            app(&resolve(&["config"], &[("DD_APPLICATION_KEY", "x")], None)),
            Some(KeySource::Env("DD_APPLICATION_KEY".to_owned()))
        );
    }

    #[test]
    fn several_targets_and_what_cannot_be_combined() {
        let sites = resolve(&["--site", "us1, eu1", "config"], &[], None);
        let names: Vec<String> = sites.targets.unwrap().iter().map(Target::name).collect();
        assert_eq!(names, ["datadoghq.com", "datadoghq.eu"]);
        let both = resolve(
            &["--site", "us1,eu1", "--profile", "prod,default", "config"],
            &[],
            Some(PROFILES),
        );
        assert!(both.targets.unwrap_err().contains("not both"));
        // The same rows twice would count twice.
        for (args, needle) in [
            (
                &["--site", "us1,datadoghq.com", "config"][..],
                "datadoghq.com is named twice",
            ),
            (
                &["--profile", "prod,prod", "config"][..],
                "(profile `prod`)",
            ),
            (&["--site", ",", "config"][..], "--site names no site"),
            (&["--profile", ",", "config"][..], "names no profile"),
            (&["--profile", "", "config"][..], "names no profile"),
            (
                &[
                    "--site",
                    "us1,eu1",
                    "--base-url",
                    "http://127.0.0.1:1",
                    "config",
                ][..],
                "cannot go with several --site values",
            ),
        ] {
            let error = resolve(args, &[], Some(PROFILES)).targets.unwrap_err();
            assert!(error.contains(needle), "{args:?}: {error}");
        }
        let bad = resolve(&["config"], &[("DD_SITE", "moon")], None);
        let target = &bad.targets.unwrap()[0];
        assert!(
            target
                .endpoint
                .value
                .as_ref()
                .unwrap_err()
                .contains("environment DD_SITE `moon`")
        );
        let differ = resolve(
            &["--profile", "prod,default", "config"],
            &[],
            Some(
                PROFILES
                    .replace("site = \"us5\"", "site = \"us5\"\noutput = \"csv\"")
                    .as_str(),
            ),
        );
        assert!(
            differ
                .warnings
                .iter()
                .any(|w| w.contains("different outputs")),
            "{:?}",
            differ.warnings
        );
        // Parquet is binary: never a profile's default.
        let parquet = resolve(
            &["config"],
            &[],
            Some(
                PROFILES
                    .replace(
                        "[profiles.default]",
                        "[profiles.default]\noutput = \"parquet\"",
                    )
                    .as_str(),
            ),
        );
        assert_eq!(parquet.output.value, OutputFormat::Table);
        assert!(
            parquet
                .warnings
                .iter()
                .any(|w| w.contains("output `parquet` is not a default format")),
            "{:?}",
            parquet.warnings
        );
    }

    #[test]
    fn urls_are_shown_without_secrets() {
        assert_eq!(
            redact_url("https://user:pw@proxy.example:8443/dd?api_key=abc&x=1#f"),
            "https://proxy.example:8443/dd?api_key=…&x=…"
        );
        assert_eq!(redact_url("http://127.0.0.1:8126"), "http://127.0.0.1:8126");
    }
}
