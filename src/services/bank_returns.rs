//! Importing a bank's return file (arquivo de retorno): the file is read whole first (one that
//! does not read is refused, naming the line and field, and nothing is stored); a file whose
//! SHA-256 was imported before answers its stored report. Each occurrence is matched to its
//! invoice (`domain::bank_return::pick`); a liquidation pays it through `Settlement` at the
//! amount and date the bank reports, the other occurrences go to the invoice's history, and
//! every line is stored with its outcome in the same transaction as what it did.
//!
//! Lines go in batches, one transaction each, with their lookups made once per batch. An
//! import interrupted midway is resumed by importing the file again: the lines already stored
//! are skipped, and an occurrence already applied (by this file or another) is never applied
//! again (its identity is kept).

use std::collections::HashMap;

use chrono::Utc;
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::settle::{Pending, Settled, Settlement};
use crate::domain::bank_return::{self, Outcome, Pick, Registered};
use crate::domain::cnab::{self, Entry, OccurrenceKind, ParseError, ReturnFile, our_number};
use crate::domain::money::{brl, reais};
use crate::domain::states::InvoiceStatus;
use crate::settings::PartialPayment;
use crate::store::bank_returns::{
    self as sql, Applied, Candidate, FileRow, LineRow, NewEvent, NewFile,
};
use crate::store::{Store, invoice_events, is_unique_violation, ts};

/// Lines per transaction.
pub const BATCH: usize = 500;

/// Who pays, in the invoices' and contracts' history.
const ACTOR: &str = "retorno";

#[derive(Clone)]
pub struct BankReturns {
    pub store: Store,
    pub settlement: Settlement,
    pub partial: PartialPayment,
    pub tz: Tz,
}

/// Why a file was not imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file does not read as a return file: nothing was stored.
    #[error("{0}")]
    Refused(ParseError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A file as its report shows it (also one row of the list of files).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = retorno_arquivo)]
pub struct FileReport {
    pub id: i64,
    /// The file's name as it was sent.
    pub arquivo: String,
    pub sha256: String,
    /// Three-digit bank code of the header.
    pub banco: String,
    /// `cnab240` or `cnab400`.
    pub layout: String,
    pub convenio: String,
    /// Número sequencial do arquivo, when the layout has one.
    pub sequencia: Option<i64>,
    /// Date the bank generated the file (`AAAA-MM-DD`).
    pub gerado_em: Option<String>,
    /// Occurrences (boletos) in the file.
    pub ocorrencias: i64,
    pub pagos: i64,
    pub ja_pagos: i64,
    pub registrados: i64,
    pub desconhecidos: i64,
    pub recusados: i64,
    /// Sum paid by the lines that paid an invoice, in reais.
    #[schema(value_type = f64)]
    pub valor_pago: Value,
    /// Sum of the bank's fees (tarifas) in the file, in reais.
    #[schema(value_type = f64)]
    pub tarifas: Value,
    /// `cli`, `admin:NOME`, `painel:LOGIN`.
    pub importado_por: String,
    pub criado_em: String,
    /// Absent while the import is under way (or was interrupted: send the file again).
    pub concluido_em: Option<String>,
}

/// One line of a file's report.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = retorno_linha)]
pub struct LineReport {
    /// Line of the file (for CNAB 240, the T segment's).
    pub linha: i64,
    pub nosso_numero: String,
    pub numero_documento: Option<String>,
    /// The bank's occurrence code, and its meaning.
    pub ocorrencia: String,
    pub descricao: String,
    /// `liquidacao`, `entrada`, `rejeicao`, `baixa` or `outra`.
    pub tipo: String,
    /// The bank's motive codes.
    pub motivos: Vec<String>,
    #[schema(value_type = f64)]
    pub valor_pago: Value,
    #[schema(value_type = f64)]
    pub tarifa: Value,
    #[schema(value_type = f64)]
    pub desconto: Value,
    #[schema(value_type = f64)]
    pub juros: Value,
    #[schema(value_type = f64)]
    pub abatimento: Value,
    pub data_pagamento: Option<String>,
    pub data_credito: Option<String>,
    /// `pago`, `ja_pago`, `registrado`, `desconhecido` or `recusado`.
    pub resultado: String,
    pub motivo: Option<String>,
    /// The invoice the line named.
    pub fatura: Option<i64>,
}

