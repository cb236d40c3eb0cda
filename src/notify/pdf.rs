//! The second copy of an invoice (segunda via do boleto) as a one-page A4 PDF in Portuguese:
//! who charges whom, how much and until when, the corrected amount when late, the linha
//! digitável with its ITF barcode, and the PIX QR code with its copia-e-cola text.
//!
//! Only standard-14 fonts are used (Helvetica and Courier): nothing to embed or to look up on
//! the host. printpdf writes their text as WinAnsiEncoding, which has every Portuguese
//! accented letter, so names keep their accents. Text is measured with the fonts' AFM widths
//! to align and wrap it. Positions are millimetres from the page's top-left corner and are
//! turned into PDF points from the bottom-left only when an operation is emitted.

use chrono::{Days, NaiveDate, NaiveDateTime};
use printpdf::{
    BuiltinFont, Color, Greyscale, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFontHandle,
    PdfPage, PdfParseErrorSeverity, PdfSaveOptions, PdfWarnMsg, Point, Polygon, PolygonRing, Pt,
    Rgb, TextItem, WindingOrder,
};
use qrcode::QrCode;

use crate::domain::invoice::Charges;
use crate::domain::money::brl;
use crate::domain::{boleto, pix};

/// What the second copy shows. Text fields are printed as given (control characters become
/// spaces); `customer_document` is expected already formatted or masked.
#[derive(Debug, Clone)]
pub struct InvoicePdf<'a> {
    pub provider_name: &'a str,
    pub provider_cnpj: &'a str,
    pub customer_name: &'a str,
    pub customer_document: &'a str,
    pub contract_id: i64,
    pub invoice_id: i64,
    pub document_number: &'a str,
    pub amount_cents: i64,
    pub due: NaiveDate,
    /// `Some` when the invoice is late: the fine, the interest and the corrected total.
    pub charges: Option<Charges>,
    /// The 47-digit linha digitável (separators allowed).
    pub linha_digitavel: Option<&'a str>,
    /// The 44-digit barcode.
    pub barcode: Option<&'a str>,
    /// The PIX copia-e-cola code.
    pub pix: Option<&'a str>,
    pub generated_at: NaiveDateTime,
}

/// Why no PDF was made. Missing payment data is not an error (the page says it is
/// unavailable); payment data that is present but wrong is, because printing a code that
/// cannot be paid, or that pays something else, is worse than printing nothing.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("código de barras inválido: são esperados 44 dígitos com o dígito verificador correto")]
    InvalidBarcode,
    #[error(
        "linha digitável inválida: são esperados 47 dígitos com os dígitos verificadores corretos"
    )]
    InvalidLinha,
    #[error("a linha digitável não corresponde ao código de barras")]
    LinhaMismatch,
    #[error("código PIX copia e cola inválido")]
    InvalidPix,
    #[error("o código PIX não cabe em um QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
    #[error("o conteúdo da fatura não cabe em uma página")]
    Overflow,
    #[error("falha ao gerar o PDF")]
    Serialize,
}

/// The ITF (interleaved 2 of 5) elements of `digits`, as FEBRABAN prints a boleto's barcode:
/// alternating bars (`true`) and spaces (`false`) with their width in narrow units (1 narrow,
/// 3 wide), from the start pattern to the stop pattern. `None` unless `digits` is a non-empty
/// even number of ASCII digits, since ITF encodes digits in pairs.
pub fn itf_bars(digits: &str) -> Option<Vec<(bool, u8)>> {
    let bytes = digits.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(2) || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Start: narrow bar, narrow space, narrow bar, narrow space.
    let mut out = vec![
        (true, NARROW),
        (false, NARROW),
        (true, NARROW),
        (false, NARROW),
    ];
    for pair in bytes.chunks_exact(2) {
        let (bars, spaces) = match pair {
            [a, b] => (itf_digit(*a)?, itf_digit(*b)?),
            _ => return None,
        };
        // The first digit of a pair is carried by the bars, the second by the spaces between
        // them.
        for (bar, space) in bars.iter().zip(spaces.iter()) {
            out.push((true, *bar));
            out.push((false, *space));
        }
    }
    // Stop: wide bar, narrow space, narrow bar.
    out.extend([(true, WIDE), (false, NARROW), (true, NARROW)]);
    Some(out)
}

const NARROW: u8 = 1;
const WIDE: u8 = 3;

/// The standard 2-of-5 widths of one digit: exactly two of its five elements are wide.
fn itf_digit(digit: u8) -> Option<[u8; 5]> {
    const N: u8 = NARROW;
    const W: u8 = WIDE;
    Some(match digit {
        b'0' => [N, N, W, W, N],
        b'1' => [W, N, N, N, W],
        b'2' => [N, W, N, N, W],
        b'3' => [W, W, N, N, N],
        b'4' => [N, N, W, N, W],
        b'5' => [W, N, W, N, N],
        b'6' => [N, W, W, N, N],
        b'7' => [N, N, N, W, W],
        b'8' => [W, N, N, W, N],
        b'9' => [N, W, N, W, N],
        _ => return None,
    })
}

/// Renders the invoice as a one-page A4 PDF.
pub fn render(inv: &InvoicePdf) -> Result<Vec<u8>, PdfError> {
    let (bytes, warnings) = render_with_warnings(inv)?;
    for w in &warnings {
        // printpdf still wrote the page; a warning means a layout bug here, not bad input.
        tracing::warn!(invoice = inv.invoice_id, msg = %w.msg, "aviso ao gerar o PDF da fatura");
    }
    Ok(bytes)
}

