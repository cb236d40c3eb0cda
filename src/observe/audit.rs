//! The audit trail of URA calls: who called what, about which contract, with what outcome,
//! how long it took. Entries are queued in memory and written in batches by a task of their
//! own, so that an answer never waits on the audit; a full queue drops (and counts) entries
//! rather than slowing callers. Never a full document, a token or a password.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::store::Store;
use crate::store::audit::insert;

pub use crate::store::audit::{Entry, Filter, Row};

/// Entries waiting to be written; beyond this, new ones are dropped.
const QUEUE: usize = 20_000;
/// Rows per INSERT (12 columns: well under both databases' limits on parameters).
const BATCH: usize = 500;
/// How long the writer waits for a batch to fill before writing what it has.
const LINGER: Duration = Duration::from_millis(100);

/// Hands entries to the writer.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Entry>,
}

impl Recorder {
    pub fn new() -> (Recorder, mpsc::Receiver<Entry>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Recorder { tx }, rx)
    }

    /// Queues an entry; false when the queue was full (the entry is dropped).
    pub fn record(&self, entry: Entry) -> bool {
        self.tx.try_send(entry).is_ok()
    }
}

/// Writes queued entries in batches until the server stops, then writes what is left.
pub async fn writer(store: Store, mut rx: mpsc::Receiver<Entry>, stop: CancellationToken) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, BATCH) => {
                if n == 0 {
                    return;
                }
                // Gather for a moment: under load, a few large transactions instead of one
                // per handful of requests, each waiting its turn to write and for its fsync.
                let until = tokio::time::Instant::now() + LINGER;
                while batch.len() < BATCH {
                    let room = BATCH - batch.len();
                    match tokio::time::timeout_at(until, rx.recv_many(&mut batch, room)).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
                write_with_retry(&store, &mut batch).await;
            }
            () = stop.cancelled() => break,
        }
    }
    rx.close();
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        write_with_retry(&store, &mut batch).await;
    }
}

async fn write_with_retry(store: &Store, batch: &mut Vec<Entry>) {
    for attempt in 0..3 {
        match insert(store, batch).await {
            Ok(()) => break,
            Err(e) if attempt < 2 => {
                tracing::warn!("auditoria: gravação adiada: {e}");
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            Err(e) => tracing::error!("auditoria: {} registros perdidos: {e}", batch.len()),
        }
    }
    batch.clear();
}
