//! Surgical edits of a YAML text: set, insert or remove one value at a concrete path and
//! leave every other byte as it was.
//!
//! `spec-sync` edits our fragment and `upstream-patch` edits Datadog's 4 MB `openapi.yaml`
//! this way, so that a run changes exactly the lines it must (a reviewable diff, a patch
//! upstream can apply). The block structure is found by indentation (`outline`); new text is
//! written in the files' own style (`emit`). A value written inline (`{}`, `[1, 2]`) is
//! rewritten whole, in flow style again when it stays flat.

mod emit;
mod outline;
mod tree;

#[cfg(test)]
mod tests;

use anyhow::{Result, bail};

use self::outline::{Block, Entry, Line, Outline, Value};
use crate::spec_diff::node::{Node, Seg, path_text};

/// Where a new mapping entry goes. Either way a mapping whose keys are sorted stays sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// In key order when the mapping's keys are sorted, else last.
    Sorted,
    /// In key order when the mapping's keys are sorted, else right after this key when the
    /// mapping has it, else last.
    After(String),
}

impl Place {
    /// The position among `keys` for `key`.
    fn index(&self, keys: &[&str], key: &str) -> usize {
        if keys.windows(2).all(|w| w[0] <= w[1]) {
            return keys.iter().position(|k| *k > key).unwrap_or(keys.len());
        }
        match self {
            Place::After(previous) => keys
                .iter()
                .position(|k| k == previous)
                .map_or(keys.len(), |i| i + 1),
            Place::Sorted => keys.len(),
        }
    }
}

/// A YAML text being edited.
pub struct Doc {
    text: String,
    /// Its lines, kept up to date edit by edit (outlining 4 MB again for each edit would
    /// cost seconds in the unoptimised builds `cargo xtask` runs).
    lines: Vec<Line>,
}

/// What a path leads to in the text.
enum Found {
    /// The top-level mapping (the empty path).
    Root(Block),
    /// A mapping entry or sequence item written in block style, and the block it is in.
    Entry(Entry, Block),
    /// A value inside one written inline: the entry holding the inline value, and how much
    /// of the path leads to it.
    Inside(Entry, usize),
}

/// What an edit comes down to.
enum Step {
    /// Replace the bytes `start..end` by the text.
    Splice(usize, usize, String),
    /// Create the missing value at a path (in its parent).
    Create(Vec<Seg>, Node),
    /// Set the value at a path (an emptied parent).
    Set(Vec<Seg>, Node),
}

impl Doc {
    /// Start editing `text`.
    pub fn new(text: String) -> Doc {
        let lines = outline::lines(&text);
        Doc { text, lines }
    }

    fn outline(&self) -> Outline<'_> {
        Outline::new(&self.text, &self.lines)
    }

    /// The text as edited so far.
    #[cfg(test)]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The edited text.
    pub fn into_text(self) -> String {
        self.text
    }

    /// Set the value at `path`, creating it (and missing parents) when absent; a path that
    /// ends in `Seg::New` appends to its sequence.
    pub fn set(&mut self, path: &[Seg], value: &Node) -> Result<()> {
        let step = plan_set(&self.outline(), path, value)?;
        self.run(step)
    }

    /// Remove the value at `path` (a mapping entry or a sequence item).
    pub fn remove(&mut self, path: &[Seg]) -> Result<()> {
        let step = plan_remove(&self.outline(), path)?;
        self.run(step)
    }

    /// Add `key: value` to the mapping at `map` (creating the mapping when absent).
    pub fn insert_key(
        &mut self,
        map: &[Seg],
        key: &str,
        value: &Node,
        place: &Place,
    ) -> Result<()> {
        let step = plan_insert_key(&self.outline(), map, key, value, place)?;
        self.run(step)
    }

    /// Insert `value` into the sequence at `seq` before item `index` (at the end when `None`
    /// or past the end), creating the sequence when absent.
    pub fn insert_item(&mut self, seq: &[Seg], index: Option<usize>, value: &Node) -> Result<()> {
        let step = plan_insert_item(&self.outline(), seq, index, value)?;
        self.run(step)
    }

    fn run(&mut self, step: Step) -> Result<()> {
        match step {
            Step::Splice(start, end, mut text) => {
                if end == self.text.len() && !self.text.ends_with('\n') && text.ends_with('\n') {
                    text.pop();
                }
                self.splice(start, end, &text);
                Ok(())
            }
            Step::Set(path, value) => self.set(&path, &value),
            Step::Create(path, value) => match path.split_last() {
                Some((Seg::Key(key), parent)) => {
                    self.insert_key(parent, key, &value, &Place::Sorted)
                }
                Some((Seg::New, parent)) => self.insert_item(parent, None, &value),
                Some((Seg::Index(i), parent)) => self.insert_item(parent, Some(*i), &value),
                None => bail!("cannot replace the whole document"),
            },
        }
    }
}

