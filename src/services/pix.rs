//! PIX notices from a PSP: each payment is stored once (by its `endToEndId`) and, in the same
//! transaction, pays the invoice holding its txid through `Settlement` (so that a paid debt
//! gives the line back); its refunds are recorded and, when they return the whole payment,
//! the invoice it paid is opened again.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::settle::{Pending, Settled, Settlement};
use crate::domain::pix_notice::{self, Notice, Outcome};
use crate::observe::metrics::Metrics;
use crate::store::{WriteTx, invoice_events, invoices, pix};

/// Who pays, on the invoice's history and the line's change.
const ACTOR: &str = "pix";

/// What became of one entry of a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub end_to_end_id: String,
    /// `None`: the payment was stored before (a replay); nothing was paid again.
    pub outcome: Option<Outcome>,
    pub invoice_id: Option<i64>,
    /// Refunds recorded or changed by this delivery.
    pub refunds_changed: usize,
    /// Its refunds returned the whole payment and the invoice was opened again.
    pub reopened: bool,
}

#[derive(Clone)]
pub struct PixNotices {
    pub settlement: Settlement,
    pub metrics: Arc<Metrics>,
}

impl PixNotices {
    /// Stores every entry, each in its own transaction, in order; returns once all are
    /// durable. An error leaves the entries before it stored: the PSP delivers the notice
    /// again, and those are replays.
    pub async fn receive(&self, notices: &[Notice]) -> Result<Vec<Stored>, sqlx::Error> {
        let mut stored = Vec::with_capacity(notices.len());
        for notice in notices {
            stored.push(self.one(notice).await?);
        }
        Ok(stored)
    }

    async fn one(&self, notice: &Notice) -> Result<Stored, sqlx::Error> {
        let now = Utc::now();
        let mut tx = self.settlement.store.write().await?;
        let invoice_id = match &notice.txid {
            Some(txid) => pix::invoice_by_txid(&mut tx, txid).await?,
            None => None,
        };
        let mut pending = None;
        let outcome = match pix::claim(&mut tx, notice, invoice_id, now).await? {
            None => None,
            Some(id) => {
                let (outcome, reason, paying) = self.settle(&mut tx, notice, invoice_id).await?;
                pix::set_outcome(&mut tx, id, outcome, reason.as_deref()).await?;
                pending = paying;
                Some(outcome)
            }
        };
        let (refunds_changed, reopened) = if notice.refunds.is_empty() {
            (0, false)
        } else {
            self.refunds(&mut tx, notice, now).await?
        };
        match pending {
            Some(pending) => {
                self.settlement.finish(tx, pending).await?;
            }
            None => tx.commit().await?,
        }
        self.metrics
            .pix_notice(outcome.map_or("repetida", Outcome::as_str));
        Ok(Stored {
            end_to_end_id: notice.end_to_end_id.clone(),
            outcome,
            invoice_id,
            refunds_changed,
            reopened,
        })
    }

