//! What the URA routes need: the store, the settings, the services they call, and the
//! limits, metrics and audit trail every call passes through.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::limits::Limits;
use crate::network::nas::NasClient;
use crate::notify::invoice_doc::InvoiceDocument;
use crate::notify::links::LinkSigner;
use crate::notify::live::LiveHub;
use crate::notify::outbox::Outbox;
use crate::notify::templates::Templates;
use crate::observe::audit::Recorder;
use crate::observe::metrics::Metrics;
use crate::settings::Settings;
use crate::store::Store;
use crate::store::health::DbHealth;
use crate::store::radacct::Sessions;

pub struct UraState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub tz: Tz,
    /// Message templates (built in, or the operator's).
    pub templates: Arc<Templates>,
    /// Signs the links to invoice PDFs.
    pub links: LinkSigner,
    /// The invoice's second copy.
    pub document: InvoiceDocument,
    /// Where open RADIUS sessions are read from.
    pub sessions: Sessions,
    /// RFC 5176 requests to the NAS.
    pub nas: NasClient,
    /// Invoice messages: recorded, then sent.
    pub outbox: Outbox,
    /// Wakes the agents' live console.
    pub live: LiveHub,
    /// Whether the database answers (PostgreSQL is watched; SQLite is always up).
    pub db_health: Arc<DbHealth>,
    /// Requests per app and per address, authentication failures per address.
    pub limits: Arc<Limits>,
    pub metrics: Arc<Metrics>,
    /// Queues audit entries for the writer task.
    pub audit: Recorder,
    /// When each app was last recorded as used, to write that at most once a minute.
    pub app_seen: Mutex<HashMap<i64, Instant>>,
}

impl UraState {
    /// The operator's local date of an instant.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }
}
