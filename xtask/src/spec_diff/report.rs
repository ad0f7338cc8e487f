//! The report, as Markdown (for people and upstream issues) or JSON (for tools).

use std::fmt::Write as _;

use serde::Serialize;

use super::compare::{Comparison, Difference};
use super::explain::{Category, Entry};

/// Longest JSON value shown in Markdown before it is cut (the JSON report keeps it whole).
const MAX_CODE: usize = 200;
/// Longest prose shown in Markdown: descriptions stay whole in practice.
const MAX_PROSE: usize = 1500;

/// One side of the comparison, as the report names it.
pub struct Side {
    /// The path as given.
    pub label: String,
    /// Its `openapi` version.
    pub version: String,
}

/// One compared operation.
pub struct OperationRow {
    /// The operationId.
    pub id: String,
    /// `GET /path` upstream.
    pub upstream: String,
    /// `GET /path` in ours.
    pub ours: String,
}

/// Everything a report shows.
pub struct Report {
    /// The upstream file.
    pub upstream: Side,
    /// Our fragment.
    pub ours: Side,
    /// The `FIXES.md` the explanations come from.
    pub fixes: String,
    /// The compared operations.
    pub operations: Vec<OperationRow>,
    /// The differences.
    pub comparison: Comparison,
    /// The entries of `FIXES.md`.
    pub entries: Vec<Entry>,
    /// For each difference, the entry that explains it.
    pub attribution: Vec<Option<usize>>,
}

impl Report {
    fn explained_by(&self, entry: usize) -> Vec<&Difference> {
        self.comparison
            .differences
            .iter()
            .zip(&self.attribution)
            .filter(|(_, a)| **a == Some(entry))
            .map(|(d, _)| d)
            .collect()
    }

    fn unexplained(&self) -> Vec<&Difference> {
        self.comparison
            .differences
            .iter()
            .zip(&self.attribution)
            .filter(|(_, a)| a.is_none())
            .map(|(d, _)| d)
            .collect()
    }

    fn count(&self, category: Category) -> usize {
        self.attribution
            .iter()
            .flatten()
            .filter(|&&i| self.entries[i].category == category)
            .count()
    }

