//! The notices of a dunning run, a batch of contracts per transaction: each statement of a
//! notice (the contracts' lock and debt, the protocols, the notices' record, the contacts,
//! the messages) runs once for the whole batch. A provider's first run sends one to every
//! debtor at once, and a transaction per notice made it hundreds of times slower.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use super::{Decided, Dunning, br_date, first_day, step_label};
use crate::domain::dunning::{Action, Rule, Step};
use crate::domain::money;
use crate::domain::states::ContractStatus;
use crate::notify::outbox;
use crate::notify::templates::{Message, NoticeContext};
use crate::services::line::{LineControl, addressed};
use crate::store::dunning::{self as rows, Candidate};
use crate::store::messages::{self, BatchMessage};
use crate::store::{contracts, is_deadlock, protocols};

/// Notices written per transaction. Kept small enough that the writer's turn (SQLite) and the
/// contracts' locks (PostgreSQL) last a few milliseconds.
const NOTICE_BATCH: usize = 200;
/// Contracts whose notice a run delivers itself, right after its commit; the outbox's worker
/// (`ura serve`, at its own pace) sends the rest. A small run is delivered at once; a
/// provider's first run, a notice to every debtor, records them all without waiting for
/// the mail server or the SMS gateway.
pub(super) const DELIVERED_BY_THE_RUN: usize = 256;

/// What a batch did: the protocol of each contract noticed, and the messages left to the
/// outbox's worker.
struct Batch {
    noticed: Vec<(i64, String)>,
    queued: usize,
}

impl Dunning {
    /// Sends the notices the page's decisions call for, `NOTICE_BATCH` contracts per
    /// transaction: the protocol of each contract noticed now, and the messages queued.
    /// `to_deliver`: how many more contracts' messages the run delivers itself.
    pub(super) async fn notify_page(
        &self,
        rule: &Rule,
        page: &[Decided],
        (now, today): (DateTime<Utc>, NaiveDate),
        to_deliver: &mut usize,
    ) -> Result<(HashMap<i64, String>, usize), sqlx::Error> {
        let due: Vec<(&Candidate, Step)> = page
            .iter()
            .filter_map(|d| match d.decision.action {
                Action::Notify(step) => Some((&d.candidate, step)),
                _ => None,
            })
            .collect();
        let mut noticed = HashMap::new();
        let mut queued = 0;
        for batch in due.chunks(NOTICE_BATCH) {
            let mut tries = 0;
            let sent = loop {
                match self.notify_batch(rule, batch, now, today, to_deliver).await {
                    // PostgreSQL broke a lock cycle with a writer of one of these contracts
                    // by undoing this batch: it is tried again, as the next run would.
                    Err(e) if is_deadlock(&e) && tries < 3 => tries += 1,
                    other => break other?,
                }
            };
            noticed.extend(sent.noticed);
            queued += sent.queued;
        }
        Ok((noticed, queued))
    }

