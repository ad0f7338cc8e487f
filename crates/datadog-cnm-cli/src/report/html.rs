//! The report as one HTML document: a header of facts, the service map with its legend
//! and its edges listed beside it, the trend charts, the top tables and what changed.
//!
//! Self-contained: the style is inline, the pictures are inline SVG, there is no script,
//! and a Content-Security-Policy forbids loading anything, so the file shows the same
//! offline as online and cannot be made to fetch or run what a service name smuggles in
//! (every text is escaped on the way in as well).

use std::fmt::Write as _;

use super::chart::{self, colour};
use super::map;
use super::model::{Cell, Chart, Part, Report, ServiceMap, Table, Tone};
use super::svg::escape;

const STYLE: &str = "\
:root{color-scheme:light;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);background:#fff}
header{padding:14px 24px;border-bottom:1px solid var(--line);background:var(--soft)}
h1{font-size:20px;margin:0 0 8px}
h2{font-size:17px;margin:28px 0 6px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:14px;margin:0 0 2px}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:1px 16px;margin:0}
.facts dt{color:var(--muted)}.facts dd{margin:0;overflow-wrap:anywhere}
main{padding:0 24px 24px}
p{margin:4px 0}
.note{color:var(--muted)}
.warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 10px;margin:12px 0 0}
.highlight{font-weight:600}
.map{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;margin-top:8px}
.map figure{flex:0 1 auto;min-width:0;margin:0;overflow-x:auto}
.map aside{flex:1 1 420px;max-width:100%;overflow-x:auto}
.map td{white-space:nowrap}
svg{max-width:100%;height:auto}
svg.map{display:block;max-width:none}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,600px),1fr));gap:20px 28px}
.chart{margin:0}
.lines{list-style:none;padding:0;margin:4px 0 0;font-size:12px;columns:2 260px}
.lines li{break-inside:avoid;overflow-wrap:anywhere}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-1px;margin-right:5px}
.tables{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,560px),1fr));gap:20px 28px}
.tables.wide{grid-template-columns:minmax(0,1fr)}
.tables>div{overflow-x:auto}
table{border-collapse:collapse;font-size:12.5px;margin-top:6px}
th,td{padding:3px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:bottom}
td{white-space:nowrap}
th{font-weight:600;white-space:nowrap}
.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em;white-space:nowrap}
.unit{display:block;font-weight:400;font-size:11px;color:var(--muted)}
.up{color:#b35900}.down{color:#0a6ebd}.new{color:#1a7f37}.gone{color:#cf222e;text-decoration:line-through}
footer{padding:12px 24px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
";

/// The whole document.
pub fn render(report: &Report) -> String {
    let mut html = String::with_capacity(256 * 1024);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n\
         <body>\n<header>\n<h1>{}</h1>\n<dl class=\"facts\">",
        escape(&report.title),
        escape(&report.title)
    );
    for (label, value) in &report.facts {
        let _ = write!(html, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(value));
    }
    html.push_str("</dl>\n</header>\n<main>\n");
    for note in &report.notes {
        let _ = writeln!(html, "<p class=\"warn\">{}</p>", prose(note));
    }
    html.push_str("<section id=\"map\">\n<h2>Service map</h2>\n");
    match &report.map {
        Part::Shown(service_map) => map_section(&mut html, service_map),
        Part::Missing(why) => {
            let _ = writeln!(html, "<p class=\"note\">{}</p>", prose(why));
        }
    }
    html.push_str("</section>\n<section id=\"trends\">\n<h2>Trends</h2>\n");
    match &report.trends {
        Part::Shown(charts) => {
            html.push_str(
                "<p class=\"note\">Values per second, averaged over each window, so that \
                 shaded partial windows (shorter than the step) compare with full ones. \
                 Hover a point for its value.</p>\n<div class=\"charts\">\n",
            );
            for c in charts {
                chart_figure(&mut html, c);
            }
            html.push_str("</div>\n");
        }
        Part::Missing(why) => {
            let _ = writeln!(html, "<p class=\"note\">{}</p>", prose(why));
        }
    }
    html.push_str(
        "</section>\n<section id=\"top\">\n<h2>Top groups</h2>\n<div class=\"tables wide\">\n",
    );
    for t in &report.tables {
        html.push_str("<div>");
        table(&mut html, t, true);
        html.push_str("</div>\n");
    }
    html.push_str("</div>\n</section>\n");
    if let Some(changes) = &report.changes {
        html.push_str("<section id=\"changes\">\n<h2>What changed</h2>\n<div class=\"tables\">\n");
        for t in changes {
            html.push_str("<div>");
            table(&mut html, t, true);
            html.push_str("</div>\n");
        }
        html.push_str("</div>\n</section>\n");
    }
    let _ = write!(
        html,
        "</main>\n<footer>{}</footer>\n</body>\n</html>\n",
        escape(&report.footer)
    );
    html
}

/// A sentence of ours, escaped, with the flags it names (`--map-edges N`, `--step`) in
/// `<code>`, so that a line never breaks inside one.
fn prose(text: &str) -> String {
    let escaped = escape(text);
    let mut out = String::with_capacity(escaped.len() + 32);
    let mut rest = escaped.as_str();
    while let Some(at) = rest.find("--") {
        let (before, flag) = rest.split_at(at);
        let name_end = flag[2..]
            .find(|c: char| !(c.is_ascii_lowercase() || c == '-'))
            .map_or(flag.len(), |i| i + 2);
        out.push_str(before);
        if name_end > 2 {
            out.push_str("<code>");
            out.push_str(&flag[..name_end]);
            out.push_str("</code>");
        } else {
            out.push_str("--");
        }
        rest = &flag[name_end.max(2)..];
    }
    out.push_str(rest);
    out
}

fn map_section(html: &mut String, service_map: &ServiceMap) {
    let _ = writeln!(
        html,
        "<p class=\"note\">{} Nodes are group-by values, edges run from client to server \
         (an arrow at the start: drawn against the flow to break a cycle). Hover a node or \
         an edge for its numbers.</p>",
        prose(&service_map.summary)
    );
    html.push_str(&map::legend(service_map));
    html.push_str("\n<div class=\"map\">\n<figure>");
    html.push_str(&map::svg(service_map));
    html.push_str("</figure>\n<aside>");
    table(html, &service_map.list, false);
    html.push_str("</aside>\n</div>\n");
}

fn chart_figure(html: &mut String, c: &Chart) {
    let _ = write!(
        html,
        "<figure class=\"chart\">\n<figcaption><h3>{}</h3><p class=\"note\">{}</p>",
        escape(&c.title),
        prose(&c.subtitle)
    );
    if let Some(highlight) = &c.highlight {
        let _ = write!(html, "<p class=\"highlight\">{}</p>", escape(highlight));
    }
    html.push_str("</figcaption>\n");
    html.push_str(&chart::svg(c));
    html.push_str("\n<ul class=\"lines\">");
    for (i, line) in c.lines.iter().enumerate() {
        let _ = write!(
            html,
            "<li><span class=\"sw\" style=\"background:{}\"></span>{} <span \
             class=\"note\">{}</span></li>",
            colour(i),
            escape(&line.label),
            escape(&line.summary)
        );
    }
    html.push_str("</ul>\n</figure>\n");
}

fn table(html: &mut String, t: &Table, heading: bool) {
    if heading {
        let _ = write!(html, "<h3>{}</h3>", escape(&t.title));
    }
    if let Some(note) = &t.note {
        let _ = write!(html, "<p class=\"note\">{}</p>", prose(note));
    }
    if t.rows.is_empty() {
        let _ = writeln!(html, "<p>{}</p>", escape(&t.empty));
        return;
    }
    let _ = write!(
        html,
        "<table aria-label=\"{}\"><thead><tr>",
        escape(&t.title)
    );
    for head in &t.head {
        let class = if head.numeric { " class=\"n\"" } else { "" };
        let _ = write!(html, "<th{class}>{}", escape(&head.label));
        if !head.unit.is_empty() {
            let _ = write!(html, "<span class=\"unit\">{}</span>", escape(&head.unit));
        }
        html.push_str("</th>");
    }
    html.push_str("</tr></thead><tbody>\n");
    for row in &t.rows {
        html.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let numeric = t.head.get(i).is_some_and(|h| h.numeric);
            td(html, cell, numeric);
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody></table>\n");
}

fn td(html: &mut String, cell: &Cell, numeric: bool) {
    let tone = match cell.tone {
        Tone::Plain | Tone::Swatch(_) => "",
        Tone::Up => "up",
        Tone::Down => "down",
        Tone::New => "new",
        Tone::Gone => "gone",
    };
    let classes: Vec<&str> = [if numeric { "n" } else { "" }, tone]
        .into_iter()
        .filter(|c| !c.is_empty())
        .collect();
    if classes.is_empty() {
        html.push_str("<td>");
    } else {
        let _ = write!(html, "<td class=\"{}\">", classes.join(" "));
    }
    if let Tone::Swatch(colour) = cell.tone {
        let _ = write!(
            html,
            "<span class=\"sw\" style=\"background:{colour}\"></span>"
        );
    }
    html.push_str(&escape(&cell.text));
    html.push_str("</td>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_in_prose_do_not_break() {
        assert_eq!(
            prose("use --map-edges N or --step 1h; -- alone <b>"),
            "use <code>--map-edges</code> N or <code>--step</code> 1h; -- alone &lt;b&gt;"
        );
        assert_eq!(prose("--x"), "<code>--x</code>");
    }
}
