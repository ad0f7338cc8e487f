//! Just enough JSON writing for the hot path: responses are assembled into one byte buffer
//! without an intermediate `serde_json::Value`.

/// JSON string escaping without the surrounding quotes. Escaping distributes over
/// concatenation, so escaped pieces can be joined as they are.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// Writes a metric sum as a JSON integer. The API's metrics are `int64`; a sum can only
/// exceed that for windows spanning centuries, and then it saturates.
pub(crate) fn push_count(out: &mut Vec<u8>, value: u128) {
    let clamped = u64::try_from(value)
        .unwrap_or(u64::MAX)
        .min(i64::MAX as u64);
    out.extend_from_slice(itoa::Buffer::new().format(clamped).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::{escape, push_count};

    #[test]
    fn escapes_like_serde_json() -> Result<(), serde_json::Error> {
        for s in [
            "plain",
            "quo\"te",
            "back\\slash",
            "tab\tnew\nline\u{1}",
            "ünï",
        ] {
            let ours = format!("\"{}\"", escape(s));
            assert_eq!(ours, serde_json::to_string(s)?);
        }
        Ok(())
    }

    #[test]
    fn counts_saturate_at_i64_max() {
        let mut out = Vec::new();
        push_count(&mut out, u128::MAX);
        assert_eq!(out, i64::MAX.to_string().as_bytes());
    }
}
