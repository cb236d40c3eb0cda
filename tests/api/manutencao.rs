//! `manutencao/list/`, `manutencao/add/`, `manutencao/edit/`, `manutencao/delete/`
//! (CONTRACT.md §3), and how what they write changes `verificaacesso`.

use crate::common::*;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

const NOT_FOUND: &str = r#"{"detail":"Não encontrado."}"#;

fn tz(app: &TestApp) -> Tz {
    app.settings.tz().expect("tz")
}

/// `YYYY-MM-DD HH:MM:SS` in the operator's zone.
fn local(app: &TestApp, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz(app))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A stored timestamp (fixed-width UTC text) as the wire shows it.
fn stored_as_local(app: &TestApp, text: &str) -> String {
    let t = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.fZ")
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .and_utc();
    local(app, t)
}

/// A text column of a maintenance; None when NULL.
async fn column(app: &TestApp, id: i64, col: &str) -> Option<String> {
    app.scalar_str(&format!(
        "SELECT {col} FROM maintenances WHERE id = {id} AND {col} IS NOT NULL"
    ))
    .await
}

async fn local_column(app: &TestApp, id: i64, col: &str) -> Value {
    match column(app, id, col).await {
        Some(text) => json!(stored_as_local(app, &text)),
        None => Value::Null,
    }
}

/// Calls `manutencao/{action}/` with the test app's credentials.
async fn call(app: &TestApp, action: &str, params: &[(&str, &str)]) -> Resp {
    let r = app.call(&format!("manutencao/{action}"), params).await;
    assert_eq!(r.content_type, "application/json", "{}", r.body);
    r
}

async fn ok(app: &TestApp, action: &str, params: &[(&str, &str)]) -> Value {
    let r = call(app, action, params).await;
    assert_eq!(r.status, 200, "{action} {params:?}: {}", r.body);
    r.json
}

async fn list(app: &TestApp, params: &[(&str, &str)]) -> Value {
    ok(app, "list", params).await
}

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|m| m["id"].as_i64().expect("id"))
        .collect()
}

/// Everything a maintenance write may change, to prove that a refused one changed nothing.
async fn snapshot(app: &TestApp) -> String {
    let rows = |sql: &'static str| async move {
        sqlx::query_as::<_, (String,)>(sql)
            .fetch_all(app.store.pool())
            .await
            .expect("snapshot")
            .into_iter()
            .map(|r| r.0)
            .collect::<Vec<_>>()
            .join("\n")
    };
    [
        rows(
            "SELECT CAST(id AS TEXT) || '|' || description || '|' || COALESCE(ivr_message, '-') \
             || '|' || CAST(severity AS TEXT) || '|' || CAST(status AS TEXT) || '|' || starts_at \
             || '|' || COALESCE(expected_end, '-') || '|' || COALESCE(resolved_at, '-') \
             FROM maintenances ORDER BY id",
        )
        .await,
        rows(
            "SELECT CAST(maintenance_id AS TEXT) || '-' || CAST(pop_id AS TEXT) \
             FROM maintenance_pops ORDER BY 1",
        )
        .await,
        rows(
            "SELECT CAST(maintenance_id AS TEXT) || '-' || CAST(element_id AS TEXT) \
             FROM maintenance_elements ORDER BY 1",
        )
        .await,
        rows(
            "SELECT CAST(maintenance_id AS TEXT) || '-' || CAST(nas_id AS TEXT) \
             FROM maintenance_nas ORDER BY 1",
        )
        .await,
    ]
    .join("\n--\n")
}

