//! Strings stored once and referred to by `u32` id.

use std::collections::HashMap;

/// Strings stored once, referred to by `u32` id, with their JSON-escaped form precomputed so
/// serializing a 7500-row page is mostly `memcpy`.
pub(crate) struct Interner {
    strings: Vec<Box<str>>,
    escaped: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
}

impl Interner {
    pub(crate) fn new() -> Self {
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

    /// The id of `s`, if it was interned.
    pub(crate) fn find(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
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