/// A file's report: its counts and its lines.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = retorno_relatorio)]
pub struct Report {
    #[serde(flatten)]
    pub arquivo: FileReport,
    /// The same file (SHA-256) was imported before: this is its stored report, and nothing
    /// was done now.
    pub ja_importado: bool,
    /// An import of this file had been interrupted, and this one completed it.
    pub retomado: bool,
    pub linhas: Vec<LineReport>,
}

impl Report {
    /// Lines not applied for a reason the operator must look at.
    pub fn refused(&self) -> i64 {
        self.arquivo.recusados
    }
}

impl FileReport {
    pub fn from_row(f: FileRow) -> FileReport {
        FileReport {
            id: f.id,
            arquivo: f.name,
            sha256: f.sha256,
            banco: f.bank_code,
            layout: f.layout,
            convenio: f.agreement,
            sequencia: f.file_seq,
            gerado_em: f.generated_on,
            ocorrencias: f.entries,
            pagos: f.paid,
            ja_pagos: f.already_paid,
            registrados: f.registered,
            desconhecidos: f.unknown,
            recusados: f.refused,
            valor_pago: reais(f.paid_cents),
            tarifas: reais(f.fee_cents),
            importado_por: f.actor,
            criado_em: f.created_at,
            concluido_em: f.finished_at,
        }
    }
}

impl LineReport {
    fn from_row(l: LineRow) -> LineReport {
        LineReport {
            linha: l.line,
            nosso_numero: l.our_number,
            numero_documento: l.document_number,
            ocorrencia: l.occurrence,
            descricao: l.occurrence_text,
            tipo: l.kind,
            motivos: l
                .reasons
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect(),
            valor_pago: reais(l.paid_cents),
            tarifa: reais(l.fee_cents),
            desconto: reais(l.discount_cents),
            juros: reais(l.interest_cents),
            abatimento: reais(l.rebate_cents),
            data_pagamento: l.paid_on,
            data_credito: l.credited_on,
            resultado: l.outcome,
            motivo: l.reason,
            fatura: l.invoice_id,
        }
    }
}

/// One event of an invoice's history, in the admin API's words.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = fatura_evento)]
pub struct HistoryEvent {
    pub id: i64,
    /// `retorno`, `pix`, `admin`...
    pub origem: String,
    /// `liquidacao`, `entrada`, `baixa`, `rejeicao`, `diferenca`, `pagamento_parcial`...
    pub tipo: String,
    pub descricao: String,
    /// The amount the event is about, in reais.
    #[schema(value_type = Option<f64>)]
    pub valor: Option<Value>,
    pub criado_em: String,
}

impl From<invoice_events::InvoiceEvent> for HistoryEvent {
    fn from(e: invoice_events::InvoiceEvent) -> Self {
        HistoryEvent {
            id: e.id,
            origem: e.source,
            tipo: e.kind,
            descricao: e.detail,
            valor: e.amount_cents.map(reais),
            criado_em: e.created_at,
        }
    }
}

/// The SHA-256 of a file, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The name kept for an uploaded file: its last path component, without control
/// characters, at most 200 characters (`retorno` when there is none).
pub fn file_name(name: Option<String>) -> String {
    let name = name.unwrap_or_default();
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let base: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if base.is_empty() {
        "retorno".into()
    } else {
        base
    }
}

/// What a line did, before it is stored.
struct Decided {
    outcome: Outcome,
    reason: Option<String>,
    invoice: Option<i64>,
    /// Whether the line keeps its occurrence's identity: only one that changed something,
    /// so that a later file can still apply one that found no invoice now.
    claims: bool,
}

impl Decided {
    fn new(outcome: Outcome, reason: Option<String>, invoice: Option<i64>) -> Decided {
        Decided {
            outcome,
            reason,
            invoice,
            claims: outcome.applies(),
        }
    }
}

/// What a batch shares: the file, and where its lines are from.
struct FileCtx<'a> {
    id: i64,
    name: &'a str,
    file: &'a ReturnFile,
    /// The date a liquidation without one is paid on.
    fallback_date: String,
}

