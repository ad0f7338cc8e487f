//! Writing markup: escaping text and formatting coordinates, shared by the document, the
//! map and the charts.

/// `text` safe inside an element or a quoted attribute of HTML or SVG: `&`, `<`, `>`,
/// `"`, `'` and `=` become references, and control characters (other than newline and
/// tab) become U+FFFD. Everything the server sends passes through here. (`=` needs no
/// escaping; escaped, a search of the file for `src=` or `href=` finds attributes only.)
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '=' => out.push_str("&#61;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate or length: at most one decimal, no trailing `.0`, `0` for anything that
/// is not finite (so a degenerate input never writes `NaN` into a path).
pub fn num(value: f64) -> String {
    if !value.is_finite() {
        return "0".to_owned();
    }
    let rounded = (value * 10.0).round() / 10.0;
    if rounded == rounded.trunc() {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

/// About how wide `text` is at `size` pixels in a sans-serif font: the report cannot
/// measure text, so boxes are sized from a generous average.
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.58
}

/// `text` cut to `max` characters, with `…` when cut.
pub fn clipped(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_become_markup() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y' <img src=x>"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39; &lt;img src&#61;x&gt;"
        );
        assert_eq!(escape("a\u{0}b\u{1b}c\nd"), "a\u{FFFD}b\u{FFFD}c\nd");
    }

    #[test]
    fn numbers_are_short_and_finite() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.34), "12.3");
        assert_eq!(num(-0.04), "0");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(f64::INFINITY), "0");
    }

    #[test]
    fn long_labels_are_clipped() {
        assert_eq!(clipped("checkout", 8), "checkout");
        assert_eq!(clipped("checkout-api", 8), "checkou…");
    }
}
