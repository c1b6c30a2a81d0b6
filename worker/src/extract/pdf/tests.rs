//! Tests of `pdf`.

use super::*;

const GHOSTSCRIPT: &[u8] =
    include_bytes!("../../../../tests/fixtures/documents/ghostscript-2p.pdf");
const REPORTLAB: &[u8] = include_bytes!("../../../../tests/fixtures/documents/reportlab-2p.pdf");
const QUIRKS: &[u8] = include_bytes!("../../../../tests/fixtures/documents/handmade-quirks.pdf");
const TRUNCATED: &[u8] = include_bytes!("../../../../tests/fixtures/documents/truncated.pdf");
const ZIP: &[u8] = include_bytes!("../../../../tests/fixtures/documents/zip-renamed.pdf");
const ENCRYPTED_USER: &[u8] =
    include_bytes!("../../../../tests/fixtures/documents/encrypted-user-pw.pdf");
const ENCRYPTED_OWNER: &[u8] =
    include_bytes!("../../../../tests/fixtures/documents/encrypted-owner-only.pdf");

fn no_fallback(_: &[u8]) -> Option<Vec<String>> {
    None
}

fn have_pdftotext() -> bool {
    Command::new("pdftotext").arg("-v").output().is_ok()
}

fn page(doc: &ExtractedDoc, n: usize) -> &str {
    let heading = vec![format!("Page {n}")];
    &doc.sections
        .iter()
        .find(|s| s.heading_path == heading)
        .expect("page section")
        .text
}

fn err(result: Result<ExtractedDoc, ExtractError>) -> String {
    result.expect_err("expected an error").0
}

fn assert_greenhouse(doc: &ExtractedDoc) {
    assert_eq!(doc.title, "Greenhouse Watering Guide");
    assert_eq!(doc.sections.len(), 2);
    assert!(page(doc, 1).contains("Tomato seedlings need water every second morning before nine."));
    assert!(page(doc, 1).contains("The rain barrel behind shed B holds three hundred litres."));
    assert!(page(doc, 2).contains("Basil prefers the east bench where it gets four hours of sun."));
    assert!(page(doc, 2).contains("Never water the cactus shelf during the month of December."));
    assert!(!page(doc, 1).contains("Basil"));
    assert_eq!(doc.partial, None);
}

#[test]
fn reportlab_pages_become_sections() {
    assert_greenhouse(&extract_with_fallback(REPORTLAB, &no_fallback).unwrap());
    assert_greenhouse(&extract_pdf(REPORTLAB).unwrap());
}

#[test]
fn ghostscript_quote_operator_text_is_read_without_pdftotext() {
    for doc in [
        extract_with_fallback(GHOSTSCRIPT, &no_fallback).unwrap(),
        extract_pdf(GHOSTSCRIPT).unwrap(),
    ] {
        assert_eq!(doc.title, "Harbor Lighthouse Maintenance Log");
        assert_eq!(doc.sections.len(), 2);
        assert_eq!(doc.partial, None);
        let one = page(&doc, 1);
        assert!(
            one.contains("The north lighthouse lens was polished on the third of March."),
            "{one}"
        );
        assert!(
            one.contains("Keeper Ingrid Solberg counted 412 steps up to the lantern room."),
            "{one}"
        );
        let two = page(&doc, 2);
        assert!(
            two.contains("The foghorn compressor was replaced by a brass model in April."),
            "{two}"
        );
        assert!(
            two.contains("Spare bulbs are stored in cabinet seventeen beside the radio."),
            "{two}"
        );
    }
}

#[test]
fn quote_operators_are_rewritten() {
    let out = rewrite_quotes(b"BT 14 TL (one) Tj (two) ' 1 2 (three) \" ET").unwrap();
    let ops: Vec<String> = Content::decode(&out)
        .unwrap()
        .operations
        .into_iter()
        .map(|o| o.operator)
        .collect();
    assert_eq!(
        ops,
        ["BT", "TL", "Tj", "T*", "Tj", "Tw", "Tc", "T*", "Tj", "ET"]
    );
    assert_eq!(rewrite_quotes(b"BT (it's) Tj ET"), None);
}

