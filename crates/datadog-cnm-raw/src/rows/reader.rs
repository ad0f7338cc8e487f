//! The fast path's cursor over text in the shape the server sends.
//!
//! serde_json first checks the text and hands it over (the `RawValue` mechanism; see
//! `decode.rs`); this reader then walks it once, with no visitor calls, reading exactly the
//! members it expects. At the first thing it does not expect — an escape in a string, an
//! unknown member, a float, a `type` that is not the row's, a missing item field — it gives
//! up (`None`) and the row is decoded by the general serde decoder, which handles
//! everything. Both decoders build the same row for any text the fast one accepts (tested
//! in `decode.rs` and by property tests), so callers cannot tell which one ran.
//!
//! The text has been validated as JSON by serde_json already, but nothing here relies on
//! that for safety: every access is bounds-checked and anything unexpected is a `None`.

use super::group_bys::{Entry, GroupBys};

/// Sizes learnt from the rows read so far in one page, so that the next row's buffers are
/// allocated once at about the right size instead of growing. Passed from row to row by
/// the page's decoder: nothing is remembered between pages.
#[derive(Clone, Copy, Debug)]
pub struct Hints {
    /// Bytes of group-by keys and values in the previous row.
    pub(crate) group_text: usize,
}

impl Default for Hints {
    fn default() -> Self {
        Self { group_text: 64 }
    }
}
/// A cursor over the text of one row.
pub struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

