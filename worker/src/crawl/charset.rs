//! Decoding a fetched page's bytes to text by its declared character set.
//!
//! The body is read with a size cap, so reqwest's own `text()` cannot be used; this covers BOMs,
//! UTF-8, UTF-16 and the Latin-1/Windows-1252 family (which HTML treats as one). Other charsets
//! fall back to lossy UTF-8.

use std::sync::LazyLock;

use regex::bytes::Regex;

/// The page's text: BOM first, then the Content-Type charset, then `<meta charset>`, else UTF-8.
pub(crate) fn decode_html(bytes: &[u8], content_type: Option<&str>) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, u16::from_be_bytes);
    }
    let label = content_type
        .and_then(header_charset)
        .or_else(|| meta_charset(&bytes[..bytes.len().min(1024)]));
    match label.as_deref() {
        Some(
            "iso-8859-1" | "iso8859-1" | "latin1" | "l1" | "windows-1252" | "cp1252" | "x-cp1252"
            | "us-ascii" | "ascii" | "cp819" | "ibm819" | "iso-ir-100" | "iso_8859-1"
            | "iso-8859-15" | "latin9",
        ) => windows_1252(bytes),
        Some("utf-16le" | "utf-16") => utf16(bytes, u16::from_le_bytes),
        Some("utf-16be") => utf16(bytes, u16::from_be_bytes),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn header_charset(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_ascii_lowercase())
    })
}

fn meta_charset(head: &[u8]) -> Option<String> {
    static META: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_:.\-]+)"#)
            .expect("static regex")
    });
    let found = META.captures(head)?.get(1)?;
    Some(String::from_utf8_lossy(found.as_bytes()).to_ascii_lowercase())
}

fn utf16(bytes: &[u8], read: fn([u8; 2]) -> u16) -> String {
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| read([c[0], c[1]])).collect();
    String::from_utf16_lossy(&units)
}

/// Windows-1252: Latin-1 with printable characters in 0x80–0x9F.
fn windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}',
        '\u{2021}', '\u{2C6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}',
        '\u{8F}', '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}',
        '\u{2014}', '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}', '\u{17E}',
        '\u{178}',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH[(b - 0x80) as usize],
            _ => char::from(b),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_by_header_meta_and_bom() {
        let latin = b"caf\xE9 \x80 \x93quoted\x94";
        assert_eq!(
            decode_html(latin, Some("text/html; charset=ISO-8859-1")),
            "café € “quoted”"
        );
        assert_eq!(
            decode_html(latin, Some("text/html;charset=\"windows-1252\"")),
            "café € “quoted”"
        );
        let with_meta = b"<html><head><meta charset=\"latin1\"></head><p>caf\xE9</p>";
        assert!(decode_html(with_meta, Some("text/html")).ends_with("<p>café</p>"));
        let http_equiv =
            b"<meta http-equiv='Content-Type' content='text/html; charset=windows-1252'>\xE9";
        assert!(decode_html(http_equiv, None).ends_with('é'));
        assert_eq!(decode_html("café".as_bytes(), None), "café");
        assert_eq!(
            decode_html(b"\xEF\xBB\xBFhi", Some("text/html; charset=latin1")),
            "hi"
        );
        assert_eq!(decode_html(b"\xFF\xFEh\0i\0", None), "hi");
        assert_eq!(decode_html(b"\xFE\xFF\0h\0i", None), "hi");
        assert_eq!(decode_html(b"bad \xFF utf8", None), "bad \u{FFFD} utf8");
    }
}
