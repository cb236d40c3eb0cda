//! The read routes beside the six (CONTRACT.md §3): `fatura2via`, `titulos`,
//! `pagamento/pix/{fatura}`.

use chrono::NaiveDate;
use serde_json::Value;

use super::Ctx;
use super::answers::{
    self, Bill, Fatura2Via, NoOpenInvoices, PagamentoPix, Paginacao, Pix, Reais, SecondCopies,
    SecondCopy, StatusMsg, Titulos,
};
use crate::domain::document;
use crate::domain::invoice::{self, Charges};
use crate::domain::states::InvoiceStatus;
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

    /// Absolute link to the invoice's PDF, for the caller's answer.
    pub fn pdf_link(&self, invoice_id: i64) -> String {
        format!("{}{}", self.origin, self.pdf_path(invoice_id))
    }

    /// Absolute link to the invoice's PDF for a message to the customer: from `public_url`,
    /// never from the request's `Host` (see `Settings::message_origin`).
    pub fn message_link(&self, invoice_id: i64) -> String {
        format!(
            "{}{}",
            self.state.settings.message_origin(),
            self.pdf_path(invoice_id)
        )
    }

    fn pdf_path(&self, invoice_id: i64) -> String {
        let days = i64::from(self.state.settings.fatura.link_validade_dias.max(1));
        self.state
            .links
            .path(invoice_id, self.now + chrono::TimeDelta::days(days))
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
            let mut conn = ctx.state.store.acquire().await?;
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

pub async fn fatura2via(ctx: &Ctx) -> Result<Value, ApiError> {
    answers::to_value(second_copies(ctx).await?)
}

async fn second_copies(ctx: &Ctx) -> Result<Fatura2Via, ApiError> {
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
        Target::NotFoundContract(id) => return Ok(Fatura2Via::ContractNotFound(ctx.not_found(id))),
        Target::NotFoundCustomer => {
            return Ok(Fatura2Via::CustomerNotFound(ctx.customer_not_found()));
        }
    };
    fatura2via_for(ctx, &contract, scope).await
}

async fn fatura2via_for(
    ctx: &Ctx,
    contract: &Contract,
    scope: Scope<'_>,
) -> Result<Fatura2Via, ApiError> {
    let (rows, _) = invoices::page(
        &ctx.state.store,
        scope,
        Some(InvoiceStatus::Open),
        0,
        MAX_LIMIT,
    )
    .await?;
    if rows.is_empty() {
        return Ok(Fatura2Via::NoInvoices(NoOpenInvoices {
            status: 0,
            razao_social: contract.customer_name.clone(),
            links: Vec::new(),
        }));
    }
    let links: Vec<SecondCopy> = rows
        .iter()
        .map(|inv| {
            let charges = ctx.charges(inv);
            let due = date(&inv.due_on);
            let late = charges.days_late > 0;
            SecondCopy {
                id: inv.id,
                fatura: inv.id,
                valor: Reais(charges.total_cents),
                valor_original: Reais(inv.amount_cents),
                // A late invoice is paid today at its corrected amount.
                vencimento: if late {
                    br_date(ctx.today)
                } else {
                    due.map(br_date).unwrap_or_default()
                },
                vencimento_original: due.map(br_date).unwrap_or_default(),
                juros: Reais(charges.interest_cents),
                multa: Reais(charges.fine_cents),
                linhadigitavel: inv.digitable_line.clone().unwrap_or_default(),
                codigopix: inv.pix_payload.clone().unwrap_or_default(),
                link: ctx.pdf_link(inv.id),
            }
        })
        .collect();
    Ok(Fatura2Via::Invoices(SecondCopies {
        head: ctx.head(1, contract),
        contrato_id: contract.id,
        link: links.first().map(|l| l.link.clone()),
        links,
    }))
}

pub async fn titulos(ctx: &Ctx) -> Result<Value, ApiError> {
    answers::to_value(bills(ctx).await?)
}

async fn bills(ctx: &Ctx) -> Result<Titulos, ApiError> {
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
    let empty = |offset: i64, limit: i64| Titulos {
        paginacao: Paginacao {
            offset,
            limit,
            parcial: 0,
            total: 0,
        },
        titulos: Vec::new(),
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
    let titulos: Vec<Bill> = rows
        .into_iter()
        .map(|inv| {
            let charges = ctx.charges(&inv);
            Bill {
                id: inv.id,
                link: ctx.pdf_link(inv.id),
                cliente_nome: inv.customer_name,
                cliente_contrato: inv.contract_id,
                numero_documento: inv.document_number,
                nosso_numero: inv.our_number,
                status: inv.status.label(),
                valor: Reais(inv.amount_cents),
                valor_corrigido: Reais(charges.total_cents),
                valor_pago: inv.paid_cents.map(Reais),
                linha_digitavel: inv.digitable_line,
                codigo_barras: inv.barcode,
                codigo_pix: inv.pix_payload,
                data_emissao: inv.issued_on,
                data_vencimento: inv.due_on,
                data_pagamento: inv.paid_on,
                data_cancelamento: inv.cancelled_on,
            }
        })
        .collect();
    Ok(Titulos {
        paginacao: Paginacao {
            offset,
            limit,
            parcial: titulos.len(),
            total,
        },
        titulos,
    })
}

pub async fn pix(ctx: &Ctx) -> Result<Value, ApiError> {
    answers::to_value(pix_code(ctx).await?)
}

async fn pix_code(ctx: &Ctx) -> Result<PagamentoPix, ApiError> {
    let Some(id) = ctx.path_arg.as_deref() else {
        return Err(ApiError::required("fatura"));
    };
    let id: i64 = id
        .trim()
        .parse()
        .map_err(|_| ApiError::not_integer("fatura"))?;
    let refused = |msg| PagamentoPix::Refused(StatusMsg { status: 0, msg });
    let Some(inv) = invoices::by_id(&ctx.state.store, id).await? else {
        return Ok(refused("Fatura não localizada"));
    };
    // With a document, the invoice must be that customer's.
    if let Some(given) = ctx.params.get("cpfcnpj")
        && document::parse(given).map(|d| d.as_str().to_string())
            != Some(inv.customer_document.clone())
    {
        return Ok(refused("Fatura não localizada"));
    }
    let Some(code) = inv.pix_payload.clone().filter(|p| !p.is_empty()) else {
        return Ok(refused("Fatura sem PIX"));
    };
    if inv.status != InvoiceStatus::Open {
        return Ok(refused("Fatura sem PIX"));
    }
    let charges = ctx.charges(&inv);
    Ok(PagamentoPix::Pix(Pix {
        status: 1,
        fatura: inv.id,
        valor: Reais(charges.total_cents),
        vencimento: inv.due_on,
        codigopix: code,
    }))
}
