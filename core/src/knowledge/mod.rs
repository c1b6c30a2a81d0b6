//! The document model shared by extraction, chunking and storage.

pub mod chunking;
pub mod live;
pub mod outcomes;
pub mod store;

use serde::{Deserialize, Serialize};

/// A part of a document: the headings above it (outermost first) and its text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub heading_path: Vec<String>,
    pub text: String,
}

/// What extraction produced from one page, file or product.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtractedDoc {
    /// The document's title (page `<title>`, first heading, or file name).
    pub title: String,
    /// The content in reading order.
    pub sections: Vec<Section>,
    /// Set when only part of the content could be read, with the reason, for a person.
    pub partial: Option<String>,
}
