//! Multi-row SQL for the import: a batch is read with one `IN (...)` and written with one
//! multi-row `INSERT ... ON CONFLICT`, instead of one statement per line.

use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe};

use crate::store::Conn;

/// Rows per statement: well under SQLite's and PostgreSQL's limits on parameters.
pub const ROWS_PER_STATEMENT: usize = 500;

/// `$from, $from+1, ...` (n placeholders).
pub fn params(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, $2), ($3, $4)`: `rows` tuples of `cols` placeholders.
pub fn tuples(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", params(1 + r * cols, cols)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `select` (whose `{in}` is replaced by the placeholders) for the keys, in chunks.
pub async fn fetch_in<T, K>(
    conn: &mut Conn,
    select: &str,
    keys: &[K],
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin,
    K: for<'q> sqlx::Encode<'q, Any> + sqlx::Type<Any> + Clone + Send + Sync + 'static,
{
    let mut out = Vec::new();
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let sql = select.replace("{in}", &params(1, chunk.len()));
        let mut query = sqlx::query_as::<_, T>(AssertSqlSafe(sql));
        for key in chunk {
            query = query.bind(key.clone());
        }
        out.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// The keys sorted, each once.
pub fn unique<K: Ord + Clone>(keys: impl IntoIterator<Item = K>) -> Vec<K> {
    let mut keys: Vec<K> = keys.into_iter().collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Which of the ids exist in `table`.
pub async fn existing_ids(
    conn: &mut Conn,
    table: &str,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashSet<i64>, sqlx::Error> {
    let ids = unique(ids);
    let found: Vec<(i64,)> = fetch_in(
        conn,
        &format!("SELECT CAST(id AS BIGINT) FROM {table} WHERE id IN ({{in}})"),
        &ids,
    )
    .await?;
    Ok(found.into_iter().map(|(id,)| id).collect())
}

/// Every id of a small table (plans, POPs, NAS).
pub async fn all_ids(
    conn: &mut Conn,
    table: &str,
) -> Result<std::collections::HashSet<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT CAST(id AS BIGINT) FROM {table}"
    )))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// PostgreSQL: moves the table's id sequence past the ids the import wrote, so that a row
/// added later without an id does not collide with an imported one.
pub async fn advance_sequence(conn: &mut Conn, table: &str) -> Result<(), sqlx::Error> {
    let sequence: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT pg_get_serial_sequence('{table}', 'id')"
    )))
    .fetch_one(&mut *conn)
    .await?;
    let Some(sequence) = sequence else {
        return Ok(());
    };
    sqlx::query(AssertSqlSafe(format!(
        "SELECT setval('{sequence}', m) FROM (SELECT MAX(CAST(id AS BIGINT)) AS m FROM {table}) t \
         WHERE m >= (SELECT last_value FROM {sequence})"
    )))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(params(3, 2), "$3, $4");
        assert_eq!(tuples(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