#[test]
fn pdftotext_reads_both_producers_when_installed() {
    if !have_pdftotext() {
        assert_eq!(pdftotext_pages(REPORTLAB), None);
        return;
    }
    let pages = pdftotext_pages(GHOSTSCRIPT).unwrap();
    assert_eq!(pages.len(), 2);
    assert!(pages[0].contains("Keeper Ingrid Solberg counted 412 steps up to the lantern room."));
    assert!(pages[1].contains("Spare bulbs are stored in cabinet seventeen beside the radio."));
    let pages = pdftotext_pages(REPORTLAB).unwrap();
    assert_eq!(pages.len(), 2);
    assert!(pages[1].contains("Never water the cactus shelf during the month of December."));
    assert_eq!(pdftotext_pages(TRUNCATED), None);
}

#[test]
fn missing_media_box_is_repaired_and_panicking_page_comes_from_pdftotext() {
    // No /MediaBox anywhere (repaired), and page 2 paints a missing XObject: pdf-extract
    // panics on that page (caught); poppler skips the XObject and reads the text.
    let doc = extract_with_fallback(QUIRKS, &no_fallback).unwrap();
    assert_eq!(
        page(&doc, 1),
        "The orchard has fourteen pear trees planted in 1998."
    );
    assert_eq!(doc.sections.len(), 1);
    assert_eq!(
        doc.title,
        "The orchard has fourteen pear trees planted in 1998."
    );
    assert_eq!(
        doc.partial.as_deref(),
        Some("only part of the text could be read: 1 of 2 pages could not be read")
    );
    let doc = extract_pdf(QUIRKS).unwrap();
    if have_pdftotext() {
        assert_eq!(doc.partial, None);
        assert_eq!(
            page(&doc, 1),
            "The orchard has fourteen pear trees planted in 1998."
        );
        assert_eq!(
            page(&doc, 2),
            "Cider is pressed in the barn on the first Saturday of October."
        );
    } else {
        assert_eq!(doc.sections.len(), 1);
        assert!(doc.partial.is_some());
    }
}

