//! `cargo xtask codegen [--check]`: the low-level client, generated from the spec.
//!
//! Codegen is a pure function of `spec/datadog-cnm.yaml` and the settings below: the same
//! inputs always give byte-identical files, so `--check` can compare what is checked in
//! with what would be written now. It writes four files:
//!
//! - `generated.rs`: progenitor's client, builders and wire types, less the types only
//!   the replaced row and document schemas used (`prune.rs`);
//! - `generated_httpmock.rs`: progenitor's typed httpmock helpers;
//! - `rows/generated_metrics.rs`: the metric fields and tables of the row types, from the
//!   spec's `x-cnm-*` extensions (`metrics.rs` reads them, `rows.rs` writes the code);
//! - `generated_operations.rs`: the `Operation` enum, `QueryParams` and one call per
//!   operation (`operations.rs`), which also checks that the facade sets every parameter.

mod metrics;
mod operations;
mod prune;
mod rows;

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};

/// The spec, relative to the workspace root.
pub const SPEC_PATH: &str = "spec/datadog-cnm.yaml";
const CLIENT_PATH: &str = "crates/datadog-cnm-raw/src/generated.rs";
const HTTPMOCK_PATH: &str = "crates/datadog-cnm-raw/src/generated_httpmock.rs";
const METRICS_PATH: &str = "crates/datadog-cnm-raw/src/rows/generated_metrics.rs";
const OPERATIONS_PATH: &str = "crates/datadog-cnm-raw/src/generated_operations.rs";

/// Schemas replaced by hand-written types (crates/datadog-cnm-raw/src/rows/), and the
/// types that replace them.
const REPLACEMENTS: [(&str, &str); 5] = [
    // A metric key the server adds tomorrow must not fail today's response.
    ("DnsMetricKey", "crate::DnsMetricKey"),
    // The two row schemas, decoded 7500 times per page: hand-written single-pass decoders
    // that keep unknown members.
    (
        "SingleAggregatedConnectionResponseData",
        "crate::Connection",
    ),
    ("SingleAggregatedDnsResponseData", "crate::DnsRow"),
    // The response documents: rows decoded in place, members besides `data` kept.
    (
        "SingleAggregatedConnectionResponseArray",
        "crate::ConnectionsDocument",
    ),
    ("SingleAggregatedDnsResponseArray", "crate::DnsDocument"),
];

/// Write the files, or only compare them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Regenerate and overwrite the checked-in files.
    Write,
    /// Regenerate in memory and fail with a diff when anything differs.
    Check,
}

/// One generated file: where it goes and what it must contain.
struct Output {
    path: &'static str,
    contents: String,
}

