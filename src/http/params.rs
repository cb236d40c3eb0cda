//! Request parameters: the query string, then the body (form, multipart or JSON object),
//! merged with the body winning. Empty values and JSON `null` count as absent.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart};
use axum::http::{HeaderMap, Request, header};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use serde_json::Value;

use super::error::ApiError;

/// Bodies up to this size are read (and discarded) when over the limit, so that the client
/// gets its 413 instead of a reset connection.
const DRAIN_LIMIT: usize = 1024 * 1024;

#[derive(Debug, Default, Clone)]
pub struct Params {
    map: HashMap<String, String>,
}

impl Params {
    /// The value, absent when missing, empty or only spaces.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Every parameter with a value, sorted by name, credentials left out: what a request
    /// asks for, for `Idempotency-Key`.
    pub fn fingerprint_pairs(&self) -> Vec<(&str, &str)> {
        let mut pairs: Vec<(&str, &str)> = self
            .map
            .iter()
            .filter(|(k, v)| !v.trim().is_empty() && k.as_str() != "token" && k.as_str() != "app")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        pairs.sort_unstable();
        pairs
    }

    /// An integer parameter; surrounding spaces are ignored.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::not_integer(name)),
        }
    }

    pub fn required_int(&self, name: &str) -> Result<i64, ApiError> {
        self.int(name)?.ok_or_else(|| ApiError::required(name))
    }

    fn insert(&mut self, name: String, value: String) {
        self.map.insert(name, value);
    }

    fn remove(&mut self, name: &str) {
        self.map.remove(name);
    }
}

/// Reads the body within `limit` bytes; an oversize body is drained up to 1 MiB first.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT as u64) {
        return Err(ApiError::too_large());
    }
    let mut body = body;
    let mut buf = BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            tracing::debug!(error = %e, "corpo da requisição interrompido");
            ApiError::bad_request("Corpo da requisição incompleto.")
        })?;
        if let Ok(data) = frame.into_data() {
            seen += data.len();
            if seen <= limit {
                buf.extend_from_slice(&data);
            } else if seen > DRAIN_LIMIT {
                break;
            }
        }
    }
    if seen > limit {
        return Err(ApiError::too_large());
    }
    Ok(buf.freeze())
}

/// Query string pairs, in order.
fn parse_query(query: Option<&str>, params: &mut Params) {
    if let Some(q) = query {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            params.insert(k.into_owned(), v.into_owned());
        }
    }
}

fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|v| !v.is_empty())
}

/// Parses the query string and the body into one parameter set.
pub async fn parse(
    query: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Params, ApiError> {
    let mut params = Params::default();
    parse_query(query, &mut params);
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(params);
    }
    match media_type(headers).as_deref() {
        Some("application/json") => parse_json(&body, &mut params)?,
        Some("multipart/form-data") => parse_multipart(headers, body, &mut params).await?,
        // Forms, and bodies sent without a content type (many IVR scripts do): form fields.
        Some("application/x-www-form-urlencoded") | None => {
            for (k, v) in form_urlencoded::parse(&body) {
                params.insert(k.into_owned(), v.into_owned());
            }
        }
        Some(other) => {
            return Err(ApiError::UnsupportedMediaType(other.to_string()));
        }
    }
    Ok(params)
}

fn parse_json(body: &[u8], params: &mut Params) -> Result<(), ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("JSON parse error - {e}")))?;
    let Value::Object(object) = value else {
        return Err(ApiError::bad_request(
            "JSON parse error - o corpo deve ser um objeto JSON",
        ));
    };
    for (k, v) in object {
        match v {
            Value::Null => params.remove(&k),
            Value::String(s) => params.insert(k, s),
            Value::Number(n) => params.insert(k, number_text(&n)),
            Value::Bool(b) => params.insert(k, b.to_string()),
            other => params.insert(k, other.to_string()),
        }
    }
    Ok(())
}

/// `1001` and `1001.0` are the same integer to a JavaScript client.
fn number_text(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
            format!("{}", f as i64)
        }
        _ => n.to_string(),
    }
}

async fn parse_multipart(
    headers: &HeaderMap,
    body: Bytes,
    params: &mut Params,
) -> Result<(), ApiError> {
    let bad = |e: &dyn std::fmt::Display| {
        ApiError::bad_request(format!("Multipart form parse error - {e}"))
    };
    let mut request = Request::new(Body::from(body));
    *request.headers_mut() = headers.clone();
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| bad(&e.body_text()))?;
    while let Some(field) = multipart.next_field().await.map_err(|e| bad(&e))? {
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        if field.file_name().is_some() {
            // Files carry no URA parameter; skip their content.
            continue;
        }
        let value = field.text().await.map_err(|e| bad(&e))?;
        params.insert(name, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        h
    }

    #[tokio::test]
    async fn body_wins_over_query_and_null_is_absent() {
        let p = parse(
            Some("contrato=1&app=a&x=1"),
            &json_headers(),
            Bytes::from_static(br#"{"contrato": 2, "x": null, "y": ""}"#),
        )
        .await
        .unwrap();
        assert_eq!(p.get("contrato"), Some("2"));
        assert_eq!(p.get("app"), Some("a"));
        assert_eq!(p.get("x"), None);
        assert_eq!(p.get("y"), None);
    }

    #[tokio::test]
    async fn whole_floats_are_integers() {
        let p = parse(
            None,
            &json_headers(),
            Bytes::from_static(br#"{"contrato": 1001.0, "a": 1.5, "b": "x"}"#),
        )
        .await
        .unwrap();
        assert_eq!(p.int("contrato").unwrap(), Some(1001));
        assert!(p.int("a").is_err());
    }

    #[tokio::test]
    async fn integers() {
        let p = parse(
            Some("contrato=%201001%20&b=1.5"),
            &HeaderMap::new(),
            Bytes::new(),
        )
        .await
        .unwrap();
        assert_eq!(p.int("contrato").unwrap(), Some(1001));
        assert!(p.int("b").is_err());
        assert_eq!(p.int("nada").unwrap(), None);
        assert!(p.required_int("nada").is_err());
    }

    #[tokio::test]
    async fn malformed_json() {
        let e = parse(None, &json_headers(), Bytes::from_static(b"{nope"))
            .await
            .unwrap_err();
        assert!(e.detail().starts_with("JSON parse error - "));
        let e = parse(None, &json_headers(), Bytes::from_static(b"[1]"))
            .await
            .unwrap_err();
        assert_eq!(e.status(), 400);
    }
}
