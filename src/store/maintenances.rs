//! Maintenance windows and what they cover.

use chrono::{DateTime, Utc};

use super::{Store, parse_ts, ts};

#[derive(Debug, Clone)]
pub struct InForce {
    pub id: i64,
    pub ivr_message: Option<String>,
    pub expected_end: Option<DateTime<Utc>>,
    /// Covers through the NAS (as opposed to the POP or a network element).
    pub via_nas: bool,
}

/// Maintenances in force now (started, not resolved) covering the POP, the element or the NAS.
pub async fn in_force(
    store: &Store,
    now: DateTime<Utc>,
    pop_id: Option<i64>,
    element_id: Option<i64>,
    nas_id: Option<i64>,
) -> Result<Vec<InForce>, sqlx::Error> {
    let rows: Vec<(i64, Option<String>, Option<String>, i64)> = sqlx::query_as(
        "SELECT m.id, m.ivr_message, m.expected_end, \
           CASE WHEN EXISTS (SELECT 1 FROM maintenance_nas x WHERE x.maintenance_id = m.id AND x.nas_id = $4) \
            AND NOT EXISTS (SELECT 1 FROM maintenance_pops x WHERE x.maintenance_id = m.id AND x.pop_id = $2) \
            AND NOT EXISTS (SELECT 1 FROM maintenance_elements x WHERE x.maintenance_id = m.id AND x.element_id = $3) \
           THEN 1 ELSE 0 END AS via_nas \
         FROM maintenances m \
         WHERE m.starts_at <= $1 AND m.resolved_at IS NULL AND m.status <> 4 AND ( \
           EXISTS (SELECT 1 FROM maintenance_pops x WHERE x.maintenance_id = m.id AND x.pop_id = $2) \
           OR EXISTS (SELECT 1 FROM maintenance_elements x WHERE x.maintenance_id = m.id AND x.element_id = $3) \
           OR EXISTS (SELECT 1 FROM maintenance_nas x WHERE x.maintenance_id = m.id AND x.nas_id = $4)) \
         ORDER BY m.starts_at, m.id",
    )
    .bind(ts(now))
    .bind(pop_id)
    .bind(element_id)
    .bind(nas_id)
    .fetch_all(&store.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, ivr_message, end, via_nas)| InForce {
            id,
            ivr_message: ivr_message.filter(|m| !m.trim().is_empty()),
            expected_end: end.as_deref().and_then(parse_ts),
            via_nas: via_nas != 0,
        })
        .collect())
}
