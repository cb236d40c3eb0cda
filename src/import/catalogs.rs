//! Plans, POPs and NAS: the catalogs customers' contracts and services refer to.
//! - plans `id,nome,download,upload,valor,grupo_radius` (speeds as `300M`, `1G`, `512k`);
//!   each plan's group gets its `Mikrotik-Rate-Limit` (`radius::provision_plan`);
//! - POPs `id,nome,cidade`;
//! - NAS `id,nome,ip,segredo,tipo,porta_coa,verificacao,pop`.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;

use super::fields::{self, LineError, err};
use super::source::Row;
use super::sql::{self, ROWS_PER_STATEMENT};
use super::{Ctx, Summary, check_rows, classify, keep, services};
use crate::store::Conn;
use crate::store::radius;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Plan {
    id: i64,
    name: String,
    download_kbps: i64,
    upload_kbps: i64,
    price_cents: i64,
    radius_group: String,
}

/// `300M`, `1G`, `1,5G`, `512k`, `300 Mbps` → kbit/s. A bare number is refused: its unit
/// would be a guess.
fn speed(text: &str) -> Option<i64> {
    let t = text.to_lowercase().replace(' ', "");
    let t = t
        .strip_suffix("bps")
        .or_else(|| t.strip_suffix('b'))
        .unwrap_or(&t);
    let (number, factor) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1.0),
        'm' => (&t[..t.len() - 1], 1_000.0),
        'g' => (&t[..t.len() - 1], 1_000_000.0),
        _ => return None,
    };
    let value: f64 = number.replace(',', ".").parse().ok()?;
    let kbps = (value * factor).round();
    (value.is_finite() && (1.0..=100_000_000.0).contains(&kbps)).then_some(kbps as i64)
}

fn check_plan(row: &Row<'_>) -> Result<Plan, LineError> {
    let line = row.line;
    let id = fields::id(row, "id")?;
    let name = fields::clean(fields::required(row, "nome")?);
    let mut kbps = [0; 2];
    for (field, slot) in ["download", "upload"].into_iter().zip(&mut kbps) {
        *slot = speed(fields::required(row, field)?)
            .ok_or_else(|| err(line, field, "velocidade inválida: use 300M, 1G ou 512k"))?;
    }
    let price_cents =
        fields::reais(row, "valor")?.ok_or_else(|| err(line, "valor", "obrigatório"))?;
    let radius_group = row
        .get("grupo_radius")
        .map(str::to_string)
        .unwrap_or_else(|| format!("plano-{id}"));
    if radius_group.chars().count() > 64 || radius_group.chars().any(char::is_control) {
        return Err(err(line, "grupo_radius", "use até 64 caracteres"));
    }
    Ok(Plan {
        id,
        name,
        download_kbps: kbps[0],
        upload_kbps: kbps[1],
        price_cents,
        radius_group,
    })
}

