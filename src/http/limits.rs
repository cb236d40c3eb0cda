//! Abuse limits of the URA routes: requests per app and per client address (`429` with how
//! long to wait), a pause for an address that keeps failing authentication, and the client's
//! address itself (behind a trusted reverse proxy, from `X-Forwarded-For`).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use ipnet::IpNet;

use super::error::ApiError;
use crate::domain::failures::Failures;
use crate::domain::forwarded;
use crate::settings::LimitSettings;

/// How long authentication failures of one address are counted.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(5 * 60);

pub struct Limits {
    per_app: Option<DefaultKeyedRateLimiter<i64>>,
    per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    failures: Mutex<Failures<IpAddr>>,
    trusted_proxies: Vec<IpNet>,
}

/// The client of a request as the limits see it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Client {
    /// The client's address; None when a trusted proxy forwarded something unreadable
    /// (it then matches no network allowlist).
    pub ip: Option<IpAddr>,
    /// The address its requests are counted under: the client's, else the proxy's.
    pub key: Option<IpAddr>,
}

fn quota(per_minute: u32) -> Option<Quota> {
    NonZeroU32::new(per_minute).map(Quota::per_minute)
}

pub use crate::settings::parse_networks;

/// The client of a request from `peer` (see `domain::forwarded`): the peer, or, when the
/// peer is one of `trusted` proxies, the first untrusted `X-Forwarded-For` entry from the
/// right.
pub fn client(trusted: &[IpNet], peer: Option<SocketAddr>, headers: &HeaderMap) -> Client {
    let Some(peer) = peer.map(|p| p.ip().to_canonical()) else {
        return Client::default();
    };
    let values = headers
        .get_all("x-forwarded-for")
        .iter()
        // A value that is not text is unreadable, like an unreadable entry.
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    match forwarded::client(peer, values, |ip| trusted.iter().any(|n| n.contains(&ip))) {
        forwarded::Client::Known(ip) => Client {
            ip: Some(ip),
            key: Some(ip),
        },
        forwarded::Client::Unknown => Client {
            ip: None,
            key: Some(peer),
        },
    }
}

impl Limits {
    pub fn new(settings: &LimitSettings) -> Result<Limits, String> {
        Ok(Limits {
            per_app: quota(settings.por_app).map(DefaultKeyedRateLimiter::keyed),
            per_address: quota(settings.por_endereco).map(DefaultKeyedRateLimiter::keyed),
            failures: Mutex::new(Failures::new(settings.falhas_autenticacao, FAILURE_WINDOW)),
            trusted_proxies: parse_networks(&settings.proxies_confiaveis)?,
        })
    }

    /// The client of a request (see [`client`]).
    pub fn client(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Client {
        client(&self.trusted_proxies, peer, headers)
    }

    /// Before authentication: the address's own limit, and its pause after failures.
    pub fn check_address(&self, client: Client) -> Result<(), ApiError> {
        let Some(ip) = client.key else { return Ok(()) };
        let paused = self
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .paused(&ip, Instant::now());
        if let Some(wait) = paused {
            return Err(ApiError::too_many_requests(wait));
        }
        if let Some(limiter) = &self.per_address {
            limiter.check_key(&ip).map_err(|not_until| {
                ApiError::too_many_requests(not_until.wait_time_from(DefaultClock::default().now()))
            })?;
        }
        Ok(())
    }

    /// After authentication: the app's limit.
    pub fn check_app(&self, app_id: i64) -> Result<(), ApiError> {
        if let Some(limiter) = &self.per_app {
            limiter.check_key(&app_id).map_err(|not_until| {
                ApiError::too_many_requests(not_until.wait_time_from(DefaultClock::default().now()))
            })?;
        }
        Ok(())
    }

    /// Counts a failed authentication of the address.
    pub fn auth_failed(&self, client: Client) {
        let Some(ip) = client.key else { return };
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failed(ip, Instant::now());
    }

    /// Forgets idle keys (called from time to time so the maps stay small).
    pub fn tidy(&self) {
        if let Some(l) = &self.per_app {
            l.retain_recent();
        }
        if let Some(l) = &self.per_address {
            l.retain_recent();
        }
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .tidy(Instant::now());
    }
}

/// Refuses a request whose target or headers are larger than a client needs (`414`, `431`),
/// before any work is done on it.
pub async fn header_sizes(
    limit: usize,
    request: axum::http::Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if limit > 0 {
        let target = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().len())
            .unwrap_or(0);
        if target > limit {
            return ApiError::UriTooLong.into_response();
        }
        let headers: usize = request
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum();
        if headers > limit {
            return ApiError::HeadersTooLarge.into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(proxies: &[&str]) -> Limits {
        Limits::new(&LimitSettings {
            proxies_confiaveis: proxies.iter().map(|s| s.to_string()).collect(),
            ..LimitSettings::default()
        })
        .unwrap()
    }

    #[test]
    fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 10.0.0.2".parse().unwrap());
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        assert_eq!(
            limits(&[]).client(Some(peer), &headers).ip,
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(
            limits(&["10.0.0.0/8"]).client(Some(peer), &headers).ip,
            Some("203.0.113.9".parse().unwrap())
        );
        // Unreadable: no address for the allowlists, counted under the proxy's.
        headers.insert("x-forwarded-for", "203.0.113.9, unknown".parse().unwrap());
        let c = limits(&["10.0.0.0/8"]).client(Some(peer), &headers);
        assert_eq!(c.ip, None);
        assert_eq!(c.key, Some("10.0.0.1".parse().unwrap()));
        assert!(parse_networks(&["10.0.0.0/33".into()]).is_err());
        assert_eq!(parse_networks(&["192.168.1.10".into()]).unwrap().len(), 1);
    }
}
