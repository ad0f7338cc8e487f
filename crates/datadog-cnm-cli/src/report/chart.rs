//! Trend charts as SVG, written by hand: one line per group through the middle of each
//! window, a y axis with round ticks in the measure's unit per second, time on the x axis,
//! partial windows shaded and failed ones marked.

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use datadog_cnm::Unit;
use datadog_cnm::analysis::Number;

use super::model::{Chart, ChartWindow};
use super::svg::{escape, num};
use crate::format;
use crate::time::rfc3339;

/// Line colours, in order (Tableau 10, which stays apart for most colour vision).
pub const PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#b07aa1", "#9c755f", "#edc948",
];

/// The colour of line `i`.
pub fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 26.0;
/// Intervals between time labels, in seconds: the first that keeps them few enough.
const ROUND_TIMES: [i64; 12] = [
    60,
    300,
    900,
    1800,
    3600,
    7200,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    2 * 86_400,
    7 * 86_400,
];
/// Beyond this many windows, points carry no marker (the lines still do).
const MAX_MARKERS: usize = 60;

/// A per-second value: `1.20 MiB/s`, `450/s`, `4.56 %` (a ratio has no rate).
pub fn rate(unit: Unit, value: f64) -> String {
    // Whole numbers (round ticks) read without decimals.
    let number = if value.fract() == 0.0 && value.abs() < 9.0e15 {
        Number::Int(value as i64)
    } else {
        Number::Float(value)
    };
    let text = format::value(unit, number);
    if unit == Unit::Ratio {
        text
    } else {
        format!("{text}/s")
    }
}

/// Round ticks from zero to at least `max`: steps of 1, 2, 2.5 or 5 times a power of ten
/// (of 1024 for bytes above a KiB, so that labels read `256 MiB/s` rather than
/// `268 MiB/s`), at most six.
pub fn ticks(max: f64, unit: Unit) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let rough = max / 5.0;
    let step = if unit == Unit::Bytes && rough >= 1024.0 {
        // A power of two in the right binary unit.
        let mut step = 1.0f64;
        while step < rough {
            step *= 2.0;
        }
        step
    } else {
        let power = 10f64.powf(rough.log10().floor());
        [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|m| m * power)
            .find(|s| *s >= rough)
            .unwrap_or(10.0 * power)
    };
    let count = (max / step).ceil().max(1.0) as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

/// `21:00`, or `12-06 21:00` when the chart spans more than a day.
fn time_label(secs: i64, with_date: bool) -> String {
    let text = rfc3339(UNIX_EPOCH + Duration::from_secs(secs.max(0).unsigned_abs()));
    let (date, time) = (text.get(5..10), text.get(11..16));
    match (date, time, with_date) {
        (Some(date), Some(time), true) => format!("{date} {time}"),
        (_, Some(time), false) => time.to_owned(),
        _ => text,
    }
}

fn window_label(window: &ChartWindow) -> String {
    match datadog_cnm::Window::from_unix(window.from, window.to) {
        Ok(w) => format::window(&w),
        Err(_) => format!("{} → {}", window.from, window.to),
    }
}

