//! What the agents' console reads and writes: transferred calls (notifications) and what
//! became of them, the event log the live stream replays, and what a caller's card shows.

use chrono::{DateTime, Utc};

use super::listen::Heard;
use super::{Backend, Conn, Store, ts};
use crate::domain::states::{ContractStatus, NotificationState, PromiseState};

/// What happened to a call, in the order it usually happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The IVR transferred the caller (`notificacaosistema`).
    New,
    /// An agent took the call.
    Taken,
    /// An agent opened a ticket from it.
    Ticket,
    /// An agent marked it handled.
    Handled,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::New => "nova",
            EventKind::Taken => "atendida",
            EventKind::Ticket => "chamado",
            EventKind::Handled => "encerrada",
        }
    }
}

/// PostgreSQL channel that wakes the console's live streams in every process.
pub const CHANNEL: &str = "ura_painel";
/// Key of the advisory lock that keeps a stream reading "every event after N" on PostgreSQL
/// from skipping an event committed late (an id drawn before another's, committed after it).
/// Each writer holds it shared from its event's insert to its COMMIT, so writers never wait
/// on each other; a reader takes it alone before reading, which waits for the writers in
/// flight: every id drawn before the read is then committed or rolled back.
const EVENT_LOCK: i64 = 7_270_001;

/// Appends an event in the caller's transaction; on PostgreSQL, also notifies the other
/// processes (delivered at commit).
pub async fn record_event(
    conn: &mut Conn,
    backend: Backend,
    notification_id: i64,
    kind: EventKind,
    agent_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    if backend == Backend::Postgres {
        // One statement: the lock is taken with the id it covers.
        let (id, _): (i64, Option<String>) = sqlx::query_as(
            "WITH turn AS (SELECT pg_advisory_xact_lock_shared($1)), \
             event AS (INSERT INTO painel_events (notification_id, kind, agent_id, created_at) \
                       SELECT $2, $3, $4, $5 FROM turn RETURNING id) \
             SELECT id, CAST(pg_notify($6, CAST(id AS TEXT)) AS TEXT) FROM event",
        )
        .bind(EVENT_LOCK)
        .bind(notification_id)
        .bind(kind.as_str())
        .bind(agent_id)
        .bind(ts(now))
        .bind(CHANNEL)
        .fetch_one(&mut *conn)
        .await?;
        return Ok(id);
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO painel_events (notification_id, kind, agent_id, created_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(notification_id)
    .bind(kind.as_str())
    .bind(agent_id)
    .bind(ts(now))
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Event {
    pub id: i64,
    pub notification_id: i64,
    pub kind: String,
}

/// Events after `after`, oldest first.
pub async fn events_after(
    store: &Store,
    after: i64,
    limit: i64,
) -> Result<Vec<Event>, sqlx::Error> {
    let query = sqlx::query_as(
        "SELECT id, notification_id, kind FROM painel_events WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit);
    match store.backend {
        Backend::Sqlite => query.fetch_all(&store.pool).await,
        Backend::Postgres => {
            let mut tx = settled(store).await?;
            let list = query.fetch_all(&mut *tx).await?;
            tx.commit().await?;
            Ok(list)
        }
    }
}

/// A read-only transaction in which every event id drawn so far is committed or rolled back
/// (PostgreSQL: see `EVENT_LOCK`; held until the transaction ends, one query long).
async fn settled(store: &Store) -> Result<sqlx::Transaction<'static, super::Db>, sqlx::Error> {
    let mut tx = store.pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(EVENT_LOCK)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

pub async fn last_event_id(store: &Store) -> Result<i64, sqlx::Error> {
    let query = sqlx::query_scalar("SELECT MAX(id) FROM painel_events");
    let id: Option<i64> = match store.backend {
        Backend::Sqlite => query.fetch_one(&store.pool).await?,
        Backend::Postgres => {
            let mut tx = settled(store).await?;
            let id = query.fetch_one(&mut *tx).await?;
            tx.commit().await?;
            id
        }
    };
    Ok(id.unwrap_or(0))
}

/// A transferred call and what became of it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Call {
    pub id: i64,
    pub contract_id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub document: String,
    pub protocol: String,
    pub caller: Option<String>,
    pub queue: Option<String>,
    pub created_at: String,
    pub taken_by: Option<i64>,
    pub taken_by_name: Option<String>,
    pub taken_at: Option<String>,
    pub handled_by_name: Option<String>,
    pub handled_at: Option<String>,
    pub tickets: i64,
}

const CALL_SELECT: &str = "SELECT n.id, n.contract_id, n.customer_id, cu.name AS customer_name, \
     cu.document, n.protocol, n.caller, n.agent AS queue, n.created_at, n.taken_by, \
     ta.name AS taken_by_name, n.taken_at, ha.name AS handled_by_name, n.handled_at, \
     (SELECT COUNT(*) FROM tickets t WHERE t.protocol = n.protocol AND t.origin = 'painel') \
       AS tickets \
     FROM notifications n JOIN customers cu ON cu.id = n.customer_id \
     LEFT JOIN agents ta ON ta.id = n.taken_by LEFT JOIN agents ha ON ha.id = n.handled_by";

pub async fn call(store: &Store, id: i64) -> Result<Option<Call>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CALL_SELECT} WHERE n.id = $1"
    )))
    .bind(id)
    .fetch_optional(&store.pool)
    .await
}

