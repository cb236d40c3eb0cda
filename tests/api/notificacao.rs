use serde_json::Value;

use crate::common::*;

const FN: &str = "notificacaosistema";
const CREATED: &str = "Notificação criada no sistema";

/// The body is exactly `expected` as JSON (field order free, no extra field) and as compact
/// as `expected` is (same length: no added whitespace).
fn assert_json_body(r: &Resp, expected: &str) {
    let want: Value = serde_json::from_str(expected).expect("expected JSON");
    assert_eq!(r.json, want, "body: {}", r.body);
    assert_eq!(r.body.len(), expected.len(), "body: {}", r.body);
}

fn protocolo(r: &Resp) -> String {
    r.json["protocolo"]
        .as_str()
        .unwrap_or_else(|| panic!("no protocolo: {}", r.body))
        .to_string()
}

fn assert_protocol(app: &TestApp, protocolo: &str) {
    let prefix = today(&app.settings).format("%Y%m%d").to_string();
    assert_eq!(protocolo.len(), 14, "{protocolo}");
    assert!(protocolo.bytes().all(|b| b.is_ascii_digit()), "{protocolo}");
    assert!(protocolo.starts_with(&prefix), "{protocolo} vs {prefix}");
}

async fn notifications(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT COUNT(*) FROM notifications").await
}

