//! The dunning rule (blocking for debt): from what is known of one contract now, whether a
//! notice goes out, a step (reduced speed, suspension) applies, or nothing happens and why;
//! and whether a payment gives the line back. Pure: the service gathers the facts, applies the
//! action and records it. docs/billing.md explains the rule and the RGC articles behind it.

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use super::holidays;
use super::states::ContractStatus;

/// A step of the path a debt takes: reduced speed, then suspension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Status `Ativo V. Reduzida` (partial suspension).
    Reduce,
    /// Status `Suspenso` (total suspension).
    Suspend,
}

impl Step {
    pub const ALL: &'static [Step] = &[Step::Reduce, Step::Suspend];

    /// The stored and answered word.
    pub const fn as_str(self) -> &'static str {
        match self {
            Step::Reduce => "reducao",
            Step::Suspend => "bloqueio",
        }
    }

    /// The step a stored word names.
    pub fn parse(text: &str) -> Option<Step> {
        Step::ALL.iter().copied().find(|s| s.as_str() == text)
    }

    /// As the operator and the customer read it.
    pub const fn label(self) -> &'static str {
        match self {
            Step::Reduce => "redução de velocidade",
            Step::Suspend => "bloqueio",
        }
    }

    /// The contract status the step puts a contract in.
    pub const fn status(self) -> ContractStatus {
        match self {
            Step::Reduce => ContractStatus::ReducedSpeed,
            Step::Suspend => ContractStatus::Suspended,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const MINUTES_PER_DAY: u16 = 24 * 60;

/// A daily local time window, `[start, end)` in minutes from midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    start: u16,
    end: u16,
}

impl Window {
    /// The whole day, `00:00-24:00`.
    pub const ALL_DAY: Window = Window {
        start: 0,
        end: MINUTES_PER_DAY,
    };

    /// `"08:00-18:00"`; the end may be `24:00`; the start must come before the end (a window
    /// across midnight would cut lines at night, which is what it is there to prevent).
    pub fn parse(text: &str) -> Result<Window, String> {
        let bad =
            || format!("horário inválido {text:?} (use HH:MM-HH:MM, por exemplo 08:00-18:00)");
        let (start, end) = text.split_once('-').ok_or_else(bad)?;
        let start = minutes(start.trim()).ok_or_else(bad)?;
        let end = minutes(end.trim()).ok_or_else(bad)?;
        if start >= MINUTES_PER_DAY {
            return Err(bad());
        }
        if start >= end {
            return Err(format!(
                "horário inválido {text:?}: o início deve ser antes do fim (use 00:00-24:00 para o dia todo)"
            ));
        }
        Ok(Window { start, end })
    }

    /// Whether `t` falls inside the window (its start included, its end not).
    pub fn contains(&self, t: NaiveTime) -> bool {
        let m = (t.hour() * 60 + t.minute()) as u16;
        self.start <= m && m < self.end
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{}-{}", hm(self.start), hm(self.end))
    }
}

/// `"08:00"` → 480; `"24:00"` → 1440 (only as an end, checked by the caller).
fn minutes(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    let digits = |s: &str, max_len: usize| {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u16>().ok())
            .flatten()
    };
    let h = digits(h, 2)?;
    if m.len() != 2 {
        return None;
    }
    let m = digits(m, 2)?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// The provider's rule, from `[cobranca]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Days after the due date → `Ativo V. Reduzida`; None: no reduction step.
    pub reduce_after: Option<u32>,
    /// Days after the due date → `Suspenso`.
    pub block_after: u32,
    /// Overdue debts below this (centavos) never block.
    pub min_cents: i64,
    /// A notice for a step must have gone out this many days before the step.
    pub notice_days: u32,
    /// Local hours in which notices go out and steps apply.
    pub window: Window,
    /// Steps apply only Monday to Friday, national holidays excluded.
    pub business_days_only: bool,
}

