//! FreeRADIUS provisioning in the stock `rlm_sql` tables. What FreeRADIUS reads is derived
//! from our data, and rewritten in the same transaction as every change that affects it:
//! - each internet service: `radcheck` Cleartext-Password;
//! - a service of an active contract (and enabled): its plan's group in `radusergroup`;
//!   any other: the block group, whose reply the operator sets (address list, pool...);
//! - each plan's group: `radgroupreply` Mikrotik-Rate-Limit from the plan's speeds.

use crate::domain::states::ContractStatus;
use crate::settings::RadiusSettings;
use crate::store::Conn;

const PASSWORD_ATTRIBUTE: &str = "Cleartext-Password";
const RATE_LIMIT_ATTRIBUTE: &str = "Mikrotik-Rate-Limit";

fn is_postgres(conn: &Conn) -> bool {
    conn.backend_name().eq_ignore_ascii_case("postgresql")
}

/// `150000`/`300000` kbit/s → `150M/300M` (MikroTik's rx/tx from the client's side:
/// upload first).
pub fn rate_limit(upload_kbps: i64, download_kbps: i64) -> String {
    fn speed(kbps: i64) -> String {
        if kbps > 0 && kbps % 1000 == 0 {
            format!("{}M", kbps / 1000)
        } else {
            format!("{}k", kbps.max(0))
        }
    }
    format!("{}/{}", speed(upload_kbps), speed(download_kbps))
}

/// The group a service belongs in.
pub fn group_for(
    settings: &RadiusSettings,
    contract_status: i64,
    service_enabled: bool,
    plan_group: Option<&str>,
) -> String {
    let plan_group = plan_group.filter(|g| !g.trim().is_empty());
    match (
        ContractStatus::from_code(contract_status),
        service_enabled,
        plan_group,
    ) {
        (Ok(ContractStatus::Active), true, Some(group)) => group.to_string(),
        (Ok(ContractStatus::ReducedSpeed), true, Some(group)) => settings
            .grupo_velocidade_reduzida
            .clone()
            .filter(|g| !g.trim().is_empty())
            .unwrap_or_else(|| group.to_string()),
        _ => settings.grupo_bloqueio.clone(),
    }
}

