//! PDF text, one Section per page: pdf-extract first, `pdftotext` (poppler) when that reads too little.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pdf_extract::content::{Content, Operation};
use pdf_extract::{Dictionary, Document, Object, ObjectId, PlainTextOutput, Stream};

use super::{ExtractError, ExtractedDoc, Section};

const NOT_PDF: &str = "the file is not a PDF";
const ENCRYPTED: &str = "the PDF is encrypted";
const DAMAGED: &str = "the PDF is damaged and could not be read";
const NO_TEXT: &str = "the PDF has no extractable text (it may be scanned images)";

/// Fewer non-space characters per page than this, on average, means text was missed.
const MIN_CHARS_PER_PAGE: usize = 20;
const TITLE_MAX_CHARS: usize = 120;
const PDFTOTEXT_TIMEOUT: Duration = Duration::from_secs(60);
const PDFTOTEXT_MAX_OUTPUT: u64 = 64 * 1024 * 1024;
/// Deeper nesting of form XObjects than this is refused: pdf-extract recurses without a limit.
const MAX_FORM_DEPTH: usize = 32;
const MAX_FORM_VISITS: usize = 2_000;

/// Extracts the text of a PDF, one Section per page with heading_path ["Page N"].
pub fn extract_pdf(bytes: &[u8]) -> Result<ExtractedDoc, ExtractError> {
    extract_with_fallback(bytes, &pdftotext_pages)
}

/// Pages read by a second extractor, or None when it is unavailable or failed.
type Fallback<'a> = &'a dyn Fn(&[u8]) -> Option<Vec<String>>;

/// What pdf-extract made of a document that loaded.
struct LibraryRead {
    title: Option<String>,
    /// One entry per page; None when pdf-extract failed or was not trusted with the page.
    pages: Vec<Option<String>>,
}

enum LoadFailure {
    Encrypted,
    Damaged,
    /// Refused before parsing (a decompression bomb), with the reason.
    Refused(String),
}

fn extract_with_fallback(bytes: &[u8], fallback: Fallback) -> Result<ExtractedDoc, ExtractError> {
    if !has_pdf_header(bytes) {
        return Err(ExtractError(NOT_PDF.into()));
    }
    let (title, pages, unread) = match read_with_library(bytes) {
        Ok(read) => {
            let mut unread: Vec<bool> = read.pages.iter().map(Option::is_none).collect();
            let mut pages: Vec<String> = read
                .pages
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect();
            if (unread.contains(&true) || too_little(&pages))
                && let Some(other) = fallback(bytes)
            {
                merge_pages(&mut pages, &mut unread, other);
            }
            (read.title, pages, unread)
        }
        Err(LoadFailure::Encrypted) => return Err(ExtractError(ENCRYPTED.into())),
        Err(LoadFailure::Refused(reason)) => return Err(ExtractError(reason)),
        // lopdf is stricter than poppler about broken cross-reference tables.
        Err(LoadFailure::Damaged) => match fallback(bytes) {
            Some(pages) if count_chars(&pages) > 0 => {
                let unread = vec![false; pages.len()];
                (None, pages, unread)
            }
            _ => return Err(ExtractError(DAMAGED.into())),
        },
    };
    finish(title, pages, &unread)
}

/// Builds the document from page texts, judging whether the text is complete.
fn finish(
    info_title: Option<String>,
    pages: Vec<String>,
    unread: &[bool],
) -> Result<ExtractedDoc, ExtractError> {
    let pages: Vec<String> = pages.iter().map(|p| tidy(p)).collect();
    if count_chars(&pages) == 0 {
        return Err(ExtractError(NO_TEXT.into()));
    }
    let still_unread = pages
        .iter()
        .zip(unread)
        .filter(|(p, u)| **u && p.is_empty())
        .count();
    let partial = if still_unread > 0 {
        Some(format!(
            "only part of the text could be read: {still_unread} of {} pages could not be read",
            pages.len()
        ))
    } else if too_little(&pages) {
        Some("only part of the text could be read: the pages hold very little text (parts may be scanned images)".into())
    } else {
        None
    };
    let title = info_title
        .or_else(|| first_line_title(&pages))
        .unwrap_or_default();
    let sections = pages
        .into_iter()
        .enumerate()
        .filter(|(_, text)| !text.is_empty())
        .map(|(i, text)| Section {
            heading_path: vec![format!("Page {}", i + 1)],
            text,
        })
        .collect();
    Ok(ExtractedDoc {
        title,
        sections,
        partial,
    })
}

