//! `enviafatura` (CONTRACT.md §2.3): send the open invoices by e-mail or SMS.
//! The message is recorded as queued (with its protocol and ticket) before the attempt, so
//! that nothing acknowledged is lost; the attempt's outcome is recorded after it.

use serde_json::Value;

use super::Ctx;
use super::answers::{self, EnviaFatura};
use crate::domain::{boleto, invoice, money};
use crate::http::error::ApiError;
use crate::notify::outbox;
use crate::notify::templates::{Customer, EmailContext, InvoiceView, Provider, SmsContext};
use crate::services;
use crate::store::contracts::{self, Invoice};
use crate::store::messages::{self, NewMessage};
use crate::store::protocols::Owner;

/// "Financeiro - Outros".
const INVOICE_TICKET_TYPE: i64 = 26;
const FINANCE_SECTOR: i64 = 2;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Channel {
    Email,
    Sms,
}

impl Channel {
    fn name(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

fn view(ctx: &Ctx, inv: &Invoice) -> InvoiceView {
    let due = chrono::NaiveDate::parse_from_str(&inv.due_on, "%Y-%m-%d").ok();
    let charges = due.map(|due| {
        invoice::corrected(
            inv.amount_cents,
            due,
            ctx.today,
            ctx.state.settings.fatura.multa,
            ctx.state.settings.fatura.juros_mes,
        )
    });
    let line = inv.digitable_line.clone().filter(|l| !l.is_empty());
    InvoiceView {
        id: inv.id,
        valor: money::brl(inv.amount_cents),
        valor_corrigido: money::brl(charges.map(|c| c.total_cents).unwrap_or(inv.amount_cents)),
        atrasada: charges.is_some_and(|c| c.days_late > 0),
        vencimento: due
            .map(|d| d.format("%d/%m/%Y").to_string())
            .unwrap_or_else(|| inv.due_on.clone()),
        linha: line
            .as_deref()
            .map(boleto::format_linha)
            .unwrap_or_default(),
        linha_digitos: line.unwrap_or_default(),
        pix: inv.pix_payload.clone().unwrap_or_default(),
        link: ctx.message_link(inv.id),
    }
}

pub async fn run(ctx: &Ctx) -> Result<Value, ApiError> {
    answers::to_value(answer(ctx).await?)
}

async fn answer(ctx: &Ctx) -> Result<EnviaFatura, ApiError> {
    let id = ctx.params.required_int("contrato")?;
    let channel = match ctx
        .params
        .get("tipo")
        .map(|t| t.trim().to_ascii_lowercase())
    {
        None => return Err(ApiError::required("tipo")),
        Some(t) if t == "email" || t == "e-mail" => Channel::Email,
        Some(t) if t == "sms" => Channel::Sms,
        Some(_) => {
            return Err(ApiError::bad_request(
                "Parâmetro 'tipo' inválido: use email ou sms.",
            ));
        }
    };
    let store = &ctx.state.store;
    let contract = {
        let mut conn = store.acquire().await?;
        ctx.find_contract(&mut conn, id).await?
    };
    let Some(contract) = contract else {
        return Ok(EnviaFatura::NotFound(ctx.not_found(id)));
    };
    let answer = |status: i64, msg: &str, protocol: Option<&str>| {
        EnviaFatura::Outcome(ctx.outcome(status, msg, &contract, protocol.map(str::to_string)))
    };
    let settings = &ctx.state.settings;
    let invoices =
        contracts::open_invoices(store, id, i64::from(settings.fatura.max_envio.max(1))).await?;
    if invoices.is_empty() {
        return Ok(answer(0, "Não há faturas em aberto", None));
    }
    let kind = match channel {
        Channel::Email => "email",
        Channel::Sms => "mobile",
    };
    let contacts = contracts::contacts(store, contract.customer_id, kind).await?;
    if contacts.is_empty() {
        let msg = match channel {
            Channel::Email => "Não há contato para enviar a fatura por email",
            Channel::Sms => "Não há contato para enviar a fatura por SMS",
        };
        return Ok(answer(2, msg, None));
    }

    let provider = Provider {
        nome: settings.provedor.nome.clone(),
    };
    let views: Vec<InvoiceView> = invoices.iter().map(|inv| view(ctx, inv)).collect();
    let templates = &ctx.state.templates;
    let rendered = match channel {
        Channel::Email => templates
            .email(&EmailContext {
                provedor: provider,
                cliente: Customer {
                    nome: contract.customer_name.clone(),
                },
                contrato: contract.id,
                faturas: views,
            })
            .map(|e| (Some(e.subject), e.text, Some(e.html))),
        Channel::Sms => views
            .into_iter()
            .map(|fatura| {
                templates.sms(&SmsContext {
                    provedor: provider.clone(),
                    fatura,
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|lines| (None, lines.join("\n"), None)),
    };
    let (subject, body, body_html) = rendered.map_err(|e| {
        tracing::error!(error = %e, "template de mensagem falhou");
        ApiError::internal()
    })?;
    let recipients: Vec<String> = match channel {
        Channel::Email => contacts,
        // One mobile is enough: every SMS costs the provider.
        Channel::Sms => contacts.into_iter().take(1).collect(),
    };
    let recipient_list = recipients.join(", ");
    let invoice_ids = invoices
        .iter()
        .map(|i| i.id.to_string())
        .collect::<Vec<_>>()
        .join(",");

    let mut tx = store.write().await?;
    let content = format!(
        "Envio de segunda via por {} solicitado via URA ({} fatura(s))",
        channel.name(),
        invoices.len()
    );
    let protocol = services::protocols::open(
        &mut tx,
        ctx.now,
        ctx.today,
        Owner {
            contract_id: Some(id),
            customer_id: contract.customer_id,
            origin: "enviafatura",
        },
        ctx.params.get("protocolo"),
        Some(ctx.ticket(INVOICE_TICKET_TYPE, Some(FINANCE_SECTOR), &content)),
    )
    .await?
    .protocol;
    let hold = outbox::hold(settings.fatura.tempo_max);
    let message_id = messages::insert_claimed(
        &mut tx,
        NewMessage {
            contract_id: id,
            channel: channel.name(),
            recipient: &recipient_list,
            subject: subject.as_deref(),
            body: &body,
            body_html: body_html.as_deref(),
            invoice_ids: &invoice_ids,
            protocol: &protocol,
            now: ctx.now,
            hold,
        },
    )
    .await?;
    tx.commit().await?;

    // One attempt now, within `fatura.tempo_max`; a failure stays queued for the worker.
    let outcome = ctx.state.outbox.deliver(message_id).await;
    match outcome {
        Ok(()) => {
            tracing::info!(
                "{} fatura enviada por {}, protocolo {protocol}",
                Ctx::log_ref(&contract),
                channel.name()
            );
            let msg = match channel {
                Channel::Email => "Fatura enviada por email com sucesso",
                Channel::Sms => "Fatura enviada por SMS com sucesso",
            };
            Ok(answer(1, msg, Some(&protocol)))
        }
        Err(e) => {
            tracing::warn!(error = %e, "{} falha no envio da fatura por {}, protocolo {protocol}", Ctx::log_ref(&contract), channel.name());
            Ok(answer(9, "Erro no envio da fatura", Some(&protocol)))
        }
    }
}
