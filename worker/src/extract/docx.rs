//! Word (.docx) text: paragraphs, headings from paragraph styles, lists and tables.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use zip::ZipArchive;
use zip::result::ZipError;

use super::{ExtractError, ExtractedDoc, Section};

const NOT_DOCX: &str = "the file is not a Word document (.docx)";
const DAMAGED: &str = "the Word document is damaged and could not be read";
const NO_TEXT: &str = "the Word document has no text";
const TOO_LARGE: &str =
    "the Word document is too large to read (a part of it unpacks to over 50 MiB)";

/// Largest unpacked size accepted for one part of the zip, against zip bombs.
const MAX_PART_BYTES: u64 = 50 * 1024 * 1024;
const TITLE_MAX_CHARS: usize = 120;

const W_NAMESPACES: [&[u8]; 2] = [
    b"http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    b"http://purl.oclc.org/ooxml/wordprocessingml/main",
];
const MATH_NAMESPACES: [&[u8]; 2] = [
    b"http://schemas.openxmlformats.org/officeDocument/2006/math",
    b"http://purl.oclc.org/ooxml/officeDocument/math",
];

/// Extracts a .docx: heading styles build heading_path, tables become "cell | cell" lines.
pub fn extract_docx(bytes: &[u8]) -> Result<ExtractedDoc, ExtractError> {
    catch_unwind(AssertUnwindSafe(|| {
        extract_with_limit(bytes, MAX_PART_BYTES)
    }))
    .unwrap_or_else(|_| Err(ExtractError(DAMAGED.into())))
}

fn extract_with_limit(bytes: &[u8], limit: u64) -> Result<ExtractedDoc, ExtractError> {
    let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(|_| ExtractError(NOT_DOCX.into()))?;
    let main = read_part(&mut zip, "_rels/.rels", limit)
        .ok()
        .flatten()
        .and_then(|rels| main_part_name(&rels))
        .unwrap_or_else(|| "word/document.xml".into());
    let document = match read_part(&mut zip, &main, limit)? {
        Some(xml) => xml,
        None => read_part(&mut zip, "word/document.xml", limit)?
            .ok_or_else(|| ExtractError(NOT_DOCX.into()))?,
    };
    let styles = match read_part(&mut zip, "word/styles.xml", limit) {
        Ok(Some(xml)) => parse_styles(&xml),
        _ => HashMap::new(),
    };
    let core_title = read_part(&mut zip, "docProps/core.xml", limit)
        .ok()
        .flatten()
        .and_then(|xml| core_title(&xml));
    let body = parse_body(&document, &styles).ok_or_else(|| ExtractError(DAMAGED.into()))?;
    let Body {
        mut sections,
        title_paragraph,
        headings,
    } = body;
    if sections.is_empty() && !headings.is_empty() {
        sections.push(Section {
            heading_path: vec![],
            text: headings.join("\n"),
        });
    }
    if sections.is_empty() {
        return Err(ExtractError(NO_TEXT.into()));
    }
    let title = core_title
        .or(title_paragraph)
        .or_else(|| headings.first().and_then(|h| clean_title(h)))
        .unwrap_or_default();
    Ok(ExtractedDoc {
        title,
        sections,
        partial: None,
    })
}

/// Reads one zip entry, refusing more than `limit` unpacked bytes; None when it is absent.
fn read_part(
    zip: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limit: u64,
) -> Result<Option<Vec<u8>>, ExtractError> {
    let file = match zip.by_name(name) {
        Ok(file) => file,
        Err(ZipError::FileNotFound) => return Ok(None),
        Err(_) => return Err(ExtractError(DAMAGED.into())),
    };
    if file.size() > limit {
        return Err(ExtractError(TOO_LARGE.into()));
    }
    // The declared size can lie, so the read itself is capped too.
    let mut data = Vec::with_capacity(file.size() as usize);
    file.take(limit + 1)
        .read_to_end(&mut data)
        .map_err(|_| ExtractError(DAMAGED.into()))?;
    if data.len() as u64 > limit {
        return Err(ExtractError(TOO_LARGE.into()));
    }
    Ok(Some(data))
}

/// The main document part named by the package relationships (usually word/document.xml).
fn main_part_name(rels: &[u8]) -> Option<String> {
    let mut reader = NsReader::from_reader(rels);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) | Event::Empty(e)
                if e.local_name().as_ref() == b"Relationship"
                    && attribute(&e, b"Type").is_some_and(|t| t.ends_with("/officeDocument")) =>
            {
                let target = attribute(&e, b"Target")?;
                return Some(target.trim_start_matches('/').to_string());
            }
            Event::Eof => return None,
            _ => {}
        }
        buf.clear();
    }
}

