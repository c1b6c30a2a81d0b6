//! Turning fetched pages and uploaded files into [`ExtractedDoc`]s.

pub mod csv;
pub mod docx;
pub mod html;
pub mod isolated;
pub mod pdf;
pub mod text;

pub use otoq_core::knowledge::{ExtractedDoc, Section};

/// Largest HTML file read (as the crawler's largest page); the rest of a larger one is dropped.
/// Parsing costs about 40 times the file's size in memory.
pub const MAX_HTML_BYTES: usize = 5 << 20;

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

/// KiB of HTML parsed in this process at once (crawled pages), about 40 times that in memory.
const HTML_BUDGET_KIB: u32 = 8 * 1024;

/// Runs `parse` (HTML extraction of a `len`-byte page) on a blocking thread once the page fits
/// the process-wide budget of HTML being parsed, so concurrent crawls cannot add up without
/// bound.
pub async fn parse_html_budgeted<T: Send + 'static>(
    len: usize,
    parse: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    static BUDGET: tokio::sync::Semaphore =
        tokio::sync::Semaphore::const_new(HTML_BUDGET_KIB as usize);
    let kib = (len.div_ceil(1024) as u32).clamp(1, HTML_BUDGET_KIB);
    let _held = BUDGET
        .acquire_many(kib)
        .await
        .expect("the HTML budget is never closed");
    tokio::task::spawn_blocking(parse).await
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
            let cut = bytes.len() > MAX_HTML_BYTES;
            let mut doc = html::extract_html(
                &decode_text(&bytes[..bytes.len().min(MAX_HTML_BYTES)]),
                &base,
            )
            .doc;
            if cut {
                doc.partial = Some(format!(
                    "only the first {} MB of the HTML file were read",
                    MAX_HTML_BYTES >> 20
                ));
            }
            Ok(doc)
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
