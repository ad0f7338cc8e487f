//! What `spec-sync` prints: what it took, what it kept, what the maintainer must decide.

use std::fmt::Write as _;

use crate::spec_diff::compare::{Difference, Kind};
use crate::spec_diff::explain::Entry;

/// Everything the summary shows.
pub struct Summary<'a> {
    /// Our fragment, as named on the command line.
    pub ours: &'a str,
    /// The upstream file, as named on the command line.
    pub upstream: &'a str,
    /// The `FIXES.md`, as named on the command line.
    pub fixes: &'a str,
    /// The differences taken from upstream.
    pub took: Vec<&'a Difference>,
    /// Components copied along with them (`$ref`s).
    pub brought: Vec<String>,
    /// The entries of `FIXES.md` and how many differences each kept as ours.
    pub kept: Vec<(&'a Entry, usize)>,
    /// What the maintainer must decide, one sentence each.
    pub decide: Vec<String>,
    /// Lines added and removed in our fragment, when it changed.
    pub changed: Option<(usize, usize)>,
}

impl Summary<'_> {
    /// The text to print.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "spec-sync: {} from {}\n", self.ours, self.upstream);
        if self.took.is_empty() {
            let _ = writeln!(
                out,
                "Took from upstream: nothing (no unexplained difference)."
            );
        } else {
            let _ = writeln!(
                out,
                "Took from upstream ({}; + only upstream has it, ~ upstream's value, - only ours \
                 had it, with no entry in {}):",
                self.took.len(),
                self.fixes
            );
            for d in &self.took {
                let sign = match d.kind {
                    Kind::Removed => "+",
                    Kind::Added => "-",
                    Kind::Changed => "~",
                };
                let _ = writeln!(out, "  {sign} {}", d.location);
            }
            if !self.brought.is_empty() {
                let _ = writeln!(
                    out,
                    "  and what they reference: {}",
                    self.brought.join(", ")
                );
            }
        }
        let total: usize = self.kept.iter().map(|(_, n)| n).sum();
        let _ = writeln!(
            out,
            "\nKept ours ({total} difference{}, each explained by {}):",
            if total == 1 { "" } else { "s" },
            self.fixes
        );
        for (entry, count) in self.kept.iter().filter(|(_, n)| *n > 0) {
            let _ = writeln!(out, "  {:<4} {count:>3}  {}", entry.id, entry.title);
        }
        if self.decide.is_empty() {
            let _ = writeln!(out, "\nNothing to decide.");
        } else {
            let _ = writeln!(out, "\nDecide ({}):", self.decide.len());
            for (i, decision) in self.decide.iter().enumerate() {
                let _ = writeln!(out, "  {}. {decision}", i + 1);
            }
        }
        let _ = match self.changed {
            Some((added, removed)) => writeln!(
                out,
                "\nWrote {} (+{added} -{removed} lines); review it with `git diff`.",
                self.ours
            ),
            None => writeln!(out, "\n{} is unchanged.", self.ours),
        };
        out
    }
}
