//! The request-parameter parser, as `ws/ura/...` runs it: `read_body` within the body limit,
//! then `parse` of the query string and the body as a form, multipart or JSON (or any other
//! content type, which must be refused). It must never panic; errors are fine, as long as
//! they are the client errors the parser can give (400, 413, 415).
//!
//! Input: `<Content-Type>\n<query string>\n<body>`. An empty first line sends no
//! Content-Type (a form, as many IVR scripts send it), an empty second line no query string.

#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use libfuzzer_sys::fuzz_target;
use tokio::runtime::{Builder, Runtime};
use ura::http::params;

/// The server's default `body_limit`.
const BODY_LIMIT: usize = 64 * 1024;

/// Names the URA functions read, plus the credentials.
const NAMES: &[&str] = &[
    "app",
    "token",
    "cpfcnpj",
    "contrato",
    "tipo",
    "uracontato",
    "uraagente",
    "setor",
    "ocorrenciatipo",
    "motivoos",
    "conteudo",
    "nome",
    "id",
    "status",
    "ativas",
    "pops",
];

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    })
}

/// Splits at the first `\n`; without one, everything is the line.
fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

fuzz_target!(|data: &[u8]| {
    let (content_type, rest) = split_line(data);
    let (query, body) = split_line(rest);

    let mut headers = HeaderMap::new();
    if !content_type.is_empty() {
        // Bytes no HTTP parser would let through never reach the handler.
        let Ok(value) = HeaderValue::from_bytes(content_type) else {
            return;
        };
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    let query = String::from_utf8_lossy(query);
    let query = (!query.is_empty()).then_some(query.as_ref());
    let body = Bytes::copy_from_slice(body);

    let result = runtime().block_on(async {
        let body = params::read_body(&headers, Body::from(body), BODY_LIMIT).await?;
        params::parse(query, &headers, body).await
    });
    match result {
        Ok(p) => {
            for name in NAMES {
                if let Some(v) = p.get(name) {
                    assert!(!v.trim().is_empty(), "blank value for {name}");
                }
                let _ = p.int(name);
                let _ = p.required_int(name);
            }
            for (k, v) in p.fingerprint_pairs() {
                assert!(k != "token" && k != "app", "credential in the fingerprint");
                assert!(!v.trim().is_empty(), "blank value in the fingerprint");
            }
        }
        Err(e) => assert!(
            [
                StatusCode::BAD_REQUEST,
                StatusCode::PAYLOAD_TOO_LARGE,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ]
            .contains(&e.status()),
            "unexpected status {} ({})",
            e.status(),
            e.detail()
        ),
    }
});
