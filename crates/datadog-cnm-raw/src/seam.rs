//! The one place where the generated client touches the network.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};

use crate::{Client, Error};

/// The future a [`Transport`] returns.
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = reqwest::Result<reqwest::Response>> + Send + 'a>>;

/// Puts a fully built request on the wire and returns the final response.
///
/// The generated client builds each request (URL, query string, `Accept` header) and hands
/// it to the transport of its [`Seam`]. A transport sees the status and headers of every
/// attempt before the generated code decodes anything, so it can retry, wait for a
/// rate-limit reset, add credentials, or record what happened — also when a proxy answers
/// with an HTML page that the generated decoder would reject without telling the status.
pub trait Transport: Send + Sync + fmt::Debug {
    /// Execute `request` for the operation `operation` (see [`crate::operation`]).
    fn execute(&self, request: reqwest::Request, operation: &'static str) -> TransportFuture<'_>;
}

/// The generated client's inner value: how its requests reach the network.
///
/// [`Seam::direct`] sends each request once with the client's own `reqwest::Client`;
/// [`Seam::new`] routes every request through a [`Transport`].
#[derive(Clone, Default)]
pub struct Seam {
    transport: Option<Arc<dyn Transport>>,
}

impl Seam {
    /// Send requests directly with the generated client's `reqwest::Client`.
    pub fn direct() -> Self {
        Self { transport: None }
    }

    /// Send every request through `transport`.
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Self {
            transport: Some(transport),
        }
    }

    /// The installed transport, if any.
    pub fn transport(&self) -> Option<&Arc<dyn Transport>> {
        self.transport.as_ref()
    }
}

impl fmt::Debug for Seam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.transport {
            None => f.write_str("Seam::direct"),
            Some(transport) => f.debug_tuple("Seam").field(transport).finish(),
        }
    }
}

/// Name of the header progenitor adds to every request; the Datadog API does not use it.
const API_VERSION_HEADER: &str = "api-version";

impl ClientHooks<Seam> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        request.headers_mut().remove(API_VERSION_HEADER);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        match &self.inner().transport {
            Some(transport) => transport.execute(request, info.operation_id).await,
            None => self.client().execute(request).await,
        }
    }
}