/// Calls not yet handled, received since `since`, newest first.
pub async fn open_calls(
    store: &Store,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Call>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CALL_SELECT} WHERE n.handled_at IS NULL AND n.created_at >= $1 \
         ORDER BY n.id DESC LIMIT $2"
    )))
    .bind(ts(since))
    .bind(limit)
    .fetch_all(&store.pool)
    .await
}

/// What the history page searches by: a protocol, a document (normalized) or a phone
/// number (digits; matched on its ending, with or without the area or country code).
#[derive(Debug, Default, Clone)]
pub struct Search {
    pub protocol: Option<String>,
    pub document: Option<String>,
    pub phone_suffix: Option<String>,
}

/// Past calls matching `search` (any of its terms), newest first.
pub async fn history(
    store: &Store,
    search: &Search,
    limit: i64,
    offset: i64,
) -> Result<Vec<Call>, sqlx::Error> {
    let any_term =
        search.protocol.is_some() || search.document.is_some() || search.phone_suffix.is_some();
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CALL_SELECT} WHERE $1 = 0 OR n.protocol = $2 OR cu.document = $3 OR n.caller LIKE $4 \
         ORDER BY n.id DESC LIMIT $5 OFFSET $6"
    )))
    .bind(i64::from(any_term))
    .bind(search.protocol.as_deref().unwrap_or(""))
    .bind(search.document.as_deref().unwrap_or(""))
    // An impossible pattern when no phone was given: callers hold digits only.
    .bind(
        search
            .phone_suffix
            .as_deref()
            .map(|p| format!("%{p}"))
            .unwrap_or_else(|| "#".into()),
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(&store.pool)
    .await
}

/// Why an action on a call did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotFound,
    TakenBy(String),
    Handled,
}

/// Takes the call for `agent_id` unless another agent has it; taking one's own call again
/// is not an error. Returns whether it changed.
pub async fn take(
    conn: &mut Conn,
    id: i64,
    agent_id: i64,
    now: DateTime<Utc>,
) -> Result<Result<bool, Refusal>, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE notifications SET taken_by = $1, taken_at = $2, state = $3 \
         WHERE id = $4 AND taken_by IS NULL AND handled_at IS NULL",
    )
    .bind(agent_id)
    .bind(ts(now))
    .bind(NotificationState::Taken)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() > 0 {
        return Ok(Ok(true));
    }
    let row: Option<(Option<i64>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT n.taken_by, a.name, n.handled_at FROM notifications n \
         LEFT JOIN agents a ON a.id = n.taken_by WHERE n.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        None => Err(Refusal::NotFound),
        Some((_, _, Some(_))) => Err(Refusal::Handled),
        Some((Some(by), _, None)) if by == agent_id => Ok(false),
        Some((_, name, None)) => Err(Refusal::TakenBy(name.unwrap_or_default())),
    })
}

