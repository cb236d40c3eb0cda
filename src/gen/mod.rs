//! `ura gen`: a synthetic provider of any size in an empty database, to measure `ura` at
//! the size of a large provider (see BENCHMARKS.md and bench/run). `model` decides the rows;
//! `store::seed` writes them. May import `domain`, `store`, `settings` and
//! `store::radius` (the FreeRADIUS rows of each service); nothing imports it but the CLI.
//!
//! About 1.2 contracts per customer, one internet service each with its FreeRADIUS rows,
//! 12 invoices per contract, contacts, POPs, NAS, network elements, maintenances and RADIUS
//! accounting. Deterministic for a given `--seed` (dates are relative to the day it runs).
//! Rows are generated on one thread while the previous batch is written, in one transaction
//! per batch, on a bulk-load connection of its own (`seed::bulk_connection`).

mod model;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use sqlx::Connection;

use crate::settings::Settings;
use crate::store::radius;
use crate::store::{Conn, Store, redact_url, seed};
use model::{Cursor, Shape};

/// Customers per transaction.
const BATCH: u64 = 10_000;

#[derive(Debug, Clone)]
pub struct Options {
    pub customers: u64,
    pub seed: u64,
    pub sample: Option<PathBuf>,
    pub sample_size: usize,
}

/// `1234567` → `1.234.567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

fn duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{} s", format!("{secs:.1}").replace('.', ","))
    } else {
        let s = secs.round() as u64;
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

pub async fn command(settings: &Settings, opts: Options) -> anyhow::Result<()> {
    if opts.customers == 0 {
        anyhow::bail!("informe --customers com um número maior que zero");
    }
    if opts.customers > 50_000_000 {
        anyhow::bail!("--customers: no máximo 50.000.000");
    }
    let started = Instant::now();
    let url = &settings.database_url;
    let shown = redact_url(url);
    let tz = settings.tz().map_err(anyhow::Error::msg)?;

    // Creates (a SQLite file, a PostgreSQL database) and migrates the database, then checks
    // that it holds no data.
    crate::store::database::create_if_missing(url)
        .await
        .map_err(|e| anyhow::anyhow!("não foi possível criar o banco {shown}: {e}"))?;
    let store = Store::open_with(url, 2)
        .await
        .map_err(|e| anyhow::anyhow!("não foi possível abrir o banco {shown}: {e}"))?;
    let backend = store.backend;
    if let Some(table) = seed::first_filled_table(&store).await? {
        anyhow::bail!(
            "o banco {shown} já tem dados (a tabela {table} não está vazia): `ura gen` só \
             preenche um banco vazio, recém-criado ou só migrado. Use outro arquivo \
             (--database sqlite://novo.db) ou um banco PostgreSQL novo."
        );
    }
    store.close().await;

    // The generator's own connection, tuned for a bulk load.
    let mut conn = seed::bulk_connection(url, backend).await?;

    let now = chrono::Utc::now();
    let today = now.with_timezone(&tz).date_naive();
    let shape = Shape::new(opts.customers, opts.seed, now, today);
    let total = opts.customers;
    eprintln!(
        "gerando {} cliente(s) em {shown} (semente {}, {} POPs)",
        thousands(total),
        opts.seed,
        shape.pops
    );

    {
        let mut tx = conn.begin().await?;
        let catalogs = model::catalogs(&shape);
        seed::write(&mut tx, backend, catalogs.rows()).await?;
        for plan in &catalogs.plans {
            radius::provision_plan(&mut tx, plan.id).await?;
        }
        // As in the demo: the block group's reply.
        seed::block_group_reply(&mut tx, &settings.radius.grupo_bloqueio).await?;
        let meta = format!(
            "{{\"clientes\":{total},\"semente\":{},\"em\":\"{}\"}}",
            opts.seed,
            crate::store::ts(now)
        );
        seed::put_meta(&mut tx, "gen", &meta).await?;
        tx.commit().await?;
    }

    // One thread generates, this task writes: a batch is made while the previous one is
    // being written.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<(model::Batch, Cursor)>(1);
    let generator = {
        let shape = shape.clone();
        let radius = settings.radius.clone();
        tokio::task::spawn_blocking(move || {
            let mut cursor = Cursor::default();
            while cursor.customer < shape.customers {
                let batch = model::batch(&shape, &radius, &mut cursor, BATCH);
                if sender.blocking_send((batch, cursor)).is_err() {
                    break;
                }
            }
        })
    };
    let mut written = Cursor::default();
    let mut counts = Counts::default();
    let mut progress = Progress::new(total, started);
    while let Some((batch, cursor)) = receiver.recv().await {
        let mut tx = conn.begin().await?;
        seed::write(&mut tx, backend, batch.rows()).await?;
        // FreeRADIUS: what `ura radius sync` would write for these services.
        radius::provision_logins(&mut tx, &batch.logins).await?;
        tx.commit().await?;
        counts.add(&batch);
        written = cursor;
        progress.set(written.customer);
    }
    progress.finish();
    generator.await?;
    if written.customer != total {
        anyhow::bail!("a geração parou antes do fim");
    }
    let generated = started.elapsed();

    let maintenances = {
        let rows = model::maintenances(&shape);
        let mut tx = conn.begin().await?;
        seed::write(
            &mut tx,
            backend,
            seed::Rows {
                maintenances: &rows,
                ..seed::Rows::default()
            },
        )
        .await?;
        tx.commit().await?;
        rows.len()
    };
    seed::finish_bulk_load(&mut conn, backend).await?;

    let sample = match &opts.sample {
        Some(path) => Some((
            path,
            write_sample(
                &mut conn,
                &shape,
                written.contract - 1,
                opts.sample_size,
                path,
            )
            .await?,
        )),
        None => None,
    };
    conn.close().await?;

    let elapsed = started.elapsed();
    let rate = total as f64 / elapsed.as_secs_f64().max(0.001);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} clientes gerados em {} ({} clientes/s; dados em {})",
        thousands(total),
        duration(elapsed),
        thousands(rate as u64),
        duration(generated)
    )?;
    writeln!(
        out,
        "contratos: {}, serviços: {}, faturas: {} ({} em aberto), contatos: {}",
        thousands(counts.contracts),
        thousands(counts.contracts),
        thousands(counts.invoices),
        thousands(counts.open_invoices),
        thousands(counts.contacts)
    )?;
    writeln!(
        out,
        "sessões RADIUS: {} ({} abertas), POPs: {}, NAS: {}, elementos: {}, manutenções: {}",
        thousands(counts.sessions),
        thousands(counts.open_sessions),
        shape.pops,
        shape.nas_count(),
        shape.elements(),
        maintenances
    )?;
    if let Some((path, n)) = sample {
        writeln!(
            out,
            "amostra: {} pares documento,contrato em {}",
            thousands(n as u64),
            path.display()
        )?;
    }
    Ok(())
}

