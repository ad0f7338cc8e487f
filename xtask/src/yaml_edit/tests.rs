//! Each edit changes only its own lines, and the result reads back as intended.

use super::*;
use crate::spec_diff::node::Node;

const TEXT: &str = "\
# A header comment.
components:
  headers: {}
  schemas:
    Error:
      properties:
        errors:
          example:
            - Bad Request
          items:
            type: string
      required:
        - errors
    Key:
      enum:
        - a
        - b
      x-columns: [1, null]
paths:
  /a:
    get:
      parameters:
        - description: From.
          in: query
          name: from
        - $ref: \"#/components/parameters/To\"
      responses:
        \"200\":
          description: OK
";

fn parse(text: &str) -> Node {
    serde_norway::from_str(text).unwrap()
}

fn path(text: &str) -> Vec<Seg> {
    text.split('.')
        .map(|s| match s.strip_prefix('#').map(str::parse) {
            Some(Ok(i)) => Seg::Index(i),
            _ if s == "+" => Seg::New,
            _ => Seg::key(s),
        })
        .collect()
}

/// Apply `edit`, check the result parses, and return the unified lines that changed.
fn edited(edit: impl FnOnce(&mut Doc) -> Result<()>) -> (String, String) {
    let mut doc = Doc::new(TEXT.to_owned());
    edit(&mut doc).unwrap();
    let text = doc.into_text();
    parse(&text);
    let diff = similar::TextDiff::from_lines(TEXT, &text)
        .unified_diff()
        .context_radius(0)
        .to_string();
    let changed: String = diff
        .lines()
        .filter(|l| l.starts_with(['+', '-']))
        .map(|l| format!("{l}\n"))
        .collect();
    (text, changed)
}

#[test]
fn set_replaces_one_scalar_line() {
    let (text, changed) = edited(|d| {
        d.set(
            &path("paths./a.get.parameters.#0.description"),
            &Node::Str("Start: inclusive.".into()),
        )
    });
    assert_eq!(
        changed,
        "-        - description: From.\n+        - description: \"Start: inclusive.\"\n"
    );
    assert!(text.starts_with("# A header comment.\n"));
}

#[test]
fn set_replaces_a_list_item_with_a_mapping() {
    let (_, changed) = edited(|d| {
        d.set(
            &path("components.schemas.Error.properties.errors.example.#0"),
            &parse("{status: '400', title: Bad Request}"),
        )
    });
    assert_eq!(
        changed,
        "-            - Bad Request\n+            - status: \"400\"\n+              title: Bad Request\n"
    );
}

#[test]
fn keys_go_in_sorted_place_and_create_missing_parents() {
    let (text, changed) = edited(|d| {
        d.insert_key(
            &path("paths./a.get.responses"),
            "400",
            &parse("{$ref: '#/components/responses/Bad'}"),
            &Place::Sorted,
        )?;
        d.set(
            &path("paths./a.get.responses.200.headers.X-Limit"),
            &parse("{schema: {type: string}}"),
        )
    });
    assert_eq!(
        changed,
        "+          headers:\n+            X-Limit:\n+              schema:\n+                type: string\n\
         +        \"400\":\n+          $ref: \"#/components/responses/Bad\"\n"
    );
    let responses = parse(&text);
    let responses = responses.at(&path("paths./a.get.responses")).unwrap();
    assert_eq!(
        responses.sorted().into_keys().collect::<Vec<_>>(),
        ["200", "400"]
    );
}

#[test]
fn an_empty_flow_mapping_becomes_a_block() {
    let (_, changed) = edited(|d| {
        d.insert_key(
            &path("components.headers"),
            "XLimit",
            &parse("{description: Limit.}"),
            &Place::Sorted,
        )
    });
    assert_eq!(
        changed,
        "-  headers: {}\n+  headers:\n+    XLimit:\n+      description: Limit.\n"
    );
}