/// The value of the attribute whose local name is `name`, unescaped.
fn attribute(e: &BytesStart, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| a.unescape_value().ok())
        .map(|v| v.into_owned())
}

fn clean_title(raw: &str) -> Option<String> {
    let title = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let title: String = title.chars().take(TITLE_MAX_CHARS).collect();
    let title = title.trim();
    (!title.is_empty()).then(|| title.to_string())
}

/// dc:title from docProps/core.xml.
fn core_title(xml: &[u8]) -> Option<String> {
    let mut reader = NsReader::from_reader(xml);
    let mut buf = Vec::new();
    let mut in_title = false;
    let mut title = String::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) if e.local_name().as_ref() == b"title" => in_title = true,
            Event::End(e) if e.local_name().as_ref() == b"title" => return clean_title(&title),
            Event::Text(t) if in_title => title.push_str(&t.xml10_content().ok()?),
            Event::GeneralRef(r) if in_title => title.push_str(&resolve_reference(&r)?),
            Event::Eof => return None,
            _ => {}
        }
        buf.clear();
    }
}

fn resolve_reference(r: &quick_xml::events::BytesRef) -> Option<String> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c.to_string());
    }
    let name = r.decode().ok()?;
    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string)
}

/// What a paragraph style means for structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Title,
    Heading(u8),
}

/// A paragraph style from word/styles.xml.
#[derive(Default)]
struct Style {
    name: String,
    based_on: Option<String>,
    outline_level: Option<u8>,
    /// The style numbers or bullets its paragraphs (w:numPr), as Word's "List Bullet" does.
    list: Option<bool>,
}

fn parse_styles(xml: &[u8]) -> HashMap<String, Style> {
    let mut styles = HashMap::new();
    let mut reader = NsReader::from_reader(xml);
    let mut buf = Vec::new();
    let mut current: Option<(String, Style)> = None;
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => break,
            Ok(event) => event,
        };
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                b"style" => current = attribute(&e, b"styleId").map(|id| (id, Style::default())),
                b"name" => {
                    if let Some((_, style)) = current.as_mut() {
                        style.name = attribute(&e, b"val").unwrap_or_default();
                    }
                }
                b"basedOn" => {
                    if let Some((_, style)) = current.as_mut() {
                        style.based_on = attribute(&e, b"val");
                    }
                }
                b"outlineLvl" => {
                    if let Some((_, style)) = current.as_mut() {
                        style.outline_level = attribute(&e, b"val").and_then(|v| v.parse().ok());
                    }
                }
                b"numPr" => {
                    if let Some((_, style)) = current.as_mut() {
                        style.list = Some(true);
                    }
                }
                b"numId" => {
                    if let Some((_, style)) = current.as_mut() {
                        style.list = Some(attribute(&e, b"val").as_deref() != Some("0"));
                    }
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == b"style" => {
                if let Some((id, style)) = current.take() {
                    styles.insert(id, style);
                }
            }
            _ => {}
        }
        buf.clear();
    }
    styles
}

/// "Heading3" / "heading 3" → 3.
fn heading_number(name: &str) -> Option<u8> {
    let lower = name.to_ascii_lowercase();
    let digits = lower.strip_prefix("heading")?.trim_start();
    let level: u8 = digits.parse().ok()?;
    (1..=9).contains(&level).then_some(level)
}

fn named_role(name: &str) -> Option<Role> {
    if name.eq_ignore_ascii_case("title") {
        return Some(Role::Title);
    }
    heading_number(name).map(Role::Heading)
}

/// The role of a paragraph style id, through its name, outline level and basedOn chain.
fn style_role(id: &str, styles: &HashMap<String, Style>) -> Option<Role> {
    let mut id = id;
    // Style ids are localised ("berschrift1"); names and outline levels are not.
    for _ in 0..10 {
        if let Some(role) = named_role(id) {
            return Some(role);
        }
        let style = styles.get(id)?;
        if let Some(role) = named_role(&style.name) {
            return Some(role);
        }
        if let Some(level) = style.outline_level.filter(|l| *l < 9) {
            return Some(Role::Heading(level + 1));
        }
        id = style.based_on.as_deref()?;
    }
    None
}

/// Whether a paragraph style, or a style it is based on, makes list items.
fn style_is_list(id: &str, styles: &HashMap<String, Style>) -> bool {
    let mut id = id;
    for _ in 0..10 {
        let Some(style) = styles.get(id) else {
            return false;
        };
        if let Some(list) = style.list {
            return list;
        }
        let Some(parent) = style.based_on.as_deref() else {
            return false;
        };
        id = parent;
    }
    false
}