    /// The Markdown report.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Spec diff: upstream vs our fragment\n");
        let _ = writeln!(
            out,
            "- **Upstream**: {} (OpenAPI {})",
            code(&self.upstream.label),
            self.upstream.version
        );
        let _ = writeln!(
            out,
            "- **Ours**: {} (OpenAPI {})",
            code(&self.ours.label),
            self.ours.version
        );
        let operations: Vec<String> = self
            .operations
            .iter()
            .map(|op| {
                let endpoint = if op.upstream == op.ours {
                    code(&op.ours)
                } else {
                    format!("upstream {}, ours {}", code(&op.upstream), code(&op.ours))
                };
                format!("{} ({endpoint})", code(&op.id))
            })
            .collect();
        let _ = writeln!(out, "- **Operations**: {}", operations.join(", "));
        if !self.comparison.also_compared.is_empty() {
            let names: Vec<String> = self
                .comparison
                .also_compared
                .iter()
                .map(|c| code(c))
                .collect();
            let _ = writeln!(
                out,
                "- **Also compared by name** (our fragment uses them; upstream defines them, \
                 but its operations do not use them in this file): {}",
                names.join(", ")
            );
        }
        let _ = writeln!(out, "- **Explanations**: {}", code(&self.fixes));
        let unexplained = self.unexplained();
        let _ = writeln!(
            out,
            "\n**{} differences**: {} explained by our fixes, {} upstream changes newer than \
             this file, {} not deviations, **{} unexplained**.\n",
            self.comparison.differences.len(),
            self.count(Category::Fix),
            self.count(Category::NewerUpstream),
            self.count(Category::NotDeviation),
            unexplained.len()
        );
        let _ = writeln!(
            out,
            "Reading from upstream to ours: *added* means only our fragment has it, *removed* \
             only upstream, *changed* both with different values. Properties appear by name \
             under their schema."
        );
        let _ = writeln!(out, "\n## Unexplained\n");
        if unexplained.is_empty() {
            let _ = writeln!(
                out,
                "None: every difference is explained by an entry of {}.",
                code(&self.fixes)
            );
        } else {
            let _ = writeln!(
                out,
                "Not explained by any entry of {}: add the fix (or the upstream change) there.\n",
                code(&self.fixes)
            );
            for difference in unexplained {
                bullet(&mut out, difference);
            }
        }
        for (category, heading) in [
            (Category::Fix, "Our fixes"),
            (
                Category::NewerUpstream,
                "Upstream changes newer than this file",
            ),
            (Category::NotDeviation, "Not deviations"),
        ] {
            let _ = writeln!(out, "\n## {heading}");
            for (index, entry) in self.entries.iter().enumerate() {
                if entry.category != category {
                    continue;
                }
                let _ = writeln!(out, "\n### {}. {}\n", entry.id, entry.title);
                let differences = self.explained_by(index);
                if differences.is_empty() {
                    let _ = writeln!(out, "{}", absent(entry));
                }
                for difference in differences {
                    bullet(&mut out, difference);
                }
            }
        }
        out
    }

    /// The JSON report: stable field order, values as JSON where they are JSON.
    pub fn json(&self) -> String {
        let differences = self
            .comparison
            .differences
            .iter()
            .zip(&self.attribution)
            .map(|(d, a)| JsonDifference {
                location: d.location.to_string(),
                path: &d.location.segments,
                kind: d.kind.as_str(),
                before: d.before.as_deref().map(|v| value(v, d.prose)),
                after: d.after.as_deref().map(|v| value(v, d.prose)),
                explained_by: a.map(|i| self.entries[i].id.as_str()),
                category: a.map_or("unexplained", |i| self.entries[i].category.as_str()),
            })
            .collect();
        let entries = self
            .entries
            .iter()
            .enumerate()
            .map(|(index, entry)| JsonEntry {
                id: &entry.id,
                title: &entry.title,
                category: entry.category.as_str(),
                differences: self.explained_by(index).len(),
                not_visible: entry.not_visible.as_deref(),
            })
            .collect();
        let document = JsonReport {
            upstream: &self.upstream.label,
            ours: &self.ours.label,
            fixes: &self.fixes,
            operations: self
                .operations
                .iter()
                .map(|op| JsonOperation {
                    operation_id: &op.id,
                    upstream: &op.upstream,
                    ours: &op.ours,
                })
                .collect(),
            also_compared: &self.comparison.also_compared,
            summary: JsonSummary {
                differences: self.comparison.differences.len(),
                fixes: self.count(Category::Fix),
                newer_upstream: self.count(Category::NewerUpstream),
                not_deviations: self.count(Category::NotDeviation),
                unexplained: self.unexplained().len(),
            },
            differences,
            entries,
        };
        match serde_json::to_string_pretty(&document) {
            Ok(text) => text + "\n",
            // Only strings, numbers and parsed JSON go in: serialization cannot fail.
            Err(error) => format!("{{\"error\": {:?}}}\n", error.to_string()),
        }
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    upstream: &'a str,
    ours: &'a str,
    fixes: &'a str,
    operations: Vec<JsonOperation<'a>>,
    also_compared: &'a [String],
    summary: JsonSummary,
    differences: Vec<JsonDifference<'a>>,
    entries: Vec<JsonEntry<'a>>,
}

#[derive(Serialize)]
struct JsonOperation<'a> {
    operation_id: &'a str,
    upstream: &'a str,
    ours: &'a str,
}

#[derive(Serialize)]
struct JsonSummary {
    differences: usize,
    fixes: usize,
    newer_upstream: usize,
    not_deviations: usize,
    unexplained: usize,
}

