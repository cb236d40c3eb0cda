//! The dunning run (`cobranca`): every contract with overdue invoices is looked at with the
//! provider's rule (`domain::dunning`): a notice goes out before each step (through the
//! outbox, with its protocol, recorded on the contract), then the step (reduced speed,
//! suspension) is applied with its FreeRADIUS rows, protocol and history, each contract in a
//! transaction of its own. The notices of a page go out in batches, a transaction per batch
//! and a statement per table (a provider's first run sends one to every debtor at once);
//! each contract is still locked and checked again inside it. A run killed in the middle
//! leaves every contract either changed with its rows or untouched, and the next run
//! finishes the work. `simulate` changes nothing.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use utoipa::ToSchema;

use super::line::{Change, LineControl};
use crate::domain::dunning::{self, Action, Decision, Facts, Rule, Step};
use crate::domain::money;
use crate::domain::states::{ContractStatus, StatusReason};
use crate::store::dunning::{self as rows, Candidate};
use crate::store::{Backend, WriteTx};

mod notices;

/// Contracts read per query.
const PAGE: i64 = 1000;

/// A contract of a page with what the rule decided for it.
struct Decided {
    candidate: Candidate,
    facts: Facts,
    decision: Decision,
}

/// The answer of a run: whether it only simulated, and what it did to each contract.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = cobranca_execucao)]
pub struct RunReport {
    pub simulacao: bool,
    pub contratos: Vec<Line>,
}

/// One contract of the run's report.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = cobranca_contrato)]
pub struct Line {
    pub contrato: i64,
    pub cliente: String,
    /// The oldest overdue invoice's due date (`YYYY-MM-DD`).
    pub fatura_mais_antiga: String,
    pub dias: i64,
    /// The overdue amount, in reais.
    #[schema(value_type = f64)]
    pub valor: serde_json::Value,
    /// What was done (or, simulating, would be): `aviso de suspensão`, `suspensão`...
    pub acao: String,
    /// Whether the action changed anything (false when simulating or waiting).
    pub executada: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocolo: Option<String>,
}

/// How many lines a run reported, and how many of them changed something.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub lines: usize,
    pub done: usize,
    /// Notices' messages left queued for the outbox's worker (the backlog of deliveries was
    /// full): `ura serve` sends them.
    pub queued: usize,
}

#[derive(Clone)]
pub struct Dunning {
    pub line: LineControl,
    /// None: blocking for debt is off (`cobranca.ativo = false`).
    pub rule: Option<Rule>,
    pub tz: Tz,
}

impl Dunning {
    /// Runs the rule once over every contract with overdue invoices: the report's lines.
    pub async fn run(&self, simulate: bool) -> Result<Vec<Line>, sqlx::Error> {
        let mut report = Vec::new();
        self.run_each(simulate, |line| report.push(line)).await?;
        Ok(report)
    }

