//! The invoice's second copy as a document: its data (provider, customer, amounts as of
//! today, payment codes) gathered from the invoice row, and the PDF rendered from it.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::pdf::{self, InvoicePdf};
use crate::domain::states::InvoiceStatus;
use crate::domain::{document, invoice};
use crate::settings::Settings;
use crate::store::invoices::InvoiceRow;

/// What every second copy shows besides the invoice: who charges, and the late charges.
#[derive(Debug, Clone)]
pub struct InvoiceDocument {
    pub provider_name: String,
    pub provider_cnpj: String,
    /// Fine on late payment, percent.
    pub multa: f64,
    /// Interest per month, percent.
    pub juros_mes: f64,
    pub tz: Tz,
}

impl InvoiceDocument {
    pub fn from_settings(settings: &Settings, tz: Tz) -> InvoiceDocument {
        InvoiceDocument {
            provider_name: settings.provedor.nome.clone(),
            provider_cnpj: settings.provedor.cnpj.clone(),
            multa: settings.fatura.multa,
            juros_mes: settings.fatura.juros_mes,
            tz,
        }
    }

    /// The PDF of an invoice as of `now` (late invoices show their corrected amount).
    pub fn render(&self, inv: &InvoiceRow, now: DateTime<Utc>) -> Result<Vec<u8>, pdf::PdfError> {
        let state = self;
        let today = now.with_timezone(&self.tz).date_naive();
        let due = NaiveDate::parse_from_str(&inv.due_on, "%Y-%m-%d").unwrap_or(today);
        let charges = (inv.status == InvoiceStatus::Open).then(|| {
            invoice::corrected(inv.amount_cents, due, today, state.multa, state.juros_mes)
        });
        let formatted = document::format_str(&inv.customer_document);
        let provider_cnpj = document::format_str(&state.provider_cnpj);
        let mut data = InvoicePdf {
            provider_name: &state.provider_name,
            provider_cnpj: &provider_cnpj,
            customer_name: &inv.customer_name,
            customer_document: &formatted,
            contract_id: inv.contract_id,
            invoice_id: inv.id,
            document_number: &inv.document_number,
            amount_cents: inv.amount_cents,
            due,
            charges: charges.filter(|c| c.days_late > 0),
            linha_digitavel: inv.digitable_line.as_deref(),
            barcode: inv.barcode.as_deref(),
            pix: inv.pix_payload.as_deref(),
            generated_at: now.with_timezone(&state.tz).naive_local(),
        };
        match pdf::render(&data) {
            // Stored codes that are wrong (edited by hand: import refuses them) are left out, so
            // that the customer still gets the rest of the second copy.
            Err(
                e @ (pdf::PdfError::InvalidBarcode
                | pdf::PdfError::InvalidLinha
                | pdf::PdfError::LinhaMismatch
                | pdf::PdfError::InvalidPix),
            ) => {
                tracing::warn!(fatura = inv.id, "dados de pagamento inválidos no PDF: {e}");
                if matches!(e, pdf::PdfError::InvalidPix) {
                    data.pix = None;
                } else {
                    data.barcode = None;
                    data.linha_digitavel = None;
                }
                match pdf::render(&data) {
                    Err(pdf::PdfError::InvalidPix) => {
                        data.pix = None;
                        pdf::render(&data)
                    }
                    other => other,
                }
            }
            other => other,
        }
    }
}
