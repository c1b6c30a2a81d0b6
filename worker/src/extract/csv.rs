//! CSV and TSV files: one section per data row, as "column: value" lines.

use std::borrow::Cow;

use csv::{ByteRecord, ReaderBuilder};

use super::{ExtractError, ExtractedDoc, Section};

/// Delimiters tried when sniffing, in order of preference on ties.
const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// Records read per candidate delimiter when sniffing.
const SNIFF_ROWS: usize = 20;

/// A CSV file: the header row names the columns and every data row becomes one section.
pub fn extract_csv(bytes: &[u8], title: &str) -> Result<ExtractedDoc, ExtractError> {
    let bytes = to_utf8(bytes);
    let delimiter = sniff_delimiter(&bytes);
    let mut reader = reader(&bytes, delimiter);
    let mut records = reader.byte_records();
    let mut partial = None;
    let header: Vec<String> = match records.next() {
        Some(Ok(record)) => record
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let name = normalise(&String::from_utf8_lossy(name));
                if name.is_empty() {
                    format!("column {}", i + 1)
                } else {
                    name
                }
            })
            .collect(),
        _ => return Err(no_rows()),
    };
    let mut sections = Vec::new();
    for record in records {
        match record {
            Ok(record) => {
                if let Some(section) = row_section(&header, &record) {
                    sections.push(section);
                }
            }
            Err(_) => {
                partial = Some("part of the CSV file could not be read".to_string());
                break;
            }
        }
    }
    if sections.is_empty() {
        return Err(no_rows());
    }
    Ok(ExtractedDoc {
        title: title.trim().to_string(),
        sections,
        partial,
    })
}

fn no_rows() -> ExtractError {
    ExtractError("the CSV file has no data rows".to_string())
}

/// The file as UTF-8 bytes: the UTF-8 BOM dropped and UTF-16 (with a BOM) converted.
fn to_utf8(bytes: &[u8]) -> Cow<'_, [u8]> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Cow::Borrowed(rest);
    }
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        let units = rest.chunks_exact(2).map(|p| from([p[0], p[1]]));
        let text: String = char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        Cow::Owned(text.into_bytes())
    };
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, u16::from_be_bytes);
    }
    Cow::Borrowed(bytes)
}

fn reader(bytes: &[u8], delimiter: u8) -> csv::Reader<&[u8]> {
    ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
}

/// The delimiter that splits the header into the most fields while the next rows agree
/// with that count; ',' when nothing splits.
fn sniff_delimiter(bytes: &[u8]) -> u8 {
    let mut best = (false, 0, DELIMITERS[0]);
    for d in DELIMITERS {
        let counts: Vec<usize> = reader(bytes, d)
            .byte_records()
            .take(SNIFF_ROWS)
            .map_while(Result::ok)
            .map(|r| r.len())
            .collect();
        let Some(&fields) = counts.first() else {
            continue;
        };
        let consistent = fields > 1 && counts.iter().all(|&n| n == fields);
        if (consistent, fields) > (best.0, best.1) {
            best = (consistent, fields, d);
        }
    }
    best.2
}

/// One data row as "column: value" lines, or None when every value is empty.
fn row_section(header: &[String], record: &ByteRecord) -> Option<Section> {
    let mut text = String::new();
    for (i, value) in record.iter().enumerate() {
        let value = normalise(&String::from_utf8_lossy(value));
        if value.is_empty() {
            continue;
        }
        let name = header.get(i).map_or_else(
            || Cow::Owned(format!("column {}", i + 1)),
            |n| Cow::Borrowed(n.as_str()),
        );
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&name);
        text.push_str(": ");
        text.push_str(&value);
    }
    (!text.is_empty()).then(|| Section {
        heading_path: Vec::new(),
        text,
    })
}

