//! The block structure of a YAML text, found by indentation: where each mapping entry and
//! sequence item starts and ends, and where its value is written.
//!
//! It reads the subset that OpenAPI files use: block mappings and sequences (the dash
//! indented under its key or level with it, `- key: value` items), plain, quoted, flow and
//! block-scalar values, comments and blank lines. Values written on the entry's line (scalars,
//! `{…}`/`[…]`, `|-` blocks) are opaque here: callers parse them when they must look inside.

use anyhow::{Result, bail};

/// One line of the text.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    /// Byte where it starts.
    pub start: usize,
    /// Byte after its last character (before `\n`).
    pub end: usize,
    /// Leading spaces.
    pub indent: usize,
    /// Whether it has content (not blank, not only a comment).
    pub content: bool,
}

/// The lines of `text`. (Written for speed in unoptimised builds, where `cargo xtask` runs:
/// the search for line ends is the standard library's, which is always optimised.)
pub fn lines(text: &str) -> Vec<Line> {
    lines_in(text, 0, text.len())
}

/// The lines of `text[from..to]` (`from` at a line start, `to` after a `\n` or at the end),
/// at their positions in `text`.
pub fn lines_in(text: &str, from: usize, to: usize) -> Vec<Line> {
    let bytes = text.as_bytes();
    let mut lines = Vec::with_capacity((to - from) / 32);
    let mut start = from;
    while start < to {
        let next = text[start..to].find('\n').map_or(to, |i| start + i + 1);
        let mut end = if bytes[next - 1] == b'\n' {
            next - 1
        } else {
            next
        };
        if end > start && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        let mut first = start;
        while first < end && bytes[first] == b' ' {
            first += 1;
        }
        let content = first < end && bytes[first] != b'#' && &bytes[first..end] != b"---";
        lines.push(Line {
            start,
            end,
            indent: first - start,
            content,
        });
        start = next;
    }
    lines
}

/// A block mapping or sequence: its entries sit at `column`, the first one at byte `first`
/// (which may be mid-line, after a `- `), the others at the start of later lines up to (not
/// including) line `end`.
#[derive(Debug, Clone, Copy)]
pub struct Block {
    /// Line of the first entry.
    pub line: usize,
    /// Byte of the first entry.
    pub first: usize,
    /// Column of every entry.
    pub column: usize,
    /// Line after the block.
    pub end: usize,
    /// Whether it is a sequence (entries are `- ` items).
    pub seq: bool,
}

/// A mapping entry or a sequence item.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Byte of its key or dash.
    pub start: usize,
    /// Byte after its last content line (and that line's `\n`).
    pub end: usize,
    /// Its first line.
    pub line: usize,
    /// Line after its last content line.
    pub end_line: usize,
    /// Column of its key or dash.
    pub column: usize,
    /// The key as written (`"200"` keeps its quotes); `None` for a sequence item.
    pub key_text: Option<String>,
    /// The key's value (`200`); `None` for a sequence item.
    pub key: Option<String>,
    /// Byte where its value starts on the first line (after `key: ` or `- `).
    pub value_start: usize,
}

/// How an entry's value is written.
#[derive(Debug, Clone, Copy)]
pub enum Value {
    /// On the entry's line (maybe continued below): a scalar, a flow collection, a block
    /// scalar; `start..end` is its text. Empty when the value is null.
    Inline {
        /// Byte where it starts.
        start: usize,
        /// Byte where it ends (no trailing newline).
        end: usize,
    },
    /// A block mapping or sequence.
    Block(Block),
}

/// The outline of one text.
pub struct Outline<'t> {
    /// The text.
    pub text: &'t str,
    /// Its lines (`lines(text)`).
    pub lines: &'t [Line],
}

