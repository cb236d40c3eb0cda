//! Signing agents in and out: session cookies (HttpOnly, SameSite, Secure behind TLS), CSRF
//! tokens on every form, and throttling of wrong passwords per login and per address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{TimeDelta, Utc};
use minijinja::context;
use subtle::ConstantTimeEq;

use super::views::{error_page, page, render};
use super::{PainelState, path};
use crate::store::agents::{self, Session, SignIn};

const SESSION_COOKIE: &str = "ura_painel";
const LOGIN_CSRF_COOKIE: &str = "ura_painel_csrf";
const ADDRESS_WINDOW: Duration = Duration::from_secs(15 * 60);

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn set_cookie(
    state: &PainelState,
    headers: &HeaderMap,
    name: &str,
    value: &str,
    max_age: i64,
) -> HeaderValue {
    let secure = if state.origin(headers).starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let path = format!("{}/painel", state.settings.base_path);
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The session cookie's token, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// Why a request cannot go on as a signed-in agent.
pub enum Denied {
    /// No valid session: pages go to the sign-in form, scripts get 401.
    SignIn,
    /// The form's CSRF token is missing or wrong.
    Csrf,
    /// The database could not be asked.
    Unavailable,
}

impl Denied {
    pub fn respond(self, state: &PainelState, wants_page: bool) -> Response {
        let base = &state.settings.base_path;
        match self {
            Denied::SignIn if wants_page => {
                let mut r = Redirect::to(&path(state, "entrar")).into_response();
                super::views::secure_headers(&mut r);
                r
            }
            Denied::SignIn => error_page(
                StatusCode::UNAUTHORIZED,
                base,
                "Sessão encerrada. Entre novamente.",
            ),
            Denied::Csrf => error_page(
                StatusCode::FORBIDDEN,
                base,
                "Formulário expirado ou de outra origem. Recarregue a página e tente de novo.",
            ),
            Denied::Unavailable => error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                base,
                "Banco de dados indisponível. Tente novamente em instantes.",
            ),
        }
    }
}

/// The signed-in agent of this request.
pub async fn current(state: &PainelState, headers: &HeaderMap) -> Result<Session, Denied> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Err(Denied::SignIn);
    };
    match agents::session(&state.store, &token, Utc::now()).await {
        Ok(Some(session)) => Ok(session),
        Ok(None) => Err(Denied::SignIn),
        Err(e) => {
            tracing::warn!("painel: sessão não verificada: {e}");
            Err(Denied::Unavailable)
        }
    }
}

/// The signed-in agent of a page request. A handler that takes one cannot skip the check:
/// without a valid session the browser is sent to the sign-in form.
pub struct AgentSession(pub Session);

/// The answer refusing a page request.
pub struct PageDenied(Response);

impl IntoResponse for PageDenied {
    fn into_response(self) -> Response {
        self.0
    }
}

impl<S> FromRequestParts<S> for AgentSession
where
    S: Send + Sync,
    Arc<PainelState>: FromRef<S>,
{
    type Rejection = PageDenied;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<AgentSession, PageDenied> {
        let state = Arc::<PainelState>::from_ref(state);
        match current(&state, &parts.headers).await {
            Ok(session) => Ok(AgentSession(session)),
            Err(denied) => Err(PageDenied(denied.respond(&state, true))),
        }
    }
}

/// A form posted by the signed-in agent, its CSRF token checked. A handler that takes one
/// cannot skip either check.
pub struct AgentPost {
    pub session: Session,
    /// The fields in the order posted (a name may repeat).
    pub fields: Vec<(String, String)>,
    /// The fields by name (the last of a repeated name).
    pub form: HashMap<String, String>,
}

/// Whether the client asked for JSON rather than a page.
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

impl<S> FromRequest<S> for AgentPost
where
    S: Send + Sync,
    Arc<PainelState>: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<AgentPost, Response> {
        let state = Arc::<PainelState>::from_ref(state);
        let headers = request.headers().clone();
        let Form(fields) = Form::<Vec<(String, String)>>::from_request(request, &state)
            .await
            .map_err(IntoResponse::into_response)?;
        let form: HashMap<String, String> = fields.iter().cloned().collect();
        match current_for_post(&state, &headers, &form).await {
            Ok(session) => Ok(AgentPost {
                session,
                fields,
                form,
            }),
            Err(denied) => Err(denied.respond(&state, !wants_json(&headers))),
        }
    }
}

/// Whether `given` is the session's CSRF token (for forms read by their handler, such as
/// file uploads, which `AgentPost` does not read).
pub fn csrf_matches(session: &Session, given: Option<&str>) -> bool {
    given.is_some_and(|token| same(token, &session.csrf))
}