/// What is known of one contract when the rule looks at it.
#[derive(Debug, Clone)]
pub struct Facts {
    pub status: ContractStatus,
    /// The step the dunning rule itself put the contract in (None when its status was set
    /// by anyone else: an operator, a promise, the import).
    pub debt_step: Option<Step>,
    /// `contracts.isento_bloqueio`.
    pub exempt: bool,
    /// An active trust promise.
    pub under_promise: bool,
    /// Oldest open invoice due before today.
    pub oldest_overdue: Option<NaiveDate>,
    /// Sum of open invoices due before today, in centavos.
    pub overdue_cents: i64,
    /// The plan's override of the days.
    pub plan_reduce_after: Option<u32>,
    pub plan_block_after: Option<u32>,
    /// When the notice of each step went out.
    pub notice_reduce: Option<NaiveDate>,
    pub notice_suspend: Option<NaiveDate>,
}

impl Facts {
    fn has_overdue_debt(&self) -> bool {
        self.oldest_overdue.is_some() && self.overdue_cents > 0
    }

    /// The notice of `step`, when it is about the debt now overdue: one sent before the
    /// oldest overdue invoice fell due was about a debt since paid, and the notice must state
    /// the debt it warns of (RGC art. 71), so it does not count.
    fn notice(&self, step: Step) -> Option<NaiveDate> {
        let sent = match step {
            Step::Reduce => self.notice_reduce,
            Step::Suspend => self.notice_suspend,
        }?;
        match self.oldest_overdue {
            Some(due) if sent < due => None,
            _ => Some(sent),
        }
    }
}

/// Why the rule does nothing to a contract now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Why {
    UpToDate,
    BelowMinimum,
    Exempt,
    UnderPromise,
    NotYet,
    WaitingNotice,
    OutsideWindow,
    NotBusinessDay,
    AlreadyDone,
    NotActive,
}

impl Why {
    /// Whether the run's report lists a contract left alone for this reason: the ones an
    /// operator may want to see (exempt, under a promise, waiting), not the ones simply not
    /// due yet.
    pub const fn worth_reporting(self) -> bool {
        matches!(
            self,
            Why::Exempt
                | Why::UnderPromise
                | Why::WaitingNotice
                | Why::OutsideWindow
                | Why::NotBusinessDay
        )
    }

    /// A stable word for JSON answers.
    pub const fn as_str(self) -> &'static str {
        match self {
            Why::UpToDate => "em_dia",
            Why::BelowMinimum => "abaixo_do_minimo",
            Why::Exempt => "isento",
            Why::UnderPromise => "promessa",
            Why::NotYet => "prazo_nao_atingido",
            Why::WaitingNotice => "aguardando_aviso",
            Why::OutsideWindow => "fora_do_horario",
            Why::NotBusinessDay => "dia_nao_util",
            Why::AlreadyDone => "ja_aplicado",
            Why::NotActive => "nao_ativo",
        }
    }

    /// As the operator reads it.
    pub const fn label(self) -> &'static str {
        match self {
            Why::UpToDate => "sem débito vencido",
            Why::BelowMinimum => "débito vencido abaixo do valor mínimo",
            Why::Exempt => "contrato isento de bloqueio",
            Why::UnderPromise => "promessa de pagamento em vigor",
            Why::NotYet => "prazo ainda não atingido",
            Why::WaitingNotice => "aguardando o prazo do aviso",
            Why::OutsideWindow => "fora do horário de cobrança",
            Why::NotBusinessDay => "hoje não é dia útil",
            Why::AlreadyDone => "já bloqueado por débito",
            Why::NotActive => "contrato não está ativo",
        }
    }
}

/// What the service does with one contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Nothing(Why),
    /// Send (and record) the notice of this step.
    Notify(Step),
    /// Put the contract in this step.
    Apply(Step),
}