fn render_with_warnings(inv: &InvoicePdf) -> Result<(Vec<u8>, Vec<PdfWarnMsg>), PdfError> {
    let page = compose(inv)?;
    let mut doc = PdfDocument::new(&format!("Segunda via da fatura {}", inv.invoice_id));
    doc.metadata.info.author = clean(inv.provider_name);
    doc.metadata.info.subject = "Segunda via de fatura".to_string();
    let pdf_page = PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), page.ops);
    let mut warnings = Vec::new();
    let bytes = doc
        .with_pages(vec![pdf_page])
        .save(&PdfSaveOptions::default(), &mut warnings);
    // printpdf swallows write errors; an output without the header is the only sign of one.
    if !bytes.starts_with(b"%PDF") {
        return Err(PdfError::Serialize);
    }
    warnings.retain(|w| w.severity != PdfParseErrorSeverity::Info);
    Ok((bytes, warnings))
}

/// Lays the page out, top to bottom.
fn compose(inv: &InvoicePdf) -> Result<Canvas, PdfError> {
    let payment = Payment::check(inv)?;
    let mut page = Canvas::default();
    let mut y = header(&mut page, inv);
    y = customer(&mut page, inv, y);
    y = amounts(&mut page, inv, y);
    y = boleto_section(&mut page, &payment, y);
    y = pix_section(&mut page, &payment, y);
    if y > CONTENT_BOTTOM {
        return Err(PdfError::Overflow);
    }
    footer(&mut page, inv);
    Ok(page)
}

/// Payment data, checked, in the form the page draws it.
struct Payment {
    /// The formatted linha digitável.
    linha: Option<String>,
    bars: Option<Vec<(bool, u8)>>,
    pix: Option<(String, QrCode)>,
}

/// Blank values are how "none" is often stored (`codigopix` is "" when there is none).
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|s| !s.is_empty())
}

impl Payment {
    fn check(inv: &InvoicePdf) -> Result<Payment, PdfError> {
        let barcode = match present(inv.barcode) {
            Some(b) if boleto::validate_barcode(b) => Some(b),
            Some(_) => return Err(PdfError::InvalidBarcode),
            None => None,
        };
        let linha = match present(inv.linha_digitavel) {
            Some(l) => {
                let from_linha = boleto::barcode_from_linha(l).ok_or(PdfError::InvalidLinha)?;
                if barcode.is_some_and(|b| b != from_linha) {
                    return Err(PdfError::LinhaMismatch);
                }
                Some(boleto::format_linha(l))
            }
            None => None,
        };
        let bars = match barcode {
            Some(b) => Some(itf_bars(b).ok_or(PdfError::InvalidBarcode)?),
            None => None,
        };
        let pix = match present(inv.pix) {
            Some(p) if pix::validate(p) => Some((p.to_string(), QrCode::new(p.as_bytes())?)),
            Some(_) => return Err(PdfError::InvalidPix),
            None => None,
        };
        Ok(Payment { linha, bars, pix })
    }
}

// Page geometry, in millimetres.
const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const LEFT: f32 = 15.0;
const RIGHT: f32 = PAGE_W - LEFT;
const CONTENT_W: f32 = RIGHT - LEFT;
/// Content must end above the footer rule.
const FOOTER_RULE: f32 = 283.0;
const CONTENT_BOTTOM: f32 = FOOTER_RULE - 3.0;
/// FEBRABAN's barcode is about 103 mm wide and 13 mm tall; the 44 digits make 405 narrow
/// units (start 4, 22 pairs of 18, stop 5), so a narrow element is about 0.25 mm.
const BARCODE_W: f32 = 103.0;
const BARCODE_H: f32 = 13.0;
/// Large enough for a phone camera at arm's length even for long dynamic PIX codes.
const QR_SIZE: f32 = 38.0;
const MM_PER_PT: f32 = 25.4 / 72.0;

const BLACK: f32 = 0.0;
const LABEL_GRAY: f32 = 0.4;
const RULE_GRAY: f32 = 0.6;
const BOX_GRAY: f32 = 0.93;

/// Header: provider at the left, the document's title at the right, then a rule.
fn header(page: &mut Canvas, inv: &InvoicePdf) -> f32 {
    let title = "Segunda via de fatura";
    let title_w = width_mm(title, Font::Bold, 14.0);
    page.text_right(RIGHT, 21.0, Font::Bold, 14.0, title);
    page.gray(LABEL_GRAY);
    let number = format!("Fatura nº {}", inv.invoice_id);
    page.text_right(RIGHT, 27.0, Font::Regular, 9.0, &number);
    page.gray(BLACK);

    let name_w = CONTENT_W - title_w - 8.0;
    let mut y = 21.0;
    for line in wrap(&clean(inv.provider_name), Font::Bold, 15.0, name_w, 2) {
        page.text(LEFT, y, Font::Bold, 15.0, &line);
        y += 6.0;
    }
    let cnpj = format!("CNPJ {}", clean(inv.provider_cnpj));
    page.text(
        LEFT,
        y,
        Font::Regular,
        9.0,
        &fit_line(&cnpj, Font::Regular, 9.0, name_w),
    );
    let bottom = (y + 4.0).max(31.0);
    page.rule(bottom, 0.4, BLACK);
    bottom
}

