//! Where a difference is: the location the report prints, and where that is in each file.
//!
//! The printed location is semantic (`GetAggregatedDns › parameter group_by › description`):
//! `$ref`s are followed, properties appear under their schema, parameters by name. Tools that
//! edit a file (`spec-sync`, `upstream-patch`) need the concrete place instead, so every
//! location also carries, for each side, the path to the value in that document (through the
//! `$ref` the side uses, if any), or to where the value would be when that side lacks it.

use std::cmp::Ordering;
use std::fmt;

use crate::spec_diff::node::{NodePath, Seg};

/// A location, printed as its segments; compared by its segments only.
#[derive(Debug, Clone, Default)]
pub struct Location {
    /// What the report prints: `["GetAggregatedDns", "parameter group_by", "description"]`.
    pub segments: Vec<String>,
    /// Where it is in the upstream document (or would be, when upstream lacks it).
    pub upstream: NodePath,
    /// Where it is in our document (or would be, when ours lacks it).
    pub ours: NodePath,
}

impl Location {
    /// A top-level key, the same on both sides: `openapi`, `servers`.
    pub(super) fn root(first: impl Into<String>) -> Location {
        let first = first.into();
        Location {
            segments: vec![first.clone()],
            upstream: vec![Seg::Key(first.clone())],
            ours: vec![Seg::Key(first)],
        }
    }

    /// A location whose concrete paths differ between the sides (an operation, a tag).
    pub(super) fn root_at(
        first: impl Into<String>,
        upstream: NodePath,
        ours: NodePath,
    ) -> Location {
        Location {
            segments: vec![first.into()],
            upstream,
            ours,
        }
    }

    /// A child whose segment is also the key on both sides.
    pub(super) fn child(&self, segment: impl Into<String>) -> Location {
        let segment = segment.into();
        let mut location = self.clone();
        location.upstream.push(Seg::Key(segment.clone()));
        location.ours.push(Seg::Key(segment.clone()));
        location.segments.push(segment);
        location
    }

    /// A child reached through the given concrete steps on each side.
    pub(super) fn child_at(
        &self,
        segment: impl Into<String>,
        upstream: &[Seg],
        ours: &[Seg],
    ) -> Location {
        let mut location = self.clone();
        location.segments.push(segment.into());
        location.upstream.extend_from_slice(upstream);
        location.ours.extend_from_slice(ours);
        location
    }

    /// A child at concrete paths of its own on each side (security alternatives).
    pub(super) fn child_at_paths(
        &self,
        segment: impl Into<String>,
        upstream: NodePath,
        ours: NodePath,
    ) -> Location {
        let mut segments = self.segments.clone();
        segments.push(segment.into());
        Location {
            segments,
            upstream,
            ours,
        }
    }

    /// The same printed location, one concrete step further on both sides (`properties`).
    pub(super) fn within(&self, key: &str) -> Location {
        let mut location = self.clone();
        location.upstream.push(Seg::key(key));
        location.ours.push(Seg::key(key));
        location
    }

    /// The same printed location where a side's value is a `$ref`: there, its target.
    pub(super) fn resolved(&self, upstream: Option<NodePath>, ours: Option<NodePath>) -> Location {
        let mut location = self.clone();
        if let Some(path) = upstream {
            location.upstream = path;
        }
        if let Some(path) = ours {
            location.ours = path;
        }
        location
    }

    /// `servers` → `servers[2]`: an item of the list the last segment names.
    pub(super) fn index(&self, i: usize) -> Location {
        let mut location = self.clone();
        if let Some(last) = location.segments.last_mut() {
            last.push_str(&format!("[{i}]"));
        }
        location.upstream.push(Seg::Index(i));
        location.ours.push(Seg::Index(i));
        location
    }

    pub(super) fn last(&self) -> &str {
        self.segments.last().map_or("", String::as_str)
    }
}

impl PartialEq for Location {
    fn eq(&self, other: &Location) -> bool {
        self.segments == other.segments
    }
}

impl Eq for Location {}

impl PartialOrd for Location {
    fn partial_cmp(&self, other: &Location) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Location {
    fn cmp(&self, other: &Location) -> Ordering {
        self.segments.cmp(&other.segments)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join(" › "))
    }
}