/// Takes the fallback's text page by page where it read more; wholesale when page counts differ.
fn merge_pages(pages: &mut Vec<String>, unread: &mut Vec<bool>, other: Vec<String>) {
    if other.len() == pages.len() {
        for (i, text) in other.into_iter().enumerate() {
            if non_space_chars(&text) > non_space_chars(&pages[i]) {
                pages[i] = text;
                unread[i] = false;
            }
        }
    } else if count_chars(&other) > count_chars(pages) {
        unread.clear();
        unread.resize(other.len(), false);
        *pages = other;
    }
}

fn has_pdf_header(bytes: &[u8]) -> bool {
    // Readers accept junk before the header within the first KiB.
    bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
}

fn non_space_chars(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

fn count_chars(pages: &[String]) -> usize {
    pages.iter().map(|p| non_space_chars(p)).sum()
}

fn too_little(pages: &[String]) -> bool {
    pages.is_empty() || count_chars(pages) < MIN_CHARS_PER_PAGE * pages.len()
}

/// Trims lines, drops control characters and squeezes runs of blank lines.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line: String = line
            .chars()
            .filter(|c| !c.is_control() || *c == '\t')
            .collect();
        let line = line.trim();
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    out
}

fn clean_title(raw: &str) -> Option<String> {
    let title = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let title: String = title
        .chars()
        .filter(|c| !c.is_control())
        .take(TITLE_MAX_CHARS)
        .collect();
    let title = title.trim();
    (!title.is_empty() && !title.eq_ignore_ascii_case("untitled")).then(|| title.to_string())
}

fn first_line_title(pages: &[String]) -> Option<String> {
    pages.iter().flat_map(|p| p.lines()).find_map(clean_title)
}

fn read_with_library(bytes: &[u8]) -> Result<LibraryRead, LoadFailure> {
    let mut doc = match catch_unwind(|| Document::load_mem(bytes)) {
        Ok(Ok(doc)) => doc,
        Ok(Err(pdf_extract::Error::Decryption(_) | pdf_extract::Error::InvalidPassword)) => {
            return Err(LoadFailure::Encrypted);
        }
        _ if contains(bytes, b"/Encrypt") => return Err(LoadFailure::Encrypted),
        _ => return Err(LoadFailure::Damaged),
    };
    // lopdf decrypts files with an empty user password while loading; the rest stay encrypted.
    if doc.trailer.has(b"Encrypt") || doc.is_encrypted() {
        return Err(LoadFailure::Encrypted);
    }
    bomb::check(&doc).map_err(LoadFailure::Refused)?;
    let title = catch_unwind(AssertUnwindSafe(|| info_title(&doc)))
        .ok()
        .flatten();
    // A panic in a repair leaves each page either repaired whole or untouched.
    let _ = catch_unwind(AssertUnwindSafe(|| repair_media_boxes(&mut doc)));
    let _ = catch_unwind(AssertUnwindSafe(|| expand_quote_operators(&mut doc)));
    let page_ids =
        catch_unwind(AssertUnwindSafe(|| doc.get_pages())).map_err(|_| LoadFailure::Damaged)?;
    let pages = page_ids
        .into_iter()
        .map(|(number, id)| {
            if !page_is_safe(&doc, id) {
                return None;
            }
            catch_unwind(AssertUnwindSafe(|| {
                let mut text = String::new();
                pdf_extract::output_doc_page(&doc, &mut PlainTextOutput::new(&mut text), number)
                    .map(|()| text)
            }))
            .ok()
            .and_then(Result::ok)
        })
        .collect();
    Ok(LibraryRead { title, pages })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn deref<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Object> {
    match object {
        Object::Reference(id) => doc.get_object(*id).ok(),
        other => Some(other),
    }
}

fn dict_entry<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    dict.get(key).ok().and_then(|o| deref(doc, o))
}

