//! Admission control: when each request of a client may go out, so that a series paces
//! itself under the API's rate limit instead of stampeding it.
//!
//! One [`Admissions`] per client, shared by all its requests (and clones). It keeps a gate
//! per rate limit, by the name the server gives it (`X-RateLimit-Name`), and learns from
//! every answer's `X-RateLimit-Limit`, `-Period`, `-Remaining` and `-Reset`:
//!
//! - **Before anything is known** about the limit an operation falls under, its first
//!   request goes alone; the others wait for what its answer teaches.
//! - **Never more than what remains**: requests in flight count against the `remaining`
//!   the server last reported, until the period's reset; and never more than the limit
//!   within any one period (a sliding window over the last admissions), so a request that
//!   spills over a period end does not push the next period over the limit.
//! - **Spread, not all at once**: admissions are at most `period / limit` apart (the
//!   limit's fair share), closer only when more remains of the period than that share
//!   needs (`(reset − now) / available`). After a reset, which no answer has reported on
//!   yet, the period starts with the whole limit.
//! - **Period ends learnt, not guessed**: `X-RateLimit-Reset` counts whole seconds, rounded
//!   up; since periods repeat, every answer narrows down where they end, and the gate
//!   waits for the latest the end can be rather than up to a second more.
//! - **A 429's wait exactly**: after a 429 the gate is closed until the wait asked for.
//! - **In the order asked**: requests are admitted in the order they reached the gate, so
//!   a series stays ordered; a request given up on (its future dropped) leaves its place.
//!
//! Answers without rate-limit headers teach that there is nothing to pace by.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use datadog_cnm_raw::Operation;
use futures::future::select;
use tokio::sync::Notify;

use crate::ratelimit::RateLimit;

/// The gates of one client.
#[derive(Debug, Default)]
pub(crate) struct Admissions {
    state: Mutex<State>,
    /// Woken whenever a gate changes: an answer, an admission, a request leaving a queue.
    changed: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// The number the next request joining a queue gets.
    next_number: u64,
    /// The rate limit each operation falls under, once an answer said (`""`: unnamed).
    limit_of: HashMap<Operation, String>,
    /// Gates by key: a rate limit's name, or `?<operation>` while that is not known.
    gates: HashMap<String, Gate>,
}

/// What is known about one rate limit, and who waits for it.
#[derive(Debug, Default)]
struct Gate {
    /// The requests waiting to be admitted, by number, in arrival order.
    queue: BTreeSet<u64>,
    /// Requests admitted and not yet answered.
    in_flight: u64,
    /// Whether an answer taught anything about this limit (its headers, or that it has
    /// none).
    learnt: bool,
    /// The last rate-limit state reported (with `limit`, `period` and `name` kept from
    /// earlier answers when a later one leaves them out).
    reported: Option<RateLimit>,
    /// Requests the server said remain in the current period.
    remaining: Option<u64>,
    /// When the current period ends, at the latest (see [`Gate::learn_reset`]).
    reset_at: Option<Instant>,
    /// Where the current period's end lies, `(after, at the latest)`: narrowed by every
    /// answer, since `X-RateLimit-Reset` counts whole seconds, rounded up.
    period_end: Option<(Instant, Instant)>,
    /// No admission before this: the pace, or a 429's wait.
    not_before: Option<Instant>,
    /// When the last `limit` requests were admitted, oldest first: never more than the
    /// limit within any one period, whatever is known of where periods end.
    recent: VecDeque<Instant>,
    /// When the request of the freshest answer taken into account was admitted: an answer
    /// to a request admitted before it is older news.
    freshest: Option<Instant>,
}

/// What the head of a gate's queue must do.
enum Decision {
    Admit,
    WaitUntil(Instant),
    /// Wait for something to change: an answer, or the requests ahead to go.
    WaitForNews,
}

/// A wait for the rate limit, as told to [`Admissions::admit`]'s caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Wait {
    /// Until when.
    pub(crate) until: Instant,
    /// The rate limit, as last reported.
    pub(crate) rate_limit: Option<RateLimit>,
}

/// Added to a period when counting admissions within one: requests admitted a period
/// apart reach the server a little more or less than a period apart.
const PERIOD_MARGIN: Duration = Duration::from_millis(20);

/// A sleep of the client's clock.
pub(crate) type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

