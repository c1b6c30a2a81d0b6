//! Turning fetched pages and uploaded files into [`ExtractedDoc`]s.

pub mod csv;
pub mod docx;
pub mod html;
pub mod pdf;
pub mod text;

pub use otoq_core::knowledge::{ExtractedDoc, Section};

/// Why a file could not be read, in words for the owner ("the PDF is encrypted").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExtractError(pub String);

/// The formats an uploaded document can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Docx,
    Text,
    Markdown,
    Html,
    Csv,
}

/// The format of a file, from its extension, else its content type, else its first bytes.
pub fn detect(bytes: &[u8], filename: &str, content_type: Option<&str>) -> Option<Format> {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let by_ext = match ext.as_str() {
        "pdf" => Some(Format::Pdf),
        "docx" => Some(Format::Docx),
        "txt" | "text" => Some(Format::Text),
        "md" | "markdown" => Some(Format::Markdown),
        "html" | "htm" => Some(Format::Html),
        "csv" => Some(Format::Csv),
        _ => None,
    };
    let ct = content_type.unwrap_or_default().to_ascii_lowercase();
    by_ext
        .or_else(|| match ct.split(';').next().unwrap_or_default().trim() {
            "application/pdf" => Some(Format::Pdf),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
                Some(Format::Docx)
            }
            "text/plain" => Some(Format::Text),
            "text/markdown" => Some(Format::Markdown),
            "text/html" => Some(Format::Html),
            "text/csv" => Some(Format::Csv),
            _ => None,
        })
        .or_else(|| bytes.starts_with(b"%PDF-").then_some(Format::Pdf))
}

fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

fn stem(filename: &str) -> &str {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    base.rsplit_once('.')
        .map(|(s, _)| s)
        .filter(|s| !s.is_empty())
        .unwrap_or(base)
}

/// Reads an uploaded document. Never panics: a parser that does is reported as an unreadable file.
pub fn extract_file(
    bytes: &[u8],
    filename: &str,
    content_type: Option<&str>,
) -> Result<ExtractedDoc, ExtractError> {
    let Some(format) = detect(bytes, filename, content_type) else {
        return Err(ExtractError(
            "the file type is not supported: send a PDF, DOCX, TXT, Markdown, HTML or CSV file"
                .into(),
        ));
    };
    let title = stem(filename).to_string();
    let parsed = std::panic::catch_unwind(|| match format {
        Format::Pdf => pdf::extract_pdf(bytes),
        Format::Docx => docx::extract_docx(bytes),
        Format::Text => Ok(text::extract_text(&decode_text(bytes), &title)),
        Format::Markdown => Ok(text::extract_markdown(&decode_text(bytes), &title)),
        Format::Csv => csv::extract_csv(bytes, &title),
        Format::Html => {
            let base = url::Url::parse("file:///upload").expect("static URL");
            Ok(html::extract_html(&decode_text(bytes), &base).doc)
        }
    });
    let mut doc = parsed.unwrap_or_else(|_| {
        Err(ExtractError(
            "the file is damaged and could not be read".into(),
        ))
    })?;
    if doc.title.trim().is_empty() {
        doc.title = title;
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_detected() {
        assert_eq!(detect(b"", "a.PDF", None), Some(Format::Pdf));
        assert_eq!(
            detect(b"", "notes", Some("text/markdown; charset=utf-8")),
            Some(Format::Markdown)
        );
        assert_eq!(detect(b"%PDF-1.7", "blob", None), Some(Format::Pdf));
        assert_eq!(detect(b"\x00\x01", "blob.exe", None), None);
    }

    #[test]
    fn unsupported_files_get_a_clear_reason() {
        let err = extract_file(b"MZ", "tool.exe", None).unwrap_err();
        assert!(err.0.contains("not supported"), "{err}");
    }

    #[test]
    fn file_name_gives_the_title() {
        assert_eq!(stem("docs/Return Policy.md"), "Return Policy");
        assert_eq!(stem(".env"), ".env");
    }
}
