//! Plans, POPs and NAS: the catalogs customers' contracts and services refer to.
//! - plans `id,nome,download,upload,valor,grupo_radius` (speeds as `300M`, `1G`, `512k`);
//!   each plan's group gets its `Mikrotik-Rate-Limit` (`radius::provision_plan`);
//! - POPs `id,nome,cidade`;
//! - NAS `id,nome,ip,segredo,tipo,porta_coa,verificacao,pop`.

use super::fields::{self, LineError, err};
use super::source::Row;
use super::{Ctx, Summary, check_rows, classify, keep, services};
use crate::store::Conn;
use crate::store::import::{self as sql, Nas, Of, Plan, Pop};
use crate::store::radius;

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
    let mut stored = sql::plans(conn, &ids).await?;
    let write = classify(records, &mut stored, |p| (p.id, p.clone()), out);
    let plans: Vec<&Plan> = write.iter().map(|(p, _)| p).collect();
    sql::upsert_plans(conn, &plans).await?;
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
    services::reprovision(conn, ctx.radius, Of::Plans, &regrouped).await
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
    let mut stored = sql::pops(conn, &ids).await?;
    let write = classify(records, &mut stored, |p| (p.id, p.clone()), out);
    let pops: Vec<&Pop> = write.iter().map(|(p, _)| p).collect();
    sql::upsert_pops(conn, &pops).await?;
    ctx.pops.extend(write.iter().map(|(p, _)| p.id));
    Ok(())
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
    let mut stored = sql::nas(conn, &ids).await?;
    let write = classify(records, &mut stored, |n| (n.id, n.clone()), out);
    let nas: Vec<&Nas> = write.iter().map(|(n, _)| n).collect();
    sql::upsert_nas(conn, &nas).await?;
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
