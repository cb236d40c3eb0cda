use serde_json::{Value, json};

use crate::common::*;

const NO_CREDENTIALS: &str = r#"{"detail":"As credenciais de autenticação não foram fornecidas."}"#;
const BAD_CREDENTIALS: &str = r#"{"detail":"Credenciais de autenticação incorretas."}"#;
const NOT_FOUND: &str = r#"{"detail":"Não encontrado."}"#;
const TOO_LARGE: &str = r#"{"detail":"Requisição muito grande."}"#;
const BAD_CONTRATO: &str =
    r#"{"detail":"Parâmetro 'contrato' inválido: informe um número inteiro."}"#;
const CONTRATO_REQUIRED: &str = r#"{"detail":"Parâmetro 'contrato' é obrigatório."}"#;
const JSON_ERROR_PREFIX: &str = r#"{"detail":"JSON parse error - "#;

const FUNCTIONS: [&str; 6] = [
    "consultacliente",
    "liberacaopromessa",
    "enviafatura",
    "verificaacesso",
    "notificacaosistema",
    "chamado",
];

/// Status, JSON content type, exact body, and never HTML.
fn assert_error(r: &Resp, status: u16, body: &str) {
    assert_eq!(r.status, status, "body: {}", r.body);
    assert_eq!(r.content_type, "application/json", "body: {}", r.body);
    assert_eq!(r.body, body);
    assert_no_html(r);
}

fn assert_no_html(r: &Resp) {
    assert!(
        r.body.starts_with('{') || r.body.starts_with('['),
        "{}",
        r.body
    );
    assert!(!r.body.bytes().any(|b| b == b'<'), "HTML in {}", r.body);
    assert!(!r.body.contains("\\u00"), "escaped non-ASCII in {}", r.body);
}

fn ids(r: &Resp) -> Vec<i64> {
    r.json["contratos"]
        .as_array()
        .unwrap_or_else(|| panic!("no contratos array ({}): {}", r.status, r.body))
        .iter()
        .map(|c| c["contratoId"].as_i64().expect("contratoId integer"))
        .collect()
}

fn creds(app: &TestApp) -> Vec<(&str, &str)> {
    form_with(app, &[])
}

/// The test app's credentials plus `extra`, as a form.
fn form_with<'a>(app: &'a TestApp, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("app", APP), ("token", app.token.as_str())];
    form.extend_from_slice(extra);
    form
}

/// `url` with `pairs` as its query string.
fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{url}?{query}")
}

/// The server's root, without the configured base path.
fn root(app: &TestApp) -> String {
    app.base
        .strip_suffix(app.settings.base_path.as_str())
        .unwrap_or(&app.base)
        .to_string()
}

fn big_form_body(app: &TestApp, size: usize) -> String {
    let head = format!("app={APP}&token={}&contrato=1001&filler=", app.token);
    let filler = "x".repeat(size.saturating_sub(head.len()));
    let body = format!("{head}{filler}");
    assert_eq!(body.len(), size.max(head.len()));
    body
}

