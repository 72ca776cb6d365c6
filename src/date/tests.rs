use super::*;

#[path = "oracle.rs"]
mod oracle;

#[test]
fn reads_every_iso_form_the_formats_write() {
    let t = 1_715_688_000_000; // 2024-05-14T12:00:00Z
    for (s, zone, want) in [
        ("2024-05-14T12:00:00Z", 0, t),
        ("2024-05-14T12:00:00z", 0, t),
        ("2024-05-14 12:00:00", 0, t),
        ("2024-05-14t12:00:00", 0, t),
        ("2024-05-14T12:00", 0, t),
        ("2024-05-14T14:00:00.5+02:00", 0, t + 500),
        ("2024-05-14T14:00:00,5+0200", 0, t + 500),
        ("2024-05-14T14:00:00+02", 0, t),
        ("2024-05-14T12:00:00.1234567Z", 0, t + 123),
        ("2024-05-14T12:00:00 UTC", 0, t),
        ("2024-05-14T12:00:00 +00:00", 0, t),
        ("2024-05-14T14:00:00", 120, t),
        ("  2024-05-14T12:00:00Z  ", 0, t),
        ("2024-05-14", 0, t - 12 * 3_600_000),
        ("2024-05-14T11:59:60Z", 0, t - 1000),
    ] {
        assert_eq!(parse_iso(s, zone), Some(want), "{s:?}");
    }
    assert_eq!(
        parse_iso("1999-12-31T23:59:59.999Z", 0)
            .map(format_iso)
            .as_deref(),
        Some("1999-12-31T23:59:59.999Z")
    );
}

#[test]
fn refuses_what_is_not_a_timestamp_without_panicking() {
    for s in [
        "",
        "garbage",
        "2024-13-01",
        "2024-02-30",
        "2023-02-29T00:00:00",
        "2024-05-14T24:00:00",
        "2024-05-14T12:60",
        "2024-05-14T12:00:61",
        "2024-05-14T12:00:00.",
        "2024-05-14T12:00:00+",
        "2024-05-14T12:00:00+24:00",
        "2024-05-14T12:00:00+02:60",
        "2024-05-14T12:00:00+2",
        "2024-05-14T12:00:00+020",
        "2024-05-14T12:00:00 Europe/Paris",
        "2024-05-14Z",
        "2024-05-14T",
        "2024-5-14",
        "２０２４-05-14",
        // The panic of issue 17: a multi-byte character where an offset's digits are read.
        "2024-05-14T12:00:00+aéb",
        "2024-05-14T12:00:00é",
        "2024-05-14Té2:00",
        "2024-05-1é",
        "é",
    ] {
        assert_eq!(parse_iso(s, 0), None, "{s:?}");
        assert!(s.trim().is_empty() || normalize(s).is_err(), "{s:?}");
    }
}

#[test]
fn normalizes_as_result_lines_carry_timestamps() {
    let n = |s| normalize(s);
    for (s, want) in [
        ("2024-05-14T12:00:00Z", "2024-05-14T12:00:00Z"),
        ("2024-05-14 12:00:00", "2024-05-14T12:00:00"),
        (
            "2024-05-14T12:00:00.123+0200",
            "2024-05-14T12:00:00.123+02:00",
        ),
        ("2024-05-14T12:00:00,5-05", "2024-05-14T12:00:00.5-05:00"),
        ("2024-05-14T12:00:00 -00:00", "2024-05-14T12:00:00-00:00"),
        ("2024-05-14T12:00:00 UTC", "2024-05-14T12:00:00Z"),
        ("2024-05-14", "2024-05-14T00:00:00"),
        ("2024-05-14T12:00", "2024-05-14T12:00:00"),
        ("1970-01-01T00:00:00.000", "1970-01-01T00:00:00.000"),
        ("1970-01-01T00:00:00+01:00", "1970-01-01T00:00:00+01:00"),
    ] {
        assert_eq!(n(s), Ok(Some(want.to_string())), "{s:?}");
    }
    for unknown in [
        "",
        "  ",
        "0001-01-01T00:00:00Z",
        "1970-01-01T00:00:00",
        "1970-01-01T00:00:00Z",
        "1970-01-01",
    ] {
        assert_eq!(n(unknown), Ok(None), "{unknown:?}");
    }
    assert_eq!(n("yesterday"), Err(NotIso));
}

#[test]
fn reads_and_writes_the_wcf_form() {
    let t = 1_715_688_000_000;
    assert_eq!(format_wcf(t), "/Date(1715688000000-0000)/");
    for (s, want) in [
        ("/Date(1715688000000-0000)/", Some(t)),
        ("/Date(1715688000000+0200)/", Some(t)),
        ("/Date(1715688000000)/", Some(t)),
        ("/Date(-1000)/", Some(-1000)),
        ("/Date(-1000-0000)/", Some(-1000)),
        // The panic of issue 17: an empty WCF date.
        ("/Date()/", None),
        ("/Date(-)/", None),
        ("/Date(+5)/", None),
        ("/Date(5+02)/", None),
        ("/Date(5+0a00)/", None),
        ("/Date(5é)/", None),
        ("/Date(99999999999999999999)/", None),
        ("/Date(1)", None),
    ] {
        assert_eq!(parse_any(s), want, "{s:?}");
    }
    assert_eq!(parse_any("2024-05-14T12:00:00Z"), Some(t));
}

