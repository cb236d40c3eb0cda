//! The `ura import` command as the operator sees it: a progress bar on a terminal, the
//! refused lines, and a summary.

use std::path::Path;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::{Kind, Summary};
use crate::settings::RadiusSettings;
use crate::store::Store;

/// Reads, checks and imports the file; fails (exit status 1) when any line was refused.
pub async fn command(
    store: &Store,
    radius: &RadiusSettings,
    file: &Path,
    tipo: Option<&str>,
) -> anyhow::Result<Imported> {
    let started = Instant::now();
    let table = super::read(file)?;
    let total = table.rows.len();
    if total == 0 && tipo.is_none() {
        println!("nenhuma linha para importar em {}", file.display());
        return Ok(Imported::default());
    }
    let kind = super::resolve_kind(tipo, &table)?;
    for column in super::unknown_columns(kind, &table) {
        eprintln!(
            "aviso: coluna {column:?} ignorada (colunas de {}: {})",
            kind.name(),
            kind.columns().join(",")
        );
    }
    let bar = progress_bar(total as u64);
    let summary = super::run(store, radius, kind, &table, |done| {
        bar.set_position(done as u64)
    })
    .await;
    bar.finish_and_clear();
    let summary = summary?;
    for e in &summary.errors {
        eprintln!("{e}");
    }
    print_summary(kind, &summary, total, started);
    Ok(Imported {
        refused: summary.errors.len(),
        paid_contracts: summary.paid_contracts,
    })
}

/// What the command leaves for its caller: lines refused (the exit status) and the contracts
/// whose invoices it marked paid (the money loop looks at them).
#[derive(Debug, Default)]
pub struct Imported {
    pub refused: usize,
    pub paid_contracts: std::collections::BTreeSet<i64>,
}

/// A bar on stderr when it is a terminal; nothing otherwise (logs, pipes, CI).
fn progress_bar(total: u64) -> ProgressBar {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "[{elapsed_precise}] {wide_bar} {pos}/{len} linhas ({percent}%), faltam {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

fn print_summary(kind: Kind, s: &Summary, total: usize, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    let rate = if secs > 0.0 { total as f64 / secs } else { 0.0 };
    println!(
        "{}, {} linha(s) com erro, de {total}",
        kind.imported(s.accepted()),
        s.errors.len()
    );
    println!(
        "inseridos: {}, atualizados: {}, sem alteração: {}, recusados: {}",
        s.inserted,
        s.updated,
        s.unchanged,
        s.errors.len()
    );
    println!(
        "tempo: {} s, {} linhas/s",
        format!("{secs:.1}").replace('.', ","),
        rate.round() as u64
    );
}