/// Customers written so far: a bar with the rate and an ETA on stderr when it is a terminal
/// (as `ura import` shows), a line every 5 seconds otherwise (logs, pipes, CI).
struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    fn new(total: u64, started: Instant) -> Progress {
        let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "[{elapsed_precise}] {wide_bar} {human_pos}/{human_len} clientes ({percent}%), \
                 {per_sec}, faltam {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            total,
            started,
            last_line: Instant::now(),
        }
    }

    fn set(&mut self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            return;
        }
        if self.last_line.elapsed() < Duration::from_secs(5) && done != self.total {
            return;
        }
        self.last_line = Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = done as f64 / secs;
        let left = if rate > 0.0 {
            Duration::from_secs_f64((self.total - done) as f64 / rate)
        } else {
            Duration::ZERO
        };
        eprintln!(
            "  {} de {} clientes ({}%), {} clientes/s, faltam {}",
            thousands(done),
            thousands(self.total),
            done * 100 / self.total,
            thousands(rate as u64),
            duration(left)
        );
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[derive(Default)]
struct Counts {
    contracts: u64,
    invoices: u64,
    open_invoices: u64,
    contacts: u64,
    sessions: u64,
    open_sessions: u64,
}

impl Counts {
    fn add(&mut self, b: &model::Batch) {
        self.contracts += b.contracts.len() as u64;
        self.invoices += b.invoices.len() as u64;
        self.open_invoices += b.invoices.iter().filter(|i| i.status == "open").count() as u64;
        self.contacts += b.contacts.len() as u64;
        self.sessions += b.sessions.len() as u64;
        self.open_sessions += b.sessions.iter().filter(|s| s.stop.is_none()).count() as u64;
    }
}

/// Writes `document,contract` of random existing contracts, one pair a line, for load
/// generators; returns how many.
async fn write_sample(
    conn: &mut Conn,
    shape: &Shape,
    contracts: i64,
    size: usize,
    path: &std::path::Path,
) -> anyhow::Result<usize> {
    let ids = shape.sample_contracts(contracts, size);
    let found = seed::contract_documents(conn, &ids).await?;
    let file = std::fs::File::create(path)
        .map_err(|e| anyhow::anyhow!("não foi possível criar {}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let mut n = 0;
    for id in &ids {
        if let Some(document) = found.get(id) {
            writeln!(out, "{document},{id}")?;
            n += 1;
        }
    }
    out.flush()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_portuguese() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1.000");
        assert_eq!(thousands(1_234_567), "1.234.567");
        assert_eq!(duration(Duration::from_millis(1500)), "1,5 s");
        assert_eq!(duration(Duration::from_secs(185)), "3 min 05 s");
    }
}
