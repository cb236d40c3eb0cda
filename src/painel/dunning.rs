//! "Cobrança hoje": the contracts blocked for debt and given back by a payment on one local
//! day of the operator (today unless `?dia=AAAA-MM-DD`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use minijinja::context;

use super::PainelState;
use super::auth::AgentSession;
use super::card::StatusChangeView;
use super::pages::{me, unavailable};
use super::views::{error_page, page, render};
use crate::domain::states::{ContractStatus, StatusReason};
use crate::store::dunning::{self, Change};

/// Rows per list; a day with more says so (the newest are shown).
const ROWS_SHOWN: i64 = 500;

/// The first instant of `day` in `tz`: midnight, or the first local time that exists when the
/// clock jumped over midnight (daylight saving time began at 00:00 in Brazil until 2019).
fn start_of(day: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    (0..=24 * 4).find_map(|quarter| {
        let time = NaiveTime::MIN + TimeDelta::minutes(15 * quarter);
        tz.from_local_datetime(&day.and_time(time))
            .earliest()
            .map(|t| t.to_utc())
    })
}

/// `[start of day, start of the next day)` in UTC.
fn day_bounds(day: NaiveDate, tz: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    Some((start_of(day, tz)?, start_of(day.succ_opt()?, tz)?))
}

/// `AAAA-MM-DD`, with a year the stored timestamps can hold.
fn parse_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| (1970..=9998).contains(&d.year()))
}

/// A block for debt puts the line out of service (or at reduced speed); a payment gives back
/// `Ativo`. A change of that reason to anything else is not what the list is about.
fn is_block(c: &Change) -> bool {
    c.to_status.is_suspended()
}

fn is_restoration(c: &Change) -> bool {
    c.to_status == ContractStatus::Active
}

pub async fn day_page(
    State(state): State<Arc<PainelState>>,
    AgentSession(session): AgentSession,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let base = &state.settings.base_path;
    let today = state.local_date(Utc::now());
    let day = match query.get("dia").map(|d| d.trim()).filter(|d| !d.is_empty()) {
        None => today,
        Some(text) => match parse_day(text) {
            Some(day) => day,
            None => {
                return error_page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    base,
                    "Data inválida: use AAAA-MM-DD.",
                );
            }
        },
    };
    let Some((since, until)) = day_bounds(day, state.tz) else {
        return error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            base,
            "Data inválida: use AAAA-MM-DD.",
        );
    };
    let list = |reason, keep: fn(&Change) -> bool| {
        let state = &state;
        async move {
            let rows = dunning::changes_between(&state.store, since, until, reason, ROWS_SHOWN + 1)
                .await?;
            let more = rows.len() as i64 > ROWS_SHOWN;
            let views: Vec<StatusChangeView> = rows
                .into_iter()
                .take(ROWS_SHOWN as usize)
                .filter(keep)
                .map(|c| StatusChangeView::new(state, c))
                .collect();
            Ok::<_, sqlx::Error>((views, more))
        }
    };
    let (bloqueados, mais_bloqueados) = match list(StatusReason::Debt, is_block).await {
        Ok(l) => l,
        Err(e) => return unavailable(&state, e),
    };
    let (restabelecidos, mais_restabelecidos) =
        match list(StatusReason::Payment, is_restoration).await {
            Ok(l) => l,
            Err(e) => return unavailable(&state, e),
        };
    let titulo = if day == today {
        "Cobrança hoje".to_string()
    } else {
        format!("Cobrança em {}", day.format("%d/%m/%Y"))
    };
    page(
        StatusCode::OK,
        render(
            "cobranca.html",
            context! {
                base => base,
                titulo => titulo,
                me => me(&session),
                dia => day.to_string(),
                anterior => day.pred_opt().map(|d| d.to_string()),
                proximo => (day < today).then(|| day.succ_opt().map(|d| d.to_string())).flatten(),
                bloqueados => bloqueados,
                restabelecidos => restabelecidos,
                limite => ROWS_SHOWN,
                mais_bloqueados => mais_bloqueados,
                mais_restabelecidos => mais_restabelecidos,
            },
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SP: Tz = chrono_tz::America::Sao_Paulo;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn a_day_is_the_operators_local_day() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(
            day_bounds(day, SP),
            Some((utc("2026-11-29T03:00:00Z"), utc("2026-11-30T03:00:00Z")))
        );
        // 2018-11-04 began at 01:00 in São Paulo (the clock jumped over midnight).
        let day = NaiveDate::from_ymd_opt(2018, 11, 4).unwrap();
        assert_eq!(
            day_bounds(day, SP),
            Some((utc("2018-11-04T03:00:00Z"), utc("2018-11-05T02:00:00Z")))
        );
    }

    #[test]
    fn only_plain_dates_are_days() {
        assert_eq!(
            parse_day(" 2026-11-29 "),
            NaiveDate::from_ymd_opt(2026, 11, 29)
        );
        for bad in [
            "29/11/2026",
            "2026-02-30",
            "hoje",
            "9999-12-31",
            "1969-12-31",
            "",
        ] {
            assert_eq!(parse_day(bad), None, "{bad:?}");
        }
    }
}