impl<'t> Outline<'t> {
    /// Outline `text`, whose lines are `lines`.
    pub fn new(text: &'t str, lines: &'t [Line]) -> Outline<'t> {
        Outline { text, lines }
    }

    /// The document's top-level block mapping.
    pub fn root(&self) -> Result<Block> {
        let Some(line) = self.lines.iter().position(|l| l.content) else {
            bail!("the document is empty");
        };
        let first = self.lines[line];
        if first.indent != 0 {
            bail!("the document does not start with a block mapping at column 0");
        }
        Ok(Block {
            line,
            first: first.start,
            column: 0,
            end: self.lines.len(),
            seq: false,
        })
    }

    /// Byte after line `i` (its `\n` included).
    fn line_after(&self, i: usize) -> usize {
        self.lines
            .get(i + 1)
            .map_or(self.text.len(), |next| next.start)
    }

    /// The entries of a block.
    pub fn entries(&self, block: &Block) -> Result<Vec<Entry>> {
        let mut starts = vec![(block.line, block.first)];
        for i in block.line + 1..block.end {
            let line = self.lines[i];
            if !line.content {
                continue;
            }
            if line.indent < block.column {
                bail!("line {} is indented less than its block", i + 1);
            }
            if line.indent == block.column {
                let dash = self.is_item(line.start + line.indent);
                if block.seq && !dash {
                    bail!("line {} mixes mapping entries and sequence items", i + 1);
                }
                // A sequence written level with its key belongs to the entry above.
                if dash == block.seq {
                    starts.push((i, line.start + line.indent));
                }
            }
        }
        let mut entries = Vec::with_capacity(starts.len());
        for (n, &(line, start)) in starts.iter().enumerate() {
            let next = starts.get(n + 1).map_or(block.end, |&(l, _)| l);
            entries.push(self.entry(block, line, start, next)?);
        }
        Ok(entries)
    }

    /// The entry of `block` a path step names, if it has one: like `entries`, but reading
    /// only the keys that may match (a 4 MB file has thousands of schemas).
    pub fn lookup(&self, block: &Block, key: Option<&str>, index: usize) -> Result<Option<Entry>> {
        let mut count = 0;
        let mut found: Option<(usize, usize)> = None;
        for i in block.line..block.end {
            let line = self.lines[i];
            let start = if i == block.line {
                block.first
            } else {
                line.start + line.indent
            };
            if i > block.line {
                if !line.content || line.indent > block.column {
                    continue;
                }
                if line.indent < block.column {
                    bail!("line {} is indented less than its block", i + 1);
                }
                if self.is_item(start) != block.seq {
                    if block.seq {
                        bail!("line {} mixes mapping entries and sequence items", i + 1);
                    }
                    continue;
                }
            }
            if let Some((line, start)) = found {
                return self.entry(block, line, start, i).map(Some);
            }
            let hit = match key {
                None => count == index,
                Some(key) => {
                    let rest = &self.text[start..];
                    (rest.starts_with(key) && rest[key.len()..].starts_with(':'))
                        || rest.starts_with(['"', '\''])
                }
            };
            count += 1;
            if hit {
                let entry = self.entry(block, i, start, block.end)?;
                if key.is_none() || entry.key.as_deref() == key {
                    found = Some((i, start));
                }
            }
        }
        match found {
            Some((line, start)) => self.entry(block, line, start, block.end).map(Some),
            None => Ok(None),
        }
    }

    /// The entry of `block` starting at byte `start` of line `line`, whose next sibling (or
    /// the block's end) is line `next`.
    fn entry(&self, block: &Block, line: usize, start: usize, next: usize) -> Result<Entry> {
        let last = (line..next)
            .rev()
            .find(|&i| self.lines[i].content)
            .unwrap_or(line);
        let mut entry = Entry {
            start,
            end: self.line_after(last),
            line,
            end_line: last + 1,
            column: block.column,
            key_text: None,
            key: None,
            value_start: start,
        };
        if block.seq {
            let after = start + 1;
            entry.value_start = after + usize::from(self.text[after..].starts_with(' '));
        } else {
            let (text, key, value_start) = self.key_at(start, line)?;
            entry.key_text = Some(text);
            entry.key = Some(key);
            entry.value_start = value_start;
        }
        Ok(entry)
    }

    /// How `entry`'s value is written.
    pub fn value(&self, entry: &Entry) -> Result<Value> {
        let line_end = self.lines[entry.line].end;
        let rest = &self.text[entry.value_start..line_end];
        let trimmed = rest.trim();
        let below = (entry.line + 1..entry.end_line).find(|&i| self.lines[i].content);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            let Some(first) = below else {
                return Ok(Value::Inline {
                    start: entry.value_start,
                    end: entry.value_start,
                });
            };
            let line = self.lines[first];
            let start = line.start + line.indent;
            let seq = self.is_item(start);
            if line.indent < entry.column || (line.indent == entry.column && !seq) {
                bail!("line {} is not indented under its key", first + 1);
            }
            return Ok(Value::Block(Block {
                line: first,
                first: start,
                column: line.indent,
                end: entry.end_line,
                seq,
            }));
        }
        let column = entry.value_start - self.lines[entry.line].start;
        let compact =
            entry.key.is_none() && (self.is_item(entry.value_start) || self.has_key(rest));
        if compact {
            return Ok(Value::Block(Block {
                line: entry.line,
                first: entry.value_start,
                column,
                end: entry.end_line,
                seq: self.is_item(entry.value_start),
            }));
        }
        let end = self.lines[entry.end_line - 1].end;
        Ok(Value::Inline {
            start: entry.value_start,
            end,
        })
    }

    /// Whether a sequence item (`- x` or a lone `-`) starts at byte `at`.
    fn is_item(&self, at: usize) -> bool {
        let rest = &self.text[at..];
        rest.starts_with("- ") || rest.starts_with("-\n") || rest == "-" || rest.starts_with("-\r")
    }

    /// Whether the text of a sequence item's line starts with `key:` (a compact mapping).
    fn has_key(&self, rest: &str) -> bool {
        if rest.starts_with(['{', '[', '|', '>', '&', '*', '!']) {
            return false;
        }
        split_key(rest).is_some()
    }

    /// The key written at byte `at` of line `line`: as written, its value, and where the
    /// entry's value starts.
    fn key_at(&self, at: usize, line: usize) -> Result<(String, String, usize)> {
        let line_end = self.lines[line].end;
        let rest = &self.text[at..line_end];
        let Some((written, after)) = split_key(rest) else {
            bail!("line {}: expected `key:`, found {:?}", line + 1, cut(rest));
        };
        let key = if written.starts_with(['"', '\'']) {
            match serde_norway::from_str::<String>(written) {
                Ok(key) => key,
                Err(e) => bail!("line {}: cannot read the key {written}: {e}", line + 1),
            }
        } else {
            written.to_owned()
        };
        let value_start = at + after + rest[after..].len() - rest[after..].trim_start().len();
        Ok((written.to_owned(), key, value_start))
    }
}

