//! Whether PostgreSQL answers, watched from a connection of its own. A pool cannot tell a
//! database that is away from one that is busy: both make requests wait. This watcher pings
//! every 200 ms; when the database stops answering, requests (also those already waiting
//! on it) are answered `503` at once instead of at their timeout, and when it answers again
//! they go through without a restart.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{Connection, PgConnection};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

const EVERY: Duration = Duration::from_millis(200);
/// A ping slower than this counts as slow.
const PING_TIMEOUT: Duration = Duration::from_millis(500);
/// A refused or broken connection means "down" at once (stopped, restarting); slowness only
/// after this many slow pings in a row (about two seconds), because a database busy with a
/// burst of writes may be slow to answer without being away.
const SLOW_PINGS_DOWN: u32 = 4;

pub struct DbHealth {
    down: watch::Receiver<bool>,
}

impl DbHealth {
    /// A health that is never down (SQLite is a file of this process).
    pub fn always_up() -> Arc<DbHealth> {
        let (tx, rx) = watch::channel(false);
        // The receiver alone keeps the value; the sender may go.
        drop(tx);
        Arc::new(DbHealth { down: rx })
    }

    /// Starts watching PostgreSQL at `url` until `stop` is cancelled.
    pub fn watch_postgres(url: String, stop: CancellationToken) -> Arc<DbHealth> {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            let mut conn: Option<PgConnection> = None;
            let mut slow = 0u32;
            let mut ticker = tokio::time::interval(EVERY);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    () = stop.cancelled() => return,
                }
                let down = match ping(&url, &mut conn).await {
                    Ping::Ok => {
                        slow = 0;
                        false
                    }
                    Ping::Slow => {
                        slow += 1;
                        slow >= SLOW_PINGS_DOWN
                    }
                    Ping::Failed => true,
                };
                if *tx.borrow() != down {
                    if down {
                        tracing::error!(
                            "PostgreSQL não responde: requisições recebem 503 até que volte"
                        );
                    } else {
                        tracing::info!("PostgreSQL voltou a responder");
                    }
                    let _ = tx.send(down);
                }
            }
        });
        Arc::new(DbHealth { down: rx })
    }

    /// Resolves once the database is down (at once if it is already); never for a database
    /// that cannot go down.
    pub async fn wait_down(&self) {
        let mut rx = self.down.clone();
        if rx.wait_for(|down| *down).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

enum Ping {
    Ok,
    Slow,
    Failed,
}

async fn ping(url: &str, conn: &mut Option<PgConnection>) -> Ping {
    if conn.is_none() {
        match tokio::time::timeout(PING_TIMEOUT, PgConnection::connect(url)).await {
            Ok(Ok(c)) => *conn = Some(c),
            Ok(Err(_)) => return Ping::Failed,
            Err(_) => return Ping::Slow,
        }
    }
    let Some(c) = conn.as_mut() else {
        return Ping::Failed;
    };
    match tokio::time::timeout(PING_TIMEOUT, c.ping()).await {
        Ok(Ok(())) => Ping::Ok,
        // A connection that failed or hung is not trusted again.
        Ok(Err(_)) => {
            *conn = None;
            Ping::Failed
        }
        Err(_) => {
            *conn = None;
            Ping::Slow
        }
    }
}