/// `true` for the four JSON whitespace bytes.
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | b'\r' | b'\t')
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte that is not whitespace, without consuming it.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        loop {
            let byte = *bytes.get(self.pos)?;
            if !is_space(byte) {
                return Some(byte);
            }
            self.pos += 1;
        }
    }

    /// Consume `byte` (after whitespace), or give up.
    #[inline]
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// Consume `byte` if it comes next.
    #[inline]
    fn eat_if(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        if next {
            self.pos += 1;
        }
        next
    }

    /// Consume the literal `null` if it comes next.
    #[inline]
    pub(crate) fn eat_null(&mut self) -> bool {
        let null = self.peek() == Some(b'n')
            && self.bytes().get(self.pos..self.pos + 4) == Some(&b"null"[..]);
        if null {
            self.pos += 4;
        }
        null
    }

    /// A string without escapes.
    #[inline]
    pub(crate) fn str(&mut self) -> Option<&'a str> {
        let (start, end) = self.str_span()?;
        // The quotes are ASCII, so both ends are character boundaries.
        self.text.get(start..end)
    }

    /// Where the contents of the next string (without escapes) start and end.
    #[inline]
    fn str_span(&mut self) -> Option<(usize, usize)> {
        self.eat(b'"')?;
        let start = self.pos;
        let end = find_quote_or_backslash(self.bytes(), start)?;
        // Escapes are rare; the general decoder handles them.
        if self.bytes().get(end) != Some(&b'"') {
            return None;
        }
        self.pos = end + 1;
        Some((start, end))
    }

    /// Consume `member` — a member name in quotes and a colon, e.g. `"id":` — if it comes
    /// next, written exactly so.
    #[inline]
    pub(crate) fn member_is(&mut self, member: &str) -> bool {
        if self.peek() != Some(b'"') {
            return false;
        }
        let found = self
            .bytes()
            .get(self.pos..)
            .is_some_and(|rest| rest.starts_with(member.as_bytes()));
        if found {
            self.pos += member.len();
        }
        found
    }

    /// A member name and the colon after it.
    #[inline]
    pub(crate) fn key(&mut self) -> Option<&'a str> {
        let key = self.str()?;
        self.eat(b':')?;
        Some(key)
    }

    /// An `int64` or `null`.
    #[inline]
    pub(crate) fn metric(&mut self) -> Option<Option<i64>> {
        if self.eat_null() {
            return Some(None);
        }
        let negative = self.peek()? == b'-';
        if negative {
            self.pos += 1;
        }
        let bytes = self.bytes();
        let start = self.pos;
        let mut magnitude: u64 = 0;
        loop {
            match eight_digits(bytes, self.pos) {
                Some((value, count)) => {
                    let scale = POWERS_OF_TEN.get(count)?;
                    magnitude = magnitude.checked_mul(*scale)?.checked_add(value)?;
                    self.pos += count;
                    if count < 8 {
                        break;
                    }
                }
                None => {
                    // Fewer than eight bytes left: digit by digit.
                    while let Some(&byte) = bytes.get(self.pos) {
                        let digit = byte.wrapping_sub(b'0');
                        if digit > 9 {
                            break;
                        }
                        magnitude = magnitude.checked_mul(10)?.checked_add(u64::from(digit))?;
                        self.pos += 1;
                    }
                    break;
                }
            }
        }
        if self.pos == start || matches!(bytes.get(self.pos), Some(b'.' | b'e' | b'E')) {
            // Not an integer; the general decoder explains what it is.
            return None;
        }
        if negative {
            // serde_json reads `-0` as a float: so does the general decoder (an error).
            if magnitude == 0 {
                return None;
            }
            0i64.checked_sub_unsigned(magnitude).map(Some)
        } else {
            i64::try_from(magnitude).ok().map(Some)
        }
    }

    /// After a member or element: `true` on `,` (another follows), `false` on `close`.
    #[inline]
    pub(crate) fn next(&mut self, close: u8) -> Option<bool> {
        match self.peek()? {
            b',' => {
                self.pos += 1;
                Some(true)
            }
            byte if byte == close => {
                self.pos += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// Open an object or array: `Some(true)` when it has members, `Some(false)` when empty.
    #[inline]
    pub(crate) fn open(&mut self, open: u8, close: u8) -> Option<bool> {
        self.eat(open)?;
        Some(!self.eat_if(close))
    }

    /// Only whitespace is left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// A connections `group_bys` object (`{"client_service": ["web"], …}`, values also as
    /// single strings) or `null`.
    pub(crate) fn group_by_map(&mut self) -> Option<GroupBys> {
        if self.eat_null() {
            return Some(GroupBys::default());
        }
        // The object's text is copied whole, once; entries point at the strings in it.
        self.peek()?;
        let start = self.pos;
        let at = |(from, to): (usize, usize)| (from - start, to - start);
        let mut entries = Vec::with_capacity(4);
        if self.open(b'{', b'}')? {
            loop {
                let key = at(self.str_span()?);
                self.eat(b':')?;
                if self.peek()? == b'"' {
                    entries.push(Entry::new(key, at(self.str_span()?)));
                } else if self.open(b'[', b']')? {
                    loop {
                        entries.push(Entry::new(key, at(self.str_span()?)));
                        if !self.next(b']')? {
                            break;
                        }
                    }
                }
                if !self.next(b'}')? {
                    break;
                }
            }
        }
        let text = self.text.get(start..self.pos)?;
        Some(GroupBys::from_ranges(text, entries))
    }

    /// A DNS `group_bys` list (`[{"key": …, "value": …}, …]`), or `null` (`None` inside).
    pub(crate) fn group_by_list(&mut self, hints: &mut Hints) -> Option<Option<GroupBys>> {
        if self.eat_null() {
            return Some(None);
        }
        // A little slack covers values a few bytes longer than the previous row's.
        let mut group_bys = GroupBys::with_capacity(hints.group_text + 16, 2);
        if self.open(b'[', b']')? {
            loop {
                let (key, value) = self.item(Self::str)?;
                group_bys.push(key, value);
                if !self.next(b']')? {
                    break;
                }
            }
        }
        hints.group_text = group_bys.text_len();
        Some(Some(group_bys))
    }

    /// One `{"key": …, "value": …}` item with both fields and no others.
    #[inline]
    pub(crate) fn item<V>(
        &mut self,
        value: impl Fn(&mut Self) -> Option<V>,
    ) -> Option<(&'a str, V)> {
        let (mut key, mut read) = (None, None);
        if !self.open(b'{', b'}')? {
            return None;
        }
        // The layout the server writes, `{"key":…,"value":…}`, is compared in place.
        if self.member_is("\"key\":") {
            key = Some(self.str()?);
            if !self.next(b'}')? {
                return None;
            }
            if self.member_is("\"value\":") {
                let read = value(self)?;
                return (!self.next(b'}')?).then_some((key?, read));
            }
        }
        // Any other order: member by member.
        loop {
            match self.key()? {
                "key" => key = Some(self.str()?),
                "value" => read = Some(value(self)?),
                _ => return None,
            }
            if !self.next(b'}')? {
                break;
            }
        }
        Some((key?, read?))
    }
}

/// `10^n` for `n` in `0..=8`.
const POWERS_OF_TEN: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// The value and number of the ASCII digits (at most eight) that start `bytes[at..]`,
/// read eight bytes at a time; `None` when fewer than eight bytes are left.
#[inline]
fn eight_digits(bytes: &[u8], at: usize) -> Option<(u64, usize)> {
    const HIGH_NIBBLES: u64 = u64::from_le_bytes([0xf0; 8]);
    const LOW_NIBBLES: u64 = u64::from_le_bytes([0x0f; 8]);
    const THREES: u64 = u64::from_le_bytes([0x30; 8]);
    const SIXES: u64 = u64::from_le_bytes([0x06; 8]);
    let mut word = [0; 8];
    word.copy_from_slice(bytes.get(at..at + 8)?);
    let word = u64::from_le_bytes(word);
    // A digit is a byte whose high nibble is 3, and stays 3 when 6 is added.
    let not_digits =
        ((word & HIGH_NIBBLES) ^ THREES) | ((word.wrapping_add(SIXES) & HIGH_NIBBLES) ^ THREES);
    let count = (not_digits.trailing_zeros() / 8) as usize;
    if count == 0 {
        return Some((0, 0));
    }
    // Keep the digits, as the high bytes (leading zeros do not change the value), then
    // combine neighbours: pairs, quadruples, then all eight, the first byte the most
    // significant digit.
    let digits = (word & LOW_NIBBLES) << (8 * (8 - count));
    let pairs = (digits.wrapping_mul(10 * (1 << 8) + 1) >> 8) & 0x00ff_00ff_00ff_00ff;
    let quads = (pairs.wrapping_mul(100 * (1 << 16) + 1) >> 16) & 0x0000_ffff_0000_ffff;
    let value = quads.wrapping_mul(10_000 * (1 << 32) + 1) >> 32;
    Some((value, count))
}

/// The index of the first `"` or `\\` in `bytes` at or after `from`.
///
/// Eight bytes at a time: strings in a row are mostly 10–100 bytes long, too short for
/// SIMD set-up to pay off and long enough that a byte loop dominates the fast path.
#[inline]
fn find_quote_or_backslash(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    const QUOTES: u64 = u64::from_le_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_le_bytes([b'\\'; 8]);
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        // A byte of `x` is zero where `word` has the byte looked for; the lowest flagged
        // byte of "has a zero byte" is exact (only bytes above it can be false hits).
        let quotes = word ^ QUOTES;
        let backslashes = word ^ BACKSLASHES;
        let hits =
            (quotes.wrapping_sub(ONES) & !quotes) | (backslashes.wrapping_sub(ONES) & !backslashes);
        let hits = hits & HIGHS;
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = bytes.get(at..)?;
    tail.iter()
        .position(|&byte| byte == b'"' || byte == b'\\')
        .map(|offset| at + offset)
}