fn info_title(doc: &Document) -> Option<String> {
    let info = deref(doc, doc.trailer.get(b"Info").ok()?)?.as_dict().ok()?;
    let title = dict_entry(doc, info, b"Title")?;
    clean_title(&pdf_extract::decode_text_string(title).ok()?)
}

/// Gives pages without a usable /MediaBox (own or inherited) US Letter, as poppler does;
/// pdf-extract panics on them.
fn repair_media_boxes(doc: &mut Document) {
    let page_ids: Vec<ObjectId> = doc.get_pages().into_values().collect();
    for page_id in page_ids {
        if inherited(doc, page_id, b"MediaBox").is_some_and(|b| is_rectangle(doc, b)) {
            continue;
        }
        if let Ok(page) = doc.get_dictionary_mut(page_id) {
            let letter = [0, 0, 612, 792].map(Object::Integer);
            page.set("MediaBox", Object::Array(letter.to_vec()));
        }
    }
}

fn is_rectangle(doc: &Document, object: &Object) -> bool {
    deref(doc, object)
        .and_then(|o| o.as_array().ok())
        .is_some_and(|a| {
            a.len() >= 4
                && a.iter()
                    .all(|n| matches!(n, Object::Integer(_) | Object::Real(_)))
        })
}

/// Looks `key` up on a page and then its ancestors, guarding against /Parent cycles.
fn inherited<'a>(doc: &'a Document, page_id: ObjectId, key: &[u8]) -> Option<&'a Object> {
    let mut seen = HashSet::new();
    let mut node = page_id;
    while seen.insert(node) {
        let dict = doc.get_dictionary(node).ok()?;
        if let Some(value) = dict_entry(doc, dict, key) {
            return Some(value);
        }
        node = dict.get(b"Parent").and_then(Object::as_reference).ok()?;
    }
    None
}

/// Rewrites the `'` and `"` text operators, which pdf-extract ignores, into `T*` + `Tj`.
///
/// Ghostscript writes most lines of text with `'`, so without this nearly all of their text is lost.
fn expand_quote_operators(doc: &mut Document) {
    let page_ids: Vec<ObjectId> = doc.get_pages().into_values().collect();
    for page_id in page_ids {
        let Some(content) = doc
            .get_page_content(page_id)
            .ok()
            .and_then(|c| rewrite_quotes(&c))
        else {
            continue;
        };
        let stream_id = doc.add_object(Stream::new(Dictionary::new(), content));
        if let Ok(page) = doc.get_dictionary_mut(page_id) {
            page.set("Contents", stream_id);
        }
    }
    for object in doc.objects.values_mut() {
        if let Object::Stream(stream) = object
            && stream
                .dict
                .get(b"Subtype")
                .and_then(Object::as_name)
                .is_ok_and(|n| n == b"Form")
            && let Some(content) = stream
                .get_plain_content()
                .ok()
                .and_then(|c| rewrite_quotes(&c))
        {
            stream.set_plain_content(content);
        }
    }
}

fn rewrite_quotes(content: &[u8]) -> Option<Vec<u8>> {
    if !content.iter().any(|b| *b == b'\'' || *b == b'"') {
        return None;
    }
    let decoded = Content::decode(content).ok()?;
    if !decoded
        .operations
        .iter()
        .any(|op| op.operator == "'" || op.operator == "\"")
    {
        return None;
    }
    let mut operations = Vec::with_capacity(decoded.operations.len() + 16);
    for op in decoded.operations {
        match (op.operator.as_str(), op.operands.len()) {
            ("'", 1) => {
                operations.push(Operation::new("T*", vec![]));
                operations.push(Operation::new("Tj", op.operands));
            }
            ("\"", 3) => {
                let mut operands = op.operands.into_iter();
                let (word, char, text) = (operands.next()?, operands.next()?, operands.next()?);
                operations.push(Operation::new("Tw", vec![word]));
                operations.push(Operation::new("Tc", vec![char]));
                operations.push(Operation::new("T*", vec![]));
                operations.push(Operation::new("Tj", vec![text]));
            }
            _ => operations.push(op),
        }
    }
    Content { operations }.encode().ok()
}