#[tokio::test]
async fn both_path_families_with_and_without_trailing_slash_answer_directly() {
    let app = spawn().await;
    let reference = app.call("consultacliente", &[("contrato", "1001")]).await;
    assert_eq!(ids(&reference), vec![1001]);
    for path in [
        "/ws/ura/consultacliente/",
        "/ws/ura/consultacliente",
        "/api/ura/consultacliente/",
        "/api/ura/consultacliente",
    ] {
        let r = app
            .post_form(&app.url(path), &form_with(&app, &[("contrato", "1001")]))
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.content_type, "application/json", "{path}");
        assert_eq!(r.body, reference.body, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn every_function_answers_at_all_four_paths() {
    let app = spawn().await;
    for function in FUNCTIONS {
        for path in [
            format!("/ws/ura/{function}/"),
            format!("/ws/ura/{function}"),
            format!("/api/ura/{function}/"),
            format!("/api/ura/{function}"),
        ] {
            // No parameter but the credentials: every function answers its own 400, which
            // proves the route exists and was authenticated, and changes nothing.
            let r = app.post_form(&app.url(&path), &creds(&app)).await;
            assert_eq!(r.status, 400, "{path}: {}", r.body);
            assert_eq!(r.content_type, "application/json", "{path}");
            assert!(r.json["detail"].is_string(), "{path}: {}", r.body);
            // And unauthenticated: 403, not 404.
            let r = app
                .post_form(&app.url(&path), &[("contrato", "1001")])
                .await;
            assert_error(&r, 403, NO_CREDENTIALS);
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn configured_base_path_serves_under_it_only() {
    let app = spawn_with(|s| s.base_path = "/provedorx".into()).await;
    assert!(app.base.ends_with("/provedorx"), "{}", app.base);
    let root = root(&app);
    for path in [
        "/ws/ura/consultacliente/",
        "/ws/ura/consultacliente",
        "/api/ura/consultacliente/",
        "/api/ura/consultacliente",
    ] {
        let r = app
            .post_form(
                &format!("{root}/provedorx{path}"),
                &form_with(&app, &[("contrato", "1001")]),
            )
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(ids(&r), vec![1001], "{path}");
        let r = app
            .post_form(
                &format!("{root}{path}"),
                &form_with(&app, &[("contrato", "1001")]),
            )
            .await;
        assert_error(&r, 404, NOT_FOUND);
        let r = app.get(&format!("{root}{path}")).await;
        assert_error(&r, 404, NOT_FOUND);
    }
    let r = app
        .get(&format!("{root}/outro/ws/ura/consultacliente/"))
        .await;
    assert_error(&r, 404, NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn base_path_written_without_leading_slash_works_too() {
    let app = spawn_with(|s| s.base_path = "provedorx/".into()).await;
    let root = root(&app);
    let r = app
        .post_form(
            &format!("{root}/provedorx/ws/ura/consultacliente/"),
            &form_with(&app, &[("contrato", "1001")]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r), vec![1001]);
    let r = app
        .post_form(
            &format!("{root}/ws/ura/consultacliente/"),
            &form_with(&app, &[("contrato", "1001")]),
        )
        .await;
    assert_error(&r, 404, NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn get_with_query_parameters() {
    let app = spawn().await;
    let reference = app
        .call("consultacliente", &[("cpfcnpj", "529.982.247-25")])
        .await;
    assert_eq!(ids(&reference), vec![1001, 1002]);
    for path in ["/ws/ura/consultacliente/", "/api/ura/consultacliente"] {
        let r = app
            .get(&with_query(
                &app.url(path),
                &[
                    ("app", APP),
                    ("token", app.token.as_str()),
                    ("cpfcnpj", "529.982.247-25"),
                ],
            ))
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.content_type, "application/json");
        assert_eq!(r.body, reference.body, "{path}");
    }
    // Without credentials in the query: 403.
    let r = app
        .get(&with_query(
            &app.fn_url("consultacliente"),
            &[("cpfcnpj", "529.982.247-25")],
        ))
        .await;
    assert_error(&r, 403, NO_CREDENTIALS);
    app.stop().await;
}

#[tokio::test]
async fn multipart_form_is_read() {
    let app = spawn().await;
    let form = reqwest::multipart::Form::new()
        .text("app", APP)
        .text("token", app.token.clone())
        .text("contrato", "1002");
    let r = app
        .send(
            app.client
                .post(app.fn_url("consultacliente"))
                .multipart(form),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r), vec![1002]);

    // Multipart on another function, with a text parameter carrying non-ASCII.
    let form = reqwest::multipart::Form::new()
        .text("app", APP)
        .text("token", app.token.clone())
        .text("contrato", "1001")
        .text("conteudo", "Sem conexão desde ontem");
    let r = app
        .send(
            app.client
                .post(app.url("/api/ura/chamado/"))
                .multipart(form),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], 1, "{}", r.body);
    let protocolo = r.json["protocolo"].as_str().expect("protocolo").to_string();
    assert_eq!(
        app.scalar_str(&format!(
            "SELECT content FROM tickets WHERE protocol = '{protocolo}'"
        ))
        .await
        .as_deref(),
        Some("Sem conexão desde ontem")
    );

    // Multipart without credentials: 403.
    let form = reqwest::multipart::Form::new().text("contrato", "1002");
    let r = app
        .send(
            app.client
                .post(app.fn_url("consultacliente"))
                .multipart(form),
        )
        .await;
    assert_error(&r, 403, NO_CREDENTIALS);
    app.stop().await;
}

#[tokio::test]
async fn json_numbers_and_strings_are_the_same() {
    let app = spawn().await;
    let url = app.fn_url("consultacliente");
    let as_number = app
        .post_json(
            &url,
            &json!({"app": APP, "token": app.token, "contrato": 1001}),
        )
        .await;
    assert_eq!(as_number.status, 200, "{}", as_number.body);
    assert_eq!(ids(&as_number), vec![1001]);
    let as_string = app
        .post_json(
            &url,
            &json!({"app": APP, "token": app.token, "contrato": "1001"}),
        )
        .await;
    assert_eq!(as_string.status, 200);
    assert_eq!(as_string.body, as_number.body);
    let spaced = app
        .post_json(
            &url,
            &json!({"app": APP, "token": app.token, "contrato": " 1001 "}),
        )
        .await;
    assert_eq!(spaced.body, as_number.body);
    // The same with a charset in the content type.
    let raw = json!({"app": APP, "token": app.token, "contrato": 1001}).to_string();
    let r = app
        .post_raw(&url, "application/json; charset=utf-8", raw)
        .await;
    assert_eq!(r.body, as_number.body);
    // A form gives the same answer.
    let form = app.call("consultacliente", &[("contrato", "1001")]).await;
    assert_eq!(form.body, as_number.body);
    app.stop().await;
}

#[tokio::test]
async fn json_number_for_other_integers_and_strings_works_on_writes() {
    let app = spawn().await;
    let r = app
        .post_json(
            &app.fn_url("chamado"),
            &json!({
                "app": APP,
                "token": app.token,
                "contrato": 1001,
                "ocorrenciatipo": 3,
                "motivoos": 30,
                "setor": 2,
                "uracontato": "84991380000",
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], 1, "{}", r.body);
    assert_eq!(r.json["uracontato"], "84991380000");
    let protocolo = r.json["protocolo"].as_str().expect("protocolo");
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM tickets t JOIN work_orders w ON w.ticket_id = t.id \
             WHERE t.protocol = '{protocolo}' AND t.type_id = 3 AND t.sector_id = 2 \
             AND w.reason_id = 30"
        ))
        .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn json_null_and_empty_string_are_absent() {
    let app = spawn().await;
    let url = app.fn_url("consultacliente");
    for absent in [Value::Null, json!("")] {
        let r = app
            .post_json(
                &url,
                &json!({"app": APP, "token": app.token, "contrato": absent, "cpfcnpj": "52998224725"}),
            )
            .await;
        assert_eq!(r.status, 200, "{absent}: {}", r.body);
        assert_eq!(ids(&r), vec![1001, 1002], "{absent}");
        let r = app
            .post_json(
                &url,
                &json!({"app": APP, "token": app.token, "contrato": absent, "cpfcnpj": absent}),
            )
            .await;
        assert_error(&r, 400, r#"{"detail":"Informe cpfcnpj ou contrato."}"#);
        let r = app
            .post_json(
                &app.fn_url("chamado"),
                &json!({"app": APP, "token": app.token, "contrato": absent}),
            )
            .await;
        assert_error(&r, 400, CONTRATO_REQUIRED);
    }
    // A null token is no token.
    let r = app
        .post_json(&url, &json!({"app": APP, "token": null, "contrato": 1001}))
        .await;
    assert_error(&r, 403, NO_CREDENTIALS);
    let r = app
        .post_json(
            &url,
            &json!({"app": "", "token": app.token, "contrato": 1001}),
        )
        .await;
    assert_error(&r, 403, NO_CREDENTIALS);
    app.stop().await;
}

#[tokio::test]
async fn json_content_type_with_empty_body_is_an_empty_body() {
    let app = spawn().await;
    let url = app.fn_url("consultacliente");
    let r = app.post_raw(&url, "application/json", "").await;
    assert_error(&r, 403, NO_CREDENTIALS);
    // With the credentials in headers and the parameters in the query, it works.
    let r = app
        .send(
            app.client
                .post(format!("{url}?contrato=1001"))
                .header("content-type", "application/json")
                .header("authorization", format!("Token {}", app.token))
                .header("app", APP)
                .body(""),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r), vec![1001]);
    // And the query alone carries everything.
    let r = app
        .post_raw(
            &format!("{url}?app={APP}&token={}&contrato=1002", app.token),
            "application/json",
            "",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r), vec![1002]);
    app.stop().await;
}

#[tokio::test]
async fn query_and_body_are_merged_and_the_body_wins() {
    let app = spawn().await;
    let base = app.fn_url("consultacliente");
    // Body overrides the query's contrato.
    let r = app
        .post_form(
            &format!("{base}?contrato=1002"),
            &form_with(&app, &[("contrato", "1001")]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r), vec![1001]);
    // Credentials in the query, parameter in the body.
    let r = app
        .post_form(
            &format!("{base}?app={APP}&token={}", app.token),
            &[("contrato", "1002")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r), vec![1002]);
    // Parameter in the query, credentials in the body.
    let r = app
        .post_form(&format!("{base}?contrato=2001"), &creds(&app))
        .await;
    assert_eq!(ids(&r), vec![2001]);
    // JSON body wins too.
    let r = app
        .post_json(
            &format!("{base}?contrato=1002&app={APP}&token=wrong"),
            &json!({"token": app.token, "contrato": 1001}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r), vec![1001]);
    // Multipart body wins too.
    let form = reqwest::multipart::Form::new().text("contrato", "2001");
    let r = app
        .send(
            app.client
                .post(format!(
                    "{base}?contrato=1001&app={APP}&token={}",
                    app.token
                ))
                .multipart(form),
        )
        .await;
    assert_eq!(ids(&r), vec![2001]);
    app.stop().await;
}

#[tokio::test]
async fn unknown_parameters_are_ignored() {
    let app = spawn().await;
    let reference = app.call("consultacliente", &[("contrato", "1001")]).await;
    let r = app
        .call(
            "consultacliente",
            &[("contrato", "1001"), ("foo", "bar"), ("senha", "x")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, reference.body);
    app.stop().await;
}

#[tokio::test]
async fn credentials_in_headers() {
    let app = spawn().await;
    let url = app.fn_url("consultacliente");
    let r = app
        .send(
            app.client
                .post(&url)
                .header("Authorization", format!("Token {}", app.token))
                .header("App", APP)
                .form(&[("contrato", "1001")]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r), vec![1001]);
    // GET with headers only.
    let r = app
        .send(
            app.client
                .get(format!("{url}?contrato=1002"))
                .header("Authorization", format!("Token {}", app.token))
                .header("App", APP),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r), vec![1002]);
    // JSON body with header credentials.
    let r = app
        .send(
            app.client
                .post(&url)
                .header("Authorization", format!("Token {}", app.token))
                .header("App", APP)
                .json(&json!({"contrato": 2001})),
        )
        .await;
    assert_eq!(ids(&r), vec![2001]);
    // Header with a wrong token.
    let r = app
        .send(
            app.client
                .post(&url)
                .header(
                    "Authorization",
                    "Token 00000000-0000-4000-8000-000000000000",
                )
                .header("App", APP)
                .form(&[("contrato", "1001")]),
        )
        .await;
    assert_error(&r, 403, BAD_CREDENTIALS);
    // Token header without app: not provided.
    let r = app
        .send(
            app.client
                .post(&url)
                .header("Authorization", format!("Token {}", app.token))
                .form(&[("contrato", "1001")]),
        )
        .await;
    assert_error(&r, 403, NO_CREDENTIALS);
    // App header without token: not provided.
    let r = app
        .send(
            app.client
                .post(&url)
                .header("App", APP)
                .form(&[("contrato", "1001")]),
        )
        .await;
    assert_error(&r, 403, NO_CREDENTIALS);
    app.stop().await;
}

#[tokio::test]
async fn app_as_parameter_with_token_in_header() {
    let app = spawn().await;
    let r = app
        .send(
            app.client
                .post(app.fn_url("consultacliente"))
                .header("Authorization", format!("Token {}", app.token))
                .form(&[("app", APP), ("contrato", "1001")]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r), vec![1001]);
    let r = app
        .send(
            app.client
                .get(format!(
                    "{}?app={APP}&contrato=1002",
                    app.url("/api/ura/consultacliente/")
                ))
                .header("Authorization", format!("Token {}", app.token)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r), vec![1002]);
    app.stop().await;
}

#[tokio::test]
async fn missing_credentials_are_403_not_provided() {
    let app = spawn().await;
    let url = app.fn_url("consultacliente");
    for form in [
        vec![("contrato", "1001".to_string())],
        vec![("app", APP.to_string()), ("contrato", "1001".to_string())],
        vec![
            ("token", app.token.clone()),
            ("contrato", "1001".to_string()),
        ],
        vec![
            ("app", String::new()),
            ("token", app.token.clone()),
            ("contrato", "1001".to_string()),
        ],
        vec![
            ("app", APP.to_string()),
            ("token", String::new()),
            ("contrato", "1001".to_string()),
        ],
        vec![],
    ] {
        let r = app.send(app.client.post(&url).form(&form)).await;
        assert_error(&r, 403, NO_CREDENTIALS);
    }
    let r = app.get(&url).await;
    assert_error(&r, 403, NO_CREDENTIALS);
    app.stop().await;
}

#[tokio::test]
async fn wrong_credentials_are_403_incorrect() {
    let app = spawn().await;
    let url = app.fn_url("consultacliente");
    let other_token = ura::store::apps::create(&app.store, "outro")
        .await
        .expect("app");
    let upper_token = app.token.to_uppercase();
    let cases: Vec<(&str, &str)> = vec![
        (APP, "wrong"),
        (APP, "00000000-0000-4000-8000-000000000000"),
        (APP, &other_token),
        (APP, &upper_token),
        ("desconhecido", &app.token),
        ("TESTE", &app.token),
        ("Teste", &app.token),
        ("teste ", "x"),
        ("outro", &app.token),
    ];
    for (name, token) in cases {
        let r = app
            .post_form(
                &url,
                &[("app", name), ("token", token), ("contrato", "1001")],
            )
            .await;
        assert_error(&r, 403, BAD_CREDENTIALS);
    }
    // The other app's own pair works: the checks above are about the pair.
    let r = app
        .post_form(
            &url,
            &[
                ("app", "outro"),
                ("token", &other_token),
                ("contrato", "1001"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn disabled_app_is_refused() {
    let app = spawn().await;
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    assert_eq!(r.status, 200);
    app.exec(&format!("UPDATE apps SET enabled = 0 WHERE name = '{APP}'"))
        .await;
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    assert_error(&r, 403, BAD_CREDENTIALS);
    let r = app
        .send(
            app.client
                .post(app.fn_url("chamado"))
                .header("Authorization", format!("Token {}", app.token))
                .header("App", APP)
                .form(&[("contrato", "1001")]),
        )
        .await;
    assert_error(&r, 403, BAD_CREDENTIALS);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM tickets").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn body_is_checked_before_credentials() {
    let app = spawn().await;
    let url = app.fn_url("consultacliente");
    // Malformed JSON without credentials: 400, not 403.
    let r = app
        .post_raw(&url, "application/json", "{\"contrato\": ")
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.starts_with(JSON_ERROR_PREFIX), "{}", r.body);
    assert_no_html(&r);
    // Malformed JSON with wrong credentials in headers: still 400.
    let r = app
        .send(
            app.client
                .post(&url)
                .header("content-type", "application/json")
                .header("Authorization", "Token wrong")
                .header("App", APP)
                .body("{nope"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.starts_with(JSON_ERROR_PREFIX), "{}", r.body);
    // Oversize body without credentials: 413, not 403.
    let body = "x=".to_string() + &"y".repeat(100 * 1024);
    let r = app
        .post_raw(&url, "application/x-www-form-urlencoded", body)
        .await;
    assert_error(&r, 413, TOO_LARGE);
    app.stop().await;
}

#[tokio::test]
async fn credentials_are_checked_before_parameters() {
    let app = spawn().await;
    // Missing contrato without credentials: 403, not 400.
    let r = app.post_form(&app.fn_url("chamado"), &[("x", "1")]).await;
    assert_error(&r, 403, NO_CREDENTIALS);
    // Bad integer without credentials: 403, not 400.
    let r = app
        .post_form(&app.fn_url("chamado"), &[("contrato", "abc")])
        .await;
    assert_error(&r, 403, NO_CREDENTIALS);
    let r = app
        .post_form(&app.fn_url("consultacliente"), &[("contrato", "1.5")])
        .await;
    assert_error(&r, 403, NO_CREDENTIALS);
    // Neither document nor contract without credentials: 403.
    let r = app.post_form(&app.fn_url("consultacliente"), &[]).await;
    assert_error(&r, 403, NO_CREDENTIALS);
    // Wrong credentials with a missing parameter: 403 incorrect.
    let r = app
        .post_form(&app.fn_url("chamado"), &[("app", APP), ("token", "wrong")])
        .await;
    assert_error(&r, 403, BAD_CREDENTIALS);
    let r = app
        .post_form(
            &app.fn_url("chamado"),
            &[("app", APP), ("token", "wrong"), ("contrato", "abc")],
        )
        .await;
    assert_error(&r, 403, BAD_CREDENTIALS);
    app.stop().await;
}

#[tokio::test]
async fn unauthenticated_requests_reveal_nothing_about_the_data() {
    // 30 wrong pairs from one address: the pause after failures (hardening.rs) is off here.
    let app = spawn_with(|s| s.limites.falhas_autenticacao = 0).await;
    let tickets = app.scalar_i64("SELECT COUNT(*) FROM tickets").await;
    let notifications = app.scalar_i64("SELECT COUNT(*) FROM notifications").await;
    let protocols = app.scalar_i64("SELECT COUNT(*) FROM protocols").await;
    for function in FUNCTIONS {
        let url = app.fn_url(function);
        for params in [
            vec![("contrato", "1001")],
            vec![("contrato", "999")],
            vec![("contrato", "1002"), ("tipo", "email")],
            vec![("cpfcnpj", "529.982.247-25")],
            vec![("cpfcnpj", "123.456.789-09")],
        ] {
            let r = app.post_form(&url, &params).await;
            assert_error(&r, 403, NO_CREDENTIALS);
            let mut wrong = params.clone();
            wrong.extend([("app", APP), ("token", "wrong")]);
            let r = app.post_form(&url, &wrong).await;
            assert_error(&r, 403, BAD_CREDENTIALS);
        }
    }
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM tickets").await,
        tickets
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM notifications").await,
        notifications
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM protocols").await,
        protocols
    );
    assert_eq!(
        app.scalar_str("SELECT CAST(status AS TEXT) FROM contracts WHERE id = 1002")
            .await
            .as_deref(),
        Some("4")
    );
    app.stop().await;
}

#[tokio::test]
async fn malformed_json_is_400_parse_error() {
    let app = spawn().await;
    let url = app.fn_url("consultacliente");
    for body in [
        "{nope",
        "{\"contrato\": 1001",
        "{\"contrato\": 1001,}",
        "contrato=1001",
        "{'contrato': 1001}",
    ] {
        let r = app
            .send(
                app.client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("Authorization", format!("Token {}", app.token))
                    .header("App", APP)
                    .body(body),
            )
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.content_type, "application/json");
        assert!(r.body.starts_with(JSON_ERROR_PREFIX), "{body}: {}", r.body);
        assert!(r.body.ends_with("\"}"), "{}", r.body);
        let detail = r.json["detail"].as_str().expect("detail string");
        assert!(detail.len() > "JSON parse error - ".len(), "{detail}");
        assert_eq!(r.json.as_object().map(|o| o.len()), Some(1));
        assert_no_html(&r);
    }
    // A JSON value that is not an object is not a parameter set either.
    let r = app
        .send(
            app.client
                .post(&url)
                .header("content-type", "application/json")
                .header("Authorization", format!("Token {}", app.token))
                .header("App", APP)
                .body("[1001]"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.json["detail"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn non_integer_contrato_is_400() {
    let app = spawn().await;
    for function in ["consultacliente", "chamado", "notificacaosistema"] {
        for value in ["abc", "1.5", "1001a", "1e3", "10 01", "0x10", "1001.0"] {
            let r = app.call(function, &[("contrato", value)]).await;
            assert_error(&r, 400, BAD_CONTRATO);
        }
    }
    // As a JSON number that is not an integer.
    let r = app
        .post_json(
            &app.fn_url("consultacliente"),
            &json!({"app": APP, "token": app.token, "contrato": 1.5}),
        )
        .await;
    assert_error(&r, 400, BAD_CONTRATO);
    // In the query string.
    let r = app
        .get(&format!(
            "{}?app={APP}&token={}&contrato=abc",
            app.fn_url("consultacliente"),
            app.token
        ))
        .await;
    assert_error(&r, 400, BAD_CONTRATO);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM tickets").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn contrato_with_surrounding_spaces_is_accepted() {
    let app = spawn().await;
    for value in [" 1001 ", "1001 ", " 1001", "  1001  "] {
        let r = app.call("consultacliente", &[("contrato", value)]).await;
        assert_eq!(r.status, 200, "{value:?}: {}", r.body);
        assert_eq!(ids(&r), vec![1001], "{value:?}");
    }
    let r = app.call("chamado", &[("contrato", " 1001 ")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], 1);
    assert_eq!(r.json["contratoId"], 1001);
    app.stop().await;
}

#[tokio::test]
async fn missing_required_contrato_is_400() {
    let app = spawn().await;
    for function in ["chamado", "liberacaopromessa", "verificaacesso"] {
        let r = app.call(function, &[]).await;
        assert_error(&r, 400, CONTRATO_REQUIRED);
        let r = app.call(function, &[("contrato", "")]).await;
        assert_error(&r, 400, CONTRATO_REQUIRED);
        // Names are case-sensitive.
        let r = app.call(function, &[("Contrato", "1001")]).await;
        assert_error(&r, 400, CONTRATO_REQUIRED);
    }
    let r = app.call("enviafatura", &[("tipo", "email")]).await;
    assert_error(&r, 400, CONTRATO_REQUIRED);
    app.stop().await;
}

#[tokio::test]
async fn oversize_body_is_413_and_the_client_receives_it() {
    let app = spawn().await;
    assert_eq!(app.settings.body_limit, 64 * 1024);
    let url = app.fn_url("consultacliente");
    // 100 KiB form, with valid credentials in it.
    let body = big_form_body(&app, 100 * 1024);
    let r = app
        .post_raw(&url, "application/x-www-form-urlencoded", body)
        .await;
    assert_error(&r, 413, TOO_LARGE);
    // Without credentials.
    let body = "filler=".to_string() + &"z".repeat(100 * 1024);
    let r = app
        .post_raw(&url, "application/x-www-form-urlencoded", body)
        .await;
    assert_error(&r, 413, TOO_LARGE);
    // JSON and multipart too.
    let r = app
        .post_json(
            &url,
            &json!({"app": APP, "token": app.token, "contrato": 1001, "x": "a".repeat(100 * 1024)}),
        )
        .await;
    assert_error(&r, 413, TOO_LARGE);
    let form = reqwest::multipart::Form::new()
        .text("app", APP)
        .text("token", app.token.clone())
        .text("contrato", "1001")
        .text("x", "b".repeat(100 * 1024));
    let r = app.send(app.client.post(&url).multipart(form)).await;
    assert_error(&r, 413, TOO_LARGE);
    // Nothing was written by an oversize chamado.
    let body = big_form_body(&app, 100 * 1024).replace("contrato=1001", "contrato=1002");
    let r = app
        .post_raw(
            &app.fn_url("chamado"),
            "application/x-www-form-urlencoded",
            body,
        )
        .await;
    assert_error(&r, 413, TOO_LARGE);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM tickets").await, 0);
    // The server is still fine afterwards.
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    assert_eq!(r.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_body_just_under_the_default_limit_is_accepted() {
    let app = spawn().await;
    let body = big_form_body(&app, 60 * 1024);
    let r = app
        .post_raw(
            &app.fn_url("consultacliente"),
            "application/x-www-form-urlencoded",
            body,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r), vec![1001]);
    app.stop().await;
}

#[tokio::test]
async fn configured_smaller_body_limit() {
    let app = spawn_with(|s| s.body_limit = 1024).await;
    let url = app.fn_url("consultacliente");
    let r = app
        .post_raw(
            &url,
            "application/x-www-form-urlencoded",
            big_form_body(&app, 1024),
        )
        .await;
    assert_eq!(r.status, 200, "exactly the limit: {}", r.body);
    assert_eq!(ids(&r), vec![1001]);
    let r = app
        .post_raw(
            &url,
            "application/x-www-form-urlencoded",
            big_form_body(&app, 1025),
        )
        .await;
    assert_error(&r, 413, TOO_LARGE);
    let r = app
        .post_raw(
            &url,
            "application/x-www-form-urlencoded",
            big_form_body(&app, 4000),
        )
        .await;
    assert_error(&r, 413, TOO_LARGE);
    // A normal request still fits.
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    assert_eq!(r.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn unknown_path_is_404() {
    let app = spawn().await;
    for path in [
        "/",
        "/ws/ura/",
        "/ws/ura/naoexiste/",
        "/api/ura/naoexiste",
        "/ws/ura/consultacliente/extra",
        "/ws/ura/consultacliente//",
        "/ws/consultacliente/",
        "/ura/consultacliente/",
        "/favicon.ico",
    ] {
        let r = app.get(&app.url(path)).await;
        assert_error(&r, 404, NOT_FOUND);
        let r = app
            .post_form(&app.url(path), &form_with(&app, &[("contrato", "1001")]))
            .await;
        assert_error(&r, 404, NOT_FOUND);
    }
    app.stop().await;
}

#[tokio::test]
async fn other_methods_are_405_with_the_method_name() {
    let app = spawn().await;
    for path in ["/ws/ura/consultacliente/", "/api/ura/chamado"] {
        for method in ["PUT", "DELETE", "PATCH", "PURGE"] {
            let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let r = app
                .send(
                    app.client
                        .request(m.clone(), app.url(path))
                        .form(&form_with(&app, &[("contrato", "1001")])),
                )
                .await;
            assert_error(
                &r,
                405,
                &format!(r#"{{"detail":"Método \"{method}\" não é permitido."}}"#),
            );
            // Without credentials too.
            let r = app.send(app.client.request(m, app.url(path))).await;
            assert_eq!(r.status, 405, "{method} {path}: {}", r.body);
            assert_eq!(
                r.json["detail"],
                format!("Método \"{method}\" não é permitido.")
            );
        }
    }
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM tickets").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn responses_are_compact_json_with_raw_non_ascii() {
    let app = spawn().await;
    let r = app.get(&app.url("/nada")).await;
    assert_eq!(r.content_type, "application/json");
    assert!(r.body.contains("Não"), "{}", r.body);
    assert!(!r.body.contains("\\u00e3"), "{}", r.body);
    assert!(!r.body.contains("\\u00c3"), "{}", r.body);

    let r = app.call("consultacliente", &[("contrato", "2001")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/json");
    assert!(!r.body.contains("\": "), "{}", r.body);
    assert!(!r.body.contains(", \""), "{}", r.body);
    assert!(!r.body.contains('\n'), "{}", r.body);
    // The body is exactly what a compact serializer writes for its own value.
    assert_eq!(r.body, serde_json::to_string(&r.json).unwrap());

    app.exec("UPDATE contracts SET status = 5 WHERE id = 6001")
        .await;
    let r = app.call("consultacliente", &[("contrato", "6001")]).await;
    assert!(r.body.contains("Inviabilidade Técnica"), "{}", r.body);
    assert!(!r.body.contains("\\u"), "{}", r.body);

    let r = app
        .call("chamado", &[("contrato", "1001"), ("ocorrenciatipo", "99")])
        .await;
    assert!(r.body.contains("ocorrência"), "{}", r.body);
    assert_eq!(r.body, serde_json::to_string(&r.json).unwrap());
    app.stop().await;
}

#[tokio::test]
async fn error_responses_are_json_and_never_html() {
    let app = spawn().await;
    let url = app.fn_url("chamado");
    let mut responses = vec![
        app.get(&app.url("/nada/")).await,
        app.post_form(&url, &[]).await,
        app.post_form(&url, &[("app", APP), ("token", "x")]).await,
        app.call("chamado", &[]).await,
        app.call("chamado", &[("contrato", "abc")]).await,
        app.post_raw(&url, "application/json", "{x").await,
        app.post_raw(
            &url,
            "application/x-www-form-urlencoded",
            "a=".to_string() + &"b".repeat(70 * 1024),
        )
        .await,
    ];
    responses.push(
        app.send(app.client.delete(&url).form(&[("contrato", "1")]))
            .await,
    );
    responses.push(app.send(app.client.put(app.url("/api/ura/chamado"))).await);
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![404, 403, 403, 400, 400, 400, 413, 405, 405]);
    for r in &responses {
        assert_eq!(r.content_type, "application/json", "{}", r.body);
        assert_no_html(r);
        let obj = r.json.as_object().expect("JSON object");
        assert_eq!(obj.len(), 1, "{}", r.body);
        assert!(obj["detail"].is_string(), "{}", r.body);
        assert_eq!(r.body, serde_json::to_string(&r.json).unwrap());
    }
    app.stop().await;
}

#[tokio::test]
async fn consultacliente_never_returns_passwords_or_secrets() {
    let app = spawn().await;
    let passwords: Vec<String> = sqlx::query_scalar("SELECT password FROM internet_services")
        .fetch_all(app.store.pool())
        .await
        .expect("passwords");
    assert_eq!(passwords.len(), 7);
    let token_hash = app
        .scalar_str(&format!("SELECT token_hash FROM apps WHERE name = '{APP}'"))
        .await
        .expect("hash");
    let mut bodies = Vec::new();
    for doc in [
        "529.982.247-25",
        "12.ABC.345/01DE-35",
        "111.444.777-35",
        "11.222.333/0001-81",
        "390.533.447-05",
    ] {
        bodies.push(app.call("consultacliente", &[("cpfcnpj", doc)]).await);
    }
    for contrato in ["1001", "1002", "2001", "3001", "4001", "5001", "6001"] {
        bodies.push(app.call("consultacliente", &[("contrato", contrato)]).await);
    }
    bodies.push(
        app.get(&with_query(
            &app.url("/api/ura/consultacliente/"),
            &[
                ("app", APP),
                ("token", app.token.as_str()),
                ("cpfcnpj", "52998224725"),
            ],
        ))
        .await,
    );
    for r in &bodies {
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.json["contratos"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        );
        let lower = r.body.to_lowercase();
        for word in ["password", "senha", "secret", "segredo", "hash", "token"] {
            assert!(!lower.contains(word), "{word} in {}", r.body);
        }
        for p in &passwords {
            assert!(!r.body.contains(p), "password {p} in {}", r.body);
        }
        assert!(!r.body.contains(&app.token));
        assert!(!r.body.contains(&token_hash));
        assert!(!r.body.contains("demo-"), "{}", r.body);
    }
    app.stop().await;
}

/// Sends `head` (request line and headers, without the final blank line) and `chunks` as a
/// chunked body over a raw connection, and returns the status and the response body.
async fn raw_chunked(app: &TestApp, path: &str, head: &str, chunks: &[&[u8]]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = app
        .base
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .expect("authority")
        .to_string();
    let mut stream = tokio::net::TcpStream::connect(&authority)
        .await
        .expect("connect");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\
         Transfer-Encoding: chunked\r\n{head}\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write head");
    for chunk in chunks {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(chunk);
        frame.extend_from_slice(b"\r\n");
        // The server may answer and stop reading early; a failed write is not the test.
        if stream.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .expect("the client receives an answer, not a reset");
    let text = String::from_utf8(response).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("response head");
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("content-type: application/json"), "{head}");
    let body = if lower.contains("transfer-encoding: chunked") {
        // Decode a chunked answer.
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).expect("chunk size");
            if n == 0 {
                break;
            }
            out.push_str(&after[..n]);
            rest = &after[n + 2..];
        }
        out
    } else {
        body.to_string()
    };
    (status, body)
}

#[tokio::test]
async fn chunked_bodies_are_read_and_oversize_ones_get_413() {
    let app = spawn().await;
    let path = "/ws/ura/consultacliente/";
    let form = format!("app={APP}&token={}&contrato=1002", app.token);
    let (status, body) = raw_chunked(
        &app,
        path,
        "Content-Type: application/x-www-form-urlencoded\r\n",
        &[&form.as_bytes()[..10], &form.as_bytes()[10..]],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(json["contratos"][0]["contratoId"], 1002);

    // 100 KiB in 10 KiB chunks, no Content-Length: 413, received whole.
    let chunk = vec![b'x'; 10 * 1024];
    let mut chunks: Vec<&[u8]> = vec![b"filler="];
    chunks.extend(std::iter::repeat_n(chunk.as_slice(), 10));
    let (status, body) = raw_chunked(
        &app,
        path,
        "Content-Type: application/x-www-form-urlencoded\r\n",
        &chunks,
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body, TOO_LARGE);
    app.stop().await;
}

#[tokio::test]
async fn oversize_body_under_one_mebibyte_is_drained_and_answered() {
    let app = spawn().await;
    let body = big_form_body(&app, 900 * 1024);
    let r = app
        .post_raw(
            &app.fn_url("chamado"),
            "application/x-www-form-urlencoded",
            body,
        )
        .await;
    assert_error(&r, 413, TOO_LARGE);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM tickets").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn unexpected_failure_is_500_json() {
    let app = spawn().await;
    // The console's event log refers to notifications; PostgreSQL wants that said.
    app.exec(if app.is_postgres() {
        "DROP TABLE notifications CASCADE"
    } else {
        "DROP TABLE notifications"
    })
    .await;
    let r = app
        .call("notificacaosistema", &[("contrato", "1001")])
        .await;
    assert_error(&r, 500, r#"{"detail":"Erro interno do servidor."}"#);
    // Other functions still answer.
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn storage_busy_past_the_request_timeout_is_503_json() {
    let app = spawn_with(|s| s.request_timeout = 0.3).await;
    let tickets = app.scalar_i64("SELECT COUNT(*) FROM tickets").await;
    // Hold the database's write lock (on PostgreSQL, a lock on the protocols table)
    // while the request runs.
    let mut held = app.store.write().await.expect("write lock");
    if app.is_postgres() {
        sqlx::query("LOCK TABLE protocols IN ACCESS EXCLUSIVE MODE")
            .execute(&mut **held)
            .await
            .expect("lock");
    }
    let r = app.call("chamado", &[("contrato", "1001")]).await;
    drop(held);
    assert_error(
        &r,
        503,
        r#"{"detail":"Serviço temporariamente indisponível."}"#,
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM tickets").await,
        tickets
    );
    // Once the storage is free again, the same call works.
    let r = app.call("chamado", &[("contrato", "1001")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], 1);
    app.stop().await;
}

#[tokio::test]
async fn app_limited_to_some_functions_gets_403_for_the_others() {
    // The contract does not fix how the list is stored; this assumes the schema's
    // `apps.allowed_functions` holding comma-separated function names.
    let app = spawn().await;
    app.exec(&format!(
        "UPDATE apps SET allowed_functions = 'consultacliente,verificaacesso' WHERE name = '{APP}'"
    ))
    .await;
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for function in ["chamado", "notificacaosistema", "liberacaopromessa"] {
        let r = app.call(function, &[("contrato", "1002")]).await;
        assert_error(
            &r,
            403,
            r#"{"detail":"Você não tem permissão para executar essa ação."}"#,
        );
    }
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM tickets").await, 0);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM notifications").await,
        0
    );
    app.stop().await;
}
