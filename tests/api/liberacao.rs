use crate::common::*;

use chrono::{Days, NaiveDate};
use serde_json::json;

const MSG_1002: &str =
    "Liberação via URA -\nServiço ID: 102, Login: maria.silva2\nMotivo: Promessa de Pagamento\n";
const MSG_ALREADY_USED: &str =
    "O recurso de promessa de pagamento já foi utilizado no mês. Recurso não disponível";
const MSG_NOT_SUSPENDED: &str = "Contrato não está suspenso. Nenhuma operação realizada.";
const MSG_NOT_ELIGIBLE: &str = "Liberação não permitida para este contrato. Procure o atendimento.";
const MSG_BAD_DATE: &str = "Data de promessa inválida";

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

async fn promises_of(app: &TestApp, contract: i64) -> i64 {
    app.scalar_i64(&format!(
        "SELECT COUNT(*) FROM promises WHERE contract_id = {contract}"
    ))
    .await
}

/// 1002 exactly as seeded: suspended, services blocked, no promise, no ticket.
async fn assert_1002_untouched(app: &TestApp) {
    assert_eq!(
        app.scalar_i64("SELECT status FROM contracts WHERE id = 1002")
            .await,
        4,
        "contract status changed"
    );
    assert_eq!(promises_of(app, 1002).await, 0, "a promise was recorded");
    assert_eq!(
        app.scalar_i64("SELECT enabled FROM internet_services WHERE id = 102")
            .await,
        0,
        "service was re-enabled"
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM tickets WHERE contract_id = 1002")
            .await,
        0,
        "a ticket was recorded"
    );
}

/// A refusal of steps 2–5: the listed fields and no success fields.
fn assert_refusal(r: &Resp, status: i64, msg: &str, contract: i64, caller: Option<&str>) {
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(status), "{}", r.body);
    assert_eq!(r.json["liberado"], json!(false), "{}", r.body);
    assert_eq!(r.json["msg"], json!(msg), "{}", r.body);
    assert_eq!(r.json["contratoId"], json!(contract), "{}", r.body);
    assert!(r.json["razaoSocial"].is_string(), "{}", r.body);
    assert!(r.json["cpfCnpj"].is_string(), "{}", r.body);
    let mut expected = vec![
        "status",
        "liberado",
        "razaoSocial",
        "cpfCnpj",
        "msg",
        "contratoId",
    ];
    if let Some(c) = caller {
        assert_eq!(r.json["uracontato"], json!(c), "{}", r.body);
        expected.push("uracontato");
    }
    assert_eq!(keys(&r.json), sorted(&expected), "{}", r.body);
}

