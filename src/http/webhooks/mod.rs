//! Notices other systems push to the server: a PSP's PIX webhook (`pix`). Each has its own
//! state and its own authentication (a shared secret, not the URA apps' tokens).

pub mod pix;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::post;

pub use pix::WebhookState;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<WebhookState>: FromRef<S>,
{
    // PSPs append `/pix` to the registered URL; the secret may be a segment of it. A static
    // segment wins over `{segredo}` (matchit), and the secret is never `pix` (too short).
    Router::new()
        .route("/webhooks/pix", post(pix::receive))
        .route("/webhooks/pix/pix", post(pix::receive))
        .route("/webhooks/pix/{segredo}", post(pix::receive_with_secret))
        .route(
            "/webhooks/pix/{segredo}/pix",
            post(pix::receive_with_secret),
        )
}

/// The path as it may be logged: a secret in the PIX webhook's path is replaced.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    const PREFIX: &str = "/webhooks/pix/";
    let Some(at) = path.find(PREFIX) else {
        return path.into();
    };
    let rest = &path[at + PREFIX.len()..];
    let (segment, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if segment.is_empty() || segment == "pix" {
        return path.into();
    }
    format!("{}{PREFIX}{{segredo}}{tail}", &path[..at]).into()
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn the_secret_never_reaches_the_log() {
        for (path, logged) in [
            ("/webhooks/pix", "/webhooks/pix"),
            ("/webhooks/pix/pix", "/webhooks/pix/pix"),
            (
                "/webhooks/pix/s3gr3d0-longo-demais",
                "/webhooks/pix/{segredo}",
            ),
            (
                "/base/webhooks/pix/s3gr3d0/pix",
                "/base/webhooks/pix/{segredo}/pix",
            ),
            ("/ws/ura/consultacliente/", "/ws/ura/consultacliente/"),
        ] {
            assert_eq!(loggable_path(path), logged);
        }
    }
}