impl Doc {
    /// Replace `start..end` by `text` and re-read only the lines that changed.
    fn splice(&mut self, start: usize, end: usize, text: &str) {
        // The changed lines: from the one holding `start` through the one holding `end`
        // (that one too when `end` is its first byte: the new text may run into it).
        let first = self
            .lines
            .partition_point(|l| l.start <= start)
            .saturating_sub(1);
        let after = self.lines.partition_point(|l| l.start <= end);
        let from = self.lines.get(first).map_or(0, |l| l.start);
        let to = self.lines.get(after).map_or(self.text.len(), |l| l.start);
        self.text.replace_range(start..end, text);
        let delta = text.len().cast_signed() - (end - start).cast_signed();
        let to = shift(to, delta);
        let fresh = outline::lines_in(&self.text, from, to);
        let shifted = self.lines.split_off(after).into_iter().map(|mut line| {
            line.start = shift(line.start, delta);
            line.end = shift(line.end, delta);
            line
        });
        self.lines.truncate(first);
        self.lines.extend(fresh);
        self.lines.extend(shifted);
    }
}

/// `at + delta` for a position after an edit (never below 0).
fn shift(at: usize, delta: isize) -> usize {
    at.checked_add_signed(delta).unwrap_or(0)
}

fn plan_set(outline: &Outline<'_>, path: &[Seg], value: &Node) -> Result<Step> {
    match find(outline, path)? {
        None => Ok(Step::Create(path.to_vec(), value.clone())),
        Some(Found::Root(_)) => bail!("cannot replace the whole document"),
        Some(Found::Entry(entry, _)) => {
            let flow = written_flow(outline, &entry)?;
            let text = write_entry(&entry, value, flow);
            Ok(Step::Splice(entry.start, entry.end, text))
        }
        Some(Found::Inside(entry, depth)) => {
            let mut node = inline_node(outline, &entry)?;
            tree::set(&mut node, &path[depth..], value.clone())?;
            rewrite(outline, &entry, &node)
        }
    }
}

fn plan_remove(outline: &Outline<'_>, path: &[Seg]) -> Result<Step> {
    match find(outline, path)? {
        None => bail!("nothing to remove at {}", path_text(path)),
        Some(Found::Root(_)) => bail!("cannot remove the whole document"),
        Some(Found::Entry(entry, block)) => {
            let siblings = outline.entries(&block)?;
            if siblings.len() == 1 {
                let empty = if block.seq {
                    Node::Seq(Vec::new())
                } else {
                    Node::Map(Vec::new())
                };
                return Ok(Step::Set(path[..path.len() - 1].to_vec(), empty));
            }
            let line = outline.lines[entry.line];
            let (start, end) = if entry.start > line.start + line.indent {
                // The first entry of a `- key: value` item: the next one moves up.
                match siblings.get(1) {
                    Some(next) if next.start > entry.start => (entry.start, next.start),
                    _ => (line.start, entry.end),
                }
            } else {
                (line.start, entry.end)
            };
            Ok(Step::Splice(start, end, String::new()))
        }
        Some(Found::Inside(entry, depth)) => {
            let mut node = inline_node(outline, &entry)?;
            tree::remove(&mut node, &path[depth..])?;
            rewrite(outline, &entry, &node)
        }
    }
}

fn plan_insert_key(
    outline: &Outline<'_>,
    map: &[Seg],
    key: &str,
    value: &Node,
    place: &Place,
) -> Result<Step> {
    let inline = |entry: &Entry, inner: &[Seg]| {
        let mut node = inline_node(outline, entry)?;
        tree::insert_key(&mut node, inner, key, value.clone(), |keys| {
            place.index(keys, key)
        })?;
        rewrite(outline, entry, &node)
    };
    let block = match find(outline, map)? {
        None => {
            let single = Node::Map(vec![(key.to_owned(), value.clone())]);
            return Ok(Step::Create(map.to_vec(), single));
        }
        Some(Found::Root(block)) => block,
        Some(Found::Entry(entry, _)) => match outline.value(&entry)? {
            Value::Block(block) if !block.seq => block,
            Value::Block(_) => bail!("{} is a sequence, not a mapping", path_text(map)),
            Value::Inline { .. } => return inline(&entry, &[]),
        },
        Some(Found::Inside(entry, depth)) => return inline(&entry, &map[depth..]),
    };
    let entries = outline.entries(&block)?;
    let keys: Vec<&str> = entries.iter().filter_map(|e| e.key.as_deref()).collect();
    if keys.contains(&key) {
        bail!("{} already has the key {key:?}", path_text(map));
    }
    let text = emit::entry(&emit::key(key), value, block.column, false);
    let position = place.index(&keys, key);
    Ok(insert_at(outline, &entries, position, block.column, text))
}