/// Rewrites the rows of every internet service of the contract.
pub async fn provision_contract(
    conn: &mut Conn,
    settings: &RadiusSettings,
    contract_id: i64,
) -> Result<(), sqlx::Error> {
    // On PostgreSQL the contract row is locked first: two provisioners of one contract (an
    // unlock and a `radius sync`) then run one after the other, and the second reads the
    // status the first committed. SQLite writers are serialized already.
    let sql = if is_postgres(conn) {
        "SELECT status FROM contracts WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT status FROM contracts WHERE id = $1"
    };
    let status: Option<i64> = sqlx::query_scalar(sql)
        .bind(contract_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(status) = status else {
        return Ok(());
    };
    let services: Vec<(String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT s.login, s.password, s.enabled, p.radius_group FROM internet_services s \
         LEFT JOIN plans p ON p.id = s.plan_id WHERE s.contract_id = $1 ORDER BY s.id",
    )
    .bind(contract_id)
    .fetch_all(&mut *conn)
    .await?;
    for (login, password, enabled, plan_group) in services {
        let group = group_for(settings, status, enabled != 0, plan_group.as_deref());
        provision_login(conn, &login, &password, &group).await?;
    }
    Ok(())
}

async fn provision_login(
    conn: &mut Conn,
    login: &str,
    password: &str,
    group: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM radcheck WHERE username = $1 AND attribute = $2")
        .bind(login)
        .bind(PASSWORD_ATTRIBUTE)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO radcheck (username, attribute, op, value) VALUES ($1, $2, ':=', $3)")
        .bind(login)
        .bind(PASSWORD_ATTRIBUTE)
        .bind(password)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM radusergroup WHERE username = $1")
        .bind(login)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO radusergroup (username, groupname, priority) VALUES ($1, $2, 1)")
        .bind(login)
        .bind(group)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// One login's FreeRADIUS rows, for `provision_logins`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRows {
    pub login: String,
    pub password: String,
    pub group: String,
}

/// Logins per statement in the batch functions (3 parameters each).
const LOGINS_PER_STATEMENT: usize = 500;

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `provision_login` for many logins in a few statements (bulk imports). The caller
/// computes each group with `group_for`, from data read in the same transaction.
pub async fn provision_logins(conn: &mut Conn, rows: &[LoginRows]) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(LOGINS_PER_STATEMENT) {
        let logins: Vec<&str> = chunk.iter().map(|r| r.login.as_str()).collect();
        remove_logins(conn, &logins).await?;
        // $1 is the attribute, then (login, password) per row.
        let sql = format!(
            "INSERT INTO radcheck (username, attribute, op, value) VALUES {}",
            (0..chunk.len())
                .map(|i| format!("(${}, $1, ':=', ${})", 2 * i + 2, 2 * i + 3))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(PASSWORD_ATTRIBUTE);
        for r in chunk {
            query = query.bind(&r.login).bind(&r.password);
        }
        query.execute(&mut *conn).await?;
        let sql = format!(
            "INSERT INTO radusergroup (username, groupname, priority) VALUES {}",
            (0..chunk.len())
                .map(|i| format!("(${}, ${}, 1)", 2 * i + 1, 2 * i + 2))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in chunk {
            query = query.bind(&r.login).bind(&r.group);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Removes the password and groups of logins that no longer exist (a service renamed).
pub async fn remove_logins(conn: &mut Conn, logins: &[&str]) -> Result<(), sqlx::Error> {
    for chunk in logins.chunks(LOGINS_PER_STATEMENT) {
        let sql = format!(
            "DELETE FROM radcheck WHERE attribute = $1 AND username IN ({})",
            placeholders(2, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(PASSWORD_ATTRIBUTE);
        for login in chunk {
            query = query.bind(*login);
        }
        query.execute(&mut *conn).await?;
        let sql = format!(
            "DELETE FROM radusergroup WHERE username IN ({})",
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for login in chunk {
            query = query.bind(*login);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Rewrites the rate limit of a plan's group.
pub async fn provision_plan(conn: &mut Conn, plan_id: i64) -> Result<(), sqlx::Error> {
    // Locked on PostgreSQL, for the same reason as the contract in `provision_contract`.
    let sql = if is_postgres(conn) {
        "SELECT radius_group, upload_kbps, download_kbps FROM plans WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT radius_group, upload_kbps, download_kbps FROM plans WHERE id = $1"
    };
    let plan: Option<(String, i64, i64)> = sqlx::query_as(sql)
        .bind(plan_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((group, up, down)) = plan else {
        return Ok(());
    };
    sqlx::query("DELETE FROM radgroupreply WHERE groupname = $1 AND attribute = $2")
        .bind(&group)
        .bind(RATE_LIMIT_ATTRIBUTE)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES ($1, $2, ':=', $3)",
    )
    .bind(&group)
    .bind(RATE_LIMIT_ATTRIBUTE)
    .bind(rate_limit(up, down))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Counts of what `sync_all` rewrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct SyncReport {
    pub plans: usize,
    pub contracts: usize,
}

/// Rewrites everything from the data: for a first install, or after the operator edited
/// tables by hand. Idempotent.
pub async fn sync_all(
    conn: &mut Conn,
    settings: &RadiusSettings,
) -> Result<SyncReport, sqlx::Error> {
    let plans: Vec<i64> = sqlx::query_scalar("SELECT id FROM plans ORDER BY id")
        .fetch_all(&mut *conn)
        .await?;
    for id in &plans {
        provision_plan(conn, *id).await?;
    }
    let contracts: Vec<i64> = sqlx::query_scalar("SELECT id FROM contracts ORDER BY id")
        .fetch_all(&mut *conn)
        .await?;
    for id in &contracts {
        provision_contract(conn, settings, *id).await?;
    }
    Ok(SyncReport {
        plans: plans.len(),
        contracts: contracts.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits() {
        assert_eq!(rate_limit(150_000, 300_000), "150M/300M");
        assert_eq!(rate_limit(512, 1_500), "512k/1500k");
        assert_eq!(rate_limit(1_000_000, 1_000_000), "1000M/1000M");
    }

    #[test]
    fn groups() {
        let s = RadiusSettings::default();
        assert_eq!(group_for(&s, 1, true, Some("plano")), "plano");
        assert_eq!(group_for(&s, 1, false, Some("plano")), "bloqueado");
        assert_eq!(group_for(&s, 4, true, Some("plano")), "bloqueado");
        assert_eq!(group_for(&s, 3, true, Some("plano")), "bloqueado");
        assert_eq!(group_for(&s, 7, true, Some("plano")), "plano");
        assert_eq!(group_for(&s, 1, true, None), "bloqueado");
        let reduced = RadiusSettings {
            grupo_velocidade_reduzida: Some("reduzido".into()),
            ..RadiusSettings::default()
        };
        assert_eq!(group_for(&reduced, 7, true, Some("plano")), "reduzido");
    }
}
