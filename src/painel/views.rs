//! The console's templates (built into the binary; HTML-escaped) and how pages are answered.

use std::sync::OnceLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../../templates/painel/base.html"),
    ),
    (
        "entrar.html",
        include_str!("../../templates/painel/entrar.html"),
    ),
    (
        "inicio.html",
        include_str!("../../templates/painel/inicio.html"),
    ),
    (
        "cartao.html",
        include_str!("../../templates/painel/cartao.html"),
    ),
    (
        "chamada.html",
        include_str!("../../templates/painel/chamada.html"),
    ),
    (
        "historico.html",
        include_str!("../../templates/painel/historico.html"),
    ),
    (
        "cobranca.html",
        include_str!("../../templates/painel/cobranca.html"),
    ),
    ("pix.html", include_str!("../../templates/painel/pix.html")),
    (
        "retornos.html",
        include_str!("../../templates/painel/retornos.html"),
    ),
    (
        "retorno.html",
        include_str!("../../templates/painel/retorno.html"),
    ),
    (
        "filas.html",
        include_str!("../../templates/painel/filas.html"),
    ),
    (
        "erro.html",
        include_str!("../../templates/painel/erro.html"),
    ),
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // Names ending in .html are escaped (minijinja's default): a customer named
        // `<script>` is shown as text.
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name} do painel inválido: {e}"));
        }
        env
    })
}

/// Renders a template; a template error is a bug, logged and shown as a plain message.
pub fn render(name: &str, ctx: impl Serialize) -> String {
    match env().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => html,
        Err(e) => {
            tracing::error!("falha ao montar {name}: {e:#}");
            "<p class=\"erro\">Falha ao montar a página.</p>".into()
        }
    }
}

/// Headers every console answer carries: no caching of customer data, no framing, and only
/// our own scripts and styles.
pub fn secure_headers(response: &mut Response) {
    let headers = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(headers, header::CACHE_CONTROL, "no-store");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
}

pub fn page(status: StatusCode, html: String) -> Response {
    let mut response = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
        .into_response();
    secure_headers(&mut response);
    response
}

/// A page saying what went wrong, with a way back.
pub fn error_page(status: StatusCode, base: &str, message: &str) -> Response {
    page(
        status,
        render(
            "erro.html",
            minijinja::context! { base => base, mensagem => message, titulo => "Atenção" },
        ),
    )
}
