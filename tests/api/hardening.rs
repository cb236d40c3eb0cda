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