    /// Sends the notices of a batch of contracts in one transaction: for each contract still
    /// as the run read it and still owing (checked with the contracts locked), a protocol,
    /// the notice's record and its messages. The messages are delivered after the commit
    /// while `to_deliver` lasts and the effects' backlog has room; otherwise they are left
    /// queued for the outbox's worker.
    async fn notify_batch(
        &self,
        rule: &Rule,
        batch: &[(&Candidate, Step)],
        now: DateTime<Utc>,
        today: NaiveDate,
        to_deliver: &mut usize,
    ) -> Result<Batch, sqlx::Error> {
        let store = &self.line.store;
        let backend = store.backend;
        let mut tx = store.write().await?;
        let ids: Vec<i64> = batch.iter().map(|(c, _)| c.contract_id).collect();
        let statuses: HashMap<i64, ContractStatus> = rows::lock_statuses(&mut tx, backend, &ids)
            .await?
            .into_iter()
            .collect();
        let owed: HashMap<i64, (Option<String>, i64)> =
            rows::overdue_of(&mut tx, backend, &ids, today)
                .await?
                .into_iter()
                .map(|(id, oldest, sum)| (id, (oldest, sum)))
                .collect();
        // What `still_owed` checks, for each contract of the batch.
        let due: Vec<(&Candidate, Step, String, i64)> = batch
            .iter()
            .filter_map(|&(c, step)| {
                let (oldest, overdue) = owed.get(&c.contract_id)?;
                let still = statuses.get(&c.contract_id) == Some(&c.status)
                    && *overdue > 0
                    && *overdue >= rule.min_cents;
                still.then(|| {
                    let oldest = oldest.clone().unwrap_or_else(|| c.oldest_due.clone());
                    (c, step, oldest, *overdue)
                })
            })
            .collect();
        let owners: Vec<(i64, i64)> = due
            .iter()
            .map(|(c, ..)| (c.contract_id, c.customer_id))
            .collect();
        let protocols =
            protocols::allocate_many(&mut tx, now, today, &owners, "cobranca_aviso").await?;
        let notices: Vec<rows::NewNotice> = due
            .iter()
            .zip(&protocols)
            .map(|((c, step, oldest, _), protocol)| rows::NewNotice {
                contract_id: c.contract_id,
                step: step.as_str(),
                debt_due_on: oldest,
                protocol,
            })
            .collect();
        let recorded: HashSet<i64> = rows::record_notices(&mut tx, backend, &notices, today, now)
            .await?
            .into_iter()
            .collect();
        // Another process sent these: their protocols go.
        let unused: Vec<String> = due
            .iter()
            .zip(&protocols)
            .filter(|((c, ..), _)| !recorded.contains(&c.contract_id))
            .map(|(_, p)| p.clone())
            .collect();
        protocols::discard(&mut tx, &unused).await?;
        let sent: Vec<(&Candidate, Step, &str, i64, &String)> = due
            .iter()
            .zip(&protocols)
            .filter(|((c, ..), _)| recorded.contains(&c.contract_id))
            .map(|((c, step, oldest, overdue), p)| (*c, *step, oldest.as_str(), *overdue, p))
            .collect();
        let customers: Vec<i64> = sent.iter().map(|(c, ..)| c.customer_id).collect();
        let mut emails: HashMap<i64, Vec<String>> = HashMap::new();
        let mut mobiles: HashMap<i64, Vec<String>> = HashMap::new();
        for (customer, kind, value) in contracts::contacts_of(&mut tx, backend, &customers).await? {
            let list = if kind == "email" {
                &mut emails
            } else {
                &mut mobiles
            };
            list.entry(customer).or_default().push(value);
        }
        let composed: Vec<Option<Message>> = sent
            .iter()
            .map(|&(c, step, oldest, overdue, protocol)| {
                self.line.compose(
                    "aviso",
                    &NoticeContext {
                        provedor: self.line.provider(),
                        cliente: LineControl::customer(&c.customer_name),
                        contrato: c.contract_id,
                        etapa: step_label(step).to_string(),
                        valor: money::brl(overdue),
                        vencimento: br_date(oldest),
                        data_prevista: first_day(rule, c, step, oldest, today),
                        protocolo: protocol.clone(),
                    },
                )
            })
            .collect();
        let joined: Vec<String> = sent
            .iter()
            .map(|(c, ..)| {
                emails
                    .get(&c.customer_id)
                    .map(|e| e.join(", "))
                    .unwrap_or_default()
            })
            .collect();
        let no_mobiles = Vec::new();
        let outgoing: Vec<BatchMessage> = sent
            .iter()
            .zip(&composed)
            .zip(&joined)
            .filter_map(|(((c, .., protocol), message), emails)| {
                let message = message.as_ref()?;
                let mobiles = mobiles.get(&c.customer_id).unwrap_or(&no_mobiles);
                Some(addressed(c.contract_id, message, emails, mobiles, protocol))
            })
            .flatten()
            .collect();
        let deliver = *to_deliver > 0 && self.line.effects.has_room();
        let hold = deliver.then(|| outbox::hold(self.line.outbox.settings.tempo_max));
        let inserted = messages::insert_many(&mut tx, backend, &outgoing, now, hold).await?;
        tx.commit().await?;
        let queued = if deliver {
            *to_deliver = to_deliver.saturating_sub(sent.len());
            0
        } else {
            inserted.len()
        };
        let mut by_contract: HashMap<i64, Vec<i64>> = HashMap::new();
        for (contract_id, id) in inserted {
            by_contract.entry(contract_id).or_default().push(id);
        }
        let mut noticed = Vec::with_capacity(sent.len());
        for (c, step, _, _, protocol) in sent {
            let ids = by_contract.remove(&c.contract_id).unwrap_or_default();
            tracing::info!(
                contrato = c.contract_id,
                etapa = step.as_str(),
                protocolo = %protocol,
                mensagens = ids.len(),
                "aviso de cobrança registrado"
            );
            if deliver {
                self.line.deliver(ids);
            }
            noticed.push((c.contract_id, protocol.clone()));
        }
        Ok(Batch { noticed, queued })
    }
}
