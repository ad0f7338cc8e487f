//! Writing a value as YAML text in the style of Datadog's `openapi.yaml` (and ours): block
//! mappings indented by two, block sequences with the dash two columns right of their key,
//! plain scalars where they read back as the same string, double quotes otherwise, `|-` for
//! text with line breaks. Flow style (`[1, 2, null]`) only where the value replaced was
//! written that way and is still flat.
//!
//! Every function returns text whose first line is *not* indented (the caller places it
//! where the old text started) and whose further lines carry their full indentation.

use crate::spec_diff::node::Node;

/// `key: value` (and its nested lines), ending with a newline; nested blocks at
/// `column + 2`. `key` is written as given (the caller keeps the file's own spelling).
pub fn entry(key: &str, value: &Node, column: usize, flow: bool) -> String {
    let mut out = format!("{key}:");
    value_after(&mut out, value, column, flow);
    out
}

/// `- value` (and its nested lines), ending with a newline; the dash at `column`.
pub fn item(value: &Node, column: usize, flow: bool) -> String {
    let mut out = String::from("-");
    match value {
        Node::Map(entries) if !entries.is_empty() && !flow => {
            out.push(' ');
            block_map(&mut out, entries, column + 2, true);
        }
        Node::Seq(items) if !items.is_empty() && !flow => {
            out.push(' ');
            block_seq(&mut out, items, column + 2, true);
        }
        _ => value_after(&mut out, value, column, flow),
    }
    out
}

/// A mapping key: plain when safe, double-quoted otherwise.
pub fn key(text: &str) -> String {
    if plain_ok(text, false) {
        text.to_owned()
    } else {
        quoted(text)
    }
}

/// Whether `value` can be written on one line in flow style (scalars, and collections of
/// scalars).
pub fn flat(value: &Node) -> bool {
    let scalar = |node: &Node| !matches!(node, Node::Map(_) | Node::Seq(_));
    match value {
        Node::Seq(items) => items.iter().all(scalar),
        Node::Map(entries) => entries.iter().all(|(_, v)| scalar(v)),
        _ => true,
    }
}

/// What follows `key:` or `-`: ` scalar\n`, or `\n` and the block lines.
fn value_after(out: &mut String, value: &Node, column: usize, flow: bool) {
    let block = !(flow && flat(value));
    match value {
        Node::Map(entries) if block && !entries.is_empty() => {
            out.push('\n');
            block_map(out, entries, column + 2, false);
        }
        Node::Seq(items) if block && !items.is_empty() => {
            out.push('\n');
            block_seq(out, items, column + 2, false);
        }
        Node::Str(text) if text.contains('\n') && literal_ok(text) => {
            out.push_str(if text.ends_with('\n') {
                " |\n"
            } else {
                " |-\n"
            });
            for line in text.trim_end_matches('\n').split('\n') {
                if !line.is_empty() {
                    out.push_str(&" ".repeat(column + 2));
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        _ => {
            out.push(' ');
            out.push_str(&inline(value));
            out.push('\n');
        }
    }
}

/// Mapping entries at `column`; the first one unindented when `first_inline`.
fn block_map(out: &mut String, entries: &[(String, Node)], column: usize, first_inline: bool) {
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 || !first_inline {
            out.push_str(&" ".repeat(column));
        }
        out.push_str(&entry(&key(k), v, column, false));
    }
}

/// Sequence items with their dash at `column`; the first one unindented when `first_inline`.
fn block_seq(out: &mut String, items: &[Node], column: usize, first_inline: bool) {
    for (i, v) in items.iter().enumerate() {
        if i > 0 || !first_inline {
            out.push_str(&" ".repeat(column));
        }
        out.push_str(&item(v, column, false));
    }
}

/// A value on one line: a scalar, or a flow collection.
fn inline(value: &Node) -> String {
    match value {
        Node::Null => "null".to_owned(),
        Node::Bool(b) => b.to_string(),
        Node::Int(i) => i.to_string(),
        Node::Float(f) => float(*f),
        Node::Str(text) => {
            if plain_ok(text, false) {
                text.clone()
            } else {
                quoted(text)
            }
        }
        Node::Seq(items) => {
            let items: Vec<String> = items.iter().map(flow_inline).collect();
            format!("[{}]", items.join(", "))
        }
        Node::Map(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| {
                    let k = if plain_ok(k, true) {
                        k.clone()
                    } else {
                        quoted(k)
                    };
                    format!("{k}: {}", flow_inline(v))
                })
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// A value inside a flow collection, where `,[]{}` are indicators too.
fn flow_inline(value: &Node) -> String {
    match value {
        Node::Str(text) if !plain_ok(text, true) => quoted(text),
        _ => inline(value),
    }
}

fn float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.to_owned();
    }
    let text = f.to_string();
    if text.contains(['.', 'e', 'E']) {
        text
    } else {
        format!("{text}.0")
    }
}

/// A double-quoted scalar (JSON's string syntax is valid YAML).
fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// Words YAML 1.1 readers (Datadog's generators use one) take for booleans or null.
const YAML11_WORDS: [&str; 22] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF", "true", "True", "TRUE", "false", "False", "FALSE",
];

/// Whether `text` may be written as a plain scalar and reads back as the same string, for
/// YAML 1.2 and 1.1 readers alike.
fn plain_ok(text: &str, in_flow: bool) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    let indicators = "-?:,[]{}#&*!|>'\"%@`";
    let safe_chars = text.chars().all(|c| !c.is_control() && c != '\u{feff}');
    let reads_back = matches!(
        serde_norway::from_str::<Node>(text),
        Ok(Node::Str(ref back)) if back == text
    );
    safe_chars
        && text == text.trim()
        && !indicators.contains(first)
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.ends_with(':')
        && !(in_flow && text.contains([',', '[', ']', '{', '}']))
        && !YAML11_WORDS.contains(&text)
        && !(first.is_ascii_digit() && text.contains(':'))
        && reads_back
}

