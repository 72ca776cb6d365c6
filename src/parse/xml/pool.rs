//! Buffers handed back once a result is written, to be filled again for the next.

use std::borrow::Cow;

/// An attribute list, as [`super::Attrs`] (spelled out: the pool knows no more of it).
type AttrList = Vec<(Cow<'static, str>, String)>;

/// Strings and attribute lists handed back once a result is written, to be filled again: after
/// the first few test cases, reading one (JUnit's, the hot path, hands everything back)
/// allocates and frees next to nothing. Bounded: at most [`POOL_STRINGS`] short and as many
/// long strings of at most [`POOL_STRING_BYTES`] each are kept.
#[derive(Default)]
pub(crate) struct Pool {
    /// Strings with room for a short value (an attribute), and with more (a text).
    short: Vec<String>,
    long: Vec<String>,
    attrs: Vec<AttrList>,
}

/// The most strings a [`Pool`] keeps of each kind.
const POOL_STRINGS: usize = 16;
/// The room that makes a string long.
pub(super) const POOL_LONG: usize = 256;
/// The largest capacity of a string a [`Pool`] keeps.
const POOL_STRING_BYTES: usize = 16 << 10;

impl Pool {
    /// An empty string for about `n` bytes, in room handed back if there is some that fits.
    pub(crate) fn string(&mut self, n: usize) -> String {
        let spare = if n < POOL_LONG {
            self.short.pop().or_else(|| self.long.pop())
        } else {
            self.long.pop()
        };
        spare.unwrap_or_default()
    }

    /// A copy of `s`.
    pub(crate) fn copy(&mut self, s: &str) -> String {
        let mut b = self.string(s.len());
        b.push_str(s);
        b
    }

    /// Keeps `s`'s room for a later string (or frees it, when the pool is full or `s` large).
    pub(crate) fn give(&mut self, mut s: String) {
        let keep = if s.capacity() >= POOL_LONG {
            &mut self.long
        } else {
            &mut self.short
        };
        if s.capacity() > 0 && s.capacity() <= POOL_STRING_BYTES && keep.len() < POOL_STRINGS {
            s.clear();
            keep.push(s);
        }
    }

    /// [`Pool::give`] for each string there is.
    pub(crate) fn give_all<const N: usize>(&mut self, strings: [Option<String>; N]) {
        for s in strings.into_iter().flatten() {
            self.give(s);
        }
    }

    /// An empty attribute list, with room from one handed back if there is one.
    pub(crate) fn attrs(&mut self) -> AttrList {
        self.attrs.pop().unwrap_or_default()
    }

    /// Keeps an attribute list and its values' room for later.
    pub(crate) fn give_attrs(&mut self, mut a: AttrList) {
        for (_, v) in a.drain(..) {
            self.give(v);
        }
        if self.attrs.len() < 4 {
            self.attrs.push(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_hands_room_back_and_stays_bounded() {
        let mut pool = Pool::default();
        let long = String::with_capacity(4096);
        let ptr = long.as_ptr();
        pool.give(long);
        pool.give(String::with_capacity(POOL_STRING_BYTES + 1));
        pool.give(String::new());
        // The long string comes back for a long text, emptied.
        let again = pool.string(POOL_LONG);
        assert_eq!((again.as_ptr(), again.len()), (ptr, 0));
        // A short copy takes a short string first, and is a copy.
        pool.give(String::with_capacity(8));
        pool.give(again);
        let c = pool.copy("name");
        assert_eq!((c.as_str(), c.capacity()), ("name", 8));
        // Nothing beyond the bound is kept: the too large and the empty were not.
        for _ in 0..100 {
            pool.give(String::with_capacity(300));
            pool.give(String::with_capacity(30));
        }
        assert_eq!(pool.long.len(), POOL_STRINGS);
        assert_eq!(pool.short.len(), POOL_STRINGS);
        assert!(pool.long.iter().all(|s| s.capacity() <= POOL_STRING_BYTES));
        // Attribute lists come back empty, their values kept as room.
        let mut a = pool.attrs();
        a.push((Cow::Borrowed("name"), pool.copy("x")));
        let before = pool.short.len();
        pool.give_attrs(a);
        assert_eq!(pool.short.len(), before.max(POOL_STRINGS));
        assert!(pool.attrs().is_empty());
    }
}
