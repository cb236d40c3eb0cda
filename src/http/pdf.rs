//! `GET {base}/fatura/<id>/<expiry>-<signature>.pdf`: the invoice's second copy. No login:
//! the signed, expiring link is the credential (see `notify::links`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};

use super::error::ApiError;
use crate::app::AppState;
use crate::domain::{document, invoice};
use crate::pdf::{self, InvoicePdf};
use crate::store::invoices;

pub async fn serve(
    State(state): State<Arc<AppState>>,
    Path((id, token)): Path<(String, String)>,
    request: Request<Body>,
) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return ApiError::method_not_allowed(request.method().as_str()).into_response();
    }
    match render(&state, &id, &token).await {
        Ok(bytes) => {
            let mut response = (StatusCode::OK, bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"fatura-{id}.pdf\"")) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            // A second copy is personal: no shared cache keeps it.
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn render(state: &AppState, id: &str, token: &str) -> Result<Vec<u8>, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let now = Utc::now();
    if !state.links.verify(id, token, now) {
        return Err(ApiError::not_found());
    }
    let inv = invoices::by_id(&state.store, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    invoice_pdf(state, &inv, now).map_err(|e| {
        tracing::error!(error = %e, fatura = id, "falha ao gerar o PDF");
        ApiError::internal()
    })
}

/// The PDF of an invoice as of `now` (late invoices show their corrected amount).
pub fn invoice_pdf(
    state: &AppState,
    inv: &invoices::InvoiceRow,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<u8>, pdf::PdfError> {
    let today = state.local_date(now);
    let due = NaiveDate::parse_from_str(&inv.due_on, "%Y-%m-%d").unwrap_or(today);
    let charges = (inv.status == crate::domain::states::InvoiceStatus::Open).then(|| {
        invoice::corrected(
            inv.amount_cents,
            due,
            today,
            state.settings.fatura.multa,
            state.settings.fatura.juros_mes,
        )
    });
    let formatted = document::format_str(&inv.customer_document);
    let provider_cnpj = document::format_str(&state.settings.provedor.cnpj);
    let mut data = InvoicePdf {
        provider_name: &state.settings.provedor.nome,
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
