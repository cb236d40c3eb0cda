//! List, read, create and update of every resource, and what some resources do beyond the
//! row itself: a customer's contacts, FreeRADIUS provisioning after a change to a contract,
//! a service or a plan (in the same transaction, as the URA functions do), an invoice's
//! payment codes and its payment or cancellation.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde_json::{Map, Value, json};

use super::{AdminState, AdminToken, JsonBody, db_error, error, ok, paging};
use crate::domain::paging::Page;
use crate::domain::states::{ContractStatus, StatusReason};
use crate::domain::{money, payment_data, pix};
use crate::services::settle::Settled;
use crate::store::radius;
use crate::store::resource::{self, Field, Kind, Problem, Resource, Val, field_error};
use crate::store::resources::{self, CONTRACTS, CUSTOMERS, INVOICES, PLANS, SERVICES};
use crate::store::{Conn, admin_hooks, dunning, ts};

/// A refusal, answered as `{"detail": ...}` by the handler.
struct Reject(StatusCode, String);

impl Reject {
    fn answer(self) -> Response {
        error(self.0, &self.1)
    }
}

fn resource_of(path: &str) -> Result<&'static Resource, Reject> {
    resources::by_path(path)
        .ok_or_else(|| Reject(StatusCode::NOT_FOUND, "Recurso não encontrado.".into()))
}

fn parse_id(text: &str, resource: &Resource) -> Result<i64, Reject> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            Reject(
                StatusCode::NOT_FOUND,
                format!("{} {text} não encontrado.", resource.label),
            )
        })
}

fn not_found(resource: &Resource, id: impl std::fmt::Display) -> Response {
    error(
        StatusCode::NOT_FOUND,
        &format!("{} {id} não encontrado.", resource.label),
    )
}

fn problem(p: Problem) -> Response {
    match p {
        Problem::Invalid(message) => error(StatusCode::BAD_REQUEST, &message),
        Problem::Db(e) if crate::store::is_unique_violation(&e) => error(
            StatusCode::CONFLICT,
            "Já existe um registro com este id ou valor único.",
        ),
        Problem::Db(e) => db_error(e),
    }
}

/// The body as a JSON object.
fn body_object(body: &Bytes) -> Result<Map<String, Value>, Reject> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Reject(
            StatusCode::BAD_REQUEST,
            "O corpo deve ser um objeto JSON.".into(),
        )),
        Err(e) => Err(Reject(
            StatusCode::BAD_REQUEST,
            format!("JSON inválido: {e}"),
        )),
    }
}

