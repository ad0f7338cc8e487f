//! Seed → a synthetic network: services over teams and envs, their hosts, who calls whom, and
//! the DNS names they resolve; each flow with its activity curves and its coefficients for
//! every metric of the tables. Everything here runs once per server; requests only read it.

use std::collections::HashSet;

use datadog_cnm_raw::Metric;

use crate::interner::Interner;
use crate::plan::{Coef, Plan, Side, Traits};
use crate::prng::{SplitMix64, hash_name};
use crate::shape::{self, Shape, Style};
use crate::words::{ENVS, EXTERNAL_DOMAINS, PREFIXES, ROLES, SERVER_ONLY_ROLES, TEAMS};

/// Tag keys of a connection flow, in slot order (`ConnFlow::tags[i]` is the value of key `i`).
pub(crate) const CONN_KEYS: [&str; 9] = [
    "client_service",
    "server_service",
    "client_team",
    "server_team",
    "client_env",
    "server_env",
    "client_host",
    "server_host",
    "env",
];

/// Tag keys of a DNS flow, in slot order. `server_*` describe the resolver that answered.
pub(crate) const DNS_KEYS: [&str; 10] = [
    "network.dns_query",
    "client_service",
    "client_team",
    "client_env",
    "client_host",
    "server_service",
    "server_team",
    "server_env",
    "server_host",
    "env",
];

/// The value reported for a group-by key a flow has no tag for (Datadog's wording).
pub(crate) const NOT_AVAILABLE: &str = "N/A";

/// Grouping by hosts must be able to fill a 7500-row page with room to spare.
const MIN_HOST_PAIRS: usize = 12_000;

const SERVICE_COUNT: usize = 240;

/// Salts of the generators a flow's seed feeds, one per purpose.
const NOISE_SALT: u64 = 0x0015_E0F1_0A75_11FE;
const ERRORS_SALT: u64 = 0x0E55_0125_B125_7500;
const MAGNITUDE_SALT: u64 = 0x0A6A_1700_DE5E_ED00;

/// One flow: a client host talking to a server host (connections), or a client host
/// resolving a name through a resolver host (DNS).
pub(crate) struct Flow<const K: usize> {
    /// `tags[i]` is the value of key `i` of [`CONN_KEYS`] or [`DNS_KEYS`].
    pub(crate) tags: [u32; K],
    /// The client's service, whose cycles and trend the flow follows.
    pub(crate) service: u16,
    /// The flow's own variation, added to its service's curve: `A(t)`.
    pub(crate) noise: Shape<2>,
    /// The burstier curve `B(t)` its error counts partly follow.
    pub(crate) errors: Shape<2>,
}

/// One endpoint's flows, with their coefficients and values laid out flat, a stride per
/// flow.
pub(crate) struct Flows<const K: usize> {
    pub(crate) plan: Plan,
    pub(crate) flows: Vec<Flow<K>>,
    /// `plan.lane_count()` per flow.
    pub(crate) coefs: Vec<Coef>,
    /// `plan.values.len()` per flow.
    pub(crate) values: Vec<u32>,
    /// Per flow, its magnitude (what [`Traits::magnitude`] says), for the scenarios' choices.
    pub(crate) magnitudes: Vec<u32>,
}

impl<const K: usize> Flows<K> {
    fn new(plan: Plan) -> Self {
        Self {
            plan,
            flows: Vec::new(),
            coefs: Vec::new(),
            values: Vec::new(),
            magnitudes: Vec::new(),
        }
    }

    fn push(
        &mut self,
        tags: [u32; K],
        service: usize,
        seed: u64,
        style: Style,
        mut traits: Traits,
    ) {
        // A product of two uniforms: many quiet flows, a few heavy hitters.
        let mut rng = SplitMix64::new(seed ^ MAGNITUDE_SALT);
        traits.magnitude = 200 + ((rng.below(1 << 16) * rng.below(1 << 16)) >> 12);
        self.plan.coefficients(seed, traits, &mut self.coefs);
        self.plan.flow_values(seed, traits, &mut self.values);
        self.magnitudes.push(traits.magnitude as u32);
        self.flows.push(Flow {
            tags,
            service: service as u16,
            noise: shape::noise(seed ^ NOISE_SALT, style),
            errors: shape::errors(seed ^ ERRORS_SALT, style),
        });
    }

    /// Flow `i`'s coefficients, one per lane.
    pub(crate) fn coefs_of(&self, i: usize) -> &[Coef] {
        let n = self.plan.lane_count();
        self.coefs.get(i * n..(i + 1) * n).unwrap_or(&[])
    }

