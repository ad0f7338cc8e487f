//! The client, its builder, and configuration from the environment.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use secrecy::SecretString;
use url::Url;

use crate::credentials::{Credentials, Redacted};
use crate::error::{Error, Result};
use crate::query::{ConnectionsQuery, DnsQuery};
use crate::ratelimit::SharedRateLimit;
use crate::retry::{Clock, Jitter, RandomJitter, RetryPolicy, SystemClock};
use crate::site::Site;

/// Per-attempt timeout unless configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Connect timeout unless configured.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A client for the Cloud Network Monitoring aggregate API of one Datadog site.
///
/// Cheap to clone (an `Arc` inside); clones share the connection pool and the rate-limit
/// state, so concurrent queries of one client wait together after a 429.
///
/// ```no_run
/// # async fn run() -> Result<(), datadog_cnm::Error> {
/// use std::time::Duration;
/// use datadog_cnm::{Client, Site, Window};
///
/// let client = Client::builder()
///     .site(Site::Eu1)
///     .api_key(std::env::var("DD_API_KEY").unwrap_or_default())
///     .app_key(std::env::var("DD_APP_KEY").unwrap_or_default())
///     .build()?;
/// let page = client
///     .connections()
///     .window(Window::last(Duration::from_secs(3600)))
///     .group_by(["client_service", "server_service"])
///     .send()
///     .await?;
/// for row in &page.rows {
///     println!("{:?} → {:?}: {:?} bytes", row.group("client_service"), row.group("server_service"), row.bytes_sent_by_client);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
}

/// What every request of one client (and its clones) shares.
pub(crate) struct Shared {
    pub(crate) site: Site,
    /// The API base without a trailing slash: generated paths start with `/api/`.
    pub(crate) base_url: String,
    pub(crate) http: reqwest::Client,
    pub(crate) credentials: Credentials,
    /// `credentials` as sensitive header values, built once.
    pub(crate) auth_headers: HeaderMap,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) proxy: Option<String>,
    pub(crate) rate_limit: SharedRateLimit,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) jitter: Arc<dyn Jitter>,
}

impl Client {
    /// Start configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment: `DD_SITE` (default `datadoghq.com`),
    /// `DD_API_KEY`, and `DD_APP_KEY` or `DD_APPLICATION_KEY`.
    pub fn from_env() -> Result<Self> {
        Self::builder().with_env()?.build()
    }

    /// A query of aggregated TCP connections (`GET /api/v2/network/connections/aggregate`).
    pub fn connections(&self) -> ConnectionsQuery {
        ConnectionsQuery::new(self.clone())
    }

    /// A query of aggregated DNS traffic (`GET /api/v2/network/dns/aggregate`).
    pub fn dns(&self) -> DnsQuery {
        DnsQuery::new(self.clone())
    }

    /// The site this client talks to.
    pub fn site(&self) -> &Site {
        &self.shared.site
    }