impl BankReturns {
    /// Imports a return file. `name` is the file's name as sent; `actor` who sent it;
    /// `progress(done, total)` is told after each batch.
    pub async fn import(
        &self,
        name: &str,
        bytes: &[u8],
        actor: &str,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Report, ImportError> {
        let file = cnab::parse(bytes).map_err(ImportError::Refused)?;
        let sha = sha256_hex(bytes);
        let (row, resumed) = match self.begin(&sha, name, &file, actor).await? {
            Begun::Done(row) => return Ok(self.report(row, true, false).await?),
            Begun::New(row) => (row, false),
            Begun::Resumed(row) => (row, true),
        };
        let today = Utc::now().with_timezone(&self.tz).date_naive();
        let ctx = FileCtx {
            id: row.id,
            name,
            file: &file,
            fallback_date: file.generated_on.unwrap_or(today).to_string(),
        };
        let total = file.entries.len();
        let mut done = 0;
        progress(done, total);
        for batch in file.entries.chunks(BATCH) {
            self.batch(&ctx, batch).await?;
            done += batch.len();
            progress(done, total);
        }
        let mut tx = self.store.write().await?;
        sql::finish(&mut tx, row.id, &ts(Utc::now())).await?;
        tx.commit().await?;
        let row = sql::by_id(&self.store, row.id)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        tracing::info!(
            arquivo = %row.name,
            banco = %row.bank_code,
            ocorrencias = row.entries,
            pagos = row.paid,
            ja_pagos = row.already_paid,
            registrados = row.registered,
            desconhecidos = row.unknown,
            recusados = row.refused,
            por = %actor,
            "retorno importado"
        );
        Ok(self.report(row, false, resumed).await?)
    }

    /// `import` on a task of its own, for the HTTP routes: a client that goes away midway
    /// does not cut the import between two batches (it would be resumed by sending the file
    /// again, but need not be).
    pub async fn import_detached(
        &self,
        name: String,
        bytes: bytes::Bytes,
        actor: String,
    ) -> Result<Report, ImportError> {
        let this = self.clone();
        let task = tokio::spawn(async move { this.import(&name, &bytes, &actor, |_, _| {}).await });
        match task.await {
            Ok(result) => result,
            Err(e) => Err(ImportError::Db(sqlx::Error::Io(std::io::Error::other(
                format!("importação interrompida: {e}"),
            )))),
        }
    }

    /// A stored file's report, with its lines.
    pub async fn get(&self, id: i64) -> Result<Option<Report>, sqlx::Error> {
        match sql::by_id(&self.store, id).await? {
            Some(row) => Ok(Some(self.report(row, false, false).await?)),
            None => Ok(None),
        }
    }

    /// A page of the files imported, newest first, and how many there are.
    pub async fn list(
        &self,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<FileReport>, i64), sqlx::Error> {
        let (rows, total) = sql::page(&self.store, offset, limit).await?;
        Ok((rows.into_iter().map(FileReport::from_row).collect(), total))
    }

    /// An invoice's history (oldest first); None when there is no such invoice.
    pub async fn history(&self, invoice_id: i64) -> Result<Option<Vec<HistoryEvent>>, sqlx::Error> {
        if !sql::invoice_exists(&self.store, invoice_id).await? {
            return Ok(None);
        }
        let mut conn = self.store.acquire().await?;
        let events = invoice_events::of_invoice(&mut conn, invoice_id).await?;
        Ok(Some(events.into_iter().map(HistoryEvent::from).collect()))
    }

    async fn report(
        &self,
        row: FileRow,
        already: bool,
        resumed: bool,
    ) -> Result<Report, sqlx::Error> {
        let lines = sql::lines_of(&self.store, row.id).await?;
        Ok(Report {
            arquivo: FileReport::from_row(row),
            ja_importado: already,
            retomado: resumed,
            linhas: lines.into_iter().map(LineReport::from_row).collect(),
        })
    }

    /// Records the file, or finds it: finished (its report is the answer) or interrupted
    /// (the import resumes).
    async fn begin(
        &self,
        sha: &str,
        name: &str,
        file: &ReturnFile,
        actor: &str,
    ) -> Result<Begun, sqlx::Error> {
        let found = {
            let mut conn = self.store.acquire().await?;
            sql::by_sha(&mut conn, sha).await?
        };
        if let Some(row) = found {
            return Ok(Begun::existing(row));
        }
        let now = ts(Utc::now());
        let new = NewFile {
            sha256: sha,
            name,
            bank_code: &file.bank,
            layout: file.layout.as_str(),
            agreement: &file.agreement,
            file_seq: file.file_seq.and_then(|s| i64::try_from(s).ok()),
            generated_on: file.generated_on.map(|d| d.to_string()),
            entries: file.entries.len() as i64,
            actor,
            created_at: &now,
        };
        let mut tx = self.store.write().await?;
        match sql::insert_file(&mut tx, &new).await {
            Ok(id) => {
                tx.commit().await?;
                let row = sql::by_id(&self.store, id)
                    .await?
                    .ok_or(sqlx::Error::RowNotFound)?;
                Ok(Begun::New(row))
            }
            Err(e) if is_unique_violation(&e) => {
                // The same file sent twice at once: the other import recorded it first.
                drop(tx);
                let mut conn = self.store.acquire().await?;
                let row = sql::by_sha(&mut conn, sha)
                    .await?
                    .ok_or(sqlx::Error::RowNotFound)?;
                Ok(Begun::existing(row))
            }
            Err(e) => Err(e),
        }
    }

    /// One batch of lines, in one transaction: the lines not stored yet are matched, applied
    /// and stored; the payments' lines come back after the commit.
    async fn batch(&self, ctx: &FileCtx<'_>, entries: &[Entry]) -> Result<(), sqlx::Error> {
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
            return Ok(());
        };
        // A large file adds no more disconnects and messages than are being done.
        self.settlement.line.effects.pace().await;
        let mut tx = self.store.write().await?;
        sql::lock(&mut tx, self.store.backend).await?;
        let stored =
            sql::stored_lines(&mut tx, ctx.id, first.line as i64, last.line as i64).await?;
        let todo: Vec<&Entry> = entries
            .iter()
            .filter(|e| !stored.contains(&(e.line as i64)))
            .collect();
        if todo.is_empty() {
            return Ok(());
        }
        let file = ctx.file;
        let identities: Vec<String> = todo.iter().map(|e| file.entry_identity(e)).collect();
        let mut applied: HashMap<String, Applied> = sql::applied(&mut tx, &unique(&identities))
            .await?
            .into_iter()
            .map(|a| (a.identity.clone(), a))
            .collect();
        // The bank's key, and the key an invoice registered without a bank has when it
        // holds the number as the file prints it.
        let keys = unique(
            &todo
                .iter()
                .flat_map(|e| [e.our_number_key.clone(), bankless_key(e)])
                .collect::<Vec<_>>(),
        );
        let mut by_key: HashMap<String, Vec<Candidate>> = HashMap::new();
        for c in sql::candidates(&mut tx, &keys).await? {
            by_key.entry(c.our_number_key.clone()).or_default().push(c);
        }
        let now = ts(Utc::now());
        let mut rows = Vec::with_capacity(todo.len());
        let mut out = Effects::default();
        for (e, identity) in todo.into_iter().zip(identities) {
            let decided = if let Some(earlier) = applied.get(&identity) {
                repeated(earlier, ctx.id)
            } else {
                let decided = self.apply(&mut tx, ctx, e, &mut by_key, &mut out).await?;
                if decided.outcome.applies() {
                    applied.insert(
                        identity.clone(),
                        Applied {
                            identity: identity.clone(),
                            file_id: ctx.id,
                            line: e.line as i64,
                            outcome: decided.outcome.as_str().into(),
                            invoice_id: decided.invoice,
                        },
                    );
                }
                decided
            };
            rows.push(line_row(e, &decided, identity));
        }
        sql::insert_lines(&mut tx, ctx.id, &rows, &now).await?;
        sql::insert_events(&mut tx, &out.events, &now).await?;
        self.settlement.finish_many(tx, out.pending).await?;
        Ok(())
    }

