//! Errors the HTTP layer answers with, in the contract's `{"detail": ...}` format.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::store::{StoreError, is_unavailable};

pub const MSG_INTERNAL: &str = "Erro interno do servidor.";
pub const MSG_UNAVAILABLE: &str = "Serviço temporariamente indisponível.";
pub const MSG_NOT_FOUND: &str = "Não encontrado.";
pub const MSG_TOO_LARGE: &str = "Requisição muito grande.";
pub const MSG_NO_CREDENTIALS: &str = "As credenciais de autenticação não foram fornecidas.";
pub const MSG_FORBIDDEN: &str = "Você não tem permissão para executar essa ação.";
pub const MSG_BAD_CREDENTIALS: &str = "Credenciais de autenticação incorretas.";

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
    /// Seconds for `Retry-After` (`429`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// `429`: the caller must wait `wait` (rounded up to whole seconds, at least one).
    pub fn too_many_requests(wait: std::time::Duration) -> Self {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let secs = secs.max(1);
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            detail: format!("Limite de requisições excedido. Tente novamente em {secs} segundos."),
            retry_after: Some(secs),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn required(name: &str) -> Self {
        Self::bad_request(format!("Parâmetro '{name}' é obrigatório."))
    }

    pub fn not_integer(name: &str) -> Self {
        Self::bad_request(format!(
            "Parâmetro '{name}' inválido: informe um número inteiro."
        ))
    }

    pub fn forbidden(detail: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, MSG_NOT_FOUND)
    }

    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Método \"{method}\" não é permitido."),
        )
    }

    pub fn too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, MSG_TOO_LARGE)
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, MSG_INTERNAL)
    }

    pub fn unavailable() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, MSG_UNAVAILABLE)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if is_unavailable(&e) {
            tracing::warn!(error = %e, "banco de dados indisponível");
            ApiError::unavailable()
        } else {
            tracing::error!(error = ?e, "erro de banco de dados");
            ApiError::internal()
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Sqlx(e) => e.into(),
            other => {
                tracing::error!(error = ?other, "erro de armazenamento");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status, &json!({ "detail": self.detail }));
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// Compact JSON with non-ASCII written raw, as `serde_json` does by default.
pub fn json_response(status: StatusCode, value: &Value) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
