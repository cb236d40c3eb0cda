//! The wake-up of the agents' live console: an event was recorded (here, or in another
//! process and announced by PostgreSQL), and this process's live streams should look.

/// Cheap to clone; every clone wakes the same streams.
#[derive(Clone)]
pub struct LiveHub {
    wake: tokio::sync::broadcast::Sender<()>,
}

impl Default for LiveHub {
    fn default() -> Self {
        LiveHub {
            wake: tokio::sync::broadcast::channel(64).0,
        }
    }
}

impl LiveHub {
    /// Tells this process's live streams to look for new events.
    pub fn notify(&self) {
        let _ = self.wake.send(());
    }

    /// Whether any live stream of this process listens.
    pub fn has_listeners(&self) -> bool {
        self.wake.receiver_count() > 0
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<()> {
        self.wake.subscribe()
    }
}
