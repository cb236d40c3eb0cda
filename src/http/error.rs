//! Errors the HTTP layer answers with, in the contract's `{"detail": ...}` format.

use std::borrow::Cow;

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

/// Every way a request is refused, rendered as the contract's `{"detail": ...}` body with
/// its status. Callers match on the variant, never on the text.
#[derive(Debug)]
pub enum ApiError {
    /// `400`, with the message naming what is wrong.
    BadRequest(String),
    /// `403`: no `token` + `app` pair.
    NoCredentials,
    /// `403`: a pair that does not match (or an app used from outside its networks).
    BadCredentials,
    /// `403`: the app may not call this function.
    Forbidden,
    NotFound,
    /// `405`, with the method as sent.
    MethodNotAllowed(String),
    /// `409` (an `Idempotency-Key` reused or still running).
    Conflict(String),
    /// `413`
    TooLarge,
    /// `414`
    UriTooLong,
    /// `415`, with the content type as sent.
    UnsupportedMediaType(String),
    /// `429`: the caller must wait this many seconds (`Retry-After`).
    TooManyRequests {
        retry_after: u64,
    },
    /// `431`
    HeadersTooLarge,
    /// `500`: a bug; logged where it happened.
    Internal,
    /// `503`: storage busy or away, or the request's time ran out.
    Unavailable,
}

impl ApiError {
    /// `429`: the caller must wait `wait` (rounded up to whole seconds, at least one).
    pub fn too_many_requests(wait: std::time::Duration) -> Self {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        ApiError::TooManyRequests {
            retry_after: secs.max(1),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::BadRequest(detail.into())
    }

    pub fn required(name: &str) -> Self {
        Self::bad_request(format!("Parâmetro '{name}' é obrigatório."))
    }

    pub fn not_integer(name: &str) -> Self {
        Self::bad_request(format!(
            "Parâmetro '{name}' inválido: informe um número inteiro."
        ))
    }

    pub fn not_found() -> Self {
        ApiError::NotFound
    }

    pub fn method_not_allowed(method: &str) -> Self {
        ApiError::MethodNotAllowed(method.to_string())
    }

    pub fn too_large() -> Self {
        ApiError::TooLarge
    }

    pub fn internal() -> Self {
        ApiError::Internal
    }

    pub fn unavailable() -> Self {
        ApiError::Unavailable
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NoCredentials | ApiError::BadCredentials | ApiError::Forbidden => {
                StatusCode::FORBIDDEN
            }
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UriTooLong => StatusCode::URI_TOO_LONG,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `detail` of the body, in the contract's words.
    pub fn detail(&self) -> Cow<'static, str> {
        match self {
            ApiError::BadRequest(m) | ApiError::Conflict(m) => Cow::Owned(m.clone()),
            ApiError::NoCredentials => MSG_NO_CREDENTIALS.into(),
            ApiError::BadCredentials => MSG_BAD_CREDENTIALS.into(),
            ApiError::Forbidden => MSG_FORBIDDEN.into(),
            ApiError::NotFound => MSG_NOT_FOUND.into(),
            ApiError::MethodNotAllowed(m) => format!("Método \"{m}\" não é permitido.").into(),
            ApiError::TooLarge => MSG_TOO_LARGE.into(),
            ApiError::UriTooLong => "Endereço da requisição muito longo.".into(),
            ApiError::UnsupportedMediaType(t) => {
                format!("Tipo de mídia \"{t}\" não suportado.").into()
            }
            ApiError::TooManyRequests { retry_after } => format!(
                "Limite de requisições excedido. Tente novamente em {retry_after} segundos."
            )
            .into(),
            ApiError::HeadersTooLarge => "Cabeçalhos da requisição muito grandes.".into(),
            ApiError::Internal => MSG_INTERNAL.into(),
            ApiError::Unavailable => MSG_UNAVAILABLE.into(),
        }
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
        let mut response = json_response(self.status(), &json!({ "detail": self.detail() }));
        if let ApiError::TooManyRequests { retry_after } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
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