/// Run `codegen` from the workspace root `root`.
pub fn run(root: &Path, mode: Mode) -> Result<ExitCode> {
    let spec = load_spec(&root.join(SPEC_PATH))?;
    let outputs = generate(&spec)?;
    match mode {
        Mode::Write => {
            for output in &outputs {
                let path = root.join(output.path);
                let unchanged = fs::read_to_string(&path).is_ok_and(|old| old == output.contents);
                if unchanged {
                    println!("unchanged {}", output.path);
                } else {
                    fs::write(&path, &output.contents)
                        .with_context(|| format!("writing {}", path.display()))?;
                    println!("wrote     {}", output.path);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Mode::Check => {
            let stale = stale_outputs(root, &outputs);
            for output in &stale {
                print_diff(output.path, &output.current, &output.expected);
            }
            if stale.is_empty() {
                println!("generated code is up to date with {SPEC_PATH}");
                Ok(ExitCode::SUCCESS)
            } else {
                let paths: Vec<&str> = stale.iter().map(|s| s.path).collect();
                eprintln!(
                    "\nerror: {} out of date with {SPEC_PATH}.\n\
                     run `cargo xtask codegen` and commit the result",
                    paths.join(" and ")
                );
                Ok(ExitCode::FAILURE)
            }
        }
    }
}

/// A checked-in file that differs from what codegen produces now.
struct Stale {
    path: &'static str,
    current: String,
    expected: String,
}

fn stale_outputs(root: &Path, outputs: &[Output]) -> Vec<Stale> {
    outputs
        .iter()
        .filter_map(|output| {
            // A missing file reads as empty, so the diff shows everything to add.
            let current = fs::read_to_string(root.join(output.path)).unwrap_or_default();
            (current != output.contents).then(|| Stale {
                path: output.path,
                current,
                expected: output.contents.clone(),
            })
        })
        .collect()
}

/// Parse the spec and refuse anything progenitor would mishandle.
pub fn load_spec(path: &Path) -> Result<openapiv3::OpenAPI> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let spec: openapiv3::OpenAPI = serde_norway::from_str(&text)
        .with_context(|| format!("{} is not a valid OpenAPI 3.0 document", path.display()))?;
    if !spec.openapi.starts_with("3.0.") {
        bail!(
            "{} declares OpenAPI {}; progenitor only reads 3.0.x",
            path.display(),
            spec.openapi
        );
    }
    Ok(spec)
}

/// The progenitor settings; ARCHITECTURE.md says why each choice was made.
fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        // Every request goes out through the seam (one exchange, bounded body, statuses
        // kept): the hand-written `impl ClientHooks for Client` in
        // crates/datadog-cnm-raw/src/seam.rs is required.
        .with_hooks(HooksMode::Expected)
        .with_inner_type(tokens("crate::Seam"))
        // HashMap iteration order would make snapshots and debug output flaky.
        .with_map_type("::std::collections::BTreeMap")
        .with_derive("PartialEq");
    for (schema, rust) in REPLACEMENTS {
        let impls = if schema == "DnsMetricKey" {
            vec![TypeImpl::Display, TypeImpl::FromStr]
        } else {
            vec![TypeImpl::Default]
        };
        settings.with_replacement(schema, rust, impls.into_iter());
    }
    settings
}

fn tokens(source: &str) -> proc_macro2::TokenStream {
    // The sources are literals in this file; a parse failure is a bug here, not input.
    match source.parse() {
        Ok(tokens) => tokens,
        Err(error) => panic!("invalid token literal {source:?}: {error}"),
    }
}

fn generate(spec: &openapiv3::OpenAPI) -> Result<Vec<Output>> {
    let tables = metrics::read(spec)?;
    let operations = operations::read(spec, &REPLACEMENTS)?;
    let mut generator = Generator::new(&settings());
    let client = generator
        .generate_tokens(spec)
        .map_err(|e| anyhow::anyhow!("progenitor could not generate the client: {e}"))?;
    let httpmock = generator
        .httpmock(spec, "crate")
        .map_err(|e| anyhow::anyhow!("progenitor could not generate the httpmock helpers: {e}"))?;
    let replaced: Vec<&str> = REPLACEMENTS.iter().map(|(schema, _)| *schema).collect();
    let unused = prune::unused_schemas(spec, &replaced)?;
    let mut client = parse(client)?;
    prune::prune(&mut client, &unused);
    Ok(vec![
        Output {
            path: CLIENT_PATH,
            contents: render(client, "The low-level client for the two CNM operations.")?,
        },
        Output {
            path: HTTPMOCK_PATH,
            contents: render(
                parse(httpmock)?,
                "Typed httpmock helpers for the two CNM operations (feature `httpmock`).",
            )?,
        },
        Output {
            path: METRICS_PATH,
            contents: render(
                parse(rows::generate(&tables))?,
                "The metric fields and tables of the row types, from the spec's `x-cnm-*` extensions.",
            )?,
        },
        Output {
            path: OPERATIONS_PATH,
            contents: render(
                parse(operations::generate(&operations)?)?,
                "The operations, their query parameters, and one call per operation.",
            )?,
        },
    ])
}

fn parse(tokens: proc_macro2::TokenStream) -> Result<syn::File> {
    syn::parse_file(&tokens.to_string()).context("generated code is not valid Rust")
}

fn render(file: syn::File, what: &str) -> Result<String> {
    let body = prettyplease::unparse(&file);
    let mut out = String::with_capacity(body.len() + 256);
    let _ = writeln!(
        out,
        "// @generated by `cargo xtask codegen` from {SPEC_PATH}; do not edit."
    );
    let _ = writeln!(out, "// {what}");
    let _ = writeln!(
        out,
        "// Change the spec or xtask/src/codegen/, then run `cargo xtask codegen`."
    );
    out.push('\n');
    out.push_str(&body);
    Ok(out)
}

fn print_diff(path: &str, current: &str, expected: &str) {
    let diff = similar::TextDiff::from_lines(current, expected);
    let unified = diff
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{path} (checked in)"),
            &format!("b/{path} (from spec)"),
        )
        .to_string();
    println!("{unified}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace_root() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    fn generate_from(text: &str) -> Vec<Output> {
        let spec = serde_norway::from_str(text).unwrap_or_else(|e| panic!("spec: {e}"));
        generate(&spec).unwrap_or_else(|e| panic!("codegen: {e:#}"))
    }

    fn error_from(text: &str) -> String {
        let spec = serde_norway::from_str(text).unwrap_or_else(|e| panic!("spec: {e}"));
        match generate(&spec) {
            Ok(_) => panic!("codegen accepted the spec"),
            Err(error) => format!("{error:#}"),
        }
    }

    fn spec_text() -> String {
        fs::read_to_string(workspace_root().join(SPEC_PATH)).unwrap()
    }

    fn output<'a>(outputs: &'a [Output], path: &str) -> &'a str {
        outputs
            .iter()
            .find(|output| output.path == path)
            .map(|output| output.contents.as_str())
            .unwrap_or_else(|| panic!("no output {path}"))
    }

    /// The spec with a new TCP metric (after `tcp_retransmits`, as upstream would sort
    /// it) and a new DNS key, described only by their aggregations.
    fn spec_with_new_metrics(aggregation: &str) -> String {
        let text = spec_text();
        let anchor = "        tcp_timeouts:\n";
        assert!(text.contains(anchor));
        let metric = format!(
            "        tcp_syn_retransmits:\n          description: SYN packets sent again.\n          \
             format: int64\n          type: integer\n{aggregation}"
        );
        let text = text.replacen(anchor, &format!("{metric}{anchor}"), 1);
        let text = text.replacen(
            "        - dns_failure_latency_percentile\n      type: string\n",
            "        - dns_failure_latency_percentile\n        - dns_responses.refused\n      type: string\n",
            1,
        );
        text.replacen(
            "        - percentile\n        - percentile\n",
            "        - percentile\n        - percentile\n        - sum\n",
            1,
        )
    }

    #[test]
    fn a_new_metric_and_dns_key_need_only_their_aggregation() {
        let outputs = generate_from(&spec_with_new_metrics("          x-cnm-aggregation: sum\n"));
        let metrics = output(&outputs, METRICS_PATH);
        assert!(metrics.contains("pub tcp_syn_retransmits: Option<i64>,"));
        assert!(metrics.contains("name: \"tcp_syn_retransmits\","));
        assert!(metrics.contains("pub const METRICS: [Metric; 18usize]"));
        assert!(metrics.contains("pub responses_refused: Option<i64>,"));
        assert!(metrics.contains("DnsResponsesRefused,"));
        assert!(metrics.contains("\"dns_responses.refused\" => Self::DnsResponsesRefused,"));
        // The new TCP metric: a sum, a plain count, labelled after its name.
        let entry = metrics
            .split("Metric {")
            .find(|entry| entry.contains("name: \"tcp_syn_retransmits\""))
            .unwrap_or_default();
        assert!(entry.contains("aggregation: Aggregation::Sum"), "{entry}");
        assert!(entry.contains("unit: Unit::Count"), "{entry}");
        assert!(entry.contains("label: \"syn retransmits\""), "{entry}");
        assert!(entry.contains("column: None"), "{entry}");
        // Only the metric file changes: the client and its helpers do not list metrics.
        let stale: Vec<&str> = stale_outputs(&workspace_root(), &outputs)
            .iter()
            .map(|s| s.path)
            .collect();
        assert_eq!(stale, [METRICS_PATH]);
    }

    #[test]
    fn the_generated_tables_say_what_the_spec_says() {
        let spec: openapiv3::OpenAPI = serde_norway::from_str(&spec_text()).unwrap();
        let tables = metrics::read(&spec).unwrap();
        assert_eq!(tables.connection.len(), 17);
        assert_eq!(tables.dns.len(), 10);
        let rtt = tables
            .connection
            .iter()
            .find(|m| m.name == "rtt_micro_seconds")
            .unwrap();
        assert_eq!(
            (rtt.aggregation.as_str(), rtt.unit.as_str()),
            ("mean", "microseconds")
        );
        let latency = &tables.dns[8];
        assert_eq!(latency.name, "dns_success_latency_percentile");
        assert_eq!(
            (latency.aggregation.as_str(), latency.unit.as_str()),
            ("percentile", "milliseconds")
        );
        assert_eq!(tables.dns[5].field, "responses_nxdomain");
        assert_eq!(tables.dns[5].variant, "DnsResponsesNxdomain");
        // And the checked-in file holds exactly those tables.
        let generated = fs::read_to_string(workspace_root().join(METRICS_PATH)).unwrap();
        for metric in tables.connection.iter().chain(&tables.dns) {
            let aggregation = format!("Aggregation::{}", capitalized(&metric.aggregation));
            let entry = generated
                .split("Metric {")
                .find(|entry| entry.contains(&format!("name: \"{}\",", metric.name)))
                .unwrap_or_else(|| panic!("{} is not in the generated table", metric.name));
            assert!(entry.contains(&aggregation), "{}: {entry}", metric.name);
        }
    }

    fn capitalized(word: &str) -> String {
        let mut chars = word.chars();
        chars
            .next()
            .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
            .unwrap_or_default()
    }

    #[test]
    fn a_metric_without_an_aggregation_is_refused_with_the_fix() {
        let error = error_from(&spec_with_new_metrics(""));
        assert!(
            error.contains("metric `tcp_syn_retransmits` has no `x-cnm-aggregation`"),
            "{error}"
        );
        assert!(error.contains("x-cnm-aggregation: sum"), "{error}");
        let dns_only = spec_with_new_metrics("          x-cnm-aggregation: sum\n").replacen(
            "        - percentile\n        - percentile\n        - sum\n",
            "        - percentile\n        - percentile\n",
            1,
        );
        let error = error_from(&dns_only);
        assert!(
            error.contains("DNS metric `dns_responses.refused` has no aggregation"),
            "{error}"
        );
        let bad = spec_text().replacen("x-cnm-aggregation: mean", "x-cnm-aggregation: median", 1);
        let error = error_from(&bad);
        assert!(
            error.contains("must be one of sum, mean, rate, percentile"),
            "{error}"
        );
    }

    #[test]
    fn a_parameter_the_facade_does_not_set_is_refused_with_the_fix() {
        let text = spec_text();
        let anchor = "        - $ref: \"#/components/parameters/CnmQuery\"\n";
        let extra = "        - description: Only these hosts.\n          in: query\n          name: hosts\n          schema:\n            type: string\n";
        assert_eq!(text.matches(anchor).count(), 2);
        let text = text.replace(anchor, &format!("{anchor}{extra}"));
        let error = error_from(&text);
        assert!(error.contains("the query parameter `hosts`"), "{error}");
        assert!(error.contains("FACADE_PARAMETERS"), "{error}");
    }

    #[test]
    fn types_only_the_replaced_schemas_use_are_left_out() {
        let client = fs::read_to_string(workspace_root().join(CLIENT_PATH)).unwrap();
        for gone in [
            "SingleAggregatedConnectionResponseDataAttributes",
            "SingleAggregatedDnsResponseDataAttributesMetricsItems",
            "SingleAggregatedDnsResponseDataType",
        ] {
            assert!(!client.contains(&format!("pub struct {gone}")), "{gone}");
            assert!(!client.contains(&format!("pub enum {gone}")), "{gone}");
        }
        assert!(client.contains("pub struct ApiErrorResponse"));
        assert!(client.contains("pub struct CnmGroupBy"));
    }

    #[test]
    fn codegen_is_deterministic_and_checked_in_code_is_current() {
        let root = workspace_root();
        let spec = load_spec(&root.join(SPEC_PATH)).unwrap();
        let first = generate(&spec).unwrap();
        let second = generate(&spec).unwrap();
        for (a, b) in first.iter().zip(&second) {
            assert!(
                a.contents == b.contents,
                "{} differs between two runs",
                a.path
            );
            assert!(
                a.contents
                    .starts_with("// @generated by `cargo xtask codegen`")
            );
        }
        let stale: Vec<_> = stale_outputs(&root, &first)
            .iter()
            .map(|s| s.path)
            .collect();
        assert!(
            stale.is_empty(),
            "stale: {stale:?}; run `cargo xtask codegen`"
        );
    }

    #[test]
    fn an_edited_description_makes_the_check_fail() {
        let root = workspace_root();
        let text = fs::read_to_string(root.join(SPEC_PATH)).unwrap();
        let original = "description: Get all aggregated connections.";
        assert!(text.contains(original));
        let edited = text.replacen(original, "description: Get every aggregated connection.", 1);

        let stale = stale_outputs(&root, &generate_from(&edited));
        assert_eq!(
            stale.len(),
            1,
            "only the client embeds operation descriptions"
        );
        assert_eq!(stale[0].path, CLIENT_PATH);
        assert!(
            stale[0]
                .expected
                .contains("Get every aggregated connection.")
        );

        let reverted = stale_outputs(&root, &generate_from(&text));
        assert!(reverted.is_empty());
    }

    #[test]
    fn openapi_3_1_is_refused_with_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("xtask-codegen-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("spec.yaml");
        fs::write(
            &path,
            "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
        )
        .unwrap();
        let error = load_spec(&path).err().map(|e| format!("{e:#}"));
        let _ = fs::remove_dir_all(&dir);
        assert!(error.is_some_and(|e| e.contains("progenitor only reads 3.0.x")));
    }
}
