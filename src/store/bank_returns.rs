//! Bank return files as imported (`bank_return_files`) and what each of their lines did
//! (`bank_return_lines`); the invoices a file's nosso números may be, read in batches.

use std::collections::HashSet;

use sqlx::AssertSqlSafe;

use super::import::{fetch_in, tuples};
use super::{Backend, Conn, Store};
use crate::domain::states::InvoiceStatus;

/// Rows per multi-row statement (24 columns: well under both backends' bind limits).
const ROWS_PER_STATEMENT: usize = 400;

/// Key of the advisory lock that makes the batches of concurrent imports take turns on
/// PostgreSQL (SQLite's writer is one at a time already): a batch's look at what was applied
/// before sees every batch committed before it.
const IMPORT_LOCK: i64 = 0x7572_615f_7265_7431; // "ura_ret1"

/// A return file as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FileRow {
    pub id: i64,
    pub sha256: String,
    pub name: String,
    pub bank_code: String,
    pub layout: String,
    pub agreement: String,
    pub file_seq: Option<i64>,
    pub generated_on: Option<String>,
    pub entries: i64,
    pub paid: i64,
    pub already_paid: i64,
    pub registered: i64,
    pub unknown: i64,
    pub refused: i64,
    pub paid_cents: i64,
    pub fee_cents: i64,
    pub actor: String,
    pub created_at: String,
    pub finished_at: Option<String>,
}

const FILE_COLUMNS: &str = "id, sha256, name, bank_code, layout, agreement, file_seq, \
     generated_on, entries, paid, already_paid, registered, unknown, refused, paid_cents, \
     fee_cents, actor, created_at, finished_at";

/// A file about to be imported.
#[derive(Debug, Clone)]
pub struct NewFile<'a> {
    pub sha256: &'a str,
    pub name: &'a str,
    pub bank_code: &'a str,
    pub layout: &'a str,
    pub agreement: &'a str,
    pub file_seq: Option<i64>,
    pub generated_on: Option<String>,
    pub entries: i64,
    pub actor: &'a str,
    pub created_at: &'a str,
}

/// One line of a file and what it did.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LineRow {
    pub line: i64,
    pub our_number: String,
    pub our_number_key: String,
    pub document_number: Option<String>,
    pub occurrence: String,
    pub occurrence_text: String,
    pub kind: String,
    pub reasons: String,
    pub face_cents: Option<i64>,
    pub paid_cents: i64,
    pub fee_cents: i64,
    pub discount_cents: i64,
    pub interest_cents: i64,
    pub rebate_cents: i64,
    pub paid_on: Option<String>,
    pub credited_on: Option<String>,
    pub outcome: String,
    pub reason: Option<String>,
    pub invoice_id: Option<i64>,
    pub identity: Option<String>,
}

const LINE_COLUMNS: &str = "line, our_number, our_number_key, document_number, occurrence, \
     occurrence_text, kind, reasons, face_cents, paid_cents, fee_cents, discount_cents, \
     interest_cents, rebate_cents, paid_on, credited_on, outcome, reason, invoice_id, identity";

/// An invoice a nosso número may name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    pub id: i64,
    pub our_number: String,
    pub status: InvoiceStatus,
    pub amount_cents: i64,
    pub bank_code: Option<String>,
    pub agreement: Option<String>,
    pub our_number_key: String,
    pub paid_on: Option<String>,
}

/// An occurrence applied before: by which file and line, with what outcome.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Applied {
    pub identity: String,
    pub file_id: i64,
    pub line: i64,
    pub outcome: String,
    pub invoice_id: Option<i64>,
}

/// The file with this SHA-256, if it was imported (or began to be).
pub async fn by_sha(conn: &mut Conn, sha256: &str) -> Result<Option<FileRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {FILE_COLUMNS} FROM bank_return_files WHERE sha256 = $1"
    )))
    .bind(sha256)
    .fetch_optional(conn)
    .await
}

pub async fn by_id(store: &Store, id: i64) -> Result<Option<FileRow>, sqlx::Error> {
    let mut conn = store.acquire().await?;
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {FILE_COLUMNS} FROM bank_return_files WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
}

