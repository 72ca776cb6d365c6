//! The date readers, differential against jiff (`src/date/oracle.rs`): on any text in the ISO
//! forms `spira_pipe::date` claims, both read the same instant or both refuse it; nothing
//! outside those forms is read; a normalised timestamp reads back as the same instant and is
//! its own normal form; the WCF reader and the writers never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spira_pipe::date;

#[path = "../../src/date/oracle.rs"]
mod oracle;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let t = s.trim();
    let ours = date::parse_iso(&s, 0);
    assert!(ours.is_none() || oracle::in_grammar(t), "{s:?}: read, but not in the grammar");
    if oracle::comparable(t) {
        assert_eq!(ours, oracle::jiff_millis(t), "{s:?}");
    }
    if let Ok(Some(n)) = date::normalize(&s) {
        assert_eq!(date::parse_iso(&n, 0), ours, "{s:?} -> {n:?}");
        assert_eq!(date::normalize(&n), Ok(Some(n.clone())), "{s:?}");
    }
    if let Some(t) = date::parse_any(&s) {
        let _ = date::format_iso(t);
        let _ = date::format_wcf(t);
    }
    let _ = date::parse_offset(&s);
});