fn plan_insert_item(
    outline: &Outline<'_>,
    seq: &[Seg],
    index: Option<usize>,
    value: &Node,
) -> Result<Step> {
    let inline = |entry: &Entry, inner: &[Seg]| {
        let mut node = inline_node(outline, entry)?;
        tree::insert_item(&mut node, inner, index, value.clone())?;
        rewrite(outline, entry, &node)
    };
    let block = match find(outline, seq)? {
        None => return Ok(Step::Create(seq.to_vec(), Node::Seq(vec![value.clone()]))),
        Some(Found::Root(_)) => bail!("the document is a mapping, not a sequence"),
        Some(Found::Entry(entry, _)) => match outline.value(&entry)? {
            Value::Block(block) if block.seq => block,
            Value::Block(_) => bail!("{} is a mapping, not a sequence", path_text(seq)),
            Value::Inline { .. } => return inline(&entry, &[]),
        },
        Some(Found::Inside(entry, depth)) => return inline(&entry, &seq[depth..]),
    };
    let entries = outline.entries(&block)?;
    let position = index.map_or(entries.len(), |i| i.min(entries.len()));
    let text = emit::item(value, block.column, false);
    Ok(insert_at(outline, &entries, position, block.column, text))
}

/// Insert an entry's text (unindented first line) at `position` among `entries`.
fn insert_at(
    outline: &Outline<'_>,
    entries: &[Entry],
    position: usize,
    column: usize,
    text: String,
) -> Step {
    let indent = " ".repeat(column);
    let at = match entries.get(position) {
        Some(next) => {
            let line = outline.lines[next.line];
            if next.start > line.start + line.indent {
                // Before the first entry of a `- key: value` item: take its place.
                return Step::Splice(next.start, next.start, format!("{text}{indent}"));
            }
            line.start
        }
        None => entries.last().map_or(outline.text.len(), |last| last.end),
    };
    let mut text = format!("{indent}{text}");
    if at == outline.text.len() && !outline.text.is_empty() && !outline.text.ends_with('\n') {
        text.insert(0, '\n');
    }
    Step::Splice(at, at, text)
}

/// Replace the inline value of `entry` by `node`, in flow style again when it was and
/// `node` is flat.
fn rewrite(outline: &Outline<'_>, entry: &Entry, node: &Node) -> Result<Step> {
    let flow = written_flow(outline, entry)?;
    let text = write_entry(entry, node, flow);
    Ok(Step::Splice(entry.start, entry.end, text))
}

/// What `path` leads to, or `None` when the text has no value there.
fn find(outline: &Outline<'_>, path: &[Seg]) -> Result<Option<Found>> {
    let mut block = outline.root()?;
    let mut found: Option<Entry> = None;
    for (depth, seg) in path.iter().enumerate() {
        if let Some(entry) = found.take() {
            match outline.value(&entry)? {
                Value::Block(inner) => block = inner,
                Value::Inline { .. } => return Ok(Some(Found::Inside(entry, depth))),
            }
        }
        let entry = match seg {
            Seg::Key(key) if !block.seq => outline.lookup(&block, Some(key), 0)?,
            Seg::Index(i) if block.seq => outline.lookup(&block, None, *i)?,
            Seg::New => None,
            _ => bail!(
                "{} is not a {} in the text",
                path_text(&path[..depth]),
                if block.seq { "mapping" } else { "sequence" }
            ),
        };
        match entry {
            Some(entry) => found = Some(entry),
            None => return Ok(None),
        }
    }
    Ok(Some(match found {
        Some(entry) => {
            let parent = block;
            Found::Entry(entry, parent)
        }
        None => Found::Root(block),
    }))
}

/// `key: value` or `- value` in place of `entry`, at its column.
fn write_entry(entry: &Entry, value: &Node, flow: bool) -> String {
    match &entry.key_text {
        Some(key) => emit::entry(key, value, entry.column, flow),
        None => emit::item(value, entry.column, flow),
    }
}

/// Whether `entry`'s value is written as a flow collection (`[…]`, `{…}`).
fn written_flow(outline: &Outline<'_>, entry: &Entry) -> Result<bool> {
    Ok(match outline.value(entry)? {
        Value::Inline { start, end } => outline.text[start..end].starts_with(['[', '{']),
        Value::Block(_) => false,
    })
}

/// The value `entry` writes inline, parsed.
fn inline_node(outline: &Outline<'_>, entry: &Entry) -> Result<Node> {
    let Value::Inline { start, end } = outline.value(entry)? else {
        bail!("expected an inline value");
    };
    let text = &outline.text[start..end];
    if text.trim().is_empty() {
        return Ok(Node::Null);
    }
    // Continuation lines keep their indentation, which YAML allows for a top-level value.
    serde_norway::from_str(text).map_err(|e| {
        let line = outline.text[..start].matches('\n').count() + 1;
        anyhow::anyhow!("line {line}: cannot read the value {text:?}: {e}")
    })
}
