//! PostgreSQL's `LISTEN`, for what this process keeps in step with other processes on the
//! same database: the console's live streams and the apps' credentials. One connection
//! listens on every channel; a lost connection is made again.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// What the listening connection reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard<'a> {
    /// Listening (again): whatever was announced before may have been missed.
    Listening,
    /// A notification on this channel.
    Notice(&'a str),
    /// The connection is lost: nothing is heard until `Listening` again.
    Lost,
}

/// Listens on `channels` until `stop`, telling `on` what it hears.
pub async fn relay(
    database_url: &str,
    channels: &[&str],
    stop: CancellationToken,
    on: impl Fn(Heard<'_>),
) {
    loop {
        match connect(database_url, channels).await {
            Ok(mut listener) => {
                on(Heard::Listening);
                loop {
                    tokio::select! {
                        received = listener.try_recv() => match received {
                            Ok(Some(notice)) => on(Heard::Notice(notice.channel())),
                            // sqlx would connect again by itself, but silently: made again
                            // here, so that `Listening` says when nothing can be missed.
                            Ok(None) => {
                                tracing::warn!("LISTEN: conexão perdida");
                                break;
                            }
                            Err(e) => {
                                tracing::warn!("LISTEN: conexão perdida: {e}");
                                break;
                            }
                        },
                        () = stop.cancelled() => return,
                    }
                }
                on(Heard::Lost);
            }
            Err(e) => tracing::warn!("LISTEN indisponível: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = stop.cancelled() => return,
        }
    }
}

async fn connect(
    database_url: &str,
    channels: &[&str],
) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(database_url).await?;
    listener.listen_all(channels.iter().copied()).await?;
    Ok(listener)
}