#[tokio::test]
async fn by_contrato_creates_the_notification() {
    let app = spawn().await;
    let r = app
        .call(
            FN,
            &[
                ("contrato", "1001"),
                ("uracontato", "84991380000"),
                ("uraagente", "fila-suporte"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.content_type, "application/json");
    let p = protocolo(&r);
    assert_protocol(&app, &p);
    let expected = format!(
        r#"{{"status":1,"razaoSocial":"MARIA DE TESTE SILVA","cpfCnpj":"529.NNN.247-NN","msg":"{CREATED}","contratoId":1001,"uracontato":"84991380000","protocolo":"{p}","uraagent":"fila-suporte"}}"#
    );
    assert_json_body(&r, &expected);
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM notifications WHERE protocol = '{p}' AND contract_id = 1001 \
             AND customer_id = 1 AND caller = '84991380000' AND agent = 'fila-suporte'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM protocols WHERE protocol = '{p}' AND contract_id = 1001"
        ))
        .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn agent_is_echoed_as_uraagent_in_either_spelling() {
    let app = spawn().await;
    for name in ["uraagente", "uraagent"] {
        let r = app
            .call(FN, &[("contrato", "1002"), (name, "ramal 2001")])
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json["status"], 1, "{}", r.body);
        assert_eq!(r.json["uraagent"], "ramal 2001", "{name}: {}", r.body);
        assert!(r.json.get("uraagente").is_none(), "{}", r.body);
        let p = protocolo(&r);
        assert_eq!(
            app.scalar_str(&format!(
                "SELECT agent FROM notifications WHERE protocol = '{p}'"
            ))
            .await
            .as_deref(),
            Some("ramal 2001"),
            "{name}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn without_agent_there_is_no_uraagent_field() {
    let app = spawn().await;
    let r = app.call(FN, &[("contrato", "1001")]).await;
    assert_eq!(r.status, 200);
    let p = protocolo(&r);
    assert_protocol(&app, &p);
    let expected = format!(
        r#"{{"status":1,"razaoSocial":"MARIA DE TESTE SILVA","cpfCnpj":"529.NNN.247-NN","msg":"{CREATED}","contratoId":1001,"protocolo":"{p}"}}"#
    );
    assert_json_body(&r, &expected);
    assert!(r.json.get("uraagent").is_none());
    assert!(r.json.get("uracontato").is_none());
    // Stored for every agent: no agent recorded.
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM notifications WHERE protocol = '{p}' AND agent IS NULL \
             AND caller IS NULL"
        ))
        .await,
        1
    );
    // An empty agent is absent too.
    let r = app
        .call(FN, &[("contrato", "1001"), ("uraagente", "")])
        .await;
    assert_eq!(r.json["status"], 1);
    assert!(r.json.get("uraagent").is_none(), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn uracontato_is_echoed_unchanged() {
    let app = spawn().await;
    let r = app
        .call(
            FN,
            &[("contrato", "2001"), ("uracontato", "+55 (84) 3211-0000")],
        )
        .await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    assert_eq!(r.json["uracontato"], "+55 (84) 3211-0000");
    assert_eq!(r.json["razaoSocial"], "PROVEDOR EXEMPLO LTDA");
    assert_eq!(r.json["cpfCnpj"], "12.NNN.345/01DE-NN");
    assert_eq!(r.json["contratoId"], 2001);
    assert!(r.json.get("uraagent").is_none());
    app.stop().await;
}

#[tokio::test]
async fn by_cpfcnpj_only_uses_the_lowest_contract() {
    let app = spawn().await;
    for (doc, contrato, name, masked) in [
        (
            "529.982.247-25",
            1001,
            "MARIA DE TESTE SILVA",
            "529.NNN.247-NN",
        ),
        (
            "52998224725",
            1001,
            "MARIA DE TESTE SILVA",
            "529.NNN.247-NN",
        ),
        (
            "CPF 111 444 777 35",
            3001,
            "JOSE SEM CONTATO",
            "111.NNN.777-NN",
        ),
        (
            "12abc34501de35",
            2001,
            "PROVEDOR EXEMPLO LTDA",
            "12.NNN.345/01DE-NN",
        ),
        (
            "11.222.333/0001-81",
            4001,
            "EMPRESA ANTIGA LTDA",
            "11.NNN.333/0001-NN",
        ),
    ] {
        let before = notifications(&app).await;
        let r = app.call(FN, &[("cpfcnpj", doc)]).await;
        assert_eq!(r.status, 200, "{doc}: {}", r.body);
        let p = protocolo(&r);
        assert_protocol(&app, &p);
        let expected = format!(
            r#"{{"status":1,"razaoSocial":"{name}","cpfCnpj":"{masked}","msg":"{CREATED}","contratoId":{contrato},"protocolo":"{p}"}}"#
        );
        assert_json_body(&r, &expected);
        assert_eq!(notifications(&app).await, before + 1, "{doc}");
        assert_eq!(
            app.scalar_i64(&format!(
                "SELECT contract_id FROM notifications WHERE protocol = '{p}'"
            ))
            .await,
            contrato
        );
        let customer = app
            .scalar_i64(&format!(
                "SELECT customer_id FROM contracts WHERE id = {contrato}"
            ))
            .await;
        assert_eq!(
            app.scalar_i64(&format!(
                "SELECT customer_id FROM notifications WHERE protocol = '{p}'"
            ))
            .await,
            customer
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn lowest_contract_even_when_created_later() {
    let app = spawn().await;
    app.exec(
        "INSERT INTO contracts (id, customer_id, status, status_mode, pop_id, due_day, created_at) \
         VALUES (900, 1, 1, 1, 1, 10, '2026-01-01T00:00:00Z')",
    )
    .await;
    let r = app.call(FN, &[("cpfcnpj", "52998224725")]).await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    assert_eq!(r.json["contratoId"], 900);
    app.stop().await;
}

#[tokio::test]
async fn unknown_document_is_cliente_nao_localizado() {
    let app = spawn().await;
    let before = notifications(&app).await;
    let protocols = app.scalar_i64("SELECT COUNT(*) FROM protocols").await;
    for doc in [
        "123.456.789-09",
        "11.444.777/0001-61",
        "529.982.247-26",
        "12.ABC.345/01DE-53",
        "abc",
        "123",
    ] {
        let r = app.call(FN, &[("cpfcnpj", doc)]).await;
        assert_eq!(r.status, 200, "{doc}: {}", r.body);
        assert_eq!(r.content_type, "application/json");
        assert_eq!(
            r.body, r#"{"status":0,"msg":"Cliente não localizado"}"#,
            "{doc}"
        );
    }
    let r = app
        .call(
            FN,
            &[
                ("cpfcnpj", "123.456.789-09"),
                ("uracontato", "84991380000"),
                ("uraagente", "fila-1"),
            ],
        )
        .await;
    assert_json_body(
        &r,
        r#"{"status":0,"msg":"Cliente não localizado","uracontato":"84991380000","uraagent":"fila-1"}"#,
    );
    let r = app
        .call(FN, &[("cpfcnpj", "123.456.789-09"), ("uraagent", "fila-2")])
        .await;
    assert_json_body(
        &r,
        r#"{"status":0,"msg":"Cliente não localizado","uraagent":"fila-2"}"#,
    );
    assert_eq!(notifications(&app).await, before);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM protocols").await,
        protocols
    );
    app.stop().await;
}

#[tokio::test]
async fn neither_contract_nor_document_is_400() {
    let app = spawn().await;
    let expected = r#"{"detail":"Informe contrato ou cpfcnpj."}"#;
    for params in [
        vec![],
        vec![("uracontato", "84991380000"), ("uraagente", "fila")],
        vec![("contrato", ""), ("cpfcnpj", "")],
    ] {
        let r = app.call(FN, &params).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert_eq!(r.content_type, "application/json");
        assert_eq!(r.body, expected);
    }
    assert_eq!(notifications(&app).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn bad_integer_contrato_is_400() {
    let app = spawn().await;
    let r = app
        .call(FN, &[("contrato", "abc"), ("cpfcnpj", "52998224725")])
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"detail":"Parâmetro 'contrato' inválido: informe um número inteiro."}"#
    );
    assert_eq!(notifications(&app).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn contract_not_found_is_the_common_rule() {
    let app = spawn().await;
    let r = app.call(FN, &[("contrato", "999")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        r#"{"status":0,"msg":"Contrato não localizado","contratoId":999}"#
    );
    let r = app
        .call(FN, &[("contrato", "999"), ("uracontato", "84991380000")])
        .await;
    assert_json_body(
        &r,
        r#"{"status":0,"msg":"Contrato não localizado","contratoId":999,"uracontato":"84991380000"}"#,
    );
    // With an agent: the common rule's fields are all there, nothing else but the agent.
    let r = app
        .call(FN, &[("contrato", "999"), ("uraagente", "fila")])
        .await;
    assert_eq!(r.json["status"], 0);
    assert_eq!(r.json["msg"], "Contrato não localizado");
    assert_eq!(r.json["contratoId"], 999);
    assert!(r.json.get("protocolo").is_none(), "{}", r.body);
    assert!(r.json.get("razaoSocial").is_none(), "{}", r.body);
    assert_eq!(notifications(&app).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn contract_wins_over_document_and_must_match_it() {
    let app = spawn().await;
    // Both given and matching: the contract given, not the lowest one.
    let r = app
        .call(FN, &[("contrato", "1002"), ("cpfcnpj", "529.982.247-25")])
        .await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    assert_eq!(r.json["contratoId"], 1002);
    // Both given and not matching: the common rule.
    let r = app
        .call(FN, &[("contrato", "2001"), ("cpfcnpj", "529.982.247-25")])
        .await;
    assert_eq!(
        r.body,
        r#"{"status":0,"msg":"Contrato não localizado","contratoId":2001}"#
    );
    assert_eq!(notifications(&app).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn each_notification_gets_its_own_protocol_unless_one_is_given() {
    let app = spawn().await;
    let a = protocolo(&app.call(FN, &[("contrato", "1001")]).await);
    let b = protocolo(&app.call(FN, &[("contrato", "1001")]).await);
    assert_ne!(a, b);
    // The IVR's protocol of this call, from a ticket opened earlier today, is reused.
    let c = app.call("chamado", &[("contrato", "1001")]).await;
    let pc = protocolo(&c);
    let protocols = app.scalar_i64("SELECT COUNT(*) FROM protocols").await;
    let r = app
        .call(FN, &[("contrato", "1001"), ("protocolo", &pc)])
        .await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    assert_eq!(protocolo(&r), pc);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM protocols").await,
        protocols
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM notifications WHERE protocol = '{pc}'"
        ))
        .await,
        1
    );
    // One of another contract is not.
    let r = app
        .call(FN, &[("contrato", "2001"), ("protocolo", &pc)])
        .await;
    assert_ne!(protocolo(&r), pc);
    app.stop().await;
}

#[tokio::test]
async fn suspended_and_cancelled_contracts_are_notified_too() {
    let app = spawn().await;
    for (contrato, name) in [(4001, "EMPRESA ANTIGA LTDA"), (3001, "JOSE SEM CONTATO")] {
        let r = app.call(FN, &[("contrato", &contrato.to_string())]).await;
        assert_eq!(r.json["status"], 1, "{}", r.body);
        assert_eq!(r.json["msg"], CREATED);
        assert_eq!(r.json["contratoId"], contrato);
        assert_eq!(r.json["razaoSocial"], name);
    }
    assert_eq!(notifications(&app).await, 2);
    app.stop().await;
}