#[derive(Serialize)]
struct JsonDifference<'a> {
    location: String,
    path: &'a [String],
    kind: &'a str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    explained_by: Option<&'a str>,
    category: &'a str,
}

#[derive(Serialize)]
struct JsonEntry<'a> {
    id: &'a str,
    title: &'a str,
    category: &'a str,
    differences: usize,
    not_visible: Option<&'a str>,
}

/// A value for the JSON report: parsed when it is JSON, a string when it is prose.
fn value(text: &str, prose: bool) -> serde_json::Value {
    if prose {
        return serde_json::Value::from(text);
    }
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::from(text))
}

/// What an entry without differences says.
fn absent(entry: &Entry) -> String {
    match (entry.category, &entry.not_visible) {
        (Category::Fix, Some(why)) => format!("Not visible in this upstream file: {why}"),
        (Category::Fix, None) => "Not visible in this upstream file: no difference matched its \
                                  diff locations (has upstream adopted the fix?)."
            .to_owned(),
        (_, Some(why)) => format!("No difference: {why}"),
        (Category::NewerUpstream, None) => {
            "No difference: this upstream file already has this change.".to_owned()
        }
        (Category::NotDeviation, None) => "No difference in this file.".to_owned(),
    }
}

/// One difference as a Markdown bullet.
fn bullet(out: &mut String, difference: &Difference) {
    let _ = writeln!(
        out,
        "- {} — {}",
        code(&difference.location.to_string()),
        difference.kind
    );
    let show = |text: &str| {
        if difference.prose {
            one_line(&cut(text, MAX_PROSE))
        } else {
            code(&cut(text, MAX_CODE))
        }
    };
    if let Some(before) = &difference.before {
        let _ = writeln!(out, "  - upstream: {}", show(before));
    }
    if let Some(after) = &difference.after {
        let _ = writeln!(out, "  - ours: {}", show(after));
    }
    if let (Some(before), Some(after), true) =
        (&difference.before, &difference.after, difference.prose)
        && let Some((was, is)) = changed_words(before, after)
    {
        let _ = writeln!(
            out,
            "  - in short: “{}” → “{}”",
            one_line(&was),
            one_line(&is)
        );
    }
}

/// For two long texts that share a beginning or an end, the words that differ.
fn changed_words(before: &str, after: &str) -> Option<(String, String)> {
    const LONG: usize = 80;
    if before.len() < LONG || after.len() < LONG {
        return None;
    }
    let (a, b): (Vec<&str>, Vec<&str>) = (
        before.split_whitespace().collect(),
        after.split_whitespace().collect(),
    );
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    if prefix + suffix == 0 {
        return None;
    }
    let was = a[prefix..a.len() - suffix].join(" ");
    let is = b[prefix..b.len() - suffix].join(" ");
    Some((was, is))
}

/// Text cut to `max` characters, saying how long it was.
fn cut(text: &str, max: usize) -> String {
    let length = text.chars().count();
    if length <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}… ({length} characters)")
}

/// Prose on one line, so it stays inside its bullet (Markdown joins the lines anyway).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An inline code span that survives backticks in the text.
fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code("a b"), "`a b`");
        assert_eq!(code("use `x`"), "`` use `x` ``");
    }

    #[test]
    fn changed_words_finds_the_middle() {
        let before = "Comma-separated list of fields. `server_ungrouped` may be used if groups are not desired. The maximum is 10.";
        let after = "Comma-separated list of fields. `server_ungrouped` may be used if groups are not desired, and cannot be combined. The maximum is 10.";
        assert_eq!(
            changed_words(before, after),
            Some((
                "desired.".to_owned(),
                "desired, and cannot be combined.".to_owned()
            ))
        );
        assert_eq!(changed_words("short", "text"), None);
    }

    #[test]
    fn long_values_are_cut_with_their_length() {
        assert_eq!(cut("abcdef", 3), "abc… (6 characters)");
        assert_eq!(cut("abc", 3), "abc");
    }
}
