//! Attributing each difference to an entry of `spec/FIXES.md`.
//!
//! `FIXES.md` is the single source of truth: every entry is a heading `## F1. Title`
//! (a fix of ours), `### U1. Title` (an upstream change newer than some published files)
//! or `### N1. Title` (not a deviation), and may carry
//!
//! ```text
//! - **Diff locations**: `components › schemas › APIErrorResponse › errors › **`, `added * › response 401`
//! - **Not visible when**: why a file may show no difference for it.
//! - **Send upstream**: yes            (or: no (why)), whether `upstream-patch` carries it
//! ```
//!
//! A location pattern is a location with wildcards: `*` inside a segment matches any text
//! (`response *`, `X-RateLimit-*`), a segment `*` matches one segment, `**` any number
//! (also none). A leading `added`, `removed` or `changed` restricts the kind. When several
//! entries match, the most specific pattern wins (most segments without wildcards), then
//! the entry written first.

use anyhow::{Result, bail};

use super::compare::{Difference, Kind};

/// Which section of `FIXES.md` an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// `F…`: a deviation of ours, with evidence, to send upstream.
    Fix,
    /// `U…`: upstream changed after some published files; older files show it.
    NewerUpstream,
    /// `N…`: a difference that is not a deviation (version, info block, …).
    NotDeviation,
}

impl Category {
    /// The machine name used in `--format json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Fix => "fix",
            Category::NewerUpstream => "newer-upstream",
            Category::NotDeviation => "not-a-deviation",
        }
    }
}

/// Whether `cargo xtask upstream-patch` carries an entry (its `Send upstream` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendUpstream {
    /// `yes`.
    Yes,
    /// `no (why)`, with the reason.
    No(String),
}

/// One entry of `FIXES.md`.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `F1`, `U3`, `N2`.
    pub id: String,
    /// The heading's text after the id.
    pub title: String,
    /// The section, from the id's letter.
    pub category: Category,
    /// Where its differences show.
    pub patterns: Vec<Pattern>,
    /// Why a file may show no difference for it.
    pub not_visible: Option<String>,
    /// Its `Send upstream` line, if it has one.
    pub send_upstream: Option<SendUpstream>,
}

/// A location pattern, optionally restricted to one kind.
#[derive(Debug, Clone)]
pub struct Pattern {
    kind: Option<Kind>,
    segments: Vec<String>,
}

impl Pattern {
    /// Parse `[added|removed|changed ]segment › segment › …`.
    pub fn parse(text: &str) -> Pattern {
        let (kind, rest) = match text.split_once(' ') {
            Some((word, rest)) if Kind::parse(word).is_some() => (Kind::parse(word), rest),
            _ => (None, text),
        };
        Pattern {
            kind,
            segments: rest.split('›').map(|s| s.trim().to_owned()).collect(),
        }
    }

    /// Whether the pattern matches the difference.
    pub fn matches(&self, difference: &Difference) -> bool {
        self.kind.is_none_or(|kind| kind == difference.kind)
            && match_segments(&self.segments, &difference.location.segments)
    }

    /// Segments without wildcards: more is more specific.
    fn specificity(&self) -> usize {
        self.segments.iter().filter(|s| !s.contains('*')).count()
    }
}

fn match_segments(pattern: &[String], location: &[String]) -> bool {
    match pattern.split_first() {
        None => location.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=location.len()).any(|skip| match_segments(rest, &location[skip..]))
        }
        Some((first, rest)) => location
            .split_first()
            .is_some_and(|(segment, tail)| glob(first, segment) && match_segments(rest, tail)),
    }
}

/// `*` matches any run of characters; everything else literally.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((prefix, rest)) => {
            let Some(text) = text.strip_prefix(prefix) else {
                return false;
            };
            (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .any(|i| glob(rest, &text[i..]))
        }
    }
}

/// Parse the entries of a `FIXES.md`.
pub fn parse(text: &str, label: &str) -> Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut current: Option<Entry> = None;
    // Which bullet continuation lines belong to.
    let mut field: Option<&str> = None;
    let mut buffer = String::new();
    let flush = |entry: &mut Option<Entry>, field: Option<&str>, buffer: &mut String| {
        let result = match (entry.as_mut(), field) {
            (Some(entry), Some("locations")) => {
                let spans = code_spans(buffer);
                entry
                    .patterns
                    .extend(spans.iter().map(|s| Pattern::parse(s)));
                Ok(())
            }
            (Some(entry), Some("send")) => send_upstream(buffer.trim(), label, &entry.id)
                .map(|s| entry.send_upstream = Some(s)),
            (Some(entry), Some(_)) => {
                entry.not_visible = Some(buffer.trim().to_owned());
                Ok(())
            }
            _ => Ok(()),
        };
        buffer.clear();
        result
    };
    for line in text.lines() {
        let trimmed = line.trim_start();
        let heading = line.starts_with("## ") || line.starts_with("### ");
        let bullet = trimmed.starts_with("- ");
        if heading || bullet || trimmed.is_empty() {
            flush(&mut current, field.take(), &mut buffer)?;
        }
        if heading {
            entries.extend(current.take());
            current = heading_entry(line);
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("- **Diff locations**:") {
            field = Some("locations");
            buffer.push_str(rest);
        } else if let Some(rest) = trimmed.strip_prefix("- **Not visible when**:") {
            field = Some("not_visible");
            buffer.push_str(rest);
        } else if let Some(rest) = trimmed.strip_prefix("- **Send upstream**:") {
            field = Some("send");
            buffer.push_str(rest);
        } else if field.is_some() {
            buffer.push(' ');
            buffer.push_str(trimmed);
        }
    }
    flush(&mut current, field.take(), &mut buffer)?;
    entries.extend(current.take());
    if !entries.iter().any(|e| e.category == Category::Fix) {
        bail!("{label} has no entries (headings like `## F1. Title`)");
    }
    Ok(entries)
}