    /// Matches a line to its invoice and applies it.
    async fn apply(
        &self,
        tx: &mut crate::store::WriteTx,
        ctx: &FileCtx<'_>,
        e: &Entry,
        by_key: &mut HashMap<String, Vec<Candidate>>,
        out: &mut Effects,
    ) -> Result<Decided, sqlx::Error> {
        let file = ctx.file;
        // Where the invoices this line may name are: (key, position) in `by_key`.
        let mut places: Vec<(String, usize)> = Vec::new();
        for key in [e.our_number_key.clone(), bankless_key(e)] {
            let Some(list) = by_key.get(&key) else {
                continue;
            };
            for (i, c) in list.iter().enumerate() {
                let same_boleto = match c.bank_code.as_deref().filter(|b| !b.trim().is_empty()) {
                    Some(_) => c.our_number_key == e.our_number_key,
                    // Registered without a bank: its number read the way this bank writes it.
                    None => our_number::key(Some(&file.bank), &c.our_number) == e.our_number_key,
                };
                if same_boleto && !places.iter().any(|(k, j)| by_key[k][*j].id == c.id) {
                    places.push((key.clone(), i));
                }
            }
        }
        let registered: Vec<Registered<'_>> = places
            .iter()
            .map(|(k, i)| {
                let c = &by_key[k][*i];
                Registered {
                    bank: c.bank_code.as_deref(),
                    agreement: c.agreement.as_deref(),
                }
            })
            .collect();
        let picked = bank_return::pick(&file.bank, &file.agreement, &registered);
        let invoice = match picked {
            Pick::None => return Ok(unknown()),
            Pick::Ambiguous(list) => {
                let ids: Vec<String> = list
                    .iter()
                    .map(|i| {
                        let (k, j) = &places[*i];
                        by_key[k][*j].id.to_string()
                    })
                    .collect();
                return Ok(Decided::new(
                    Outcome::Refused,
                    Some(format!(
                        "nosso número de mais de uma fatura ({}): informe banco e convênio nas faturas",
                        ids.join(", ")
                    )),
                    None,
                ));
            }
            Pick::One(i) => {
                let (k, j) = places.swap_remove(i);
                match by_key.get_mut(&k).and_then(|list| list.get_mut(j)) {
                    Some(c) => c,
                    None => return Ok(unknown()),
                }
            }
        };
        let source = format!("arquivo {}, linha {}", ctx.name, e.line);
        if !bank_return::is_payment(e) {
            // Entrada confirmada, baixa, rejeição...: the invoice's history, whatever its
            // status (a baixa of a cancelled invoice is the expected end of it).
            let mut detail = format!("{} {} ({source})", e.occurrence, e.occurrence_text);
            if !e.reasons.is_empty() {
                detail = format!("{detail}; motivos: {}", e.reasons.join(", "));
            }
            out.events.push(NewEvent {
                invoice_id: invoice.id,
                kind: e.kind.as_str(),
                detail,
                amount_cents: None,
            });
            return Ok(Decided::new(Outcome::Registered, None, Some(invoice.id)));
        }
        match invoice.status {
            InvoiceStatus::Paid => {
                return Ok(Decided::new(
                    Outcome::AlreadyPaid,
                    invoice
                        .paid_on
                        .as_ref()
                        .map(|d| format!("fatura já paga em {d}")),
                    Some(invoice.id),
                ));
            }
            InvoiceStatus::Cancelled => {
                return Ok(Decided::new(
                    Outcome::Refused,
                    Some(format!("fatura {} cancelada", invoice.id)),
                    Some(invoice.id),
                ));
            }
            InvoiceStatus::Open => {}
        }
        let paid = bank_return::paid_amount(e, invoice.amount_cents);
        let short = bank_return::shortfall(e, invoice.amount_cents, paid);
        let date = e
            .paid_on
            .or(e.credited_on)
            .map(|d| d.to_string())
            .unwrap_or_else(|| ctx.fallback_date.clone());
        if short > 0 && self.partial == PartialPayment::ManterAberta {
            let reason = format!(
                "pagamento parcial de R$ {} (fatura de R$ {}): fatura mantida em aberto",
                brl(paid),
                brl(invoice.amount_cents)
            );
            out.events.push(NewEvent {
                invoice_id: invoice.id,
                kind: "pagamento_parcial",
                detail: format!("{reason} ({source})"),
                amount_cents: Some(paid),
            });
            return Ok(Decided::new(
                Outcome::Registered,
                Some(reason),
                Some(invoice.id),
            ));
        }
        let paying = self
            .settlement
            .pay_in(tx, invoice.id, &date, Some(paid), ACTOR)
            .await?;
        let decided = match paying.settled() {
            Settled::Done(_) => {
                invoice.status = InvoiceStatus::Paid;
                invoice.paid_on = Some(date.clone());
                let detail = format!(
                    "liquidação {} de R$ {} em {date} ({source})",
                    e.occurrence,
                    brl(paid)
                );
                out.events.push(NewEvent {
                    invoice_id: invoice.id,
                    kind: OccurrenceKind::Liquidation.as_str(),
                    detail,
                    amount_cents: Some(paid),
                });
                let reason = if paid < invoice.amount_cents {
                    let difference = invoice.amount_cents - paid;
                    let text = format!(
                        "pago R$ {} de R$ {}: diferença de R$ {}",
                        brl(paid),
                        brl(invoice.amount_cents),
                        brl(difference)
                    );
                    out.events.push(NewEvent {
                        invoice_id: invoice.id,
                        kind: "diferenca",
                        detail: format!("{text} ({source})"),
                        amount_cents: Some(difference),
                    });
                    Some(text)
                } else {
                    None
                };
                Decided::new(Outcome::Paid, reason, Some(invoice.id))
            }
            Settled::AlreadyPaid => {
                invoice.status = InvoiceStatus::Paid;
                Decided::new(
                    Outcome::AlreadyPaid,
                    Some("fatura já paga".into()),
                    Some(invoice.id),
                )
            }
            Settled::AlreadyCancelled => {
                invoice.status = InvoiceStatus::Cancelled;
                Decided::new(
                    Outcome::Refused,
                    Some(format!("fatura {} cancelada", invoice.id)),
                    Some(invoice.id),
                )
            }
            Settled::NotFound => unknown(),
        };
        out.pending.push(paying);
        Ok(decided)
    }
}

