//! Settling an invoice: paid (with the date and amount the payer reports) or cancelled. Only
//! an open invoice changes, and only once: the change is conditional on the stored status,
//! so two settlements racing on one invoice leave exactly one winner.
//!
//! Every way an invoice becomes paid goes through `pay`: when its contract was blocked or
//! reduced for debt and no overdue debt (at or above `cobranca.valor_minimo`) is left, the
//! same transaction gives the line back (`Ativo`, FreeRADIUS rows, protocol, history); after
//! the commit the equipment is disconnected to re-authenticate and the customer is told.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::line::{Change, Changed, LineControl};
use crate::domain::states::{ContractStatus, InvoiceStatus, StatusReason};
use crate::notify::templates::RestoredContext;
use crate::store::{Store, WriteTx, dunning, invoice_events, invoices};

/// What became of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Done; with the change that gave the line back, when there was one.
    Done(Option<Changed>),
    NotFound,
    AlreadyPaid,
    AlreadyCancelled,
}

/// A payment made in a caller's transaction, waiting for `Settlement::finish`.
#[derive(Debug)]
#[must_use = "a pending payment is committed by Settlement::finish"]
pub struct Pending {
    settled: Settled,
    restored: Option<Changed>,
    now: DateTime<Utc>,
}

impl Pending {
    /// What became of the invoice (`Done` before the line is given back).
    pub fn settled(&self) -> &Settled {
        &self.settled
    }
}

#[derive(Clone)]
pub struct Settlement {
    pub store: Store,
    pub line: LineControl,
    pub tz: Tz,
    /// Overdue debts below this (centavos) do not keep a line blocked.
    pub min_cents: i64,
    /// Whether the customer is told that the access is back (`acesso_restabelecido`).
    pub notify_restored: bool,
}

impl Settlement {
    /// Pays the invoice on `date` (`YYYY-MM-DD`) with `paid_cents` (None: its amount).
    /// `actor` names who paid (`admin:NAME`, `retorno`, `pix`...).
    pub async fn pay(
        &self,
        id: i64,
        date: &str,
        paid_cents: Option<i64>,
        actor: &str,
    ) -> Result<Settled, sqlx::Error> {
        let mut tx = self.store.write().await?;
        let pending = self.pay_in(&mut tx, id, date, paid_cents, actor).await?;
        self.finish(tx, pending).await
    }

    /// `pay` inside the caller's transaction, for a payment whose record (a PIX notice, a
    /// return file's line) must commit with it: the caller writes its rows in `tx`, then
    /// calls `finish`, which commits and gives the line back.
    pub async fn pay_in(
        &self,
        tx: &mut WriteTx,
        id: i64,
        date: &str,
        paid_cents: Option<i64>,
        actor: &str,
    ) -> Result<Pending, sqlx::Error> {
        let now = Utc::now();
        let pending = |settled| Pending {
            settled,
            restored: None,
            now,
        };
        let Some((status, amount, contract_id)) = invoices::settle_row(tx, id).await? else {
            return Ok(pending(Settled::NotFound));
        };
        if status != InvoiceStatus::Open {
            return Ok(pending(already(status)));
        }
        if !invoices::mark_paid(tx, id, date, paid_cents.unwrap_or(amount)).await? {
            // Lost the race (PostgreSQL): the winner has committed, and this transaction
            // reads what it made of the invoice.
            let settled = match invoices::settle_row(tx, id).await? {
                Some((status, _, _)) => already(status),
                None => Settled::NotFound,
            };
            return Ok(pending(settled));
        }
        let restored = self.restore_in(tx, contract_id, actor, now).await?;
        Ok(Pending {
            settled: Settled::Done(None),
            restored,
            now,
        })
    }

    /// Commits a `pay_in` (whatever its outcome: the caller's rows are kept), then acts on
    /// the network and queues the customer's message when the line came back.
    pub async fn finish(&self, tx: WriteTx, pending: Pending) -> Result<Settled, sqlx::Error> {
        let restored = self.commit(tx, pending.restored, pending.now).await?;
        Ok(match pending.settled {
            Settled::Done(_) => Settled::Done(restored),
            other => other,
        })
    }

    /// `finish` for several `pay_in`s made in one transaction (a batch of a return file's
    /// lines): one commit for all, then each line that came back is acted on.
    pub async fn finish_many(
        &self,
        mut tx: WriteTx,
        pending: Vec<Pending>,
    ) -> Result<Vec<Settled>, sqlx::Error> {
        let mut messages = Vec::with_capacity(pending.len());
        for p in &pending {
            messages.push(match &p.restored {
                Some(changed) if self.notify_restored => {
                    self.queue_restored(&mut tx, changed, p.now).await?
                }
                _ => Vec::new(),
            });
        }
        tx.commit().await?;
        let mut settled = Vec::with_capacity(pending.len());
        for (p, messages) in pending.into_iter().zip(messages) {
            if let Some(changed) = &p.restored {
                self.line.committed(changed);
                self.line.deliver(messages);
            }
            settled.push(match p.settled {
                Settled::Done(_) => Settled::Done(p.restored),
                other => other,
            });
        }
        Ok(settled)
    }

