//! CONTRACT.md §1's `Idempotency-Key` and CORS, and the abuse limits: requests per app and
//! per address, a pause after failed authentications, apps limited to some networks.

use std::time::Duration;

use crate::common::*;
use crate::process::Server;

use serde_json::Value;

async fn ticket_with_key(app: &TestApp, base: &str, key: &str, contract: &str) -> Resp {
    app.send(
        app.client
            .post(format!("{base}/ws/ura/chamado/"))
            .header("Idempotency-Key", key)
            .form(&[
                ("app", APP),
                ("token", app.token.as_str()),
                ("contrato", contract),
                ("ocorrenciatipo", "1"),
            ]),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_idempotency_key_gets_the_first_answer_and_does_nothing_again() {
    let app = spawn().await;
    let first = ticket_with_key(&app, &app.base, "chamada-123", "1001").await;
    assert_eq!(first.json["status"], 1, "{}", first.body);
    let again = ticket_with_key(&app, &app.base, "chamada-123", "1001").await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, first.body, "the first answer, byte for byte");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM tickets").await, 1);

    // Another key is another request.
    let other = ticket_with_key(&app, &app.base, "chamada-124", "1001").await;
    assert_ne!(other.json["protocolo"], first.json["protocolo"]);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM tickets").await, 2);

    // The same key for something else is refused, and does nothing.
    let mismatch = ticket_with_key(&app, &app.base, "chamada-123", "2001").await;
    assert_eq!(mismatch.status, 409);
    assert_eq!(
        mismatch.body,
        r#"{"detail":"Idempotency-Key já usada em outra requisição deste app."}"#
    );
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM tickets").await, 2);

    // Keys belong to their app.
    let other_token = ura::store::apps::create(&app.store, "chatbot")
        .await
        .unwrap();
    let r = app
        .send(
            app.client
                .post(app.url("/ws/ura/chamado/"))
                .header("Idempotency-Key", "chamada-123")
                .form(&[
                    ("app", "chatbot"),
                    ("token", other_token.as_str()),
                    ("contrato", "1001"),
                    ("ocorrenciatipo", "1"),
                ]),
        )
        .await;
    assert_eq!(r.json["status"], 1);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM tickets").await, 3);

    // A malformed key is a 400 and nothing is done.
    for bad in ["", "com espaço", &"x".repeat(256)] {
        let r = ticket_with_key(&app, &app.base, bad, "1001").await;
        assert_eq!(r.status, 400, "{bad:?}");
        assert!(
            r.json["detail"]
                .as_str()
                .unwrap()
                .starts_with("Cabeçalho 'Idempotency-Key' inválido")
        );
    }
    // An error is not kept: the retry is answered anew.
    let r = app
        .send(
            app.client
                .post(app.url("/ws/ura/chamado/"))
                .header("Idempotency-Key", "sem-contrato")
                .form(&[("app", APP), ("token", app.token.as_str())]),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = ticket_with_key(&app, &app.base, "sem-contrato", "1001").await;
    assert_eq!(r.json["status"], 1);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM tickets").await, 4);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_repeats_and_another_process_share_one_answer() {
    let app = spawn().await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let client = app.client.clone();
        let url = app.url("/ws/ura/liberacaopromessa/");
        let token = app.token.clone();
        set.spawn(async move {
            let r = client
                .post(url)
                .header("Idempotency-Key", "promessa-1002")
                .form(&[
                    ("app", APP),
                    ("token", token.as_str()),
                    ("contrato", "1002"),
                ])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        });
    }
    let mut bodies = Vec::new();
    while let Some(r) = set.join_next().await {
        let (status, body) = r.unwrap();
        assert_eq!(status, 200, "{body}");
        bodies.push(body);
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1, "one answer for all: {bodies:?}");
    let first: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(first["status"], 1, "{first}");
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM promises WHERE contract_id = 1002 AND state = 'active'"
        )
        .await,
        1
    );

    // Another process on the same database knows the key.
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
    let r = app
        .send(
            app.client
                .post(format!("{}/ws/ura/liberacaopromessa/", other.base))
                .header("Idempotency-Key", "promessa-1002")
                .form(&[
                    ("app", APP),
                    ("token", app.token.as_str()),
                    ("contrato", "1002"),
                ]),
        )
        .await;
    assert_eq!(r.body, bodies[0]);
    drop(other);
    app.stop().await;
}

