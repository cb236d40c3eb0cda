//! The hottest reads on SQLite, run on the calling thread.
//!
//! sqlx runs each SQLite connection on a worker thread of its own: every query is a message
//! to that thread and a wake-up back, and under load the context switches cost far more than
//! the query (about 40 % of the samples of `consultacliente` in `perf`, BENCHMARKS.md). An
//! indexed read in a WAL database takes microseconds and never waits on the writer, so these
//! reads run right where the request is, on a read-only connection kept per thread (each
//! statement prepared once). Anything unexpected (a locked file, a schema being migrated)
//! answers `None` and the caller goes through the pool as before.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// Statements kept prepared per connection: the few hot reads.
const STATEMENT_CACHE: usize = 32;

/// Each read connection's page cache, in KiB (see `open`).
const PAGE_CACHE_KIB: i64 = 1_024;

/// A reader never waits on the writer in WAL mode; what could make it wait (another process
/// holding an exclusive lock) should not hold a request's thread for long.
const BUSY_TIMEOUT: Duration = Duration::from_millis(50);

/// The database file the hot reads open; one per `Store`.
#[derive(Debug, Clone)]
pub struct LocalReads {
    path: Arc<PathBuf>,
    id: u64,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's read connections, one per open store (usually one).
    static CONNECTIONS: RefCell<Vec<(u64, Connection)>> = const { RefCell::new(Vec::new()) };
}

impl LocalReads {
    /// For a SQLite file; None for an in-memory database, which other connections cannot see.
    pub fn for_url(url: &str) -> Option<LocalReads> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return None;
        }
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse().ok()?;
        Some(LocalReads {
            path: Arc::new(options.get_filename().to_path_buf()),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Runs `read` on this thread's connection; None when it could not (the caller then
    /// reads through the pool).
    pub fn read<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Option<T> {
        let outcome = CONNECTIONS.try_with(|cell| {
            let mut connections = cell.try_borrow_mut().ok()?;
            let index = match connections.iter().position(|(id, _)| *id == self.id) {
                Some(index) => index,
                None => {
                    let conn = open(&self.path)
                        .map_err(|e| {
                            tracing::debug!(error = %e, "leitura local indisponível");
                        })
                        .ok()?;
                    connections.push((self.id, conn));
                    connections.len() - 1
                }
            };
            match read(&connections[index].1) {
                Ok(value) => Some(value),
                Err(e) => {
                    tracing::debug!(error = %e, "leitura local falhou; lendo pelo pool");
                    // A connection in a bad state is not kept.
                    if !matches!(e, rusqlite::Error::QueryReturnedNoRows) {
                        connections.swap_remove(index);
                    }
                    None
                }
            }
        });
        outcome.ok().flatten()
    }
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // SQLite empties a reader's page cache whenever another connection has committed (the
    // audit trail does, many times a second under load), so a large cache is mostly freed and
    // allocated again. 1 MiB comes whole from the connection's one bulk allocation
    // (`SQLITE_DEFAULT_PCACHE_INITSZ`, .cargo/config.toml); 8 MiB answered 8 % to 19 % fewer
    // `consultacliente` a second, 2 MiB no more (BENCHMARKS.md).
    conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)?;
    // Read-only: also refuse writes that a bug might send this way.
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_was_committed_and_declines_memory() {
        assert!(LocalReads::for_url("sqlite::memory:").is_none());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (7);",
            )
            .unwrap();
        let reads = LocalReads::for_url(&format!("sqlite://{}", path.display())).unwrap();
        let read = |c: &Connection| c.query_row("SELECT SUM(v) FROM t", [], |r| r.get::<_, i64>(0));
        assert_eq!(reads.read(read), Some(7));
        writer.execute("INSERT INTO t VALUES (5)", []).unwrap();
        assert_eq!(
            reads.read(read),
            Some(12),
            "a later read sees the new commit"
        );
        // A write through the read connection is refused, and the caller is told to fall back.
        assert_eq!(reads.read(|c| c.execute("DELETE FROM t", [])), None);
        assert_eq!(reads.read(read), Some(12));
    }

    /// The page-cache settings measured in BENCHMARKS.md: lost if the build stops reading
    /// .cargo/config.toml, or if the reader's pragma changes.
    #[test]
    fn readers_keep_a_small_page_cache_taken_in_one_allocation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER);")
            .unwrap();
        let reads = LocalReads::for_url(&format!("sqlite://{}", path.display())).unwrap();
        let cache = reads.read(|c| c.query_row("PRAGMA cache_size", [], |r| r.get::<_, i64>(0)));
        assert_eq!(cache, Some(-PAGE_CACHE_KIB));
        let options = reads
            .read(|c| {
                let mut stmt = c.prepare("PRAGMA compile_options")?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                rows.collect::<rusqlite::Result<Vec<String>>>()
            })
            .unwrap();
        let has = |o: &str| options.iter().any(|x| x == o);
        assert!(has("DEFAULT_PCACHE_INITSZ=-1024"), "{options:?}");
        assert!(has("DEFAULT_MEMSTATUS=0"), "{options:?}");
        assert!(!has("ENABLE_MEMORY_MANAGEMENT"), "{options:?}");
    }
}
