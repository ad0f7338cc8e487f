//! Fault injection: a FIFO queue of misbehaviours applied to the next requests.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// A misbehaviour for the next `times` requests, queued with
/// [`MockServerBuilder::fault`](crate::MockServerBuilder::fault) or
/// [`MockServer::inject`](crate::MockServer::inject).
///
/// Faults are applied in FIFO order, one unit per request: `[Status { 503, times: 2 },
/// ConnectionReset { times: 1 }]` answers the next two requests with 503 and drops the third
/// connection. A fault takes precedence over routing, authentication, rate limiting and
/// validation (a faulted request is not charged to the rate limit), and the configured
/// [`latency`](crate::MockServerBuilder::latency) still applies before it. A fault with
/// `times: 0` is ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Respond with `status` and a JSON:API error body
    /// (`{"errors":[{"status":"503","title":"Service Unavailable","detail":"…"}]}`), with the
    /// usual `X-RateLimit-*` headers. For a 429 they say the limit is exhausted
    /// (`X-RateLimit-Remaining: 0`) and resets in one second (`X-RateLimit-Reset: 1`), so a
    /// client that honours them retries quickly; no `Retry-After` is sent (see
    /// [`Fault::RetryAfter`]). A `status` outside `100..=999` is sent as 500.
    Status {
        /// The HTTP status code.
        status: u16,
        /// How many requests get it.
        times: u32,
    },
    /// Respond 200 with `Content-Type: application/vnd.api+json` and a body that is not JSON.
    MalformedBody {
        /// How many requests get it.
        times: u32,
    },
    /// Respond 200 with a `Content-Length` of the full body, send only half of it, then close
    /// the connection: the headers arrive, reading the body fails.
    TruncatedBody {
        /// How many requests get it.
        times: u32,
    },
    /// Read the request, then drop the connection with a TCP RST (`SO_LINGER` 0) before
    /// sending anything.
    ConnectionReset {
        /// How many requests get it.
        times: u32,
    },
    /// Respond with `status` and an HTML error page, as a proxy or load balancer in front of
    /// the API would: `Content-Type: text/html` and no `X-RateLimit-*` headers.
    Html {
        /// The HTTP status code (502 is typical).
        status: u16,
        /// How many requests get it.
        times: u32,
    },
    /// Respond with `status`, a JSON:API error body and `Retry-After: seconds`, without any
    /// `X-RateLimit-*` headers (a gateway's 429/503), so clients must fall back on
    /// `Retry-After`.
    RetryAfter {
        /// The HTTP status code (429 or 503 are typical).
        status: u16,
        /// The `Retry-After` value, in seconds.
        seconds: u32,
        /// How many requests get it.
        times: u32,
    },
    /// Wait `delay` (on top of any configured latency), then handle the request normally:
    /// for client timeout tests.
    Delay {
        /// The extra wait.
        delay: Duration,
        /// How many requests get it.
        times: u32,
    },
}

impl Fault {
    fn times_mut(&mut self) -> &mut u32 {
        match self {
            Self::Status { times, .. }
            | Self::MalformedBody { times }
            | Self::TruncatedBody { times }
            | Self::ConnectionReset { times }
            | Self::Html { times, .. }
            | Self::RetryAfter { times, .. }
            | Self::Delay { times, .. } => times,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct FaultQueue(Mutex<VecDeque<Fault>>);

impl FaultQueue {
    pub(crate) fn push(&self, mut fault: Fault) {
        if *fault.times_mut() > 0 {
            self.0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push_back(fault);
        }
    }

    /// Takes one unit of the fault at the head of the queue.
    pub(crate) fn pop(&self) -> Option<Fault> {
        let mut queue = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let head = queue.front_mut()?;
        let times = head.times_mut();
        *times -= 1;
        let exhausted = *times == 0;
        let mut unit = head.clone();
        *unit.times_mut() = 1;
        if exhausted {
            queue.pop_front();
        }
        Some(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::{Fault, FaultQueue};

    #[test]
    fn units_are_taken_in_fifo_order() {
        let queue = FaultQueue::default();
        queue.push(Fault::Status {
            status: 503,
            times: 2,
        });
        queue.push(Fault::MalformedBody { times: 0 });
        queue.push(Fault::ConnectionReset { times: 1 });
        let unit = Fault::Status {
            status: 503,
            times: 1,
        };
        assert_eq!(queue.pop(), Some(unit.clone()));
        assert_eq!(queue.pop(), Some(unit));
        assert_eq!(queue.pop(), Some(Fault::ConnectionReset { times: 1 }));
        assert_eq!(queue.pop(), None);
    }
}