#[test]
fn zone_flags() {
    assert_eq!(parse_offset("+05:30"), Some(330));
    assert_eq!(parse_offset("-0800"), Some(-480));
    assert_eq!(parse_offset("+05"), Some(300));
    assert_eq!(parse_offset("UTC"), Some(0));
    assert_eq!(parse_offset(" Z "), Some(0));
    assert_eq!(parse_offset(""), None);
    assert_eq!(parse_offset("+"), None);
    assert_eq!(parse_offset("Europe/Paris"), None);
    assert_eq!(parse_offset("+é"), None);
}

#[test]
fn formats_far_dates_and_the_cached_day() {
    assert_eq!(format_iso(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(format_iso(-1), "1969-12-31T23:59:59.999Z");
    // Far outside the four-digit years: written, never a panic.
    for t in [Millis::MIN, Millis::MAX, Millis::MIN / 2, Millis::MAX / 2] {
        let s = format_iso(t);
        assert!(s.ends_with('Z'), "{s}");
    }
    let mut cache = IsoDay::default();
    let base = parse_iso("2024-02-28T23:59:59.500Z", 0).unwrap();
    for t in [
        base,
        base + 400,
        base + 600,
        base + 86_400_000,
        base - 86_400_000,
        base + 1,
    ] {
        assert_eq!(format_iso_cached(t, &mut cache), format_iso(t));
    }
    assert_eq!(
        format_iso_cached(base + 600, &mut cache),
        "2024-02-29T00:00:00.100Z"
    );
}

/// A small deterministic generator of date-like text: mostly well-formed pieces with values
/// in and out of range, sometimes a byte changed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }

    fn num(&mut self, width: usize, max: u64) -> String {
        format!("{:0width$}", self.next() % (max + 1))
    }

    fn stamp(&mut self) -> String {
        let mut s = match self.next() % 4 {
            0 => self
                .pick(&[
                    "2024", "2023", "2000", "1900", "2100", "0001", "1970", "0000", "9999",
                ])
                .to_string(),
            _ => self.num(4, 9999),
        };
        s.push('-');
        s.push_str(&self.num(2, 13));
        s.push('-');
        s.push_str(&self.num(2, 32));
        if !self.next().is_multiple_of(5) {
            s.push_str(self.pick(&["T", "T", "t", " ", "_"]));
            s.push_str(&self.num(2, 25));
            s.push(':');
            s.push_str(&self.num(2, 61));
            if !self.next().is_multiple_of(4) {
                s.push(':');
                s.push_str(&self.num(2, 61));
                if self.next().is_multiple_of(2) {
                    s.push_str(self.pick(&[".", ".", ","]));
                    let n = (self.next() % 11) as usize;
                    s.push_str(&self.num(n.max(1), 10u64.pow(n.min(15) as u32)));
                }
            }
            let zone = self.pick(&[
                "",
                "",
                "Z",
                "z",
                " Z",
                "UTC",
                " utc",
                "+02:00",
                "-08:00",
                "+0530",
                "-05",
                "+14:00",
                "+23:59",
                "+24:00",
                "-00:00",
                "+02:60",
                "+2",
                "+123",
                " +01:00",
                "Europe/Paris",
            ]);
            s.push_str(zone);
        }
        if self.next().is_multiple_of(6) {
            // Change, insert or cut at a random place.
            let at = (self.next() % (s.len() as u64 + 1)) as usize;
            let piece = self.pick(&["é", "\u{0}", "-", ":", "0", "9", "+", " ", "Z", ".", ""]);
            let mut b = s.into_bytes();
            match self.next() % 3 {
                0 => b.truncate(at),
                1 => {
                    b.splice(at..at, piece.bytes());
                }
                _ => {
                    let end = (at + 1).min(b.len());
                    b.splice(at..end, piece.bytes());
                }
            }
            s = String::from_utf8_lossy(&b).into_owned();
        }
        s
    }
}

#[test]
fn agrees_with_jiff_on_generated_timestamps() {
    let mut g = Gen(0x2545_F491_4F6C_DD1D);
    let (mut compared, mut accepted) = (0, 0);
    for _ in 0..60_000 {
        let s = g.stamp();
        let ours = parse_iso(&s, 0);
        let t = s.trim();
        assert!(
            ours.is_none() || oracle::in_grammar(t),
            "{s:?}: read, but not in the grammar"
        );
        if !oracle::comparable(t) {
            continue;
        }
        compared += 1;
        assert_eq!(ours, oracle::jiff_millis(t), "{s:?}");
        accepted += usize::from(ours.is_some());
        if let Ok(Some(n)) = normalize(&s) {
            // The normal form reads back as the same instant, and is its own normal form.
            assert_eq!(parse_iso(&n, 0), ours, "{s:?} -> {n:?}");
            assert_eq!(normalize(&n), Ok(Some(n.clone())), "{s:?}");
        }
    }
    // The comparison means something: many inputs in the grammar, many of them valid.
    assert!(
        compared > 20_000 && accepted > 5_000,
        "{compared} compared, {accepted} accepted"
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let pieces = [
        "/Date(",
        ")/",
        "2024-05-14",
        "T",
        "12:00",
        ":00",
        ".5",
        "+02:00",
        "-",
        "é",
        "\u{0}",
        "9",
        "UTC",
        " ",
    ];
    for _ in 0..50_000 {
        let mut s = String::new();
        for _ in 0..(g.next() % 8) {
            s.push_str(g.pick(&pieces));
        }
        let _ = parse_any(&s);
        let _ = normalize(&s);
        let _ = parse_offset(&s);
        if let Some(t) = parse_any(&s) {
            let _ = format_iso(t);
        }
    }
}
