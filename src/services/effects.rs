//! The effects that follow a commit (a disconnect at the NAS, a message's delivery), run off
//! the caller's path, a bounded number at a time. A batch (a dunning run, a return file that
//! pays thousands of invoices) would otherwise open thousands of SMTP sessions, SMS requests
//! and RFC 5176 exchanges at once, and hold a waiting task for every one of them: batch
//! callers `pace` themselves on the backlog instead.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

/// Effects running at once (each one SMTP session, SMS request or NAS exchange).
const RUNNING: usize = 32;
/// Effects spawned and not yet done past which a batch waits before its next contract.
const BACKLOG: usize = 256;
/// How often a paced batch looks at the backlog again.
const PACE_POLL: Duration = Duration::from_millis(2);

#[derive(Clone)]
pub struct Effects {
    tracker: TaskTracker,
    running: Arc<Semaphore>,
}

impl Default for Effects {
    fn default() -> Self {
        Effects {
            tracker: TaskTracker::new(),
            running: Arc::new(Semaphore::new(RUNNING)),
        }
    }
}

impl Effects {
    /// Runs `effect` when a slot is free; a command waits for it before it exits.
    pub fn spawn(&self, effect: impl Future<Output = ()> + Send + 'static) {
        let running = self.running.clone();
        self.tracker.spawn(async move {
            // The semaphore is never closed: a failed acquire cannot happen; run regardless.
            let _slot = running.acquire_owned().await.ok();
            effect.await;
        });
    }

    /// Waits while the backlog is full: a batch's next contract then adds no more effects
    /// than are being done.
    pub async fn pace(&self) {
        while self.tracker.len() >= BACKLOG {
            tokio::time::sleep(PACE_POLL).await;
        }
    }

    /// Whether a batch's effects may start now: false while the backlog is full. A batch
    /// that would rather not wait (the dunning run's notices) leaves its work to a queue
    /// of its own (the outbox) instead.
    pub fn has_room(&self) -> bool {
        self.tracker.len() < BACKLOG
    }

    /// Waits for every effect under way (a command, before it exits).
    pub async fn settle(&self) {
        self.tracker.close();
        self.tracker.wait().await;
        self.tracker.reopen();
    }

    /// Effects spawned and not yet done.
    pub fn backlog(&self) -> usize {
        self.tracker.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Never more than `RUNNING` at once; `pace` holds a batch while the backlog is full;
    /// `settle` returns once every effect has run.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bounded_paced_and_settled() {
        let effects = Effects::default();
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let mut most_backlog = 0;
        for _ in 0..(BACKLOG * 3) {
            effects.pace().await;
            most_backlog = most_backlog.max(effects.backlog());
            let (now, peak, done) = (now.clone(), peak.clone(), done.clone());
            effects.spawn(async move {
                let at = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(at, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(1)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        assert!(most_backlog < BACKLOG, "backlog reached {most_backlog}");
        effects.settle().await;
        assert_eq!(done.load(Ordering::SeqCst), BACKLOG * 3);
        let peak = peak.load(Ordering::SeqCst);
        assert!((1..=RUNNING).contains(&peak), "{peak} at once");
        assert_eq!(effects.backlog(), 0);
        // Still usable after settling.
        let done2 = done.clone();
        effects.spawn(async move {
            done2.fetch_add(1, Ordering::SeqCst);
        });
        effects.settle().await;
        assert_eq!(done.load(Ordering::SeqCst), BACKLOG * 3 + 1);
    }
}