/// `verificaacesso` for a contract: (status, msg, tempo).
async fn access(app: &TestApp, contrato: &str) -> (i64, String, Value) {
    let r = app.call("verificaacesso", &[("contrato", contrato)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    (
        r.json["status"].as_i64().expect("status"),
        r.json["msg"].as_str().expect("msg").to_string(),
        r.json.get("tempo").cloned().unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn list_shows_the_demo_maintenances_in_the_contract_shape() {
    let app = spawn().await;
    let r = call(&app, "list", &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with("[{\"id\":1,"), "{}", r.body);
    assert!(r.body.contains("\"Manutenção na região\""), "raw UTF-8");
    let expected = json!([
        {
            "id": 1,
            "descricao": "Rompimento de fibra no anel da Zona Norte",
            "mensagem_ura": "Manutenção na região",
            "severidade": 4,
            "status": 2,
            "data_inicial": local_column(&app, 1, "starts_at").await,
            "data_final": local_column(&app, 1, "expected_end").await,
            "pops": [2],
            "elementos": [],
            "nas": [],
        },
        {
            "id": 2,
            "descricao": "Troca de fonte do concentrador nas-sul",
            "mensagem_ura": "",
            "severidade": 3,
            "status": 1,
            "data_inicial": local_column(&app, 2, "starts_at").await,
            "data_final": local_column(&app, 2, "expected_end").await,
            "pops": [],
            "elementos": [],
            "nas": [2],
        },
        {
            "id": 3,
            "descricao": "Atualização de firmware da OLT Centro 01",
            "mensagem_ura": "Manutenção programada",
            "severidade": 1,
            "status": 4,
            "data_inicial": local_column(&app, 3, "starts_at").await,
            "data_final": local_column(&app, 3, "expected_end").await,
            "pops": [],
            "elementos": [1],
            "nas": [],
        },
    ]);
    assert_eq!(r.json, expected);
    // Field order as the contract shows it.
    let first = r.json[0].as_object().unwrap();
    assert_eq!(
        first.keys().map(String::as_str).collect::<Vec<_>>(),
        vec![
            "id",
            "descricao",
            "mensagem_ura",
            "severidade",
            "status",
            "data_inicial",
            "data_final",
            "pops",
            "elementos",
            "nas"
        ]
    );
    // In force only: the resolved one is left out.
    for ativas in ["1", "true"] {
        assert_eq!(ids(&list(&app, &[("ativas", ativas)]).await), vec![1, 2]);
    }
    for ativas in ["0", "false"] {
        assert_eq!(ids(&list(&app, &[("ativas", ativas)]).await), vec![1, 2, 3]);
    }
    let r = call(&app, "list", &[("ativas", "talvez")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"detail":"Parâmetro 'ativas' inválido: use 0 ou 1."}"#
    );
    app.stop().await;
}

#[tokio::test]
async fn add_answers_the_new_maintenance_and_stores_utc() {
    let app = spawn().await;
    let r = call(
        &app,
        "add",
        &[
            ("descricao", "Troca de poste na Rua das Flores"),
            ("mensagem_ura", "Estamos trocando um poste no seu bairro"),
            ("severidade", "3"),
            ("status", "2"),
            ("data_inicial", "2030-11-29 08:00:00"),
            ("data_final", "2030-11-29 10:30:00"),
            ("pops", "1"),
            ("elementos", "1,2"),
            ("nas", "[2]"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = app.scalar_i64("SELECT MAX(id) FROM maintenances").await;
    assert!(id > 3);
    assert_eq!(
        r.body,
        format!(
            r#"{{"id":{id},"descricao":"Troca de poste na Rua das Flores","mensagem_ura":"Estamos trocando um poste no seu bairro","severidade":3,"status":2,"data_inicial":"2030-11-29 08:00:00","data_final":"2030-11-29 10:30:00","pops":[1],"elementos":[1,2],"nas":[2]}}"#
        )
    );
    // America/Sao_Paulo is UTC-3.
    assert_eq!(
        column(&app, id, "starts_at").await.as_deref(),
        Some("2030-11-29T11:00:00.000000Z")
    );
    assert_eq!(
        column(&app, id, "expected_end").await.as_deref(),
        Some("2030-11-29T13:30:00.000000Z")
    );
    assert_eq!(column(&app, id, "resolved_at").await, None);
    // The list shows it as the answer did.
    let all = list(&app, &[]).await;
    assert_eq!(all.as_array().unwrap().last().unwrap(), &r.json);
    app.stop().await;
}

#[tokio::test]
async fn dates_are_in_the_configured_time_zone() {
    let app = spawn_with(|s| s.timezone = "America/Manaus".into()).await;
    let v = ok(
        &app,
        "add",
        &[
            ("descricao", "Fuso de Manaus"),
            ("data_inicial", "2030-01-10 08:00:00"),
            ("data_final", "2030-01-10T09:15"),
        ],
    )
    .await;
    assert_eq!(v["data_inicial"], "2030-01-10 08:00:00");
    assert_eq!(v["data_final"], "2030-01-10 09:15:00");
    let id = v["id"].as_i64().unwrap();
    // America/Manaus is UTC-4.
    assert_eq!(
        column(&app, id, "starts_at").await.as_deref(),
        Some("2030-01-10T12:00:00.000000Z")
    );
    app.stop().await;
}

#[tokio::test]
async fn add_defaults_start_now_end_unknown_and_takes_json_and_multipart() {
    let app = spawn().await;
    let before = Utc::now() - TimeDelta::seconds(1);
    let v = ok(&app, "add", &[("descricao", "  Só a descrição  ")]).await;
    let id = v["id"].as_i64().unwrap();
    assert_eq!(
        v,
        json!({
            "id": id,
            "descricao": "Só a descrição",
            "mensagem_ura": "",
            "severidade": 4,
            "status": 1,
            "data_inicial": v["data_inicial"],
            "data_final": null,
            "pops": [],
            "elementos": [],
            "nas": [],
        })
    );
    let start = v["data_inicial"].as_str().unwrap().to_string();
    assert!(
        start >= local(&app, before) && start <= local(&app, Utc::now()),
        "{start}"
    );

    // JSON: numbers, arrays, the /api/ family without the trailing slash.
    let r = app
        .post_json(
            &app.url("/api/ura/manutencao/add"),
            &json!({
                "app": APP, "token": app.token,
                "descricao": "Via JSON", "severidade": 2, "status": 3,
                "data_inicial": "2030-02-01 00:00:00", "data_final": null,
                "pops": [2, 1, 2], "elementos": ["1"], "nas": [],
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["severidade"], 2);
    assert_eq!(r.json["status"], 3);
    assert_eq!(r.json["data_final"], Value::Null);
    assert_eq!(r.json["pops"], json!([1, 2]), "repeated ids count once");
    assert_eq!(r.json["elementos"], json!([1]));
    assert_eq!(r.json["nas"], json!([]));

    // Multipart, with the credentials in headers.
    let form = reqwest::multipart::Form::new()
        .text("descricao", "Via multipart")
        .text("nas", "1 2");
    let r = app
        .send(
            app.client
                .post(app.url("/ws/ura/manutencao/add/"))
                .header("Authorization", format!("Token {}", app.token))
                .header("App", APP)
                .multipart(form),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["nas"], json!([1, 2]));

    // GET with the query string.
    let r = app
        .get(&format!(
            "{}?app={APP}&token={}&descricao=Via%20GET&pops=1",
            app.url("/api/ura/manutencao/add/"),
            app.token
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["descricao"], "Via GET");
    assert_eq!(ids(&list(&app, &[]).await).len(), 7);
    app.stop().await;
}

#[tokio::test]
async fn add_refuses_every_bad_field_and_changes_nothing() {
    let app = spawn().await;
    let before = snapshot(&app).await;
    let d = ("descricao", "Teste");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "Parâmetro 'descricao' é obrigatório."),
        (
            vec![("descricao", "   ")],
            "Parâmetro 'descricao' é obrigatório.",
        ),
        (
            vec![("mensagem_ura", "x"), ("severidade", "9")],
            "Parâmetro 'descricao' é obrigatório.",
        ),
        (
            vec![d, ("severidade", "5")],
            "Parâmetro 'severidade' inválido: use um número de 0 a 4.",
        ),
        (
            vec![d, ("severidade", "-1")],
            "Parâmetro 'severidade' inválido: use um número de 0 a 4.",
        ),
        (
            vec![d, ("severidade", "alta")],
            "Parâmetro 'severidade' inválido: informe um número inteiro.",
        ),
        (
            vec![d, ("status", "7")],
            "Parâmetro 'status' inválido: use um número de 0 a 4.",
        ),
        (
            vec![d, ("status", "1.5")],
            "Parâmetro 'status' inválido: informe um número inteiro.",
        ),
        (
            vec![d, ("data_inicial", "29/11/2030 08:00")],
            "Parâmetro 'data_inicial' inválido: use o formato AAAA-MM-DD HH:MM:SS.",
        ),
        (
            vec![d, ("data_inicial", "2030-02-30 08:00:00")],
            "Parâmetro 'data_inicial' inválido: use o formato AAAA-MM-DD HH:MM:SS.",
        ),
        (
            vec![d, ("data_final", "amanhã")],
            "Parâmetro 'data_final' inválido: use o formato AAAA-MM-DD HH:MM:SS.",
        ),
        (
            vec![
                d,
                ("data_inicial", "2030-11-29 10:00:00"),
                ("data_final", "2030-11-29 09:59:59"),
            ],
            "Parâmetro 'data_final' inválido: não pode ser anterior a data_inicial.",
        ),
        (
            vec![d, ("data_final", "2020-01-01 00:00:00")],
            "Parâmetro 'data_final' inválido: não pode ser anterior a data_inicial.",
        ),
        (
            vec![d, ("pops", "1,x")],
            "Parâmetro 'pops' inválido: informe uma lista de números inteiros.",
        ),
        (
            vec![d, ("pops", "[1,")],
            "Parâmetro 'pops' inválido: informe uma lista de números inteiros.",
        ),
        (
            vec![d, ("pops", "[{\"id\":1}]")],
            "Parâmetro 'pops' inválido: informe uma lista de números inteiros.",
        ),
        (
            vec![d, ("pops", "1,99")],
            "Parâmetro 'pops' inválido: POP 99 não encontrado.",
        ),
        (
            vec![d, ("elementos", "[1, 77]")],
            "Parâmetro 'elementos' inválido: elemento de rede 77 não encontrado.",
        ),
        (
            vec![d, ("nas", "2,3")],
            "Parâmetro 'nas' inválido: NAS 3 não encontrado.",
        ),
        (
            vec![d, ("nas", "9999999999")],
            "Parâmetro 'nas' inválido: NAS 9999999999 não encontrado.",
        ),
        (
            vec![d, ("pops", "1"), ("nas", "-1")],
            "Parâmetro 'nas' inválido: NAS -1 não encontrado.",
        ),
    ];
    for (params, detail) in cases {
        let r = call(&app, "add", &params).await;
        assert_eq!(r.status, 400, "{params:?}: {}", r.body);
        assert_eq!(
            r.body,
            json!({ "detail": detail }).to_string(),
            "{params:?}"
        );
    }
    assert_eq!(snapshot(&app).await, before, "nothing changed");
    app.stop().await;
}

#[tokio::test]
async fn edit_changes_only_what_is_given() {
    let app = spawn().await;
    let v = ok(
        &app,
        "add",
        &[
            ("descricao", "Original"),
            ("mensagem_ura", "Mensagem original"),
            ("severidade", "2"),
            ("data_inicial", "2030-03-01 08:00:00"),
            ("data_final", "2030-03-01 12:00:00"),
            ("pops", "1,2"),
            ("nas", "1"),
        ],
    )
    .await;
    let id = v["id"].as_i64().unwrap().to_string();
    let r = call(
        &app,
        "edit",
        &[
            ("id", &id),
            ("mensagem_ura", "Nova mensagem"),
            ("pops", "[]"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut expected = v.clone();
    expected["mensagem_ura"] = json!("Nova mensagem");
    expected["pops"] = json!([]);
    assert_eq!(r.json, expected);

    let r = call(
        &app,
        "edit",
        &[
            ("id", &id),
            ("descricao", "Alterada"),
            ("severidade", "0"),
            ("status", "3"),
            ("data_inicial", "2030-03-01 07:00:00"),
            ("data_final", "indefinido"),
            ("elementos", "2"),
        ],
    )
    .await;
    assert_eq!(
        r.json,
        json!({
            "id": v["id"],
            "descricao": "Alterada",
            "mensagem_ura": "Nova mensagem",
            "severidade": 0,
            "status": 3,
            "data_inicial": "2030-03-01 07:00:00",
            "data_final": null,
            "pops": [],
            "elementos": [2],
            "nas": [1],
        })
    );
    // Only the id: nothing changes, the maintenance is answered.
    let again = ok(&app, "edit", &[("id", &id)]).await;
    assert_eq!(again, r.json);
    let listed = list(&app, &[]).await;
    assert_eq!(listed.as_array().unwrap().last().unwrap(), &r.json);
    app.stop().await;
}

#[tokio::test]
async fn edit_refuses_bad_fields_and_changes_nothing() {
    let app = spawn().await;
    let v = ok(
        &app,
        "add",
        &[
            ("descricao", "Janela"),
            ("data_inicial", "2030-04-01 08:00:00"),
            ("data_final", "2030-04-01 10:00:00"),
            ("pops", "1"),
        ],
    )
    .await;
    let id = v["id"].as_i64().unwrap().to_string();
    let before = snapshot(&app).await;
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("descricao", "x")], "Parâmetro 'id' é obrigatório."),
        (
            vec![("id", "três")],
            "Parâmetro 'id' inválido: informe um número inteiro.",
        ),
        (
            vec![("id", &id), ("status", "5")],
            "Parâmetro 'status' inválido: use um número de 0 a 4.",
        ),
        (
            vec![("id", &id), ("data_final", "2030-04-01 07:59:59")],
            "Parâmetro 'data_final' inválido: não pode ser anterior a data_inicial.",
        ),
        (
            vec![("id", &id), ("data_inicial", "2030-04-01 10:00:01")],
            "Parâmetro 'data_inicial' inválido: não pode ser posterior a data_final.",
        ),
        (
            vec![("id", &id), ("descricao", "Nova"), ("pops", "1,42")],
            "Parâmetro 'pops' inválido: POP 42 não encontrado.",
        ),
        (
            vec![("id", &id), ("elementos", "[\"a\"]")],
            "Parâmetro 'elementos' inválido: informe uma lista de números inteiros.",
        ),
        // A bad field is a 400 even for an id that does not exist (parameters first).
        (
            vec![("id", "999"), ("severidade", "8")],
            "Parâmetro 'severidade' inválido: use um número de 0 a 4.",
        ),
    ];
    for (params, detail) in cases {
        let r = call(&app, "edit", &params).await;
        assert_eq!(r.status, 400, "{params:?}: {}", r.body);
        assert_eq!(
            r.body,
            json!({ "detail": detail }).to_string(),
            "{params:?}"
        );
    }
    assert_eq!(snapshot(&app).await, before, "nothing changed");
    // Moving both ends together is fine.
    let r = ok(
        &app,
        "edit",
        &[
            ("id", &id),
            ("data_inicial", "2030-04-02 08:00:00"),
            ("data_final", "2030-04-02 08:00:00"),
        ],
    )
    .await;
    assert_eq!(r["data_final"], "2030-04-02 08:00:00");
    app.stop().await;
}

#[tokio::test]
async fn unknown_id_on_edit_and_delete_is_status_0() {
    let app = spawn().await;
    let before = snapshot(&app).await;
    for action in ["edit", "delete"] {
        let r = call(&app, action, &[("id", "999"), ("descricao", "x")]).await;
        assert_eq!(r.status, 200, "{action}");
        assert_eq!(
            r.body, r#"{"status":0,"msg":"Manutenção não localizada","id":999}"#,
            "{action}"
        );
    }
    let r = call(&app, "delete", &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body, r#"{"detail":"Parâmetro 'id' é obrigatório."}"#);
    let r = call(&app, "delete", &[("id", "um")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"detail":"Parâmetro 'id' inválido: informe um número inteiro."}"#
    );
    assert_eq!(snapshot(&app).await, before);
    app.stop().await;
}

#[tokio::test]
async fn delete_removes_the_maintenance_and_what_it_covers() {
    let app = spawn().await;
    let r = call(&app, "delete", &[("id", " 1 ")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, r#"{"status":1,"msg":"Manutenção removida","id":1}"#);
    assert_eq!(ids(&list(&app, &[]).await), vec![2, 3]);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM maintenance_pops WHERE maintenance_id = 1")
            .await,
        0
    );
    let r = call(&app, "delete", &[("id", "1")]).await;
    assert_eq!(
        r.body,
        r#"{"status":0,"msg":"Manutenção não localizada","id":1}"#
    );
    // 2001's POP is no longer under maintenance.
    let (status, _, _) = access(&app, "2001").await;
    assert_ne!(status, 9);
    app.stop().await;
}

#[tokio::test]
async fn a_maintenance_added_here_drives_verificaacesso_until_resolved() {
    let app = spawn().await;
    // 6001 (POP 1, NAS 1, element 1) has no open session: "Serviço Offline".
    assert_eq!(access(&app, "6001").await.0, 2);
    let now = Utc::now();
    let v = ok(
        &app,
        "add",
        &[
            ("descricao", "Poste caído na Rua Desligada"),
            ("mensagem_ura", "Estamos trocando um poste na sua rua"),
            ("data_inicial", &local(&app, now - TimeDelta::minutes(5))),
            ("data_final", &local(&app, now + TimeDelta::hours(2))),
            ("pops", "1"),
        ],
    )
    .await;
    let id = v["id"].as_i64().unwrap().to_string();
    let r = app
        .call(
            "verificaacesso",
            &[("contrato", "6001"), ("uracontato", "84999990001")],
        )
        .await;
    assert_eq!(r.json["status"], 9, "{}", r.body);
    assert_eq!(r.json["msg"], "Estamos trocando um poste na sua rua");
    assert!(
        r.json["tempo"] == "2h" || r.json["tempo"] == "1h59m",
        "{}",
        r.body
    );
    assert_protocol_today(&app, &r.json["protocolo"]);
    assert!(ids(&list(&app, &[("ativas", "1")]).await).contains(&v["id"].as_i64().unwrap()));

    // Resolved: no longer in force.
    let r = ok(&app, "edit", &[("id", &id), ("status", "4")]).await;
    assert_eq!(r["status"], 4);
    assert!(
        column(&app, r["id"].as_i64().unwrap(), "resolved_at")
            .await
            .is_some()
    );
    let (status, msg, tempo) = access(&app, "6001").await;
    assert_eq!(
        (status, msg.as_str(), tempo),
        (2, "Serviço Offline", Value::Null)
    );
    assert!(!ids(&list(&app, &[("ativas", "1")]).await).contains(&v["id"].as_i64().unwrap()));

    // Reopened: in force again, now without an expected end.
    ok(
        &app,
        "edit",
        &[("id", &id), ("status", "2"), ("data_final", "null")],
    )
    .await;
    let (status, _, tempo) = access(&app, "6001").await;
    assert_eq!((status, tempo), (9, json!("indefinido")));
    ok(&app, "delete", &[("id", &id)]).await;
    assert_eq!(access(&app, "6001").await.0, 2);
    app.stop().await;
}

#[tokio::test]
async fn nas_and_element_coverage_and_future_start() {
    let app = spawn().await;
    let now = Utc::now();
    let start = local(&app, now - TimeDelta::minutes(1));
    let end = local(&app, now + TimeDelta::minutes(45));
    // NAS 1 serves 6001: status 8 with the default message.
    let v = ok(
        &app,
        "add",
        &[
            ("descricao", "Reinício do nas-centro"),
            ("data_inicial", &start),
            ("data_final", &end),
            ("nas", "1"),
        ],
    )
    .await;
    let (status, msg, tempo) = access(&app, "6001").await;
    assert_eq!((status, msg.as_str()), (8, "Manutenção NAS"));
    assert!(tempo == "45m" || tempo == "44m", "{tempo}");
    ok(
        &app,
        "edit",
        &[("id", &v["id"].to_string()), ("status", "4")],
    )
    .await;
    assert_eq!(access(&app, "6001").await.0, 2);

    // Element 1 (OLT Centro 01): status 9, the region's default message.
    ok(
        &app,
        "add",
        &[
            ("descricao", "OLT"),
            ("data_inicial", &start),
            ("elementos", "1"),
        ],
    )
    .await;
    let (status, msg, tempo) = access(&app, "6001").await;
    assert_eq!(
        (status, msg.as_str(), tempo),
        (9, "Manutenção na região", json!("indefinido"))
    );

    // Not started yet: not in force, not listed as in force.
    let later = ok(
        &app,
        "add",
        &[
            ("descricao", "Amanhã"),
            ("data_inicial", &local(&app, now + TimeDelta::hours(20))),
            ("pops", "2"),
        ],
    )
    .await;
    let active = ids(&list(&app, &[("ativas", "1")]).await);
    assert!(
        !active.contains(&later["id"].as_i64().unwrap()),
        "{active:?}"
    );
    let r = app.call("verificaacesso", &[("contrato", "2001")]).await;
    assert_eq!(r.json["tempo"], "1h30m", "only the demo's one: {}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn every_path_and_base_path() {
    let app = spawn_with(|s| s.base_path = "/provedorx".into()).await;
    for family in ["ws", "api"] {
        for slash in ["", "/"] {
            let url = |action: &str| app.url(&format!("/{family}/ura/manutencao/{action}{slash}"));
            let creds = [("app", APP), ("token", app.token.as_str())];
            let r = app.post_form(&url("list"), &creds).await;
            assert_eq!(r.status, 200, "{family}{slash}: {}", r.body);
            let mut form = creds.to_vec();
            form.push(("descricao", "Rota"));
            let added = app.post_form(&url("add"), &form).await;
            assert_eq!(added.status, 200, "{}", added.body);
            let id = added.json["id"].to_string();
            let mut form = creds.to_vec();
            form.extend([("id", id.as_str()), ("status", "3")]);
            let edited = app.post_form(&url("edit"), &form).await;
            assert_eq!(edited.json["status"], 3, "{}", edited.body);
            let mut form = creds.to_vec();
            form.push(("id", id.as_str()));
            let deleted = app.post_form(&url("delete"), &form).await;
            assert_eq!(deleted.json["status"], 1, "{}", deleted.body);
        }
    }
    for path in [
        "/ws/ura/manutencao/",
        "/ws/ura/manutencao",
        "/api/ura/manutencao/remove/",
        "/ws/ura/manutencao/list/extra/",
    ] {
        let r = app
            .post_form(&app.url(path), &[("app", APP), ("token", &app.token)])
            .await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.body, NOT_FOUND, "{path}");
    }
    let root = app.base.trim_end_matches("/provedorx").to_string();
    let r = app
        .post_form(
            &format!("{root}/ws/ura/manutencao/list/"),
            &[("app", APP), ("token", &app.token)],
        )
        .await;
    assert_eq!(r.status, 404, "only under the base path");
    let r = app
        .send(
            app.client
                .delete(app.url("/ws/ura/manutencao/delete/"))
                .header("Authorization", format!("Token {}", app.token))
                .header("App", APP),
        )
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.body, r#"{"detail":"Método \"DELETE\" não é permitido."}"#);
    app.stop().await;
}

#[tokio::test]
async fn credentials_and_permissions() {
    let app = spawn().await;
    let before = snapshot(&app).await;
    for action in ["list", "add", "edit", "delete"] {
        let url = app.fn_url(&format!("manutencao/{action}"));
        let r = app
            .post_form(&url, &[("id", "1"), ("descricao", "x")])
            .await;
        assert_eq!(r.status, 403, "{action}");
        assert_eq!(
            r.body,
            r#"{"detail":"As credenciais de autenticação não foram fornecidas."}"#
        );
        let r = app
            .post_form(&url, &[("app", APP), ("token", "errado"), ("id", "x")])
            .await;
        assert_eq!(r.status, 403, "{action}: credentials before parameters");
        assert_eq!(
            r.body,
            r#"{"detail":"Credenciais de autenticação incorretas."}"#
        );
    }
    app.exec(&format!(
        "UPDATE apps SET allowed_functions = 'verificaacesso,clientes,catalogos' WHERE name = '{APP}'"
    ))
    .await;
    for action in ["list", "add", "edit", "delete"] {
        let r = call(&app, action, &[("id", "1"), ("descricao", "x")]).await;
        assert_eq!(r.status, 403, "{action}");
        assert_eq!(
            r.body,
            r#"{"detail":"Você não tem permissão para executar essa ação."}"#
        );
    }
    assert_eq!(snapshot(&app).await, before, "nothing changed");
    app.exec(&format!(
        "UPDATE apps SET allowed_functions = 'verificaacesso,manutencao' WHERE name = '{APP}'"
    ))
    .await;
    assert_eq!(ids(&list(&app, &[]).await), vec![1, 2, 3]);
    app.stop().await;
}

#[tokio::test]
async fn concurrent_edits_of_different_fields_both_stick() {
    let app = spawn().await;
    for round in 0..8 {
        let message = format!("Mensagem {round}");
        let severity = (round % 5).to_string();
        let first = [("id", "1"), ("mensagem_ura", message.as_str())];
        let second = [("id", "1"), ("severidade", severity.as_str())];
        let (a, b) = tokio::join!(call(&app, "edit", &first), call(&app, "edit", &second),);
        assert_eq!((a.status, b.status), (200, 200), "{} {}", a.body, b.body);
        let now = ok(&app, "edit", &[("id", "1")]).await;
        assert_eq!(now["mensagem_ura"], json!(message), "round {round}");
        assert_eq!(now["severidade"], json!(round % 5), "round {round}");
    }
    app.stop().await;
}