/// Who is charged, and which contract and invoice this is.
fn customer(page: &mut Canvas, inv: &InvoicePdf, top: f32) -> f32 {
    const COL2: f32 = 125.0;
    const COL3: f32 = 160.0;
    let left_w = COL2 - LEFT - 6.0;

    page.label(LEFT, top + 6.0, "Cliente");
    let mut y = top + 11.5;
    for line in wrap(&clean(inv.customer_name), Font::Bold, 11.0, left_w, 2) {
        page.text(LEFT, y, Font::Bold, 11.0, &line);
        y += 5.0;
    }
    let document = format!("CPF/CNPJ {}", clean(inv.customer_document));
    page.text(
        LEFT,
        y + 0.5,
        Font::Regular,
        10.0,
        &fit_line(&document, Font::Regular, 10.0, left_w),
    );
    let left_bottom = y + 0.5;

    page.label(COL2, top + 6.0, "Contrato");
    page.text(
        COL2,
        top + 11.5,
        Font::Regular,
        11.0,
        &inv.contract_id.to_string(),
    );
    page.label(COL3, top + 6.0, "Fatura");
    page.text(
        COL3,
        top + 11.5,
        Font::Regular,
        11.0,
        &inv.invoice_id.to_string(),
    );
    page.label(COL2, top + 18.0, "Nº do documento");
    let number = fit_line(
        &clean(inv.document_number),
        Font::Regular,
        11.0,
        RIGHT - COL2,
    );
    page.text(COL2, top + 23.5, Font::Regular, 11.0, &number);

    left_bottom.max(top + 23.5) + 5.0
}

/// The amount, the due date and what to pay, in a shaded box; when late, the breakdown.
fn amounts(page: &mut Canvas, inv: &InvoicePdf, top: f32) -> f32 {
    const BOX_H: f32 = 20.0;
    const CELL_W: f32 = CONTENT_W / 3.0;
    page.gray(BOX_GRAY);
    page.fill_rects(&[(LEFT, top, CONTENT_W, BOX_H)]);
    page.gray(BLACK);

    let total = inv.charges.map_or(inv.amount_cents, |c| c.total_cents);
    let cells = [
        ("Valor do documento", money(inv.amount_cents)),
        ("Vencimento", date(inv.due)),
        ("Total a pagar", money(total)),
    ];
    for (i, (label, value)) in cells.iter().enumerate() {
        let x = LEFT + 4.0 + CELL_W * i as f32;
        page.label(x, top + 6.5, label);
        let size = fit_size(value, Font::Bold, 16.0, CELL_W - 8.0);
        page.text(x, top + 15.0, Font::Bold, size, value);
    }
    let mut y = top + BOX_H;

    if let Some(c) = inv.charges {
        // The charges were computed for the day `days_late` after the due date.
        let until = u64::try_from(c.days_late)
            .ok()
            .and_then(|d| inv.due.checked_add_days(Days::new(d)));
        let days = plural(c.days_late, "dia", "dias");
        let note = match until {
            Some(day) => format!(
                "Fatura vencida há {days}: valores atualizados para pagamento em {}.",
                date(day)
            ),
            None => format!("Fatura vencida há {days}."),
        };
        page.text(LEFT, y + 6.0, Font::Regular, 9.0, &note);
        const VALUES_RIGHT: f32 = 110.0;
        let rows = [
            ("Valor original".to_string(), inv.amount_cents),
            ("Multa".to_string(), c.fine_cents),
            (format!("Juros ({days})"), c.interest_cents),
        ];
        y += 12.0;
        for (label, cents) in rows {
            page.text(LEFT, y, Font::Regular, 10.0, &label);
            page.text_right(VALUES_RIGHT, y, Font::Regular, 10.0, &money(cents));
            y += 5.0;
        }
        page.gray(RULE_GRAY);
        page.fill_rects(&[(LEFT, y - 3.5, VALUES_RIGHT - LEFT, 0.2)]);
        page.gray(BLACK);
        y += 1.0;
        page.text(LEFT, y, Font::Bold, 10.0, "Total atualizado");
        page.text_right(VALUES_RIGHT, y, Font::Bold, 10.0, &money(c.total_cents));
    }
    y + 4.0
}

/// The linha digitável and the barcode drawn from it.
fn boleto_section(page: &mut Canvas, payment: &Payment, top: f32) -> f32 {
    let mut y = page.heading(top, "Boleto bancário");
    page.label(LEFT, y + 4.0, "Linha digitável");
    match &payment.linha {
        Some(linha) => {
            let size = fit_size(linha, Font::Bold, 13.0, CONTENT_W);
            page.text(LEFT, y + 10.0, Font::Bold, size, linha);
        }
        None => page.unavailable(y + 10.0, "Linha digitável indisponível para esta fatura."),
    }
    y += 14.0;
    match &payment.bars {
        Some(bars) => {
            let units: u32 = bars.iter().map(|&(_, w)| u32::from(w)).sum();
            let unit = BARCODE_W / units.max(1) as f32;
            let mut x = LEFT;
            let mut rects = Vec::with_capacity(bars.len() / 2 + 1);
            for &(bar, w) in bars {
                let width = unit * f32::from(w);
                if bar {
                    rects.push((x, y, width, BARCODE_H));
                }
                x += width;
            }
            page.fill_rects(&rects);
            page.barcode_at = Some((LEFT, y, BARCODE_W, BARCODE_H));
            y += BARCODE_H;
        }
        None => {
            page.unavailable(y + 4.0, "Código de barras indisponível para esta fatura.");
            y += 6.0;
        }
    }
    y + 4.0
}

