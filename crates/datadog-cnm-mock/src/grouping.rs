//! Grouping flows for a response: group keys, the hash map they go into, the filter, and
//! the sort that picks a page of rows.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::interner::Interner;
use crate::params::{MAX_GROUP_BY, Params};
use crate::query::Matcher;

pub(crate) type GroupKey = [u32; MAX_GROUP_BY];

/// FxHash: group keys are small arrays of our own ids, so SipHash's DoS resistance buys
/// nothing and costs a noticeable share of a 7500-row request.
#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The requested group-by keys resolved against one endpoint's tag slots.
pub(crate) struct Grouping {
    /// `None` for a key no flow has: every flow reports `N/A` for it.
    pub(crate) slots: Vec<Option<usize>>,
    pub(crate) escaped_keys: Vec<String>,
    not_available: u32,
}

impl Grouping {
    pub(crate) fn new(keys: &[&str], group_by: &[String], not_available: u32) -> Self {
        Self {
            slots: group_by
                .iter()
                .map(|key| keys.iter().position(|k| k == key))
                .collect(),
            escaped_keys: group_by.iter().map(|k| crate::json::escape(k)).collect(),
            not_available,
        }
    }

    pub(crate) fn key(&self, tags: &[u32]) -> GroupKey {
        let mut key = [0; MAX_GROUP_BY];
        for (out, slot) in key.iter_mut().zip(&self.slots) {
            *out = slot
                .and_then(|s| tags.get(s).copied())
                .unwrap_or(self.not_available);
        }
        key
    }

    /// Ties on the sort metric are broken by the group values so the order is total and the
    /// same on every run.
    fn compare(&self, a: &GroupKey, b: &GroupKey, strings: &Interner) -> Ordering {
        a.iter()
            .zip(b)
            .take(self.slots.len())
            .map(|(&x, &y)| strings.get(x).cmp(strings.get(y)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }

    /// `"key:value,key:value"`, escaped, without quotes.
    pub(crate) fn write_id(&self, key: &GroupKey, strings: &Interner, out: &mut Vec<u8>) {
        for (i, (name, &value)) in self.escaped_keys.iter().zip(key).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            out.extend_from_slice(strings.escaped(value).as_bytes());
        }
    }
}

/// Indices of the first `limit` groups sorted descending by `weights`, then by group values.
/// Groups without a weight counted nothing in the window and are left out, as groups without
/// traffic are on the real API (a group that counted only, say, timeouts is listed, last by
/// bytes: so every count of a window is in some row, and adjacent pages add up). Sorting
/// indices rather than the groups keeps a 7500-row sort from moving megabytes around.
pub(crate) fn top(
    keys: &[GroupKey],
    weights: &[Option<u128>],
    limit: usize,
    grouping: &Grouping,
    strings: &Interner,
) -> Vec<usize> {
    let mut order: Vec<(u128, usize)> = weights
        .iter()
        .enumerate()
        .filter_map(|(i, w)| w.map(|w| (w, i)))
        .collect();
    let compare = |a: &(u128, usize), b: &(u128, usize)| {
        b.0.cmp(&a.0)
            .then_with(|| match (keys.get(a.1), keys.get(b.1)) {
                (Some(x), Some(y)) => grouping.compare(x, y, strings),
                _ => Ordering::Equal,
            })
    };
    if order.len() > limit && limit > 0 {
        order.select_nth_unstable_by(limit - 1, compare);
        order.truncate(limit);
    }
    order.sort_unstable_by(compare);
    order.into_iter().map(|(_, i)| i).collect()
}

pub(crate) fn matcher(params: &Params, keys: &[&str], strings: &Interner) -> Option<Matcher> {
    params
        .filter
        .as_ref()
        .map(|expr| Matcher::compile(expr, keys, strings))
}