impl Action {
    /// A stable word for JSON answers: `nada`, `aviso_reducao`, `bloqueio`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Nothing(_) => "nada",
            Action::Notify(Step::Reduce) => "aviso_reducao",
            Action::Notify(Step::Suspend) => "aviso_bloqueio",
            Action::Apply(step) => step.as_str(),
        }
    }

    /// As the operator reads it (the CLI's table).
    pub fn label(self) -> String {
        match self {
            Action::Nothing(why) => format!("nada: {}", why.label()),
            Action::Notify(step) => format!("aviso de {}", step.label()),
            Action::Apply(step) => step.label().to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    /// Days since the oldest overdue invoice fell due (0 when none is).
    pub days_overdue: i64,
}

/// The next step of a contract and the days after the due date at which it is due; why
/// not, when the rule has nothing (more) to do to it.
fn next_step(rule: &Rule, facts: &Facts) -> Result<(Step, u32), Why> {
    let block_after = facts.plan_block_after.unwrap_or(rule.block_after);
    let reduce_after = facts
        .plan_reduce_after
        .or(rule.reduce_after)
        .filter(|days| *days < block_after);
    match (facts.status, facts.debt_step) {
        (ContractStatus::Active, _) => Ok(match reduce_after {
            // A contract goes through every step of the path, one at a time, each with its
            // own notice: never from active straight to suspended when a reduction comes first.
            Some(days) => (Step::Reduce, days),
            None => (Step::Suspend, block_after),
        }),
        (ContractStatus::ReducedSpeed, Some(Step::Reduce)) => Ok((Step::Suspend, block_after)),
        (ContractStatus::Suspended, Some(Step::Suspend)) => Err(Why::AlreadyDone),
        // Anything an operator, a promise or the import set is theirs to change.
        _ => Err(Why::NotActive),
    }
}

/// What the rule does to one contract at `now` (local time).
pub fn decide(rule: &Rule, facts: &Facts, now: NaiveDateTime) -> Decision {
    let today = now.date();
    let days_overdue = facts
        .oldest_overdue
        .map(|due| (today - due).num_days().max(0))
        .unwrap_or(0);
    let decision = |action| Decision {
        action,
        days_overdue,
    };
    let nothing = |why| decision(Action::Nothing(why));

    let (step, days) = match next_step(rule, facts) {
        Ok(next) => next,
        Err(why) => return nothing(why),
    };
    if !facts.has_overdue_debt() || days_overdue == 0 {
        return nothing(Why::UpToDate);
    }
    if facts.overdue_cents < rule.min_cents {
        return nothing(Why::BelowMinimum);
    }
    if facts.exempt {
        return nothing(Why::Exempt);
    }
    if facts.under_promise {
        return nothing(Why::UnderPromise);
    }

    let in_window = rule.window.contains(now.time());
    match facts.notice(step) {
        None => {
            let notice_from = i64::from(days.saturating_sub(rule.notice_days));
            if days_overdue < notice_from {
                nothing(Why::NotYet)
            } else if !in_window {
                // Nobody gets a message at night; business days do not matter for notices.
                nothing(Why::OutsideWindow)
            } else {
                decision(Action::Notify(step))
            }
        }
        Some(sent) => {
            if days_overdue < i64::from(days) {
                nothing(Why::NotYet)
            } else if (today - sent).num_days() < i64::from(rule.notice_days) {
                nothing(Why::WaitingNotice)
            } else if !in_window {
                nothing(Why::OutsideWindow)
            } else if rule.business_days_only && !holidays::is_business_day(today) {
                nothing(Why::NotBusinessDay)
            } else {
                decision(Action::Apply(step))
            }
        }
    }
}

/// After a payment: whether a contract the rule blocked or reduced goes back to Active (no
/// overdue debt left, or what is left is below the minimum). A status someone else set is
/// never lifted by a payment.
pub fn restores(rule: &Rule, facts: &Facts) -> bool {
    facts.debt_step.is_some() && (!facts.has_overdue_debt() || facts.overdue_cents < rule.min_cents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// Local date and time, `"2025-06-10 10:00"`.
    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    fn rule() -> Rule {
        Rule {
            reduce_after: None,
            block_after: 20,
            min_cents: 1000,
            notice_days: 15,
            window: Window::parse("08:00-18:00").unwrap(),
            business_days_only: true,
        }
    }

    /// An active contract whose invoice of R$ 99,90 fell due on 2025-06-02 (a Monday).
    fn facts() -> Facts {
        Facts {
            status: ContractStatus::Active,
            debt_step: None,
            exempt: false,
            under_promise: false,
            oldest_overdue: Some(d("2025-06-02")),
            overdue_cents: 9990,
            plan_reduce_after: None,
            plan_block_after: None,
            notice_reduce: None,
            notice_suspend: None,
        }
    }

    fn action(rule: &Rule, facts: &Facts, now: &str) -> Action {
        decide(rule, facts, at(now)).action
    }

    // ---- Window ----

    #[test]
    fn windows_parse_and_contain() {
        let w = Window::parse("08:00-18:00").unwrap();
        let t = |s: &str| NaiveTime::parse_from_str(s, "%H:%M:%S").unwrap();
        assert!(!w.contains(t("07:59:59")));
        assert!(w.contains(t("08:00:00")));
        assert!(w.contains(t("17:59:59")));
        assert!(!w.contains(t("18:00:00")));
        assert_eq!(w.to_string(), "08:00-18:00");

        let all = Window::parse("00:00-24:00").unwrap();
        assert_eq!(all, Window::ALL_DAY);
        assert!(all.contains(t("00:00:00")));
        assert!(all.contains(t("23:59:59")));

        let spaced = Window::parse(" 8:30 - 24:00 ").unwrap();
        assert_eq!(spaced.to_string(), "08:30-24:00");
        assert!(!spaced.contains(t("08:29:00")));
        assert!(spaced.contains(t("23:59:00")));
    }

    #[test]
    fn bad_windows_are_refused() {
        for text in [
            "",
            "08:00",
            "08:00-",
            "-18:00",
            "8-18",
            "08:0-18:00",
            "08:00-18:60",
            "25:00-26:00",
            "24:00-24:00",
            "24:30-23:00",
            "08:00-24:01",
            "ab:cd-18:00",
            "+8:00-18:00",
            "08:00-18:00-20:00",
        ] {
            assert!(Window::parse(text).is_err(), "{text:?}");
        }
        let backwards = Window::parse("18:00-08:00").unwrap_err();
        assert!(
            backwards.contains("início deve ser antes do fim"),
            "{backwards}"
        );
        assert!(Window::parse("10:00-10:00").is_err(), "empty window");
    }

    // ---- Step, Why, Action ----

    #[test]
    fn words_round_trip() {
        for step in Step::ALL {
            assert_eq!(Step::parse(step.as_str()), Some(*step));
        }
        assert_eq!(Step::Reduce.as_str(), "reducao");
        assert_eq!(Step::Suspend.as_str(), "bloqueio");
        assert_eq!(Step::parse("manual"), None);
        assert_eq!(Step::Reduce.status(), ContractStatus::ReducedSpeed);
        assert_eq!(Step::Suspend.status(), ContractStatus::Suspended);
        assert_eq!(Action::Notify(Step::Suspend).as_str(), "aviso_bloqueio");
        assert_eq!(Action::Apply(Step::Reduce).as_str(), "reducao");
        assert_eq!(
            Action::Nothing(Why::Exempt).label(),
            "nada: contrato isento de bloqueio"
        );
    }

    // ---- decide: the path of one debt ----

    #[test]
    fn an_overdue_contract_is_noticed_then_blocked() {
        let rule = rule();
        let mut f = facts();
        // Due 2025-06-02; the notice is due at 20 - 15 = 5 days overdue.
        assert_eq!(
            decide(&rule, &f, at("2025-06-06 10:00")),
            Decision {
                action: Action::Nothing(Why::NotYet),
                days_overdue: 4
            }
        );
        assert_eq!(
            action(&rule, &f, "2025-06-07 10:00"),
            Action::Notify(Step::Suspend),
            "a Saturday: notices do not wait for business days"
        );
        f.notice_suspend = Some(d("2025-06-07"));
        assert_eq!(
            action(&rule, &f, "2025-06-07 11:00"),
            Action::Nothing(Why::NotYet)
        );
        // 20 days overdue on 2025-06-22 (a Sunday); the notice is 15 days old then too.
        assert_eq!(
            action(&rule, &f, "2025-06-21 10:00"),
            Action::Nothing(Why::NotYet)
        );
        assert_eq!(
            action(&rule, &f, "2025-06-22 10:00"),
            Action::Nothing(Why::NotBusinessDay)
        );
        assert_eq!(
            decide(&rule, &f, at("2025-06-23 10:00")),
            Decision {
                action: Action::Apply(Step::Suspend),
                days_overdue: 21
            }
        );
    }

    #[test]
    fn a_late_notice_delays_the_step() {
        let rule = rule();
        let mut f = facts();
        // The notice went out only on day 10: the block waits 15 days from it.
        f.notice_suspend = Some(d("2025-06-12"));
        assert_eq!(
            action(&rule, &f, "2025-06-23 10:00"),
            Action::Nothing(Why::WaitingNotice)
        );
        assert_eq!(
            action(&rule, &f, "2025-06-26 10:00"),
            Action::Nothing(Why::WaitingNotice)
        );
        assert_eq!(
            action(&rule, &f, "2025-06-27 10:00"),
            Action::Apply(Step::Suspend)
        );
    }

    #[test]
    fn a_contract_overdue_for_long_still_gets_its_notice_first() {
        let rule = rule();
        let mut f = facts();
        f.oldest_overdue = Some(d("2025-01-10"));
        assert_eq!(
            action(&rule, &f, "2025-06-10 10:00"),
            Action::Notify(Step::Suspend)
        );
        f.notice_suspend = Some(d("2025-06-10"));
        assert_eq!(
            action(&rule, &f, "2025-06-24 10:00"),
            Action::Nothing(Why::WaitingNotice)
        );
        assert_eq!(
            action(&rule, &f, "2025-06-25 10:00"),
            Action::Apply(Step::Suspend)
        );
    }

    #[test]
    fn a_notice_about_a_debt_since_paid_does_not_count() {
        let rule = rule();
        let mut f = facts();
        f.oldest_overdue = Some(d("2025-06-02"));
        // Sent in May, about the April invoice the customer then paid.
        f.notice_suspend = Some(d("2025-05-20"));
        assert_eq!(
            action(&rule, &f, "2025-06-25 10:00"),
            Action::Notify(Step::Suspend)
        );
        // One sent on or after the day the oldest overdue invoice fell due is about it.
        f.notice_suspend = Some(d("2025-06-02"));
        assert_eq!(
            action(&rule, &f, "2025-06-25 10:00"),
            Action::Apply(Step::Suspend)
        );
    }

    #[test]
    fn with_no_notice_days_the_notice_still_goes_out_first() {
        let mut rule = rule();
        rule.notice_days = 0;
        let mut f = facts();
        assert_eq!(
            action(&rule, &f, "2025-06-20 10:00"),
            Action::Nothing(Why::NotYet),
            "18 days: the notice is not due before the step"
        );
        assert_eq!(
            action(&rule, &f, "2025-06-23 10:00"),
            Action::Notify(Step::Suspend)
        );
        f.notice_suspend = Some(d("2025-06-23"));
        assert_eq!(
            action(&rule, &f, "2025-06-23 10:01"),
            Action::Apply(Step::Suspend),
            "the service sends the notice, then re-decides in the same run"
        );
    }

    #[test]
    fn notice_days_longer_than_the_step_start_at_the_first_overdue_day() {
        let mut rule = rule();
        rule.block_after = 5;
        rule.business_days_only = false;
        let mut f = facts();
        assert_eq!(
            action(&rule, &f, "2025-06-03 10:00"),
            Action::Notify(Step::Suspend)
        );
        f.notice_suspend = Some(d("2025-06-03"));
        assert_eq!(
            action(&rule, &f, "2025-06-10 10:00"),
            Action::Nothing(Why::WaitingNotice)
        );
        assert_eq!(
            action(&rule, &f, "2025-06-18 10:00"),
            Action::Apply(Step::Suspend)
        );
    }

    // ---- decide: the reduction step ----

    fn rule_with_reduction() -> Rule {
        Rule {
            reduce_after: Some(20),
            block_after: 50,
            business_days_only: false,
            ..rule()
        }
    }

    #[test]
    fn reduction_comes_first_then_suspension_each_with_its_notice() {
        let rule = rule_with_reduction();
        let mut f = facts();
        assert_eq!(
            action(&rule, &f, "2025-06-07 10:00"),
            Action::Notify(Step::Reduce)
        );
        f.notice_reduce = Some(d("2025-06-07"));
        assert_eq!(
            action(&rule, &f, "2025-06-22 10:00"),
            Action::Apply(Step::Reduce)
        );
        f.status = ContractStatus::ReducedSpeed;
        f.debt_step = Some(Step::Reduce);
        assert_eq!(
            action(&rule, &f, "2025-07-06 10:00"),
            Action::Nothing(Why::NotYet),
            "34 days: the suspension notice is due at 50 - 15 = 35"
        );
        assert_eq!(
            action(&rule, &f, "2025-07-07 10:00"),
            Action::Notify(Step::Suspend)
        );
        f.notice_suspend = Some(d("2025-07-07"));
        assert_eq!(
            action(&rule, &f, "2025-07-21 10:00"),
            Action::Nothing(Why::NotYet)
        );
        assert_eq!(
            action(&rule, &f, "2025-07-22 10:00"),
            Action::Apply(Step::Suspend)
        );
        f.status = ContractStatus::Suspended;
        f.debt_step = Some(Step::Suspend);
        assert_eq!(
            action(&rule, &f, "2025-07-23 10:00"),
            Action::Nothing(Why::AlreadyDone)
        );
    }

    #[test]
    fn an_active_contract_past_both_steps_is_reduced_first() {
        let rule = rule_with_reduction();
        let mut f = facts();
        f.oldest_overdue = Some(d("2025-03-01"));
        f.notice_reduce = Some(d("2025-05-01"));
        assert_eq!(
            action(&rule, &f, "2025-06-10 10:00"),
            Action::Apply(Step::Reduce)
        );
    }

    #[test]
    fn a_reduction_not_before_the_block_is_no_step() {
        let mut rule = rule_with_reduction();
        rule.reduce_after = Some(50);
        let f = facts();
        assert_eq!(
            action(&rule, &f, "2025-07-07 10:00"),
            Action::Notify(Step::Suspend)
        );
        rule.reduce_after = Some(60);
        assert_eq!(
            action(&rule, &f, "2025-07-07 10:00"),
            Action::Notify(Step::Suspend)
        );
    }

    #[test]
    fn the_plan_overrides_the_days() {
        let rule = rule();
        let mut f = facts();
        f.plan_block_after = Some(40);
        assert_eq!(
            action(&rule, &f, "2025-06-10 10:00"),
            Action::Nothing(Why::NotYet),
            "the notice waits for 40 - 15 = 25 days"
        );
        assert_eq!(
            action(&rule, &f, "2025-06-27 10:00"),
            Action::Notify(Step::Suspend)
        );
        // A plan may bring a reduction step the provider's rule does not have.
        f.plan_reduce_after = Some(10);
        assert_eq!(
            action(&rule, &f, "2025-06-02 10:00"),
            Action::Nothing(Why::UpToDate),
            "due today is not overdue"
        );
        assert_eq!(
            action(&rule, &f, "2025-06-03 10:00"),
            Action::Notify(Step::Reduce)
        );
        // And its block days decide whether a reduction still comes before the block.
        f.plan_block_after = Some(10);
        assert_eq!(
            action(&rule, &f, "2025-06-03 10:00"),
            Action::Notify(Step::Suspend)
        );
    }

    // ---- decide: the exceptions ----

    #[test]
    fn who_is_never_blocked() {
        let rule = rule();
        let now = "2025-06-25 10:00";
        let mut f = facts();
        f.notice_suspend = Some(d("2025-06-07"));
        assert_eq!(action(&rule, &f, now), Action::Apply(Step::Suspend));

        let mut up_to_date = f.clone();
        up_to_date.oldest_overdue = None;
        up_to_date.overdue_cents = 0;
        assert_eq!(
            decide(&rule, &up_to_date, at(now)),
            Decision {
                action: Action::Nothing(Why::UpToDate),
                days_overdue: 0
            }
        );

        let mut small = f.clone();
        small.overdue_cents = 999;
        assert_eq!(
            action(&rule, &small, now),
            Action::Nothing(Why::BelowMinimum)
        );
        small.overdue_cents = 1000;
        assert_eq!(action(&rule, &small, now), Action::Apply(Step::Suspend));

        let mut exempt = f.clone();
        exempt.exempt = true;
        assert_eq!(action(&rule, &exempt, now), Action::Nothing(Why::Exempt));

        let mut promised = f.clone();
        promised.under_promise = true;
        assert_eq!(
            action(&rule, &promised, now),
            Action::Nothing(Why::UnderPromise)
        );
        // Nor is a notice sent to them.
        promised.notice_suspend = None;
        assert_eq!(
            action(&rule, &promised, now),
            Action::Nothing(Why::UnderPromise)
        );
    }

    #[test]
    fn statuses_set_by_others_are_left_alone() {
        let rule = rule();
        let now = "2025-06-25 10:00";
        let mut f = facts();
        f.notice_suspend = Some(d("2025-06-07"));
        for status in [
            ContractStatus::Suspended,
            ContractStatus::ReducedSpeed,
            ContractStatus::Cancelled,
            ContractStatus::Inactive,
            ContractStatus::New,
            ContractStatus::TechnicallyUnfeasible,
        ] {
            f.status = status;
            f.debt_step = None;
            assert_eq!(
                action(&rule, &f, now),
                Action::Nothing(Why::NotActive),
                "{status:?}"
            );
        }
        // A suspension by the rule is done; a manual suspension with a stale step word
        // is still not the rule's to touch.
        f.status = ContractStatus::Suspended;
        f.debt_step = Some(Step::Suspend);
        assert_eq!(action(&rule, &f, now), Action::Nothing(Why::AlreadyDone));
        f.debt_step = Some(Step::Reduce);
        assert_eq!(action(&rule, &f, now), Action::Nothing(Why::NotActive));
        f.status = ContractStatus::Cancelled;
        f.debt_step = Some(Step::Suspend);
        assert_eq!(action(&rule, &f, now), Action::Nothing(Why::NotActive));
    }

    #[test]
    fn nothing_happens_outside_the_window() {
        let rule = rule();
        let mut f = facts();
        assert_eq!(
            action(&rule, &f, "2025-06-10 07:59"),
            Action::Nothing(Why::OutsideWindow),
            "no notice at night"
        );
        assert_eq!(
            action(&rule, &f, "2025-06-10 18:00"),
            Action::Nothing(Why::OutsideWindow)
        );
        f.notice_suspend = Some(d("2025-06-07"));
        assert_eq!(
            action(&rule, &f, "2025-06-23 18:30"),
            Action::Nothing(Why::OutsideWindow),
            "no block at night"
        );
        assert_eq!(
            action(&rule, &f, "2025-06-23 17:59"),
            Action::Apply(Step::Suspend)
        );
    }

    #[test]
    fn holidays_wait_when_business_days_only() {
        let mut rule = rule();
        let mut f = facts();
        f.oldest_overdue = Some(d("2025-10-20"));
        f.notice_suspend = Some(d("2025-10-25"));
        // 2025-11-20 (Thursday) is Consciência Negra.
        assert_eq!(
            action(&rule, &f, "2025-11-20 10:00"),
            Action::Nothing(Why::NotBusinessDay)
        );
        assert_eq!(
            action(&rule, &f, "2025-11-21 10:00"),
            Action::Apply(Step::Suspend)
        );
        rule.business_days_only = false;
        assert_eq!(
            action(&rule, &f, "2025-11-20 10:00"),
            Action::Apply(Step::Suspend)
        );
    }

    // ---- restores ----

    #[test]
    fn payments_restore_only_what_the_rule_blocked() {
        let rule = rule();
        let mut f = facts();
        f.status = ContractStatus::Suspended;
        f.debt_step = Some(Step::Suspend);
        assert!(!restores(&rule, &f), "still overdue above the minimum");

        f.oldest_overdue = None;
        f.overdue_cents = 0;
        assert!(restores(&rule, &f), "nothing overdue left");

        f.oldest_overdue = Some(d("2025-06-02"));
        f.overdue_cents = 999;
        assert!(restores(&rule, &f), "what is left is below the minimum");
        f.overdue_cents = 1000;
        assert!(!restores(&rule, &f));

        f.status = ContractStatus::ReducedSpeed;
        f.debt_step = Some(Step::Reduce);
        f.oldest_overdue = None;
        f.overdue_cents = 0;
        assert!(restores(&rule, &f), "a reduction is lifted too");

        f.status = ContractStatus::Suspended;
        f.debt_step = None;
        assert!(!restores(&rule, &f), "a manual suspension stays");
    }
}