/// `GET /admin/api/v1/{recurso}`: filters by the resource's filterable fields.
pub async fn list(
    State(state): State<Arc<AdminState>>,
    _admin: AdminToken,
    Path(path): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let resource = match resource_of(&path) {
        Ok(r) => r,
        Err(r) => return r.answer(),
    };
    let (offset, limit) = match paging(&query) {
        Ok(p) => p,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    let result = async {
        let mut conn = state.store.acquire().await?;
        let mut filters = Vec::new();
        for (key, value) in &query {
            if matches!(key.as_str(), "offset" | "limit") {
                continue;
            }
            let Some(f) = resource.fields.iter().find(|f| f.json == key && f.filter) else {
                return Err(field_error(key, "não é um filtro desta lista."));
            };
            let given = match f.kind {
                Kind::Bool => Value::Bool(matches!(value.trim(), "true" | "1")),
                _ => Value::String(value.clone()),
            };
            let mut lenient = *f;
            lenient.required = true;
            filters.push((f, resource::parse_value(&mut conn, &lenient, &given).await?));
        }
        let (mut rows, total) =
            resource::list(&mut conn, resource, &filters, offset, limit).await?;
        for row in &mut rows {
            decorate(&mut conn, resource, row).await?;
        }
        Ok((rows, total))
    }
    .await;
    match result {
        Ok((rows, total)) => ok(StatusCode::OK, Page::new(offset, limit, total, rows)),
        Err(p) => problem(p),
    }
}

/// What a row shows beyond its columns.
async fn decorate(
    conn: &mut Conn,
    resource: &Resource,
    row: &mut Map<String, Value>,
) -> Result<(), sqlx::Error> {
    if std::ptr::eq(resource, &CUSTOMERS)
        && let Some(id) = row.get("id").and_then(Value::as_i64)
    {
        let contacts = admin_hooks::contacts(conn, id).await?;
        let list: Vec<Value> = contacts
            .into_iter()
            .map(|(kind, value)| json!({ "tipo": contact_kind_name(&kind), "valor": value }))
            .collect();
        row.insert("contatos".into(), Value::Array(list));
    }
    Ok(())
}

async fn read_one(
    conn: &mut Conn,
    resource: &Resource,
    id: i64,
) -> Result<Option<Map<String, Value>>, sqlx::Error> {
    let Some(mut row) = resource::get(conn, resource, id).await? else {
        return Ok(None);
    };
    decorate(conn, resource, &mut row).await?;
    Ok(Some(row))
}

/// `GET /admin/api/v1/{recurso}/{id}`
pub async fn get(
    State(state): State<Arc<AdminState>>,
    _admin: AdminToken,
    Path((path, id)): Path<(String, String)>,
) -> Response {
    let resource = match resource_of(&path) {
        Ok(r) => r,
        Err(r) => return r.answer(),
    };
    let id = match parse_id(&id, resource) {
        Ok(id) => id,
        Err(r) => return r.answer(),
    };
    let result = async {
        let mut conn = state.store.acquire().await?;
        read_one(&mut conn, resource, id).await
    }
    .await;
    match result {
        Ok(Some(row)) => ok(StatusCode::OK, Value::Object(row)),
        Ok(None) => not_found(resource, id),
        Err(e) => db_error(e),
    }
}

/// `POST /admin/api/v1/{recurso}`: the provider's own `id` may be given.
pub async fn create(
    State(state): State<Arc<AdminState>>,
    admin: AdminToken,
    Path(path): Path<String>,
    JsonBody(body): JsonBody,
) -> Response {
    write(state, admin, path, None, body).await
}

/// `PATCH|PUT /admin/api/v1/{recurso}/{id}`: changes the fields given.
pub async fn update(
    State(state): State<Arc<AdminState>>,
    admin: AdminToken,
    Path((path, id)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Response {
    write(state, admin, path, Some(id), body).await
}

async fn write(
    state: Arc<AdminState>,
    admin: AdminToken,
    path: String,
    id: Option<String>,
    body: Bytes,
) -> Response {
    let who = admin.name;
    let resource = match resource_of(&path) {
        Ok(r) => r,
        Err(r) => return r.answer(),
    };
    if !resource.writable {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("{}: somente leitura.", resource.path),
        );
    }
    let id = match id.map(|i| parse_id(&i, resource)).transpose() {
        Ok(id) => id,
        Err(r) => return r.answer(),
    };
    let body = match body_object(&body) {
        Ok(b) => b,
        Err(r) => return r.answer(),
    };
    let creating = id.is_none();
    let actor = format!("admin:{who}");
    let result = write_in_tx(&state, resource, id, &body, &actor).await;
    match result {
        Ok(Some((id, row))) => {
            tracing::info!(admin = %who, recurso = resource.path, id, "admin: registro gravado");
            let status = if creating {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            ok(status, Value::Object(row))
        }
        Ok(None) => not_found(resource, id.unwrap_or_default()),
        Err(p) => problem(p),
    }
}

async fn write_in_tx(
    state: &AdminState,
    resource: &'static Resource,
    id: Option<i64>,
    body: &Map<String, Value>,
    actor: &str,
) -> Result<Option<(i64, Map<String, Value>)>, Problem> {
    let creating = id.is_none();
    let postgres = state.store.backend == crate::store::Backend::Postgres;
    let mut tx = state.store.write().await?;
    let extra: &[&str] = if std::ptr::eq(resource, &CUSTOMERS) {
        &["contatos"]
    } else {
        &[]
    };
    // The provider's own id on create.
    let mut values = resource::parse_body(&mut tx, resource, body, creating, extra).await?;
    if creating && let Some(given) = body.get("id") {
        let Some(given) = given.as_i64().filter(|i| *i > 0) else {
            return Err(field_error("id", "informe um número inteiro positivo."));
        };
        if resource::exists(&mut tx, resource, given).await? {
            return Err(field_error(
                "id",
                format!("já existe {} com o id {given}.", resource.label),
            ));
        }
    }
    let before = match id {
        Some(id) => match resource::get(&mut tx, resource, id).await? {
            Some(row) => Some(row),
            None => return Ok(None),
        },
        None => None,
    };
    let contacts = if std::ptr::eq(resource, &CUSTOMERS) {
        body.get("contatos").map(parse_contacts).transpose()?
    } else {
        None
    };
    let mut old_login = None;
    if std::ptr::eq(resource, &SERVICES) {
        old_login = check_login(&mut tx, &values, id).await?;
    }
    if std::ptr::eq(resource, &INVOICES) {
        normalize_payment_codes(&mut tx, &mut values, id).await?;
        check_bank_fields(&mut tx, &mut values, id).await?;
    }
    if std::ptr::eq(resource, &CONTRACTS) && !creating {
        // A status changed by the operator is a manual status, unless the mode is given.
        let status_given = values.iter().any(|(f, _)| f.json == "status");
        let mode_given = values.iter().any(|(f, _)| f.json == "status_modo");
        if status_given && !mode_given {
            values.push((field(&CONTRACTS, "status_modo"), Val::Int(2)));
        }
    }
    if creating
        && let Some(f) = resource
            .fields
            .iter()
            .find(|f| f.column == "created_at" && matches!(f.kind, Kind::Timestamp))
    {
        values.push((f, Val::Text(ts(Utc::now()))));
    }
    let id = match id {
        None => resource::insert(&mut tx, resource, &values, postgres).await?,
        Some(id) => {
            resource::update(&mut tx, resource, id, &values).await?;
            id
        }
    };
    if let Some(contacts) = contacts {
        admin_hooks::replace_contacts(&mut tx, id, &contacts).await?;
    }
    if std::ptr::eq(resource, &INVOICES) {
        admin_hooks::refresh_our_number_key(&mut tx, id).await?;
    }
    let status_changed = if std::ptr::eq(resource, &CONTRACTS) {
        record_manual_status(&mut tx, id, before.as_ref(), &values, actor).await?
    } else {
        None
    };
    provision(state, &mut tx, resource, id, before.as_ref(), old_login).await?;
    let row = read_one(&mut tx, resource, id).await?;
    tx.commit().await?;
    if let Some(to) = status_changed {
        // The equipment re-authenticates into the group the new status gives it.
        let line = &state.settlement.line;
        line.metrics
            .line_changed(to.name(), StatusReason::Manual.as_str());
        line.disconnect(id);
    }
    Ok(row.map(|r| (id, r)))
}

/// A status the operator changed is a manual one: a payment does not lift it. The change is
/// recorded with who made it.
async fn record_manual_status(
    conn: &mut Conn,
    id: i64,
    before: Option<&Map<String, Value>>,
    values: &[(&'static Field, Val)],
    actor: &str,
) -> Result<Option<ContractStatus>, sqlx::Error> {
    let Some(Val::Int(new)) = values
        .iter()
        .find(|(f, _)| f.json == "status")
        .map(|(_, v)| v)
    else {
        return Ok(None);
    };
    let Ok(to) = ContractStatus::from_code(*new) else {
        return Ok(None);
    };
    // A contract being created has no status to change from.
    let Some(from) = before
        .and_then(|b| b.get("status"))
        .and_then(Value::as_i64)
        .and_then(|s| ContractStatus::from_code(s).ok())
    else {
        return Ok(None);
    };
    if from == to {
        return Ok(None);
    }
    dunning::set_reason(conn, id, Some(StatusReason::Manual)).await?;
    dunning::record_change(
        conn,
        dunning::NewChange {
            contract_id: id,
            from,
            to,
            reason: StatusReason::Manual,
            protocol: None,
            actor,
            now: Utc::now(),
        },
    )
    .await?;
    Ok(Some(to))
}

fn field(resource: &'static Resource, json: &str) -> &'static Field {
    resource
        .fields
        .iter()
        .find(|f| f.json == json)
        .unwrap_or(&resource.fields[0])
}

/// FreeRADIUS follows the change, in the same transaction.
async fn provision(
    state: &AdminState,
    conn: &mut Conn,
    resource: &'static Resource,
    id: i64,
    before: Option<&Map<String, Value>>,
    old_login: Option<String>,
) -> Result<(), sqlx::Error> {
    let radius = &state.settings.radius;
    if std::ptr::eq(resource, &CONTRACTS) {
        radius::provision_contract(conn, radius, id).await?;
    } else if std::ptr::eq(resource, &SERVICES) {
        if let Some(old) = old_login.as_deref() {
            radius::remove_logins(conn, &[old]).await?;
        }
        let contract = admin_hooks::service_contract(conn, id).await?;
        radius::provision_contract(conn, radius, contract).await?;
        // Moved to another contract: the old contract's rows are rewritten too.
        if let Some(previous) = before
            .and_then(|b| b.get("contrato_id"))
            .and_then(Value::as_i64)
            .filter(|p| *p != contract)
        {
            radius::provision_contract(conn, radius, previous).await?;
        }
    } else if std::ptr::eq(resource, &PLANS) {
        radius::provision_plan(conn, id).await?;
        // Services on the plan follow a renamed group.
        let contracts = admin_hooks::contracts_on_plan(conn, id).await?;
        for contract in contracts {
            radius::provision_contract(conn, radius, contract).await?;
        }
    }
    Ok(())
}

/// A service's login must be unique; returns the old login when it changes.
async fn check_login(
    conn: &mut Conn,
    values: &[(&'static Field, Val)],
    id: Option<i64>,
) -> Result<Option<String>, Problem> {
    let Some(Val::Text(login)) = values
        .iter()
        .find(|(f, _)| f.json == "login")
        .map(|(_, v)| v)
    else {
        return Ok(None);
    };
    if login.chars().any(char::is_whitespace) {
        return Err(field_error("login", "não pode ter espaços."));
    }
    let taken = admin_hooks::service_by_login(conn, login).await?;
    if let Some(other) = taken
        && Some(other) != id
    {
        return Err(field_error("login", "já em uso por outro serviço."));
    }
    let Some(id) = id else { return Ok(None) };
    let old = admin_hooks::service_login(conn, id).await?;
    Ok(old.filter(|o| o != login))
}

/// The barcode, the linha digitável and the PIX code, as given or as stored, must be valid
/// and agree; they are stored normalized (a missing code derived from the other).
async fn normalize_payment_codes(
    conn: &mut Conn,
    values: &mut Vec<(&'static Field, Val)>,
    id: Option<i64>,
) -> Result<(), Problem> {
    let names = ["codigo_barras", "linha_digitavel", "codigo_pix"];
    if !values.iter().any(|(f, _)| names.contains(&f.json)) {
        return Ok(());
    }
    let stored: (Option<String>, Option<String>, Option<String>) = match id {
        Some(id) => admin_hooks::payment_codes(conn, id)
            .await?
            .unwrap_or_default(),
        None => Default::default(),
    };
    let given = |name: &str| {
        values
            .iter()
            .find(|(f, _)| f.json == name)
            .map(|(_, v)| match v {
                Val::Text(s) => Some(s.clone()),
                _ => None,
            })
    };
    // A code given replaces the stored one; when only one of the two slip codes is given,
    // the other is derived from it rather than kept.
    let slip_given = given("codigo_barras").is_some() || given("linha_digitavel").is_some();
    let barcode = given("codigo_barras").unwrap_or(if slip_given { None } else { stored.0 });
    let line = given("linha_digitavel").unwrap_or(if slip_given { None } else { stored.1 });
    let pix = given("codigo_pix").unwrap_or(stored.2);
    let checked = payment_data::check(barcode.as_deref(), line.as_deref(), pix.as_deref())
        .map_err(|e| Problem::Invalid(format!("{}: {e}", e.field())))?;
    values.retain(|(f, _)| !names.contains(&f.json));
    let text = |v: Option<String>| v.map(Val::Text).unwrap_or(Val::Null);
    values.push((field(&INVOICES, "codigo_barras"), text(checked.barcode)));
    values.push((
        field(&INVOICES, "linha_digitavel"),
        text(checked.digitable_line),
    ));
    values.push((field(&INVOICES, "codigo_pix"), text(checked.pix)));
    Ok(())
}

/// The bank code (three digits), the agreement and the PIX txid as a bank and a PSP write
/// them; a txid names one invoice only, and is read from the PIX code when not given.
async fn check_bank_fields(
    conn: &mut Conn,
    values: &mut Vec<(&'static Field, Val)>,
    id: Option<i64>,
) -> Result<(), Problem> {
    let text = |values: &[(&'static Field, Val)], name: &str| {
        values
            .iter()
            .find(|(f, _)| f.json == name)
            .map(|(_, v)| match v {
                Val::Text(s) => Some(s.clone()),
                _ => None,
            })
    };
    if let Some(Some(bank)) = text(values, "banco")
        && !(bank.len() == 3 && bank.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(field_error(
            "banco",
            "informe o código de três dígitos do banco (ex.: 001, 341).",
        ));
    }
    if let Some(Some(agreement)) = text(values, "convenio")
        && !agreement
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(field_error(
            "convenio",
            "use apenas letras, dígitos e hífen.",
        ));
    }
    let txid = match text(values, "pix_txid") {
        Some(given) => given,
        None => {
            let derived = text(values, "codigo_pix")
                .flatten()
                .and_then(|c| pix::txid(&c));
            if let Some(txid) = &derived {
                values.push((field(&INVOICES, "pix_txid"), Val::Text(txid.clone())));
            }
            derived
        }
    };
    let Some(txid) = txid else {
        return Ok(());
    };
    if txid.is_empty() || !txid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(field_error("pix_txid", "use de 1 a 35 letras e dígitos."));
    }
    if let Some(other) = admin_hooks::invoice_with_txid(conn, &txid).await?
        && Some(other) != id
    {
        return Err(field_error(
            "pix_txid",
            format!("já usado pela fatura {other}."),
        ));
    }
    Ok(())
}

const CONTACT_KINDS: &[(&str, &str)] = &[
    ("email", "email"),
    ("celular", "mobile"),
    ("telefone", "phone"),
];

fn contact_kind_name(stored: &str) -> &str {
    CONTACT_KINDS
        .iter()
        .find(|(_, s)| *s == stored)
        .map(|(w, _)| *w)
        .unwrap_or(stored)
}

/// `[{"tipo":"email","valor":"..."}, ...]`, each checked.
fn parse_contacts(v: &Value) -> Result<Vec<(&'static str, String)>, Problem> {
    let Some(list) = v.as_array() else {
        return Err(field_error(
            "contatos",
            "informe uma lista de {\"tipo\", \"valor\"}.",
        ));
    };
    if list.len() > 20 {
        return Err(field_error("contatos", "no máximo 20."));
    }
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let name = format!("contatos[{i}]");
        let kind = item.get("tipo").and_then(Value::as_str).unwrap_or("");
        let Some((_, stored)) = CONTACT_KINDS.iter().find(|(w, _)| *w == kind) else {
            return Err(field_error(
                &format!("{name}.tipo"),
                "use email, celular ou telefone.",
            ));
        };
        let value = item
            .get("valor")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("");
        let valid = match *stored {
            "email" => {
                value.len() <= 254
                    && value.split_once('@').is_some_and(|(user, domain)| {
                        !user.is_empty() && domain.contains('.') && !domain.starts_with('.')
                    })
                    && !value.chars().any(char::is_whitespace)
            }
            _ => {
                let digits: String = value.chars().filter(char::is_ascii_digit).collect();
                (10..=13).contains(&digits.len())
                    && value
                        .chars()
                        .all(|c| c.is_ascii_digit() || " ()+-.".contains(c))
            }
        };
        if !valid {
            return Err(field_error(
                &format!("{name}.valor"),
                if *stored == "email" {
                    "e-mail inválido."
                } else {
                    "telefone inválido: DDD e número, 10 a 13 dígitos."
                },
            ));
        }
        let value = if *stored == "email" {
            value.to_string()
        } else {
            value.chars().filter(char::is_ascii_digit).collect()
        };
        out.push((*stored, value));
    }
    Ok(out)
}

/// `POST /admin/api/v1/faturas/{id}/pagar` (`data`, `valor`: default today and the amount)
/// and `.../cancelar` (`data`): only an open invoice.
pub async fn settle(
    State(state): State<Arc<AdminState>>,
    admin: AdminToken,
    Path((id, action)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Response {
    let paying = match action.as_str() {
        "pagar" => true,
        "cancelar" => false,
        _ => return error(StatusCode::NOT_FOUND, "Recurso não encontrado."),
    };
    let id = match parse_id(&id, &INVOICES) {
        Ok(id) => id,
        Err(r) => return r.answer(),
    };
    let body = if body.is_empty() {
        Map::new()
    } else {
        match body_object(&body) {
            Ok(b) => b,
            Err(r) => return r.answer(),
        }
    };
    let result = async {
        for key in body.keys() {
            let known = if paying {
                ["data", "valor"].contains(&key.as_str())
            } else {
                key == "data"
            };
            if !known {
                return Err(field_error(key, "campo desconhecido."));
            }
        }
        let mut conn = state.store.acquire().await?;
        let today = state.local_date(Utc::now()).format("%Y-%m-%d").to_string();
        let date_field = resource::Field::new("data", "x", Kind::Date);
        let date = match body.get("data") {
            Some(v) => match resource::parse_value(&mut conn, &date_field, v).await? {
                Val::Text(d) => d,
                _ => today,
            },
            None => today,
        };
        let settlement = &state.settlement;
        let actor = format!("admin:{}", admin.name);
        let settled = if paying {
            let value_field = resource::Field::new("valor", "x", Kind::Money);
            let paid = match body.get("valor") {
                Some(v) => match resource::parse_value(&mut conn, &value_field, v).await? {
                    Val::Int(c) => Some(c),
                    _ => None,
                },
                None => None,
            };
            drop(conn);
            let settled = settlement.pay(id, &date, paid, &actor).await?;
            if matches!(settled, Settled::Done(_)) {
                tracing::info!(fatura = id, valor = ?paid.map(money::brl), "admin: fatura paga");
            }
            settled
        } else {
            drop(conn);
            let settled = settlement.cancel(id, &date).await?;
            if matches!(settled, Settled::Done(_)) {
                tracing::info!(fatura = id, "admin: fatura cancelada");
            }
            settled
        };
        match settled {
            Settled::Done(_) => {}
            Settled::NotFound => return Ok(None),
            Settled::AlreadyPaid => {
                return Err(field_error("status", "a fatura já está paga."));
            }
            Settled::AlreadyCancelled => {
                return Err(field_error("status", "a fatura já está cancelada."));
            }
        }
        let mut conn = state.store.acquire().await?;
        let row = resource::get(&mut conn, &INVOICES, id).await?;
        Ok::<_, Problem>(row)
    }
    .await;
    match result {
        Ok(Some(row)) => ok(StatusCode::OK, Value::Object(row)),
        Ok(None) => not_found(&INVOICES, id),
        Err(p) => problem(p),
    }
}
