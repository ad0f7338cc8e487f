//! Seed → a synthetic network: services over teams and envs, their hosts, who calls whom, and
//! the DNS names they resolve. Everything here runs once per server; requests only read it.

use std::collections::{HashMap, HashSet};

use crate::metrics::{ConnRates, Curve, DnsRates};
use crate::prng::SplitMix64;

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

const PREFIXES: [&str; 48] = [
    "checkout",
    "payments",
    "ledger",
    "billing",
    "invoice",
    "cart",
    "catalog",
    "search",
    "recommend",
    "inventory",
    "shipping",
    "orders",
    "users",
    "accounts",
    "auth",
    "session",
    "profile",
    "notify",
    "email",
    "sms",
    "feed",
    "timeline",
    "media",
    "images",
    "video",
    "upload",
    "storage",
    "metrics",
    "logs",
    "traces",
    "audit",
    "fraud",
    "risk",
    "pricing",
    "quotes",
    "geo",
    "maps",
    "routing",
    "chat",
    "support",
    "reviews",
    "ratings",
    "ads",
    "campaign",
    "coupons",
    "loyalty",
    "reports",
    "export",
];

/// Roles that only answer (never open connections) in the synthetic topology.
const SERVER_ONLY_ROLES: [&str; 3] = ["db", "cache", "queue"];

const ROLES: [&str; 10] = [
    "api",
    "web",
    "worker",
    "gateway",
    "scheduler",
    "indexer",
    "proxy",
    "db",
    "cache",
    "queue",
];

const TEAMS: [&str; 16] = [
    "networks",
    "payments",
    "search",
    "identity",
    "storage",
    "platform",
    "data",
    "mobile",
    "growth",
    "infra",
    "security",
    "ml",
    "checkout",
    "messaging",
    "media",
    "sre",
];

const ENVS: [&str; 3] = ["prod", "staging", "dev"];

const EXTERNAL_DOMAINS: [&str; 32] = [
    "api.stripe.com",
    "s3.amazonaws.com",
    "sqs.us-east-1.amazonaws.com",
    "dynamodb.us-east-1.amazonaws.com",
    "sts.amazonaws.com",
    "www.googleapis.com",
    "oauth2.googleapis.com",
    "storage.googleapis.com",
    "api.github.com",
    "github.com",
    "hooks.slack.com",
    "api.twilio.com",
    "api.sendgrid.com",
    "login.microsoftonline.com",
    "graph.microsoft.com",
    "registry.npmjs.org",
    "pypi.org",
    "files.pythonhosted.org",
    "index.crates.io",
    "static.crates.io",
    "api.datadoghq.com",
    "intake.logs.datadoghq.com",
    "api.segment.io",
    "api.mixpanel.com",
    "sentry.io",
    "o1.ingest.sentry.io",
    "api.openai.com",
    "cdn.jsdelivr.net",
    "fonts.gstatic.com",
    "time.cloudflare.com",
    "ocsp.digicert.com",
    "api.pagerduty.com",
];

/// Strings stored once, referred to by `u32` id, with their JSON-escaped form precomputed so
/// serializing a 7500-row page is mostly `memcpy`.
pub(crate) struct Interner {
    strings: Vec<Box<str>>,
    escaped: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
}

impl Interner {
    fn new() -> Self {
        Self {
            strings: Vec::new(),
            escaped: Vec::new(),
            ids: HashMap::new(),
        }
    }

    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        self.escaped.push(crate::json::escape(s).into());
        self.ids.insert(s.into(), id);
        id
    }

    pub(crate) fn get(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }

    /// JSON-escaped, without the surrounding quotes.
    pub(crate) fn escaped(&self, id: u32) -> &str {
        self.escaped.get(id as usize).map_or("", |s| s)
    }

    pub(crate) fn len(&self) -> usize {
        self.strings.len()
    }
}

/// One client host talking to one server host.
pub(crate) struct ConnFlow {
    pub(crate) tags: [u32; CONN_KEYS.len()],
    pub(crate) curve: Curve,
    pub(crate) rates: ConnRates,
    pub(crate) rtt_micros: u32,
}

/// One client host resolving one name through one resolver host.
pub(crate) struct DnsFlow {
    pub(crate) tags: [u32; DNS_KEYS.len()],
    pub(crate) curve: Curve,
    pub(crate) rates: DnsRates,
    pub(crate) success_latency: u32,
    pub(crate) failure_latency: u32,
}

pub(crate) struct Topology {
    pub(crate) strings: Interner,
    pub(crate) not_available: u32,
    pub(crate) services: usize,
    pub(crate) conn: Vec<ConnFlow>,
    pub(crate) dns: Vec<DnsFlow>,
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
    pub(crate) fn generate(seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let mut strings = Interner::new();
        let not_available = strings.intern(NOT_AVAILABLE);
        let env_ids = ENVS.map(|e| strings.intern(e));
        let services = generate_services(&mut rng, &mut strings);
        let edges = generate_edges(&mut rng, &services);

        let mut conn = Vec::new();
        for &(c, s) in &edges {
            let (client, server) = (&services[c], &services[s]);
            for &client_host in &client.hosts {
                let mut server_hosts = server.hosts.clone();
                rng.shuffle(&mut server_hosts);
                for &server_host in server_hosts.iter().take(3) {
                    conn.push(ConnFlow {
                        tags: [
                            client.name,
                            server.name,
                            client.team,
                            server.team,
                            env_ids[client.env],
                            env_ids[server.env],
                            client_host,
                            server_host,
                            env_ids[client.env],
                        ],
                        curve: Curve::random(&mut rng),
                        rates: ConnRates::random(&mut rng),
                        rtt_micros: rng.range(80, 4_000) as u32,
                    });
                }
            }
        }

        let resolvers = [
            resolver(&mut strings, "coredns", 3),
            resolver(&mut strings, "unbound", 2),
        ];
        let mut dns = Vec::new();
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
                    dns.push(DnsFlow {
                        tags: [
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
                        ],
                        curve: Curve::random(&mut rng),
                        rates: DnsRates::random(&mut rng, stale),
                        success_latency: if external {
                            rng.range(5, 150)
                        } else {
                            rng.range(1, 40)
                        } as u32,
                        failure_latency: rng.range(20, 2_000) as u32,
                    });
                }
            }
        }

        Self {
            strings,
            not_available,
            services: services.len(),
            conn,
            dns,
        }
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

    use super::{CONN_KEYS, Topology};

    #[test]
    fn is_big_enough_for_every_seed_we_try() {
        for seed in [0, 1, 42, 7_777, u64::MAX] {
            let topology = Topology::generate(seed);
            assert!(topology.services >= 200);
            let client_host = CONN_KEYS.iter().position(|k| *k == "client_host");
            let server_host = CONN_KEYS.iter().position(|k| *k == "server_host");
            let (Some(c), Some(s)) = (client_host, server_host) else {
                panic!("host keys missing from CONN_KEYS");
            };
            let pairs: HashSet<(u32, u32)> = topology
                .conn
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