#[test]
fn hanging_pdftotext_is_killed_and_missing_one_is_none() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("pdftotext");
    std::fs::write(&script, "#!/bin/sh\nPATH=/usr/bin:/bin exec sleep 30\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let start = Instant::now();
    assert_eq!(
        run_pdftotext(
            script.to_str().unwrap(),
            REPORTLAB,
            Duration::from_millis(300)
        ),
        None
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let missing = dir.path().join("absent");
    assert_eq!(
        run_pdftotext(missing.to_str().unwrap(), REPORTLAB, PDFTOTEXT_TIMEOUT),
        None
    );
}

#[test]
fn split_pages_drops_only_the_trailing_form_feed() {
    assert_eq!(
        split_pages("one\n\x0c\x0cthree\n\x0c"),
        ["one\n", "", "three\n"]
    );
    assert_eq!(split_pages(""), Vec::<String>::new());
}

#[test]
fn fallback_fills_only_the_pages_it_read_better() {
    let fallback = |_: &[u8]| {
        Some(vec![
            "short".to_string(),
            "The second page as the fallback read it, with plenty of words.".to_string(),
        ])
    };
    // Page 1 reads fine in pdf-extract, so the fallback is only asked because page 2 failed.
    let mut pages = vec![
        "A first page with more than enough characters in it.".to_string(),
        String::new(),
    ];
    let mut unread = vec![false, true];
    merge_pages(&mut pages, &mut unread, fallback(b"").unwrap());
    assert_eq!(
        pages[0],
        "A first page with more than enough characters in it."
    );
    assert!(pages[1].starts_with("The second page as the fallback read it"));
    assert_eq!(unread, [false, false]);
    let doc = finish(None, pages, &unread).unwrap();
    assert_eq!(doc.partial, None);
    assert_eq!(
        doc.title,
        "A first page with more than enough characters in it."
    );
}

#[test]
fn unread_or_sparse_pages_mark_the_document_partial() {
    let pages = vec![
        "Enough text on this first page to pass the bar.".to_string(),
        String::new(),
    ];
    let doc = finish(Some("T".into()), pages, &[false, true]).unwrap();
    assert_eq!(
        doc.partial.as_deref(),
        Some("only part of the text could be read: 1 of 2 pages could not be read")
    );
    assert_eq!(doc.sections.len(), 1);
    assert_eq!(doc.sections[0].heading_path, ["Page 1"]);
    let doc = finish(None, vec!["Fig. 1".into(), "x".into()], &[false, false]).unwrap();
    assert!(
        doc.partial
            .unwrap()
            .starts_with("only part of the text could be read")
    );
    assert_eq!(err(finish(None, vec![" \n ".into()], &[false])), NO_TEXT);
}

#[test]
fn bad_files_get_clear_errors() {
    assert_eq!(err(extract_pdf(ZIP)), NOT_PDF);
    assert_eq!(err(extract_pdf(b"")), NOT_PDF);
    assert_eq!(err(extract_pdf(b"hello world")), NOT_PDF);
    assert_eq!(err(extract_pdf(TRUNCATED)), DAMAGED);
    assert_eq!(err(extract_pdf(b"%PDF-1.7\n")), DAMAGED);
    assert_eq!(err(extract_pdf(ENCRYPTED_USER)), ENCRYPTED);
}

#[test]
fn owner_password_only_pdf_opens_without_a_password() {
    assert_greenhouse(&extract_with_fallback(ENCRYPTED_OWNER, &no_fallback).unwrap());
}

#[test]
fn self_referencing_form_is_not_given_to_pdf_extract() {
    let mut doc = Document::load_mem(REPORTLAB).unwrap();
    let pages = doc.get_pages();
    let (first, second) = (pages[&1], pages[&2]);
    let form_id = doc.new_object_id();
    let mut own = Dictionary::new();
    own.set("Loop", form_id);
    let mut form_resources = Dictionary::new();
    form_resources.set("XObject", own);
    let mut form_dict = Dictionary::new();
    form_dict.set("Subtype", Object::Name(b"Form".to_vec()));
    form_dict.set("Resources", form_resources);
    doc.objects.insert(
        form_id,
        Object::Stream(Stream::new(form_dict, b"/Loop Do".to_vec())),
    );
    let mut page_resources = inherited(&doc, first, b"Resources")
        .unwrap()
        .as_dict()
        .unwrap()
        .clone();
    let mut page_xobjects = Dictionary::new();
    page_xobjects.set("Loop", form_id);
    page_resources.set("XObject", page_xobjects);
    doc.get_dictionary_mut(first)
        .unwrap()
        .set("Resources", page_resources);
    doc.add_page_contents(first, b"/Loop Do".to_vec()).unwrap();
    assert!(!page_is_safe(&doc, first));
    assert!(page_is_safe(&doc, second));
    // Without the guard pdf-extract recurses until the stack overflows and the process aborts.
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    let doc = extract_with_fallback(&bytes, &no_fallback).unwrap();
    assert_eq!(doc.sections.len(), 1);
    assert!(page(&doc, 2).contains("Never water the cactus shelf during the month of December."));
    assert_eq!(
        doc.partial.as_deref(),
        Some("only part of the text could be read: 1 of 2 pages could not be read")
    );
}

#[test]
fn damaged_variants_never_panic() {
    let start = Instant::now();
    let mut outcomes = (0, 0);
    for source in [REPORTLAB, GHOSTSCRIPT] {
        let mut variants: Vec<Vec<u8>> = (1..80)
            .map(|i| source[..source.len() * i / 80].to_vec())
            .collect();
        let mut seed = 0x2545_f491_u32;
        for _ in 0..120 {
            let mut bytes = source.to_vec();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let at = seed as usize % bytes.len();
                bytes[at] ^= 1 << (seed % 8);
            }
            variants.push(bytes);
        }
        for bytes in variants {
            match extract_with_fallback(&bytes, &no_fallback) {
                Ok(doc) => {
                    assert!(!doc.sections.is_empty());
                    outcomes.0 += 1;
                }
                Err(e) => {
                    assert!(
                        [NOT_PDF, DAMAGED, NO_TEXT, ENCRYPTED].contains(&e.0.as_str()),
                        "{e}"
                    );
                    outcomes.1 += 1;
                }
            }
        }
    }
    assert!(outcomes.0 > 0 && outcomes.1 > 0, "{outcomes:?}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}
