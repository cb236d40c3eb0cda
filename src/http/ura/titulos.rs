//! The read routes beside the six (CONTRACT.md §3): `fatura2via`, `titulos`,
//! `pagamento/pix/{fatura}`.

use chrono::NaiveDate;
use serde_json::{Map, Value, json};

use super::Ctx;
use crate::domain::invoice::{self, Charges};
use crate::domain::states::InvoiceStatus;
use crate::domain::{document, money};
use crate::http::error::ApiError;
use crate::store::contracts::{self, Contract};
use crate::store::invoices::{self, InvoiceRow, Scope};

const MAX_LIMIT: i64 = 250;
const DEFAULT_LIMIT: i64 = 100;

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

fn br_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

impl Ctx {
    /// Fine and interest of an open invoice as of today.
    pub fn charges(&self, inv: &InvoiceRow) -> Charges {
        let settings = &self.state.settings.fatura;
        match date(&inv.due_on) {
            Some(due) if inv.status == InvoiceStatus::Open => invoice::corrected(
                inv.amount_cents,
                due,
                self.today,
                settings.multa,
                settings.juros_mes,
            ),
            _ => invoice::corrected(inv.amount_cents, self.today, self.today, 0.0, 0.0),
        }
    }

    /// Absolute link to the invoice's PDF.
    pub fn pdf_link(&self, invoice_id: i64) -> String {
        let days = i64::from(self.state.settings.fatura.link_validade_dias.max(1));
        let path = self
            .state
            .links
            .path(invoice_id, self.now + chrono::TimeDelta::days(days));
        format!("{}{path}", self.origin)
    }
}

/// The contract (`contrato`) or the customer's contracts (`cpfcnpj`); one is required.
enum Target {
    Contract(Contract),
    Customer(Vec<Contract>, String),
    NotFoundContract(i64),
    NotFoundCustomer,
}

async fn target(ctx: &Ctx) -> Result<Target, ApiError> {
    let id = ctx.params.int("contrato")?;
    let given = ctx.params.get("cpfcnpj");
    match (id, given) {
        (None, None) => Err(ApiError::bad_request("Informe cpfcnpj ou contrato.")),
        (Some(id), _) => {
            let mut conn = ctx.state.store.pool.acquire().await?;
            Ok(match ctx.find_contract(&mut conn, id).await? {
                Some(c) => Target::Contract(c),
                None => Target::NotFoundContract(id),
            })
        }
        (None, Some(given)) => {
            let Some(doc) = document::parse(given) else {
                return Ok(Target::NotFoundCustomer);
            };
            let found = contracts::by_document(&ctx.state.store, doc.as_str()).await?;
            if found.is_empty() {
                Ok(Target::NotFoundCustomer)
            } else {
                Ok(Target::Customer(found, doc.as_str().to_string()))
            }
        }
    }
}

fn not_found_customer(ctx: &Ctx) -> Value {
    let mut map = Map::new();
    map.insert("status".into(), json!(0));
    map.insert("msg".into(), json!("Cliente não localizado"));
    ctx.echo_caller(&mut map);
    Value::Object(map)
}

pub async fn fatura2via(ctx: &Ctx) -> Result<Value, ApiError> {
    let (contract, scope) = match target(ctx).await? {
        Target::Contract(c) => {
            let id = c.id;
            (c, Scope::Contract(id))
        }
        Target::Customer(list, _) => {
            let first = list.into_iter().next().ok_or_else(ApiError::internal)?;
            let doc = first.document.clone();
            // By document: every contract of the customer; answered for the lowest one.
            return fatura2via_for(ctx, &first, Scope::Document(&doc)).await;
        }
        Target::NotFoundContract(id) => return Ok(ctx.not_found(id)),
        Target::NotFoundCustomer => return Ok(not_found_customer(ctx)),
    };
    fatura2via_for(ctx, &contract, scope).await
}

