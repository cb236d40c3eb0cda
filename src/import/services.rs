//! Internet services (PPPoE/IPoE logins). Columns:
//! `id,contrato,login,senha,plano,nas,mac,habilitado`. FreeRADIUS follows in the same
//! transaction: `radcheck` password, `radusergroup` by plan or the block group by contract
//! status (`radius::group_for`).

use std::collections::HashMap;

use sqlx::AssertSqlSafe;

use super::fields::{self, LineError, err};
use super::source::Row;
use super::sql::{self, ROWS_PER_STATEMENT};
use super::{Ctx, Summary, check_rows, classify, keep};
use crate::settings::RadiusSettings;
use crate::store::Conn;
use crate::store::radius::{self, LoginRows};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub id: i64,
    pub contract_id: i64,
    pub login: String,
    pub password: String,
    pub plan_id: i64,
    pub nas_id: Option<i64>,
    pub mac: Option<String>,
    pub enabled: bool,
}

/// What is compared with the stored service.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Stored {
    contract_id: i64,
    login: String,
    password: String,
    plan_id: Option<i64>,
    nas_id: Option<i64>,
    mac: Option<String>,
    enabled: i64,
}

#[derive(sqlx::FromRow)]
struct Existing {
    id: i64,
    #[sqlx(flatten)]
    stored: Stored,
}

impl Service {
    fn stored(&self) -> Stored {
        Stored {
            contract_id: self.contract_id,
            login: self.login.clone(),
            password: self.password.clone(),
            plan_id: Some(self.plan_id),
            nas_id: self.nas_id,
            mac: self.mac.clone(),
            enabled: i64::from(self.enabled),
        }
    }
}

/// `02-00-00-00-01-01`, `0200.0000.0101` → `02:00:00:00:01:01`.
fn mac(text: &str) -> Option<String> {
    let hex: String = text
        .chars()
        .filter(|c| !":-. ".contains(*c))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if hex.len() != 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(
        hex.as_bytes()
            .chunks(2)
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect::<Vec<_>>()
            .join(":"),
    )
}

pub fn check(row: &Row<'_>) -> Result<Service, LineError> {
    let line = row.line;
    let id = fields::id(row, "id")?;
    let contract_id = fields::id(row, "contrato")?;
    let login = fields::required(row, "login")?;
    if login.len() > 64 || !login.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(err(
            line,
            "login",
            "login inválido: use até 64 caracteres, sem espaços nem acentos",
        ));
    }
    let password = fields::required(row, "senha")?;
    if password.chars().count() > 128 || password.chars().any(char::is_control) {
        return Err(err(
            line,
            "senha",
            "senha inválida: use até 128 caracteres, sem caracteres de controle",
        ));
    }
    let plan_id = fields::id(row, "plano")?;
    let nas_id = fields::opt_id(row, "nas")?;
    let mac = match row.get("mac") {
        None => None,
        Some(t) => Some(mac(t).ok_or_else(|| {
            err(
                line,
                "mac",
                "MAC inválido: use 12 dígitos hexadecimais, ex.: 02:00:00:00:01:01",
            )
        })?),
    };
    Ok(Service {
        id,
        contract_id,
        login: login.to_string(),
        password: password.to_string(),
        plan_id,
        nas_id,
        mac,
        enabled: fields::flag(row, "habilitado", true)?,
    })
}

/// The contracts' statuses; on PostgreSQL their rows are locked, as
/// `radius::provision_contract` does, so that a concurrent unlock and this import provision
/// one after the other.
async fn contract_statuses(
    conn: &mut Conn,
    postgres: bool,
    ids: &[i64],
) -> Result<HashMap<i64, i64>, sqlx::Error> {
    let select = if postgres {
        "SELECT id, status FROM contracts WHERE id IN ({in}) ORDER BY id FOR UPDATE"
    } else {
        "SELECT id, status FROM contracts WHERE id IN ({in})"
    };
    let rows: Vec<(i64, i64)> =
        sql::fetch_in(conn, select, &sql::unique(ids.iter().copied())).await?;
    Ok(rows.into_iter().collect())
}