/// Whether pdf-extract can process the page without recursing forever.
///
/// It follows /Parent links and form XObjects recursively with no cycle check, and a stack
/// overflow aborts the whole process, which catch_unwind cannot stop.
fn page_is_safe(doc: &Document, page_id: ObjectId) -> bool {
    let mut seen = HashSet::new();
    let mut node = page_id;
    while let Ok(parent) = doc
        .get_dictionary(node)
        .and_then(|d| d.get(b"Parent"))
        .and_then(Object::as_reference)
    {
        if !seen.insert(node) {
            return false;
        }
        node = parent;
    }
    let resources = inherited(doc, page_id, b"Resources").and_then(|r| r.as_dict().ok());
    let mut visits = 0;
    resources.is_none_or(|r| forms_are_finite(doc, r, &mut Vec::new(), &mut visits))
}

/// Walks the form XObjects reachable from `resources`, failing on a cycle or deep nesting.
fn forms_are_finite(
    doc: &Document,
    resources: &Dictionary,
    path: &mut Vec<ObjectId>,
    visits: &mut usize,
) -> bool {
    let Some(xobjects) = dict_entry(doc, resources, b"XObject").and_then(|x| x.as_dict().ok())
    else {
        return true;
    };
    for (_, entry) in xobjects.iter() {
        let Ok(id) = entry.as_reference() else {
            continue;
        };
        let Ok(form) = doc.get_object(id).and_then(Object::as_stream) else {
            continue;
        };
        if !form
            .dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .is_ok_and(|n| n == b"Form")
        {
            continue;
        }
        *visits += 1;
        if path.contains(&id) || path.len() >= MAX_FORM_DEPTH || *visits > MAX_FORM_VISITS {
            return false;
        }
        let content = form.get_plain_content().unwrap_or_default();
        if !contains(&content, b"Do") {
            continue;
        }
        // A form without its own resources uses its caller's, as pdf-extract does.
        let inner = dict_entry(doc, &form.dict, b"Resources")
            .and_then(|r| r.as_dict().ok())
            .unwrap_or(resources);
        path.push(id);
        let finite = forms_are_finite(doc, inner, path, visits);
        path.pop();
        if !finite {
            return false;
        }
    }
    true
}

/// Runs `pdftotext` on the bytes and splits its output into pages; None when it is missing or fails.
fn pdftotext_pages(bytes: &[u8]) -> Option<Vec<String>> {
    run_pdftotext("pdftotext", bytes, PDFTOTEXT_TIMEOUT)
}

/// Runs a pdftotext-compatible `program`, killing it after `timeout`.
fn run_pdftotext(program: &str, bytes: &[u8], timeout: Duration) -> Option<Vec<String>> {
    let mut child = Command::new(program)
        .args(["-enc", "UTF-8", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let stdout = child.stdout.take()?;
    let (status, output) = std::thread::scope(|scope| {
        // A write error only means pdftotext stopped reading; its exit status tells the rest.
        scope.spawn(move || stdin.write_all(bytes));
        let reader = scope.spawn(move || {
            let mut out = Vec::new();
            stdout
                .take(PDFTOTEXT_MAX_OUTPUT)
                .read_to_end(&mut out)
                .map(|_| out)
        });
        let deadline = Instant::now() + timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        (status, reader.join().ok().and_then(Result::ok))
    });
    if !status?.success() {
        return None;
    }
    Some(split_pages(&String::from_utf8_lossy(&output?)))
}

/// Splits pdftotext output on the form feed it writes after every page.
fn split_pages(output: &str) -> Vec<String> {
    let mut pages: Vec<String> = output.split('\x0c').map(str::to_string).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

mod bomb;
#[cfg(test)]
mod tests;