impl Admissions {
    /// Wait until a request of `operation` may go out. `Err` (with how much longer it
    /// would wait) as soon as the rate limit would hold it past `deadline`. `on_wait`
    /// hears of every wait for time.
    pub(crate) async fn admit(
        &self,
        operation: Operation,
        now: impl Fn() -> Instant,
        sleep: impl Fn(Duration) -> Sleep,
        deadline: Instant,
        mut on_wait: impl FnMut(&Wait),
    ) -> Result<Ticket<'_>, Duration> {
        let mut place = {
            let mut state = self.lock();
            let key = state.key(operation);
            let number = state.next_number;
            state.next_number += 1;
            state
                .gates
                .entry(key.clone())
                .or_default()
                .queue
                .insert(number);
            Place {
                admissions: self,
                key,
                number,
            }
        };
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            // Registered before the state is read, so no change in between is missed.
            notified.as_mut().enable();
            let at = now();
            let (decision, rate_limit) = {
                let mut state = self.lock();
                let key = state.key(operation);
                if key != place.key {
                    // The limit became known while this request waited: join its gate.
                    state.move_to(&place.key, &key, place.number);
                    place.key = key;
                }
                let gate = state.gates.entry(place.key.clone()).or_default();
                match gate.decide(place.number, at) {
                    Decision::Admit => {
                        gate.admit(place.number, at);
                        let key = std::mem::take(&mut place.key);
                        std::mem::forget(place);
                        drop(state);
                        // The next in line may be admitted too, at its own pace.
                        self.changed.notify_waiters();
                        return Ok(Ticket {
                            admissions: self,
                            key,
                            operation,
                            admitted: at,
                        });
                    }
                    decision => (decision, gate.reported.clone()),
                }
            };
            match decision {
                Decision::WaitUntil(until) => {
                    if until > deadline {
                        return Err(until.saturating_duration_since(at));
                    }
                    on_wait(&Wait { until, rate_limit });
                    select(notified, sleep(until.saturating_duration_since(at))).await;
                }
                // An answer, or the requests ahead leaving, will change the state; a
                // request in flight ends within its own timeout.
                Decision::WaitForNews | Decision::Admit => notified.await,
            }
        }
    }

    /// The last rate-limit state reported for the limit `operation` falls under.
    pub(crate) fn last_known(&self, operation: Operation) -> Option<RateLimit> {
        let state = self.lock();
        let key = state.key(operation);
        state.gates.get(&key).and_then(|gate| gate.reported.clone())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the counters inconsistent in a way
        // that matters more than losing rate-limit politeness, so recover the guard.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// The gate of `operation`'s requests.
    fn key(&self, operation: Operation) -> String {
        match self.limit_of.get(&operation) {
            Some(name) => name.clone(),
            None => format!("?{operation}"),
        }
    }

    fn move_to(&mut self, from: &str, to: &str, number: u64) {
        if let Some(gate) = self.gates.get_mut(from) {
            gate.queue.remove(&number);
        }
        self.gates
            .entry(to.to_owned())
            .or_default()
            .queue
            .insert(number);
    }
}

impl Gate {
    fn decide(&mut self, number: u64, now: Instant) -> Decision {
        if self.queue.first() != Some(&number) {
            return Decision::WaitForNews;
        }
        if !self.learnt {
            // Nothing known yet: one request at a time until an answer teaches something.
            return if self.in_flight == 0 {
                Decision::Admit
            } else {
                Decision::WaitForNews
            };
        }
        if let Some(until) = self.not_before.filter(|until| now < *until) {
            return Decision::WaitUntil(until);
        }
        if let Some(until) = self.window_full_until().filter(|until| now < *until) {
            return Decision::WaitUntil(until);
        }
        if let (Some(reset_at), Some(reported)) = (self.reset_at, &self.reported)
            && now >= reset_at
        {
            // A new period no answer has reported on yet: it starts with the whole limit,
            // and ends a period later.
            self.remaining = reported.limit;
            self.reset_at = reported.period.map(|period| reset_at + period);
            self.period_end = match (self.period_end, reported.period) {
                (Some((after, latest)), Some(period)) => Some((after + period, latest + period)),
                _ => None,
            };
        }
        match (self.remaining, self.reset_at) {
            (Some(remaining), Some(reset_at)) if remaining <= self.in_flight => {
                Decision::WaitUntil(reset_at)
            }
            _ => Decision::Admit,
        }
    }

    /// When the last period's worth of admissions (`limit` of them) leaves the sliding
    /// window of one period; `None` when fewer were admitted, or the limit is not known.
    fn window_full_until(&self) -> Option<Instant> {
        let reported = self.reported.as_ref()?;
        let limit = usize::try_from(reported.limit?).ok()?.max(1);
        let period = reported.period?;
        (self.recent.len() >= limit)
            .then(|| self.recent.get(self.recent.len() - limit))
            .flatten()
            .map(|oldest| *oldest + period + PERIOD_MARGIN)
    }

