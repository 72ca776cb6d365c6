//! spira-map copies escaped text as it is and trims it escaped: differential against decoding.
//! For any JSON string literal without `\u` escapes, the escaped trims must decode to what
//! `str::trim_end` / `str::trim` make of the decoded text; and `json::string` must write what
//! serde_json writes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spira_pipe::json;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    // As text: escaping matches serde_json.
    let mut v = Vec::new();
    json::string(&mut v, s);
    assert_eq!(v, serde_json::to_string(s).unwrap().into_bytes());
    // As the inside of a literal: trims on the escaped form match trims on the decoded text.
    if s.contains("\\u") {
        return;
    }
    let Ok(decoded) = serde_json::from_str::<String>(&format!("\"{s}\"")) else { return };
    let decode = |b: &[u8]| -> String {
        serde_json::from_str(&format!("\"{}\"", std::str::from_utf8(b).unwrap())).unwrap()
    };
    let end = json::trim_end_escaped(s.as_bytes());
    assert_eq!(decode(end), decoded.trim_end());
    assert_eq!(decode(json::trim_start_escaped(end)), decoded.trim());
});
