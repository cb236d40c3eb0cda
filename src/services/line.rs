//! What the money loop does to a contract's line: change its status for a reason (with its
//! FreeRADIUS rows, a protocol and a history row, in the caller's transaction), and after the
//! commit make the equipment re-authenticate (RFC 5176 Disconnect) and tell the customer
//! through the outbox. A NAS or a mail server that does not answer never undoes the change.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::effects::Effects;
use super::protocols;
use crate::domain::states::{ContractStatus, StatusReason};
use crate::network::nas::NasClient;
use crate::notify::outbox::{self, Outbox};
use crate::notify::templates::{Customer, Message, Provider, Templates};
use crate::observe::metrics::Metrics;
use crate::settings::RadiusSettings;
use crate::store::messages::{self, BatchMessage};
use crate::store::protocols::Owner;
use crate::store::{Conn, Store, contracts, dunning, radius};

/// Everything the line's changes need.
#[derive(Clone)]
pub struct LineControl {
    pub store: Store,
    pub radius: RadiusSettings,
    pub nas: NasClient,
    pub outbox: Outbox,
    pub templates: Arc<Templates>,
    pub metrics: Arc<Metrics>,
    pub provider_name: String,
    /// The effects after commit (disconnects, deliveries) run here, a few at a time: a
    /// command waits for them before it exits, the server at its stop.
    pub effects: Effects,
}

/// A change made and committed, for the effects that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub contract_id: i64,
    pub customer_id: i64,
    pub from: ContractStatus,
    pub to: ContractStatus,
    pub reason: StatusReason,
    pub protocol: String,
}

/// What a status change is.
pub struct Change<'a> {
    pub contract_id: i64,
    pub customer_id: i64,
    pub from: ContractStatus,
    pub to: ContractStatus,
    pub reason: StatusReason,
    /// Who or what made it (`cobranca`, `admin:NAME`...).
    pub actor: &'a str,
    /// The protocol's origin (`cobranca`, `pagamento`).
    pub origin: &'a str,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
}

impl LineControl {
    /// Changes the status inside `tx` when it is still `from`: FreeRADIUS rows, protocol,
    /// history. None when another writer changed it first.
    pub async fn change(
        &self,
        tx: &mut Conn,
        c: Change<'_>,
    ) -> Result<Option<Changed>, sqlx::Error> {
        if !dunning::set_status(tx, c.contract_id, c.from, c.to, c.reason).await? {
            return Ok(None);
        }
        radius::provision_contract(tx, &self.radius, c.contract_id).await?;
        let opened = protocols::open(
            tx,
            c.now,
            c.today,
            Owner {
                contract_id: Some(c.contract_id),
                customer_id: c.customer_id,
                origin: c.origin,
            },
            None,
            None,
        )
        .await?;
        dunning::record_change(
            tx,
            dunning::NewChange {
                contract_id: c.contract_id,
                from: c.from,
                to: c.to,
                reason: c.reason,
                protocol: Some(&opened.protocol),
                actor: c.actor,
                now: c.now,
            },
        )
        .await?;
        Ok(Some(Changed {
            contract_id: c.contract_id,
            customer_id: c.customer_id,
            from: c.from,
            to: c.to,
            reason: c.reason,
            protocol: opened.protocol,
        }))
    }

    /// After the commit: counts the change and makes the equipment re-authenticate into its
    /// new group, off the caller's path.
    pub fn committed(&self, changed: &Changed) {
        self.metrics
            .line_changed(changed.to.name(), changed.reason.as_str());
        tracing::info!(
            contrato = changed.contract_id,
            de = changed.from.name(),
            para = changed.to.name(),
            motivo = changed.reason.as_str(),
            protocolo = %changed.protocol,
            "status do contrato alterado"
        );
        self.disconnect(changed.contract_id);
    }

    /// Disconnects the contract's open sessions (RFC 5176), off the caller's path, so that
    /// the equipment re-authenticates into the group its status gives it now.
    pub fn disconnect(&self, id: i64) {
        let store = self.store.clone();
        let nas = self.nas.clone();
        self.effects.spawn(async move {
            match contracts::logins(&store, id).await {
                Ok(logins) => {
                    let result = nas.disconnect_logins(&logins).await;
                    tracing::info!(contrato = id, "desconexão após mudança de status: {result}");
                }
                Err(e) => tracing::warn!(contrato = id, "logins não lidos para desconectar: {e}"),
            }
        });
    }

    /// The message of template `prefix` (`aviso`, `acesso_restabelecido`); None, logged, when
    /// the provider's template does not render.
    pub fn compose(&self, prefix: &str, context: &impl serde::Serialize) -> Option<Message> {
        match self.templates.message(prefix, context) {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::error!("template {prefix} inválido: {e}");
                None
            }
        }
    }

    /// Queues a message (template `prefix`: `aviso`, `acesso_restabelecido`) about a contract to its
    /// customer's e-mails and first mobile inside `tx`; returns the messages to deliver after
    /// the commit.
    pub async fn queue_message(
        &self,
        tx: &mut Conn,
        (contract_id, customer_id): (i64, i64),
        prefix: &str,
        context: &impl serde::Serialize,
        protocol: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, sqlx::Error> {
        let Some(message) = self.compose(prefix, context) else {
            return Ok(Vec::new());
        };
        let emails = contracts::contacts(&self.store, customer_id, "email")
            .await?
            .join(", ");
        let mobiles = contracts::contacts(&self.store, customer_id, "mobile").await?;
        let hold = outbox::hold(self.outbox.settings.tempo_max);
        let batch = addressed(contract_id, &message, &emails, &mobiles, protocol);
        let queued = messages::insert_many(tx, self.store.backend, &batch, now, Some(hold)).await?;
        Ok(queued.into_iter().map(|(_, id)| id).collect())
    }

    /// Delivers queued messages off the caller's path; a failure stays queued for the worker.
    pub fn deliver(&self, ids: Vec<i64>) {
        if ids.is_empty() {
            return;
        }
        let outbox = self.outbox.clone();
        self.effects.spawn(async move {
            for (id, e) in outbox.deliver_many(&ids).await {
                tracing::warn!(mensagem = id, "envio adiado para nova tentativa: {e}");
            }
        });
    }

    /// Waits for the effects under way (a command, before it exits).
    pub async fn settle_effects(&self) {
        self.effects.settle().await;
    }

    pub fn provider(&self) -> Provider {
        Provider {
            nome: self.provider_name.clone(),
        }
    }

    pub fn customer(name: &str) -> Customer {
        Customer {
            nome: name.to_string(),
        }
    }
}

/// A message to a customer: one e-mail to all their addresses, one SMS to their first mobile.
pub fn addressed<'a>(
    contract_id: i64,
    message: &'a Message,
    emails: &'a str,
    mobiles: &'a [String],
    protocol: &'a str,
) -> Vec<BatchMessage<'a>> {
    let mut out = Vec::new();
    if !emails.is_empty() {
        out.push(BatchMessage {
            contract_id,
            channel: "email",
            recipient: emails,
            subject: Some(&message.subject),
            body: &message.text,
            protocol,
        });
    }
    if let Some(mobile) = mobiles.first() {
        out.push(BatchMessage {
            contract_id,
            channel: "sms",
            recipient: mobile,
            subject: None,
            body: &message.sms,
            protocol,
        });
    }
    out
}