#[tokio::test]
async fn unlocks_suspended_contract_with_exact_answer() {
    let app = spawn().await;
    let today = today(&app.settings);
    let r = app
        .call(
            "liberacaopromessa",
            &[("contrato", "1002"), ("uracontato", "8491380000")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.content_type, "application/json");
    let protocol = assert_protocol_today(&app, &r.json["protocolo"]);
    let expected = json!({
        "status": 1,
        "liberado": true,
        "liberado_dias": 3,
        "data_promessa": ymd(today + Days::new(3)),
        "razaoSocial": "MARIA DE TESTE SILVA",
        "cpfCnpj": "529.NNN.247-NN",
        "msg": MSG_1002,
        "contratoId": 1002,
        "uracontato": "8491380000",
        "protocolo": protocol,
    });
    assert_eq!(r.json, expected, "{}", r.body);

    // The contract is back in service, and consultacliente says so.
    let c = app.call("consultacliente", &[("contrato", "1002")]).await;
    assert_eq!(c.status, 200, "{}", c.body);
    let contrato = &c.json["contratos"][0];
    assert_eq!(contrato["contratoId"], json!(1002), "{}", c.body);
    assert_eq!(contrato["contratoStatus"], json!(1), "{}", c.body);
    assert_eq!(contrato["promessasPagamentoMes"], json!(1), "{}", c.body);

    assert_eq!(
        app.scalar_i64("SELECT enabled FROM internet_services WHERE id = 102")
            .await,
        1
    );
    assert_eq!(
        app.scalar_i64("SELECT status_mode FROM contracts WHERE id = 1002")
            .await,
        1
    );
    assert_eq!(promises_of(&app, 1002).await, 1);
    assert_eq!(
        app.scalar_i64("SELECT previous_status FROM promises WHERE contract_id = 1002")
            .await,
        4
    );
    assert_eq!(
        app.scalar_str("SELECT protocol FROM promises WHERE contract_id = 1002")
            .await
            .as_deref(),
        Some(protocol.as_str())
    );
    assert_eq!(
        app.scalar_str("SELECT caller FROM promises WHERE contract_id = 1002")
            .await
            .as_deref(),
        Some("8491380000"),
        "uracontato is stored with the promise"
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM tickets WHERE contract_id = 1002 AND protocol = '{protocol}'"
        ))
        .await,
        1,
        "a ticket of the unlock with the same protocol"
    );
    // The protocol is stored with what it records.
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM protocols WHERE protocol = '{protocol}' AND contract_id = 1002"
        ))
        .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn second_call_in_the_month_is_already_used() {
    let app = spawn().await;
    let first = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(first.json["status"], json!(1), "{}", first.body);
    let second = app
        .call(
            "liberacaopromessa",
            &[("contrato", "1002"), ("uracontato", "84999990000")],
        )
        .await;
    assert_refusal(&second, 2, MSG_ALREADY_USED, 1002, Some("84999990000"));
    assert_eq!(second.json["razaoSocial"], json!("MARIA DE TESTE SILVA"));
    assert_eq!(second.json["cpfCnpj"], json!("529.NNN.247-NN"));
    assert_eq!(promises_of(&app, 1002).await, 1);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM tickets WHERE contract_id = 1002")
            .await,
        1,
        "the refusal recorded no ticket"
    );
    app.stop().await;
}