/// Whether `|-` (or `|`) can carry `text` exactly.
fn literal_ok(text: &str) -> bool {
    let body = text.strip_suffix('\n').unwrap_or(text);
    !body.ends_with('\n')
        && !body.starts_with([' ', '\t'])
        && !body.is_empty()
        && body
            .chars()
            .all(|c| c == '\n' || (!c.is_control() && c != '\u{feff}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        serde_norway::from_str(text).unwrap()
    }

    /// Whatever we write reads back as the same value.
    #[track_caller]
    fn round_trip(yaml: &str) -> String {
        let value = parse(yaml);
        let written = entry("k", &value, 0, false);
        let back = parse(&written);
        assert!(
            back.get("k").is_some_and(|v| v.same(&value)),
            "{written:?} does not read back as {value:?}"
        );
        written
    }

    #[test]
    fn scalars_are_plain_when_safe_and_quoted_otherwise() {
        assert_eq!(round_trip("Bad Request"), "k: Bad Request\n");
        assert_eq!(round_trip("'400'"), "k: \"400\"\n");
        assert_eq!(round_trip("'#/components/x'"), "k: \"#/components/x\"\n");
        assert_eq!(round_trip("'yes'"), "k: \"yes\"\n");
        assert_eq!(round_trip("'a: b'"), "k: \"a: b\"\n");
        assert_eq!(
            round_trip("'^[^,]+(,[^,]+){0,9}$'"),
            "k: ^[^,]+(,[^,]+){0,9}$\n"
        );
        assert_eq!(round_trip("''"), "k: \"\"\n");
        assert_eq!(round_trip("1.0"), "k: 1.0\n");
        assert_eq!(round_trip("~"), "k: null\n");
        assert_eq!(round_trip("'two\\nlines'"), "k: two\\nlines\n");
        assert_eq!(round_trip("\"two\\nlines\""), "k: |-\n  two\n  lines\n");
        assert_eq!(round_trip("\" lead\\n\""), "k: \" lead\\n\"\n");
    }

    #[test]
    fn collections_are_blocks_in_upstream_style() {
        let written = round_trip("{errors: [{status: '400', title: Bad}], n: {}, l: []}");
        // `n` is a boolean to YAML 1.1 readers.
        assert_eq!(
            written,
            "k:\n  errors:\n    - status: \"400\"\n      title: Bad\n  \"n\": {}\n  l: []\n"
        );
        let nested = round_trip("[[a, b], {x: [1]}]");
        assert_eq!(nested, "k:\n  - - a\n    - b\n  - x:\n      - 1\n");
        assert_eq!(
            item(&parse("{a: 1, b: 2}"), 4, false),
            "- a: 1\n      b: 2\n"
        );
    }

    #[test]
    fn flat_values_stay_in_flow_style_when_asked() {
        let value = parse("[1, null, 'a,b', x]");
        assert_eq!(entry("k", &value, 2, true), "k: [1, null, \"a,b\", x]\n");
        assert_eq!(entry("k", &parse("{}"), 2, true), "k: {}\n");
        let deep = parse("{h: {d: x}}");
        assert_eq!(entry("k", &deep, 2, true), "k:\n    h:\n      d: x\n");
    }
}
