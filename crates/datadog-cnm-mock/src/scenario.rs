//! Scenarios: what the data looks like, and which incidents the mock places relative to its
//! clock.

use std::collections::HashMap;
use std::error::Error;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::dns_model;
use crate::incident::{Effect, Incident, MetricSet};
use crate::prng::SplitMix64;
use crate::shape::{HOUR, MAX_TIMESTAMP, MINUTE, Style};
use crate::topology::Topology;

/// What the data looks like: [`MockServerBuilder::scenario`](crate::MockServerBuilder::scenario).
///
/// Every scenario has the same services, hosts, flows and DNS names for a seed; they differ
/// in how traffic moves over time and in the incidents placed in it. Names for a command
/// line: [`Scenario::name`], parsed back by [`FromStr`].
///
/// ```
/// use datadog_cnm_mock::Scenario;
///
/// assert_eq!("flat".parse::<Scenario>(), Ok(Scenario::Flat));
/// let error = "stormy".parse::<Scenario>().err().map(|e| e.to_string());
/// assert_eq!(
///     error.as_deref(),
///     Some("unknown scenario `stormy`; the scenarios are: default, calm, flat")
/// );
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scenario {
    /// Living data (daily and weekly cycles, trends, noise) with incidents placed relative to
    /// the server's clock (its [`now`](crate::MockServerBuilder::now), else the time it
    /// started), all inside the last day and a bit:
    ///
    /// - a TCP retransmit and timeout storm between two prod services, 40 minutes long,
    ///   starting 2 h 40 min to 4 h ago (`tcp_retransmits`, `tcp_rto_count`, `tcp_timeouts`
    ///   × 40);
    /// - an NXDOMAIN surge for one cluster DNS name, two hours long, starting 8 to 10 hours
    ///   ago (after a deploy), ending 6 to 8 hours ago;
    /// - a service pair that is new: no traffic (nor DNS lookups of the server's names)
    ///   before 12 to 18 hours ago;
    /// - a service pair that is gone: no traffic (nor lookups) since 20 to 28 hours ago.
    ///
    /// Which services and names is chosen from the seed; the times from the clock.
    /// [`MockServer::incidents`](crate::MockServer::incidents) lists them.
    #[default]
    Default,
    /// The living data of [`Default`](Self::Default) without its incidents: for tests that
    /// place their own.
    Calm,
    /// Nearly flat data and no incidents: each flow varies over the day around a constant
    /// rate, at its own phase, so totals hardly move from hour to hour. For tests that want
    /// stable numbers.
    Flat,
}

impl Scenario {
    /// Every scenario, in the order [`UnknownScenario`] lists them.
    pub const ALL: [Scenario; 3] = [Self::Default, Self::Calm, Self::Flat];

    /// The scenario's name: `default`, `calm` or `flat`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Calm => "calm",
            Self::Flat => "flat",
        }
    }

    /// One line on what the scenario serves, for `--help` texts.
    pub fn description(self) -> &'static str {
        match self {
            Self::Default => {
                "living data with a retransmit storm 2-4 h ago, an NXDOMAIN surge 6-10 h ago, \
                 a service pair new today and one gone since yesterday"
            }
            Self::Calm => "living data (daily and weekly cycles, trends, noise), no incidents",
            Self::Flat => "nearly flat data, no incidents",
        }
    }

    pub(crate) fn style(self) -> Style {
        match self {
            Self::Flat => Style::Flat,
            Self::Default | Self::Calm => Style::Living,
        }
    }

    /// The incidents the scenario places in `topology` (generated from `seed`) around `now`.
    pub(crate) fn place(self, seed: u64, topology: &Topology, now: SystemTime) -> Vec<Incident> {
        if self != Self::Default {
            return Vec::new();
        }
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let anchor = now.min(MAX_TIMESTAMP as u64) / MINUTE * MINUTE;
        let mut placer = Placer {
            rng: SplitMix64::new(seed ^ 0x5CE7_A810_0F1C_1DE7),
            topology,
            anchor,
            taken: Vec::new(),
            incidents: Vec::new(),
        };
        // One pass over the connection flows serves every choice of a pair.
        let retransmits = topology.conn.plan.lane_of(STORM_METRICS[0]);
        let pairs = placer.pairs(retransmits);
        placer.storm(&pairs);
        placer.nxdomain_surge();
        placer.silence(&pairs, true);
        placer.silence(&pairs, false);
        placer.incidents
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = UnknownScenario;

    /// A scenario by [`name`](Scenario::name), ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|scenario| scenario.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownScenario { name: s.to_owned() })
    }
}

/// A name that is not a [`Scenario`]'s; its message lists the valid names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownScenario {
    name: String,
}