async fn fatura2via_for(
    ctx: &Ctx,
    contract: &Contract,
    scope: Scope<'_>,
) -> Result<Value, ApiError> {
    let (rows, _) = invoices::page(
        &ctx.state.store,
        scope,
        Some(InvoiceStatus::Open),
        0,
        MAX_LIMIT,
    )
    .await?;
    if rows.is_empty() {
        return Ok(json!({
            "status": 0,
            "razaoSocial": contract.customer_name,
            "links": [],
        }));
    }
    let mut links = Vec::with_capacity(rows.len());
    for inv in &rows {
        let charges = ctx.charges(inv);
        let due = date(&inv.due_on);
        let late = charges.days_late > 0;
        let link = ctx.pdf_link(inv.id);
        links.push(json!({
            "id": inv.id,
            "fatura": inv.id,
            "valor": money::reais(charges.total_cents),
            "valor_original": money::reais(inv.amount_cents),
            // A late invoice is paid today at its corrected amount.
            "vencimento": if late { br_date(ctx.today) } else { due.map(br_date).unwrap_or_default() },
            "vencimento_original": due.map(br_date).unwrap_or_default(),
            "juros": money::reais(charges.interest_cents),
            "multa": money::reais(charges.fine_cents),
            "linhadigitavel": inv.digitable_line.clone().unwrap_or_default(),
            "codigopix": inv.pix_payload.clone().unwrap_or_default(),
            "link": link,
        }));
    }
    let first = links
        .first()
        .and_then(|l| l.get("link"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut map = ctx.answer(1, contract);
    map.insert("contratoId".into(), json!(contract.id));
    map.insert("link".into(), first);
    map.insert("links".into(), Value::Array(links));
    Ok(Value::Object(map))
}

pub async fn titulos(ctx: &Ctx) -> Result<Value, ApiError> {
    let status = match ctx
        .params
        .get("status")
        .map(|s| s.trim().to_ascii_lowercase())
    {
        None => None,
        Some(s) if s == "abertos" => Some(InvoiceStatus::Open),
        Some(s) if s == "pagos" => Some(InvoiceStatus::Paid),
        Some(s) if s == "cancelados" => Some(InvoiceStatus::Cancelled),
        Some(_) => {
            return Err(ApiError::bad_request(
                "Parâmetro 'status' inválido: use abertos, pagos ou cancelados.",
            ));
        }
    };
    let offset = ctx.params.int("offset")?.unwrap_or(0);
    let limit = ctx.params.int("limit")?.unwrap_or(DEFAULT_LIMIT);
    if offset < 0 {
        return Err(ApiError::bad_request(
            "Parâmetro 'offset' inválido: informe um número inteiro.",
        ));
    }
    if limit < 1 {
        return Err(ApiError::bad_request(
            "Parâmetro 'limit' inválido: informe um número inteiro.",
        ));
    }
    let limit = limit.min(MAX_LIMIT);
    let empty = |offset: i64, limit: i64| {
        json!({
            "paginacao": {"offset": offset, "limit": limit, "parcial": 0, "total": 0},
            "titulos": [],
        })
    };
    let (rows, total) = match target(ctx).await? {
        Target::Contract(c) => {
            invoices::page(
                &ctx.state.store,
                Scope::Contract(c.id),
                status,
                offset,
                limit,
            )
            .await?
        }
        Target::Customer(_, doc) => {
            invoices::page(
                &ctx.state.store,
                Scope::Document(&doc),
                status,
                offset,
                limit,
            )
            .await?
        }
        Target::NotFoundContract(_) | Target::NotFoundCustomer => return Ok(empty(offset, limit)),
    };
    let items: Vec<Value> = rows
        .iter()
        .map(|inv| {
            let charges = ctx.charges(inv);
            json!({
                "id": inv.id,
                "clienteNome": inv.customer_name,
                "clienteContrato": inv.contract_id,
                "numeroDocumento": inv.document_number,
                "nossoNumero": inv.our_number,
                "status": inv.status.label(),
                "valor": money::reais(inv.amount_cents),
                "valorCorrigido": money::reais(charges.total_cents),
                "valorPago": inv.paid_cents.map(money::reais),
                "linhaDigitavel": inv.digitable_line,
                "codigoBarras": inv.barcode,
                "codigoPix": inv.pix_payload,
                "link": ctx.pdf_link(inv.id),
                "dataEmissao": inv.issued_on,
                "dataVencimento": inv.due_on,
                "dataPagamento": inv.paid_on,
                "dataCancelamento": inv.cancelled_on,
            })
        })
        .collect();
    Ok(json!({
        "paginacao": {"offset": offset, "limit": limit, "parcial": items.len(), "total": total},
        "titulos": items,
    }))
}

pub async fn pix(ctx: &Ctx) -> Result<Value, ApiError> {
    let Some(id) = ctx.path_arg.as_deref() else {
        return Err(ApiError::required("fatura"));
    };
    let id: i64 = id
        .trim()
        .parse()
        .map_err(|_| ApiError::not_integer("fatura"))?;
    let no_pix = || json!({"status": 0, "msg": "Fatura sem PIX"});
    let Some(inv) = invoices::by_id(&ctx.state.store, id).await? else {
        return Ok(json!({"status": 0, "msg": "Fatura não localizada"}));
    };
    // With a document, the invoice must be that customer's.
    if let Some(given) = ctx.params.get("cpfcnpj")
        && document::parse(given).map(|d| d.as_str().to_string())
            != Some(inv.customer_document.clone())
    {
        return Ok(json!({"status": 0, "msg": "Fatura não localizada"}));
    }
    let Some(code) = inv.pix_payload.clone().filter(|p| !p.is_empty()) else {
        return Ok(no_pix());
    };
    if inv.status != InvoiceStatus::Open {
        return Ok(no_pix());
    }
    let charges = ctx.charges(&inv);
    Ok(json!({
        "status": 1,
        "fatura": inv.id,
        "valor": money::reais(charges.total_cents),
        "vencimento": inv.due_on,
        "codigopix": code,
    }))
}