/// The PIX QR code, how to use it, and the copia-e-cola text below.
fn pix_section(page: &mut Canvas, payment: &Payment, top: f32) -> f32 {
    let y = page.heading(top, "PIX");
    let Some((code, qr)) = &payment.pix else {
        page.unavailable(y + 6.0, "PIX indisponível para esta fatura.");
        return y + 10.0;
    };
    // A gap of at least four modules around the symbol is its quiet zone.
    let qr_top = y + 5.0;
    let modules = qr.width();
    let module = QR_SIZE / modules.max(1) as f32;
    let colors = qr.to_colors();
    let mut rects = Vec::new();
    for (row, line) in colors.chunks(modules.max(1)).enumerate() {
        // One rectangle per horizontal run of dark modules keeps the stream small.
        let mut run_start = None;
        for (col, color) in line.iter().chain([&qrcode::Color::Light]).enumerate() {
            match (color, run_start) {
                (qrcode::Color::Dark, None) => run_start = Some(col),
                (qrcode::Color::Light, Some(start)) => {
                    rects.push((
                        LEFT + module * start as f32,
                        qr_top + module * row as f32,
                        module * (col - start) as f32,
                        module,
                    ));
                    run_start = None;
                }
                _ => {}
            }
        }
    }
    page.fill_rects(&rects);
    page.qr_at = Some((LEFT, qr_top, QR_SIZE));

    let text_x = LEFT + QR_SIZE + 8.0;
    let how = "Pague pelo aplicativo do seu banco: escolha pagar com PIX e leia o QR code \
               ao lado, ou copie o código abaixo (PIX copia e cola).";
    let mut ty = qr_top + 5.0;
    for line in wrap(how, Font::Regular, 10.0, RIGHT - text_x, 6) {
        page.text(text_x, ty, Font::Regular, 10.0, &line);
        ty += 5.0;
    }

    let mut y = qr_top + QR_SIZE + 7.0;
    page.label(LEFT, y, "PIX copia e cola");
    y += 4.5;
    for line in break_chars(&clean(code), Font::Mono, 8.0, CONTENT_W) {
        page.text(LEFT, y, Font::Mono, 8.0, &line);
        y += 3.6;
    }
    y
}

fn footer(page: &mut Canvas, inv: &InvoicePdf) {
    page.rule(FOOTER_RULE, 0.2, RULE_GRAY);
    page.gray(LABEL_GRAY);
    let when = format!(
        "Segunda via gerada em {} às {}.",
        inv.generated_at.format("%d/%m/%Y"),
        inv.generated_at.format("%H:%M")
    );
    page.text(LEFT, FOOTER_RULE + 5.0, Font::Regular, 8.0, &when);
    let which = format!("Contrato {} · Fatura {}", inv.contract_id, inv.invoice_id);
    page.text_right(RIGHT, FOOTER_RULE + 5.0, Font::Regular, 8.0, &which);
    page.gray(BLACK);
}

fn money(cents: i64) -> String {
    format!("R$ {}", brl(cents))
}

fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Control characters (a stray newline in a name) would be drawn as garbage; whitespace runs
/// are collapsed like a browser would.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The page's drawing operations, built top-down in millimetres.
#[derive(Default)]
struct Canvas {
    ops: Vec<Op>,
    /// Where the barcode went, `(x, top, width, height)`, so tests can scan it.
    barcode_at: Option<(f32, f32, f32, f32)>,
    /// Where the QR code went, `(x, top, size)`.
    qr_at: Option<(f32, f32, f32)>,
}

impl Canvas {
    fn gray(&mut self, level: f32) {
        self.ops.push(Op::SetFillColor {
            col: Color::Greyscale(Greyscale {
                percent: level,
                icc_profile: None,
            }),
        });
    }

    /// One line of text whose baseline is `baseline` mm below the top edge.
    fn text(&mut self, x: f32, baseline: f32, font: Font, size: f32, text: &str) {
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::Builtin(font.builtin()),
                size: Pt(size),
            },
            Op::SetTextCursor {
                pos: Point::new(Mm(x), Mm(PAGE_H - baseline)),
            },
            Op::ShowText {
                items: vec![TextItem::Text(text.to_string())],
            },
            Op::EndTextSection,
        ]);
    }

    fn text_right(&mut self, right: f32, baseline: f32, font: Font, size: f32, text: &str) {
        let x = right - width_mm(text, font, size);
        self.text(x, baseline, font, size, text);
    }

    fn label(&mut self, x: f32, baseline: f32, text: &str) {
        self.gray(LABEL_GRAY);
        self.text(x, baseline, Font::Regular, 8.0, text);
        self.gray(BLACK);
    }

    fn unavailable(&mut self, baseline: f32, text: &str) {
        self.ops.push(Op::SetFillColor {
            col: Color::Rgb(Rgb {
                r: 0.6,
                g: 0.1,
                b: 0.1,
                icc_profile: None,
            }),
        });
        self.text(LEFT, baseline, Font::Italic, 10.0, text);
        self.gray(BLACK);
    }

    /// A section title with a thin rule under it; returns where the section's body starts.
    fn heading(&mut self, top: f32, title: &str) -> f32 {
        self.text(LEFT, top + 6.0, Font::Bold, 11.0, title);
        self.rule(top + 8.0, 0.2, RULE_GRAY);
        top + 8.0
    }

    fn rule(&mut self, top: f32, thickness: f32, level: f32) {
        self.gray(level);
        self.fill_rects(&[(LEFT, top, CONTENT_W, thickness)]);
        self.gray(BLACK);
    }

    /// Filled rectangles `(x, top, width, height)` as one path, so that touching modules of
    /// a QR code or bars do not show anti-aliasing seams between them.
    fn fill_rects(&mut self, rects: &[(f32, f32, f32, f32)]) {
        if rects.is_empty() {
            return;
        }
        let corner = |x: f32, y: f32| LinePoint {
            p: Point::new(Mm(x), Mm(PAGE_H - y)),
            bezier: false,
        };
        let rings = rects
            .iter()
            .map(|&(x, top, w, h)| PolygonRing {
                points: vec![
                    corner(x, top + h),
                    corner(x + w, top + h),
                    corner(x + w, top),
                    corner(x, top),
                ],
            })
            .collect();
        self.ops.push(Op::DrawPolygon {
            polygon: Polygon {
                rings,
                mode: PaintMode::Fill,
                winding_order: WindingOrder::NonZero,
            },
        });
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
    Italic,
    Mono,
}

