//! `GET {base}/fatura/<id>/<expiry>-<signature>.pdf`: the invoice's second copy. No login:
//! the signed, expiring link is the credential (see `notify::links`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::error::ApiError;
use super::state::UraState;
use crate::store::invoices;

pub async fn serve(
    State(state): State<Arc<UraState>>,
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

async fn render(state: &UraState, id: &str, token: &str) -> Result<Vec<u8>, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let now = Utc::now();
    if !state.links.verify(id, token, now) {
        return Err(ApiError::not_found());
    }
    let inv = invoices::by_id(&state.store, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    state.document.render(&inv, now).map_err(|e| {
        tracing::error!(error = %e, fatura = id, "falha ao gerar o PDF");
        ApiError::internal()
    })
}