#[tokio::test]
async fn revoked_promise_of_3001_still_counts() {
    let app = spawn().await;
    let r = app.call("liberacaopromessa", &[("contrato", "3001")]).await;
    assert_refusal(&r, 2, MSG_ALREADY_USED, 3001, None);
    assert_eq!(r.json["razaoSocial"], json!("JOSE SEM CONTATO"));
    assert_eq!(r.json["cpfCnpj"], json!("111.NNN.777-NN"));
    assert_eq!(
        app.scalar_i64("SELECT status FROM contracts WHERE id = 3001")
            .await,
        4
    );
    assert_eq!(promises_of(&app, 3001).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn active_contract_is_not_suspended() {
    let app = spawn().await;
    let r = app
        .call(
            "liberacaopromessa",
            &[("contrato", "1001"), ("uracontato", "84991380000")],
        )
        .await;
    assert_refusal(&r, 0, MSG_NOT_SUSPENDED, 1001, Some("84991380000"));
    assert_eq!(promises_of(&app, 1001).await, 0);
    assert_eq!(
        app.scalar_i64("SELECT status FROM contracts WHERE id = 1001")
            .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn cancelled_and_inactive_contracts_are_not_suspended() {
    let app = spawn().await;
    let r = app.call("liberacaopromessa", &[("contrato", "4001")]).await;
    assert_refusal(&r, 0, MSG_NOT_SUSPENDED, 4001, None);
    for status in [2, 5, 6] {
        app.exec(&format!(
            "UPDATE contracts SET status = {status} WHERE id = 1002"
        ))
        .await;
        let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
        assert_refusal(&r, 0, MSG_NOT_SUSPENDED, 1002, None);
        assert_eq!(
            app.scalar_i64("SELECT status FROM contracts WHERE id = 1002")
                .await,
            status
        );
    }
    assert_eq!(promises_of(&app, 1002).await, 0);
    assert_eq!(promises_of(&app, 4001).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn reduced_speed_status_7_counts_as_suspended() {
    let app = spawn().await;
    app.exec("UPDATE contracts SET status = 7 WHERE id = 1002")
        .await;
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["liberado"], json!(true), "{}", r.body);
    assert_eq!(
        app.scalar_i64("SELECT status FROM contracts WHERE id = 1002")
            .await,
        1
    );
    assert_eq!(
        app.scalar_i64("SELECT previous_status FROM promises WHERE contract_id = 1002")
            .await,
        7,
        "the status it had is remembered"
    );
    app.stop().await;
}

#[tokio::test]
async fn manual_suspension_is_refused_by_default() {
    let app = spawn().await;
    app.exec("UPDATE contracts SET status_mode = 2 WHERE id = 1002")
        .await;
    let r = app
        .call(
            "liberacaopromessa",
            &[("contrato", "1002"), ("uracontato", "8491380000")],
        )
        .await;
    assert_refusal(&r, 0, MSG_NOT_ELIGIBLE, 1002, Some("8491380000"));
    assert_1002_untouched(&app).await;
    assert_eq!(
        app.scalar_i64("SELECT status_mode FROM contracts WHERE id = 1002")
            .await,
        2
    );
    app.stop().await;
}

#[tokio::test]
async fn manual_suspension_allowed_when_configured() {
    let app = spawn_with(|s| s.promessa.suspensao_manual = true).await;
    app.exec("UPDATE contracts SET status_mode = 2 WHERE id = 1002")
        .await;
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(
        app.scalar_i64("SELECT previous_mode FROM promises WHERE contract_id = 1002")
            .await,
        2
    );
    assert_eq!(
        app.scalar_i64("SELECT status FROM contracts WHERE id = 1002")
            .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn max_valor_aberto_below_the_debt_refuses() {
    // 1002 owes 49.90 + 99.90 = 149.80
    let app = spawn_with(|s| s.promessa.max_valor_aberto = Some(100.0)).await;
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_refusal(&r, 0, MSG_NOT_ELIGIBLE, 1002, None);
    assert_1002_untouched(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn max_valor_aberto_above_the_debt_allows() {
    let app = spawn_with(|s| s.promessa.max_valor_aberto = Some(200.0)).await;
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(promises_of(&app, 1002).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn max_valor_aberto_equal_to_the_debt_allows() {
    // "the most open debt that still allows an unlock": 149.80 itself is allowed.
    let app = spawn_with(|s| s.promessa.max_valor_aberto = Some(149.8)).await;
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn max_dias_atraso_below_the_oldest_refuses() {
    // 1002's oldest open invoice is 40 days late.
    let app = spawn_with(|s| s.promessa.max_dias_atraso = Some(30)).await;
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_refusal(&r, 0, MSG_NOT_ELIGIBLE, 1002, None);
    assert_1002_untouched(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn max_dias_atraso_above_the_oldest_allows() {
    let app = spawn_with(|s| s.promessa.max_dias_atraso = Some(60)).await;
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn max_dias_atraso_boundary() {
    // 40 days late: a limit of 40 still allows, 39 does not.
    let app = spawn_with(|s| s.promessa.max_dias_atraso = Some(39)).await;
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_refusal(&r, 0, MSG_NOT_ELIGIBLE, 1002, None);
    app.stop().await;
    let app = spawn_with(|s| s.promessa.max_dias_atraso = Some(40)).await;
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn invalid_promised_dates_are_refused_and_change_nothing() {
    let app = spawn().await;
    let today = today(&app.settings);
    let yesterday = ymd(today - Days::new(1));
    let too_far = ymd(today + Days::new(4));
    for given in [
        yesterday.as_str(),
        too_far.as_str(),
        "31/12/2026",
        "abc",
        "2026-02-30",
    ] {
        let r = app
            .call(
                "liberacaopromessa",
                &[
                    ("contrato", "1002"),
                    ("data_promessa", given),
                    ("uracontato", "8491380000"),
                ],
            )
            .await;
        assert_refusal(&r, 0, MSG_BAD_DATE, 1002, Some("8491380000"));
        assert_eq!(r.json["razaoSocial"], json!("MARIA DE TESTE SILVA"));
        assert_eq!(r.json["cpfCnpj"], json!("529.NNN.247-NN"));
    }
    assert_1002_untouched(&app).await;
    // a refused date does not use up the month's promise
    let ok = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(ok.json["status"], json!(1), "{}", ok.body);
    app.stop().await;
}

#[tokio::test]
async fn promised_date_today_is_accepted_and_echoed() {
    let app = spawn().await;
    let today = ymd(today(&app.settings));
    let r = app
        .call(
            "liberacaopromessa",
            &[("contrato", "1002"), ("data_promessa", &today)],
        )
        .await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["data_promessa"], json!(today), "{}", r.body);
    assert_eq!(r.json["liberado_dias"], json!(3), "{}", r.body);
    assert_eq!(
        app.scalar_str("SELECT promised_date FROM promises WHERE contract_id = 1002")
            .await
            .as_deref(),
        Some(today.as_str())
    );
    app.stop().await;
}

#[tokio::test]
async fn promised_date_at_the_limit_is_accepted_and_echoed() {
    let app = spawn().await;
    let last = ymd(today(&app.settings) + Days::new(3));
    let r = app
        .call(
            "liberacaopromessa",
            &[("contrato", "1002"), ("data_promessa", &last)],
        )
        .await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["data_promessa"], json!(last), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn promessa_dias_setting_changes_days_and_window() {
    let app = spawn_with(|s| s.promessa.dias = 5).await;
    let today = today(&app.settings);
    let six = ymd(today + Days::new(6));
    let r = app
        .call(
            "liberacaopromessa",
            &[("contrato", "1002"), ("data_promessa", &six)],
        )
        .await;
    assert_refusal(&r, 0, MSG_BAD_DATE, 1002, None);
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["liberado_dias"], json!(5), "{}", r.body);
    assert_eq!(
        r.json["data_promessa"],
        json!(ymd(today + Days::new(5))),
        "{}",
        r.body
    );
    app.stop().await;
}

#[tokio::test]
async fn monthly_limit_of_two_allows_a_second_promise() {
    let app = spawn_with(|s| s.promessa.limite_mes = 2).await;
    let first = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(first.json["status"], json!(1), "{}", first.body);
    // suspended again (the billing rule would do this)
    app.exec("UPDATE contracts SET status = 4 WHERE id = 1002")
        .await;
    let second = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(second.json["status"], json!(1), "{}", second.body);
    assert_ne!(first.json["protocolo"], second.json["protocolo"]);
    assert_eq!(promises_of(&app, 1002).await, 2);
    app.exec("UPDATE contracts SET status = 4 WHERE id = 1002")
        .await;
    let third = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_refusal(&third, 2, MSG_ALREADY_USED, 1002, None);
    assert_eq!(promises_of(&app, 1002).await, 2);
    let c = app.call("consultacliente", &[("contrato", "1002")]).await;
    assert_eq!(c.json["contratos"][0]["promessasPagamentoMes"], json!(2));
    // 3001 has one (revoked) promise: with a limit of 2 it may unlock
    let jose = app.call("liberacaopromessa", &[("contrato", "3001")]).await;
    assert_eq!(jose.json["status"], json!(1), "{}", jose.body);
    app.stop().await;
}

#[tokio::test]
async fn not_found_follows_the_common_rule() {
    let app = spawn().await;
    let r = app.call("liberacaopromessa", &[("contrato", "9999")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json,
        json!({"status":0,"msg":"Contrato não localizado","contratoId":9999}),
        "{}",
        r.body
    );
    let r = app
        .call(
            "liberacaopromessa",
            &[("contrato", "9999"), ("uracontato", "84 99138-0000")],
        )
        .await;
    assert_eq!(
        r.json,
        json!({"status":0,"msg":"Contrato não localizado","contratoId":9999,"uracontato":"84 99138-0000"}),
        "{}",
        r.body
    );
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM promises").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn document_mismatch_is_not_found_and_changes_nothing() {
    let app = spawn().await;
    // JOSE's CPF does not own 1002
    let r = app
        .call(
            "liberacaopromessa",
            &[
                ("contrato", "1002"),
                ("cpfcnpj", "111.444.777-35"),
                ("uracontato", "8491380000"),
            ],
        )
        .await;
    assert_eq!(
        r.json,
        json!({"status":0,"msg":"Contrato não localizado","contratoId":1002,"uracontato":"8491380000"}),
        "{}",
        r.body
    );
    // a malformed document is not found either
    let r = app
        .call(
            "liberacaopromessa",
            &[("contrato", "1002"), ("cpfcnpj", "529.982.247-26")],
        )
        .await;
    assert_eq!(
        r.json,
        json!({"status":0,"msg":"Contrato não localizado","contratoId":1002}),
        "{}",
        r.body
    );
    assert_1002_untouched(&app).await;
    // the owner's document, in another spelling, matches
    let r = app
        .call(
            "liberacaopromessa",
            &[("contrato", "1002"), ("cpfcnpj", "CPF 52998224725")],
        )
        .await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn missing_or_malformed_contrato_is_400() {
    let app = spawn().await;
    let r = app.call("liberacaopromessa", &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"detail":"Parâmetro 'contrato' é obrigatório."}"#
    );
    let r = app.call("liberacaopromessa", &[("contrato", "10o2")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"detail":"Parâmetro 'contrato' inválido: informe um número inteiro."}"#
    );
    assert_1002_untouched(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn every_internet_service_is_listed_in_id_order() {
    let app = spawn().await;
    // Inserted after 102 but with a lower id: it must come first.
    app.exec(
        "INSERT INTO internet_services (id, contract_id, login, password, plan_id, nas_id, \
         element_id, enabled) VALUES (100, 1002, 'maria.casa', 'x', 1, 1, 1, 0)",
    )
    .await;
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(
        r.json["msg"],
        json!(
            "Liberação via URA -\nServiço ID: 100, Login: maria.casa\n\
             Serviço ID: 102, Login: maria.silva2\nMotivo: Promessa de Pagamento\n"
        ),
        "{}",
        r.body
    );
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM internet_services WHERE contract_id = 1002 AND enabled = 1"
        )
        .await,
        2,
        "every service is re-enabled"
    );
    app.stop().await;
}

#[tokio::test]
async fn body_is_compact_json_with_raw_utf8() {
    let app = spawn().await;
    let r = app.call("liberacaopromessa", &[("contrato", "1001")]).await;
    assert_eq!(r.content_type, "application/json");
    assert!(
        r.body.contains("\"msg\":\"Contrato não está suspenso."),
        "{}",
        r.body
    );
    assert!(!r.body.contains("\\u00"), "{}", r.body);
    assert!(!r.body.contains(": "), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn given_protocol_of_the_same_contract_is_reused() {
    let app = spawn().await;
    let chamado = app.call("chamado", &[("contrato", "1002")]).await;
    assert_eq!(chamado.json["status"], json!(1), "{}", chamado.body);
    let p = chamado.json["protocolo"].as_str().unwrap().to_string();
    let r = app
        .call(
            "liberacaopromessa",
            &[("contrato", "1002"), ("protocolo", &p)],
        )
        .await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["protocolo"], json!(p), "{}", r.body);
    assert_eq!(
        app.scalar_str("SELECT protocol FROM promises WHERE contract_id = 1002")
            .await
            .as_deref(),
        Some(p.as_str())
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM protocols WHERE protocol = '{p}'"
        ))
        .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn protocol_of_another_contract_is_not_reused() {
    let app = spawn().await;
    let chamado = app.call("chamado", &[("contrato", "1001")]).await;
    let other = chamado.json["protocolo"].as_str().unwrap().to_string();
    let r = app
        .call(
            "liberacaopromessa",
            &[("contrato", "1002"), ("protocolo", &other)],
        )
        .await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    let p = assert_protocol_today(&app, &r.json["protocolo"]);
    assert_ne!(p, other);
    app.stop().await;
}