#[tokio::test]
async fn cors_answers_preflights_of_listed_origins_only() {
    let app = spawn_with(|s| s.cors.origens = vec!["https://chat.provedor.com.br".into()]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                app.url("/api/ura/consultacliente/"),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, app, content-type",
            )
            .send()
    };
    let r = preflight("https://chat.provedor.com.br").await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://chat.provedor.com.br"
    );
    let methods = r.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(methods.contains("POST"), "{methods}");
    let r = preflight("https://malicioso.example").await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());

    // The call itself carries the header for the listed origin.
    let r = app
        .client
        .post(app.url("/api/ura/consultacliente/"))
        .header("Origin", "https://chat.provedor.com.br")
        .form(&[
            ("app", APP),
            ("token", app.token.as_str()),
            ("contrato", "1001"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://chat.provedor.com.br"
    );
    app.stop().await;

    // None listed (the default): OPTIONS is a method like any other the contract refuses.
    let app = spawn().await;
    let r = app
        .send(
            app.client
                .request(
                    reqwest::Method::OPTIONS,
                    app.url("/api/ura/consultacliente/"),
                )
                .header("Origin", "https://chat.provedor.com.br")
                .header("Access-Control-Request-Method", "POST"),
        )
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(
        r.body,
        r#"{"detail":"Método \"OPTIONS\" não é permitido."}"#
    );
    app.stop().await;
}

fn assert_limited(r: &Resp) -> u64 {
    assert_eq!(r.status, 429, "{}", r.body);
    let detail = r.json["detail"].as_str().unwrap();
    let secs: u64 = detail
        .strip_prefix("Limite de requisições excedido. Tente novamente em ")
        .and_then(|rest| rest.strip_suffix(" segundos."))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{detail}"));
    assert!(secs >= 1);
    secs
}

#[tokio::test]
async fn an_app_over_its_limit_waits_and_others_do_not() {
    let app = spawn_with(|s| s.limites.por_app = 5).await;
    for _ in 0..5 {
        let r = app.call("consultacliente", &[("contrato", "1001")]).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    let secs = assert_limited(&r);
    assert!(secs <= 60);
    let other = ura::store::apps::create(&app.store, "chatbot")
        .await
        .unwrap();
    let r = app
        .post_form(
            &app.fn_url("consultacliente"),
            &[
                ("app", "chatbot"),
                ("token", other.as_str()),
                ("contrato", "1001"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "another app has its own limit");
    app.stop().await;
}

#[tokio::test]
async fn an_address_over_its_limit_waits() {
    let app = spawn_with(|s| s.limites.por_endereco = 3).await;
    for _ in 0..3 {
        assert_eq!(
            app.call("consultacliente", &[("contrato", "1001")])
                .await
                .status,
            200
        );
    }
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    assert_limited(&r);
    let secs: u64 = app
        .send(
            app.client
                .post(app.fn_url("consultacliente"))
                .form(&[("contrato", "1")]),
        )
        .await
        .status
        .into();
    assert_eq!(secs, 429, "even without credentials");
    app.stop().await;
}

#[tokio::test]
async fn repeated_authentication_failures_pause_the_address() {
    let app = spawn_with(|s| s.limites.falhas_autenticacao = 3).await;
    for _ in 0..3 {
        let r = app
            .post_form(
                &app.fn_url("consultacliente"),
                &[("app", APP), ("token", "chute"), ("contrato", "1001")],
            )
            .await;
        assert_eq!(r.status, 403);
    }
    // Now even the right token waits: guessing is slowed down, not just refused.
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    let secs = assert_limited(&r);
    assert!(secs > 60 && secs <= 300, "{secs}");
    assert_eq!(r.body.matches("Limite de requisições").count(), 1);
    app.stop().await;
}

#[tokio::test]
async fn an_app_limited_to_some_networks_is_refused_from_elsewhere() {
    let app = spawn_with(|s| s.limites.proxies_confiaveis = vec!["127.0.0.1".into()]).await;
    let nets = |list: &[&str]| {
        list.iter()
            .map(|s| s.parse::<ipnet::IpNet>().unwrap())
            .collect::<Vec<_>>()
    };
    ura::store::apps::set_networks(&app.store, APP, Some(&nets(&["10.0.0.0/8"])))
        .await
        .unwrap();
    let call_from = |forwarded: Option<&'static str>| {
        let mut request = app.client.post(app.fn_url("consultacliente")).form(&[
            ("app", APP),
            ("token", app.token.as_str()),
            ("contrato", "1001"),
        ]);
        if let Some(f) = forwarded {
            request = request.header("X-Forwarded-For", f);
        }
        app.send(request)
    };
    // 127.0.0.1 itself (the proxy, without a forwarded client) is not in 10/8.
    let r = call_from(None).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            403,
            r#"{"detail":"Credenciais de autenticação incorretas."}"#
        )
    );
    let r = call_from(Some("203.0.113.7")).await;
    assert_eq!(r.status, 403);
    let r = call_from(Some("10.20.30.40")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The audit trail records the client, not the proxy.
    for _ in 0..100 {
        if app
            .scalar_i64("SELECT COUNT(*) FROM audit_log WHERE remote_addr = '10.20.30.40'")
            .await
            == 1
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE remote_addr = '10.20.30.40'")
            .await,
        1
    );
    ura::store::apps::set_networks(&app.store, APP, None)
        .await
        .unwrap();
    assert_eq!(call_from(None).await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn tls_served_directly_with_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = certified.cert.pem();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let (c, k) = (cert.clone(), key.clone());
    let app = spawn_with(move |s| {
        s.tls.certificado = Some(c);
        s.tls.chave = Some(k);
    })
    .await;
    let port = app.base.rsplit(':').next().unwrap().to_string();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let https = format!("https://localhost:{port}");
    let r = client.get(format!("{https}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    let r = client
        .post(format!("{https}/ws/ura/consultacliente/"))
        .form(&[
            ("app", APP),
            ("token", app.token.as_str()),
            ("contrato", "1001"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let json: Value = r.json().await.unwrap();
    assert_eq!(json["contratos"][0]["contratoId"], 1001);
    // Links in answers are https: the server knows it speaks TLS.
    let r = client
        .post(format!("{https}/ws/ura/fatura2via/"))
        .form(&[
            ("app", APP),
            ("token", app.token.as_str()),
            ("contrato", "1001"),
        ])
        .send()
        .await
        .unwrap();
    let json: Value = r.json().await.unwrap();
    assert!(
        json["link"]
            .as_str()
            .unwrap()
            .starts_with("https://localhost:"),
        "{json}"
    );
    // Plain HTTP on the TLS port gets no answer from the application.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));
    app.stop().await;
}

#[tokio::test]
async fn oversized_targets_and_headers_are_refused_before_any_work() {
    let app = spawn_with(|s| s.limites.cabecalhos_max = 4096).await;
    let long = "x".repeat(5000);
    let r = app
        .get(&format!(
            "{}?contrato=1001&lixo={long}",
            app.fn_url("consultacliente")
        ))
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (414, r#"{"detail":"Endereço da requisição muito longo."}"#)
    );
    let r = app
        .send(
            app.client
                .post(app.fn_url("consultacliente"))
                .header("x-lixo", long.as_str())
                .form(&[
                    ("app", APP),
                    ("token", app.token.as_str()),
                    ("contrato", "1001"),
                ]),
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            431,
            r#"{"detail":"Cabeçalhos da requisição muito grandes."}"#
        )
    );
    assert_eq!(r.content_type, "application/json");
    // Within the limit, as usual.
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    assert_eq!(r.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn forwarded_entries_are_read_from_the_right_and_never_skipped() {
    let app = spawn_with(|s| s.limites.proxies_confiaveis = vec!["127.0.0.1".into()]).await;
    let nets = vec!["10.0.0.0/8".parse::<ipnet::IpNet>().unwrap()];
    ura::store::apps::set_networks(&app.store, APP, Some(&nets))
        .await
        .unwrap();
    let call_from = |forwarded: &'static str| {
        app.send(
            app.client
                .post(app.fn_url("consultacliente"))
                .header("X-Forwarded-For", forwarded)
                .form(&[
                    ("app", APP),
                    ("token", app.token.as_str()),
                    ("contrato", "1001"),
                ]),
        )
    };
    // A client-written 10.x on the left of the real client is not believed, whatever form
    // the proxy wrote the client in.
    for forwarded in [
        "10.1.1.1, 203.0.113.7:5555",
        "10.1.1.1, [2001:db8::1]:5555",
        "10.1.1.1, [2001:db8::1]",
        "10.1.1.1, unknown",
        "10.1.1.1, ",
        "10.1.1.1, 203.0.113.7, 127.0.0.1",
    ] {
        let r = call_from(forwarded).await;
        assert_eq!(r.status, 403, "{forwarded}: {}", r.body);
    }
    // The client's own address, with a port, is read.
    for forwarded in [
        "203.0.113.7, 10.20.30.40:1234",
        "[2001:db8::1]:1, 10.20.30.41",
    ] {
        let r = call_from(forwarded).await;
        assert_eq!(r.status, 200, "{forwarded}: {}", r.body);
    }
    app.stop().await;
}

#[tokio::test]
async fn an_unreadable_forwarded_client_is_still_counted_under_the_proxy() {
    let app = spawn_with(|s| {
        s.limites.proxies_confiaveis = vec!["127.0.0.1".into()];
        s.limites.falhas_autenticacao = 2;
    })
    .await;
    let guess = |forwarded: &'static str| {
        app.send(
            app.client
                .post(app.fn_url("consultacliente"))
                .header("X-Forwarded-For", forwarded)
                .form(&[("app", APP), ("token", "chute"), ("contrato", "1001")]),
        )
    };
    assert_eq!(guess("unknown").await.status, 403);
    assert_eq!(guess("garbage").await.status, 403);
    // Unreadable clients do not escape the pause by being unreadable.
    assert_eq!(guess("other-garbage").await.status, 429);
    app.stop().await;
}

#[tokio::test]
async fn head_runs_no_function_that_writes() {
    let app = spawn().await;
    const TABLES: [&str; 7] = [
        "tickets",
        "protocols",
        "promises",
        "messages",
        "notifications",
        "maintenances",
        "idempotency_keys",
    ];
    let mut before = Vec::new();
    for table in TABLES {
        before.push(
            app.scalar_i64(&format!("SELECT COUNT(*) FROM {table}"))
                .await,
        );
    }
    let auth = format!("app={APP}&token={}", app.token);
    for (path, query) in [
        ("/ws/ura/chamado/", "contrato=1001&ocorrenciatipo=1"),
        ("/ws/ura/liberacaopromessa/", "contrato=1002"),
        ("/ws/ura/enviafatura/", "contrato=1001&tipo=email"),
        ("/ws/ura/notificacaosistema/", "contrato=1001"),
        ("/ws/ura/verificaacesso/", "contrato=2001"),
        ("/ws/ura/manutencao/add/", "descricao=x"),
        ("/ws/ura/manutencao/delete/", "id=1"),
    ] {
        let r = app
            .send(
                app.client
                    .head(app.url(&format!("{path}?{auth}&{query}")))
                    .header("Idempotency-Key", "k1"),
            )
            .await;
        assert_eq!(r.status, 405, "{path}");
    }
    // Read functions answer HEAD like GET, and store no idempotent answer.
    let r = app
        .send(
            app.client
                .head(app.url(&format!("/ws/ura/consultacliente/?{auth}&contrato=1001")))
                .header("Idempotency-Key", "k2"),
        )
        .await;
    assert_eq!(r.status, 200);
    for (table, before) in TABLES.into_iter().zip(before) {
        let after = app
            .scalar_i64(&format!("SELECT COUNT(*) FROM {table}"))
            .await;
        assert_eq!(after, before, "{table}");
    }
    assert!(app.message_files().is_empty());
    // GET and POST still run them, as the contract says.
    let r = app
        .get(&app.url(&format!(
            "/ws/ura/chamado/?{auth}&contrato=1001&ocorrenciatipo=1"
        )))
        .await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn message_links_never_come_from_the_host_header() {
    let app = spawn().await;
    let r = app
        .send(
            app.client
                .post(app.fn_url("enviafatura"))
                .header("host", "evil.example")
                .form(&[
                    ("app", APP),
                    ("token", app.token.as_str()),
                    ("contrato", "1001"),
                    ("tipo", "sms"),
                ]),
        )
        .await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    let files = app.message_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("/fatura/1"), "{text}");
    assert!(!text.contains("evil.example"), "{text}");
    app.stop().await;

    // With public_url, links come from it.
    let app = spawn_with(|s| s.public_url = Some("https://ura.provedor.example".into())).await;
    let r = app
        .send(
            app.client
                .post(app.fn_url("enviafatura"))
                .header("host", "evil.example")
                .form(&[
                    ("app", APP),
                    ("token", app.token.as_str()),
                    ("contrato", "1001"),
                    ("tipo", "sms"),
                ]),
        )
        .await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    let text = std::fs::read_to_string(&app.message_files()[0]).unwrap();
    assert!(
        text.contains("https://ura.provedor.example/fatura/1"),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn messages_that_really_leave_need_a_public_url_to_start() {
    let app = spawn().await;
    let mut settings = app.settings.clone();
    settings.sms.url = Some("http://127.0.0.1:9/send".into());
    let refused = ura::app::AppState::new(app.store.clone(), settings.clone())
        .await
        .err()
        .expect("refused without public_url");
    let message = refused.to_string();
    assert!(message.contains("public_url"), "{message}");
    assert!(message.contains("SMS (sms.url)"), "{message}");
    settings.public_url = Some("https://ura.provedor.example".into());
    assert!(
        ura::app::AppState::new(app.store.clone(), settings)
            .await
            .is_ok()
    );
    app.stop().await;
}

async fn admin_send(
    app: &TestApp,
    token: &str,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> Resp {
    let mut request = app
        .client
        .post(app.url(&format!("/admin/api/v1/{path}")))
        .bearer_auth(token)
        .body(body.to_string());
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    app.send(request).await
}

#[tokio::test]
async fn admin_bodies_are_json_of_bounded_size() {
    let app = spawn_with(|s| s.body_limit = 4096).await;
    let token = ura::store::admin_tokens::create(&app.store, "operador")
        .await
        .unwrap();
    scan::secret(&token);
    let pops = app.scalar_i64("SELECT COUNT(*) FROM pops").await;
    let body = r#"{"nome": "POP Teste", "cidade": "Natal"}"#;
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let r = admin_send(&app, &token, "pops", ct, body).await;
        assert_eq!(r.status, 415, "{ct:?}: {}", r.body);
        assert!(r.json["detail"].as_str().unwrap().contains("JSON"));
    }
    let big = format!(r#"{{"nome": "{}"}}"#, "x".repeat(5000));
    let r = admin_send(&app, &token, "pops", Some("application/json"), &big).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.json["detail"].is_string(), "{}", r.body);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM pops").await, pops);
    let r = admin_send(
        &app,
        &token,
        "pops",
        Some("application/json; charset=utf-8"),
        body,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Unknown filters of the audit trail are refused like any list's.
    let r = app
        .send(
            app.client
                .get(app.url("/admin/api/v1/auditoria?rota=chamado&cliente=1"))
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json["detail"], "cliente: não é um filtro desta lista.");
    app.stop().await;
}

#[tokio::test]
async fn wrong_admin_tokens_pause_the_address() {
    let app = spawn_with(|s| s.limites.falhas_autenticacao = 3).await;
    let token = ura::store::admin_tokens::create(&app.store, "operador")
        .await
        .unwrap();
    scan::secret(&token);
    let get = |t: String| app.send(app.client.get(app.url("/admin/api/v1/pops")).bearer_auth(t));
    assert_eq!(get(token.clone()).await.status, 200);
    for _ in 0..3 {
        assert_eq!(get("chute".into()).await.status, 401);
    }
    // Now even the right token waits.
    let r = get(token.clone()).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.json["detail"].is_string());
    app.stop().await;
}
