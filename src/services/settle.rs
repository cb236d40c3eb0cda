//! Settling an invoice: paid (with the date and amount the payer reports) or cancelled. Only
//! an open invoice changes, and only once: the change is conditional on the stored status,
//! so two settlements racing on one invoice leave exactly one winner.

use crate::domain::states::InvoiceStatus;
use crate::store::{Store, invoices};

/// What became of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Done,
    NotFound,
    AlreadyPaid,
    AlreadyCancelled,
}

#[derive(Clone)]
pub struct Settlement {
    pub store: Store,
}

impl Settlement {
    /// Pays the invoice on `date` (`YYYY-MM-DD`) with `paid_cents` (None: its amount).
    pub async fn pay(
        &self,
        id: i64,
        date: &str,
        paid_cents: Option<i64>,
    ) -> Result<Settled, sqlx::Error> {
        let mut tx = self.store.write().await?;
        let Some((status, amount)) = invoices::status_and_amount(&mut tx, id).await? else {
            return Ok(Settled::NotFound);
        };
        if status != InvoiceStatus::Open {
            return Ok(already(status));
        }
        if !invoices::mark_paid(&mut tx, id, date, paid_cents.unwrap_or(amount)).await? {
            drop(tx);
            return self.lost(id).await;
        }
        tx.commit().await?;
        Ok(Settled::Done)
    }

    /// Cancels the invoice on `date` (`YYYY-MM-DD`).
    pub async fn cancel(&self, id: i64, date: &str) -> Result<Settled, sqlx::Error> {
        let mut tx = self.store.write().await?;
        let Some((status, _)) = invoices::status_and_amount(&mut tx, id).await? else {
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
        Ok(Settled::Done)
    }

    /// The race was lost: what the winner made of the invoice.
    async fn lost(&self, id: i64) -> Result<Settled, sqlx::Error> {
        let mut conn = self.store.acquire().await?;
        Ok(match invoices::status_and_amount(&mut conn, id).await? {
            Some((status, _)) => already(status),
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