impl Font {
    fn builtin(self) -> BuiltinFont {
        match self {
            Font::Regular => BuiltinFont::Helvetica,
            Font::Bold => BuiltinFont::HelveticaBold,
            Font::Italic => BuiltinFont::HelveticaOblique,
            Font::Mono => BuiltinFont::Courier,
        }
    }

    /// Advance width of `c` in thousandths of an em (Adobe's AFM metrics).
    fn advance(self, c: char) -> u16 {
        if self == Font::Mono {
            return 600;
        }
        let table = if self == Font::Bold {
            &HELVETICA_BOLD
        } else {
            &HELVETICA
        };
        let base = unaccented(c);
        if let Some(w) = u32::from(base)
            .checked_sub(32)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| table.get(i))
        {
            return *w;
        }
        match base {
            '·' => 278,
            'º' => 365,
            'ª' => 370,
            '°' => 400,
            '–' => 556,
            // Unknown characters count as a full em so that measured text never overflows.
            _ => 1000,
        }
    }
}

/// Helvetica's accented letters are exactly as wide as their base letters.
fn unaccented(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'Á' | 'À' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'A',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'É' | 'È' | 'Ê' | 'Ë' => 'E',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'Í' | 'Ì' | 'Î' | 'Ï' => 'I',
        'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
        'Ó' | 'Ò' | 'Ô' | 'Õ' | 'Ö' => 'O',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'Ú' | 'Ù' | 'Û' | 'Ü' => 'U',
        'ç' => 'c',
        'Ç' => 'C',
        'ñ' => 'n',
        'Ñ' => 'N',
        'ý' | 'ÿ' => 'y',
        'Ý' => 'Y',
        other => other,
    }
}

/// Widths of ASCII 32..=126 in Helvetica (also Helvetica-Oblique), from Adobe's AFM.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// Widths of ASCII 32..=126 in Helvetica-Bold, from Adobe's AFM.
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

fn width_mm(text: &str, font: Font, size: f32) -> f32 {
    // u64: no text a database can hold overflows it.
    let thousandths: u64 = text.chars().map(|c| u64::from(font.advance(c))).sum();
    thousandths as f32 / 1000.0 * size * MM_PER_PT
}

fn char_mm(c: char, font: Font, size: f32) -> f32 {
    f32::from(font.advance(c)) / 1000.0 * size * MM_PER_PT
}

/// The largest size up to `max` at which `text` fits in `width` (long amounts shrink rather
/// than run into the next cell).
fn fit_size(text: &str, font: Font, max: f32, width: f32) -> f32 {
    let at_max = width_mm(text, font, max);
    if at_max <= width || at_max <= 0.0 {
        max
    } else {
        max * width / at_max
    }
}

/// `text` cut with an ellipsis to fit `width`.
fn fit_line(text: &str, font: Font, size: f32, width: f32) -> String {
    if width_mm(text, font, size) <= width {
        return text.to_string();
    }
    // Measured incrementally: hostile input may be long, and this must stay linear.
    let mut used = char_mm('…', font, size);
    let mut out = String::new();
    for c in text.chars() {
        used += char_mm(c, font, size);
        if used > width {
            break;
        }
        out.push(c);
    }
    format!("{}…", out.trim_end())
}

/// Greedy word wrap into at most `max_lines` lines of `width`; words longer than a line are
/// broken, and what does not fit ends in an ellipsis.
fn wrap(text: &str, font: Font, size: f32, width: f32, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if width_mm(&candidate, font, size) <= width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        let mut pieces = break_chars(word, font, size, width);
        current = pieces.pop().unwrap_or_default();
        lines.extend(pieces);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if lines.len() > max_lines {
        let rest = lines.split_off(max_lines.saturating_sub(1)).join(" ");
        lines.push(fit_line(&rest, font, size, width));
    }
    lines
}

