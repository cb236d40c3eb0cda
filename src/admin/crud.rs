//! List, read, create and update of every resource, and what some resources do beyond the
//! row itself: a customer's contacts, FreeRADIUS provisioning after a change to a contract,
//! a service or a plan (in the same transaction, as the URA functions do), an invoice's
//! payment codes and its payment or cancellation.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use serde_json::{Map, Value, json};

use super::resource::{self, Field, Kind, Problem, Resource, Val, field_error};
use super::resources::{self, CONTRACTS, CUSTOMERS, INVOICES, PLANS, SERVICES};
use super::{authenticate, db_error, error, ok, paging};
use crate::app::AppState;
use crate::domain::{money, payment_data};
use crate::network::radius;
use crate::store::{Conn, ts};

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
        Problem::Db(e) if is_unique_violation(&e) => error(
            StatusCode::CONFLICT,
            "Já existe um registro com este id ou valor único.",
        ),
        Problem::Db(e) => db_error(e),
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // PostgreSQL 23505; SQLite 2067 (UNIQUE) and 1555 (PRIMARY KEY).
            code == "23505" || code == "2067" || code == "1555"
        }
        _ => false,
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
    State(state): State<Arc<AppState>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = authenticate(&state, &headers).await {
        return r;
    }
    let resource = match resource_of(&path) {
        Ok(r) => r,
        Err(r) => return r.answer(),
    };
    let (offset, limit) = match paging(&query) {
        Ok(p) => p,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    let result = async {
        let mut conn = state.store.pool.acquire().await?;
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
        Ok((rows, total)) => ok(
            StatusCode::OK,
            json!({
                "paginacao": { "offset": offset, "limit": limit, "parcial": rows.len(), "total": total },
                "registros": rows,
            }),
        ),
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
        let contacts: Vec<(String, String)> = sqlx::query_as(
            "SELECT kind, value FROM customer_contacts WHERE customer_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
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
    State(state): State<Arc<AppState>>,
    Path((path, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authenticate(&state, &headers).await {
        return r;
    }
    let resource = match resource_of(&path) {
        Ok(r) => r,
        Err(r) => return r.answer(),
    };
    let id = match parse_id(&id, resource) {
        Ok(id) => id,
        Err(r) => return r.answer(),
    };
    let result = async {
        let mut conn = state.store.pool.acquire().await?;
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
    State(state): State<Arc<AppState>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(state, path, None, headers, body).await
}

/// `PATCH|PUT /admin/api/v1/{recurso}/{id}`: changes the fields given.
pub async fn update(
    State(state): State<Arc<AppState>>,
    Path((path, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write(state, path, Some(id), headers, body).await
}

async fn write(
    state: Arc<AppState>,
    path: String,
    id: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let who = match authenticate(&state, &headers).await {
        Ok(name) => name,
        Err(r) => return r,
    };
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
    let result = write_in_tx(&state, resource, id, &body).await;
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
    state: &AppState,
    resource: &'static Resource,
    id: Option<i64>,
    body: &Map<String, Value>,
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
        sqlx::query("DELETE FROM customer_contacts WHERE customer_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        for (kind, value) in contacts {
            sqlx::query(
                "INSERT INTO customer_contacts (customer_id, kind, value) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(kind)
            .bind(value)
            .execute(&mut **tx)
            .await?;
        }
    }
    provision(state, &mut tx, resource, id, before.as_ref(), old_login).await?;
    let row = read_one(&mut tx, resource, id).await?;
    tx.commit().await?;
    Ok(row.map(|r| (id, r)))
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
    state: &AppState,
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
        let contract: i64 =
            sqlx::query_scalar("SELECT contract_id FROM internet_services WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *conn)
                .await?;
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
        let contracts: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT contract_id FROM internet_services WHERE plan_id = $1",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
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
    let taken: Option<i64> =
        sqlx::query_scalar("SELECT id FROM internet_services WHERE login = $1")
            .bind(login)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(other) = taken
        && Some(other) != id
    {
        return Err(field_error("login", "já em uso por outro serviço."));
    }
    let Some(id) = id else { return Ok(None) };
    let old: Option<String> =
        sqlx::query_scalar("SELECT login FROM internet_services WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
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
        Some(id) => sqlx::query_as(
            "SELECT barcode, digitable_line, pix_payload FROM invoices WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
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
    State(state): State<Arc<AppState>>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authenticate(&state, &headers).await {
        return r;
    }
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
        let mut tx = state.store.write().await?;
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT status, amount_cents FROM invoices WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
        let Some((status, amount)) = row else {
            return Ok(None);
        };
        if status != "open" {
            let now = if status == "paid" {
                "paga"
            } else {
                "cancelada"
            };
            return Err(field_error("status", format!("a fatura já está {now}.")));
        }
        let today = state.local_date(Utc::now()).format("%Y-%m-%d").to_string();
        let date_field = resource::Field::new("data", "x", Kind::Date);
        let date = match body.get("data") {
            Some(v) => match resource::parse_value(&mut tx, &date_field, v).await? {
                Val::Text(d) => d,
                _ => today,
            },
            None => today,
        };
        if paying {
            let value_field = resource::Field::new("valor", "x", Kind::Money);
            let paid = match body.get("valor") {
                Some(v) => match resource::parse_value(&mut tx, &value_field, v).await? {
                    Val::Int(c) => c,
                    _ => amount,
                },
                None => amount,
            };
            sqlx::query(
                "UPDATE invoices SET status = 'paid', paid_on = $1, paid_cents = $2 WHERE id = $3",
            )
            .bind(&date)
            .bind(paid)
            .bind(id)
            .execute(&mut **tx)
            .await?;
            tracing::info!(fatura = id, valor = %money::brl(paid), "admin: fatura paga");
        } else {
            sqlx::query(
                "UPDATE invoices SET status = 'cancelled', cancelled_on = $1 WHERE id = $2",
            )
            .bind(&date)
            .bind(id)
            .execute(&mut **tx)
            .await?;
            tracing::info!(fatura = id, "admin: fatura cancelada");
        }
        let row = resource::get(&mut tx, &INVOICES, id).await?;
        tx.commit().await?;
        Ok::<_, Problem>(row)
    }
    .await;
    match result {
        Ok(Some(row)) => ok(StatusCode::OK, Value::Object(row)),
        Ok(None) => not_found(&INVOICES, id),
        Err(p) => problem(p),
    }
}
