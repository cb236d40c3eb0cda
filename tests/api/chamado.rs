use serde_json::Value;

use crate::common::*;

/// The body is exactly `expected` as JSON (field order free, no extra field) and as compact
/// as `expected` is (same length: no added whitespace).
fn assert_json_body(r: &Resp, expected: &str) {
    let want: Value = serde_json::from_str(expected).expect("expected JSON");
    assert_eq!(r.json, want, "body: {}", r.body);
    assert_eq!(r.body.len(), expected.len(), "body: {}", r.body);
}

fn today_prefix(app: &TestApp) -> String {
    today(&app.settings).format("%Y%m%d").to_string()
}

fn assert_protocol(app: &TestApp, protocolo: &str) {
    assert_eq!(protocolo.len(), 14, "{protocolo}");
    assert!(protocolo.bytes().all(|b| b.is_ascii_digit()), "{protocolo}");
    assert!(
        protocolo.starts_with(&today_prefix(app)),
        "{protocolo} does not start with {}",
        today_prefix(app)
    );
}

fn protocolo(r: &Resp) -> String {
    r.json["protocolo"]
        .as_str()
        .unwrap_or_else(|| panic!("no protocolo: {}", r.body))
        .to_string()
}

async fn counts(app: &TestApp) -> (i64, i64, i64) {
    (
        app.scalar_i64("SELECT COUNT(*) FROM tickets").await,
        app.scalar_i64("SELECT COUNT(*) FROM work_orders").await,
        app.scalar_i64("SELECT COUNT(*) FROM protocols").await,
    )
}

fn refused(msg: &str) -> String {
    format!(
        r#"{{"status":0,"razaoSocial":"MARIA DE TESTE SILVA","cpfCnpj":"529.NNN.247-NN","msg":"{msg}","contratoId":1001}}"#
    )
}