    /// Flow `i`'s values, one per `mean` or `percentile` metric.
    pub(crate) fn values_of(&self, i: usize) -> &[u32] {
        let n = self.plan.values.len();
        self.values.get(i * n..(i + 1) * n).unwrap_or(&[])
    }
}

pub(crate) type ConnFlows = Flows<{ CONN_KEYS.len() }>;
pub(crate) type DnsFlows = Flows<{ DNS_KEYS.len() }>;

pub(crate) struct Topology {
    pub(crate) strings: Interner,
    pub(crate) not_available: u32,
    /// Each service's curve, by service index ([`Flow::service`]).
    pub(crate) services: Vec<Shape<4>>,
    pub(crate) conn: ConnFlows,
    pub(crate) dns: DnsFlows,
}

struct Service {
    name: u32,
    team: u32,
    env: usize,
    hosts: Vec<u32>,
    client: bool,
    /// Names other services resolve to reach this one, with whether the name is stale (mostly
    /// NXDOMAIN).
    names: Vec<(u32, bool)>,
    externals: Vec<u32>,
}

struct Resolver {
    service: u32,
    team: u32,
    hosts: [Vec<u32>; ENVS.len()],
}

impl Topology {
    /// The network for `seed`, with rates shaped by `style` and metrics from the tables.
    pub(crate) fn generate(
        seed: u64,
        style: Style,
        conn_table: &[Metric],
        dns_table: &[Metric],
    ) -> Self {
        let mut rng = SplitMix64::new(seed);
        let mut strings = Interner::new();
        let not_available = strings.intern(NOT_AVAILABLE);
        let env_ids = ENVS.map(|e| strings.intern(e));
        let services = generate_services(&mut rng, &mut strings);
        let edges = generate_edges(&mut rng, &services);
        let shapes = services
            .iter()
            .map(|s| shape::service(seed ^ hash_name(strings.get(s.name)), style))
            .collect();

        let mut conn = Flows::new(Plan::new(Side::Connections, conn_table));
        for &(c, s) in &edges {
            let (client, server) = (&services[c], &services[s]);
            for &client_host in &client.hosts {
                let mut server_hosts = server.hosts.clone();
                rng.shuffle(&mut server_hosts);
                for &server_host in server_hosts.iter().take(3) {
                    let tags = [
                        client.name,
                        server.name,
                        client.team,
                        server.team,
                        env_ids[client.env],
                        env_ids[server.env],
                        client_host,
                        server_host,
                        env_ids[client.env],
                    ];
                    conn.push(tags, c, rng.next_u64(), style, Traits::default());
                }
            }
        }

        let resolvers = [
            resolver(&mut strings, "coredns", 3),
            resolver(&mut strings, "unbound", 2),
        ];
        let mut dns = Flows::new(Plan::new(Side::Dns, dns_table));
        for (index, client) in services.iter().enumerate() {
            let mut names: Vec<(u32, bool, bool)> = Vec::new();
            for &(_, s) in edges.iter().filter(|(c, _)| *c == index) {
                names.extend(
                    services[s]
                        .names
                        .iter()
                        .map(|&(n, stale)| (n, stale, false)),
                );
            }
            names.extend(client.externals.iter().map(|&n| (n, false, true)));
            for (host_index, &client_host) in client.hosts.iter().enumerate() {
                for &(name, stale, external) in &names {
                    let resolver = &resolvers[usize::from(external)];
                    let pool = &resolver.hosts[client.env];
                    let server_host = pool[host_index % pool.len()];
                    let tags = [
                        name,
                        client.name,
                        client.team,
                        env_ids[client.env],
                        client_host,
                        resolver.service,
                        resolver.team,
                        env_ids[client.env],
                        server_host,
                        env_ids[client.env],
                    ];
                    let traits = Traits {
                        magnitude: 0,
                        stale,
                        external,
                    };
                    dns.push(tags, index, rng.next_u64(), style, traits);
                }
            }
        }

        Self {
            strings,
            not_available,
            services: shapes,
            conn,
            dns,
        }
    }

    /// `A(t)` of every service: computed once per request, shared by their flows.
    pub(crate) fn service_activity(&self, t: u64) -> Vec<u64> {
        self.services.iter().map(|s| s.at(t)).collect()
    }
}

