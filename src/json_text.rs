//! JSON written straight as text where a run writes a lot of it (the local directory's values,
//! the history's per-user results): serde's general path costs several times as much per string.

use std::fmt::Write;

/// `text` as a JSON string: quotes, backslashes and control characters escaped, byte for byte as
/// serde_json escapes them. Copied a run of plain bytes at a time (the escaped ones are all
/// ASCII, so a run ends on a character boundary).
pub(crate) fn push_json_text(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    let bytes = text.as_bytes();
    let (mut plain, mut at) = (0, 0);
    while at < bytes.len() {
        // Eight bytes at a time while none of them needs an escape: most texts have none.
        if let Some(chunk) = bytes.get(at..at + 8) {
            if !may_escape(u64::from_le_bytes(chunk.try_into().expect("eight bytes"))) {
                at += 8;
                continue;
            }
        }
        let b = bytes[at];
        at += 1;
        if b == b'"' || b == b'\\' || b < 0x20 {
            let at = at - 1;
            out.push_str(&text[plain..at]);
            match b {
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                // The short escapes where JSON has them, as serde_json writes them.
                b'\n' => out.push_str("\\n"),
                b'\r' => out.push_str("\\r"),
                b'\t' => out.push_str("\\t"),
                0x08 => out.push_str("\\b"),
                0x0c => out.push_str("\\f"),
                _ => {
                    let _ = write!(out, "\\u{:04x}", b);
                }
            }
            plain = at + 1;
        }
    }
    out.push_str(&text[plain..]);
    out.push('"');
}

/// Whether any of eight bytes may be a quote, a backslash or a control character (never false
/// when one is; a byte after one may be reported too, which only costs a look at each byte).
/// The test for a zero byte, `(x - 0x01..) & !x & 0x80..`, applied to each kind.
fn may_escape(x: u64) -> bool {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    (control | zero_in(x ^ (ONES * u64::from(b'"'))) | zero_in(x ^ (ONES * u64::from(b'\\')))) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_as_the_same_text() {
        let long = "a longer text of plain words, then \"a quote\", a \\ and a\ttab, more than eight at a time";
        for text in [
            long,
            "12345678\"",
            "1234567\n",
            "ééééé\u{1f}ü",
            "",
            "plain",
            "q\"uote",
            "back\\slash",
            "tab\tnl\ncr\r\u{1}\u{1f}",
            "ünï\u{7f}cødé",
            "\"\\",
        ] {
            let mut out = String::new();
            push_json_text(&mut out, text);
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), text, "{out}");
            assert_eq!(out, serde_json::to_string(text).unwrap());
        }
    }
}
