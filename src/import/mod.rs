//! `ura import FILE`: bulk upsert of the provider's data from CSV or JSON, keyed by the
//! provider's own ids. This folder reads and checks the file's lines; `store::import` holds
//! the SQL. May import `domain`, `store`, `settings` and `store::radius` (FreeRADIUS rows
//! follow every service and contract change in the same transaction).
//!
//! Kinds: plans, POPs, NAS, customers (with their contacts), contracts, internet services and
//! invoices. Every line is checked and bad lines are reported with their number and the field
//! at fault; they change nothing. Good lines are compared with what is stored (so a second
//! run of the same file changes nothing and says so) and written in batches, one transaction
//! each, with multi-row statements.

mod catalogs;
mod contracts;
mod customers;
mod fields;
mod invoices;
mod kind;
mod report;
mod services;
mod source;

use std::collections::{HashMap, HashSet};

pub use fields::LineError;
pub use kind::{Kind, resolve_kind, unknown_columns};
pub use report::command;
pub use source::{Table, read};

use crate::settings::RadiusSettings;
use crate::store::import as sql;
use crate::store::{Backend, Conn, Store};
use source::Row;

/// Lines per transaction.
pub const BATCH: usize = 1000;

#[derive(Debug, Default)]
pub struct Summary {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Refused lines, in line order.
    pub errors: Vec<LineError>,
    /// Contracts of invoices this import marked paid (they were open): the money loop looks
    /// at them after the import, as after any payment.
    pub paid_contracts: std::collections::BTreeSet<i64>,
}

impl Summary {
    /// Lines taken in (inserted, updated or already as in the file).
    pub fn accepted(&self) -> usize {
        self.inserted + self.updated + self.unchanged
    }
}

/// What the batches of one run share.
pub(crate) struct Ctx<'a> {
    pub radius: &'a RadiusSettings,
    pub backend: Backend,
    /// `created_at` of new records.
    pub now: String,
    /// Ids already seen in the file, with their line.
    seen: HashMap<i64, usize>,
    /// Logins already seen in the file (services), with their line.
    pub logins: HashMap<String, usize>,
    /// Small catalogs, read once: plan id → RADIUS group, POP and NAS ids.
    pub plans: HashMap<i64, String>,
    pub pops: HashSet<i64>,
    pub nas: HashSet<i64>,
}

impl Ctx<'_> {
    /// Refuses an id that an earlier line of the file already holds.
    pub fn first(&mut self, line: usize, id: i64) -> Result<(), LineError> {
        match self.seen.get(&id) {
            Some(first) => Err(fields::err(
                line,
                "id",
                format!("id {id} repetido: já aparece na linha {first}"),
            )),
            None => {
                self.seen.insert(id, line);
                Ok(())
            }
        }
    }
}

/// Splits checked records into those to write (with what was stored, for updates) and
/// counts the unchanged ones.
pub(crate) fn classify<R, S: PartialEq>(
    records: Vec<(usize, R)>,
    stored: &mut HashMap<i64, S>,
    key: impl Fn(&R) -> (i64, S),
    out: &mut Summary,
) -> Vec<(R, Option<S>)> {
    let mut write = Vec::new();
    for (_, record) in records {
        let (id, form) = key(&record);
        match stored.remove(&id) {
            None => {
                out.inserted += 1;
                write.push((record, None));
            }
            Some(old) if old == form => out.unchanged += 1,
            Some(old) => {
                out.updated += 1;
                write.push((record, Some(old)));
            }
        }
    }
    write
}

/// Keeps the records that pass `ok`, turning the others into errors.
pub(crate) fn keep<R>(
    records: &mut Vec<(usize, R)>,
    out: &mut Summary,
    mut ok: impl FnMut(usize, &R) -> Result<(), LineError>,
) {
    records.retain(|(line, r)| match ok(*line, r) {
        Ok(()) => true,
        Err(e) => {
            out.errors.push(e);
            false
        }
    });
}

/// Checks each row with `check`, then refuses ids repeated in the file.
pub(crate) fn check_rows<R>(
    rows: &[Row<'_>],
    ctx: &mut Ctx<'_>,
    out: &mut Summary,
    check: impl Fn(&Row<'_>) -> Result<R, LineError>,
    id: impl Fn(&R) -> i64,
) -> Vec<(usize, R)> {
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        match check(row).and_then(|r| ctx.first(row.line, id(&r)).map(|()| r)) {
            Ok(r) => records.push((row.line, r)),
            Err(e) => out.errors.push(e),
        }
    }
    records
}

/// Imports the table as `kind`; `progress` is told how many lines were handled so far.
pub async fn run(
    store: &Store,
    radius: &RadiusSettings,
    kind: Kind,
    table: &Table,
    mut progress: impl FnMut(usize),
) -> Result<Summary, sqlx::Error> {
    let mut summary = Summary::default();
    let catalogs = sql::catalogs(store).await?;
    let mut ctx = Ctx {
        radius,
        backend: store.backend,
        now: crate::store::ts(chrono::Utc::now()),
        seen: HashMap::new(),
        logins: HashMap::new(),
        plans: catalogs.plans,
        pops: catalogs.pops,
        nas: catalogs.nas,
    };
    let rows: Vec<Row<'_>> = table.rows().collect();
    let mut done = 0;
    for batch in rows.chunks(BATCH) {
        let mut tx = store.write().await?;
        let conn: &mut Conn = &mut tx;
        let out = &mut summary;
        match kind {
            Kind::Planos => catalogs::plans(conn, &mut ctx, batch, out).await?,
            Kind::Pops => catalogs::pops(conn, &mut ctx, batch, out).await?,
            Kind::Nas => catalogs::nas(conn, &mut ctx, batch, out).await?,
            Kind::Clientes => customers::batch(conn, &mut ctx, batch, out).await?,
            Kind::Contratos => contracts::batch(conn, &mut ctx, batch, out).await?,
            Kind::Servicos => services::batch(conn, &mut ctx, batch, out).await?,
            Kind::Faturas => invoices::batch(conn, &mut ctx, batch, out).await?,
        }
        tx.commit().await?;
        done += batch.len();
        progress(done);
    }
    if ctx.backend == Backend::Postgres && summary.inserted > 0 {
        sql::advance_sequence(store, kind.table()).await?;
    }
    summary.errors.sort_by_key(|e| e.line);
    Ok(summary)
}
