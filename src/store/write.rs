//! Write transactions, and group commit on SQLite.
//!
//! SQLite has one writer at a time, and with `synchronous = FULL` every COMMIT waits for an
//! fsync of the WAL: one answer per fsync would cap a provider's writes at the disk's fsync
//! rate. So the writers of this process take turns (a FIFO lock), each one's statements run
//! in a savepoint of a transaction shared with the writers queued at the same moment, and one
//! COMMIT makes the whole group durable. A writer's `commit` returns only after that COMMIT:
//! nothing is acknowledged before it is on disk, and a failed COMMIT fails every member.
//! A writer that ends without committing has its savepoint undone; the others are untouched.
//!
//! PostgreSQL gets a transaction per writer (it commits concurrent transactions in groups by
//! itself).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::{AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard, watch};

use super::Db;

const SAVEPOINT: &str = "SAVEPOINT ura_escrita";
const RELEASE: &str = "RELEASE ura_escrita";
const UNDO: &str = "ROLLBACK TO ura_escrita; RELEASE ura_escrita";

/// How long a writer waits for its turn before the answer becomes a 503.
const TURN_WAIT: Duration = Duration::from_secs(10);

/// How a group's COMMIT ended; `None` until it has.
type Outcome = Option<Result<(), String>>;

/// The group transaction in progress, if any.
#[derive(Default)]
pub(super) struct Slot {
    tx: Option<Transaction<'static, Db>>,
    outcome: Option<Arc<watch::Sender<Outcome>>>,
}

/// The SQLite writers of one process.
pub(super) struct GroupCommit {
    pool: AnyPool,
    slot: Arc<Mutex<Slot>>,
    /// The last writer ended without committing: its savepoint is undone before the next
    /// writer (or the COMMIT) runs.
    undo_pending: AtomicBool,
}

/// A write transaction; on SQLite, a turn inside the current group.
pub struct WriteTx(Inner);

enum Inner {
    Member(Member),
    Own(Transaction<'static, Db>),
}

struct Member {
    tx: OwnedMappedMutexGuard<Slot, Transaction<'static, Db>>,
    outcome: watch::Receiver<Outcome>,
    owner: Arc<GroupCommit>,
    released: bool,
}

impl GroupCommit {
    pub(super) fn new(pool: AnyPool) -> Arc<GroupCommit> {
        Arc::new(GroupCommit {
            pool,
            slot: Arc::new(Mutex::new(Slot::default())),
            undo_pending: AtomicBool::new(false),
        })
    }

    /// Waits for this writer's turn and opens its savepoint (and the group, when none is
    /// open: its COMMIT then queues behind the writers already waiting).
    pub(super) async fn begin(self: &Arc<Self>) -> Result<WriteTx, sqlx::Error> {
        let mut slot = tokio::time::timeout(TURN_WAIT, self.slot.clone().lock_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?;
        self.settle(&mut slot).await;
        if slot.tx.is_none() {
            slot.tx = Some(self.pool.begin_with("BEGIN IMMEDIATE").await?);
            slot.outcome = Some(Arc::new(watch::channel(None).0));
            tokio::spawn(self.clone().commit_group());
        }
        let outcome = match &slot.outcome {
            Some(sender) => sender.subscribe(),
            None => return Err(abandoned()),
        };
        if let Some(tx) = slot.tx.as_mut()
            && let Err(e) = (&mut **tx).execute(SAVEPOINT).await
        {
            fail(&mut slot, &e).await;
            return Err(e);
        }
        match OwnedMutexGuard::try_map(slot, |s| s.tx.as_mut()) {
            Ok(tx) => Ok(WriteTx(Inner::Member(Member {
                tx,
                outcome,
                owner: self.clone(),
                released: false,
            }))),
            Err(_) => Err(abandoned()),
        }
    }

    /// Undoes the savepoint of a writer that ended without committing. If that fails the
    /// group's transaction cannot be trusted (SQLite may have rolled it back whole, as it
    /// does on a full disk): the group fails and the next writer opens another.
    async fn settle(&self, slot: &mut Slot) {
        if !self.undo_pending.swap(false, Ordering::AcqRel) {
            return;
        }
        if let Some(tx) = slot.tx.as_mut()
            && let Err(e) = (&mut **tx).execute(UNDO).await
        {
            fail(slot, &e).await;
        }
    }

    /// Takes its turn behind the writers queued when the group opened and commits them all.
    async fn commit_group(self: Arc<Self>) {
        let mut slot = self.slot.clone().lock_owned().await;
        self.settle(&mut slot).await;
        // The group may have failed meanwhile (and another opened: it is committed too).
        let (Some(tx), Some(outcome)) = (slot.tx.take(), slot.outcome.take()) else {
            return;
        };
        let mut tx = tx;
        let result = match (&mut *tx).execute("COMMIT").await {
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::error!(error = %e, "falha ao gravar um grupo de escritas; nenhuma foi confirmada");
                Err(e.to_string())
            }
        };
        end(tx).await;
        outcome.send_replace(Some(result));
    }
}

/// Rolls the group back and tells its members.
async fn fail(slot: &mut Slot, error: &sqlx::Error) {
    tracing::error!(error = %error, "grupo de escritas desfeito; nenhuma delas foi confirmada");
    if let Some(tx) = slot.tx.take() {
        end(tx).await;
    }
    if let Some(outcome) = slot.outcome.take() {
        outcome.send_replace(Some(Err(error.to_string())));
    }
}

/// Hands the connection back with no transaction open, whatever SQLite did with the last one
/// (committed it, or rolled it back by itself as it does on a full disk). sqlx counts the
/// transactions it opened and forgets one only when its ROLLBACK succeeds, and a ROLLBACK with
/// no transaction open fails: a connection it still counted in a transaction would refuse
/// every later `BEGIN IMMEDIATE`. So a transaction is opened first (refused, harmlessly, when
/// one is still open) for the ROLLBACK to close.
async fn end(mut tx: Transaction<'static, Db>) {
    let _ = (&mut *tx).execute("BEGIN").await;
    if let Err(e) = tx.rollback().await {
        tracing::warn!(error = %e, "conexão de escrita não pôde ser liberada");
    }
}

/// A group that ended without telling how: its writes are not known to be on disk.
fn abandoned() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other("grupo de escritas abandonado"))
}