    /// Pays the matched invoice; the outcome, its reason, and the payment to finish.
    async fn settle(
        &self,
        tx: &mut WriteTx,
        notice: &Notice,
        invoice_id: Option<i64>,
    ) -> Result<(Outcome, Option<String>, Option<Pending>), sqlx::Error> {
        let Some(invoice_id) = invoice_id else {
            let reason = match &notice.txid {
                Some(_) => "nenhuma fatura com este txid",
                None => "pagamento sem txid",
            };
            return Ok((Outcome::Unknown, Some(reason.into()), None));
        };
        let Some((_, amount, _)) = invoices::settle_row(tx, invoice_id).await? else {
            return Ok((Outcome::Unknown, Some("fatura removida".into()), None));
        };
        let date = notice.paid_on(self.settlement.tz).to_string();
        let pending = self
            .settlement
            .pay_in(tx, invoice_id, &date, Some(notice.amount_cents), ACTOR)
            .await?;
        let e2e = &notice.end_to_end_id;
        let paid = money(notice.amount_cents);
        let (outcome, reason, kind, detail, cents) = match pending.settled() {
            Settled::Done(_) => {
                let diff = amount - notice.amount_cents;
                let (kind, detail) = if diff > 0 {
                    (
                        "pagamento_parcial",
                        format!(
                            "PIX {e2e} pagou {paid} de {}: faltam {}.",
                            money(amount),
                            money(diff)
                        ),
                    )
                } else if diff < 0 {
                    (
                        "pagamento_a_maior",
                        format!(
                            "PIX {e2e} pagou {paid} de {}: {} a mais.",
                            money(amount),
                            money(-diff)
                        ),
                    )
                } else {
                    ("pago", format!("PIX {e2e} pagou {paid}."))
                };
                // The event's amount: the difference, or the payment when there is none.
                let cents = if diff == 0 {
                    notice.amount_cents
                } else {
                    diff.abs()
                };
                (Outcome::Paid, None, kind, detail, cents)
            }
            Settled::AlreadyPaid => (
                Outcome::AlreadyPaid,
                Some("fatura já paga".to_string()),
                "pix_sem_efeito",
                format!("PIX {e2e} de {paid} recebido com a fatura já paga."),
                notice.amount_cents,
            ),
            Settled::AlreadyCancelled => (
                Outcome::Refused,
                Some("fatura cancelada".to_string()),
                "pix_sem_efeito",
                format!("PIX {e2e} de {paid} recebido com a fatura cancelada."),
                notice.amount_cents,
            ),
            Settled::NotFound => {
                return Ok((Outcome::Unknown, Some("fatura removida".into()), None));
            }
        };
        invoice_events::record(
            tx,
            invoice_id,
            ACTOR,
            kind,
            &detail,
            Some(cents),
            &crate::store::ts(Utc::now()),
        )
        .await?;
        let paying = (outcome == Outcome::Paid).then_some(pending);
        Ok((outcome, reason, paying))
    }

    /// Records the refunds of a stored notice; opens its invoice again when they return the
    /// whole payment it made. (Refunds changed, reopened.)
    async fn refunds(
        &self,
        tx: &mut WriteTx,
        notice: &Notice,
        now: DateTime<Utc>,
    ) -> Result<(usize, bool), sqlx::Error> {
        let backend = self.settlement.store.backend;
        let Some(claimed) = pix::claimed(tx, backend, &notice.end_to_end_id).await? else {
            return Ok((0, false));
        };
        let mut changed = 0;
        for refund in &notice.refunds {
            if !pix::record_refund(tx, claimed.id, &notice.end_to_end_id, refund, now).await? {
                continue;
            }
            changed += 1;
            if let Some(invoice_id) = claimed.invoice_id {
                invoice_events::record(
                    tx,
                    invoice_id,
                    ACTOR,
                    "devolucao",
                    &format!(
                        "Devolução {} do PIX {} de {}: {}.",
                        refund.id,
                        notice.end_to_end_id,
                        money(refund.amount_cents),
                        refund.status.as_str()
                    ),
                    Some(refund.amount_cents),
                    &crate::store::ts(now),
                )
                .await?;
            }
        }
        let paid_by_it = claimed.outcome == Outcome::Paid.as_str();
        let (Some(invoice_id), true, None) = (claimed.invoice_id, paid_by_it, &claimed.reopened_at)
        else {
            return Ok((changed, false));
        };
        let all = pix::refunds_of(tx, claimed.id).await?;
        if !pix_notice::returns_whole(
            claimed.amount_cents,
            all.iter().map(|(cents, status)| (*cents, status.as_str())),
        ) {
            return Ok((changed, false));
        }
        let detail = format!(
            "PIX {} devolvido por inteiro ({}): fatura em aberto de novo.",
            notice.end_to_end_id,
            money(claimed.amount_cents)
        );
        let reopened = self
            .settlement
            .reopen(tx, invoice_id, ACTOR, &detail, claimed.amount_cents)
            .await?;
        if reopened {
            pix::mark_reopened(tx, claimed.id, now).await?;
        }
        Ok((changed, reopened))
    }
}

/// `R$ 1.234,56`, for the invoice's history.
fn money(cents: i64) -> String {
    format!("R$ {}", crate::domain::money::brl(cents))
}
