//! Bodies left unread by an early answer (`401`, `403`, `405`, `429` … are given before the
//! body is looked at). Closing a connection with unread bytes makes the kernel reset it,
//! and a keep-alive client then loses the answer already sent. So after the answer the rest
//! of the body is read and thrown away, up to a bound in size and time; beyond it the
//! answer says `Connection: close`, which the client can act on.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Request, Version, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Body as _, Frame};
use http_body_util::BodyExt;

/// Longest a leftover body is read for before the connection is closed instead.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// The layer's function: `bound` is the most bytes read and discarded.
pub async fn drain_unread(bound: usize, request: Request<Body>, next: Next) -> Response {
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let http1 = request.version() <= Version::HTTP_11;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let (parts, body) = request.into_parts();
    let slot = Arc::new(Mutex::new(Some(body)));
    let request = Request::from_parts(parts, Body::new(Shared(slot.clone())));
    let mut response = next.run(request).await;
    let rest = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    let Some(rest) = rest.filter(|b| !b.is_end_stream()) else {
        return response;
    };
    let drained = declared.is_none_or(|n| n <= bound as u64)
        && tokio::time::timeout(DRAIN_TIME, discard(rest, bound))
            .await
            .unwrap_or(false);
    if !drained && http1 {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Reads the body to its end; false when it is longer than `bound` or broken.
async fn discard(mut body: Body, bound: usize) -> bool {
    let mut read = 0usize;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Some(data) = frame.data_ref() {
                    read = read.saturating_add(data.len());
                    if read > bound {
                        return false;
                    }
                }
            }
            Err(_) => return false,
        }
    }
    true
}

/// The request's body as the handler sees it, while the layer keeps hold of what is left.
struct Shared(Arc<Mutex<Option<Body>>>);

impl http_body::Body for Shared {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match slot.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|b| b.size_hint())
            .unwrap_or_default()
    }
}
