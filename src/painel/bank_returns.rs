//! "Retornos": an agent uploads the bank's return file and reads its report; the files
//! imported before are listed, each with its report.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt;
use minijinja::context;
use serde::Serialize;

use super::PainelState;
use super::auth::{AgentSession, Denied, csrf_matches, current};
use super::pages::{me, unavailable};
use super::views::{error_page, page, render};
use crate::domain::money::brl;
use crate::services::bank_returns::{FileReport, ImportError, Report, file_name};
use crate::store::agents::Session;

/// Files per page of the list.
const FILES_PER_PAGE: i64 = 30;
/// Lines shown on a report page (the admin API has them all).
const LINES_SHOWN: usize = 2000;

/// A file as the list and the report show it.
#[derive(Serialize)]
struct FileView {
    id: i64,
    arquivo: String,
    banco: String,
    layout: String,
    convenio: String,
    sequencia: Option<i64>,
    gerado_em: Option<String>,
    ocorrencias: i64,
    pagos: i64,
    ja_pagos: i64,
    registrados: i64,
    desconhecidos: i64,
    recusados: i64,
    valor_pago: String,
    tarifas: String,
    por: String,
    quando: String,
    concluido: bool,
}

/// One line of a report page.
#[derive(Serialize)]
struct LineView {
    linha: i64,
    nosso_numero: String,
    ocorrencia: String,
    descricao: String,
    motivos: Vec<String>,
    valor: String,
    pagamento: Option<String>,
    credito: Option<String>,
    resultado: String,
    fatura: Option<i64>,
    motivo: Option<String>,
}

/// Reais as the report's JSON gives them (`49.9`) → `49,90`.
fn money(value: &serde_json::Value) -> String {
    let cents = value
        .as_f64()
        .map(|v| (v * 100.0).round() as i64)
        .unwrap_or(0);
    brl(cents)
}