pub async fn batch(
    conn: &mut Conn,
    ctx: &mut Ctx<'_>,
    rows: &[Row<'_>],
    out: &mut Summary,
) -> Result<(), sqlx::Error> {
    let mut records = check_rows(rows, ctx, out, check, |s| s.id);
    let contract_ids: Vec<i64> = records.iter().map(|(_, s)| s.contract_id).collect();
    let statuses = contract_statuses(conn, ctx.postgres, &contract_ids).await?;
    let logins = sql::unique(records.iter().map(|(_, s)| s.login.clone()));
    let owners: HashMap<String, i64> = sql::fetch_in::<(i64, String), _>(
        conn,
        "SELECT id, login FROM internet_services WHERE login IN ({in})",
        &logins,
    )
    .await?
    .into_iter()
    .map(|(id, login)| (login, id))
    .collect();
    keep(&mut records, out, |line, s| {
        if !statuses.contains_key(&s.contract_id) {
            return Err(err(
                line,
                "contrato",
                format!("contrato {} não existe", s.contract_id),
            ));
        }
        if !ctx.plans.contains_key(&s.plan_id) {
            return Err(err(
                line,
                "plano",
                format!("plano {} não existe", s.plan_id),
            ));
        }
        if let Some(nas) = s.nas_id.filter(|n| !ctx.nas.contains(n)) {
            return Err(err(line, "nas", format!("NAS {nas} não existe")));
        }
        if let Some(first) = ctx.logins.get(&s.login) {
            return Err(err(
                line,
                "login",
                format!("login {} repetido: já aparece na linha {first}", s.login),
            ));
        }
        if let Some(owner) = owners.get(&s.login).filter(|o| **o != s.id) {
            return Err(err(
                line,
                "login",
                format!("login {} já pertence ao serviço {owner}", s.login),
            ));
        }
        ctx.logins.insert(s.login.clone(), line);
        Ok(())
    });
    let ids: Vec<i64> = records.iter().map(|(_, s)| s.id).collect();
    let mut stored: HashMap<i64, Stored> = sql::fetch_in::<Existing, _>(
        conn,
        "SELECT id, contract_id, login, password, plan_id, CAST(nas_id AS BIGINT) AS nas_id, \
         mac, enabled FROM internet_services WHERE id IN ({in})",
        &ids,
    )
    .await?
    .into_iter()
    .map(|e| (e.id, e.stored))
    .collect();
    let write = classify(records, &mut stored, |s| (s.id, s.stored()), out);
    for chunk in write.chunks(ROWS_PER_STATEMENT) {
        upsert(conn, chunk).await?;
    }
    // FreeRADIUS: a renamed login loses its rows; every written service gets its own.
    let renamed: Vec<&str> = write
        .iter()
        .filter_map(|(s, old)| old.as_ref().filter(|o| o.login != s.login))
        .map(|o| o.login.as_str())
        .collect();
    radius::remove_logins(conn, &renamed).await?;
    let rows: Vec<LoginRows> = write
        .iter()
        .map(|(s, _)| LoginRows {
            login: s.login.clone(),
            password: s.password.clone(),
            group: radius::group_for(
                ctx.radius,
                statuses.get(&s.contract_id).copied().unwrap_or_default(),
                s.enabled,
                ctx.plans.get(&s.plan_id).map(String::as_str),
            ),
        })
        .collect();
    radius::provision_logins(conn, &rows).await?;
    Ok(())
}

async fn upsert(conn: &mut Conn, chunk: &[(Service, Option<Stored>)]) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO internet_services (id, contract_id, login, password, plan_id, nas_id, mac, \
         enabled) VALUES {} ON CONFLICT (id) DO UPDATE SET contract_id = excluded.contract_id, \
         login = excluded.login, password = excluded.password, plan_id = excluded.plan_id, \
         nas_id = excluded.nas_id, mac = excluded.mac, enabled = excluded.enabled",
        sql::tuples(chunk.len(), 8)
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for (s, _) in chunk {
        query = query
            .bind(s.id)
            .bind(s.contract_id)
            .bind(&s.login)
            .bind(&s.password)
            .bind(s.plan_id)
            .bind(s.nas_id)
            .bind(&s.mac)
            .bind(i64::from(s.enabled));
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

/// Rewrites the FreeRADIUS rows of the services whose `column` (`contract_id`, `plan_id`)
/// is one of `ids`, from the data as it stands in this transaction.
pub async fn reprovision(
    conn: &mut Conn,
    settings: &RadiusSettings,
    column: &str,
    ids: &[i64],
) -> Result<(), sqlx::Error> {
    let services: Vec<(String, String, i64, i64, Option<String>)> = sql::fetch_in(
        conn,
        &format!(
            "SELECT s.login, s.password, s.enabled, c.status, p.radius_group \
             FROM internet_services s JOIN contracts c ON c.id = s.contract_id \
             LEFT JOIN plans p ON p.id = s.plan_id WHERE s.{column} IN ({{in}}) ORDER BY s.id"
        ),
        ids,
    )
    .await?;
    let rows: Vec<LoginRows> = services
        .into_iter()
        .map(|(login, password, enabled, status, group)| LoginRows {
            group: radius::group_for(settings, status, enabled != 0, group.as_deref()),
            login,
            password,
        })
        .collect();
    radius::provision_logins(conn, &rows).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs() {
        assert_eq!(
            mac("02-00-00-00-01-0a").as_deref(),
            Some("02:00:00:00:01:0A")
        );
        assert_eq!(mac("0200.0000.0101").as_deref(), Some("02:00:00:00:01:01"));
        assert_eq!(mac("02:00:00:00:01"), None);
        assert_eq!(mac("02:00:00:00:01:0G"), None);
    }
}