pub async fn plans(
    conn: &mut Conn,
    ctx: &mut Ctx<'_>,
    rows: &[Row<'_>],
    out: &mut Summary,
) -> Result<(), sqlx::Error> {
    let mut records = check_rows(rows, ctx, out, check_plan, |p| p.id);
    let reserved = [
        Some(ctx.radius.grupo_bloqueio.as_str()),
        ctx.radius.grupo_velocidade_reduzida.as_deref(),
    ];
    keep(&mut records, out, |line, p| {
        if reserved.contains(&Some(p.radius_group.as_str())) {
            Err(err(
                line,
                "grupo_radius",
                format!(
                    "{} é o grupo de bloqueio ou de velocidade reduzida, não o de um plano",
                    p.radius_group
                ),
            ))
        } else {
            Ok(())
        }
    });
    let ids: Vec<i64> = records.iter().map(|(_, p)| p.id).collect();
    let mut stored: HashMap<i64, Plan> = sql::fetch_in::<Plan, _>(
        conn,
        "SELECT id, name, download_kbps, upload_kbps, price_cents, radius_group FROM plans \
         WHERE id IN ({in})",
        &ids,
    )
    .await?
    .into_iter()
    .map(|p| (p.id, p))
    .collect();
    let write = classify(records, &mut stored, |p| (p.id, p.clone()), out);
    for chunk in write.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO plans (id, name, download_kbps, upload_kbps, price_cents, radius_group) \
             VALUES {} ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
             download_kbps = excluded.download_kbps, upload_kbps = excluded.upload_kbps, \
             price_cents = excluded.price_cents, radius_group = excluded.radius_group",
            sql::tuples(chunk.len(), 6)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (p, _) in chunk {
            query = query
                .bind(p.id)
                .bind(&p.name)
                .bind(p.download_kbps)
                .bind(p.upload_kbps)
                .bind(p.price_cents)
                .bind(&p.radius_group);
        }
        query.execute(&mut *conn).await?;
    }
    let mut regrouped = Vec::new();
    for (p, old) in &write {
        radius::provision_plan(conn, p.id).await?;
        ctx.plans.insert(p.id, p.radius_group.clone());
        if old
            .as_ref()
            .is_some_and(|o| o.radius_group != p.radius_group)
        {
            regrouped.push(p.id);
        }
    }
    // Services of a plan whose group was renamed move to the new group.
    services::reprovision(conn, ctx.radius, "plan_id", &regrouped).await
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Pop {
    id: i64,
    name: String,
    city: Option<String>,
}

fn check_pop(row: &Row<'_>) -> Result<Pop, LineError> {
    Ok(Pop {
        id: fields::id(row, "id")?,
        name: fields::clean(fields::required(row, "nome")?),
        city: row.get("cidade").map(fields::clean),
    })
}

pub async fn pops(
    conn: &mut Conn,
    ctx: &mut Ctx<'_>,
    rows: &[Row<'_>],
    out: &mut Summary,
) -> Result<(), sqlx::Error> {
    let records = check_rows(rows, ctx, out, check_pop, |p| p.id);
    let ids: Vec<i64> = records.iter().map(|(_, p)| p.id).collect();
    let mut stored: HashMap<i64, Pop> = sql::fetch_in::<Pop, _>(
        conn,
        "SELECT id, name, city FROM pops WHERE id IN ({in})",
        &ids,
    )
    .await?
    .into_iter()
    .map(|p| (p.id, p))
    .collect();
    let write = classify(records, &mut stored, |p| (p.id, p.clone()), out);
    for chunk in write.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO pops (id, name, city) VALUES {} ON CONFLICT (id) DO UPDATE SET \
             name = excluded.name, city = excluded.city",
            sql::tuples(chunk.len(), 3)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (p, _) in chunk {
            query = query.bind(p.id).bind(&p.name).bind(&p.city);
        }
        query.execute(&mut *conn).await?;
    }
    ctx.pops.extend(write.iter().map(|(p, _)| p.id));
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Nas {
    id: i64,
    shortname: String,
    nasname: String,
    secret: String,
    kind: String,
    coa_port: i64,
    check_method: String,
    pop_id: Option<i64>,
}

const CHECK_METHODS: [&str; 4] = ["none", "coa", "status-server", "mikrotik-api"];

fn check_nas(row: &Row<'_>) -> Result<Nas, LineError> {
    let line = row.line;
    let id = fields::id(row, "id")?;
    // The `nas` table is FreeRADIUS's: its id is a 32-bit integer on PostgreSQL.
    if id > i64::from(i32::MAX) {
        return Err(err(line, "id", "use um número até 2147483647"));
    }
    let ip = fields::required(row, "ip")?;
    let ip: std::net::IpAddr = ip
        .parse()
        .map_err(|_| err(line, "ip", format!("endereço IP inválido: {ip:?}")))?;
    let check_method = row.get("verificacao").unwrap_or("none").to_lowercase();
    if !CHECK_METHODS.contains(&check_method.as_str()) {
        return Err(err(
            line,
            "verificacao",
            format!("use {}", CHECK_METHODS.join(", ")),
        ));
    }
    Ok(Nas {
        id,
        shortname: row.get("nome").map(fields::clean).unwrap_or_default(),
        nasname: ip.to_string(),
        secret: fields::required(row, "segredo")?.to_string(),
        kind: row.get("tipo").unwrap_or("other").to_lowercase(),
        coa_port: fields::int_in(row, "porta_coa", 1..=65535, 3799)?,
        check_method,
        pop_id: fields::opt_id(row, "pop")?,
    })
}

pub async fn nas(
    conn: &mut Conn,
    ctx: &mut Ctx<'_>,
    rows: &[Row<'_>],
    out: &mut Summary,
) -> Result<(), sqlx::Error> {
    let mut records = check_rows(rows, ctx, out, check_nas, |n| n.id);
    keep(&mut records, out, |line, n| {
        match n.pop_id.filter(|p| !ctx.pops.contains(p)) {
            Some(pop) => Err(err(line, "pop", format!("POP {pop} não existe"))),
            None => Ok(()),
        }
    });
    let ids: Vec<i64> = records.iter().map(|(_, n)| n.id).collect();
    let mut stored: HashMap<i64, Nas> = sql::fetch_in::<Nas, _>(
        conn,
        "SELECT CAST(id AS BIGINT) AS id, COALESCE(shortname, '') AS shortname, nasname, secret, \
         COALESCE(type, 'other') AS kind, CAST(coa_port AS BIGINT) AS coa_port, check_method, \
         pop_id FROM nas WHERE id IN ({in})",
        &ids,
    )
    .await?
    .into_iter()
    .map(|n| (n.id, n))
    .collect();
    let write = classify(records, &mut stored, |n| (n.id, n.clone()), out);
    for chunk in write.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO nas (id, shortname, nasname, secret, type, coa_port, check_method, \
             pop_id) VALUES {} ON CONFLICT (id) DO UPDATE SET shortname = excluded.shortname, \
             nasname = excluded.nasname, secret = excluded.secret, type = excluded.type, \
             coa_port = excluded.coa_port, check_method = excluded.check_method, \
             pop_id = excluded.pop_id",
            sql::tuples(chunk.len(), 8)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (n, _) in chunk {
            query = query
                .bind(n.id)
                .bind(&n.shortname)
                .bind(&n.nasname)
                .bind(&n.secret)
                .bind(&n.kind)
                .bind(n.coa_port)
                .bind(&n.check_method)
                .bind(n.pop_id);
        }
        query.execute(&mut *conn).await?;
    }
    ctx.nas.extend(write.iter().map(|(n, _)| n.id));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds() {
        assert_eq!(speed("300M"), Some(300_000));
        assert_eq!(speed("300 Mbps"), Some(300_000));
        assert_eq!(speed("1G"), Some(1_000_000));
        assert_eq!(speed("1,5g"), Some(1_500_000));
        assert_eq!(speed("512k"), Some(512));
        assert_eq!(speed("300"), None);
        assert_eq!(speed("M"), None);
        assert_eq!(speed("0M"), None);
        assert_eq!(speed("-5M"), None);
    }
}