fn file_view(state: &PainelState, f: &FileReport) -> FileView {
    let quando = crate::store::parse_ts(&f.criado_em)
        .map(|t| {
            t.with_timezone(&state.tz)
                .format("%d/%m/%Y %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| f.criado_em.clone());
    FileView {
        id: f.id,
        arquivo: f.arquivo.clone(),
        banco: f.banco.clone(),
        layout: f.layout.clone(),
        convenio: f.convenio.clone(),
        sequencia: f.sequencia,
        gerado_em: f.gerado_em.clone(),
        ocorrencias: f.ocorrencias,
        pagos: f.pagos,
        ja_pagos: f.ja_pagos,
        registrados: f.registrados,
        desconhecidos: f.desconhecidos,
        recusados: f.recusados,
        valor_pago: money(&f.valor_pago),
        tarifas: money(&f.tarifas),
        por: f.importado_por.clone(),
        quando,
        concluido: f.concluido_em.is_some(),
    }
}

/// The list of files (and the upload form), with a message when an upload was refused.
async fn list_page(
    state: &PainelState,
    session: &Session,
    pagina: i64,
    status: StatusCode,
    message: Option<&str>,
) -> Response {
    let offset = (pagina - 1) * FILES_PER_PAGE;
    let (files, total) = match state.bank_returns.list(offset, FILES_PER_PAGE).await {
        Ok(found) => found,
        Err(e) => return unavailable(state, e),
    };
    let arquivos: Vec<FileView> = files.iter().map(|f| file_view(state, f)).collect();
    page(
        status,
        render(
            "retornos.html",
            context! {
                base => state.settings.base_path,
                titulo => "Arquivos de retorno",
                me => me(session),
                arquivos => arquivos,
                mensagem => message,
                pagina => pagina,
                anterior => (pagina > 1).then_some(pagina - 1),
                proxima => (offset + FILES_PER_PAGE < total).then_some(pagina + 1),
            },
        ),
    )
}

fn report_page(state: &PainelState, session: &Session, report: &Report) -> Response {
    let linhas: Vec<LineView> = report
        .linhas
        .iter()
        .take(LINES_SHOWN)
        .map(|l| LineView {
            linha: l.linha,
            nosso_numero: l.nosso_numero.clone(),
            ocorrencia: l.ocorrencia.clone(),
            descricao: l.descricao.clone(),
            motivos: l.motivos.clone(),
            valor: money(&l.valor_pago),
            pagamento: l.data_pagamento.clone(),
            credito: l.data_credito.clone(),
            resultado: l.resultado.clone(),
            fatura: l.fatura,
            motivo: l.motivo.clone(),
        })
        .collect();
    page(
        StatusCode::OK,
        render(
            "retorno.html",
            context! {
                base => state.settings.base_path,
                titulo => format!("Retorno {}", report.arquivo.arquivo),
                me => me(session),
                r => file_view(state, &report.arquivo),
                ja_importado => report.ja_importado,
                retomado => report.retomado,
                linhas => linhas,
                mais => report.linhas.len() > LINES_SHOWN,
                limite => LINES_SHOWN,
            },
        ),
    )
}

/// `GET /painel/retornos?pagina=N`
pub async fn list(
    State(state): State<Arc<PainelState>>,
    AgentSession(session): AgentSession,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let pagina = query
        .get("pagina")
        .and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|p| (1..=1_000_000).contains(p))
        .unwrap_or(1);
    list_page(&state, &session, pagina, StatusCode::OK, None).await
}

/// `GET /painel/retornos/{id}`
pub async fn show(
    State(state): State<Arc<PainelState>>,
    AgentSession(session): AgentSession,
    Path(id): Path<String>,
) -> Response {
    let base = &state.settings.base_path;
    let Some(id) = id.trim().parse::<i64>().ok().filter(|id| *id > 0) else {
        return error_page(
            StatusCode::NOT_FOUND,
            base,
            "Arquivo de retorno não encontrado.",
        );
    };
    match state.bank_returns.get(id).await {
        Ok(Some(report)) => report_page(&state, &session, &report),
        Ok(None) => error_page(
            StatusCode::NOT_FOUND,
            base,
            "Arquivo de retorno não encontrado.",
        ),
        Err(e) => unavailable(&state, e),
    }
}

/// What the upload form sent.
struct Upload {
    csrf: Option<String>,
    name: Option<String>,
    file: Option<Bytes>,
}

/// Reads the multipart form (`csrf`, `arquivo`), at most `max` bytes.
async fn read_form(headers: &HeaderMap, body: Body, max: usize) -> Result<Upload, String> {
    let bytes = match http_body_util::Limited::new(body, max).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(format!(
                "Arquivo grande demais: até {} MB.",
                max.div_ceil(1024 * 1024)
            ));
        }
        Err(_) => return Err("Envio interrompido. Tente de novo.".into()),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| "Envie o arquivo pelo formulário da página.".to_string())?;
    let stream =
        futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
    let mut parts = multer::Multipart::new(stream, boundary);
    let mut upload = Upload {
        csrf: None,
        name: None,
        file: None,
    };
    let bad = |_| "Formulário inválido. Recarregue a página e tente de novo.".to_string();
    while let Some(field) = parts.next_field().await.map_err(bad)? {
        match field.name() {
            Some("csrf") => upload.csrf = Some(field.text().await.map_err(bad)?),
            Some("arquivo") => {
                upload.name = field.file_name().map(str::to_string);
                upload.file = Some(field.bytes().await.map_err(bad)?);
            }
            _ => {}
        }
    }
    Ok(upload)
}

/// `POST /painel/retornos` (multipart: `csrf`, `arquivo`): imports the file and shows its
/// report; a file that does not read is refused whole, naming the line and field.
pub async fn upload(
    State(state): State<Arc<PainelState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let session = match current(&state, &headers).await {
        Ok(s) => s,
        Err(denied) => return denied.respond(&state, true),
    };
    let max = state.settings.retorno.tamanho_max;
    let form = match read_form(&headers, body, max).await {
        Ok(f) => f,
        Err(message) => {
            return list_page(
                &state,
                &session,
                1,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&message),
            )
            .await;
        }
    };
    if !csrf_matches(&session, form.csrf.as_deref()) {
        return Denied::Csrf.respond(&state, true);
    }
    let Some(file) = form.file.filter(|f| !f.iter().all(u8::is_ascii_whitespace)) else {
        return list_page(
            &state,
            &session,
            1,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Escolha o arquivo de retorno a importar."),
        )
        .await;
    };
    let name = file_name(form.name);
    let actor = format!("painel:{}", session.agent.login);
    match state
        .bank_returns
        .import_detached(name.clone(), file, actor)
        .await
    {
        Ok(report) => {
            tracing::info!(agente = %session.agent.login, arquivo = %name, "painel: retorno importado");
            report_page(&state, &session, &report)
        }
        Err(ImportError::Refused(e)) => {
            let message = format!("Arquivo {name} recusado: {e}. Nada foi importado.");
            list_page(
                &state,
                &session,
                1,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&message),
            )
            .await
        }
        Err(ImportError::Db(e)) => unavailable(&state, e),
    }
}