impl WriteTx {
    pub(super) fn own(tx: Transaction<'static, Db>) -> WriteTx {
        WriteTx(Inner::Own(tx))
    }

    /// Commits; on SQLite returns once the group holding this writer's statements is on disk.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.0 {
            Inner::Own(tx) => tx.commit().await,
            Inner::Member(mut member) => {
                // A failed RELEASE leaves `released` false: the next turn undoes the savepoint
                // (or fails the group when it is gone).
                (&mut **member.tx).execute(RELEASE).await?;
                member.released = true;
                let mut outcome = member.outcome.clone();
                drop(member);
                let result = match outcome.wait_for(Option::is_some).await {
                    Ok(done) => done.clone(),
                    Err(_) => None,
                };
                match result {
                    Some(Ok(())) => Ok(()),
                    Some(Err(message)) => Err(sqlx::Error::Io(std::io::Error::other(message))),
                    None => Err(abandoned()),
                }
            }
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        if !self.released {
            self.owner.undo_pending.store(true, Ordering::Release);
        }
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Transaction<'static, Db>;
    fn deref(&self) -> &Self::Target {
        match &self.0 {
            Inner::Member(member) => &member.tx,
            Inner::Own(tx) => tx,
        }
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match &mut self.0 {
            Inner::Member(member) => &mut member.tx,
            Inner::Own(tx) => tx,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Store;

    async fn count(store: &Store) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM meta WHERE key LIKE 'grupo-%'")
            .fetch_one(&store.pool)
            .await
            .unwrap()
    }

    /// Many writers at once: those that commit are all on disk when their commit returns;
    /// those that end without committing leave nothing, and take nothing of the others.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_commit_in_groups_and_roll_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let store = Store::open(&url).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..60 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = store.write().await.unwrap();
                sqlx::query("INSERT INTO meta (key, value) VALUES ($1, 'x')")
                    .bind(format!("grupo-{i}"))
                    .execute(&mut **tx)
                    .await
                    .unwrap();
                if i % 3 == 0 {
                    drop(tx);
                    return None;
                }
                tx.commit().await.unwrap();
                // Committed means visible to every other connection at once.
                let seen: Option<String> =
                    sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
                        .bind(format!("grupo-{i}"))
                        .fetch_optional(&store.pool)
                        .await
                        .unwrap();
                assert!(
                    seen.is_some(),
                    "writer {i} committed but its row is not there"
                );
                Some(i)
            }));
        }
        let mut committed = 0;
        for task in tasks {
            if task.await.unwrap().is_some() {
                committed += 1;
            }
        }
        assert_eq!(committed, 40);
        assert_eq!(count(&store).await, 40);
        let rolled_back: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM meta WHERE key IN ('grupo-0', 'grupo-3', 'grupo-57')",
        )
        .fetch_one(&store.pool)
        .await
        .unwrap();
        assert_eq!(rolled_back, 0);
    }

    /// A writer whose statement breaks the shared transaction (the disk is full) fails its
    /// whole group: no member is told its write is on disk when it is not.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_disk_fails_the_group_and_the_next_one_works() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("f.db").display());
        let store = Store::open(&url).await.unwrap();
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        drop(store);
        let store = Store::open_with_options(
            &url,
            super::super::StoreOptions {
                max_connections: 4,
                sqlite_max_pages: Some(u64::try_from(pages).unwrap() + 2),
            },
        )
        .await
        .unwrap();
        let big = "x".repeat(64 * 1024);
        let mut tasks = Vec::new();
        for i in 0..8 {
            let store = store.clone();
            let value = if i == 4 { big.clone() } else { "y".to_string() };
            tasks.push(tokio::spawn(async move {
                let mut tx = store.write().await?;
                sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
                    .bind(format!("grupo-{i}"))
                    .bind(value)
                    .execute(&mut **tx)
                    .await?;
                tx.commit().await.map(|()| i)
            }));
        }
        let mut ok = Vec::new();
        for task in tasks {
            if let Ok(i) = task.await.unwrap() {
                ok.push(i);
            }
        }
        assert!(
            !ok.contains(&4),
            "the write that filled the disk cannot succeed"
        );
        // Every writer told "committed" has its row; no other row is there.
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT key FROM meta WHERE key LIKE 'grupo-%' ORDER BY key")
                .fetch_all(&store.pool)
                .await
                .unwrap();
        let expected: Vec<String> = ok.iter().map(|i| format!("grupo-{i}")).collect();
        assert_eq!(rows, expected);
        // The writer is usable again.
        let mut tx = store.write().await.unwrap();
        sqlx::query("INSERT INTO meta (key, value) VALUES ('grupo-depois', 'z')")
            .execute(&mut **tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count(&store).await, i64::try_from(ok.len()).unwrap() + 1);
    }
}
