//! The same edits on a parsed value, for values written inline (`{}`, `[1, 2]`).

use anyhow::{Result, bail};

use crate::spec_diff::node::{Node, Seg, path_text};

/// The value at `path`, mutably.
fn at<'n>(node: &'n mut Node, path: &[Seg]) -> Result<&'n mut Node> {
    let mut current = node;
    for (depth, seg) in path.iter().enumerate() {
        current = match (seg, current) {
            (Seg::Key(key), Node::Map(entries)) => match entries.iter_mut().find(|(k, _)| k == key)
            {
                Some((_, value)) => value,
                None => bail!("no key {key:?} at {}", path_text(&path[..depth])),
            },
            (Seg::Index(i), Node::Seq(items)) => match items.get_mut(*i) {
                Some(value) => value,
                None => bail!("no item {i} at {}", path_text(&path[..depth])),
            },
            _ => bail!("nothing at {}", path_text(&path[..=depth])),
        };
    }
    Ok(current)
}

/// Set the value at `path` (appending for a final `Seg::New` or an index one past the end,
/// adding a final missing key).
pub fn set(node: &mut Node, path: &[Seg], value: Node) -> Result<()> {
    let Some((last, parent)) = path.split_last() else {
        *node = value;
        return Ok(());
    };
    match (last, at(node, parent)?) {
        (Seg::Key(key), Node::Map(entries)) => match entries.iter_mut().find(|(k, _)| k == key) {
            Some((_, old)) => *old = value,
            None => entries.push((key.clone(), value)),
        },
        (Seg::Index(i), Node::Seq(items)) if *i < items.len() => items[*i] = value,
        (Seg::Index(i), Node::Seq(items)) if *i == items.len() => items.push(value),
        (Seg::New, Node::Seq(items)) => items.push(value),
        _ => bail!("cannot set {}", path_text(path)),
    }
    Ok(())
}

/// Remove the value at `path`.
pub fn remove(node: &mut Node, path: &[Seg]) -> Result<()> {
    let Some((last, parent)) = path.split_last() else {
        bail!("cannot remove the whole value");
    };
    match (last, at(node, parent)?) {
        (Seg::Key(key), Node::Map(entries)) if entries.iter().any(|(k, _)| k == key) => {
            entries.retain(|(k, _)| k != key);
        }
        (Seg::Index(i), Node::Seq(items)) if *i < items.len() => {
            items.remove(*i);
        }
        _ => bail!("nothing to remove at {}", path_text(path)),
    }
    Ok(())
}

/// Add `key: value` to the mapping at `path` (null counts as an empty mapping), at the
/// position `place` picks among the existing keys.
pub fn insert_key(
    node: &mut Node,
    path: &[Seg],
    key: &str,
    value: Node,
    place: impl FnOnce(&[&str]) -> usize,
) -> Result<()> {
    let target = at(node, path)?;
    if matches!(target, Node::Null) {
        *target = Node::Map(Vec::new());
    }
    let Node::Map(entries) = target else {
        bail!("{} is not a mapping", path_text(path));
    };
    if entries.iter().any(|(k, _)| k == key) {
        bail!("{} already has the key {key:?}", path_text(path));
    }
    let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    let position = place(&keys).min(entries.len());
    entries.insert(position, (key.to_owned(), value));
    Ok(())
}

/// Insert `value` into the sequence at `path` before `index` (at the end when `None`).
pub fn insert_item(node: &mut Node, path: &[Seg], index: Option<usize>, value: Node) -> Result<()> {
    let target = at(node, path)?;
    if matches!(target, Node::Null) {
        *target = Node::Seq(Vec::new());
    }
    let Node::Seq(items) = target else {
        bail!("{} is not a sequence", path_text(path));
    };
    let position = index.map_or(items.len(), |i| i.min(items.len()));
    items.insert(position, value);
    Ok(())
}
