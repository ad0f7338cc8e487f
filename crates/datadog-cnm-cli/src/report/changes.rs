//! What changed between two periods: new and gone groups, the largest increases and
//! decreases, as tables. Pure, like the rest of `collect`.

use datadog_cnm::Row;
use datadog_cnm::analysis::{Compared, Comparison, Measure, Number, Order, Status};

use super::collect::{Groups, cell_value, column_head};
use super::model::{Cell, Head, Table, Tone};
use crate::format;

/// The "what changed" tables of a comparison: new groups and gone groups by `lead`, then
/// the largest increases and decreases of `lead`, then the largest increases of each of
/// `rising`.
pub fn changes<R: Row>(
    noun: &str,
    comparison: &Comparison<R>,
    groups: &Groups,
    lead: Measure<R>,
    rising: &[Measure<R>],
    n: usize,
) -> Vec<Table> {
    let value = |row: &Option<R>, m: Measure<R>| row.as_ref().and_then(|r| m.value(r));
    let by = |status: Status, now: bool| {
        let mut rows: Vec<&Compared<R>> = comparison
            .rows
            .iter()
            .filter(|c| c.status == status)
            .collect();
        rows.sort_by(|a, b| {
            let (a_row, b_row) = if now {
                (&a.current, &b.current)
            } else {
                (&a.previous, &b.previous)
            };
            Order::Descending
                .compare(
                    value(a_row, lead).map(Number::as_f64),
                    value(b_row, lead).map(Number::as_f64),
                )
                .then_with(|| a.group_bys.cmp(&b.group_bys))
        });
        rows
    };
    let previous = format::window(&comparison.previous);
    let mut tables = Vec::new();
    for (status, now) in [(Status::New, true), (Status::Gone, false)] {
        let rows = by(status, now);
        let mut head = groups.heads();
        head.push(column_head(lead));
        let mut note = format!(
            "{} {noun}{} {}, by {} {}.",
            format::count(rows.len() as i64),
            if rows.len() == 1 { "" } else { "s" },
            match status {
                Status::New => format!("in this window but not in {previous}"),
                _ => format!("in {previous} but not in this window"),
            },
            lead.name(),
            if now { "now" } else { "then" },
        );
        if status == Status::New && comparison.previous_truncated {
            note.push_str(
                " The previous page was cut at the limit: some may only have been beyond it.",
            );
        }
        if status == Status::Gone && comparison.current_truncated {
            note.push_str(" This window's page was cut at the limit: some may only be beyond it.");
        }
        let tone = if status == Status::New {
            Tone::New
        } else {
            Tone::Gone
        };
        tables.push(Table {
            title: format!(
                "{} {noun}s",
                if status == Status::New { "New" } else { "Gone" }
            ),
            note: Some(note),
            head,
            rows: rows
                .iter()
                .take(n)
                .map(|c| {
                    let mut cells: Vec<Cell> = groups
                        .cells(&c.group_bys)
                        .into_iter()
                        .map(|cell| Cell::toned(cell.text, tone))
                        .collect();
                    let row = if now { &c.current } else { &c.previous };
                    cells.push(cell_value(lead.unit(), value(row, lead)));
                    cells
                })
                .collect(),
            empty: "None.".to_owned(),
        });
    }
    let deltas = [(lead, Order::Descending), (lead, Order::Ascending)]
        .into_iter()
        .chain(rising.iter().map(|m| (*m, Order::Descending)));
    for (measure, order) in deltas {
        let mut rows: Vec<(&Compared<R>, f64)> = comparison
            .rows
            .iter()
            .filter_map(|c| Some((c, c.delta(measure)?)))
            .filter(|(_, d)| match order {
                Order::Descending => *d > 0.0,
                Order::Ascending => *d < 0.0,
            })
            .collect();
        rows.sort_by(|a, b| {
            order
                .compare(Some(a.1), Some(b.1))
                .then_with(|| a.0.group_bys.cmp(&b.0.group_bys))
        });
        let unit = measure.unit();
        let mut head = groups.heads();
        head.extend([
            Head::number("before", format::unit_label(unit, false)),
            Head::number("now", format::unit_label(unit, false)),
            Head::number("Δ", format::unit_label(unit, false)),
            Head::number("Δ%", ""),
        ]);
        let tone = if order == Order::Descending {
            Tone::Up
        } else {
            Tone::Down
        };
        tables.push(Table {
            title: format!(
                "Largest {} of {}",
                if order == Order::Descending {
                    "increases"
                } else {
                    "decreases"
                },
                measure.label()
            ),
            note: Some(format!(
                "{} {noun}{} {} ({} against {previous}; a group missing from one period counts \
                 as zero there).",
                format::count(rows.len() as i64),
                if rows.len() == 1 { "" } else { "s" },
                if order == Order::Descending {
                    "rose"
                } else {
                    "fell"
                },
                measure.name()
            )),
            head,
            rows: rows
                .iter()
                .take(n)
                .map(|(c, delta)| {
                    let mut cells = groups.cells(&c.group_bys);
                    cells.push(cell_value(unit, value(&c.previous, measure)));
                    cells.push(cell_value(unit, value(&c.current, measure)));
                    cells.push(Cell::toned(format::delta(unit, *delta), tone));
                    cells.push(match c.change(measure) {
                        Some(change) => Cell::toned(format::change(change), tone),
                        None if c.status == Status::New => Cell::toned("new", Tone::New),
                        None => Cell::plain("–"),
                    });
                    cells
                })
                .collect(),
            empty: "None.".to_owned(),
        });
    }
    tables
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{flat, keys};
    use datadog_cnm::{Connection, Page, Window};
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn comparisons_list_new_gone_and_the_largest_changes() {
        let page = |rows: Vec<Connection>, at: u64| Page {
            rows,
            window: Window {
                from: UNIX_EPOCH + Duration::from_secs(at),
                to: UNIX_EPOCH + Duration::from_secs(at + 3600),
            },
            truncated: false,
            limit: 100,
            rate_limit: None,
            extra_members: Default::default(),
        };
        let now = page(
            vec![
                flat("a", "b", 2000, 50),
                flat("new", "b", 10, 0),
                flat("c", "d", 10, 0),
            ],
            86_400,
        );
        let then = page(
            vec![
                flat("a", "b", 1000, 10),
                flat("gone", "b", 10, 0),
                flat("c", "d", 400, 0),
            ],
            0,
        );
        let comparison = datadog_cnm::analysis::compare(now, then);
        let groups = Groups::new(&keys(&["client_service", "server_service"]));
        let m = |name| Measure::<Connection>::parse(name).unwrap();
        let tables = changes(
            "pair",
            &comparison,
            &groups,
            m("total_bytes"),
            &[m("tcp_retransmits")],
            10,
        );
        let titles: Vec<&str> = tables.iter().map(|t| t.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "New pairs",
                "Gone pairs",
                "Largest increases of bytes",
                "Largest decreases of bytes",
                "Largest increases of retransmits"
            ]
        );
        let first = |t: &Table| t.rows.iter().map(|r| r[0].text.clone()).collect::<Vec<_>>();
        assert_eq!(first(&tables[0]), ["new"]);
        assert_eq!(first(&tables[1]), ["gone"]);
        assert_eq!(first(&tables[2]), ["a", "new"]);
        assert_eq!(tables[2].rows[0][4].text, "+1000 B");
        assert_eq!(tables[2].rows[0][5].text, "+100 %");
        assert_eq!(first(&tables[3]), ["c", "gone"]);
        assert_eq!(first(&tables[4]), ["a"]);
    }
}
