//! Internet services (PPPoE/IPoE logins). Columns:
//! `id,contrato,login,senha,plano,nas,mac,habilitado`. FreeRADIUS follows in the same
//! transaction: `radcheck` password, `radusergroup` by plan or the block group by contract
//! status (`radius::group_for`).

use super::fields::{self, LineError, err};
use super::source::Row;
use super::{Ctx, Summary, check_rows, classify, keep};
use crate::settings::RadiusSettings;
use crate::store::Conn;
use crate::store::import::{self as sql, Of, Service};
use crate::store::radius::{self, LoginRows};

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

pub async fn batch(
    conn: &mut Conn,
    ctx: &mut Ctx<'_>,
    rows: &[Row<'_>],
    out: &mut Summary,
) -> Result<(), sqlx::Error> {
    let mut records = check_rows(rows, ctx, out, check, |s| s.id);
    let contract_ids: Vec<i64> = records.iter().map(|(_, s)| s.contract_id).collect();
    let statuses = sql::contract_statuses(conn, ctx.backend, &contract_ids).await?;
    let owners = sql::login_owners(conn, records.iter().map(|(_, s)| s.login.clone())).await?;
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
    let mut stored = sql::services(conn, &ids).await?;
    let write = classify(records, &mut stored, |s| (s.id, s.fields()), out);
    let services: Vec<&Service> = write.iter().map(|(s, _)| s).collect();
    sql::upsert_services(conn, &services).await?;
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

/// Rewrites the FreeRADIUS rows of the services of the contracts or plans `ids`, from the
/// data as it stands in this transaction.
pub async fn reprovision(
    conn: &mut Conn,
    settings: &RadiusSettings,
    of: Of,
    ids: &[i64],
) -> Result<(), sqlx::Error> {
    let rows: Vec<LoginRows> = sql::services_of(conn, of, ids)
        .await?
        .into_iter()
        .map(|s| LoginRows {
            group: radius::group_for(
                settings,
                s.status,
                s.enabled != 0,
                s.radius_group.as_deref(),
            ),
            login: s.login,
            password: s.password,
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