/// Trims and collapses whitespace (including line breaks inside quoted fields).
fn normalise(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(doc: &ExtractedDoc) -> Vec<&str> {
        doc.sections.iter().map(|s| s.text.as_str()).collect()
    }

    #[test]
    fn rows_become_sections() {
        let doc = extract_csv(
            b"name,price,notes\nWidget,10,\"Blue, large\"\nGadget,,\n",
            " p.csv ",
        )
        .unwrap();
        assert_eq!(doc.title, "p.csv");
        assert_eq!(
            texts(&doc),
            vec![
                "name: Widget\nprice: 10\nnotes: Blue, large",
                "name: Gadget"
            ]
        );
        assert!(doc.sections.iter().all(|s| s.heading_path.is_empty()));
        assert_eq!(doc.partial, None);
    }

    #[test]
    fn sniffs_semicolons_and_tabs() {
        let doc = extract_csv(b"name;price\nWidget;3,50\nGadget;4,00\n", "t").unwrap();
        assert_eq!(
            texts(&doc),
            vec!["name: Widget\nprice: 3,50", "name: Gadget\nprice: 4,00"]
        );
        let doc = extract_csv(b"name\tdesc\nfoo\thello, world\n", "t").unwrap();
        assert_eq!(texts(&doc), vec!["name: foo\ndesc: hello, world"]);
        let doc = extract_csv(b"a,b,c\n1,2,3\n", "t").unwrap();
        assert_eq!(texts(&doc), vec!["a: 1\nb: 2\nc: 3"]);
    }

    #[test]
    fn quoted_newlines_ragged_rows_and_blank_headers() {
        let csv =
            "q,,a\r\n\"How do I\r\nreset?\",x,\"Open settings.\"\r\nonly one\r\n1,2,3,4\r\n,,\r\n";
        let doc = extract_csv(csv.as_bytes(), "t").unwrap();
        assert_eq!(
            texts(&doc),
            vec![
                "q: How do I reset?\ncolumn 2: x\na: Open settings.",
                "q: only one",
                "q: 1\ncolumn 2: 2\na: 3\ncolumn 4: 4",
            ]
        );
    }

    #[test]
    fn bom_and_invalid_utf8() {
        let mut bytes = b"\xEF\xBB\xBFcaf\xC3\xA9,note\n".to_vec();
        bytes.extend_from_slice(b"cr\xE8me,ok\n");
        let doc = extract_csv(&bytes, "t").unwrap();
        assert_eq!(texts(&doc), vec!["café: cr\u{FFFD}me\nnote: ok"]);
    }

    #[test]
    fn utf16_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "name\tcity\nAnn\tZürich\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let doc = extract_csv(&bytes, "t").unwrap();
        assert_eq!(texts(&doc), vec!["name: Ann\ncity: Zürich"]);
    }

    #[test]
    fn no_data_rows_is_an_error() {
        let err = ExtractError("the CSV file has no data rows".to_string());
        assert_eq!(extract_csv(b"", "t"), Err(err.clone()));
        assert_eq!(extract_csv(b"\xEF\xBB\xBF", "t"), Err(err.clone()));
        assert_eq!(extract_csv(b"a,b,c\n", "t"), Err(err.clone()));
        assert_eq!(extract_csv(b"a,b\n,\n , \n", "t"), Err(err));
    }

    #[test]
    fn random_bytes_never_panic() {
        let alphabet = b",;\t\"\r\n a\xEF\xBB\xBF\xFF\xFE\x00";
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..3000 {
            let len = (seed % 30) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            if let Ok(doc) = extract_csv(&bytes, "t") {
                assert!(!doc.sections.is_empty());
            }
        }
    }

    #[test]
    fn malformed_input_does_not_panic() {
        for input in [
            &b"\"unterminated,field\nx,y"[..],
            b"a,\"b\"c,d\n1,2\"\"3,\"4",
            b"\x00\xFF\xFE\x00",
            b"\xFE\xFF\x00",
            b"\n\n\n",
            b";;;\n\t\t\n,,,",
        ] {
            let _ = extract_csv(input, "t");
        }
        let doc = extract_csv(b"a,b\n\"x\ny,z", "t").unwrap();
        assert_eq!(texts(&doc), vec!["a: x y,z"]);
    }
}