pub async fn mark_handled(
    conn: &mut Conn,
    id: i64,
    agent_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notifications SET handled_by = $1, handled_at = $2, state = $3 \
         WHERE id = $4 AND handled_at IS NULL",
    )
    .bind(agent_id)
    .bind(ts(now))
    .bind(NotificationState::Handled)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Queue names calls were sent to lately, for the agent's choice of queues.
pub async fn recent_queues(
    store: &Store,
    since: DateTime<Utc>,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT agent FROM notifications WHERE agent IS NOT NULL AND agent <> '' \
         AND created_at >= $1 ORDER BY agent LIMIT 50",
    )
    .bind(ts(since))
    .fetch_all(&store.pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContractLine {
    pub id: i64,
    pub status: ContractStatus,
    pub pop_id: Option<i64>,
    pub address: Option<String>,
}

/// Every contract of the customer, by id.
pub async fn customer_contracts(
    store: &Store,
    customer_id: i64,
) -> Result<Vec<ContractLine>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, status, pop_id, address FROM contracts WHERE customer_id = $1 ORDER BY id",
    )
    .bind(customer_id)
    .fetch_all(&store.pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PromiseLine {
    pub contract_id: i64,
    pub created_at: String,
    pub promised_date: String,
    pub state: PromiseState,
}

/// The customer's promises of a local month (`YYYY-MM`).
pub async fn promises_in_month(
    store: &Store,
    customer_id: i64,
    local_month: &str,
) -> Result<Vec<PromiseLine>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.contract_id, p.created_at, p.promised_date, p.state FROM promises p \
         JOIN contracts c ON c.id = p.contract_id \
         WHERE c.customer_id = $1 AND p.local_month = $2 ORDER BY p.id",
    )
    .bind(customer_id)
    .bind(local_month)
    .fetch_all(&store.pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketLine {
    pub protocol: String,
    pub contract_id: i64,
    pub type_name: Option<String>,
    pub content: String,
    pub origin: String,
    pub created_at: String,
}

/// The customer's latest tickets.
pub async fn last_tickets(
    store: &Store,
    customer_id: i64,
    limit: i64,
) -> Result<Vec<TicketLine>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.protocol, t.contract_id, tt.description AS type_name, t.content, t.origin, \
         t.created_at FROM tickets t JOIN contracts c ON c.id = t.contract_id \
         LEFT JOIN ticket_types tt ON tt.id = t.type_id \
         WHERE c.customer_id = $1 ORDER BY t.created_at DESC, t.id DESC LIMIT $2",
    )
    .bind(customer_id)
    .bind(limit)
    .fetch_all(&store.pool)
    .await
}

/// Active entries of a catalog (ticket types, work-order reasons, sectors) as (id, name).
pub async fn catalog(store: &Store, table: Catalog) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let sql = match table {
        Catalog::TicketTypes => {
            "SELECT id, description FROM ticket_types WHERE active = 1 ORDER BY description"
        }
        Catalog::Reasons => {
            "SELECT id, description FROM work_order_reasons WHERE active = 1 ORDER BY description"
        }
        Catalog::Sectors => "SELECT id, name FROM sectors WHERE active = 1 ORDER BY name",
    };
    sqlx::query_as(sql).fetch_all(&store.pool).await
}

#[derive(Debug, Clone, Copy)]
pub enum Catalog {
    TicketTypes,
    Reasons,
    Sectors,
}

/// Whether what the listening connection heard (`store::listen`) should wake this process's
/// live streams: an event of another process, or listening again after a loss (whatever
/// was announced meanwhile is found in the log).
pub fn wakes_streams(heard: Heard<'_>) -> bool {
    matches!(heard, Heard::Listening | Heard::Notice(CHANNEL))
}