impl UnknownScenario {
    /// The name that was asked for.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for UnknownScenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
        write!(
            f,
            "unknown scenario `{}`; the scenarios are: {}",
            self.name,
            names.join(", ")
        )
    }
}

impl Error for UnknownScenario {}

/// Tag slots of connection flows used here.
const CLIENT_SERVICE: usize = 0;
const SERVER_SERVICE: usize = 1;
const CLIENT_ENV: usize = 4;
/// Tag slot of a DNS flow's name.
const DNS_QUERY: usize = 0;
/// The storm's metrics; the first is counted on every flow of the pair it picks.
const STORM_METRICS: [&str; 3] = ["tcp_retransmits", "tcp_rto_count", "tcp_timeouts"];
/// Pairs and names are chosen among those ranked this high by traffic: visible, not the top.
const RANKS: std::ops::Range<usize> = 3..40;

/// One client → server service pair (or one DNS name) and what the choice looks at.
struct Candidate {
    ids: (u32, u32),
    magnitude: u64,
    flows: usize,
    /// Connections: flows with every storm metric; DNS: the NXDOMAIN share, per million.
    score: u64,
}

struct Placer<'a> {
    rng: SplitMix64,
    topology: &'a Topology,
    anchor: u64,
    taken: Vec<(u32, u32)>,
    incidents: Vec<Incident>,
}

