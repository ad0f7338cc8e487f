//! Datadog sites (regions) and how to name them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use crate::error::Error;

/// A Datadog site: where an organisation's data lives and which API host serves it.
///
/// Parse one leniently from what users have at hand — the site domain (`datadoghq.eu`),
/// the app or API host (`app.datadoghq.eu`, `api.us3.datadoghq.com`), a full URL, or a
/// short name (`eu`, `eu1`, `us3`, `gov`):
///
/// ```
/// use datadog_cnm::Site;
///
/// assert_eq!("app.datadoghq.eu".parse::<Site>()?, Site::Eu1);
/// assert_eq!("https://api.us5.datadoghq.com/".parse::<Site>()?, Site::Us5);
/// assert_eq!("gov".parse::<Site>()?, Site::Us1Fed);
/// assert_eq!(Site::Eu1.to_string(), "datadoghq.eu");
/// assert_eq!(Site::Eu1.api_base().as_str(), "https://api.datadoghq.eu/");
/// assert!("datadoghq.moon".parse::<Site>().is_err());
/// # Ok::<(), datadog_cnm::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Site {
    /// US1, `datadoghq.com` (the default).
    #[default]
    Us1,
    /// US3, `us3.datadoghq.com`.
    Us3,
    /// US5, `us5.datadoghq.com`.
    Us5,
    /// EU1, `datadoghq.eu`.
    Eu1,
    /// AP1, `ap1.datadoghq.com`.
    Ap1,
    /// AP2, `ap2.datadoghq.com`.
    Ap2,
    /// UK1, `uk1.datadoghq.com`.
    Uk1,
    /// US1-FED (GovCloud), `ddog-gov.com`.
    Us1Fed,
    /// US2-FED, `us2.ddog-gov.com`.
    Us2Fed,
    /// Any other endpoint: a proxy, a private deployment, a mock server. The URL is the
    /// API base that request paths are appended to.
    Custom(Url),
}

impl Site {
    /// The nine public sites, in the order Datadog lists them.
    pub const ALL: [Site; 9] = [
        Site::Us1,
        Site::Us3,
        Site::Us5,
        Site::Eu1,
        Site::Ap1,
        Site::Ap2,
        Site::Uk1,
        Site::Us1Fed,
        Site::Us2Fed,
    ];

    /// The site domain (`datadoghq.eu`), or the host of a custom URL.
    pub fn domain(&self) -> &str {
        match self {
            Self::Us1 => "datadoghq.com",
            Self::Us3 => "us3.datadoghq.com",
            Self::Us5 => "us5.datadoghq.com",
            Self::Eu1 => "datadoghq.eu",
            Self::Ap1 => "ap1.datadoghq.com",
            Self::Ap2 => "ap2.datadoghq.com",
            Self::Uk1 => "uk1.datadoghq.com",
            Self::Us1Fed => "ddog-gov.com",
            Self::Us2Fed => "us2.ddog-gov.com",
            Self::Custom(url) => url.host_str().unwrap_or_default(),
        }
    }

    /// The short name Datadog uses for the site (`us1`, `eu1`, `us1-fed`, …; `custom`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Us1 => "us1",
            Self::Us3 => "us3",
            Self::Us5 => "us5",
            Self::Eu1 => "eu1",
            Self::Ap1 => "ap1",
            Self::Ap2 => "ap2",
            Self::Uk1 => "uk1",
            Self::Us1Fed => "us1-fed",
            Self::Us2Fed => "us2-fed",
            Self::Custom(_) => "custom",
        }
    }

    /// The API base URL, e.g. `https://api.datadoghq.eu/`.
    pub fn api_base(&self) -> Url {
        match self {
            Self::Custom(url) => url.clone(),
            known => {
                let base = format!("https://api.{}/", known.domain());
                // The domains above are constants that always form a valid URL.
                Url::parse(&base).unwrap_or_else(|_| unreachable!("invalid built-in URL {base}"))
            }
        }
    }

    fn from_domain(domain: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|site| site.domain() == domain)
    }

    fn from_short_name(name: &str) -> Option<Self> {
        Some(match name {
            "us1" | "us" => Self::Us1,
            "us3" => Self::Us3,
            "us5" => Self::Us5,
            "eu1" | "eu" => Self::Eu1,
            "ap1" => Self::Ap1,
            "ap2" => Self::Ap2,
            "uk1" | "uk" => Self::Uk1,
            "us1-fed" | "us1fed" | "gov" | "fed" => Self::Us1Fed,
            "us2-fed" | "us2fed" => Self::Us2Fed,
            _ => return None,
        })
    }

    /// The site of a host name such as `app.datadoghq.eu` or `api.us3.datadoghq.com`.
    fn from_host(host: &str) -> Option<Self> {
        let host = host.trim_end_matches('.');
        Self::from_domain(host).or_else(|| {
            let (prefix, rest) = host.split_once('.')?;
            matches!(prefix, "app" | "api").then(|| Self::from_domain(rest))?
        })
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Custom(url) => f.write_str(url.as_str().trim_end_matches('/')),
            known => f.write_str(known.domain()),
        }
    }
}