/// `key: rest` → (`key`, byte after the colon), for plain or quoted keys.
fn split_key(text: &str) -> Option<(&str, usize)> {
    let colon = match text.chars().next()? {
        quote @ ('"' | '\'') => {
            let mut escaped = false;
            let close = text[1..].char_indices().find_map(|(i, c)| {
                let found = c == quote && !escaped;
                escaped = quote == '"' && c == '\\' && !escaped;
                found.then_some(i + 1)
            })?;
            text[close + 1..].starts_with(':').then_some(close + 1)?
        }
        '?' | '-' if text[1..].starts_with(' ') => return None,
        _ => text
            .match_indices(':')
            .map(|(i, _)| i)
            .find(|&i| text[i + 1..].is_empty() || text[i + 1..].starts_with([' ', '\t']))?,
    };
    let after = colon + 1;
    let ok = text[after..].is_empty() || text[after..].starts_with([' ', '\t']);
    ok.then_some((&text[..colon], after))
}

fn cut(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# comment\na:\n  b: 1\n\n  \"c\": [1, 2]\nlist:\n  - x\n  - k: v\n    m:\n      - 1\nflat:\n- 1\n- 2\nlast: |-\n  text\n  more\n";

    #[test]
    fn entries_and_values_are_found_by_indentation() {
        let lines = lines(TEXT);
        let outline = Outline::new(TEXT, &lines);
        let root = outline.root().unwrap();
        let entries = outline.entries(&root).unwrap();
        let keys: Vec<&str> = entries.iter().filter_map(|e| e.key.as_deref()).collect();
        assert_eq!(keys, ["a", "list", "flat", "last"]);
        let Value::Block(a) = outline.value(&entries[0]).unwrap() else {
            panic!("a is a block")
        };
        let inner = outline.entries(&a).unwrap();
        assert_eq!(inner[1].key_text.as_deref(), Some("\"c\""));
        assert_eq!(inner[1].key.as_deref(), Some("c"));
        let Value::Inline { start, end } = outline.value(&inner[1]).unwrap() else {
            panic!("c is inline")
        };
        assert_eq!(&TEXT[start..end], "[1, 2]");
        // The blank line inside `a` stays outside `b`.
        assert_eq!(&TEXT[inner[0].start..inner[0].end], "b: 1\n");

        let Value::Block(list) = outline.value(&entries[1]).unwrap() else {
            panic!("list is a block")
        };
        let items = outline.entries(&list).unwrap();
        assert_eq!(items.len(), 2);
        let Value::Block(compact) = outline.value(&items[1]).unwrap() else {
            panic!("- k: v is a compact mapping")
        };
        let compact = outline.entries(&compact).unwrap();
        assert_eq!(compact[0].key.as_deref(), Some("k"));
        assert_eq!(compact[1].column, 4);

        let Value::Block(flat) = outline.value(&entries[2]).unwrap() else {
            panic!("flat is a block")
        };
        assert!(flat.seq && flat.column == 0);
        assert_eq!(outline.entries(&flat).unwrap().len(), 2);
        let Value::Inline { start, end } = outline.value(&entries[3]).unwrap() else {
            panic!("a block scalar is opaque")
        };
        assert_eq!(&TEXT[start..end], "|-\n  text\n  more");
    }

    #[test]
    fn keys_plain_quoted_and_odd() {
        assert_eq!(split_key("a: b"), Some(("a", 2)));
        assert_eq!(split_key("/a/{b}:"), Some(("/a/{b}", 7)));
        assert_eq!(split_key("url: https://x"), Some(("url", 4)));
        assert_eq!(split_key("'a: b': c"), Some(("'a: b'", 7)));
        assert_eq!(split_key("\"a\\\"\": c"), Some(("\"a\\\"\"", 6)));
        assert_eq!(split_key("https://x"), None);
        assert_eq!(split_key("- a: b"), None);
    }
}
