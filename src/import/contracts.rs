//! Contracts. Columns: `id,cliente,status,status_modo,pop,dia_vencimento,endereco`.
//! A contract whose status changes has its services re-provisioned in the same
//! transaction, as the URA functions do: crossing into service (1, 7) enables its services,
//! crossing out of it disables them, and FreeRADIUS is rewritten from the new status.

use super::fields::{self, LineError, err};
use super::source::Row;
use super::{Ctx, Summary, check_rows, classify, keep, services};
use crate::domain::states::ContractStatus;
use crate::store::Conn;
use crate::store::import::{self as sql, ContractFields, Of};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub id: i64,
    stored: ContractFields,
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
        stored: ContractFields {
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
    let mut stored = sql::contracts(conn, &ids).await?;
    let write = classify(records, &mut stored, |c| (c.id, c.stored.clone()), out);
    let contracts: Vec<(i64, &ContractFields)> =
        write.iter().map(|(c, _)| (c.id, &c.stored)).collect();
    sql::upsert_contracts(conn, &contracts, &ctx.now).await?;
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
    for (ids, enabled) in [(&enable, true), (&disable, false)] {
        sql::set_services_enabled(conn, ids, enabled).await?;
    }
    services::reprovision(conn, ctx.radius, Of::Contracts, &changed).await
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
