//! PDF documents in Chinese with printpdf's low-level operations (DESIGN.md, PDF): the font embedded and
//! subset (printpdf's `text_layout` feature; without it `subset_fonts` is silently ignored and a report
//! weighs megabytes), A4, a footer on every page, document metadata. What goes into a report is the
//! `reports` services' business; this module only draws.

pub mod font;
pub mod layout;

use std::sync::Arc;

use printpdf::{OffsetDateTime, PdfDocument, PdfSaveOptions};

pub use font::ReportFont;
pub use layout::{Align, Bar, Column, Footer, Writer};

/// The document information dictionary.
#[derive(Clone, Debug)]
pub struct Meta {
    pub title: String,
    pub author: String,
    pub subject: String,
    pub keywords: Vec<String>,
}

/// Lay out a document with `draw` and serialise it with the font subset.
pub fn render(
    font: &Arc<ReportFont>,
    meta: &Meta,
    footer: &Footer,
    now: chrono::DateTime<chrono::Utc>,
    draw: impl FnOnce(&mut Writer),
) -> Vec<u8> {
    let mut doc = PdfDocument::new(&meta.title);
    let font_id = font.add_to(&mut doc);
    let mut w = Writer::new(font.clone(), font_id);
    draw(&mut w);
    let outline = w.outline();
    let pages = w.finish(footer);
    let info = &mut doc.metadata.info;
    info.document_title = meta.title.clone();
    info.author = meta.author.clone();
    info.subject = meta.subject.clone();
    info.keywords = meta.keywords.clone();
    info.creator = "Sanshe".to_string();
    info.producer = format!("Sanshe {}", env!("CARGO_PKG_VERSION"));
    // printpdf's dates default to 1970.
    let t = OffsetDateTime::from_unix_timestamp(now.timestamp())
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    info.creation_date = t;
    info.modification_date = t;
    info.metadata_date = t;
    for (level, text, page) in outline {
        if level == 1 {
            doc.add_bookmark(&text, page);
        }
    }
    let opts = PdfSaveOptions {
        subset_fonts: true,
        optimize: true,
        ..Default::default()
    };
    let mut warnings = Vec::new();
    doc.with_pages(pages).save(&opts, &mut warnings)
}
