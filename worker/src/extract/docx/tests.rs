//! Tests of `docx`.

use std::io::Write;
use std::time::{Duration, Instant};

use zip::write::SimpleFileOptions;

use super::*;

const SAMPLE: &[u8] = include_bytes!("../../../../tests/fixtures/documents/sample.docx");
const CORRUPT: &[u8] = include_bytes!("../../../../tests/fixtures/documents/corrupt.docx");
const ZIP: &[u8] = include_bytes!("../../../../tests/fixtures/documents/zip-renamed.pdf");
const PDF: &[u8] = include_bytes!("../../../../tests/fixtures/documents/reportlab-2p.pdf");

const W: &str = "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"";

/// A zip holding the given (name, content) entries.
fn package(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    for (name, content) in entries {
        zip.start_file(*name, SimpleFileOptions::default()).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

fn body(xml: &str) -> Vec<u8> {
    let document = format!("<w:document {W}><w:body>{xml}</w:body></w:document>");
    package(&[("word/document.xml", document.as_bytes())])
}

fn err(result: Result<ExtractedDoc, ExtractError>) -> String {
    result.expect_err("expected an error").0
}

fn section(heading_path: &[&str], text: &str) -> Section {
    Section {
        heading_path: heading_path.iter().map(|h| h.to_string()).collect(),
        text: text.into(),
    }
}

#[test]
fn sample_document_has_headings_lists_and_tables() {
    let doc = extract_docx(SAMPLE).unwrap();
    assert_eq!(doc.title, "Bakery Operations Handbook");
    assert_eq!(doc.partial, None);
    assert_eq!(
        doc.sections,
        [
            section(&[], "Welcome to the bakery & café team."),
            section(
                &["Opening"],
                "The ovens are lit at 4:30 every weekday.\n\nCode\tMeaning\nLine two after a break."
            ),
            section(
                &["Opening", "Checklist"],
                "- Check the sourdough starter.\n\n- Weigh the rye flour."
            ),
            section(
                &["Prices"],
                "Item | Price\nRye loaf | 4.20 EUR\nCinnamon bun | 2.80 EUR\n\nPrices include VAT."
            ),
        ]
    );
}

#[test]
fn title_falls_back_to_title_style_then_first_heading() {
    let doc = extract_docx(&body(
        "<w:p><w:pPr><w:pStyle w:val=\"Title\"/></w:pPr><w:r><w:t>Styled  title</w:t></w:r></w:p>\
             <w:p><w:r><w:t>Body.</w:t></w:r></w:p>",
    ))
    .unwrap();
    assert_eq!(doc.title, "Styled title");
    assert_eq!(doc.sections, [section(&[], "Body.")]);
    let doc = extract_docx(&body(
        "<w:p><w:pPr><w:pStyle w:val=\"Heading2\"/></w:pPr><w:r><w:t>Deep first</w:t></w:r></w:p>\
             <w:p><w:r><w:t>Under it.</w:t></w:r></w:p>\
             <w:p><w:pPr><w:outlineLvl w:val=\"0\"/></w:pPr><w:r><w:t>Top</w:t></w:r></w:p>\
             <w:p><w:r><w:t>Under top.</w:t></w:r></w:p>",
    ))
    .unwrap();
    assert_eq!(doc.title, "Deep first");
    assert_eq!(
        doc.sections,
        [
            section(&["Deep first"], "Under it."),
            section(&["Top"], "Under top.")
        ]
    );
    let doc = extract_docx(&body("<w:p><w:r><w:t>Only text.</w:t></w:r></w:p>")).unwrap();
    assert_eq!(doc.title, "");
}

#[test]
fn list_styles_mark_items() {
    let styles = format!(
        "<w:styles {W}><w:style w:styleId=\"ListBullet\"><w:name w:val=\"List Bullet\"/>\
             <w:pPr><w:numPr><w:numId w:val=\"1\"/></w:numPr></w:pPr></w:style>\
             <w:style w:styleId=\"MyBullet\"><w:basedOn w:val=\"ListBullet\"/></w:style></w:styles>"
    );
    let document = format!(
        "<w:document {W}><w:body>\
             <w:p><w:pPr><w:pStyle w:val=\"ListBullet\"/></w:pPr><w:r><w:t>From style</w:t></w:r></w:p>\
             <w:p><w:pPr><w:pStyle w:val=\"MyBullet\"/></w:pPr><w:r><w:t>Inherited</w:t></w:r></w:p>\
             <w:p><w:pPr><w:pStyle w:val=\"ListBullet\"/><w:numPr><w:numId w:val=\"0\"/></w:numPr></w:pPr>\
             <w:r><w:t>Switched off</w:t></w:r></w:p></w:body></w:document>"
    );
    let bytes = package(&[
        ("word/document.xml", document.as_bytes()),
        ("word/styles.xml", styles.as_bytes()),
    ]);
    let doc = extract_docx(&bytes).unwrap();
    assert_eq!(
        doc.sections,
        [section(&[], "- From style\n\n- Inherited\n\nSwitched off")]
    );
}

#[test]
fn whitespace_follows_xml_space() {
    let doc = extract_docx(&body(
            "<w:p><w:r><w:t>  trimmed  </w:t><w:t xml:space=\"preserve\"> kept </w:t><w:t>end</w:t></w:r></w:p>",
        ))
        .unwrap();
    assert_eq!(doc.sections[0].text, "trimmed kept end");
}

#[test]
fn fallback_copies_and_tab_stops_add_no_text() {
    let doc = extract_docx(&body(
            "<w:p xmlns:mc=\"http://schemas.openxmlformats.org/markup-compatibility/2006\">\
             <w:pPr><w:tabs><w:tab w:val=\"left\" w:pos=\"720\"/></w:tabs></w:pPr>\
             <w:r><w:t>Once</w:t></w:r>\
             <mc:AlternateContent><mc:Choice Requires=\"wps\"><w:r><w:t xml:space=\"preserve\"> only</w:t></w:r></mc:Choice>\
             <mc:Fallback><w:r><w:t>twice</w:t></w:r></mc:Fallback></mc:AlternateContent></w:p>",
        ))
        .unwrap();
    assert_eq!(doc.sections[0].text, "Once only");
}

#[test]
fn bad_files_get_clear_errors() {
    assert_eq!(err(extract_docx(CORRUPT)), NOT_DOCX);
    assert_eq!(err(extract_docx(PDF)), NOT_DOCX);
    assert_eq!(err(extract_docx(ZIP)), NOT_DOCX);
    assert_eq!(err(extract_docx(b"")), NOT_DOCX);
    assert_eq!(err(extract_docx(&body("<w:p><w:r><w:t>open"))), DAMAGED);
    assert_eq!(
        err(extract_docx(&package(&[(
            "word/document.xml",
            b"<w:document><w:body></w:x>"
        )]))),
        DAMAGED
    );
    assert_eq!(
        err(extract_docx(&body(
            "<w:p><w:r><w:t>  </w:t></w:r></w:p><w:p/>"
        ))),
        NO_TEXT
    );
}

#[test]
fn oversized_parts_are_refused() {
    let big = body(&"<w:p><w:r><w:t>filler text</w:t></w:r></w:p>".repeat(100));
    assert!(extract_with_limit(&big, 1 << 20).is_ok());
    assert_eq!(err(extract_with_limit(&big, 1024)), TOO_LARGE);
}

#[test]
fn main_part_is_found_through_relationships() {
    let rels = "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
            <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"/word/document2.xml\"/></Relationships>";
    let document = format!(
        "<w:document {W}><w:body><w:p><w:r><w:t>Moved.</w:t></w:r></w:p></w:body></w:document>"
    );
    let bytes = package(&[
        ("_rels/.rels", rels.as_bytes()),
        ("word/document2.xml", document.as_bytes()),
    ]);
    assert_eq!(
        extract_docx(&bytes).unwrap().sections,
        [section(&[], "Moved.")]
    );
}

#[test]
fn damaged_variants_never_panic() {
    let start = Instant::now();
    let mut variants: Vec<Vec<u8>> = (0..100)
        .map(|i| SAMPLE[..SAMPLE.len() * i / 100].to_vec())
        .collect();
    let mut seed = 0x9e37_79b9_u32;
    for _ in 0..200 {
        let mut bytes = SAMPLE.to_vec();
        for _ in 0..3 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let at = seed as usize % bytes.len();
            bytes[at] ^= 1 << (seed % 8);
        }
        variants.push(bytes);
    }
    let (mut ok, mut failed) = (0, 0);
    for bytes in variants {
        match extract_docx(&bytes) {
            Ok(doc) => {
                assert!(!doc.sections.is_empty());
                ok += 1;
            }
            Err(e) => {
                assert!(
                    [NOT_DOCX, DAMAGED, NO_TEXT, TOO_LARGE].contains(&e.0.as_str()),
                    "{e}"
                );
                failed += 1;
            }
        }
    }
    assert!(ok > 0 && failed > 0, "{ok} ok, {failed} failed");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}
