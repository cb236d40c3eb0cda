//! Invoices. Columns: `id,contrato,numero_documento,nosso_numero,valor,emissao,vencimento,
//! status,pagamento,valor_pago,codigo_barras,linha_digitavel,codigo_pix,banco,convenio,
//! pix_txid` (`status` aberto/pago/cancelado). The barcode, the linha digitável and the PIX
//! code are checked and must agree; a missing code is derived from the other. `banco` is the
//! three-digit code of the bank the boleto was registered with; `pix_txid`, when missing, is
//! read from the PIX code.

use chrono::NaiveDate;

use super::fields::{self, LineError, err};
use super::source::Row;
use super::{Ctx, Summary, check_rows, classify, keep};
use crate::domain::{payment_data, pix};
use crate::store::Conn;
use crate::store::import::{self as sql, Invoice};

/// Checks one line (not its contract: that needs the database).
pub fn check(row: &Row<'_>) -> Result<(i64, Invoice), LineError> {
    let line = row.line;
    let id = fields::id(row, "id")?;
    let contract_id = fields::required(row, "contrato")?
        .parse::<i64>()
        .map_err(|_| err(line, "contrato", "use um número inteiro"))?;
    let amount_cents =
        fields::reais(row, "valor")?.ok_or_else(|| err(line, "valor", "obrigatório"))?;
    let due_on: NaiveDate =
        fields::date(row, "vencimento")?.ok_or_else(|| err(line, "vencimento", "obrigatório"))?;
    let issued_on = fields::date(row, "emissao")?.unwrap_or(due_on);
    let status = match row.get("status").map(str::to_lowercase).as_deref() {
        None | Some("aberto") | Some("open") => "open",
        Some("pago") | Some("paid") => "paid",
        Some("cancelado") | Some("cancelled") => "cancelled",
        Some(_) => return Err(err(line, "status", "use aberto, pago ou cancelado")),
    };
    let paid_on = fields::date(row, "pagamento")?;
    let paid_cents = fields::reais(row, "valor_pago")?;
    let checked = payment_data::check(
        row.get("codigo_barras"),
        row.get("linha_digitavel"),
        row.get("codigo_pix"),
    )
    .map_err(|e| err(line, e.field(), e.to_string()))?;
    let bank_code = row.get("banco").map(str::to_string);
    if let Some(bank) = &bank_code
        && !(bank.len() == 3 && bank.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(err(line, "banco", "use o código de três dígitos do banco"));
    }
    let agreement = row.get("convenio").map(str::to_string);
    if let Some(agreement) = &agreement
        && !agreement
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(err(line, "convenio", "use apenas letras, dígitos e hífen"));
    }
    let pix_txid = match row.get("pix_txid") {
        Some(t) if t.len() <= 35 && t.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Some(t.to_string())
        }
        Some(_) => return Err(err(line, "pix_txid", "use de 1 a 35 letras e dígitos")),
        None => checked.pix.as_deref().and_then(pix::txid),
    };
    let paid = status == "paid";
    Ok((
        id,
        Invoice {
            contract_id,
            document_number: row.get("numero_documento").unwrap_or_default().to_string(),
            our_number: row.get("nosso_numero").unwrap_or_default().to_string(),
            amount_cents,
            issued_on: issued_on.to_string(),
            due_on: due_on.to_string(),
            status: status.to_string(),
            paid_on: paid.then(|| paid_on.unwrap_or(due_on).to_string()),
            paid_cents: paid.then(|| paid_cents.unwrap_or(amount_cents)),
            barcode: checked.barcode,
            digitable_line: checked.digitable_line,
            pix_payload: checked.pix,
            bank_code,
            agreement,
            pix_txid,
        },
    ))
}

pub async fn batch(
    conn: &mut Conn,
    ctx: &mut Ctx<'_>,
    rows: &[Row<'_>],
    out: &mut Summary,
) -> Result<(), sqlx::Error> {
    let mut records = check_rows(rows, ctx, out, check, |(id, _)| *id);
    let contracts = sql::existing_ids(
        conn,
        "contracts",
        records.iter().map(|(_, (_, i))| i.contract_id),
    )
    .await?;
    keep(&mut records, out, |line, (_, inv)| {
        if contracts.contains(&inv.contract_id) {
            Ok(())
        } else {
            Err(err(
                line,
                "contrato",
                format!("contrato {} não existe", inv.contract_id),
            ))
        }
    });
    // A PIX txid names one invoice: not another stored invoice's, nor another line's.
    let owners = sql::txid_owners(
        conn,
        records.iter().filter_map(|(_, (_, i))| i.pix_txid.clone()),
    )
    .await?;
    let mut seen = std::collections::HashMap::new();
    keep(&mut records, out, |line, (id, inv)| {
        let Some(txid) = &inv.pix_txid else {
            return Ok(());
        };
        let other = owners
            .get(txid)
            .copied()
            .filter(|o| o != id)
            .or_else(|| seen.get(txid).copied().filter(|o| o != id));
        seen.insert(txid.clone(), *id);
        match other {
            Some(other) => Err(err(
                line,
                "pix_txid",
                format!("txid {txid} já é da fatura {other}"),
            )),
            None => Ok(()),
        }
    });
    let ids: Vec<i64> = records.iter().map(|(_, (id, _))| *id).collect();
    let mut stored = sql::invoices(conn, &ids).await?;
    let write = classify(records, &mut stored, |(id, inv)| (*id, inv.clone()), out);
    for ((_, inv), old) in &write {
        if inv.status == "paid" && old.as_ref().is_some_and(|o| o.status == "open") {
            out.paid_contracts.insert(inv.contract_id);
        }
    }
    let invoices: Vec<(i64, &Invoice)> = write.iter().map(|((id, inv), _)| (*id, inv)).collect();
    sql::upsert_invoices(conn, &invoices).await
}