/// A paragraph being read.
#[derive(Default)]
struct Paragraph {
    style: Option<String>,
    outline_level: Option<u8>,
    /// Set by the paragraph's own w:numPr; None means whatever its style says.
    list: Option<bool>,
    text: String,
}

/// A table being read; rows of cells.
#[derive(Default)]
struct Table {
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    cell: String,
}

/// The result of reading word/document.xml.
struct Body {
    sections: Vec<Section>,
    title_paragraph: Option<String>,
    /// All heading texts in order.
    headings: Vec<String>,
}

/// Sections being built while walking word/document.xml.
struct BodyBuilder<'s> {
    styles: &'s HashMap<String, Style>,
    sections: Vec<Section>,
    blocks: Vec<String>,
    heading_stack: Vec<(u8, String)>,
    headings: Vec<String>,
    title_paragraph: Option<String>,
    paragraphs: Vec<Paragraph>,
    tables: Vec<Table>,
}

impl BodyBuilder<'_> {
    fn end_paragraph(&mut self) {
        let Some(paragraph) = self.paragraphs.pop() else {
            return;
        };
        let text = paragraph.text.trim_end().to_string();
        if let Some(table) = self.tables.last_mut() {
            if !text.trim().is_empty() {
                if !table.cell.is_empty() {
                    table.cell.push(' ');
                }
                table.cell.push_str(text.trim());
            }
            return;
        }
        let role = match paragraph.outline_level.filter(|l| *l < 9) {
            Some(level) => Some(Role::Heading(level + 1)),
            None => paragraph
                .style
                .as_deref()
                .and_then(|s| style_role(s, self.styles)),
        };
        match role {
            Some(Role::Title) => {
                if self.title_paragraph.is_none() {
                    self.title_paragraph = clean_title(&text);
                }
            }
            Some(Role::Heading(level)) => {
                let Some(heading) = clean_title(&text) else {
                    return;
                };
                self.flush();
                while self.heading_stack.last().is_some_and(|(l, _)| *l >= level) {
                    self.heading_stack.pop();
                }
                self.heading_stack.push((level, heading.clone()));
                self.headings.push(heading);
            }
            None if text.trim().is_empty() => {}
            None if is_list(&paragraph, self.styles) => {
                self.blocks.push(format!("- {}", text.trim_start()))
            }
            None => self.blocks.push(text),
        }
    }

    fn end_table(&mut self) {
        let Some(table) = self.tables.pop() else {
            return;
        };
        let lines: Vec<String> = table.rows.iter().map(|row| row.join(" | ")).collect();
        if lines.is_empty() {
            return;
        }
        match self.tables.last_mut() {
            // A nested table lives inside its parent's cell.
            Some(parent) => {
                if !parent.cell.is_empty() {
                    parent.cell.push(' ');
                }
                parent.cell.push_str(&lines.join("; "));
            }
            None => self.blocks.push(lines.join("\n")),
        }
    }

    fn flush(&mut self) {
        if self.blocks.is_empty() {
            return;
        }
        self.sections.push(Section {
            heading_path: self.heading_stack.iter().map(|(_, h)| h.clone()).collect(),
            text: std::mem::take(&mut self.blocks).join("\n\n"),
        });
    }

    fn push_text(&mut self, text: &str) {
        if let Some(paragraph) = self.paragraphs.last_mut() {
            paragraph.text.push_str(text);
        }
    }
}

fn is_list(paragraph: &Paragraph, styles: &HashMap<String, Style>) -> bool {
    paragraph.list.unwrap_or_else(|| {
        paragraph
            .style
            .as_deref()
            .is_some_and(|s| style_is_list(s, styles))
    })
}

/// Whether a resolved element name is in one of `namespaces`.
fn in_namespace(ns: &ResolveResult, namespaces: &[&[u8]]) -> bool {
    matches!(ns, ResolveResult::Bound(Namespace(n)) if namespaces.contains(n))
}

