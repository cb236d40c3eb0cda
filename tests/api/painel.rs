//! The agents' console over HTTP: signing in and out, CSRF, throttling, the live stream (with
//! replay and queues), actions on a call, history, escaping, and delivery across processes.

use std::time::Duration;

use crate::common::*;
use crate::process::Server;

use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::Value;

const PASSWORD: &str = "senha-forte-123";

/// A signed-in agent: the session cookie and the page's CSRF token.
struct Agent {
    cookie: String,
    csrf: String,
}

async fn add_agent(app: &TestApp, login: &str, name: &str, queues: Option<&[&str]>) {
    crate::common::scan::secret(PASSWORD);
    let queues: Option<Vec<String>> = queues.map(|q| q.iter().map(|s| s.to_string()).collect());
    ura::store::agents::create(&app.store, login, name, PASSWORD, queues.as_deref())
        .await
        .expect("create agent");
}

fn cookie_value(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let first = v.split(';').next()?.trim();
            let (k, val) = first.split_once('=')?;
            (k == name).then(|| val.to_string())
        })
}

fn set_cookie_line(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_default()
        .to_string()
}

/// The value of `name="csrf" value="..."` or `<meta name="csrf" content="...">`.
fn csrf_in(html: &str) -> String {
    for marker in ["name=\"csrf\" value=\"", "name=\"csrf\" content=\""] {
        if let Some(i) = html.find(marker) {
            let rest = &html[i + marker.len()..];
            return rest[..rest.find('"').unwrap()].to_string();
        }
    }
    panic!("no csrf token in: {html}")
}

/// Posts the sign-in form as a browser would (form page first, for its CSRF cookie).
async fn try_sign_in(app: &TestApp, login: &str, password: &str) -> reqwest::Response {
    try_sign_in_at(&app.client, &app.base, login, password).await
}

async fn try_sign_in_at(
    client: &reqwest::Client,
    base: &str,
    login: &str,
    password: &str,
) -> reqwest::Response {
    let form = client
        .get(format!("{base}/painel/entrar"))
        .send()
        .await
        .unwrap();
    let login_cookie = cookie_value(&form, "ura_painel_csrf").expect("login csrf cookie");
    let token = csrf_in(&form.text().await.unwrap());
    client
        .post(format!("{base}/painel/entrar"))
        .header(COOKIE, format!("ura_painel_csrf={login_cookie}"))
        .form(&[("login", login), ("senha", password), ("csrf", &token)])
        .send()
        .await
        .unwrap()
}

async fn sign_in(app: &TestApp, login: &str) -> Agent {
    sign_in_at(&app.client, &app.base, login).await
}