fn generate_services(rng: &mut SplitMix64, strings: &mut Interner) -> Vec<Service> {
    let mut combos: Vec<(usize, usize)> = (0..PREFIXES.len())
        .flat_map(|p| (0..ROLES.len()).map(move |r| (p, r)))
        .collect();
    rng.shuffle(&mut combos);
    combos.truncate(SERVICE_COUNT);

    let mut services = Vec::with_capacity(SERVICE_COUNT);
    for (index, &(prefix, role)) in combos.iter().enumerate() {
        let name = format!("{}-{}", PREFIXES[prefix], ROLES[role]);
        // 60% prod, 30% staging, 10% dev: most traffic is production traffic.
        let env = match index % 10 {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        };
        let host_count = rng.range(2, 9) as usize;
        let mut seen = HashSet::new();
        let mut hosts = Vec::with_capacity(host_count);
        while hosts.len() < host_count {
            let suffix = rng.below(0x1_0000);
            if seen.insert(suffix) {
                hosts.push(strings.intern(&format!("{name}-{suffix:04x}")));
            }
        }
        let mut names = vec![(
            strings.intern(&format!("{name}.{}.svc.cluster.local", ENVS[env])),
            false,
        )];
        if rng.chance(50) {
            let n = strings.intern(&format!("{name}-{}.internal.example.com", ENVS[env]));
            names.push((n, false));
        }
        if rng.chance(15) {
            let n = strings.intern(&format!("{name}-legacy.{}.svc.cluster.local", ENVS[env]));
            names.push((n, true));
        }
        let mut externals: Vec<u32> = Vec::new();
        for _ in 0..rng.below(5) {
            let domain = strings.intern(EXTERNAL_DOMAINS[rng.index(EXTERNAL_DOMAINS.len())]);
            if !externals.contains(&domain) {
                externals.push(domain);
            }
        }
        services.push(Service {
            name: strings.intern(&name),
            team: strings.intern(TEAMS[rng.index(TEAMS.len())]),
            env,
            hosts,
            client: !SERVER_ONLY_ROLES.contains(&ROLES[role]),
            names,
            externals,
        });
    }
    services
}

/// Client → server service pairs within one env, at least enough for `MIN_HOST_PAIRS`.
fn generate_edges(rng: &mut SplitMix64, services: &[Service]) -> Vec<(usize, usize)> {
    let mut edges = Vec::new();
    let mut seen = HashSet::new();
    let mut pairs = 0;
    let mut add = |rng: &mut SplitMix64, edges: &mut Vec<(usize, usize)>, c: usize| {
        let peers: Vec<usize> = (0..services.len())
            .filter(|&s| s != c && services[s].env == services[c].env)
            .collect();
        if peers.is_empty() {
            return 0;
        }
        let s = peers[rng.index(peers.len())];
        if !seen.insert((c, s)) {
            return 0;
        }
        edges.push((c, s));
        services[c].hosts.len() * services[s].hosts.len().min(3)
    };
    for c in (0..services.len()).filter(|&c| services[c].client) {
        for _ in 0..rng.range(3, 8) {
            pairs += add(rng, &mut edges, c);
        }
    }
    // Topping up round-robin keeps the guarantee for every seed without skewing one service.
    for _ in 0..1_000 {
        if pairs >= MIN_HOST_PAIRS {
            break;
        }
        for c in (0..services.len()).filter(|&c| services[c].client) {
            pairs += add(rng, &mut edges, c);
        }
    }
    edges
}

fn resolver(strings: &mut Interner, name: &str, hosts: usize) -> Resolver {
    Resolver {
        service: strings.intern(name),
        team: strings.intern("platform"),
        hosts: ENVS.map(|env| {
            (0..hosts)
                .map(|i| strings.intern(&format!("{name}-{env}-{i}")))
                .collect()
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use datadog_cnm_raw::{Connection, DnsMetricKey};

    use super::{CONN_KEYS, Topology};
    use crate::shape::Style;

    #[test]
    fn is_big_enough_for_every_seed_we_try() {
        for seed in [0, 1, 42, 7_777, u64::MAX] {
            let topology = Topology::generate(
                seed,
                Style::Living,
                &Connection::METRICS,
                &DnsMetricKey::METRICS,
            );
            assert!(topology.services.len() >= 200);
            let client_host = CONN_KEYS.iter().position(|k| *k == "client_host");
            let server_host = CONN_KEYS.iter().position(|k| *k == "server_host");
            let (Some(c), Some(s)) = (client_host, server_host) else {
                panic!("host keys missing from CONN_KEYS");
            };
            let pairs: HashSet<(u32, u32)> = topology
                .conn
                .flows
                .iter()
                .map(|f| (f.tags[c], f.tags[s]))
                .collect();
            assert!(
                pairs.len() >= 10_000,
                "seed {seed}: {} host pairs",
                pairs.len()
            );
            let dns: HashSet<(u32, u32)> = topology
                .dns
                .flows
                .iter()
                .map(|f| (f.tags[0], f.tags[4]))
                .collect();
            assert!(
                dns.len() >= 7_500,
                "seed {seed}: {} dns query/host pairs",
                dns.len()
            );
        }
    }
}