    /// Admit request `number` at `now`, and set the pace for the next one.
    fn admit(&mut self, number: u64, now: Instant) {
        self.queue.remove(&number);
        if let Some(limit) = self.reported.as_ref().and_then(|r| r.limit) {
            self.recent.push_back(now);
            while self.recent.len() as u64 > limit.max(1) {
                self.recent.pop_front();
            }
        }
        // The limit's fair share: `period / limit` apart.
        let fair = self.reported.as_ref().and_then(|reported| {
            let per_period = u32::try_from(reported.limit?).ok()?.max(1);
            Some(reported.period? / per_period)
        });
        // What remains of the period, shared by what remains of the limit (this request
        // included); never slower than the fair share, since the period's end is only
        // known to within the answers' whole seconds.
        let spread = match (self.remaining, self.reset_at) {
            (Some(remaining), Some(reset_at)) => {
                let available = remaining.saturating_sub(self.in_flight).max(1);
                reset_at
                    .saturating_duration_since(now)
                    .checked_div(u32::try_from(available).unwrap_or(u32::MAX))
            }
            _ => None,
        };
        let pace = match (fair, spread) {
            (Some(fair), Some(spread)) => Some(fair.min(spread)),
            (fair, spread) => fair.or(spread),
        };
        // A little slack: requests admitted exactly a share apart can arrive closer.
        let pace = pace.map(|pace| pace + pace / 100);
        self.in_flight += 1;
        if let Some(pace) = pace.filter(|pace| !pace.is_zero()) {
            self.not_before = Some(now + pace);
        }
    }

    /// Learn from the answer to a request admitted at `admitted` (`status` `None`: none
    /// arrived), and hold the gate for `wait` (a 429's).
    fn record(
        &mut self,
        now: Instant,
        admitted: Instant,
        rate_limit: Option<&RateLimit>,
        status: Option<u16>,
        wait: Option<Duration>,
    ) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.learnt |= status.is_some();
        if let Some(rate_limit) = rate_limit {
            if let (Some(remaining), Some(reset)) = (rate_limit.remaining, rate_limit.reset) {
                let stale = self.freshest.is_some_and(|freshest| admitted < freshest);
                if stale {
                    // Older news: it can only say that less remains (answers overtake
                    // each other), never where the period ends.
                    if self.remaining.is_some_and(|known| remaining < known) {
                        self.remaining = Some(remaining);
                    }
                } else {
                    self.freshest = Some(admitted);
                    // More remaining than the last answer said: the server's period
                    // rolled over in between, whatever the whole-second resets suggested.
                    let new_period = self.remaining.is_some_and(|known| remaining > known);
                    self.learn_reset(now, reset, rate_limit.period, new_period);
                    self.remaining = Some(match self.remaining {
                        Some(known) if !new_period => known.min(remaining),
                        _ => remaining,
                    });
                }
            }
            let mut reported = rate_limit.clone();
            if let Some(known) = &self.reported {
                reported.limit = reported.limit.or(known.limit);
                reported.period = reported.period.or(known.period);
                reported.name = reported.name.or_else(|| known.name.clone());
            }
            self.reported = Some(reported);
        }
        if let Some(wait) = wait {
            let until = now + wait;
            if self.not_before.is_none_or(|current| current < until) {
                self.not_before = Some(until);
            }
        }
    }

    /// Learn where the current period ends from an answer at `now` saying it resets in
    /// `reset` (whole seconds, rounded up: the end is in `(now + reset − 1 s, now +
    /// reset]`), in a period after the one known when `new_period`. Periods repeat every
    /// `period`, so every answer narrows down where they end, and the gate waits for the
    /// latest the end can be rather than a second more than it may be.
    fn learn_reset(
        &mut self,
        now: Instant,
        reset: Duration,
        period: Option<Duration>,
        new_period: bool,
    ) {
        let latest = now + reset;
        let after = latest
            .checked_sub(Duration::from_secs(1))
            .unwrap_or(now)
            .max(now);
        let end = match self.period_end {
            None => (after, latest),
            Some((mut known_after, mut known_latest)) => {
                // The known end, or the one a whole number of periods later, that this
                // answer speaks of: at least one period later after a rollover.
                if let Some(period) = period.filter(|p| !p.is_zero()) {
                    if new_period {
                        known_after += period;
                        known_latest += period;
                    }
                    let mut periods = 0;
                    while known_latest <= after && periods < 10_000 {
                        known_after += period;
                        known_latest += period;
                        periods += 1;
                    }
                }
                let narrowed = (after.max(known_after), latest.min(known_latest));
                if narrowed.0 < narrowed.1 {
                    narrowed
                } else {
                    // Not the same schedule after all (periods that do not repeat, a
                    // clock that jumped): trust this answer alone.
                    (after, latest)
                }
            }
        };
        self.period_end = Some(end);
        self.reset_at = Some(end.1);
    }

    /// Take over the requests and knowledge of `other` (a gate by operation whose limit
    /// turned out to have a name).
    fn absorb(&mut self, mut other: Gate) {
        self.queue.append(&mut other.queue);
        self.in_flight += other.in_flight;
        self.learnt |= other.learnt;
        if self.reported.is_none() {
            self.reported = other.reported;
            self.remaining = other.remaining;
            self.reset_at = other.reset_at;
            self.period_end = other.period_end;
            self.freshest = other.freshest;
        }
        self.not_before = self.not_before.max(other.not_before);
    }
}

