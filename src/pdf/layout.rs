//! A flowing layout on printpdf's low-level operations: A4 pages, a cover, a contents page, headings,
//! wrapped paragraphs, key–value blocks, bordered tables that continue on the next page with their header
//! repeated, vector bar charts, signature lines, and on every page a footer with 第 x 页 共 y 页, the
//! generation time, the filters and the ledger digest (added once the page count is known).
//!
//! Coordinates are PDF points with the origin at the bottom left. Geometry is `f32` (drawing only); every
//! figure printed is formatted by the caller from exact integers.

use std::sync::Arc;

use printpdf::{
    Color, FontId, Line, LineDashPattern, LinePoint, Mm, Op, PaintMode, PdfFontHandle, PdfPage,
    Point, Pt, Rect, Rgb, TextItem,
};

use super::font::{ReportFont, wrap};

const A4_W: f32 = 595.276;
const A4_H: f32 = 841.89;
const MARGIN_X: f32 = 56.7;
const MARGIN_TOP: f32 = 62.0;
/// The body stops here; the footer lives below.
const MARGIN_BOTTOM: f32 = 70.0;

type Rgb3 = (f32, f32, f32);
const BLACK: Rgb3 = (0.0, 0.0, 0.0);
const GREY: Rgb3 = (0.45, 0.45, 0.45);
const LIGHT: Rgb3 = (0.92, 0.92, 0.92);
/// 公文红, for titles.
const RED: Rgb3 = (0.70, 0.08, 0.08);
const BLUE: Rgb3 = (0.20, 0.40, 0.70);

fn rgb((r, g, b): Rgb3) -> Color {
    Color::Rgb(Rgb {
        r,
        g,
        b,
        icc_profile: None,
    })
}

fn pt(x: f32, y: f32) -> LinePoint {
    LinePoint {
        p: Point { x: Pt(x), y: Pt(y) },
        bezier: false,
    }
}

/// Size and colour of a run of text.
#[derive(Clone, Copy)]
struct Ink(f32, Rgb3);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// A table column: its title, its share of the text width (a table's shares add up to 1), its alignment.
#[derive(Clone, Copy, Debug)]
pub struct Column<'a> {
    pub title: &'a str,
    pub share: f32,
    pub align: Align,
}

impl<'a> Column<'a> {
    pub fn left(title: &'a str, share: f32) -> Column<'a> {
        Column {
            title,
            share,
            align: Align::Left,
        }
    }

    /// Figures line up on the right.
    pub fn right(title: &'a str, share: f32) -> Column<'a> {
        Column {
            title,
            share,
            align: Align::Right,
        }
    }
}

/// What every page's footer carries, so that any figure can be traced to a state of the ledger.
#[derive(Clone, Debug)]
pub struct Footer {
    pub generated_at: String,
    pub filters: String,
    pub ledger: String,
}

/// One bar: its label, its value (for the height) and the value as printed.
#[derive(Clone, Debug)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub shown: String,
}

pub struct Writer {
    font: Arc<ReportFont>,
    font_id: FontId,
    pages: Vec<Vec<Op>>,
    /// The top of the free space on the current page.
    y: f32,
    contents: Option<usize>,
    headings: Vec<(u8, String, usize)>,
}

impl Writer {
    pub fn new(font: Arc<ReportFont>, font_id: FontId) -> Writer {
        Writer {
            font,
            font_id,
            pages: Vec::new(),
            y: 0.0,
            contents: None,
            headings: Vec::new(),
        }
    }

    fn width(&self) -> f32 {
        A4_W - 2.0 * MARGIN_X
    }

    pub fn new_page(&mut self) {
        self.pages.push(Vec::with_capacity(256));
        self.y = A4_H - MARGIN_TOP;
    }