/// Breaks `text` anywhere to fill lines of `width`: for codes, which have no word breaks and
/// must be shown whole.
fn break_chars(text: &str, font: Font, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut current_w = 0.0;
    for c in text.chars() {
        let w = char_mm(c, font, size);
        if current_w + w > width && !current.is_empty() {
            lines.push(std::mem::take(&mut current));
            current_w = 0.0;
        }
        current.push(c);
        current_w += w;
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::invoice::corrected;
    use std::path::Path;
    use std::process::Command;

    const N: u8 = NARROW;
    const W: u8 = WIDE;

    #[test]
    fn itf_start_stop_and_a_known_pair() {
        let bars = itf_bars("12").expect("two digits");
        assert_eq!(&bars[..4], &[(true, N), (false, N), (true, N), (false, N)]);
        assert_eq!(&bars[bars.len() - 3..], &[(true, W), (false, N), (true, N)]);
        // 1 = WNNNW in the bars, 2 = NWNNW in the spaces, interleaved.
        assert_eq!(
            &bars[4..14],
            &[
                (true, W),
                (false, N),
                (true, N),
                (false, W),
                (true, N),
                (false, N),
                (true, N),
                (false, N),
                (true, W),
                (false, W),
            ]
        );
        assert_eq!(bars.len(), 4 + 10 + 3);
    }

    #[test]
    fn itf_digit_table_is_the_standard_one() {
        let standard = [
            "NNWWN", "WNNNW", "NWNNW", "WWNNN", "NNWNW", "WNWNN", "NWWNN", "NNNWW", "WNNWN",
            "NWNWN",
        ];
        for (d, pattern) in (b'0'..=b'9').zip(standard) {
            let expected: Vec<u8> = pattern
                .bytes()
                .map(|b| if b == b'W' { W } else { N })
                .collect();
            assert_eq!(itf_digit(d).map(Vec::from), Some(expected), "{}", d as char);
        }
    }

    #[test]
    fn itf_every_digit_has_two_wide_elements() {
        for d in b'0'..=b'9' {
            let widths = itf_digit(d).expect("a digit");
            assert_eq!(
                widths.iter().filter(|&&w| w == W).count(),
                2,
                "{}",
                d as char
            );
        }
        let all: std::collections::HashSet<_> = (b'0'..=b'9').filter_map(itf_digit).collect();
        assert_eq!(all.len(), 10, "digit patterns must be distinct");
    }

    #[test]
    fn itf_boleto_barcode_is_405_units_and_alternates() {
        let bars = itf_bars("00193373700000001000500940144816060680935031").expect("44 digits");
        let units: u32 = bars.iter().map(|&(_, w)| u32::from(w)).sum();
        assert_eq!(units, 405);
        assert!(
            bars.iter()
                .enumerate()
                .all(|(i, &(bar, _))| bar == (i % 2 == 0))
        );
        assert_eq!(
            bars.iter().filter(|&&(bar, _)| bar).count(),
            2 + 44 * 5 / 2 + 2
        );
    }

    #[test]
    fn itf_rejects_bad_input() {
        assert_eq!(itf_bars("123"), None);
        assert_eq!(itf_bars(""), None);
        assert_eq!(itf_bars("12a4"), None);
        assert_eq!(itf_bars("１２"), None);
        assert_eq!(itf_bars("12 4"), None);
    }

    #[test]
    fn wrapping_respects_width_and_line_limit() {
        let name = "Maria José da Conceição Albuquerque de Souza Cavalcanti Wanderley";
        let lines = wrap(name, Font::Bold, 11.0, 60.0, 2);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| width_mm(l, Font::Bold, 11.0) <= 60.0));
        assert!(lines[1].ends_with('…'));
        let long_word = "W".repeat(200);
        let lines = wrap(&long_word, Font::Regular, 10.0, 50.0, 100);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), long_word);
        assert!(
            lines
                .iter()
                .all(|l| width_mm(l, Font::Regular, 10.0) <= 50.0)
        );
        assert_eq!(wrap("", Font::Regular, 10.0, 50.0, 2), Vec::<String>::new());
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    struct Demo {
        barcode: String,
        linha: String,
        pix: String,
    }

    /// Payment data built like the demo provider's invoice 10021 (R$ 49,90).
    fn demo_payment(due: NaiveDate) -> Demo {
        let free_field = format!("{:025}", 1_000_010_021_i64);
        let barcode = boleto::barcode("001", '9', Some(due), 4990, &free_field).expect("barcode");
        let linha = boleto::linha_digitavel(&barcode).expect("linha");
        let pix = pix::build(&pix::PixPayload {
            key: "8c1f5e2a-4b7d-4e3a-9f21-6d0c2b7a9e15".into(),
            merchant_name: "PROVEDOR DEMO".into(),
            merchant_city: "NATAL".into(),
            amount_cents: Some(4990),
            txid: "FAT10021".into(),
        });
        Demo {
            barcode,
            linha,
            pix,
        }
    }

    fn demo_invoice(d: &Demo, late: bool) -> InvoicePdf<'_> {
        let due = ymd(2026, 3, 1);
        let today = if late {
            ymd(2026, 3, 11)
        } else {
            ymd(2026, 2, 20)
        };
        InvoicePdf {
            provider_name: "Provedor Demo Telecomunicações Ltda",
            provider_cnpj: "12.345.678/0001-95",
            customer_name: "Maria José da Conceição",
            customer_document: "032.568.284-42",
            contract_id: 1002,
            invoice_id: 10021,
            document_number: "10021",
            amount_cents: 4990,
            due,
            charges: late.then(|| corrected(4990, due, today, 2.0, 1.0)),
            linha_digitavel: Some(&d.linha),
            barcode: Some(&d.barcode),
            pix: Some(&d.pix),
            generated_at: today.and_hms_opt(14, 30, 5).expect("valid time"),
        }
    }

    #[test]
    fn renders_a_pdf_without_warnings() {
        let d = demo_payment(ymd(2026, 3, 1));
        for late in [false, true] {
            let (bytes, warnings) = render_with_warnings(&demo_invoice(&d, late)).expect("pdf");
            assert!(bytes.starts_with(b"%PDF"));
            assert!(warnings.is_empty(), "{warnings:?}");
        }
    }

    #[test]
    fn missing_payment_data_is_not_an_error() {
        let d = demo_payment(ymd(2026, 3, 1));
        let mut inv = demo_invoice(&d, false);
        inv.linha_digitavel = None;
        inv.barcode = Some("  ");
        inv.pix = Some("");
        let bytes = render(&inv).expect("pdf without payment codes");
        assert!(bytes.starts_with(b"%PDF"));
    }

    #[test]
    fn wrong_payment_data_is_an_error() {
        let d = demo_payment(ymd(2026, 3, 1));
        let other = demo_payment(ymd(2026, 3, 2));
        let mut inv = demo_invoice(&d, false);
        inv.barcode = Some("123");
        assert!(matches!(render(&inv), Err(PdfError::InvalidBarcode)));
        let mut inv = demo_invoice(&d, false);
        inv.linha_digitavel = Some("0019");
        assert!(matches!(render(&inv), Err(PdfError::InvalidLinha)));
        let mut inv = demo_invoice(&d, false);
        inv.linha_digitavel = Some(&other.linha);
        assert!(matches!(render(&inv), Err(PdfError::LinhaMismatch)));
        let mut inv = demo_invoice(&d, false);
        inv.pix = Some("not a pix code");
        assert!(matches!(render(&inv), Err(PdfError::InvalidPix)));
    }

    #[test]
    fn hostile_text_and_extreme_amounts_still_render() {
        let d = demo_payment(ymd(2026, 3, 1));
        let long = "Ŵ€\u{0}\n\t𝕏 ".repeat(300);
        let mut inv = demo_invoice(&d, true);
        inv.provider_name = &long;
        inv.customer_name = &long;
        inv.customer_document = &long;
        inv.document_number = &long;
        inv.provider_cnpj = &long;
        inv.amount_cents = i64::MAX;
        inv.charges = Some(corrected(i64::MAX, inv.due, NaiveDate::MAX, 2.0, 1.0));
        let bytes = render(&inv).expect("pdf");
        assert!(bytes.starts_with(b"%PDF"));
        inv.amount_cents = i64::MIN;
        inv.charges = None;
        assert!(render(&inv).is_ok());
    }

    /// Whether a missing poppler-utils fails the tests instead of skipping them.
    fn poppler_required() -> bool {
        std::env::var("URA_TEST_REQUIRE_POPPLER")
            .map(|v| !v.trim().is_empty() && v.trim() != "0")
            .unwrap_or(false)
    }

    /// Runs a poppler tool, or `None` (after saying why) when it is not installed.
    fn poppler(program: &str, args: &[&str]) -> Option<std::process::Output> {
        match Command::new(program).args(args).output() {
            Ok(out) => {
                assert!(
                    out.status.success(),
                    "{program} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                Some(out)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !poppler_required() => {
                eprintln!(
                    "skipped: {program} not found; install poppler-utils \
                     (URA_TEST_REQUIRE_POPPLER=1 makes this an error)"
                );
                None
            }
            Err(e) => panic!("cannot run {program}: {e} (install poppler-utils)"),
        }
    }

    fn write_demo_pdf(dir: &Path, late: bool) -> std::path::PathBuf {
        let d = demo_payment(ymd(2026, 3, 1));
        let bytes = render(&demo_invoice(&d, late)).expect("pdf");
        let path = dir.join(if late { "late.pdf" } else { "on_time.pdf" });
        std::fs::write(&path, bytes).expect("write pdf");
        path
    }

    #[test]
    fn poppler_reads_the_text() {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = demo_payment(ymd(2026, 3, 1));
        for late in [false, true] {
            let pdf = write_demo_pdf(dir.path(), late);
            let pdf = pdf.to_str().expect("utf-8 path");
            let Some(out) = poppler("pdftotext", &["-enc", "UTF-8", pdf, "-"]) else {
                return;
            };
            let text = String::from_utf8(out.stdout).expect("utf-8 text");
            for expected in [
                "Segunda via de fatura",
                "R$ 49,90",
                "01/03/2026",
                boleto::format_linha(&d.linha).as_str(),
                "Maria José da Conceição",
                "032.568.284-42",
                "Provedor Demo Telecomunicações Ltda",
                "CNPJ 12.345.678/0001-95",
                "PIX copia e cola",
                "Segunda via gerada em",
            ] {
                assert!(text.contains(expected), "{expected:?} not in:\n{text}");
            }
            // The copia-e-cola is wrapped, so it is whole once the line breaks are gone.
            let joined: String = text.lines().collect();
            assert!(joined.contains(&d.pix), "PIX code not in:\n{text}");
            if late {
                for expected in [
                    "R$ 51,07",
                    "R$ 1,00",
                    "R$ 0,17",
                    "Juros (10 dias)",
                    "há 10 dias",
                ] {
                    assert!(text.contains(expected), "{expected:?} not in:\n{text}");
                }
            } else {
                assert!(!text.contains("Multa"), "{text}");
            }
        }
    }

    /// A binary PGM (what `pdftoppm -gray` writes): width, height and one byte per pixel.
    fn read_pgm(path: &Path) -> (usize, usize, Vec<u8>) {
        let data = std::fs::read(path).expect("pgm written");
        let mut fields = Vec::new();
        let mut at = 0;
        while fields.len() < 4 {
            while data.get(at).is_some_and(u8::is_ascii_whitespace) {
                at += 1;
            }
            let start = at;
            while data.get(at).is_some_and(|b| !b.is_ascii_whitespace()) {
                at += 1;
            }
            fields.push(String::from_utf8_lossy(&data[start..at]).to_string());
        }
        assert_eq!(fields[0], "P5");
        assert_eq!(fields[3], "255");
        let w: usize = fields[1].parse().expect("width");
        let h: usize = fields[2].parse().expect("height");
        let pixels = data[at + 1..].to_vec();
        assert_eq!(pixels.len(), w * h);
        (w, h, pixels)
    }

    /// Rasterizes the page and reads the barcode and the QR code back from the pixels, so a
    /// mirrored QR code or a bar of the wrong width cannot pass unnoticed.
    #[test]
    fn poppler_pixels_carry_the_barcode_and_the_qr_code() {
        const DPI: f32 = 300.0;
        let d = demo_payment(ymd(2026, 3, 1));
        let inv = demo_invoice(&d, true);
        let page = compose(&inv).expect("layout");
        let dir = tempfile::tempdir().expect("temp dir");
        let pdf = dir.path().join("scan.pdf");
        std::fs::write(&pdf, render(&inv).expect("pdf")).expect("write pdf");
        let prefix = dir.path().join("scan");
        let args = [
            "-gray",
            "-r",
            "300",
            "-singlefile",
            pdf.to_str().expect("utf-8 path"),
            prefix.to_str().expect("utf-8 path"),
        ];
        if poppler("pdftoppm", &args).is_none() {
            return;
        }
        let (w, h, pixels) = read_pgm(&dir.path().join("scan.pgm"));
        let px = |mm: f32| (mm / 25.4 * DPI).round() as usize;
        let dark = |x: usize, y: usize| pixels[y.min(h - 1) * w + x.min(w - 1)] < 128;

        // Barcode: the runs along its middle row, classified narrow/wide, are the ITF elements.
        let (bx, btop, bw, bh) = page.barcode_at.expect("barcode drawn");
        let row = px(btop + bh / 2.0);
        let mut runs: Vec<(bool, usize)> = Vec::new();
        for x in px(bx - 3.0)..px(bx + bw + 3.0) {
            match runs.last_mut() {
                Some((color, len)) if *color == dark(x, row) => *len += 1,
                _ => runs.push((dark(x, row), 1)),
            }
        }
        let runs = &runs[1..runs.len() - 1]; // the quiet zones on either side
        let unit_px = BARCODE_W / 405.0 / 25.4 * DPI;
        let read: Vec<(bool, u8)> = runs
            .iter()
            .map(|&(bar, len)| (bar, if (len as f32) < 2.0 * unit_px { N } else { W }))
            .collect();
        assert_eq!(read, itf_bars(&d.barcode).expect("bars"));

        // QR code: the centre of every module has the module's colour.
        let (qx, qtop, size) = page.qr_at.expect("qr drawn");
        let qr = QrCode::new(d.pix.as_bytes()).expect("qr");
        let n = qr.width();
        let module = size / n as f32;
        for (i, color) in qr.to_colors().iter().enumerate() {
            let (r, c) = (i / n, i % n);
            let x = px(qx + module * (c as f32 + 0.5));
            let y = px(qtop + module * (r as f32 + 0.5));
            assert_eq!(
                dark(x, y),
                *color == qrcode::Color::Dark,
                "module row {r} column {c}"
            );
        }
        // And the quiet zone around it is clear of text and rules.
        let quiet = 4.0 * module;
        for y in px(qtop - quiet)..px(qtop + size + quiet) {
            for x in [px(qx - quiet), px(qx + size + quiet)] {
                assert!(!dark(x, y), "quiet zone at ({x}, {y})");
            }
        }
        for x in px(qx - quiet)..px(qx + size + quiet) {
            for y in [px(qtop - quiet), px(qtop + size + quiet)] {
                assert!(!dark(x, y), "quiet zone at ({x}, {y})");
            }
        }
    }

    #[test]
    fn poppler_renders_a_png() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pdf = write_demo_pdf(dir.path(), true);
        let prefix = dir.path().join("page");
        let args = [
            "-png",
            "-r",
            "50",
            "-singlefile",
            pdf.to_str().expect("utf-8 path"),
            prefix.to_str().expect("utf-8 path"),
        ];
        if poppler("pdftoppm", &args).is_none() {
            return;
        }
        let png = std::fs::read(dir.path().join("page.png")).expect("png written");
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        assert!(
            png.len() > 1000,
            "PNG suspiciously small: {} bytes",
            png.len()
        );
        // Keep a copy for eyes when asked: URA_TEST_PDF_DIR=/tmp/x cargo test --lib pdf::
        if let Some(out) = std::env::var_os("URA_TEST_PDF_DIR") {
            let out = Path::new(&out);
            std::fs::create_dir_all(out).expect("output dir");
            std::fs::copy(&pdf, out.join("fatura.pdf")).expect("copy pdf");
            std::fs::copy(dir.path().join("page.png"), out.join("fatura.png")).expect("copy png");
        }
    }
}