/// `yes` or `no (why)`.
fn send_upstream(text: &str, label: &str, id: &str) -> Result<SendUpstream> {
    if text == "yes" {
        return Ok(SendUpstream::Yes);
    }
    let why = text
        .strip_prefix("no")
        .map(str::trim)
        .and_then(|rest| rest.strip_prefix('('))
        .and_then(|rest| rest.strip_suffix(')'))
        .map(str::trim)
        .filter(|why| !why.is_empty());
    match why {
        Some(why) => Ok(SendUpstream::No(why.to_owned())),
        None => bail!(
            "{label}: the `Send upstream` line of {id} must be `yes` or `no (why)`, not {text:?}"
        ),
    }
}

/// `## F1. Title` / `### U2. Title` → an entry without patterns yet.
fn heading_entry(line: &str) -> Option<Entry> {
    let text = line.trim_start_matches('#').trim();
    let (id, title) = text.split_once(". ")?;
    let category = match id.chars().next()? {
        'F' => Category::Fix,
        'U' => Category::NewerUpstream,
        'N' => Category::NotDeviation,
        _ => return None,
    };
    if id.len() < 2 || !id[1..].chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(Entry {
        id: id.to_owned(),
        title: title.trim().to_owned(),
        category,
        patterns: Vec::new(),
        not_visible: None,
        send_upstream: None,
    })
}

/// The contents of the `code spans` in a line of Markdown.
fn code_spans(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// For each difference, the index of the entry that explains it (if any).
pub fn attribute(entries: &[Entry], differences: &[Difference]) -> Vec<Option<usize>> {
    differences
        .iter()
        .map(|difference| {
            let mut best: Option<(usize, usize)> = None;
            for (index, entry) in entries.iter().enumerate() {
                for pattern in entry.patterns.iter().filter(|p| p.matches(difference)) {
                    let score = pattern.specificity();
                    if best.is_none_or(|(_, s)| score > s) {
                        best = Some((index, score));
                    }
                }
            }
            best.map(|(index, _)| index)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec_diff::compare::Location;

    fn difference(kind: Kind, location: &str) -> Difference {
        Difference {
            location: Location {
                segments: location.split(" › ").map(str::to_owned).collect(),
                ..Location::default()
            },
            kind,
            before: None,
            after: None,
            prose: false,
            note: None,
        }
    }

    #[test]
    fn patterns_match_segments_globs_and_kinds() {
        let d = difference(
            Kind::Added,
            "GetAggregatedDns › response 200 › headers › X-RateLimit-Reset",
        );
        assert!(Pattern::parse("* › response * › headers › X-RateLimit-*").matches(&d));
        assert!(Pattern::parse("added GetAggregatedDns › **").matches(&d));
        assert!(Pattern::parse("** › X-RateLimit-Reset").matches(&d));
        assert!(!Pattern::parse("removed ** › X-RateLimit-Reset").matches(&d));
        assert!(!Pattern::parse("* › response 4*").matches(&d));
        assert!(!Pattern::parse("GetAggregatedDns › response 200").matches(&d));
    }

    #[test]
    fn send_upstream_is_yes_or_no_with_a_reason() {
        let text = "## F1. A\n\n- **Send upstream**: yes\n\n## F2. B\n\n- **Send upstream**: no (ours\n  only)\n\n## F3. C\n";
        let entries = parse(text, "FIXES.md").unwrap();
        let sends: Vec<Option<SendUpstream>> =
            entries.iter().map(|e| e.send_upstream.clone()).collect();
        assert_eq!(
            sends,
            [
                Some(SendUpstream::Yes),
                Some(SendUpstream::No("ours only".into())),
                None
            ]
        );
        for bad in ["maybe", "no", "no ()", "yes please"] {
            let text = format!("## F7. A\n\n- **Send upstream**: {bad}\n");
            let error = parse(&text, "FIXES.md").unwrap_err().to_string();
            assert!(
                error.starts_with("FIXES.md: the `Send upstream` line of F7 must be"),
                "{error}"
            );
        }
    }

    #[test]
    fn the_most_specific_entry_wins_then_the_first() {
        let text = "# Fixes\n\n## F1. Broad\n\n- **Diff locations**: `components › **`\n\n\
                    ## F2. Narrow\n\n- **Diff locations**: `components › schemas › A › *`,\n  \
                    `components › schemas › B`\n- **Not visible when**: never\n  at all.\n\n\
                    ## Later\n\n### N1. Same as F1\n\n- **Diff locations**: `components › **`\n";
        let entries = parse(text, "FIXES.md").unwrap();
        let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["F1", "F2", "N1"]);
        assert_eq!(entries[1].patterns.len(), 2);
        assert_eq!(entries[1].not_visible.as_deref(), Some("never at all."));
        let differences = [
            difference(Kind::Changed, "components › schemas › A › type"),
            difference(Kind::Added, "components › schemas › B"),
            difference(Kind::Added, "components › schemas › C"),
            difference(Kind::Added, "openapi"),
        ];
        assert_eq!(
            attribute(&entries, &differences),
            [Some(1), Some(1), Some(0), None]
        );
    }
}