#[test]
fn flat_flow_lists_stay_flow() {
    let (_, changed) = edited(|d| {
        d.insert_item(
            &path("components.schemas.Key.x-columns"),
            None,
            &Node::Int(3),
        )
    });
    assert_eq!(
        changed,
        "-      x-columns: [1, null]\n+      x-columns: [1, null, 3]\n"
    );
    let (_, changed) = edited(|d| d.remove(&path("components.schemas.Key.x-columns.#0")));
    assert_eq!(
        changed,
        "-      x-columns: [1, null]\n+      x-columns: [null]\n"
    );
}

#[test]
fn items_append_or_insert_in_block_lists() {
    let (_, changed) = edited(|d| {
        d.set(
            &path("components.schemas.Key.enum.+"),
            &Node::Str("c".into()),
        )?;
        d.insert_item(
            &path("paths./a.get.parameters"),
            Some(1),
            &parse("{in: query, name: q}"),
        )
    });
    assert_eq!(
        changed,
        "+        - c\n+        - in: query\n+          name: q\n"
    );
}

#[test]
fn remove_takes_whole_entries_and_keeps_compact_items_valid() {
    let (text, changed) = edited(|d| {
        d.remove(&path("paths./a.get.parameters.#0.description"))?;
        d.remove(&path("components.schemas.Error.properties.errors.items"))?;
        d.remove(&path("components.schemas.Key.enum.#1"))
    });
    assert_eq!(
        changed,
        "-          items:\n-            type: string\n-        - b\n\
         -        - description: From.\n-          in: query\n+        - in: query\n"
    );
    assert!(text.contains("        - in: query\n          name: from\n"));
    // The last entry of a mapping leaves an empty mapping, not a dangling key.
    let (_, changed) = edited(|d| d.remove(&path("paths./a.get.responses.200.description")));
    assert_eq!(
        changed,
        "-        \"200\":\n-          description: OK\n+        \"200\": {}\n"
    );
}

#[test]
fn keys_keep_their_quotes_and_errors_name_the_path() {
    let (_, changed) = edited(|d| {
        d.set(
            &path("paths./a.get.responses.200"),
            &parse("{description: Fine}"),
        )
    });
    assert_eq!(
        changed,
        "-          description: OK\n+          description: Fine\n"
    );
    let mut doc = Doc::new(TEXT.to_owned());
    let error = doc
        .remove(&path("components.schemas.Nope"))
        .unwrap_err()
        .to_string();
    assert_eq!(error, "nothing to remove at components.schemas.Nope");
    let error = doc
        .insert_key(
            &path("components.schemas.Key.enum"),
            "x",
            &Node::Null,
            &Place::Sorted,
        )
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "components.schemas.Key.enum is a sequence, not a mapping"
    );
    assert_eq!(doc.text(), TEXT);
}

#[test]
fn places() {
    let keys = ["a", "c", "e"];
    assert_eq!(Place::Sorted.index(&keys, "d"), 2);
    assert_eq!(Place::After("a".into()).index(&keys, "z"), 3);
    let unsorted = ["b", "a", "c"];
    assert_eq!(Place::Sorted.index(&unsorted, "d"), 3);
    assert_eq!(Place::After("b".into()).index(&unsorted, "d"), 1);
    assert_eq!(Place::After("x".into()).index(&unsorted, "d"), 3);
}

#[test]
fn the_line_index_follows_every_edit() {
    let mut doc = Doc::new(TEXT.to_owned());
    doc.set(
        &path("components.schemas.Key.enum.+"),
        &Node::Str("c".into()),
    )
    .unwrap();
    doc.remove(&path("paths./a.get.parameters.#0.description"))
        .unwrap();
    doc.insert_key(
        &path("components.headers"),
        "H",
        &parse("{a: 1}"),
        &Place::Sorted,
    )
    .unwrap();
    doc.set(&path("components.schemas.Key.x-columns"), &parse("[1]"))
        .unwrap();
    let fresh = outline::lines(doc.text());
    let kept: Vec<(usize, usize, usize, bool)> = doc
        .lines
        .iter()
        .map(|l| (l.start, l.end, l.indent, l.content))
        .collect();
    let expected: Vec<(usize, usize, usize, bool)> = fresh
        .iter()
        .map(|l| (l.start, l.end, l.indent, l.content))
        .collect();
    assert_eq!(kept, expected);
}