/// A request's place in a gate's queue while it waits; dropping it (the request was
/// given up on) lets the next one go.
struct Place<'a> {
    admissions: &'a Admissions,
    key: String,
    number: u64,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        let mut state = self.admissions.lock();
        if let Some(gate) = state.gates.get_mut(&self.key) {
            gate.queue.remove(&self.number);
        }
        drop(state);
        self.admissions.changed.notify_waiters();
    }
}

/// An admitted request's place among those in flight. Recording its answer gives it back
/// and teaches the gate; so does dropping the ticket (a request cancelled before it was
/// answered, which teaches nothing).
#[must_use = "a ticket holds a place among the requests in flight until it is recorded"]
pub(crate) struct Ticket<'a> {
    admissions: &'a Admissions,
    key: String,
    operation: Operation,
    /// When the request was admitted: answers are taken in the order of admissions.
    admitted: Instant,
}

impl Ticket<'_> {
    /// Record the answer: its rate-limit headers and status (`None`: no answer arrived),
    /// and the wait a 429 asked for.
    pub(crate) fn record(
        mut self,
        now: Instant,
        rate_limit: Option<&RateLimit>,
        status: Option<u16>,
        wait: Option<Duration>,
    ) {
        let mut state = self.admissions.lock();
        let mut key = std::mem::take(&mut self.key);
        if status.is_some() {
            let name = rate_limit.and_then(|r| r.name.clone()).unwrap_or_default();
            state.limit_of.insert(self.operation, name.clone());
            if name != key {
                let probe = state.gates.remove(&key).unwrap_or_default();
                state.gates.entry(name.clone()).or_default().absorb(probe);
                key = name;
            }
        }
        if let Some(gate) = state.gates.get_mut(&key) {
            gate.record(now, self.admitted, rate_limit, status, wait);
        }
        drop(state);
        self.admissions.changed.notify_waiters();
        std::mem::forget(self);
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut state = self.admissions.lock();
        if let Some(gate) = state.gates.get_mut(&self.key) {
            gate.in_flight = gate.in_flight.saturating_sub(1);
        }
        drop(state);
        self.admissions.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// What a server with 5 requests per 1 s period, its periods ending at `end + k s`,
    /// answers at `at`, with `remaining` left.
    fn answer(remaining: u64, at: Duration, end: Duration) -> RateLimit {
        let second = Duration::from_secs(1);
        let mut until = end;
        while until <= at {
            until += second;
        }
        RateLimit {
            limit: Some(5),
            remaining: Some(remaining),
            period: Some(second),
            // Whole seconds, rounded up, as the API sends them.
            reset: Some(Duration::from_secs((until - at).as_secs_f64().ceil() as u64)),
            name: Some("cnm".to_owned()),
        }
    }

    /// A rollover that whole-second resets cannot see is still found, from the count going
    /// up: the end is then a period after the one first believed, not before it.
    #[test]
    fn a_count_going_up_moves_the_period_end_a_period_on() {
        let start = Instant::now();
        let end = ms(140); // the server's periods end at 0.14 s, 1.14 s, 2.14 s, …
        let mut gate = Gate::default();
        let record = |gate: &mut Gate, admitted: u64, answered: u64, remaining: u64| {
            let rate = answer(remaining, ms(answered), end);
            gate.in_flight += 1;
            gate.record(
                start + ms(answered),
                start + ms(admitted),
                Some(&rate),
                Some(200),
                None,
            );
        };
        record(&mut gate, 0, 4, 4); // end in (0.004, 1.004]: true end 0.14
        record(&mut gate, 5, 8, 3);
        assert_eq!(gate.remaining, Some(3));
        record(&mut gate, 200, 204, 4); // more remain: the 0.14 s end has passed
        assert_eq!(gate.remaining, Some(4));
        let (after, latest) = gate.period_end.unwrap();
        assert!(
            after < start + ms(1140) && start + ms(1140) <= latest,
            "{:?}",
            (after - start, latest - start)
        );
        // Without the rollover, the end would have been believed before 1.004 s, and the
        // gate would have waited for a period the server had not ended.
        assert!(latest - start > ms(1004));
        // An answer to an earlier request, arriving late, is older news.
        record(&mut gate, 6, 210, 2);
        assert_eq!(gate.remaining, Some(2), "it may only lower what remains");
        assert_eq!(
            gate.period_end.map(|e| e.1),
            Some(latest),
            "and never moves the end"
        );
    }
}