/// The signed-in agent, for a form post: the CSRF token must be in the form (`csrf`) or in
/// the `X-CSRF-Token` header.
async fn current_for_post(
    state: &PainelState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Session, Denied> {
    let session = current(state, headers).await?;
    let given = form.get("csrf").cloned().or_else(|| {
        headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    match given {
        Some(token) if same(&token, &session.csrf) => Ok(session),
        _ => Err(Denied::Csrf),
    }
}

pub async fn login_page(State(state): State<Arc<PainelState>>, headers: HeaderMap) -> Response {
    if current(&state, &headers).await.is_ok() {
        return Redirect::to(&path(&state, "")).into_response();
    }
    login_form(&state, &headers, StatusCode::OK, None, "")
}

/// The sign-in form, with a fresh double-submit CSRF token (cookie and hidden field).
fn login_form(
    state: &PainelState,
    headers: &HeaderMap,
    status: StatusCode,
    message: Option<&str>,
    login: &str,
) -> Response {
    let token = agents::random_token();
    let html = render(
        "entrar.html",
        context! {
            base => state.settings.base_path,
            titulo => "Entrar",
            csrf => token,
            mensagem => message,
            login => login,
        },
    );
    let mut response = page(status, html);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, headers, LOGIN_CSRF_COOKIE, &token, 3600),
    );
    response
}

impl PainelState {
    /// Seconds this address must still wait after too many wrong passwords.
    fn address_wait(&self, ip: IpAddr, limit: u32) -> Option<u64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (count, since) = map.get(&ip)?;
        let elapsed = since.elapsed();
        (*count >= limit && elapsed < ADDRESS_WINDOW)
            .then(|| (ADDRESS_WINDOW - elapsed).as_secs().max(1))
    }

    fn address_failed(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        // The map cannot grow without bound under a spray from many addresses.
        if map.len() > 10_000 {
            map.retain(|_, (_, since)| now.duration_since(*since) < ADDRESS_WINDOW);
        }
        let entry = map.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= ADDRESS_WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
    }
}

fn too_many(state: &PainelState, headers: &HeaderMap, secs: u64, login: &str) -> Response {
    let message = format!("Muitas tentativas de acesso. Tente novamente em {secs} segundos.");
    let mut response = login_form(
        state,
        headers,
        StatusCode::TOO_MANY_REQUESTS,
        Some(&message),
        login,
    );
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

pub async fn login(
    State(state): State<Arc<PainelState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let login = form.get("login").map(|l| l.trim()).unwrap_or("");
    let password = form.get("senha").map(String::as_str).unwrap_or("");
    let csrf_ok = match (cookie(&headers, LOGIN_CSRF_COOKIE), form.get("csrf")) {
        (Some(c), Some(f)) => same(&c, f),
        _ => false,
    };
    if !csrf_ok {
        return login_form(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            Some("Formulário expirado. Tente entrar novamente."),
            login,
        );
    }
    // Behind a trusted reverse proxy, the agent's own address (else every agent would share
    // the proxy's count); an unreadable forwarded entry counts under the proxy's.
    let peer = peer.ip().to_canonical();
    let trusted = crate::settings::parse_networks(&state.settings.limites.proxies_confiaveis)
        .unwrap_or_default();
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    let ip = crate::domain::forwarded::client(peer, forwarded, |ip| {
        trusted.iter().any(|n| n.contains(&ip))
    })
    .ip()
    .unwrap_or(peer);
    let limit = state.settings.painel.falhas_por_endereco.max(1);
    if let Some(secs) = state.address_wait(ip, limit) {
        return too_many(&state, &headers, secs, login);
    }
    if login.is_empty() || password.is_empty() {
        return login_form(
            &state,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Informe login e senha."),
            login,
        );
    }
    let now = Utc::now();
    match agents::sign_in(&state.store, login, password, now).await {
        Ok(SignIn::Ok(agent)) => {
            // A success does not clear the address's count: one valid account must not
            // let an address guess the others' passwords without limit.
            let hours = state.settings.painel.sessao_horas.clamp(0.1, 24.0 * 30.0);
            let lifetime = TimeDelta::seconds((hours * 3600.0) as i64);
            let token = match agents::start_session(&state.store, agent.id, now, lifetime).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!("painel: sessão não criada: {e}");
                    return Denied::Unavailable.respond(&state, true);
                }
            };
            tracing::info!(agente = %agent.login, "painel: agente entrou");
            let mut response = Redirect::to(&path(&state, "")).into_response();
            let h = response.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(
                    &state,
                    &headers,
                    SESSION_COOKIE,
                    &token,
                    lifetime.num_seconds(),
                ),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(&state, &headers, LOGIN_CSRF_COOKIE, "", 0),
            );
            super::views::secure_headers(&mut response);
            response
        }
        Ok(SignIn::Locked(secs)) => {
            state.address_failed(ip);
            tracing::warn!(agente = %login, "painel: login bloqueado por tentativas");
            too_many(&state, &headers, secs.max(1) as u64, login)
        }
        Ok(SignIn::Refused) => {
            state.address_failed(ip);
            // Not the login typed: a password typed in the wrong field would land in the log.
            tracing::warn!(endereco = %ip, "painel: credenciais incorretas");
            login_form(
                &state,
                &headers,
                StatusCode::UNAUTHORIZED,
                Some("Login ou senha incorretos."),
                login,
            )
        }
        Err(e) => {
            tracing::warn!("painel: login não verificado: {e}");
            Denied::Unavailable.respond(&state, true)
        }
    }
}

pub async fn logout(
    State(state): State<Arc<PainelState>>,
    headers: HeaderMap,
    _post: AgentPost,
) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = agents::end_session(&state.store, &token).await
    {
        tracing::warn!("painel: sessão não encerrada: {e}");
        return Denied::Unavailable.respond(&state, true);
    }
    // Streams of this session notice at their next look and close.
    state.live.notify();
    let mut response = Redirect::to(&path(&state, "entrar")).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, &headers, SESSION_COOKIE, "", 0),
    );
    super::views::secure_headers(&mut response);
    response
}