    /// A new page unless `h` points still fit on this one.
    fn ensure(&mut self, h: f32) {
        if self.pages.is_empty() || self.y - h < MARGIN_BOTTOM {
            self.new_page();
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.new_page();
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// One run of text with its baseline at (x, y). `SetTextCursor` is PDF's relative `Td`: one text
    /// section per run keeps it absolute.
    fn text_at(&mut self, x: f32, y: f32, ink: Ink, s: &str) {
        let font = PdfFontHandle::External(self.font_id.clone());
        self.ops().extend([
            Op::StartTextSection,
            Op::SetFont {
                font,
                size: Pt(ink.0),
            },
            Op::SetFillColor { col: rgb(ink.1) },
            Op::SetTextCursor {
                pos: Point { x: Pt(x), y: Pt(y) },
            },
            Op::ShowText {
                items: vec![TextItem::Text(s.to_string())],
            },
            Op::EndTextSection,
        ]);
    }

    fn text_in(&mut self, x: f32, w: f32, y: f32, ink: Ink, align: Align, s: &str) {
        let tw = self.font.width(s, ink.0);
        let x = match align {
            Align::Left => x,
            Align::Center => x + (w - tw) / 2.0,
            Align::Right => x + w - tw,
        };
        self.text_at(x, y, ink, s);
    }

    fn line(&mut self, (x1, y1): (f32, f32), (x2, y2): (f32, f32), width: f32, color: Rgb3) {
        self.ops().extend([
            Op::SetOutlineColor { col: rgb(color) },
            Op::SetOutlineThickness { pt: Pt(width) },
            Op::DrawLine {
                line: Line {
                    points: vec![pt(x1, y1), pt(x2, y2)],
                    is_closed: false,
                },
            },
        ]);
    }

    /// A rectangle with its lower-left corner at (x, y); without a paint mode printpdf paints nothing.
    fn rect(&mut self, (x, y): (f32, f32), (w, h): (f32, f32), fill: Option<Rgb3>, stroke: bool) {
        let mut r = Rect::from_xywh(Pt(x), Pt(y), Pt(w), Pt(h));
        if let Some(c) = fill {
            r.mode = Some(PaintMode::Fill);
            self.ops().extend([
                Op::SetFillColor { col: rgb(c) },
                Op::DrawRectangle {
                    rectangle: r.clone(),
                },
            ]);
        }
        if stroke {
            r.mode = Some(PaintMode::Stroke);
            self.ops().extend([
                Op::SetOutlineColor { col: rgb(BLACK) },
                Op::SetOutlineThickness { pt: Pt(0.5) },
                Op::DrawRectangle { rectangle: r },
            ]);
        }
    }

    /// A cover page: the title in red, a rule, the subtitle, the issuer and the date.
    pub fn cover(&mut self, title: &str, subtitle: &str, issuer: &str, date: &str) {
        self.new_page();
        let (x, w) = (MARGIN_X, self.width());
        let mut y = A4_H - 250.0;
        for l in wrap(&self.font, title, 26.0, w) {
            self.text_in(x, w, y, Ink(26.0, RED), Align::Center, &l);
            y -= 40.0;
        }
        self.line((x + 40.0, y + 20.0), (x + w - 40.0, y + 20.0), 1.5, RED);
        for l in wrap(&self.font, subtitle, 14.0, w) {
            self.text_in(x, w, y - 20.0, Ink(14.0, BLACK), Align::Center, &l);
            y -= 22.0;
        }
        self.text_in(x, w, 200.0, Ink(16.0, BLACK), Align::Center, issuer);
        self.text_in(x, w, 172.0, Ink(14.0, BLACK), Align::Center, date);
    }

    /// A document title at the top of a page (notices, letters, statements).
    pub fn title(&mut self, title: &str, subtitle: &str) {
        self.ensure(80.0);
        let (x, w) = (MARGIN_X, self.width());
        for l in wrap(&self.font, title, 18.0, w) {
            self.y -= 26.0;
            self.text_in(x, w, self.y, Ink(18.0, RED), Align::Center, &l);
        }
        if !subtitle.is_empty() {
            self.y -= 18.0;
            self.text_in(x, w, self.y, Ink(10.5, GREY), Align::Center, subtitle);
        }
        self.y -= 10.0;
        self.line((x, self.y), (x + w, self.y), 1.2, RED);
        self.y -= 6.0;
    }

    /// Reserve a page for the contents, drawn by [`Writer::finish`].
    pub fn contents_page(&mut self) {
        self.new_page();
        self.contents = Some(self.pages.len() - 1);
        self.new_page();
    }

    /// A heading, kept with the three lines after it; levels 1 and 2 go into the contents.
    pub fn heading(&mut self, level: u8, text: &str) {
        let size = match level {
            1 => 16.0,
            2 => 13.0,
            _ => 11.5,
        };
        self.ensure(size * 2.2 + 3.0 * 18.0);
        if level == 1 && self.y < A4_H - MARGIN_TOP - 1.0 {
            self.y -= 8.0;
        }
        self.y -= size * 1.4;
        let color = if level == 1 { RED } else { BLACK };
        self.text_at(MARGIN_X, self.y, Ink(size, color), text);
        self.y -= size * 0.8;
        self.headings
            .push((level, text.to_string(), self.pages.len()));
    }

    /// A body paragraph, its first line indented two characters (公文 style).
    pub fn paragraph(&mut self, text: &str) {
        let (size, lh) = (10.5, 10.5 * 1.7);
        for part in text.split('\n').map(str::trim) {
            if part.is_empty() {
                continue;
            }
            let indented = format!("\u{3000}\u{3000}{part}");
            for l in wrap(&self.font, &indented, size, self.width()) {
                self.ensure(lh);
                self.y -= lh;
                self.text_at(MARGIN_X, self.y + lh * 0.25, Ink(size, BLACK), &l);
            }
        }
        self.y -= 4.0;
    }

    /// Label–value lines (a contract's particulars, a receipt's fields).
    pub fn fields(&mut self, rows: &[(&str, String)]) {
        let (size, lh) = (10.5, 10.5 * 1.7);
        let label_w = 110.0;
        for (label, value) in rows {
            let lines = wrap(&self.font, value, size, self.width() - label_w);
            self.ensure(lh * lines.len().max(1) as f32);
            self.y -= lh;
            self.text_at(MARGIN_X, self.y + lh * 0.25, Ink(size, GREY), label);
            for (i, l) in lines.iter().enumerate() {
                if i > 0 {
                    self.y -= lh;
                }
                self.text_at(MARGIN_X + label_w, self.y + lh * 0.25, Ink(size, BLACK), l);
            }
        }
        self.y -= 6.0;
    }

    /// A bordered table with a caption; rows wrap within their cells; a table longer than the page
    /// continues on the next with its header repeated and （续） after the caption.
    pub fn table(&mut self, caption: &str, cols: &[Column], rows: &[Vec<String>]) {
        let (size, pad) = (8.5, 3.5);
        let lh = size * 1.45;
        let total = self.width();
        let widths: Vec<f32> = cols.iter().map(|c| c.share * total).collect();
        let font = self.font.clone();
        let layout = |cells: &[String]| -> (Vec<Vec<String>>, f32) {
            let wrapped: Vec<Vec<String>> = cells
                .iter()
                .zip(&widths)
                .map(|(s, w)| wrap(&font, s, size, w - 2.0 * pad))
                .collect();
            let n = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
            (wrapped, n as f32 * lh + 2.0 * pad)
        };
        let header: Vec<String> = cols.iter().map(|c| c.title.to_string()).collect();
        let (head, head_h) = layout(&header);
        self.ensure(20.0 + head_h + lh * 2.0 + 2.0 * pad);
        self.y -= 14.0;
        let w = self.width();
        self.text_in(
            MARGIN_X,
            w,
            self.y,
            Ink(10.0, BLACK),
            Align::Center,
            caption,
        );
        self.y -= 6.0;
        self.row(&head, head_h, &widths, cols, true);
        if rows.is_empty() {
            let empty = vec![vec!["（无）".to_string()]];
            let h = lh + 2.0 * pad;
            self.row(&empty, h, &[total], &[Column::left("", 1.0)], false);
        }
        for r in rows {
            let (cells, h) = layout(r);
            if self.y - h < MARGIN_BOTTOM {
                self.new_page();
                let more = format!("{caption}（续）");
                self.text_in(
                    MARGIN_X,
                    w,
                    self.y - 10.0,
                    Ink(9.0, GREY),
                    Align::Center,
                    &more,
                );
                self.y -= 16.0;
                self.row(&head, head_h, &widths, cols, true);
            }
            self.row(&cells, h, &widths, cols, false);
        }
        self.y -= 8.0;
    }

    fn row(&mut self, cells: &[Vec<String>], h: f32, widths: &[f32], cols: &[Column], head: bool) {
        let (size, pad, lh) = (8.5, 3.5, 8.5 * 1.45);
        let mut x = MARGIN_X;
        let top = self.y;
        for ((lines, w), col) in cells.iter().zip(widths).zip(cols) {
            self.rect((x, top - h), (*w, h), head.then_some(LIGHT), true);
            let align = if head { Align::Center } else { col.align };
            let mut ty = top - pad - size * 0.95;
            for l in lines {
                self.text_in(x + pad, w - 2.0 * pad, ty, Ink(size, BLACK), align, l);
                ty -= lh;
            }
            x += w;
        }
        self.y -= h;
    }

    /// A vertical bar chart drawn as vectors: axes, grid lines with tick labels, the bars with their
    /// values above and their labels below.
    pub fn bar_chart(&mut self, title: &str, bars: &[Bar], tick: &dyn Fn(i64) -> String) {
        // The plot's height in hundredths of a point: a bar's height is worked out from the figure in
        // integers (amounts are fen), and only the result becomes page geometry.
        const CHART_CENTIPOINTS: i64 = 16_000;
        let (chart_h, label_h) = (CHART_CENTIPOINTS as f32 / 100.0, 30.0);
        self.ensure(20.0 + chart_h + label_h + 10.0);
        self.y -= 14.0;
        let w = self.width();
        self.text_in(MARGIN_X, w, self.y, Ink(10.0, BLACK), Align::Center, title);
        self.y -= 12.0;
        let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
        let step = nice_step((max + 4) / 5);
        let top = (max + step - 1) / step * step;
        let (axis_x, plot_w) = (MARGIN_X + 60.0, w - 70.0);
        let base = self.y - chart_h;
        let scale = |v: i64| {
            (i128::from(v) * i128::from(CHART_CENTIPOINTS) / i128::from(top)) as f32 / 100.0
        };
        for i in 0..=(top / step) {
            let v = step * i;
            let y = base + scale(v);
            if i > 0 {
                self.line((axis_x, y), (axis_x + plot_w, y), 0.3, LIGHT);
            }
            self.text_in(
                MARGIN_X,
                55.0,
                y - 3.0,
                Ink(7.0, GREY),
                Align::Right,
                &tick(v),
            );
        }
        self.line((axis_x, base), (axis_x + plot_w, base), 0.8, BLACK);
        self.line((axis_x, base), (axis_x, base + chart_h), 0.8, BLACK);
        let slot = plot_w / bars.len().max(1) as f32;
        let bar_w = (slot * 0.6).min(40.0);
        for (i, b) in bars.iter().enumerate() {
            let h = scale(b.value.max(0));
            let sx = axis_x + slot * i as f32;
            self.rect(
                (sx + (slot - bar_w) / 2.0, base),
                (bar_w, h),
                Some(BLUE),
                false,
            );
            self.text_in(
                sx,
                slot,
                base + h + 3.0,
                Ink(6.5, BLACK),
                Align::Center,
                &b.shown,
            );
            let mut ly = base - 10.0;
            for l in wrap(&self.font, &b.label, 7.5, slot - 2.0)
                .into_iter()
                .take(2)
            {
                self.text_in(sx, slot, ly, Ink(7.5, BLACK), Align::Center, &l);
                ly -= 9.0;
            }
        }
        self.y = base - label_h;
    }

    /// Signature lines side by side: (role, name or blank).
    pub fn signatures(&mut self, who: &[(String, String)]) {
        let per_row = 2;
        let w = self.width() / per_row as f32;
        for chunk in who.chunks(per_row) {
            self.ensure(48.0);
            self.y -= 36.0;
            for (i, (role, name)) in chunk.iter().enumerate() {
                let x = MARGIN_X + w * i as f32;
                self.text_at(x, self.y, Ink(10.0, BLACK), &format!("{role}（签字）："));
                self.text_at(x + 110.0, self.y + 2.0, Ink(10.0, BLACK), name);
                self.line(
                    (x + 105.0, self.y - 3.0),
                    (x + w - 12.0, self.y - 3.0),
                    0.5,
                    BLACK,
                );
            }
        }
        self.y -= 10.0;
    }

    /// Text at the right margin (a letter's issuer and date).
    pub fn right(&mut self, text: &str) {
        self.ensure(20.0);
        self.y -= 20.0;
        let w = self.width();
        self.text_in(MARGIN_X, w, self.y, Ink(10.5, BLACK), Align::Right, text);
    }

    fn draw_contents(&mut self) {
        let Some(idx) = self.contents else { return };
        let entries: Vec<(u8, String, usize)> =
            self.headings.iter().filter(|e| e.0 <= 2).cloned().collect();
        // Draw onto the contents page through the helpers, which write to the last page.
        let page = std::mem::take(&mut self.pages[idx]);
        self.pages.push(page);
        let (x, w) = (MARGIN_X, self.width());
        let mut y = A4_H - MARGIN_TOP - 20.0;
        self.text_in(
            x,
            w,
            y,
            Ink(18.0, BLACK),
            Align::Center,
            "目\u{3000}\u{3000}录",
        );
        y -= 36.0;
        for (level, text, page) in entries {
            if y < MARGIN_BOTTOM {
                break;
            }
            let indent = if level == 1 { 0.0 } else { 22.0 };
            let size = if level == 1 { 11.5 } else { 10.5 };
            self.text_at(x + indent, y, Ink(size, BLACK), &text);
            let num = page.to_string();
            self.text_in(x, w, y, Ink(size, BLACK), Align::Right, &num);
            let start = x + indent + self.font.width(&text, size) + 4.0;
            let end = x + w - self.font.width(&num, size) - 4.0;
            self.ops().push(Op::SetLineDashPattern {
                dash: LineDashPattern::new(0.0, &[1.0, 2.0]),
            });
            self.line((start, y), (end, y), 0.5, GREY);
            self.ops().push(Op::SetLineDashPattern {
                dash: LineDashPattern::solid(),
            });
            y -= size * 2.0;
        }
        let drawn = self.pages.pop().unwrap_or_default();
        self.pages[idx] = drawn;
    }

    /// The headings with their page numbers (1-based), for the document outline.
    pub fn outline(&self) -> Vec<(u8, String, usize)> {
        self.headings.clone()
    }

    /// Draw the contents and every page's footer, and hand back the pages.
    pub fn finish(mut self, footer: &Footer) -> Vec<PdfPage> {
        self.draw_contents();
        let total = self.pages.len();
        let (x, w) = (MARGIN_X, self.width());
        let all = std::mem::take(&mut self.pages);
        let mut pages = Vec::with_capacity(total);
        for (i, ops) in all.into_iter().enumerate() {
            self.pages.push(ops);
            self.line((x, 52.0), (x + w, 52.0), 0.4, GREY);
            let n = format!("第 {} 页 共 {} 页", i + 1, total);
            self.text_in(x, w, 40.0, Ink(9.0, BLACK), Align::Center, &n);
            let left = format!("生成时间 {} · {}", footer.generated_at, footer.filters);
            for (j, l) in wrap(&self.font, &left, 7.0, w * 0.55)
                .iter()
                .take(2)
                .enumerate()
            {
                self.text_at(x, 27.0 - 9.0 * j as f32, Ink(7.0, GREY), l);
            }
            self.text_in(x, w, 27.0, Ink(7.0, GREY), Align::Right, &footer.ledger);
            let ops = self.pages.pop().unwrap_or_default();
            pages.push(PdfPage::new(Mm(210.0), Mm(297.0), ops));
        }
        pages
    }
}

/// 1, 2 or 5 × 10^n, at least `raw`: the step between axis ticks.
fn nice_step(raw: i64) -> i64 {
    let raw = raw.max(1);
    let mut mag = 1i64;
    while mag.saturating_mul(10) <= raw {
        mag *= 10;
    }
    [1, 2, 5, 10]
        .iter()
        .map(|f| f * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10 * mag)
}

#[cfg(test)]
mod tests {
    use super::nice_step;

    #[test]
    fn axis_steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(0), 1);
        assert_eq!(nice_step(3), 5);
        assert_eq!(nice_step(7), 10);
        assert_eq!(nice_step(12), 20);
        assert_eq!(nice_step(4_100), 5_000);
        assert_eq!(nice_step(250_000_001), 500_000_000);
    }
}
