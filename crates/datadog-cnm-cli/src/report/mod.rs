//! `ddcnm report`'s document: pure functions from pages to HTML and SVG text.
//!
//! - [`model`]: the report as data (sections, map, charts, tables), no markup;
//! - [`collect`]: pages, trends and comparisons → the model (rankings, labels, cells);
//! - [`map`]: the service map's layered layout and its SVG;
//! - [`chart`]: trend charts as SVG;
//! - [`html`]: the document around them;
//! - [`svg`]: escaping and number formatting for all of them.
//!
//! Nothing here reads, sends or writes: `commands/report.rs` queries and writes the file,
//! so everything here is tested on fixed input, snapshots included. Dependencies run one
//! way: `html` → `map`, `chart` → `svg`, `model`; `collect` → `map`, `chart`, `model`.

pub mod chart;
pub mod collect;
pub mod html;
pub mod map;
pub mod model;
pub mod svg;

#[cfg(test)]
pub(crate) mod tests;