    /// Runs the rule once, handing each line of the report to `each` as soon as its contract
    /// is done, in the contracts' order: a run over a whole provider need not hold its report.
    pub async fn run_each(
        &self,
        simulate: bool,
        mut each: impl FnMut(Line),
    ) -> Result<Tally, sqlx::Error> {
        let mut tally = Tally::default();
        let Some(rule) = &self.rule else {
            return Ok(tally);
        };
        let now = Utc::now();
        let local = now.with_timezone(&self.tz).naive_local();
        let today = local.date();
        // Several contracts are worked on at once, each in its own transaction: on SQLite
        // their transactions share a commit (and its fsync), on PostgreSQL they run side by
        // side. The report keeps the contracts' order.
        let workers = self.line.store.write_concurrency();
        let mut after = 0;
        let mut to_deliver = notices::DELIVERED_BY_THE_RUN;
        loop {
            let page = rows::candidates(&self.line.store, today, now, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.contract_id;
            let page: Vec<Decided> = page
                .into_iter()
                .map(|candidate| {
                    let facts = facts(&candidate);
                    let decision = dunning::decide(rule, &facts, local);
                    Decided {
                        candidate,
                        facts,
                        decision,
                    }
                })
                .collect();
            let mut noticed = if simulate {
                HashMap::new()
            } else {
                let (noticed, queued) = self
                    .notify_page(rule, &page, (now, today), &mut to_deliver)
                    .await?;
                tally.queued += queued;
                noticed
            };
            let mut lines = stream::iter(page)
                .map(|decided| {
                    let notice = noticed.remove(&decided.candidate.contract_id);
                    self.consider(rule, decided, notice, simulate, now, local)
                })
                .buffered(workers);
            while let Some(lines) = lines.next().await {
                for line in lines? {
                    tally.lines += 1;
                    tally.done += usize::from(line.executada);
                    each(line);
                }
            }
        }
        Ok(tally)
    }

    /// Acts on one contract as decided: the report's lines about it. `notice`: the protocol
    /// of the notice the page's batch sent it.
    async fn consider(
        &self,
        rule: &Rule,
        decided: Decided,
        notice: Option<String>,
        simulate: bool,
        now: DateTime<Utc>,
        local: NaiveDateTime,
    ) -> Result<Vec<Line>, sqlx::Error> {
        let Decided {
            candidate,
            mut facts,
            decision,
        } = decided;
        let candidate = &candidate;
        let today = local.date();
        let mut lines = Vec::new();
        let Some(line) = self
            .act(rule, candidate, &decision, notice, simulate, now, today)
            .await?
        else {
            return Ok(lines);
        };
        // With no days to wait after the notice, the step follows it in the same run.
        let notified = match decision.action {
            Action::Notify(step) if line.executada || simulate => Some(step),
            _ => None,
        };
        lines.push(line);
        if let Some(step) = notified
            && rule.notice_days == 0
        {
            match step {
                Step::Reduce => facts.notice_reduce = Some(today),
                Step::Suspend => facts.notice_suspend = Some(today),
            }
            let next = dunning::decide(rule, &facts, local);
            if matches!(next.action, Action::Apply(_))
                && let Some(line) = self
                    .act(rule, candidate, &next, None, simulate, now, today)
                    .await?
            {
                lines.push(line);
            }
        }
        Ok(lines)
    }

    #[allow(clippy::too_many_arguments)]
    async fn act(
        &self,
        rule: &Rule,
        c: &Candidate,
        decision: &Decision,
        notice: Option<String>,
        simulate: bool,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Option<Line>, sqlx::Error> {
        let line = |acao: String, executada: bool, protocolo: Option<String>| Line {
            contrato: c.contract_id,
            cliente: c.customer_name.clone(),
            fatura_mais_antiga: c.oldest_due.clone(),
            dias: decision.days_overdue,
            valor: money::reais(c.overdue_cents),
            acao,
            executada,
            protocolo,
        };
        match &decision.action {
            Action::Nothing(why) => Ok(why
                .worth_reporting()
                .then(|| line(format!("nenhuma: {}", why.label()), false, None))),
            Action::Notify(step) => {
                let label = format!("aviso de {}", step_label(*step));
                // Sent (or not) by the page's batch.
                let done = notice.is_some();
                Ok(Some(line(label, done, notice)))
            }
            Action::Apply(step) => {
                let label = step_label(*step).to_string();
                if simulate {
                    return Ok(Some(line(label, false, None)));
                }
                self.line.effects.pace().await;
                let protocol = self.apply(rule, c, *step, now, today).await?;
                let done = protocol.is_some();
                Ok(Some(line(label, done, protocol)))
            }
        }
    }

    /// Applies a step: status, FreeRADIUS rows, protocol and history in one transaction;
    /// after the commit the equipment re-authenticates. None when the contract changed
    /// meanwhile (paid, suspended by hand...).
    async fn apply(
        &self,
        rule: &Rule,
        c: &Candidate,
        step: Step,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Option<String>, sqlx::Error> {
        let mut tx = self.line.store.write().await?;
        if still_owed(&mut tx, self.line.store.backend, rule, c, today)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let status = c.status;
        let to = match step {
            Step::Reduce => ContractStatus::ReducedSpeed,
            Step::Suspend => ContractStatus::Suspended,
        };
        let changed = self
            .line
            .change(
                &mut tx,
                Change {
                    contract_id: c.contract_id,
                    customer_id: c.customer_id,
                    from: status,
                    to,
                    reason: StatusReason::Debt,
                    actor: "cobranca",
                    origin: "cobranca",
                    now,
                    today,
                },
            )
            .await?;
        let Some(changed) = changed else {
            return Ok(None);
        };
        tx.commit().await?;
        self.line.committed(&changed);
        Ok(Some(changed.protocol))
    }
}

/// Inside the step's transaction, with the contract locked: whether it is still as the run
/// read it and still owes at least the minimum. The oldest overdue due date and the sum.
async fn still_owed(
    tx: &mut WriteTx,
    backend: Backend,
    rule: &Rule,
    c: &Candidate,
    today: NaiveDate,
) -> Result<Option<(String, i64)>, sqlx::Error> {
    let Some((status, _)) = rows::lock_status(tx, backend, c.contract_id).await? else {
        return Ok(None);
    };
    let (oldest, overdue) = rows::overdue(tx, c.contract_id, today).await?;
    if status != c.status || overdue == 0 || overdue < rule.min_cents {
        return Ok(None);
    }
    Ok(Some((
        oldest.unwrap_or_else(|| c.oldest_due.clone()),
        overdue,
    )))
}

fn facts(c: &Candidate) -> Facts {
    let date = |d: &Option<String>| {
        d.as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    };
    let days = |d: Option<i64>| d.and_then(|d| u32::try_from(d).ok());
    let debt_step = match (c.status_reason, c.status) {
        (Some(StatusReason::Debt), ContractStatus::ReducedSpeed) => Some(Step::Reduce),
        (Some(StatusReason::Debt), ContractStatus::Suspended) => Some(Step::Suspend),
        _ => None,
    };
    Facts {
        status: c.status,
        debt_step,
        exempt: c.block_exempt != 0,
        under_promise: c.under_promise != 0,
        oldest_overdue: NaiveDate::parse_from_str(&c.oldest_due, "%Y-%m-%d").ok(),
        overdue_cents: c.overdue_cents,
        plan_reduce_after: days(c.plan_reduce_after),
        plan_block_after: days(c.plan_block_after),
        notice_reduce: date(&c.notice_reduce),
        notice_suspend: date(&c.notice_suspend),
    }
}

/// As the customer reads a step.
fn step_label(step: Step) -> &'static str {
    match step {
        Step::Reduce => "redução de velocidade",
        Step::Suspend => "suspensão",
    }
}

fn br_date(iso: &str) -> String {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| iso.to_string())
}

/// The first day the step may happen: its days after the due date, and never before the
/// notice's days have passed.
fn first_day(rule: &Rule, c: &Candidate, step: Step, oldest: &str, today: NaiveDate) -> String {
    let days = match step {
        Step::Reduce => c
            .plan_reduce_after
            .and_then(|d| u32::try_from(d).ok())
            .or(rule.reduce_after)
            .unwrap_or(0),
        Step::Suspend => c
            .plan_block_after
            .and_then(|d| u32::try_from(d).ok())
            .unwrap_or(rule.block_after),
    };
    let by_debt = NaiveDate::parse_from_str(oldest, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.checked_add_days(Days::new(u64::from(days))));
    let by_notice = today.checked_add_days(Days::new(u64::from(rule.notice_days)));
    let day = match (by_debt, by_notice) {
        (Some(a), Some(b)) => a.max(b),
        (a, b) => a.or(b).unwrap_or(today),
    };
    day.format("%d/%m/%Y").to_string()
}
