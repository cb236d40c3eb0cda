//! `enviafatura` (CONTRACT.md §2.3): send the open invoices by e-mail or SMS.
//! The message is recorded as queued (with its protocol and ticket) before the attempt, so
//! that nothing acknowledged is lost; the attempt's outcome is recorded after it.

use serde_json::{Value, json};

use super::Ctx;
use crate::domain::{boleto, money};
use crate::http::error::ApiError;
use crate::store::contracts::{self, Invoice};
use crate::store::messages::{self, NewMessage};
use crate::store::protocols::{self, Owner};
use crate::store::tickets::{self, NewTicket};

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

fn due_text(invoice: &Invoice) -> String {
    chrono::NaiveDate::parse_from_str(&invoice.due_on, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| invoice.due_on.clone())
}

fn email_text(provider: &str, name: &str, invoices: &[Invoice]) -> String {
    let mut text = format!(
        "Olá, {name}.\n\nSegue a segunda via da(s) sua(s) fatura(s) em aberto com {provider}:\n\n"
    );
    for inv in invoices {
        text.push_str(&format!(
            "Fatura {}\nValor: R$ {}\nVencimento: {}\n",
            inv.id,
            money::brl(inv.amount_cents),
            due_text(inv)
        ));
        if let Some(line) = inv.digitable_line.as_deref().filter(|l| !l.is_empty()) {
            text.push_str(&format!(
                "Linha digitável: {}\n",
                boleto::format_linha(line)
            ));
        }
        if let Some(pix) = inv.pix_payload.as_deref().filter(|p| !p.is_empty()) {
            text.push_str(&format!("PIX copia e cola: {pix}\n"));
        }
        text.push('\n');
    }
    text.push_str("Se já pagou, desconsidere esta mensagem.\n");
    text
}

fn sms_text(provider: &str, invoices: &[Invoice]) -> String {
    let mut text = String::new();
    for inv in invoices {
        text.push_str(&format!(
            "{provider}: fatura R$ {} venc. {}.",
            money::brl(inv.amount_cents),
            due_text(inv)
        ));
        if let Some(line) = inv.digitable_line.as_deref().filter(|l| !l.is_empty()) {
            text.push_str(&format!(" Linha digitavel: {line}."));
        }
        if let Some(pix) = inv.pix_payload.as_deref().filter(|p| !p.is_empty()) {
            text.push_str(&format!(" PIX: {pix}"));
        }
        text.push('\n');
    }
    text.trim_end().to_string()
}

pub async fn run(ctx: &Ctx) -> Result<Value, ApiError> {
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
        let mut conn = store.pool.acquire().await?;
        ctx.find_contract(&mut conn, id).await?
    };
    let Some(contract) = contract else {
        return Ok(ctx.not_found(id));
    };
    let answer = |status: i64, msg: &str, protocol: Option<&str>| {
        let mut map = ctx.finish(ctx.answer(status, &contract), msg, &contract);
        if let Some(p) = protocol {
            map.insert("protocolo".into(), json!(p));
        }
        Value::Object(map)
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

    let provider = settings.provedor.nome.as_str();
    let (recipients, subject, body) = match channel {
        Channel::Email => (
            contacts.clone(),
            Some(format!("Segunda via de fatura - {provider}")),
            email_text(provider, &contract.customer_name, &invoices),
        ),
        // One mobile is enough: every SMS costs the provider.
        Channel::Sms => (
            contacts.into_iter().take(1).collect(),
            None,
            sms_text(provider, &invoices),
        ),
    };
    let recipient_list = recipients.join(", ");

    let mut tx = store.write().await?;
    let protocol = protocols::allocate(
        &mut tx,
        ctx.now,
        ctx.today,
        Owner {
            contract_id: Some(id),
            customer_id: contract.customer_id,
            origin: "enviafatura",
        },
        ctx.params.get("protocolo"),
    )
    .await?;
    let message_id = messages::insert_queued(
        &mut tx,
        NewMessage {
            contract_id: id,
            channel: channel.name(),
            recipient: &recipient_list,
            subject: subject.as_deref(),
            body: &body,
            protocol: &protocol,
            now: ctx.now,
        },
    )
    .await?;
    tickets::insert(
        &mut tx,
        NewTicket {
            protocol: &protocol,
            contract_id: id,
            type_id: INVOICE_TICKET_TYPE,
            sector_id: Some(FINANCE_SECTOR),
            content: &format!(
                "Envio de segunda via por {} solicitado via URA ({} fatura(s))",
                channel.name(),
                invoices.len()
            ),
            caller: ctx.caller(),
            app_id: ctx.app.id,
            now: ctx.now,
        },
    )
    .await?;
    tx.commit().await?;

    let outcome = match channel {
        Channel::Email => {
            ctx.state
                .notifier
                .send_email(&recipients, subject.as_deref().unwrap_or_default(), &body)
                .await
        }
        Channel::Sms => {
            let to = recipients.first().map(String::as_str).unwrap_or_default();
            ctx.state.notifier.send_sms(to, &body).await
        }
    };
    if let Err(e) = messages::record_attempt(
        store,
        message_id,
        outcome.as_ref().map(|_| ()).map_err(String::as_str),
    )
    .await
    {
        tracing::error!(error = %e, message_id, "não foi possível registrar o resultado do envio");
    }
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
