//! The client, its builder, and configuration from the environment.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use datadog_cnm_raw::Seam;
use secrecy::SecretString;
use url::Url;

use crate::clock::{Clock, Jitter, RandomJitter, TokioClock};
use crate::credentials::{Credentials, Redacted};
use crate::error::{Error, Result};
use crate::request::{Executor, RateLimitWait, WaitHook};
use crate::retry::RetryPolicy;
use crate::site::Site;

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
    inner: Arc<Inner>,
}

/// What every request of one client (and its clones) shares.
struct Inner {
    site: Site,
    /// The API base without a trailing slash: generated paths start with `/api/`.
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    /// The proxy, for `Debug`, with any credentials in it redacted.
    proxy: Option<String>,
    executor: Executor,
}

impl Client {
    /// Start configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment: `DD_SITE` (default `datadoghq.com`),
    /// `DD_API_KEY`, and `DD_APP_KEY` or `DD_APPLICATION_KEY`.
    pub fn from_env() -> Result<Self> {
        Self::builder().with_env().build()
    }

    /// The site this client talks to.
    pub fn site(&self) -> &Site {
        &self.inner.site
    }

    /// The API base URL requests go to (without a trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The retry policy of every request.
    pub fn retry_policy(&self) -> &RetryPolicy {
        self.inner.executor.retry()
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// What runs this client's requests.
    pub(crate) fn executor(&self) -> &Executor {
        &self.inner.executor
    }

    /// Now, by the client's clock: the end of default query windows.
    pub(crate) fn wall_time(&self) -> SystemTime {
        self.inner.executor.clock().wall()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("site", &inner.site)
            .field("base_url", &inner.base_url)
            .field("credentials", inner.executor.credentials())
            .field("retry", self.retry_policy())
            .field("timeout", &inner.timeout)
            .field("connect_timeout", &inner.connect_timeout)
            .field("proxy", &inner.proxy)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`]. Explicit settings win over the environment.
///
/// Every setter returns the builder; anything invalid (a malformed base URL or proxy, an
/// unknown `DD_SITE`, missing keys) is reported by [`build`](Self::build), so a whole
/// configuration reads as one chain.
#[derive(Default)]
pub struct ClientBuilder {
    site: Option<Site>,
    base_url: Option<String>,
    api_key: Option<SecretString>,
    app_key: Option<SecretString>,
    bearer_token: Option<SecretString>,
    retry: Option<RetryPolicy>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    proxy: Option<String>,
    no_proxy: bool,
    allow_insecure_http: bool,
    body_limit: Option<u64>,
    clock: Option<Arc<dyn Clock>>,
    jitter: Option<Arc<dyn Jitter>>,
    on_rate_limit_wait: Option<WaitHook>,
    /// The first error a setter met, reported by `build`.
    error: Option<Error>,
}

impl ClientBuilder {
    /// The per-attempt timeout unless [`timeout`](Self::timeout) says otherwise.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// The connect timeout unless [`connect_timeout`](Self::connect_timeout) says otherwise.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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
    /// It must be `http(s)://` with a host and no query, fragment or user info. Plain
    /// `http://` is accepted only for loopback hosts unless
    /// [`allow_insecure_http`](Self::allow_insecure_http) is set. [`build`](Self::build)
    /// reports a URL that breaks these rules.
    #[must_use]
    pub fn base_url(mut self, url: impl AsRef<str>) -> Self {
        self.base_url = Some(url.as_ref().trim().to_owned());
        self
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
    /// [`build`](Self::build) reports a URL that is not usable.
    #[must_use]
    pub fn proxy(mut self, url: impl AsRef<str>) -> Self {
        self.proxy = Some(url.as_ref().trim().to_owned());
        self
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

    /// Refuse response bodies longer than `bytes` (default 64 MiB, about ten times the
    /// largest real page) with [`Error::BodyTooLarge`], without reading them whole.
    #[must_use]
    pub fn body_limit(mut self, bytes: u64) -> Self {
        self.body_limit = Some(bytes);
        self
    }

    /// Call `hook` whenever a request of this client starts waiting for the rate limit
    /// (how long, and the limit as last reported): to tell a user why nothing happens.
    /// Every waiting request reports its own wait; keep the hook cheap.
    ///
    /// ```no_run
    /// # fn build() -> Result<datadog_cnm::Client, datadog_cnm::Error> {
    /// use std::time::Duration;
    /// use datadog_cnm::Client;
    ///
    /// let client = Client::builder()
    ///     .on_rate_limit_wait(|wait| {
    ///         if wait.wait > Duration::from_secs(2) {
    ///             eprintln!("waiting {:.0?} for the rate limit", wait.wait);
    ///         }
    ///     })
    ///     .with_env()
    ///     .build()?;
    /// # Ok(client)
    /// # }
    /// ```
    #[must_use]
    pub fn on_rate_limit_wait(
        mut self,
        hook: impl Fn(&RateLimitWait) + Send + Sync + 'static,
    ) -> Self {
        self.on_rate_limit_wait = Some(Arc::new(hook));
        self
    }

    /// The clock of waits, retries and default windows (default: Tokio's, which follows
    /// a paused test runtime).
    #[cfg(feature = "test-util")]
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The jitter source of retry delays (default: random).
    #[cfg(feature = "test-util")]
    #[must_use]
    pub fn jitter(mut self, jitter: Arc<dyn Jitter>) -> Self {
        self.jitter = Some(jitter);
        self
    }

    /// Fill what is not set yet from the process environment: `DD_SITE`, `DD_API_KEY`,
    /// `DD_APP_KEY` or `DD_APPLICATION_KEY`.
    #[must_use]
    pub fn with_env(self) -> Self {
        self.with_env_lookup(|name| std::env::var(name).ok())
    }

    /// [`with_env`](Self::with_env) with a custom lookup (tests, config files).
    #[must_use]
    pub fn with_env_lookup(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        if let (None, Some(site)) = (&self.site, get("DD_SITE")) {
            match site.parse::<Site>() {
                Ok(site) => self.site = Some(site),
                Err(error) => {
                    self.fail(Error::config(format!("DD_SITE: {}", strip_prefix(&error))))
                }
            }
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
        self
    }

    /// Keep the first error for `build`.
    fn fail(&mut self, error: Error) {
        self.error.get_or_insert(error);
    }

    /// Validate everything and build the client.
    pub fn build(self) -> Result<Client> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let base_url = self.base_url.as_deref().map(parse_base_url).transpose()?;
        // A base URL without a site names its own (custom) site, so results stay labelled
        // by where they came from.
        let (site, base) = match (self.site, base_url) {
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
        let timeout = self.timeout.unwrap_or(Self::DEFAULT_TIMEOUT);
        let connect_timeout = self
            .connect_timeout
            .unwrap_or(Self::DEFAULT_CONNECT_TIMEOUT);
        let mut http = reqwest::Client::builder()
            .tls_backend_rustls()
            // Credentials ride on every request as sensitive default headers.
            .default_headers(credentials.headers()?)
            // The API never redirects; following one could hand the keys to another host.
            .redirect(reqwest::redirect::Policy::none())
            .gzip(true)
            .timeout(timeout)
            .connect_timeout(connect_timeout)
            .user_agent(user_agent());
        let proxy = match &self.proxy {
            Some(url) => {
                let (proxy, shown) = parse_proxy(url)?;
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
        let seam = Seam::new().with_body_limit(self.body_limit.unwrap_or(Seam::DEFAULT_BODY_LIMIT));
        let raw = datadog_cnm_raw::Client::new_with_client(&base_url, http, seam);
        let executor = Executor::new(
            raw,
            self.retry.unwrap_or_default(),
            self.clock.unwrap_or_else(|| Arc::new(TokioClock)),
            self.jitter
                .unwrap_or_else(|| Arc::new(RandomJitter::default())),
            timeout,
            self.on_rate_limit_wait,
            credentials,
        );
        Ok(Client {
            inner: Arc::new(Inner {
                site,
                base_url,
                timeout,
                connect_timeout,
                proxy,
                executor,
            }),
        })
    }
}

/// A base URL: http(s) with a host, no query, fragment or user info.
fn parse_base_url(text: &str) -> Result<Url> {
    let url = Url::parse(text).map_err(|e| {
        Error::config(format!(
            "base URL `{}` is not a valid URL: {e}",
            redact_text(text)
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(Error::config(format!(
            "base URL `{}` must be http(s):// with a host",
            redact_url(&url)
        )));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(Error::config(format!(
            "base URL `{}` must not carry a query, fragment or user info",
            redact_url(&url)
        )));
    }
    Ok(url)
}

/// A proxy, and how to show it with its credentials redacted.
fn parse_proxy(text: &str) -> Result<(reqwest::Proxy, String)> {
    let parsed =
        Url::parse(text).map_err(|e| Error::config(format!("proxy URL is not valid: {e}")))?;
    let proxy = reqwest::Proxy::all(parsed.as_str()).map_err(|e| {
        Error::config(format!(
            "proxy URL `{}` is not usable: {e}",
            redact_url(&parsed)
        ))
    })?;
    Ok((proxy, redact_url(&parsed)))
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = |set: bool| if set { Some(Redacted) } else { None };
        f.debug_struct("ClientBuilder")
            .field("site", &self.site)
            .field("base_url", &self.base_url.as_deref().map(redact_text))
            .field("api_key", &secret(self.api_key.is_some()))
            .field("app_key", &secret(self.app_key.is_some()))
            .field("bearer_token", &secret(self.bearer_token.is_some()))
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("proxy", &self.proxy.as_deref().map(redact_text))
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

/// `datadog-cnm/<version> (rust; <os>; <arch>)`.
fn user_agent() -> String {
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
         loopback address (or `ClientBuilder::allow_insecure_http(true)` on a trusted network)",
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

/// `text` with any user info and query of a URL in it replaced by `***` (the whole text
/// when it is not a URL: it may be a key pasted by mistake).
fn redact_text(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => redact_url(&url),
        Err(_) => "***".to_owned(),
    }
}

/// `url` with any user name, password or query replaced by `***`.
fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    if !shown.username().is_empty() {
        let _ = shown.set_username("***");
    }
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    if shown.query().is_some() {
        shown.set_query(Some("***"));
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