/// Walks word/document.xml, building Sections; None when the XML is malformed.
fn parse_body(xml: &[u8], styles: &HashMap<String, Style>) -> Option<Body> {
    let mut reader = NsReader::from_reader(xml);
    let mut buf = Vec::new();
    let mut builder = BodyBuilder {
        styles,
        sections: Vec::new(),
        blocks: Vec::new(),
        heading_stack: Vec::new(),
        headings: Vec::new(),
        title_paragraph: None,
        paragraphs: Vec::new(),
        tables: Vec::new(),
    };
    let mut depth = 0usize;
    // Inside mc:Fallback, which repeats the content of mc:Choice for older readers.
    let mut fallback_depth = 0usize;
    // Text of the current w:t and whether it keeps its outer spaces.
    let mut run_text: Option<(String, bool)> = None;
    let mut in_properties = 0usize;
    loop {
        let (ns, event) = reader.read_resolved_event_into(&mut buf).ok()?;
        let is_w = in_namespace(&ns, &W_NAMESPACES);
        match event {
            Event::Eof => break,
            Event::Start(e) => {
                depth += 1;
                let local = e.local_name();
                if local.as_ref() == b"Fallback" || fallback_depth > 0 {
                    fallback_depth += 1;
                    buf.clear();
                    continue;
                }
                if is_w || in_namespace(&ns, &MATH_NAMESPACES) {
                    match local.as_ref() {
                        b"p" if is_w => builder.paragraphs.push(Paragraph::default()),
                        b"t" => {
                            let preserve = e.attributes().flatten().any(|a| {
                                a.key.as_ref() == b"xml:space" && a.value.as_ref() == b"preserve"
                            });
                            run_text = Some((String::new(), preserve));
                        }
                        b"pPr" | b"rPr" if is_w => in_properties += 1,
                        b"tbl" if is_w => builder.tables.push(Table::default()),
                        b"tr" if is_w => {
                            if let Some(table) = builder.tables.last_mut() {
                                table.row.clear();
                            }
                        }
                        b"tc" if is_w => {
                            if let Some(table) = builder.tables.last_mut() {
                                table.cell.clear();
                            }
                        }
                        _ => paragraph_property(&mut builder, &e, is_w),
                    }
                }
            }
            Event::Empty(e) => {
                if fallback_depth > 0 || !is_w {
                    buf.clear();
                    continue;
                }
                match e.local_name().as_ref() {
                    b"tab" if in_properties == 0 => builder.push_text("\t"),
                    b"br" | b"cr" if in_properties == 0 => builder.push_text("\n"),
                    b"noBreakHyphen" => builder.push_text("-"),
                    b"p" => {
                        builder.paragraphs.push(Paragraph::default());
                        builder.end_paragraph();
                    }
                    _ => paragraph_property(&mut builder, &e, true),
                }
            }
            Event::End(e) => {
                depth = depth.checked_sub(1)?;
                if fallback_depth > 0 {
                    fallback_depth -= 1;
                    buf.clear();
                    continue;
                }
                if is_w || in_namespace(&ns, &MATH_NAMESPACES) {
                    match e.local_name().as_ref() {
                        b"t" => {
                            if let Some((text, preserve)) = run_text.take() {
                                builder.push_text(if preserve { &text } else { text.trim() });
                            }
                        }
                        b"p" if is_w => builder.end_paragraph(),
                        b"pPr" | b"rPr" if is_w => in_properties = in_properties.saturating_sub(1),
                        b"tc" if is_w => {
                            if let Some(table) = builder.tables.last_mut() {
                                let cell = std::mem::take(&mut table.cell);
                                table.row.push(cell);
                            }
                        }
                        b"tr" if is_w => {
                            if let Some(table) = builder.tables.last_mut() {
                                let row = std::mem::take(&mut table.row);
                                if row.iter().any(|c| !c.is_empty()) {
                                    table.rows.push(row);
                                }
                            }
                        }
                        b"tbl" if is_w => builder.end_table(),
                        _ => {}
                    }
                }
            }
            Event::Text(t) if fallback_depth == 0 => {
                if let Some((text, _)) = run_text.as_mut() {
                    text.push_str(&t.xml10_content().ok()?);
                }
            }
            Event::CData(t) if fallback_depth == 0 => {
                if let Some((text, _)) = run_text.as_mut() {
                    text.push_str(&t.decode().ok()?);
                }
            }
            Event::GeneralRef(r) if fallback_depth == 0 => {
                if let Some((text, _)) = run_text.as_mut() {
                    text.push_str(&resolve_reference(&r)?);
                }
            }
            _ => {}
        }
        buf.clear();
    }
    if depth != 0 {
        return None;
    }
    builder.flush();
    Some(Body {
        sections: builder.sections,
        title_paragraph: builder.title_paragraph,
        headings: builder.headings,
    })
}

/// Records w:pStyle, w:outlineLvl and w:numPr on the paragraph being read.
fn paragraph_property(builder: &mut BodyBuilder, e: &BytesStart, is_w: bool) {
    let Some(paragraph) = builder.paragraphs.last_mut().filter(|_| is_w) else {
        return;
    };
    match e.local_name().as_ref() {
        b"pStyle" => paragraph.style = attribute(e, b"val"),
        b"outlineLvl" => {
            paragraph.outline_level = attribute(e, b"val").and_then(|v| v.parse().ok())
        }
        b"numPr" => paragraph.list = Some(true),
        // numId 0 switches off numbering that the style would add.
        b"numId" => paragraph.list = Some(attribute(e, b"val").as_deref() != Some("0")),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