    /// The API base URL requests go to (without a trailing slash).
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The retry policy of every request.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.shared.retry
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &self.shared;
        f.debug_struct("Client")
            .field("site", &shared.site)
            .field("base_url", &shared.base_url)
            .field("credentials", &shared.credentials)
            .field("retry", &shared.retry)
            .field("timeout", &shared.timeout)
            .field("connect_timeout", &shared.connect_timeout)
            .field("proxy", &shared.proxy)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`]. Explicit settings win over the environment.
#[derive(Default)]
pub struct ClientBuilder {
    site: Option<Site>,
    base_url: Option<Url>,
    api_key: Option<SecretString>,
    app_key: Option<SecretString>,
    bearer_token: Option<SecretString>,
    retry: Option<RetryPolicy>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    proxy: Option<(reqwest::Proxy, String)>,
    no_proxy: bool,
    allow_insecure_http: bool,
    clock: Option<Arc<dyn Clock>>,
    jitter: Option<Arc<dyn Jitter>>,
}

impl ClientBuilder {
    /// The Datadog site (default [`Site::Us1`]).
    #[must_use]
    pub fn site(mut self, site: Site) -> Self {
        self.site = Some(site);
        self
    }

    /// Send requests to this URL instead of the site's API host: a proxy, a private
    /// endpoint, or a mock server. Overrides [`site`](Self::site) for routing; without a
    /// site, the client's site is `Site::Custom(url)`.
    ///
    /// Plain `http://` is accepted only for loopback hosts unless
    /// [`allow_insecure_http`](Self::allow_insecure_http) is set.
    pub fn base_url(mut self, url: impl AsRef<str>) -> Result<Self> {
        let text = url.as_ref().trim();
        let url = Url::parse(text)
            .map_err(|e| Error::config(format!("base URL `{text}` is not a valid URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(Error::config(format!(
                "base URL `{text}` must be http(s):// with a host"
            )));
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(Error::config(format!(
                "base URL `{}` must not carry a query, fragment or user info",
                redact_url(&url)
            )));
        }
        self.base_url = Some(url);
        Ok(self)
    }

    /// The Datadog API key (`DD-API-KEY`).
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// The Datadog application key (`DD-APPLICATION-KEY`).
    #[must_use]
    pub fn app_key(mut self, key: impl Into<String>) -> Self {
        self.app_key = Some(SecretString::from(key.into()));
        self
    }

    /// Authenticate with an OAuth access token (`Authorization: Bearer …`) instead of keys.
    #[must_use]
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(SecretString::from(token.into()));
        self
    }

    /// The retry policy (default: [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The timeout of each attempt, body included (default 30 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The TCP/TLS connect timeout (default 5 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Send every request through this proxy (`http://`, `https://` or `socks5://` URL,
    /// credentials allowed). Without it, `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` apply.
    pub fn proxy(mut self, url: &str) -> Result<Self> {
        let parsed = Url::parse(url.trim())
            .map_err(|e| Error::config(format!("proxy URL is not valid: {e}")))?;
        let proxy = reqwest::Proxy::all(parsed.as_str()).map_err(|e| {
            Error::config(format!(
                "proxy URL `{}` is not usable: {e}",
                redact_url(&parsed)
            ))
        })?;
        self.proxy = Some((proxy, redact_url(&parsed)));
        Ok(self)
    }

    /// Ignore proxy environment variables.
    #[must_use]
    pub fn no_proxy(mut self) -> Self {
        self.no_proxy = true;
        self
    }

    /// Allow a plain `http://` base URL to a non-loopback host. Keys then travel in clear
    /// text; only for trusted networks.
    #[must_use]
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The clock retries use to wait (default: the real one). A test seam.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The jitter source of retry backoff (default: random). A test seam.
    #[must_use]
    pub fn jitter(mut self, jitter: Arc<dyn Jitter>) -> Self {
        self.jitter = Some(jitter);
        self
    }

    /// Fill what is not set yet from the process environment: `DD_SITE`, `DD_API_KEY`,
    /// `DD_APP_KEY` or `DD_APPLICATION_KEY`.
    pub fn with_env(self) -> Result<Self> {
        self.with_env_lookup(|name| std::env::var(name).ok())
    }

    /// [`with_env`](Self::with_env) with a custom lookup (tests, config files).
    pub fn with_env_lookup(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        if let (None, Some(site)) = (&self.site, get("DD_SITE")) {
            let site = site
                .parse::<Site>()
                .map_err(|e| Error::config(format!("DD_SITE: {}", strip_prefix(&e))))?;
            self.site = Some(site);
        }
        if self.bearer_token.is_none() {
            if self.api_key.is_none() {
                self.api_key = get("DD_API_KEY").map(SecretString::from);
            }
            if self.app_key.is_none() {
                self.app_key = get("DD_APP_KEY")
                    .or_else(|| get("DD_APPLICATION_KEY"))
                    .map(SecretString::from);
            }
        }
        Ok(self)
    }

    /// Validate everything and build the client.
    pub fn build(self) -> Result<Client> {
        // A base URL without a site names its own (custom) site, so results stay labelled
        // by where they came from.
        let (site, base) = match (self.site, self.base_url) {
            (Some(site), Some(base)) => (site, base),
            (Some(site), None) => {
                let base = site.api_base();
                (site, base)
            }
            (None, Some(base)) => (Site::Custom(base.clone()), base),
            (None, None) => (Site::default(), Site::default().api_base()),
        };
        check_scheme(&base, self.allow_insecure_http)?;
        let base_url = base.as_str().trim_end_matches('/').to_owned();
        let credentials = match (self.bearer_token, self.api_key, self.app_key) {
            (Some(token), _, _) => Credentials::Bearer(token),
            (None, Some(api_key), Some(app_key)) => Credentials::Keys { api_key, app_key },
            (None, None, _) => {
                return Err(Error::config(
                    "no API key: set DD_API_KEY (with DD_APP_KEY), or call api_key()/app_key() or bearer_token()",
                ));
            }
            (None, Some(_), None) => {
                return Err(Error::config(
                    "no application key: set DD_APP_KEY (or DD_APPLICATION_KEY), or call app_key()",
                ));
            }
        };
        let auth_headers = credentials.headers()?;
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let connect_timeout = self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let mut http = reqwest::Client::builder()
            .tls_backend_rustls()
            // The API never redirects; following one could hand the keys to another host.
            .redirect(reqwest::redirect::Policy::none())
            .gzip(true)
            .timeout(timeout)
            .connect_timeout(connect_timeout)
            .user_agent(user_agent());
        let proxy = match self.proxy {
            Some((proxy, shown)) => {
                http = http.proxy(proxy);
                Some(shown)
            }
            None => None,
        };
        if self.no_proxy {
            http = http.no_proxy();
        }
        let http = http
            .build()
            .map_err(|e| Error::config(format!("could not set up the HTTP client: {e}")))?;
        Ok(Client {
            shared: Arc::new(Shared {
                site,
                base_url,
                http,
                credentials,
                auth_headers,
                retry: self.retry.unwrap_or_default(),
                timeout,
                connect_timeout,
                proxy,
                rate_limit: SharedRateLimit::default(),
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                jitter: self
                    .jitter
                    .unwrap_or_else(|| Arc::new(RandomJitter::default())),
            }),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = |set: bool| if set { Some(Redacted) } else { None };
        f.debug_struct("ClientBuilder")
            .field("site", &self.site)
            .field("base_url", &self.base_url.as_ref().map(Url::as_str))
            .field("api_key", &secret(self.api_key.is_some()))
            .field("app_key", &secret(self.app_key.is_some()))
            .field("bearer_token", &secret(self.bearer_token.is_some()))
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("proxy", &self.proxy.as_ref().map(|(_, shown)| shown))
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish_non_exhaustive()
    }
}

/// `datadog-cnm/<version> (rust; <os>; <arch>)`.
pub fn user_agent() -> String {
    format!(
        "datadog-cnm/{} (rust; {}; {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Refuse plain HTTP except to this machine, so keys never cross a network in clear text
/// by accident.
fn check_scheme(url: &Url, allow_insecure_http: bool) -> Result<()> {
    if url.scheme() == "https" || allow_insecure_http || is_loopback(url) {
        return Ok(());
    }
    Err(Error::config(format!(
        "refusing plain http:// to `{}`: API keys would travel unencrypted; use https:// or a \
         loopback address (or allow insecure HTTP explicitly)",
        url.host_str().unwrap_or_default()
    )))
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// `url` with any user name or password replaced by `***`.
fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    if !shown.username().is_empty() {
        let _ = shown.set_username("***");
    }
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

fn strip_prefix(error: &Error) -> String {
    match error {
        Error::Config { message } => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_detection() {
        for (url, expected) in [
            ("http://127.0.0.1:1/", true),
            ("http://127.8.9.10/", true),
            ("http://[::1]:8080/", true),
            ("http://LOCALHOST:99", true),
            ("http://10.0.0.1/", false),
            ("http://example.com/", false),
            ("http://localhost.example.com/", false),
        ] {
            let parsed = Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(is_loopback(&parsed), expected, "{url}");
        }
    }

    #[test]
    fn proxy_credentials_are_redacted() {
        let url = Url::parse("http://user:hunter2@proxy.internal:3128").unwrap();
        assert_eq!(redact_url(&url), "http://***:***@proxy.internal:3128/");
    }
}