impl Placer<'_> {
    fn time(&self, secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn name(&self, id: u32) -> &str {
        self.topology.strings.get(id)
    }

    /// Prod service pairs, busiest first; `score` counts the flows where `lane` is live.
    fn pairs(&self, lane: Option<usize>) -> Vec<Candidate> {
        let conn = &self.topology.conn;
        let Some(prod) = self.topology.strings.find("prod") else {
            return Vec::new();
        };
        let mut by_pair: HashMap<(u32, u32), Candidate> = HashMap::new();
        for (i, flow) in conn.flows.iter().enumerate() {
            if flow.tags[CLIENT_ENV] != prod {
                continue;
            }
            let ids = (flow.tags[CLIENT_SERVICE], flow.tags[SERVER_SERVICE]);
            let live = lane
                .and_then(|l| conn.coefs_of(i).get(l))
                .is_some_and(|c| c.k + c.j > 0);
            let entry = by_pair.entry(ids).or_insert(Candidate {
                ids,
                magnitude: 0,
                flows: 0,
                score: 0,
            });
            entry.magnitude += u64::from(conn.magnitudes.get(i).copied().unwrap_or(0));
            entry.flows += 1;
            entry.score += u64::from(live);
        }
        self.ranked(by_pair.into_values().collect())
    }

    fn ranked(&self, mut candidates: Vec<Candidate>) -> Vec<Candidate> {
        candidates.sort_by(|a, b| {
            b.magnitude
                .cmp(&a.magnitude)
                .then_with(|| self.name(a.ids.0).cmp(self.name(b.ids.0)))
                .then_with(|| self.name(a.ids.1).cmp(self.name(b.ids.1)))
        });
        candidates
    }

    /// One of the candidates ranked in [`RANKS`] that `fits`, not taken yet.
    fn choose(
        &mut self,
        candidates: &[Candidate],
        fits: impl Fn(&Candidate) -> bool,
    ) -> Option<(u32, u32)> {
        let fitting: Vec<(u32, u32)> = candidates
            .iter()
            .enumerate()
            .filter(|(rank, c)| RANKS.contains(rank) && fits(c))
            .map(|(_, c)| c.ids)
            .filter(|ids| !self.taken.contains(ids))
            .collect();
        let chosen = *fitting.get(self.rng.index(fitting.len()))?;
        self.taken.push(chosen);
        Some(chosen)
    }

    /// A retransmit and timeout storm between two prod services, 40 minutes, 2–4 h ago.
    fn storm(&mut self, pairs: &[Candidate]) {
        let plan = &self.topology.conn.plan;
        let metrics: Vec<&str> = STORM_METRICS
            .into_iter()
            .filter(|m| plan.lane_of(m).is_some())
            .collect();
        if plan.lane_of(STORM_METRICS[0]).is_none() {
            return;
        }
        let Some((client, server)) =
            self.choose(pairs, |c| c.flows >= 2 && c.score == c.flows as u64)
        else {
            return;
        };
        let start = self
            .anchor
            .saturating_sub(4 * HOUR - MINUTE)
            .saturating_add(self.rng.below(80) * MINUTE);
        let (client, server) = (self.name(client).to_owned(), self.name(server).to_owned());
        self.incidents.push(
            Incident::new(
                format!("retransmit storm: {client} → {server}"),
                self.time(start),
                Duration::from_secs(40 * MINUTE),
            )
            .tag("client_service", client)
            .tag("server_service", server)
            .metrics(MetricSet::Names(
                metrics.iter().map(|m| (*m).to_owned()).collect(),
            ))
            .effect(Effect::Scale(40.0)),
        );
    }

    /// An NXDOMAIN surge for one prod cluster name, two hours from 8–10 h ago.
    fn nxdomain_surge(&mut self) {
        const NXDOMAIN: &str = "dns_responses.nxdomain";
        let dns = &self.topology.dns;
        if dns.plan.lane_of(NXDOMAIN).is_none() {
            return;
        }
        let mut by_name: HashMap<u32, (Candidate, u64)> = HashMap::new();
        for (i, flow) in dns.flows.iter().enumerate() {
            let name = flow.tags[DNS_QUERY];
            let coefs = dns.coefs_of(i);
            let share = |leaves: &[usize]| -> u64 {
                leaves
                    .iter()
                    .filter_map(|&l| coefs.get(l))
                    .map(|c| c.k + c.j)
                    .sum()
            };
            let entry = by_name.entry(name).or_insert((
                Candidate {
                    ids: (name, name),
                    magnitude: 0,
                    flows: 0,
                    score: 0,
                },
                0,
            ));
            entry.0.magnitude += u64::from(dns.magnitudes.get(i).copied().unwrap_or(0));
            entry.0.flows += 1;
            entry.0.score += share(&[dns_model::NXDOMAIN]);
            entry.1 += share(dns_model::ALL);
        }
        let names = self.ranked(
            by_name
                .into_values()
                .map(|(mut c, total)| {
                    c.score = (u128::from(c.score) * 1_000_000 / u128::from(total.max(1))) as u64;
                    c
                })
                .collect(),
        );
        let strings = &self.topology.strings;
        let cluster = |c: &Candidate| strings.get(c.ids.0).ends_with(".prod.svc.cluster.local");
        let Some((name, _)) = self.choose(&names, |c| {
            c.flows >= 3 && (1..50_000).contains(&c.score) && cluster(c)
        }) else {
            return;
        };
        let (magnitude, flows) = names
            .iter()
            .find(|c| c.ids.0 == name)
            .map_or((0, 1), |c| (c.magnitude, c.flows.max(1)));
        // Four in five of the name's usual requests again, as NXDOMAIN answers: a client
        // deployed with a bad config keeps asking.
        let per_flow = (magnitude as f64 / 20_000.0 * 0.8 / flows as f64).max(0.05);
        let per_flow = (per_flow * 100.0).round() / 100.0;
        let start = self
            .anchor
            .saturating_sub(10 * HOUR - MINUTE)
            .saturating_add(self.rng.below(120) * MINUTE);
        let name = self.name(name).to_owned();
        self.incidents.push(
            Incident::new(
                format!("NXDOMAIN surge after a deploy: {name}"),
                self.time(start),
                Duration::from_secs(2 * HOUR),
            )
            .tag("network.dns_query", name)
            .metrics(NXDOMAIN)
            .effect(Effect::Add(per_flow)),
        );
    }

    /// A prod pair silent until 12–18 h ago (`new`), or since 20–28 h ago (gone), with the
    /// client's lookups of the server's names.
    fn silence(&mut self, pairs: &[Candidate], new: bool) {
        let Some((client, server)) = self.choose(pairs, |c| c.flows >= 2) else {
            return;
        };
        let (client, server) = (self.name(client).to_owned(), self.name(server).to_owned());
        let (start, end) = if new {
            let first = self.anchor.saturating_sub(18 * HOUR) + self.rng.below(6 * 60) * MINUTE;
            (0, first)
        } else {
            let last = self.anchor.saturating_sub(28 * HOUR) + self.rng.below(8 * 60) * MINUTE;
            (last, MAX_TIMESTAMP as u64 + 1)
        };
        let what = if new { "new pair" } else { "gone pair" };
        let window = (
            self.time(start),
            Duration::from_secs(end.saturating_sub(start)),
        );
        self.incidents.push(
            Incident::new(format!("{what}: {client} → {server}"), window.0, window.1)
                .tag("client_service", client.clone())
                .tag("server_service", server.clone())
                .metrics(MetricSet::All),
        );
        // Service names have no `-` or `.` after their role, so `<server>*` is exactly the
        // server's own names (`<server>.<env>.svc…`, `<server>-<env>.internal…`, …).
        self.incidents.push(
            Incident::new(
                format!("{what}'s DNS lookups: {client} → {server}"),
                window.0,
                window.1,
            )
            .tag("client_service", client)
            .tag("network.dns_query", format!("{server}*"))
            .metrics(MetricSet::All),
        );
    }
}