    /// Opens a paid invoice again, inside the caller's transaction: its payment came back to
    /// the payer (a PIX refunded whole). Status `open`, `paid_on` and `paid_cents` cleared, an
    /// event on its history (`source`, `detail`, the amount returned). The line is not
    /// touched here: the dunning rule decides on its next run, as for any open invoice.
    /// False when the invoice was not paid (nothing changes).
    pub async fn reopen(
        &self,
        tx: &mut WriteTx,
        invoice_id: i64,
        source: &str,
        detail: &str,
        returned_cents: i64,
    ) -> Result<bool, sqlx::Error> {
        if !invoices::mark_reopened(tx, invoice_id).await? {
            return Ok(false);
        }
        invoice_events::record(
            tx,
            invoice_id,
            source,
            "reaberta",
            detail,
            Some(returned_cents),
            &crate::store::ts(Utc::now()),
        )
        .await?;
        Ok(true)
    }

    /// Gives the contract's line back when its debt is paid by other means than `pay` (an
    /// import that marked invoices paid), in a transaction of its own.
    pub async fn restore(
        &self,
        contract_id: i64,
        actor: &str,
    ) -> Result<Option<Changed>, sqlx::Error> {
        let now = Utc::now();
        let mut tx = self.store.write().await?;
        let restored = self.restore_in(&mut tx, contract_id, actor, now).await?;
        self.commit(tx, restored, now).await
    }

    /// Cancels the invoice on `date` (`YYYY-MM-DD`).
    pub async fn cancel(&self, id: i64, date: &str) -> Result<Settled, sqlx::Error> {
        let mut tx = self.store.write().await?;
        let Some((status, _, _)) = invoices::settle_row(&mut tx, id).await? else {
            return Ok(Settled::NotFound);
        };
        if status != InvoiceStatus::Open {
            return Ok(already(status));
        }
        if !invoices::mark_cancelled(&mut tx, id, date).await? {
            drop(tx);
            return self.lost(id).await;
        }
        tx.commit().await?;
        Ok(Settled::Done(None))
    }

    /// In the payment's transaction: gives the line back when the contract was blocked or
    /// reduced for debt and no overdue debt is left. The contract row is locked first, so two
    /// payments of its last invoices arriving at once restore it once.
    async fn restore_in(
        &self,
        tx: &mut crate::store::Conn,
        contract_id: i64,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Changed>, sqlx::Error> {
        let Some((status, reason)) =
            dunning::lock_status(tx, self.store.backend, contract_id).await?
        else {
            return Ok(None);
        };
        let blocked = matches!(
            status,
            ContractStatus::Suspended | ContractStatus::ReducedSpeed
        );
        if !blocked || reason != Some(StatusReason::Debt) {
            return Ok(None);
        }
        let today = now.with_timezone(&self.tz).date_naive();
        let (_, overdue) = dunning::overdue(tx, contract_id, today).await?;
        if overdue > 0 && overdue >= self.min_cents {
            return Ok(None);
        }
        let customer_id = invoices::customer_of_contract(tx, contract_id).await?;
        let actor = format!("pagamento:{actor}");
        self.line
            .change(
                tx,
                Change {
                    contract_id,
                    customer_id,
                    from: status,
                    to: ContractStatus::Active,
                    reason: StatusReason::Payment,
                    actor: &actor,
                    origin: "pagamento",
                    now,
                    today,
                },
            )
            .await
    }

    /// Queues the customer's message (when asked for), commits, then the effects.
    async fn commit(
        &self,
        mut tx: WriteTx,
        restored: Option<Changed>,
        now: DateTime<Utc>,
    ) -> Result<Option<Changed>, sqlx::Error> {
        let messages = match &restored {
            Some(changed) if self.notify_restored => {
                self.queue_restored(&mut tx, changed, now).await?
            }
            _ => Vec::new(),
        };
        tx.commit().await?;
        if let Some(changed) = &restored {
            self.line.committed(changed);
            self.line.deliver(messages);
        }
        Ok(restored)
    }

    async fn queue_restored(
        &self,
        tx: &mut crate::store::Conn,
        changed: &Changed,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, sqlx::Error> {
        let name = invoices::customer_name(tx, changed.customer_id).await?;
        let context = RestoredContext {
            provedor: self.line.provider(),
            cliente: LineControl::customer(&name),
            contrato: changed.contract_id,
            protocolo: changed.protocol.clone(),
        };
        self.line
            .queue_message(
                tx,
                (changed.contract_id, changed.customer_id),
                "acesso_restabelecido",
                &context,
                &changed.protocol,
                now,
            )
            .await
    }

    /// The race was lost: what the winner made of the invoice.
    async fn lost(&self, id: i64) -> Result<Settled, sqlx::Error> {
        let mut conn = self.store.acquire().await?;
        Ok(match invoices::settle_row(&mut conn, id).await? {
            Some((status, _, _)) => already(status),
            None => Settled::NotFound,
        })
    }
}

fn already(status: InvoiceStatus) -> Settled {
    if status == InvoiceStatus::Paid {
        Settled::AlreadyPaid
    } else {
        Settled::AlreadyCancelled
    }
}