/// Records a file about to be imported; its id. A file of the same SHA-256 recorded first
/// by another import refuses this insert (unique violation): the caller reads that one.
pub async fn insert_file(conn: &mut Conn, f: &NewFile<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO bank_return_files (sha256, name, bank_code, layout, agreement, file_seq, \
         generated_on, entries, actor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(f.sha256)
    .bind(f.name)
    .bind(f.bank_code)
    .bind(f.layout)
    .bind(f.agreement)
    .bind(f.file_seq)
    .bind(f.generated_on.clone())
    .bind(f.entries)
    .bind(f.actor)
    .bind(f.created_at)
    .fetch_one(conn)
    .await
}

/// Takes the import turn for this transaction (PostgreSQL; SQLite's writer is one already).
pub async fn lock(conn: &mut Conn, backend: Backend) -> Result<(), sqlx::Error> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(IMPORT_LOCK)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The lines of the file already stored between `first` and `last` (an interrupted import
/// that is being resumed, or another import of the same file that went first).
pub async fn stored_lines(
    conn: &mut Conn,
    file_id: i64,
    first: i64,
    last: i64,
) -> Result<HashSet<i64>, sqlx::Error> {
    let lines: Vec<i64> = sqlx::query_scalar(
        "SELECT line FROM bank_return_lines WHERE file_id = $1 AND line BETWEEN $2 AND $3",
    )
    .bind(file_id)
    .bind(first)
    .bind(last)
    .fetch_all(conn)
    .await?;
    Ok(lines.into_iter().collect())
}

/// Which of these occurrence identities were applied before, and where.
pub async fn applied(conn: &mut Conn, identities: &[String]) -> Result<Vec<Applied>, sqlx::Error> {
    fetch_in(
        conn,
        "SELECT identity, file_id, line, outcome, invoice_id FROM bank_return_lines \
         WHERE identity IN ({in})",
        identities,
    )
    .await
}

/// The invoices whose matching key is one of `keys`.
pub async fn candidates(conn: &mut Conn, keys: &[String]) -> Result<Vec<Candidate>, sqlx::Error> {
    fetch_in(
        conn,
        "SELECT id, our_number, status, amount_cents, bank_code, agreement, our_number_key, \
         paid_on \
         FROM invoices WHERE our_number_key IN ({in})",
        keys,
    )
    .await
}

/// Stores the lines of a batch.
pub async fn insert_lines(
    conn: &mut Conn,
    file_id: i64,
    rows: &[LineRow],
    created_at: &str,
) -> Result<(), sqlx::Error> {
    const COLS: usize = 22;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let tuples = tuples(conn, chunk.len(), COLS);
        let sql = format!(
            "INSERT INTO bank_return_lines (file_id, {LINE_COLUMNS}, created_at) VALUES {tuples}"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for l in chunk {
            query = query
                .bind(file_id)
                .bind(l.line)
                .bind(&l.our_number)
                .bind(&l.our_number_key)
                .bind(&l.document_number)
                .bind(&l.occurrence)
                .bind(&l.occurrence_text)
                .bind(&l.kind)
                .bind(&l.reasons)
                .bind(l.face_cents)
                .bind(l.paid_cents)
                .bind(l.fee_cents)
                .bind(l.discount_cents)
                .bind(l.interest_cents)
                .bind(l.rebate_cents)
                .bind(&l.paid_on)
                .bind(&l.credited_on)
                .bind(&l.outcome)
                .bind(&l.reason)
                .bind(l.invoice_id)
                .bind(&l.identity)
                .bind(created_at);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// An event a line leaves on its invoice's history.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub invoice_id: i64,
    pub kind: &'static str,
    pub detail: String,
    pub amount_cents: Option<i64>,
}

/// Records a batch's events on their invoices' history (`invoice_events`, source `retorno`),
/// in the order given.
pub async fn insert_events(
    conn: &mut Conn,
    events: &[NewEvent],
    created_at: &str,
) -> Result<(), sqlx::Error> {
    const COLS: usize = 6;
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        let tuples = tuples(conn, chunk.len(), COLS);
        let sql = format!(
            "INSERT INTO invoice_events (invoice_id, source, kind, detail, amount_cents, \
             created_at) VALUES {tuples}"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for e in chunk {
            query = query
                .bind(e.invoice_id)
                .bind("retorno")
                .bind(e.kind)
                .bind(&e.detail)
                .bind(e.amount_cents)
                .bind(created_at);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Counts the file's lines per outcome into its row and marks it finished.
pub async fn finish(conn: &mut Conn, file_id: i64, finished_at: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE bank_return_files SET \
         paid = (SELECT COUNT(*) FROM bank_return_lines WHERE file_id = $1 AND outcome = 'pago'), \
         already_paid = (SELECT COUNT(*) FROM bank_return_lines WHERE file_id = $1 AND outcome = 'ja_pago'), \
         registered = (SELECT COUNT(*) FROM bank_return_lines WHERE file_id = $1 AND outcome = 'registrado'), \
         unknown = (SELECT COUNT(*) FROM bank_return_lines WHERE file_id = $1 AND outcome = 'desconhecido'), \
         refused = (SELECT COUNT(*) FROM bank_return_lines WHERE file_id = $1 AND outcome = 'recusado'), \
         paid_cents = (SELECT COALESCE(SUM(paid_cents), 0) FROM bank_return_lines WHERE file_id = $1 AND outcome = 'pago'), \
         fee_cents = (SELECT COALESCE(SUM(fee_cents), 0) FROM bank_return_lines WHERE file_id = $1), \
         finished_at = $2 WHERE id = $1",
    )
    .bind(file_id)
    .bind(finished_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A page of files, newest first, and how many there are.
pub async fn page(
    store: &Store,
    offset: i64,
    limit: i64,
) -> Result<(Vec<FileRow>, i64), sqlx::Error> {
    let mut conn = store.acquire().await?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bank_return_files")
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {FILE_COLUMNS} FROM bank_return_files ORDER BY id DESC LIMIT $1 OFFSET $2"
    )))
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    Ok((rows, total))
}

/// The file's lines, in file order.
pub async fn lines_of(store: &Store, file_id: i64) -> Result<Vec<LineRow>, sqlx::Error> {
    let mut conn = store.acquire().await?;
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {LINE_COLUMNS} FROM bank_return_lines WHERE file_id = $1 ORDER BY line"
    )))
    .bind(file_id)
    .fetch_all(&mut *conn)
    .await
}

/// Whether the invoice exists (its history may be empty).
pub async fn invoice_exists(store: &Store, invoice_id: i64) -> Result<bool, sqlx::Error> {
    let mut conn = store.acquire().await?;
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM invoices WHERE id = $1")
        .bind(invoice_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(found.is_some())
}
