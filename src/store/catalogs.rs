//! Ticket types, work-order reasons and sectors, editable by the operator.

use crate::store::Conn;

/// An active ticket type with this id.
pub async fn ticket_type_active(conn: &mut Conn, id: i64) -> Result<bool, sqlx::Error> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ticket_types WHERE id = $1 AND active = 1")
            .bind(id)
            .fetch_one(conn)
            .await?;
    Ok(n > 0)
}

pub async fn reason_active(conn: &mut Conn, id: i64) -> Result<bool, sqlx::Error> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM work_order_reasons WHERE id = $1 AND active = 1")
            .bind(id)
            .fetch_one(conn)
            .await?;
    Ok(n > 0)
}

/// A sector by id, or by name in any case.
pub async fn sector(conn: &mut Conn, given: &str) -> Result<Option<i64>, sqlx::Error> {
    let given = given.trim();
    if let Ok(id) = given.parse::<i64>() {
        return sqlx::query_scalar("SELECT id FROM sectors WHERE id = $1 AND active = 1")
            .bind(id)
            .fetch_optional(conn)
            .await;
    }
    // Compared in Rust: SQLite's LOWER() folds ASCII only, and sector names carry accents.
    let all: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM sectors WHERE active = 1 ORDER BY id")
            .fetch_all(conn)
            .await?;
    let wanted = given.to_lowercase();
    Ok(all
        .into_iter()
        .find(|(_, name)| name.trim().to_lowercase() == wanted)
        .map(|(id, _)| id))
}

/// The three catalogs an integrator configures a bot from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalog {
    TicketTypes,
    WorkOrderReasons,
    Sectors,
}

/// One entry of a catalog, active or not.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub description: String,
    pub active: i64,
}

/// Every entry of the catalog, inactive ones included, by id.
pub async fn list(conn: &mut Conn, catalog: Catalog) -> Result<Vec<Entry>, sqlx::Error> {
    let sql = match catalog {
        Catalog::TicketTypes => "SELECT id, description, active FROM ticket_types ORDER BY id",
        Catalog::WorkOrderReasons => {
            "SELECT id, description, active FROM work_order_reasons ORDER BY id"
        }
        Catalog::Sectors => "SELECT id, name AS description, active FROM sectors ORDER BY id",
    };
    sqlx::query_as(sql).fetch_all(conn).await
}