async fn sign_in_at(client: &reqwest::Client, base: &str, login: &str) -> Agent {
    let response = try_sign_in_at(client, base, login, PASSWORD).await;
    assert_eq!(response.status(), 303, "sign-in of {login}");
    let cookie = cookie_value(&response, "ura_painel").expect("session cookie");
    let home = client
        .get(format!("{base}/painel/"))
        .header(COOKIE, format!("ura_painel={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    let csrf = csrf_in(&home.text().await.unwrap());
    Agent {
        cookie: format!("ura_painel={cookie}"),
        csrf,
    }
}

async fn get_as(app: &TestApp, agent: &Agent, path: &str) -> Resp {
    app.send(app.client.get(app.url(path)).header(COOKIE, &agent.cookie))
        .await
}

/// An action as the page's script sends it (JSON answer).
async fn act(app: &TestApp, agent: &Agent, call: i64, action: &str, form: &[(&str, &str)]) -> Resp {
    act_at(&app.client, &app.base, agent, call, action, form).await
}

async fn act_at(
    client: &reqwest::Client,
    base: &str,
    agent: &Agent,
    call: i64,
    action: &str,
    form: &[(&str, &str)],
) -> Resp {
    let mut fields: Vec<(&str, &str)> = vec![("csrf", &agent.csrf)];
    fields.extend_from_slice(form);
    let response = client
        .post(format!("{base}/painel/chamadas/{call}/{action}"))
        .header(COOKIE, &agent.cookie)
        .header("accept", "application/json")
        .form(&fields)
        .send()
        .await
        .expect("send");
    into_resp(response).await
}

async fn notify(app: &TestApp, contract: &str, phone: &str, queue: Option<&str>) -> Value {
    let mut params = vec![("contrato", contract), ("uracontato", phone)];
    if let Some(q) = queue {
        params.push(("uraagente", q));
    }
    let r = app.call("notificacaosistema", &params).await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    r.json
}

async fn last_call_id(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT MAX(id) FROM notifications").await
}

#[derive(Debug)]
struct SseEvent {
    id: Option<String>,
    event: String,
    data: String,
}

/// A Server-Sent Events reader over a streaming response.
struct Sse {
    response: reqwest::Response,
    buffer: String,
}

impl Sse {
    async fn open(client: &reqwest::Client, url: &str, cookie: &str, last: Option<&str>) -> Sse {
        let mut request = client
            .get(url)
            .header(COOKIE, cookie)
            .header("accept", "text/event-stream");
        if let Some(last) = last {
            request = request.header("last-event-id", last);
        }
        let response = request.send().await.expect("open stream");
        assert_eq!(response.status(), 200, "event stream");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        Sse {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (comments skipped), or None if none comes within `within`.
    async fn next(&mut self, within: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent {
                    id: None,
                    event: "message".into(),
                    data: String::new(),
                };
                let mut any = false;
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        event.id = Some(v.trim().to_string());
                        any = true;
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event.event = v.trim().to_string();
                        any = true;
                    } else if let Some(v) = line.strip_prefix("data:") {
                        if !event.data.is_empty() {
                            event.data.push('\n');
                        }
                        event.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        any = true;
                    }
                }
                if any {
                    return Some(event);
                }
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// The next card event, parsed.
    async fn card(&mut self, within: Duration) -> Option<(String, Value)> {
        loop {
            let event = self.next(within).await?;
            if event.event == "cartao" {
                let data: Value = serde_json::from_str(&event.data).expect("card json");
                return Some((event.id.unwrap_or_default(), data));
            }
        }
    }
}

fn stream_url(app: &TestApp) -> String {
    app.url("/painel/eventos")
}

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn every_page_and_action_needs_a_signed_in_agent() {
    let app = spawn().await;
    notify(&app, "1001", "84991380000", None).await;
    let id = last_call_id(&app).await;
    for path in [
        "/painel/",
        "/painel/historico",
        "/painel/filas",
        "/painel/chamadas/1",
    ] {
        let r = app.get(&app.url(path)).await;
        assert_eq!(r.status, 303, "{path} without a session");
    }
    let r = app.get(&app.url("/painel/eventos")).await;
    assert_eq!(r.status, 401);
    // A forged or stale cookie is no better than none.
    let r = app
        .send(
            app.client
                .get(app.url("/painel/eventos"))
                .header(COOKIE, "ura_painel=0000"),
        )
        .await;
    assert_eq!(r.status, 401);
    for action in ["atender", "chamado", "encerrar"] {
        let r = app
            .send(
                app.client
                    .post(app.url(&format!("/painel/chamadas/{id}/{action}")))
                    .header("accept", "application/json")
                    .form(&[("csrf", "x"), ("tipo", "1"), ("texto", "x")]),
            )
            .await;
        assert_eq!(r.status, 401, "{action} without a session: {}", r.body);
    }
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM notifications WHERE taken_by IS NOT NULL")
            .await,
        0
    );
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM tickets").await, 0);
    // The console's own files are public; the login page is the way in.
    assert_eq!(
        app.get(&app.url("/painel/static/painel.js")).await.status,
        200
    );
    assert_eq!(app.get(&app.url("/painel/entrar")).await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn sign_in_sets_a_safe_cookie_and_logout_makes_it_useless() {
    let app = spawn().await;
    add_agent(&app, "maria", "Maria", None).await;
    let response = try_sign_in(&app, "maria", PASSWORD).await;
    assert_eq!(response.status(), 303);
    let line = set_cookie_line(&response, "ura_painel");
    assert!(line.contains("HttpOnly"), "{line}");
    assert!(line.contains("SameSite=Lax"), "{line}");
    assert!(line.contains("Path=/painel"), "{line}");
    assert!(!line.contains("Secure"), "plain HTTP: {line}");
    let cookie = format!(
        "ura_painel={}",
        cookie_value(&response, "ura_painel").unwrap()
    );
    // Only a hash of the token is stored.
    let stored = app
        .scalar_str("SELECT token_hash FROM agent_sessions")
        .await
        .unwrap();
    assert!(!cookie.contains(&stored));

    let home = app
        .send(app.client.get(app.url("/painel/")).header(COOKIE, &cookie))
        .await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Maria"));
    let csrf = csrf_in(&home.body);
    let mut stream = Sse::open(&app.client, &stream_url(&app), &cookie, None).await;

    // Logging out needs the CSRF token too.
    let r = app
        .send(
            app.client
                .post(app.url("/painel/sair"))
                .header(COOKIE, &cookie)
                .form(&[("csrf", "errado")]),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .send(
            app.client
                .post(app.url("/painel/sair"))
                .header(COOKIE, &cookie)
                .form(&[("csrf", csrf.as_str())]),
        )
        .await;
    assert_eq!(r.status, 303);
    // The open stream says so and ends; the cookie no longer opens anything.
    let event = stream.next(WAIT).await.expect("stream told of the logout");
    assert_eq!(event.event, "sair");
    let r = app
        .send(app.client.get(app.url("/painel/")).header(COOKIE, &cookie))
        .await;
    assert_eq!(r.status, 303);
    let r = app
        .send(app.client.get(stream_url(&app)).header(COOKIE, &cookie))
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM agent_sessions").await,
        0
    );

    // Behind a TLS proxy the cookie is Secure.
    let form = app
        .client
        .get(app.url("/painel/entrar"))
        .send()
        .await
        .unwrap();
    let login_cookie = cookie_value(&form, "ura_painel_csrf").unwrap();
    let token = csrf_in(&form.text().await.unwrap());
    let response = app
        .client
        .post(app.url("/painel/entrar"))
        .header(COOKIE, format!("ura_painel_csrf={login_cookie}"))
        .header("x-forwarded-proto", "https")
        .form(&[("login", "maria"), ("senha", PASSWORD), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert!(set_cookie_line(&response, "ura_painel").contains("; Secure"));
    app.stop().await;
}

#[tokio::test]
async fn sign_in_form_needs_its_csrf_token() {
    let app = spawn().await;
    add_agent(&app, "maria", "Maria", None).await;
    // A form posted from elsewhere has neither the cookie nor the matching field.
    let r = app
        .post_form(
            &app.url("/painel/entrar"),
            &[("login", "maria"), ("senha", PASSWORD), ("csrf", "abc")],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM agent_sessions").await,
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn wrong_passwords_are_throttled_per_login_and_per_address() {
    let app = spawn_with(|s| s.painel.falhas_por_endereco = 8).await;
    add_agent(&app, "maria", "Maria", None).await;
    add_agent(&app, "joao", "João", None).await;
    for _ in 0..5 {
        let r = try_sign_in(&app, "maria", "errada-123").await;
        assert_eq!(r.status(), 401);
        let body = r.text().await.unwrap();
        assert!(body.contains("Login ou senha incorretos."), "{body}");
    }
    // Locked now: even the right password is refused, with how long to wait.
    let r = try_sign_in(&app, "maria", PASSWORD).await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Muitas tentativas de acesso. Tente novamente em"),
        "{body}"
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM agent_sessions").await,
        0
    );
    // Another login from the same address still works until the address's own limit...
    sign_in(&app, "joao").await;
    // ...which an unknown login counts towards too.
    for _ in 0..2 {
        assert_eq!(
            try_sign_in(&app, "ninguem", "x-123456789").await.status(),
            401
        );
    }
    let r = try_sign_in(&app, "joao", PASSWORD).await;
    assert_eq!(r.status(), 429, "address limit reached");
    // The operator lifts the login's lock; the address limit is not the login's.
    ura::store::agents::set_enabled(&app.store, "maria", true)
        .await
        .unwrap();
    assert_eq!(
        app.scalar_i64("SELECT failed_logins FROM agents WHERE login = 'maria'")
            .await,
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn a_transferred_call_reaches_the_agents_of_its_queue_live() {
    let app = spawn().await;
    add_agent(&app, "suporte1", "Ana Suporte", Some(&["suporte"])).await;
    add_agent(&app, "fin1", "Beto Financeiro", Some(&["financeiro"])).await;
    let ana = sign_in(&app, "suporte1").await;
    let beto = sign_in(&app, "fin1").await;
    let mut ana_stream = Sse::open(&app.client, &stream_url(&app), &ana.cookie, None).await;
    let mut beto_stream = Sse::open(&app.client, &stream_url(&app), &beto.cookie, None).await;

    let answer = notify(&app, "1001", "84991380000", Some("Suporte")).await;
    let protocol = answer["protocolo"].as_str().unwrap().to_string();
    let (_, card) = ana_stream
        .card(WAIT)
        .await
        .expect("card for the support queue");
    assert_eq!(card["evento"], "nova");
    assert_eq!(card["aberta"], true);
    let html = card["html"].as_str().unwrap();
    for expected in [
        "84991380000",
        "MARIA DE TESTE SILVA",
        "529.NNN.247-NN",
        protocol.as_str(),
        "Contrato 1001",
        "Contrato 1002",
        "Suspenso",
        "R$ 149,80",
        "Fatura 10021",
        "(atrasada)",
        "maria.silva",
        "class=\"atender\"",
    ] {
        assert!(html.contains(expected), "{expected} missing from {html}");
    }
    assert!(!html.contains("52998224725") && !html.contains("529.982.247-25"));
    // The finance agent is not called for a support call.
    assert!(
        beto_stream
            .card(Duration::from_millis(1500))
            .await
            .is_none()
    );

    // A call without a queue is for everyone.
    notify(&app, "2001", "84988887777", None).await;
    let (_, card) = beto_stream.card(WAIT).await.expect("card without a queue");
    assert!(card["html"].as_str().unwrap().contains("84988887777"));
    let (_, card) = ana_stream.card(WAIT).await.expect("card without a queue");
    assert!(card["html"].as_str().unwrap().contains("84988887777"));

    // The page also lists the open calls on arrival.
    let home = get_as(&app, &ana, "/painel/").await;
    assert!(home.body.contains("84991380000") && home.body.contains("84988887777"));
    let home = get_as(&app, &beto, "/painel/").await;
    assert!(!home.body.contains("84991380000") && home.body.contains("84988887777"));
    app.stop().await;
}

#[tokio::test]
async fn a_reconnecting_stream_replays_what_it_missed() {
    let app = spawn().await;
    add_agent(&app, "ana", "Ana", None).await;
    let ana = sign_in(&app, "ana").await;
    let mut stream = Sse::open(&app.client, &stream_url(&app), &ana.cookie, None).await;
    notify(&app, "1001", "84900000001", None).await;
    let (first_id, _) = stream.card(WAIT).await.expect("first card");
    drop(stream);
    // Missed while disconnected.
    notify(&app, "1002", "84900000002", None).await;
    notify(&app, "2001", "84900000003", None).await;
    let mut stream = Sse::open(&app.client, &stream_url(&app), &ana.cookie, Some(&first_id)).await;
    let (id2, card2) = stream.card(WAIT).await.expect("replayed");
    let (id3, card3) = stream.card(WAIT).await.expect("replayed");
    assert!(card2["html"].as_str().unwrap().contains("84900000002"));
    assert!(card3["html"].as_str().unwrap().contains("84900000003"));
    let n = |s: &str| s.parse::<i64>().unwrap();
    assert!(n(&first_id) < n(&id2) && n(&id2) < n(&id3));
    // Nothing is sent twice.
    assert!(stream.card(Duration::from_millis(1000)).await.is_none());
    app.stop().await;
}

#[tokio::test]
async fn taking_a_call_shows_it_taken_to_the_others_and_a_ticket_gets_the_calls_protocol() {
    let app = spawn().await;
    add_agent(&app, "ana", "Ana Lima", None).await;
    add_agent(&app, "caio", "Caio Souza", None).await;
    let ana = sign_in(&app, "ana").await;
    let caio = sign_in(&app, "caio").await;
    let answer = notify(&app, "1001", "84991380000", Some("suporte")).await;
    let protocol = answer["protocolo"].as_str().unwrap().to_string();
    let id = last_call_id(&app).await;
    let mut caio_stream = Sse::open(&app.client, &stream_url(&app), &caio.cookie, Some("0")).await;
    let (_, card) = caio_stream.card(WAIT).await.expect("new call");
    assert_eq!(card["evento"], "nova");

    // Without the form's token nothing happens.
    let r = act(
        &app,
        &Agent {
            cookie: ana.cookie.clone(),
            csrf: "x".into(),
        },
        id,
        "atender",
        &[],
    )
    .await;
    assert_eq!(r.status, 403);

    let r = act(&app, &ana, id, "atender", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.json["html"]
            .as_str()
            .unwrap()
            .contains("form class=\"chamado\"")
    );
    let (_, card) = caio_stream.card(WAIT).await.expect("taken event");
    assert_eq!(card["evento"], "atendida");
    assert!(
        card["html"]
            .as_str()
            .unwrap()
            .contains("Atendida por Ana Lima")
    );
    assert!(!card["html"].as_str().unwrap().contains("class=\"atender\""));

    // The other agent can neither take it nor act on it.
    for action in ["atender", "encerrar"] {
        let r = act(&app, &caio, id, action, &[]).await;
        assert_eq!(r.status, 409, "{action}: {}", r.body);
        assert_eq!(r.json["detail"], "Chamada já atendida por Ana Lima.");
    }
    let r = act(&app, &caio, id, "chamado", &[("tipo", "1"), ("texto", "x")]).await;
    assert_eq!(r.status, 409);

    // Bad ticket forms change nothing.
    let tickets_before = app.scalar_i64("SELECT COUNT(*) FROM tickets").await;
    for (form, message) in [
        (
            vec![("tipo", "999"), ("texto", "x")],
            "Tipo de ocorrência inválido.",
        ),
        (
            vec![("tipo", "abc"), ("texto", "x")],
            "Escolha o tipo de ocorrência.",
        ),
        (
            vec![("tipo", "1"), ("texto", "   ")],
            "Descreva o atendimento no texto do chamado.",
        ),
        (
            vec![("tipo", "1"), ("motivo", "999"), ("texto", "x")],
            "Motivo de ordem de serviço inválido.",
        ),
        (
            vec![("tipo", "1"), ("setor", "999"), ("texto", "x")],
            "Setor inválido.",
        ),
    ] {
        let r = act(&app, &ana, id, "chamado", &form).await;
        assert_eq!(r.status, 422, "{form:?}: {}", r.body);
        assert_eq!(r.json["detail"], message);
    }
    let long = "x".repeat(4001);
    let r = act(
        &app,
        &ana,
        id,
        "chamado",
        &[("tipo", "1"), ("texto", &long)],
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM tickets").await,
        tickets_before
    );

    let r = act(
        &app,
        &ana,
        id,
        "chamado",
        &[
            ("tipo", "1"),
            ("motivo", "40"),
            ("setor", "1"),
            ("texto", "Sem conexão desde ontem"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["protocolo"], protocol.as_str());
    assert!(r.json["html"].as_str().unwrap().contains(&format!(
        "<span class=\"protocolo-chamado\">{protocol}</span>"
    )));
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM tickets WHERE protocol = '{protocol}' AND origin = 'painel' \
             AND contract_id = 1001 AND app_id IS NULL AND agent_id IS NOT NULL \
             AND content = 'Sem conexão desde ontem'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM work_orders w JOIN tickets t ON t.id = w.ticket_id \
             WHERE t.origin = 'painel' AND w.reason_id = 40"
        )
        .await,
        1
    );
    let (_, card) = caio_stream.card(WAIT).await.expect("ticket event");
    assert_eq!(card["evento"], "chamado");
    assert!(card["html"].as_str().unwrap().contains(&protocol));

    let r = act(&app, &ana, id, "encerrar", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["aberta"], false);
    let (_, card) = caio_stream.card(WAIT).await.expect("handled event");
    assert_eq!(card["evento"], "encerrada");
    assert_eq!(card["aberta"], false);
    let r = act(&app, &ana, id, "encerrar", &[]).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json["detail"], "Chamada já encerrada.");
    // Gone from the list of open calls.
    assert!(
        !get_as(&app, &caio, "/painel/")
            .await
            .body
            .contains("84991380000")
    );

    // A plain form (no script) is sent back to the list.
    notify(&app, "2001", "84977776666", None).await;
    let id2 = last_call_id(&app).await;
    let r = app
        .send(
            app.client
                .post(app.url(&format!("/painel/chamadas/{id2}/atender")))
                .header(COOKIE, &caio.cookie)
                .form(&[("csrf", caio.csrf.as_str())]),
        )
        .await;
    assert_eq!(r.status, 303);
    let r = act(&app, &caio, 999_999, "atender", &[]).await;
    assert_eq!(r.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn customer_data_is_escaped_on_every_page() {
    let app = spawn().await;
    add_agent(&app, "ana", "<img src=x onerror=alert(2)>", None).await;
    app.exec("UPDATE customers SET name = '<script>alert(1)</script>' WHERE id = (SELECT customer_id FROM contracts WHERE id = 1001)")
        .await;
    let ana = sign_in(&app, "ana").await;
    let mut stream = Sse::open(&app.client, &stream_url(&app), &ana.cookie, None).await;
    notify(&app, "1001", "<b>84</b>", Some("<i>fila</i>")).await;
    let (_, card) = stream.card(WAIT).await.expect("card");
    let html = card["html"].as_str().unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;"), "{html}");
    assert!(!html.contains("<script>") && !html.contains("<b>84") && !html.contains("<i>fila"));
    let id = last_call_id(&app).await;
    let r = act(
        &app,
        &ana,
        id,
        "chamado",
        &[("tipo", "1"), ("texto", "<svg onload=alert(3)>")],
    )
    .await;
    assert_eq!(r.status, 200);
    for page in [
        "/painel/".to_string(),
        format!("/painel/chamadas/{id}"),
        "/painel/historico".to_string(),
    ] {
        let body = get_as(&app, &ana, &page).await.body;
        assert!(!body.contains("<script>alert"), "{page}");
        assert!(!body.contains("<svg onload"), "{page}");
        assert!(!body.contains("<img src=x"), "{page}");
    }
    let home = get_as(&app, &ana, "/painel/").await;
    let csp = app
        .client
        .get(app.url("/painel/"))
        .header(COOKIE, &ana.cookie)
        .send()
        .await
        .unwrap()
        .headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(home.body.contains("&lt;img src=x"));
    app.stop().await;
}

#[tokio::test]
async fn history_finds_calls_by_protocol_document_or_phone() {
    let app = spawn().await;
    add_agent(&app, "ana", "Ana", None).await;
    let ana = sign_in(&app, "ana").await;
    let first = notify(&app, "1001", "84991380000", None).await;
    notify(&app, "2001", "84988887777", None).await;
    let id = last_call_id(&app).await;
    act(&app, &ana, id, "encerrar", &[]).await;
    let protocol = first["protocolo"].as_str().unwrap();

    let rows = |body: &str| body.matches("<tr data-id=").count();
    let all = get_as(&app, &ana, "/painel/historico").await;
    assert_eq!(rows(&all.body), 2);
    assert!(all.body.contains("Encerrada por Ana") && all.body.contains("Não atendida"));
    let by_protocol = get_as(&app, &ana, &format!("/painel/historico?q={protocol}")).await;
    assert_eq!(rows(&by_protocol.body), 1);
    assert!(by_protocol.body.contains("84991380000"));
    let by_document = get_as(&app, &ana, "/painel/historico?q=529.982.247-25").await;
    assert_eq!(rows(&by_document.body), 1);
    assert!(by_document.body.contains(protocol));
    let by_phone = get_as(&app, &ana, "/painel/historico?q=%28084%29%2098888-7777").await;
    assert_eq!(rows(&by_phone.body), 1, "{}", by_phone.body);
    assert!(by_phone.body.contains("84988887777"));
    let none = get_as(&app, &ana, "/painel/historico?q=99999999999999").await;
    assert_eq!(rows(&none.body), 0);
    let bad = get_as(&app, &ana, "/painel/historico?q=fulano").await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("Busque por protocolo, CPF"),
        "{}",
        bad.body
    );
    // The call's own page.
    let page = get_as(&app, &ana, &format!("/painel/chamadas/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Encerrada por Ana"));
    assert_eq!(get_as(&app, &ana, "/painel/chamadas/abc").await.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn an_agent_chooses_the_queues_they_answer() {
    let app = spawn().await;
    add_agent(&app, "ana", "Ana", Some(&["suporte"])).await;
    let ana = sign_in(&app, "ana").await;
    notify(&app, "1001", "84900000009", Some("vendas")).await;
    let page = get_as(&app, &ana, "/painel/filas").await;
    assert!(
        page.body.contains("value=\"vendas\""),
        "recent queues offered"
    );
    let save = |form: Vec<(&'static str, String)>| {
        let client = app.client.clone();
        let url = app.url("/painel/filas");
        let cookie = ana.cookie.clone();
        async move {
            client
                .post(url)
                .header(COOKIE, cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let r = save(vec![
        ("csrf", ana.csrf.clone()),
        ("fila", "vendas".into()),
        ("outras", "financeiro, cobrança".into()),
    ])
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.scalar_str("SELECT queues FROM agents WHERE login = 'ana'")
            .await
            .as_deref(),
        Some("vendas,financeiro,cobrança")
    );
    assert!(
        get_as(&app, &ana, "/painel/")
            .await
            .body
            .contains("84900000009")
    );
    let r = save(vec![("csrf", "x".into()), ("todas", "1".into())]).await;
    assert_eq!(r.status(), 403);
    let r = save(vec![("csrf", ana.csrf.clone()), ("todas", "1".into())]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM agents WHERE login = 'ana' AND queues IS NULL")
            .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn agents_are_managed_from_the_command_line() {
    let app = spawn().await;
    let db = app.settings.database_url.clone();
    let ura = |args: &[&str], stdin: Option<&str>| {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ura"))
            .args(args)
            .args(["--database", &db])
            .current_dir(app.dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run ura");
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().expect("ura output")
    };
    let out = ura(
        &[
            "agent",
            "add",
            "maria",
            "--nome",
            "Maria Atendente",
            "--filas",
            "suporte",
        ],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let generated = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        generated.len() >= 12,
        "a generated password is printed: {generated:?}"
    );
    let maria = {
        let response = try_sign_in(&app, "maria", &generated).await;
        assert_eq!(response.status(), 303);
        format!(
            "ura_painel={}",
            cookie_value(&response, "ura_painel").unwrap()
        )
    };
    let out = ura(&["agent", "add", "maria"], Some("outra-senha-1\n"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("já existe"));
    let out = ura(&["agent", "add", "curta", "--senha-stdin"], Some("1234\n"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ao menos 8"));
    let out = ura(
        &["agent", "add", "joao", "--senha-stdin"],
        Some("senha-do-joao\n"),
    );
    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "a given password is not echoed");

    let out = ura(&["agent", "list"], None);
    let list = String::from_utf8(out.stdout).unwrap();
    assert!(list.contains("maria") && list.contains("suporte") && list.contains("joao"));
    assert!(!list.contains(&generated) && !list.contains("argon2"));

    // Disabling signs out at once.
    assert!(ura(&["agent", "disable", "maria"], None).status.success());
    let r = app
        .send(app.client.get(app.url("/painel/")).header(COOKIE, &maria))
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(try_sign_in(&app, "maria", &generated).await.status(), 401);
    assert!(ura(&["agent", "enable", "maria"], None).status.success());
    assert_eq!(try_sign_in(&app, "maria", &generated).await.status(), 303);
    // A new password: the old one stops working.
    assert!(
        ura(
            &["agent", "senha", "maria", "--senha-stdin"],
            Some("nova-senha-123\n")
        )
        .status
        .success()
    );
    assert_eq!(try_sign_in(&app, "maria", &generated).await.status(), 401);
    assert_eq!(
        try_sign_in(&app, "maria", "nova-senha-123").await.status(),
        303
    );
    assert!(
        ura(&["agent", "filas", "maria", "todas"], None)
            .status
            .success()
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM agents WHERE login = 'maria' AND queues IS NULL")
            .await,
        1
    );
    let out = ura(&["agent", "disable", "ninguem"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("não encontrado"));
    app.stop().await;
}

/// With PostgreSQL, a call received by one process reaches an agent connected to another
/// (LISTEN/NOTIFY); well before the streams' own 10-second look at the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_received_by_one_process_reaches_agents_on_another() {
    if postgres_admin_url().is_none() {
        eprintln!("SQLite: one process serves the console (see the other tests)");
        return;
    }
    let app = spawn().await;
    add_agent(&app, "ana", "Ana", None).await;
    let other = Server::start(
        app.dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &app.settings.database_url,
        ],
    )
    .await;
    let ana = sign_in_at(&app.client, &other.base, "ana").await;
    let mut stream = Sse::open(
        &app.client,
        &format!("{}/painel/eventos", other.base),
        &ana.cookie,
        None,
    )
    .await;
    // Let the other process's LISTEN settle (it also looks at the log once it listens).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let answer = notify(&app, "1001", "84991380000", Some("suporte")).await;
    let (_, card) = stream
        .card(WAIT)
        .await
        .expect("the other process relayed the call");
    let html = card["html"].as_str().unwrap();
    assert!(html.contains(answer["protocolo"].as_str().unwrap()));
    // And back: an action on the other process shows on this one's streams.
    let mut here = Sse::open(&app.client, &stream_url(&app), &ana.cookie, None).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = last_call_id(&app).await;
    let r = act_at(&app.client, &other.base, &ana, id, "atender", &[]).await;
    assert_eq!(r.status, 200);
    let (_, card) = here.card(WAIT).await.expect("taken event relayed");
    assert_eq!(card["evento"], "atendida");
    drop(other);
    app.stop().await;
}

/// A status change written as the dunning job or a promise would (the job's own route is not
/// what this file tests): statuses by number, `at` as the store writes timestamps.
async fn insert_change(
    app: &TestApp,
    contract: i64,
    (from, to): (i64, i64),
    reason: &str,
    protocol: &str,
    actor: &str,
    at: chrono::DateTime<chrono::Utc>,
) {
    sqlx::query(
        "INSERT INTO contract_status_changes \
         (contract_id, from_status, to_status, reason, protocol, actor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(contract)
    .bind(from)
    .bind(to)
    .bind(reason)
    .bind(protocol)
    .bind(actor)
    .bind(ura::store::ts(at))
    .execute(app.store.pool())
    .await
    .expect("insert status change");
}

/// `text` as the templates escape it (minijinja escapes `/` too).
fn escaped(text: &str) -> String {
    text.replace('/', "&#x2f;")
}

/// The part of `html` from the element with `id` on (to tell one table from the other).
fn from_id<'a>(html: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\"");
    &html[html
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in: {html}"))..]
}

#[tokio::test]
async fn the_card_shows_each_contracts_status_changes_with_reason_protocol_and_who() {
    let app = spawn().await;
    let tz = app.settings.tz().unwrap();
    add_agent(&app, "ana", "Ana", None).await;
    let ana = sign_in(&app, "ana").await;
    let token = ura::store::admin_tokens::create(&app.store, "operador")
        .await
        .unwrap();
    crate::common::scan::secret(&token);
    let r = app
        .send(
            app.client
                .patch(app.url("/admin/api/v1/contratos/1001"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"status": 4})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let at = chrono::Utc::now() - chrono::TimeDelta::hours(2);
    insert_change(
        &app,
        1002,
        (1, 4),
        "debito",
        "20260101000042",
        "cobranca",
        at,
    )
    .await;
    insert_change(
        &app,
        1001,
        (4, 1),
        "promessa",
        "20260101000043",
        "ura:<b>app</b>",
        at,
    )
    .await;
    notify(&app, "1001", "84991380000", None).await;
    let id = last_call_id(&app).await;
    let page = get_as(&app, &ana, &format!("/painel/chamadas/{id}")).await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    assert!(body.contains("Mudanças de status"), "{body}");
    // 1001's own list: the manual suspension, by whom, open since the call is about 1001.
    let card_1001 = &body[body.find("<strong>Contrato 1001</strong>").unwrap()
        ..body.find("<strong>Contrato 1002</strong>").unwrap()];
    assert!(
        card_1001.contains("<details class=\"mudancas\" open>"),
        "{card_1001}"
    );
    assert!(
        card_1001.contains("Ativo → <strong>Suspenso</strong> · manual"),
        "{card_1001}"
    );
    assert!(card_1001.contains("admin:operador"), "{card_1001}");
    // What the author's name holds is shown as text.
    assert!(
        card_1001.contains("ura:&lt;b&gt;app&lt;&#x2f;b&gt;"),
        "{card_1001}"
    );
    assert!(!body.contains("<b>app"));
    // 1002's: the block for debt, at its local time, with its protocol.
    let card_1002 = &body[body.find("<strong>Contrato 1002</strong>").unwrap()..];
    let when = escaped(&at.with_timezone(&tz).format("%d/%m %H:%M").to_string());
    assert!(
        card_1002.contains(&format!(
            "<span class=\"quando\">{when}</span> · Ativo → <strong>Suspenso</strong> · débito · \
             protocolo <span class=\"protocolo\">20260101000042</span> · \
             <span class=\"por\">cobranca</span>"
        )),
        "{card_1002}"
    );
    assert!(!card_1002.contains("manual"), "{card_1002}");
    app.stop().await;
}

#[tokio::test]
async fn the_dunning_page_lists_the_days_blocks_and_restorations() {
    let app = spawn().await;
    let tz = app.settings.tz().unwrap();
    add_agent(&app, "ana", "Ana", None).await;
    let ana = sign_in(&app, "ana").await;
    let now = chrono::Utc::now();
    // Today: 1002 blocked for debt by the job, then given back by paying its overdue invoices
    // through the admin API (the real path: status, change and protocol in one transaction).
    app.exec("UPDATE contracts SET status_reason = 'debito' WHERE id = 1002")
        .await;
    insert_change(
        &app,
        1002,
        (1, 4),
        "debito",
        "20260101000077",
        "cobranca",
        now - chrono::TimeDelta::seconds(30),
    )
    .await;
    let token = ura::store::admin_tokens::create(&app.store, "operador")
        .await
        .unwrap();
    crate::common::scan::secret(&token);
    for invoice in [10021, 10022] {
        let r = app
            .send(
                app.client
                    .post(app.url(&format!("/admin/api/v1/faturas/{invoice}/pagar")))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let restored_protocol = app
        .scalar_str("SELECT protocol FROM contract_status_changes WHERE reason = 'pagamento'")
        .await
        .expect("the payment gave the line back with a protocol");
    // Today too, but not for money: a promise's unlock and a manual change are not listed.
    insert_change(
        &app,
        3001,
        (4, 1),
        "promessa",
        "20260101000088",
        "ura:teste",
        now,
    )
    .await;
    let r = app
        .send(
            app.client
                .patch(app.url("/admin/api/v1/contratos/5001"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"status": 4})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Yesterday: 2001, whose customer's name would be markup, reduced for debt.
    app.exec("UPDATE customers SET name = '<script>alert(7)</script>' WHERE id = 2")
        .await;
    let yesterday = now - chrono::TimeDelta::hours(24);
    insert_change(
        &app,
        2001,
        (1, 7),
        "debito",
        "20260101000099",
        "cobranca",
        yesterday,
    )
    .await;

    let home = get_as(&app, &ana, "/painel/").await;
    assert!(
        home.body.contains(&format!(
            "href=\"{}/painel/cobranca\"",
            app.settings.base_path
        )),
        "the navigation links the page"
    );
    let today = get_as(&app, &ana, "/painel/cobranca").await;
    assert_eq!(today.status, 200);
    let body = &today.body;
    assert!(body.contains("Cobrança hoje"), "{body}");
    let rows = |html: &str| html.matches("<tr data-mudanca=").count();
    let blocked = from_id(body, "bloqueados");
    let blocked = &blocked[..blocked.find("</table>").unwrap()];
    assert_eq!(rows(blocked), 1, "{blocked}");
    assert!(blocked.contains("<td>1002</td>"), "{blocked}");
    assert!(
        blocked.contains("Ativo → <strong>Suspenso</strong>"),
        "{blocked}"
    );
    assert!(blocked.contains("20260101000077"), "{blocked}");
    assert!(blocked.contains("MARIA DE TESTE SILVA"), "{blocked}");
    let restored = from_id(body, "restabelecidos");
    assert_eq!(rows(restored), 1, "{restored}");
    assert!(restored.contains("<td>1002</td>"), "{restored}");
    assert!(
        restored.contains("Suspenso → <strong>Ativo</strong>"),
        "{restored}"
    );
    assert!(restored.contains(&restored_protocol), "{restored}");
    assert!(restored.contains("pagamento:admin:operador"), "{restored}");
    let when = escaped(&now.with_timezone(&tz).format("%d/%m").to_string());
    assert!(restored.contains(&format!("<td>{when} ")), "{restored}");
    for absent in [
        "20260101000088",
        "<td>3001</td>",
        "<td>5001</td>",
        "<td>2001</td>",
    ] {
        assert!(
            !body.contains(absent),
            "{absent} is not today's money: {body}"
        );
    }

    // Another day, chosen with `dia`: yesterday's reduction, escaped.
    let day = yesterday.with_timezone(&tz).date_naive();
    let page = get_as(&app, &ana, &format!("/painel/cobranca?dia={day}")).await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    assert!(
        body.contains(&format!(
            "Cobrança em {}",
            escaped(&day.format("%d/%m/%Y").to_string())
        )),
        "{body}"
    );
    let blocked = from_id(body, "bloqueados");
    assert_eq!(rows(blocked), 1, "{blocked}");
    assert!(blocked.contains("<td>2001</td>"), "{blocked}");
    assert!(blocked.contains("Ativo → <strong>Ativo V. Reduzida</strong>"));
    assert!(
        blocked.contains("&lt;script&gt;alert(7)&lt;&#x2f;script&gt;"),
        "{blocked}"
    );
    assert!(!body.contains("<script>alert(7)"));
    assert!(body.contains("Nenhum contrato restabelecido por pagamento neste dia."));
    assert!(body.contains(&format!("dia={}\">Dia seguinte", day.succ_opt().unwrap())));

    let bad = get_as(&app, &ana, "/painel/cobranca?dia=31/12/2026").await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("Data inválida: use AAAA-MM-DD."),
        "{}",
        bad.body
    );
    // Signed out: the sign-in page.
    let r = app
        .client
        .get(app.url("/painel/cobranca"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("{}/painel/entrar", app.settings.base_path).as_str()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_disabled_agents_stream_ends_at_once() {
    let app = spawn().await;
    add_agent(&app, "ana", "Ana", None).await;
    add_agent(&app, "bia", "Bia", None).await;
    let ana = sign_in(&app, "ana").await;
    let bia = sign_in(&app, "bia").await;
    let mut ana_stream = Sse::open(&app.client, &stream_url(&app), &ana.cookie, None).await;
    let mut bia_stream = Sse::open(&app.client, &stream_url(&app), &bia.cookie, None).await;
    // As `ura agent disable` does, from another process: nothing wakes this one's streams
    // but the database.
    ura::store::agents::set_enabled(&app.store, "ana", false)
        .await
        .unwrap();
    // Well before the stream's own look at the log (10 s) or a keep-alive (15 s).
    let event = ana_stream
        .next(Duration::from_secs(5))
        .await
        .expect("the stream said the session ended");
    assert_eq!(event.event, "sair");
    assert!(
        ana_stream.next(Duration::from_secs(5)).await.is_none(),
        "and ended"
    );
    // Another agent's stream goes on.
    notify(&app, "1001", "84900000001", None).await;
    assert!(bia_stream.card(WAIT).await.is_some());
    app.stop().await;
}