/// What a batch's lines leave to write before its commit: the events on the invoices'
/// history, and the payments (committed by `Settlement::finish_many`).
#[derive(Default)]
struct Effects {
    events: Vec<NewEvent>,
    pending: Vec<Pending>,
}

/// How `begin` found the file.
enum Begun {
    New(FileRow),
    Resumed(FileRow),
    Done(FileRow),
}

impl Begun {
    fn existing(row: FileRow) -> Begun {
        if row.finished_at.is_some() {
            Begun::Done(row)
        } else {
            Begun::Resumed(row)
        }
    }
}

fn unknown() -> Decided {
    Decided::new(
        Outcome::Unknown,
        Some("nenhuma fatura com este nosso número".into()),
        None,
    )
}

/// A line repeating an occurrence applied before: nothing is applied again.
fn repeated(earlier: &Applied, file_id: i64) -> Decided {
    let place = if earlier.file_id == file_id {
        format!("linha {} deste arquivo", earlier.line)
    } else {
        format!("retorno {}, linha {}", earlier.file_id, earlier.line)
    };
    let outcome = match Outcome::parse(&earlier.outcome) {
        Some(Outcome::Paid) => Outcome::AlreadyPaid,
        _ => Outcome::Registered,
    };
    Decided {
        claims: false,
        ..Decided::new(
            outcome,
            Some(format!("ocorrência já processada ({place})")),
            earlier.invoice_id,
        )
    }
}

