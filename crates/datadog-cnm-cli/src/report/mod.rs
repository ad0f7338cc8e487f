//! `ddcnm report`'s document: pure functions from pages to HTML and SVG text.
//!
//! - [`model`]: the report as data (sections, map, charts, tables), no markup;
//! - [`collect`]: pages and trends → the model (labels, top tables, chart lines, facts);
//!   [`edges`]: connection rows → the map's nodes and edges; [`changes`]: a comparison →
//!   the "what changed" tables;
//! - [`layout`]: the service map's layered layout; [`map`]: its SVG and legend;
//! - [`chart`]: trend charts as SVG;
//! - [`html`]: the document around them;
//! - [`svg`]: escaping and number formatting for all of them.
//!
//! Nothing here reads, sends or writes: `commands/report.rs` queries and writes the file,
//! so everything here is tested on fixed input, snapshots included. Dependencies run one
//! way: `html` → `map`, `chart`; `map` → `layout`; `edges`, `changes` → `collect` →
//! `chart`; `edges` → `map`; all → `model`, `svg`.

pub mod changes;
pub mod chart;
pub mod collect;
pub mod edges;
pub mod html;
pub mod layout;
pub mod map;
pub mod model;
pub mod svg;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
