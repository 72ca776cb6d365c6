//! Byte scanning shared by the JSON writer and spira-parse's attribute splitter: eight bytes at
//! a time (SWAR), on the hot paths of both.

/// The first eight bytes of `b` as one little-endian word. Callers slice exactly eight bytes
/// (`&b[i..i + 8]` after checking `i + 8 <= b.len()`), which the compiler sees through; a
/// shorter slice would read as a word with no special byte, never as a panic.
#[inline]
pub(crate) fn word(b: &[u8]) -> u64 {
    b.first_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w))
}

/// The bytes of word `w` that are below 0x20, `x` or `y`, as the high bit of each: SWAR, which
/// may flag a clean byte after a matching one but never misses one, so the lowest flagged byte
/// is always a true one (`trailing_zeros() / 8` is its index).
#[inline]
pub(crate) fn special_mask(w: u64, x: u8, y: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    below_space | zero(w ^ (ONES * u64::from(x))) | zero(w ^ (ONES * u64::from(y)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mask against a byte-by-byte reading, with the special byte at every place.
    #[test]
    fn the_lowest_flag_is_the_first_special_byte() {
        for special in [b'"', b'\\', b'&', 0x00, 0x1F, b'\n'] {
            for at in 0..8 {
                let mut b = *b"abcdefgh";
                b[at] = special;
                let m = special_mask(word(&b), b'"', if special == b'&' { b'&' } else { b'\\' });
                assert_eq!((m.trailing_zeros() / 8) as usize, at, "{special} at {at}");
            }
        }
        assert_eq!(special_mask(word(b"plain ok"), b'"', b'\\'), 0);
        assert_eq!(word(b"short"), 0);
    }
}