fn line_row(e: &Entry, d: &Decided, identity: String) -> LineRow {
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string());
    LineRow {
        line: e.line as i64,
        our_number: e.our_number.clone(),
        our_number_key: e.our_number_key.clone(),
        document_number: e.document_number.clone(),
        occurrence: e.occurrence.clone(),
        occurrence_text: e.occurrence_text.clone(),
        kind: e.kind.as_str().into(),
        reasons: e.reasons.join(","),
        face_cents: e.face_cents,
        paid_cents: e.paid_cents,
        fee_cents: e.fee_cents,
        discount_cents: e.discount_cents,
        interest_cents: e.interest_cents,
        rebate_cents: e.rebate_cents,
        paid_on: date(e.paid_on),
        credited_on: date(e.credited_on),
        outcome: d.outcome.as_str().into(),
        reason: d.reason.clone(),
        invoice_id: d.invoice,
        identity: d.claims.then_some(identity),
    }
}

/// The key of the line's nosso número as the file prints it, for an invoice registered
/// without a bank (whose key was made without one).
fn bankless_key(e: &Entry) -> String {
    our_number::key(None, &e.our_number)
}

/// The texts sorted, each once.
fn unique(list: &[String]) -> Vec<String> {
    let mut list = list.to_vec();
    list.sort();
    list.dedup();
    list
}