#[tokio::test]
async fn defaults_open_a_ticket_and_a_work_order() {
    let app = spawn().await;
    let before = counts(&app).await;
    let r = app.call("chamado", &[("contrato", "1001")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.content_type, "application/json");
    let p = protocolo(&r);
    assert_protocol(&app, &p);
    let expected = format!(
        r#"{{"status":1,"razaoSocial":"MARIA DE TESTE SILVA","cpfCnpj":"529.NNN.247-NN","msg":"","contratoId":1001,"protocolo":"{p}"}}"#
    );
    assert_json_body(&r, &expected);

    assert_eq!(
        counts(&app).await,
        (before.0 + 1, before.1 + 1, before.2 + 1)
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM tickets WHERE protocol = '{p}' AND contract_id = 1001 \
             AND type_id = 5 AND content = 'Chamado aberto via URA'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM work_orders w JOIN tickets t ON t.id = w.ticket_id \
             WHERE t.protocol = '{p}' AND w.reason_id = 40"
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
async fn uracontato_is_echoed_and_stored() {
    let app = spawn().await;
    let r = app
        .call(
            "chamado",
            &[("contrato", "1002"), ("uracontato", "(84) 99138-0000")],
        )
        .await;
    assert_eq!(r.status, 200);
    let p = protocolo(&r);
    assert_protocol(&app, &p);
    let expected = format!(
        r#"{{"status":1,"razaoSocial":"MARIA DE TESTE SILVA","cpfCnpj":"529.NNN.247-NN","msg":"","contratoId":1002,"uracontato":"(84) 99138-0000","protocolo":"{p}"}}"#
    );
    assert_json_body(&r, &expected);
    assert_eq!(
        app.scalar_str(&format!(
            "SELECT caller FROM tickets WHERE protocol = '{p}'"
        ))
        .await
        .as_deref(),
        Some("(84) 99138-0000")
    );
    app.stop().await;
}

#[tokio::test]
async fn company_contract_has_masked_cnpj() {
    let app = spawn().await;
    let r = app.call("chamado", &[("contrato", "2001")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], 1);
    assert_eq!(r.json["razaoSocial"], "PROVEDOR EXEMPLO LTDA");
    assert_eq!(r.json["cpfCnpj"], "12.NNN.345/01DE-NN");
    assert_eq!(r.json["contratoId"], 2001);
    app.stop().await;
}

#[tokio::test]
async fn conteudo_type_reason_and_sector_are_stored() {
    let app = spawn().await;
    let r = app
        .call(
            "chamado",
            &[
                ("contrato", "1001"),
                ("ocorrenciatipo", "1"),
                ("motivoos", "30"),
                ("setor", "1"),
                (
                    "conteudo",
                    "Cliente sem acesso desde às 8h; ONU com LOS vermelho.",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], 1, "{}", r.body);
    assert_eq!(r.json["msg"], "");
    let p = protocolo(&r);
    assert_eq!(
        app.scalar_str(&format!(
            "SELECT content FROM tickets WHERE protocol = '{p}'"
        ))
        .await
        .as_deref(),
        Some("Cliente sem acesso desde às 8h; ONU com LOS vermelho.")
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM tickets t JOIN work_orders w ON w.ticket_id = t.id \
             WHERE t.protocol = '{p}' AND t.type_id = 1 AND t.sector_id = 1 \
             AND w.reason_id = 30 AND t.contract_id = 1001"
        ))
        .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn every_catalog_entry_is_accepted() {
    let app = spawn().await;
    for t in [1, 2, 3, 4, 5, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30] {
        let ts = t.to_string();
        let r = app
            .call("chamado", &[("contrato", "1001"), ("ocorrenciatipo", &ts)])
            .await;
        assert_eq!(r.json["status"], 1, "type {t}: {}", r.body);
    }
    for m in [10, 20, 30, 40, 50, 60] {
        let ms = m.to_string();
        let r = app
            .call("chamado", &[("contrato", "1001"), ("motivoos", &ms)])
            .await;
        assert_eq!(r.json["status"], 1, "reason {m}: {}", r.body);
    }
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM tickets").await, 22);
    app.stop().await;
}

#[tokio::test]
async fn sector_by_id_and_by_name_in_any_case() {
    let app = spawn().await;
    for (given, id) in [
        ("2", 2),
        ("fInAnCeIrO", 2),
        ("Financeiro", 2),
        ("FINANCEIRO", 2),
        ("suporte", 1),
        ("3", 3),
        ("COMERCIAL", 3),
    ] {
        let r = app
            .call("chamado", &[("contrato", "1001"), ("setor", given)])
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json["status"], 1, "{given}: {}", r.body);
        let p = protocolo(&r);
        assert_eq!(
            app.scalar_i64(&format!(
                "SELECT sector_id FROM tickets WHERE protocol = '{p}'"
            ))
            .await,
            id,
            "{given}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn unknown_ticket_type_is_status_0() {
    let app = spawn().await;
    let before = counts(&app).await;
    for t in ["99", "0", "-5", "6"] {
        let r = app
            .call("chamado", &[("contrato", "1001"), ("ocorrenciatipo", t)])
            .await;
        assert_eq!(r.status, 200, "{t}");
        assert_json_body(&r, &refused("Tipo de ocorrência inválido"));
    }
    assert_eq!(counts(&app).await, before);
    app.stop().await;
}

#[tokio::test]
async fn malformed_ticket_type_is_status_0_not_400() {
    let app = spawn().await;
    let before = counts(&app).await;
    for t in ["abc", "5.0", "5a", "1e1"] {
        let r = app
            .call("chamado", &[("contrato", "1001"), ("ocorrenciatipo", t)])
            .await;
        assert_eq!(r.status, 200, "{t}: {}", r.body);
        assert_json_body(&r, &refused("Tipo de ocorrência inválido"));
    }
    assert_eq!(counts(&app).await, before);
    app.stop().await;
}

#[tokio::test]
async fn inactive_ticket_type_is_status_0() {
    let app = spawn().await;
    app.exec("UPDATE ticket_types SET active = 0 WHERE id = 5")
        .await;
    let before = counts(&app).await;
    // Explicitly and as the default.
    let r = app
        .call("chamado", &[("contrato", "1001"), ("ocorrenciatipo", "5")])
        .await;
    assert_eq!(r.status, 200);
    assert_json_body(&r, &refused("Tipo de ocorrência inválido"));
    let r = app.call("chamado", &[("contrato", "1001")]).await;
    assert_json_body(&r, &refused("Tipo de ocorrência inválido"));
    assert_eq!(counts(&app).await, before);
    // Another type still works.
    let r = app
        .call("chamado", &[("contrato", "1001"), ("ocorrenciatipo", "1")])
        .await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn unknown_or_malformed_reason_is_status_0() {
    let app = spawn().await;
    let before = counts(&app).await;
    for m in ["99", "41", "abc", "40.5"] {
        let r = app
            .call("chamado", &[("contrato", "1001"), ("motivoos", m)])
            .await;
        assert_eq!(r.status, 200, "{m}: {}", r.body);
        assert_json_body(&r, &refused("Motivo de Ordem de Serviço inválido"));
    }
    app.exec("UPDATE work_order_reasons SET active = 0 WHERE id = 40")
        .await;
    let r = app.call("chamado", &[("contrato", "1001")]).await;
    assert_json_body(&r, &refused("Motivo de Ordem de Serviço inválido"));
    assert_eq!(counts(&app).await, before);
    app.stop().await;
}

#[tokio::test]
async fn unknown_sector_is_status_0() {
    let app = spawn().await;
    let before = counts(&app).await;
    for s in ["9", "0", "Vendas", "Financ", "Financeiro X"] {
        let r = app
            .call("chamado", &[("contrato", "1001"), ("setor", s)])
            .await;
        assert_eq!(r.status, 200, "{s}: {}", r.body);
        assert_json_body(&r, &refused("Setor inválido"));
    }
    assert_eq!(counts(&app).await, before);
    app.stop().await;
}

#[tokio::test]
async fn status_0_echoes_uracontato() {
    let app = spawn().await;
    let r = app
        .call(
            "chamado",
            &[
                ("contrato", "1001"),
                ("ocorrenciatipo", "99"),
                ("uracontato", "84991380000"),
            ],
        )
        .await;
    assert_json_body(
        &r,
        r#"{"status":0,"razaoSocial":"MARIA DE TESTE SILVA","cpfCnpj":"529.NNN.247-NN","msg":"Tipo de ocorrência inválido","contratoId":1001,"uracontato":"84991380000"}"#,
    );
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM tickets").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn contract_not_found_is_the_common_rule() {
    let app = spawn().await;
    let before = counts(&app).await;
    let r = app.call("chamado", &[("contrato", "999")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/json");
    assert_eq!(
        r.body,
        r#"{"status":0,"msg":"Contrato não localizado","contratoId":999}"#
    );
    let r = app
        .call(
            "chamado",
            &[("contrato", "999"), ("uracontato", "84991380000")],
        )
        .await;
    assert_json_body(
        &r,
        r#"{"status":0,"msg":"Contrato não localizado","contratoId":999,"uracontato":"84991380000"}"#,
    );
    // Not found wins over an invalid catalog reference.
    let r = app
        .call("chamado", &[("contrato", "999"), ("ocorrenciatipo", "abc")])
        .await;
    assert_eq!(
        r.body,
        r#"{"status":0,"msg":"Contrato não localizado","contratoId":999}"#
    );
    assert_eq!(counts(&app).await, before);
    app.stop().await;
}

#[tokio::test]
async fn cpfcnpj_not_matching_is_the_common_rule() {
    let app = spawn().await;
    let before = counts(&app).await;
    for doc in [
        "12.ABC.345/01DE-35",
        "529.982.247-26",
        "123.456.789-09",
        "x",
    ] {
        let r = app
            .call("chamado", &[("contrato", "1001"), ("cpfcnpj", doc)])
            .await;
        assert_eq!(r.status, 200, "{doc}");
        assert_eq!(
            r.body, r#"{"status":0,"msg":"Contrato não localizado","contratoId":1001}"#,
            "{doc}"
        );
    }
    assert_eq!(counts(&app).await, before);
    // Matching in any spelling: opened.
    let r = app
        .call(
            "chamado",
            &[("contrato", "1001"), ("cpfcnpj", "CPF 529 982 247 25")],
        )
        .await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    let r = app
        .call(
            "chamado",
            &[("contrato", "2001"), ("cpfcnpj", "12abc34501de35")],
        )
        .await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn each_call_gets_a_new_protocol() {
    let app = spawn().await;
    let a = protocolo(&app.call("chamado", &[("contrato", "1001")]).await);
    let b = protocolo(&app.call("chamado", &[("contrato", "1001")]).await);
    let c = protocolo(&app.call("chamado", &[("contrato", "2001")]).await);
    for p in [&a, &b, &c] {
        assert_protocol(&app, p);
    }
    assert_ne!(a, b);
    assert_ne!(b, c);
    assert_ne!(a, c);
    // Sequence numbers grow within the day.
    assert!(a < b && b < c, "{a} {b} {c}");
    app.stop().await;
}

#[tokio::test]
async fn protocol_of_the_same_contract_today_is_reused() {
    let app = spawn().await;
    let first = app.call("chamado", &[("contrato", "1001")]).await;
    let p = protocolo(&first);
    let protocols = app.scalar_i64("SELECT COUNT(*) FROM protocols").await;
    let r = app
        .call(
            "chamado",
            &[
                ("contrato", "1001"),
                ("protocolo", &p),
                ("conteudo", "segundo chamado"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], 1, "{}", r.body);
    assert_eq!(protocolo(&r), p);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM protocols").await,
        protocols
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM tickets WHERE protocol = '{p}' AND contract_id = 1001"
        ))
        .await,
        2
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM tickets WHERE protocol = '{p}' AND content = 'segundo chamado'"
        ))
        .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn protocol_from_another_function_of_the_same_contract_is_reused() {
    let app = spawn().await;
    let n = app
        .call("notificacaosistema", &[("contrato", "1002")])
        .await;
    assert_eq!(n.json["status"], 1, "{}", n.body);
    let p = protocolo(&n);
    let protocols = app.scalar_i64("SELECT COUNT(*) FROM protocols").await;
    let r = app
        .call("chamado", &[("contrato", "1002"), ("protocolo", &p)])
        .await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    assert_eq!(protocolo(&r), p);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM protocols").await,
        protocols
    );
    app.stop().await;
}

#[tokio::test]
async fn protocol_of_another_contract_is_not_reused() {
    let app = spawn().await;
    let p = protocolo(&app.call("chamado", &[("contrato", "2001")]).await);
    let protocols = app.scalar_i64("SELECT COUNT(*) FROM protocols").await;
    let r = app
        .call("chamado", &[("contrato", "1001"), ("protocolo", &p)])
        .await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    let q = protocolo(&r);
    assert_ne!(q, p);
    assert_protocol(&app, &q);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM protocols").await,
        protocols + 1
    );
    // Not even one of another contract of the same customer.
    let p1002 = protocolo(&app.call("chamado", &[("contrato", "1002")]).await);
    let r = app
        .call("chamado", &[("contrato", "1001"), ("protocolo", &p1002)])
        .await;
    assert_ne!(protocolo(&r), p1002);
    // The ticket of contract 1001 is not filed under the other contract's protocol.
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM tickets WHERE protocol = '{p}' AND contract_id = 1001"
        ))
        .await,
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn unknown_or_malformed_protocol_gets_a_new_one() {
    let app = spawn().await;
    let prefix = today_prefix(&app);
    for given in [
        format!("{prefix}999999"),
        "abc".to_string(),
        "123".to_string(),
    ] {
        let r = app
            .call("chamado", &[("contrato", "1001"), ("protocolo", &given)])
            .await;
        assert_eq!(r.status, 200, "{given}: {}", r.body);
        assert_eq!(r.json["status"], 1, "{given}: {}", r.body);
        let p = protocolo(&r);
        assert_ne!(p, given);
        assert_protocol(&app, &p);
    }
    app.stop().await;
}

#[tokio::test]
async fn protocol_of_another_day_is_not_reused() {
    let app = spawn().await;
    let yesterday = today(&app.settings).pred_opt().expect("yesterday");
    let old = format!("{}000001", yesterday.format("%Y%m%d"));
    app.exec(&format!(
        "INSERT INTO protocols (protocol, contract_id, customer_id, day, origin, created_at) \
         VALUES ('{old}', 1001, 1, '{}', 'chamado', '2000-01-01T00:00:00Z')",
        yesterday.format("%Y%m%d")
    ))
    .await;
    let r = app
        .call("chamado", &[("contrato", "1001"), ("protocolo", &old)])
        .await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    let p = protocolo(&r);
    assert_ne!(p, old);
    assert_protocol(&app, &p);
    app.stop().await;
}

#[tokio::test]
async fn protocol_of_todays_promise_of_the_contract_is_reused() {
    let app = spawn().await;
    // The demo recorded 3001's (revoked) promise today, with a protocol.
    let p = app
        .scalar_str("SELECT protocol FROM promises WHERE contract_id = 3001")
        .await
        .expect("demo promise protocol");
    assert_protocol(&app, &p);
    let protocols = app.scalar_i64("SELECT COUNT(*) FROM protocols").await;
    let r = app
        .call("chamado", &[("contrato", "3001"), ("protocolo", &p)])
        .await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    assert_eq!(protocolo(&r), p);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM protocols").await,
        protocols
    );
    // The customer's other contract does not get it.
    let r = app
        .call("chamado", &[("contrato", "5001"), ("protocolo", &p)])
        .await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    assert_ne!(protocolo(&r), p);
    app.stop().await;
}