/// The accepted spellings, for error messages.
fn valid_names() -> String {
    let sites: Vec<String> = Site::ALL
        .iter()
        .map(|site| format!("{} ({})", site.name(), site.domain()))
        .collect();
    format!(
        "{}; also `eu`, `us`, `uk`, `gov`, app/api host names, or a full https:// URL",
        sites.join(", ")
    )
}

impl FromStr for Site {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let trimmed = input.trim();
        let lower = trimmed.to_ascii_lowercase();
        if let Some(site) = Self::from_short_name(&lower) {
            return Ok(site);
        }
        if lower.contains("://") {
            let url = Url::parse(trimmed)
                .map_err(|e| Error::config(format!("site URL `{trimmed}` is not valid: {e}")))?;
            let host = url.host_str().unwrap_or_default();
            let plain_path = matches!(url.path(), "" | "/");
            if url.scheme() == "https"
                && url.port().is_none()
                && plain_path
                && let Some(site) = Self::from_host(host)
            {
                return Ok(site);
            }
            if !matches!(url.scheme(), "http" | "https") || host.is_empty() {
                return Err(Error::config(format!(
                    "site URL `{trimmed}` must be http(s):// with a host"
                )));
            }
            return Ok(Self::Custom(url));
        }
        Self::from_host(lower.trim_end_matches('/')).ok_or_else(|| {
            Error::config(format!(
                "unknown Datadog site `{trimmed}`; valid sites: {}",
                valid_names()
            ))
        })
    }
}

impl TryFrom<&str> for Site {
    type Error = Error;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl Serialize for Site {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Site {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Site {
        input.parse().unwrap_or_else(|e| panic!("{input}: {e}"))
    }

    #[test]
    fn every_site_round_trips_through_its_spellings() {
        for site in Site::ALL {
            let domain = site.domain();
            assert_eq!(parse(domain), site);
            assert_eq!(parse(site.name()), site);
            assert_eq!(parse(&format!("app.{domain}")), site);
            assert_eq!(parse(&format!("api.{domain}")), site);
            assert_eq!(parse(&format!("https://app.{domain}/")), site);
            assert_eq!(parse(&format!("  {}  ", domain.to_uppercase())), site);
            assert_eq!(parse(&site.to_string()), site);
            assert_eq!(parse(site.api_base().as_str()), site);
        }
    }

    #[test]
    fn unknown_sites_list_the_valid_names() {
        for bad in [
            "",
            "datadoghq.moon",
            "api.example.com",
            "eu2",
            "ftp://datadoghq.eu",
        ] {
            let message = bad
                .parse::<Site>()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(!message.is_empty(), "{bad:?} was accepted");
        }
        let message = "nope"
            .parse::<Site>()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("eu1 (datadoghq.eu)"), "{message}");
    }

    #[test]
    fn urls_to_other_hosts_are_custom_sites() {
        let site = parse("http://127.0.0.1:8126");
        assert!(matches!(site, Site::Custom(_)));
        assert_eq!(site.to_string(), "http://127.0.0.1:8126");
        // A known host behind a path or port is a proxy, not the site itself.
        assert!(matches!(
            parse("https://api.datadoghq.eu:8443"),
            Site::Custom(_)
        ));
    }
}
