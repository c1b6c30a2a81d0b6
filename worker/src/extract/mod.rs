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
