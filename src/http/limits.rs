//! Abuse limits of the URA routes: requests per app and per client address (`429` with how
//! long to wait), a pause for an address that keeps failing authentication, and the client's
//! address itself (behind a trusted reverse proxy, from `X-Forwarded-For`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use ipnet::IpNet;

use super::error::ApiError;
use crate::settings::LimitSettings;

/// How long authentication failures of one address are counted.
const FAILURE_WINDOW: Duration = Duration::from_secs(5 * 60);

pub struct Limits {
    per_app: Option<DefaultKeyedRateLimiter<i64>>,
    per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    failures_allowed: u32,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
    trusted_proxies: Vec<IpNet>,
}

fn quota(per_minute: u32) -> Option<Quota> {
    NonZeroU32::new(per_minute).map(Quota::per_minute)
}

pub use crate::settings::parse_networks;

impl Limits {
    pub fn new(settings: &LimitSettings) -> Result<Limits, String> {
        Ok(Limits {
            per_app: quota(settings.por_app).map(DefaultKeyedRateLimiter::keyed),
            per_address: quota(settings.por_endereco).map(DefaultKeyedRateLimiter::keyed),
            failures_allowed: settings.falhas_autenticacao,
            failures: Mutex::new(HashMap::new()),
            trusted_proxies: parse_networks(&settings.proxies_confiaveis)?,
        })
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy, the last address
    /// in `X-Forwarded-For` that is not one.
    pub fn client_ip(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?.ip();
        if !self.trusted(peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|ip| !self.trusted(*ip))
                .unwrap_or(peer),
        )
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|n| n.contains(&ip))
    }

    /// Before authentication: the address's own limit, and its pause after failures.
    pub fn check_address(&self, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let Some(ip) = ip else { return Ok(()) };
        if self.failures_allowed > 0 {
            let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((count, since)) = map.get(&ip) {
                let elapsed = since.elapsed();
                if *count >= self.failures_allowed && elapsed < FAILURE_WINDOW {
                    return Err(ApiError::too_many_requests(FAILURE_WINDOW - elapsed));
                }
            }
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
    pub fn auth_failed(&self, ip: Option<IpAddr>) {
        let Some(ip) = ip else { return };
        if self.failures_allowed == 0 {
            return;
        }
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        // Bounded under a spray from many addresses.
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| now.duration_since(*since) < FAILURE_WINDOW);
        }
        let entry = map.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= FAILURE_WINDOW {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
    }

    /// Forgets idle keys (called from time to time so the maps stay small).
    pub fn tidy(&self) {
        if let Some(l) = &self.per_app {
            l.retain_recent();
        }
        if let Some(l) = &self.per_address {
            l.retain_recent();
        }
        let now = Instant::now();
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (_, since)| now.duration_since(*since) < FAILURE_WINDOW);
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
            limits(&[]).client_ip(Some(peer), &headers),
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(
            limits(&["10.0.0.0/8"]).client_ip(Some(peer), &headers),
            Some("203.0.113.9".parse().unwrap())
        );
        assert!(parse_networks(&["10.0.0.0/33".into()]).is_err());
        assert_eq!(parse_networks(&["192.168.1.10".into()]).unwrap().len(), 1);
    }
}
