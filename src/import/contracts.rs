//! Contracts. Columns: `id,cliente,status,status_modo,pop,dia_vencimento,endereco`.
//! A contract whose status changes has its services re-provisioned in the same
//! transaction, as the URA functions do: crossing into service (1, 7) enables its services,
//! crossing out of it disables them, and FreeRADIUS is rewritten from the new status.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;

use super::fields::{self, LineError, err};
use super::source::Row;
use super::sql::{self, ROWS_PER_STATEMENT};
use super::{Ctx, Summary, check_rows, classify, keep, services};
use crate::domain::states::ContractStatus;
use crate::store::Conn;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Stored {
    customer_id: i64,
    status: i64,
    status_mode: i64,
    pop_id: Option<i64>,
    due_day: i64,
    address: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Existing {
    id: i64,
    #[sqlx(flatten)]
    stored: Stored,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub id: i64,
    stored: Stored,
}

/// Lowercase without the accents Portuguese uses.
fn fold(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' => 'a',
            'é' | 'ê' => 'e',
            'í' => 'i',
            'ó' | 'ô' | 'õ' => 'o',
            'ú' | 'ü' => 'u',
            'ç' => 'c',
            other => other,
        })
        .collect()
}

/// `1`..`7` or the status name (`Suspenso`, `ativo v. reduzida`...).
fn parse_status(text: &str) -> Option<i64> {
    if let Ok(n) = text.parse::<i64>() {
        return ContractStatus::from_code(n).ok().map(ContractStatus::code);
    }
    let text = fold(text);
    ContractStatus::ALL
        .iter()
        .find(|s| fold(s.name()) == text)
        .map(|s| s.code())
}

pub fn check(row: &Row<'_>) -> Result<Contract, LineError> {
    let line = row.line;
    let id = fields::id(row, "id")?;
    let customer_id = fields::id(row, "cliente")?;
    let status = parse_status(fields::required(row, "status")?).ok_or_else(|| {
        let names: Vec<String> = ContractStatus::ALL
            .iter()
            .map(|s| format!("{} {}", s.code(), s.name()))
            .collect();
        err(
            line,
            "status",
            format!("use um status de 1 a 7 ({})", names.join(", ")),
        )
    })?;
    let status_mode = match row.get("status_modo").map(fold).as_deref() {
        None | Some("1" | "automatico") => 1,
        Some("2" | "manual") => 2,
        Some(_) => {
            return Err(err(line, "status_modo", "use 1 (automático) ou 2 (manual)"));
        }
    };
    Ok(Contract {
        id,
        stored: Stored {
            customer_id,
            status,
            status_mode,
            pop_id: fields::opt_id(row, "pop")?,
            due_day: fields::int_in(row, "dia_vencimento", 1..=31, 10)?,
            address: row.get("endereco").map(fields::clean),
        },
    })
}

fn in_service(s: i64) -> bool {
    ContractStatus::from_code(s).is_ok_and(ContractStatus::in_service)
}

pub async fn batch(
    conn: &mut Conn,
    ctx: &mut Ctx<'_>,
    rows: &[Row<'_>],
    out: &mut Summary,
) -> Result<(), sqlx::Error> {
    let mut records = check_rows(rows, ctx, out, check, |c| c.id);
    let customers = sql::existing_ids(
        conn,
        "customers",
        records.iter().map(|(_, c)| c.stored.customer_id),
    )
    .await?;
    keep(&mut records, out, |line, c| {
        if !customers.contains(&c.stored.customer_id) {
            return Err(err(
                line,
                "cliente",
                format!("cliente {} não existe", c.stored.customer_id),
            ));
        }
        match c.stored.pop_id.filter(|p| !ctx.pops.contains(p)) {
            Some(pop) => Err(err(line, "pop", format!("POP {pop} não existe"))),
            None => Ok(()),
        }
    });
    let ids: Vec<i64> = records.iter().map(|(_, c)| c.id).collect();
    let mut stored: HashMap<i64, Stored> = sql::fetch_in::<Existing, _>(
        conn,
        "SELECT id, customer_id, status, status_mode, pop_id, due_day, address \
         FROM contracts WHERE id IN ({in})",
        &ids,
    )
    .await?
    .into_iter()
    .map(|e| (e.id, e.stored))
    .collect();
    let write = classify(records, &mut stored, |c| (c.id, c.stored.clone()), out);
    for chunk in write.chunks(ROWS_PER_STATEMENT) {
        upsert(conn, ctx, chunk).await?;
    }
    let mut changed = Vec::new();
    let mut enable = Vec::new();
    let mut disable = Vec::new();
    for (c, old) in &write {
        let Some(old) = old.as_ref().filter(|o| o.status != c.stored.status) else {
            continue;
        };
        changed.push(c.id);
        match (in_service(old.status), in_service(c.stored.status)) {
            (false, true) => enable.push(c.id),
            (true, false) => disable.push(c.id),
            _ => {}
        }
    }
    for (ids, enabled) in [(&enable, 1), (&disable, 0)] {
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let mut query = sqlx::query(AssertSqlSafe(format!(
                "UPDATE internet_services SET enabled = $1 WHERE contract_id IN ({})",
                sql::params(2, chunk.len())
            )))
            .bind(enabled);
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(&mut *conn).await?;
        }
    }
    services::reprovision(conn, ctx.radius, "contract_id", &changed).await
}

async fn upsert(
    conn: &mut Conn,
    ctx: &Ctx<'_>,
    chunk: &[(Contract, Option<Stored>)],
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO contracts (id, customer_id, status, status_mode, pop_id, due_day, address, \
         created_at) VALUES {} ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, \
         status = excluded.status, status_mode = excluded.status_mode, pop_id = excluded.pop_id, \
         due_day = excluded.due_day, address = excluded.address",
        sql::tuples(chunk.len(), 8)
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for (c, _) in chunk {
        let s = &c.stored;
        query = query
            .bind(c.id)
            .bind(s.customer_id)
            .bind(s.status)
            .bind(s.status_mode)
            .bind(s.pop_id)
            .bind(s.due_day)
            .bind(&s.address)
            .bind(&ctx.now);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(parse_status("4"), Some(4));
        assert_eq!(parse_status("Suspenso"), Some(4));
        assert_eq!(parse_status("INVIABILIDADE TECNICA"), Some(5));
        assert_eq!(parse_status("ativo v. reduzida"), Some(7));
        assert_eq!(parse_status("8"), None);
        assert_eq!(parse_status("0"), None);
        assert_eq!(parse_status("bloqueado"), None);
    }
}
