//! Failed authentications counted per key (a client address) in a window: after too many,
//! the key waits until the window of its first failure ends. The clock is passed in, so the
//! rule is tested without waiting; the caller keeps the counter behind its own lock.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Keys kept before the expired ones are swept on the next failure (a spray from many
/// addresses cannot grow the map without bound).
const SWEEP_ABOVE: usize = 100_000;

pub struct Failures<K> {
    allowed: u32,
    window: Duration,
    seen: HashMap<K, (u32, Instant)>,
}

impl<K: Hash + Eq> Failures<K> {
    /// `allowed` failures per `window` (0: never paused).
    pub fn new(allowed: u32, window: Duration) -> Failures<K> {
        Failures {
            allowed,
            window,
            seen: HashMap::new(),
        }
    }

    /// How long the key must still wait, when it is paused.
    pub fn paused(&self, key: &K, now: Instant) -> Option<Duration> {
        if self.allowed == 0 {
            return None;
        }
        let (count, since) = self.seen.get(key)?;
        let elapsed = now.saturating_duration_since(*since);
        (*count >= self.allowed && elapsed < self.window).then(|| self.window - elapsed)
    }

    /// Counts one failure of the key.
    pub fn failed(&mut self, key: K, now: Instant) {
        if self.allowed == 0 {
            return;
        }
        if self.seen.len() > SWEEP_ABOVE {
            self.tidy(now);
        }
        let window = self.window;
        let entry = self.seen.entry(key).or_insert((0, now));
        if now.saturating_duration_since(entry.1) >= window {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
    }

    /// Forgets the keys whose window has ended.
    pub fn tidy(&mut self, now: Instant) {
        let window = self.window;
        self.seen
            .retain(|_, (_, since)| now.saturating_duration_since(*since) < window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_pauses_after_its_allowed_failures_until_the_window_ends() {
        let window = Duration::from_secs(300);
        let mut f = Failures::new(3, window);
        let t0 = Instant::now();
        for _ in 0..2 {
            f.failed("a", t0);
        }
        assert_eq!(f.paused(&"a", t0), None);
        f.failed("a", t0);
        assert_eq!(f.paused(&"a", t0), Some(window));
        assert_eq!(f.paused(&"b", t0), None, "another key is not paused");
        let later = t0 + Duration::from_secs(100);
        assert_eq!(f.paused(&"a", later), Some(Duration::from_secs(200)));
        assert_eq!(f.paused(&"a", t0 + window), None);
        // A failure after the window starts a new count.
        f.failed("a", t0 + window);
        assert_eq!(f.paused(&"a", t0 + window), None);
        f.tidy(t0 + window * 3);
        assert!(f.seen.is_empty());
    }

    #[test]
    fn zero_allowed_never_pauses() {
        let mut f = Failures::new(0, Duration::from_secs(1));
        let t0 = Instant::now();
        for _ in 0..10 {
            f.failed(1, t0);
        }
        assert_eq!(f.paused(&1, t0), None);
    }
}