/// The chart as one `<svg>` element.
pub fn svg(chart: &Chart) -> String {
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" \
         aria-label=\"{}\" font-family=\"system-ui, sans-serif\" font-size=\"11\">",
        escape(&chart.title),
        w = num(WIDTH),
        h = num(HEIGHT)
    );
    let (Some(first), Some(last)) = (chart.windows.first(), chart.windows.last()) else {
        svg.push_str("<text x=\"12\" y=\"24\">No windows.</text></svg>");
        return svg;
    };
    let (start, end) = (first.from, last.to.max(first.from + 1));
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let x_of = |t: f64| LEFT + (t - start as f64) / (end - start) as f64 * plot_width;
    let max = chart
        .lines
        .iter()
        .flat_map(|l| l.values.iter().flatten())
        .copied()
        .fold(0.0, f64::max);
    let ticks = ticks(max, chart.unit);
    let top = ticks.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
    let y_of = |v: f64| TOP + plot_height - v / top * plot_height;
    // Shaded windows first, under everything.
    for window in &chart.windows {
        let (fill, word) = if window.failed {
            ("#fde2e2", "failed")
        } else if window.partial {
            ("#eef0f3", "partial")
        } else {
            continue;
        };
        let (x0, x1) = (x_of(window.from as f64), x_of(window.to as f64));
        let _ = writeln!(
            svg,
            "<g class=\"{word}\"><title>{}: {word}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" \
             height=\"{}\" fill=\"{fill}\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" \
             fill=\"#59636e\" font-size=\"10\">{word}</text></g>",
            escape(&window_label(window)),
            num(x0),
            num(TOP),
            num((x1 - x0).max(0.5)),
            num(plot_height),
            // Centred over the band, but never past the plot's ends (a sliver of a
            // window at the edge would cut its word).
            num(((x0 + x1) / 2.0).clamp(LEFT + 18.0, WIDTH - RIGHT - 18.0)),
            num(TOP - 4.0),
        );
    }
    // The y axis: gridlines and labels.
    svg.push_str("<g class=\"y\" stroke=\"#d8dee4\">\n");
    for tick in &ticks {
        let y = y_of(*tick);
        let _ = writeln!(
            svg,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\"/><text x=\"{}\" y=\"{}\" \
             text-anchor=\"end\" stroke=\"none\" fill=\"#59636e\">{}</text>",
            num(LEFT),
            num(WIDTH - RIGHT),
            num(LEFT - 6.0),
            num(y + 4.0),
            escape(&rate(chart.unit, *tick)),
            y = num(y),
        );
    }
    svg.push_str("</g>\n");
    // The x axis: window boundaries, labelled at a stride that keeps labels apart.
    let with_date = end - start > 86_400;
    let most = if with_date { 5 } else { 8 };
    let boundaries: Vec<i64> = chart
        .windows
        .iter()
        .map(|w| w.from)
        .chain([last.to])
        .collect();
    // Label round times (on the hour, every 3 hours, at midnight, …) when the windows
    // fall on them (aligned series); otherwise every `stride`-th boundary.
    let every = ROUND_TIMES
        .into_iter()
        .find(|&s| s * most as i64 >= end - start)
        .unwrap_or(7 * 86_400);
    let round = boundaries.iter().filter(|t| *t % every == 0).count() >= 2;
    let stride = boundaries.len().div_ceil(most).max(1);
    let base = TOP + plot_height;
    let _ = writeln!(
        svg,
        "<g class=\"x\" fill=\"#59636e\"><line x1=\"{}\" y1=\"{b}\" x2=\"{}\" y2=\"{b}\" \
         stroke=\"#8c959f\"/>",
        num(LEFT),
        num(WIDTH - RIGHT),
        b = num(base)
    );
    // The ends of partial windows are off the step's grid and close to a round time:
    // they go unlabelled (their shading says what they are); other labels keep apart.
    let room = if with_date { 84.0 } else { 44.0 };
    let mut last_x = f64::NEG_INFINITY;
    for (i, t) in boundaries.iter().enumerate() {
        let end = i + 1 == boundaries.len();
        if (i == 0 && first.partial) || (end && last.partial) {
            continue;
        }
        let on_grid = if first.partial { i - 1 } else { i };
        let x = x_of(*t as f64);
        let wanted = if round {
            t % every == 0
        } else {
            on_grid % stride == 0
        };
        if !wanted || x - last_x < room {
            continue;
        }
        last_x = x;
        let anchor = if i == 0 {
            "start"
        } else if end {
            "end"
        } else {
            "middle"
        };
        let _ = writeln!(
            svg,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#8c959f\"/><text \
             x=\"{x}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            num(base),
            num(base + 4.0),
            num(base + 16.0),
            escape(&time_label(*t, with_date)),
            x = num(x)
        );
    }
    svg.push_str("</g>\n");
    // The lines: one run per stretch of windows with values; a lone value is a dot.
    let markers = chart.windows.len() <= MAX_MARKERS;
    for (i, line) in chart.lines.iter().enumerate() {
        let colour = colour(i);
        let point = |k: usize, v: f64| {
            let w = &chart.windows[k];
            (x_of((w.from + w.to) as f64 / 2.0), y_of(v))
        };
        let _ = writeln!(
            svg,
            "<g class=\"line\" stroke=\"{colour}\" fill=\"{colour}\">"
        );
        let mut run: Vec<(f64, f64)> = Vec::new();
        let flush = |run: &mut Vec<(f64, f64)>, svg: &mut String| {
            if run.len() > 1 {
                let points: Vec<String> = run
                    .iter()
                    .map(|(x, y)| format!("{},{}", num(*x), num(*y)))
                    .collect();
                let _ = writeln!(
                    svg,
                    "<polyline points=\"{}\" fill=\"none\" stroke-width=\"2\" \
                     stroke-linejoin=\"round\"/>",
                    points.join(" ")
                );
            } else if let Some((x, y)) = run.first()
                && !markers
            {
                let _ = writeln!(
                    svg,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"2\"/>",
                    num(*x),
                    num(*y)
                );
            }
            run.clear();
        };
        for (k, value) in line.values.iter().enumerate().take(chart.windows.len()) {
            match value {
                Some(v) => run.push(point(k, *v)),
                None => flush(&mut run, &mut svg),
            }
        }
        flush(&mut run, &mut svg);
        if markers {
            for (k, value) in line.values.iter().enumerate().take(chart.windows.len()) {
                let Some(v) = value else { continue };
                let (x, y) = point(k, *v);
                let hollow = if chart.windows[k].partial {
                    " fill=\"#fff\""
                } else {
                    ""
                };
                let _ = writeln!(
                    svg,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"3\"{hollow}><title>{}\n{}: {}</title>\
                     </circle>",
                    num(x),
                    num(y),
                    escape(&line.label),
                    escape(&window_label(&chart.windows[k])),
                    escape(&rate(chart.unit, *v))
                );
            }
        }
        svg.push_str("</g>\n");
    }
    if chart.lines.is_empty() {
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#59636e\">No groups in \
             these windows.</text>",
            num(LEFT + plot_width / 2.0),
            num(TOP + plot_height / 2.0)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(ticks(9.0, Unit::Count), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let empty = ticks(0.0, Unit::Count);
        assert_eq!((empty.len(), empty.last().copied()), (6, Some(1.0)));
        assert_eq!(
            ticks(1234.0, Unit::Count),
            [0.0, 250.0, 500.0, 750.0, 1000.0, 1250.0]
        );
        let bytes = ticks(3.0 * 1024.0 * 1024.0, Unit::Bytes);
        assert_eq!(bytes.get(1).copied(), Some(1024.0 * 1024.0));
        assert!(bytes.last().copied().unwrap_or(0.0) >= 3.0 * 1024.0 * 1024.0);
    }

    #[test]
    fn rates_read_per_second() {
        assert_eq!(rate(Unit::Bytes, 1536.0), "1.50 KiB/s");
        assert_eq!(rate(Unit::Count, 1234.0), "1,234/s");
        assert_eq!(rate(Unit::Count, 0.5), "0.50/s");
        assert_eq!(rate(Unit::Count, 50.0), "50/s");
        assert_eq!(rate(Unit::Bytes, 0.0), "0 B/s");
        assert_eq!(rate(Unit::Ratio, 0.05), "5 %");
    }

    #[test]
    fn time_labels_fall_on_round_times() {
        use crate::report::model::{Chart, ChartWindow, Line};
        // 12 hours in aligned quarter hours from 15:07: partial windows at both ends.
        let (start, end) = (15 * 3600 + 420, 27 * 3600 + 420);
        let mut windows = Vec::new();
        let mut from = start;
        while from < end {
            let to = ((from / 900 + 1) * 900).min(end);
            windows.push(ChartWindow {
                from,
                to,
                partial: to - from < 900,
                failed: false,
                truncated: false,
            });
            from = to;
        }
        let chart = Chart {
            title: "t".to_owned(),
            subtitle: String::new(),
            highlight: None,
            unit: Unit::Count,
            lines: vec![Line {
                label: "a".to_owned(),
                values: vec![Some(1.0); windows.len()],
                summary: String::new(),
            }],
            windows,
        };
        let svg = svg(&chart);
        let labels: Vec<&str> = svg
            .split("text-anchor=\"middle\">")
            .skip(1)
            .filter_map(|s| s.split('<').next())
            .filter(|s| s.contains(':'))
            .collect();
        assert_eq!(
            labels,
            ["16:00", "18:00", "20:00", "22:00", "00:00", "02:00"]
        );
    }

    #[test]
    fn times_drop_the_date_within_a_day() {
        assert_eq!(time_label(3600 * 21, false), "21:00");
        assert_eq!(time_label(3600 * 21, true), "01-01 21:00");
    }
}
