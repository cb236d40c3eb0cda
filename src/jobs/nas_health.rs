//! NAS health: each NAS with a probe method is probed every `nas.verificar_saude` seconds;
//! the result lives in the database (`nas.reachable`), so every process sees it and
//! `verificaacesso` step 3 reads it. A NAS is claimed before it is probed, so that several
//! processes probe it once per interval between them.

use chrono::{TimeDelta, Utc};

use crate::app::AppState;
use crate::network::coa::{Outcome, SessionRef};
use crate::network::nas::{self, Method};
use crate::store::ts;

/// User-Name of the probe: a session no NAS holds, so any authenticated answer (ACK or NAK)
/// proves the NAS alive.
const PROBE_USER: &str = "ura-sonda-de-saude";

pub async fn run_once(state: &AppState) -> Result<usize, sqlx::Error> {
    let now = Utc::now();
    let every = TimeDelta::milliseconds((state.settings.nas.verificar_saude * 1000.0) as i64);
    // A little less than the interval, so that the loop's own jitter does not skip a turn.
    let threshold = ts(now - every.checked_div(2).unwrap_or(every));
    let mut probed = 0;
    for nas in nas::all_probed(&state.store).await? {
        let claimed = sqlx::query(
            "UPDATE nas SET checked_at = $1 WHERE id = $2 AND (checked_at IS NULL OR checked_at <= $3)",
        )
        .bind(ts(now))
        .bind(nas.id)
        .bind(&threshold)
        .execute(&state.store.pool)
        .await?
        .rows_affected();
        if claimed == 0 {
            continue;
        }
        let Some(target) = nas.target() else {
            continue;
        };
        let outcome = match nas.method {
            Method::StatusServer => state.coa.status_server(&target).await,
            _ => {
                let probe = SessionRef {
                    user_name: PROBE_USER.into(),
                    ..SessionRef::default()
                };
                state.coa.coa(&target, &probe, &[]).await
            }
        };
        let reachable = matches!(outcome, Outcome::Ack | Outcome::Nak { .. });
        let changed =
            sqlx::query("UPDATE nas SET reachable = $1 WHERE id = $2 AND reachable <> $1")
                .bind(i64::from(reachable))
                .bind(nas.id)
                .execute(&state.store.pool)
                .await?
                .rows_affected();
        if changed > 0 {
            if reachable {
                tracing::info!(nas = %nas.name, "NAS voltou a responder");
            } else {
                tracing::warn!(nas = %nas.name, "NAS não responde: {}", outcome.describe());
            }
        }
        probed += 1;
    }
    Ok(probed)
}
