use crate::common::*;

use chrono::{TimeDelta, Utc};
use serde_json::json;

/// A timestamp as the server stores it (fixed-width UTC).
fn ts_in(offset: TimeDelta) -> String {
    (Utc::now() + offset)
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

fn sql_opt(v: Option<&str>) -> String {
    match v {
        Some(s) => format!("'{}'", s.replace('\'', "''")),
        None => "NULL".into(),
    }
}

/// Adds a maintenance and returns its id.
async fn add_maintenance(
    app: &TestApp,
    message: Option<&str>,
    starts: TimeDelta,
    ends: Option<TimeDelta>,
    resolved: Option<TimeDelta>,
) -> i64 {
    let end = ends.map(ts_in);
    let res = resolved.map(ts_in);
    app.exec(&format!(
        "INSERT INTO maintenances (description, ivr_message, severity, status, starts_at, \
         expected_end, resolved_at, created_at) VALUES ('teste', {}, 4, 1, '{}', {}, {}, '{}')",
        sql_opt(message),
        ts_in(starts),
        sql_opt(end.as_deref()),
        sql_opt(res.as_deref()),
        ts_in(TimeDelta::zero()),
    ))
    .await;
    app.scalar_i64("SELECT MAX(id) FROM maintenances").await
}

async fn cover_pop(app: &TestApp, m: i64, pop: i64) {
    app.exec(&format!(
        "INSERT INTO maintenance_pops (maintenance_id, pop_id) VALUES ({m}, {pop})"
    ))
    .await;
}

async fn tickets(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT COUNT(*) FROM tickets").await
}

async fn check(app: &TestApp, contrato: &str) -> Resp {
    let r = app.call("verificaacesso", &[("contrato", contrato)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.content_type, "application/json");
    r
}

#[tokio::test]
async fn online_service_exact_answer() {
    let app = spawn().await;
    let r = app
        .call(
            "verificaacesso",
            &[("contrato", "1001"), ("uracontato", "84991380000")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json,
        json!({
            "status": 1,
            "razaoSocial": "MARIA DE TESTE SILVA",
            "cpfCnpj": "529.NNN.247-NN",
            "msg": "Serviço Online",
            "contratoId": 1001,
            "uracontato": "84991380000",
            "login": "maria.silva",
            "servico_id": 101,
        }),
        "{}",
        r.body
    );
    assert_eq!(tickets(&app).await, 0, "no ticket without a maintenance");
    app.stop().await;
}

#[tokio::test]
async fn no_open_session_is_offline() {
    let app = spawn().await;
    let r = check(&app, "6001").await;
    assert_eq!(
        r.json,
        json!({
            "status": 2,
            "razaoSocial": "ANA OFFLINE COSTA",
            "cpfCnpj": "390.NNN.447-NN",
            "msg": "Serviço Offline",
            "contratoId": 6001,
            "login": "ana.costa",
            "servico_id": 601,
        }),
        "{}",
        r.body
    );
    app.stop().await;
}

#[tokio::test]
async fn session_closed_in_radacct_makes_it_offline() {
    let app = spawn().await;
    app.exec(
        "UPDATE radacct SET acctstoptime = '2026-01-01 00:00:00' WHERE username = 'maria.silva'",
    )
    .await;
    let r = check(&app, "1001").await;
    assert_eq!(r.json["status"], json!(2), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Serviço Offline"));
    app.stop().await;
}

#[tokio::test]
async fn suspended_contract_is_status_3() {
    let app = spawn().await;
    let r = check(&app, "1002").await;
    assert_eq!(r.json["status"], json!(3), "{}", r.body);
    assert_eq!(
        r.json["msg"],
        json!("Serviço suspenso por pendência financeira")
    );
    assert_eq!(r.json["contratoId"], json!(1002));
    assert_eq!(r.json["login"], json!("maria.silva2"));
    assert_eq!(r.json["servico_id"], json!(102));
    assert!(r.json.get("tempo").is_none(), "{}", r.body);
    assert!(r.json.get("protocolo").is_none(), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn suspended_even_with_an_open_session_is_status_3() {
    let app = spawn().await;
    app.exec("UPDATE contracts SET status = 4 WHERE id = 1001")
        .await;
    let r = check(&app, "1001").await;
    assert_eq!(r.json["status"], json!(3), "{}", r.body);
    assert_eq!(
        r.json["msg"],
        json!("Serviço suspenso por pendência financeira")
    );
    app.stop().await;
}

#[tokio::test]
async fn cancelled_contract_is_status_3() {
    let app = spawn().await;
    let r = check(&app, "4001").await;
    assert_eq!(r.json["status"], json!(3), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Contrato cancelado"));
    assert_eq!(r.json["razaoSocial"], json!("EMPRESA ANTIGA LTDA"));
    app.stop().await;
}

#[tokio::test]
async fn inactive_statuses_are_status_3() {
    let app = spawn().await;
    for status in [2, 5, 6] {
        app.exec(&format!(
            "UPDATE contracts SET status = {status} WHERE id = 1001"
        ))
        .await;
        let r = check(&app, "1001").await;
        assert_eq!(r.json["status"], json!(3), "status {status}: {}", r.body);
        assert_eq!(r.json["msg"], json!("Contrato inativo"), "status {status}");
    }
    app.stop().await;
}

#[tokio::test]
async fn reduced_speed_with_a_session_is_online() {
    let app = spawn().await;
    app.exec("UPDATE contracts SET status = 7 WHERE id = 1001")
        .await;
    let r = check(&app, "1001").await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Serviço Online"));
    app.stop().await;
}

#[tokio::test]
async fn contract_without_internet_service() {
    let app = spawn().await;
    app.exec("DELETE FROM internet_services WHERE contract_id = 6001")
        .await;
    let r = check(&app, "6001").await;
    assert_eq!(r.json["status"], json!(3), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Contrato sem serviço de internet"));
    assert_eq!(r.json["contratoId"], json!(6001));
    assert_eq!(r.json["razaoSocial"], json!("ANA OFFLINE COSTA"));
    app.stop().await;
}

#[tokio::test]
async fn pop_maintenance_is_status_9_with_tempo_and_protocol() {
    let app = spawn().await;
    let before = tickets(&app).await;
    let r = app
        .call(
            "verificaacesso",
            &[("contrato", "2001"), ("uracontato", "8432110000")],
        )
        .await;
    assert_eq!(r.status, 200);
    let protocol = assert_protocol_today(&app, &r.json["protocolo"]);
    assert_eq!(
        r.json,
        json!({
            "status": 9,
            "razaoSocial": "PROVEDOR EXEMPLO LTDA",
            "cpfCnpj": "12.NNN.345/01DE-NN",
            "msg": "Manutenção na região",
            "contratoId": 2001,
            "uracontato": "8432110000",
            "tempo": "1h30m",
            "login": "provedor.exemplo",
            "servico_id": 201,
            "protocolo": protocol,
        }),
        "{}",
        r.body
    );
    assert_eq!(tickets(&app).await, before + 1);
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM tickets WHERE protocol = '{protocol}' AND contract_id = 2001"
        ))
        .await,
        1
    );
    assert_eq!(
        app.scalar_str(&format!(
            "SELECT caller FROM tickets WHERE protocol = '{protocol}'"
        ))
        .await
        .as_deref(),
        Some("8432110000"),
        "uracontato is stored with the ticket"
    );
    // each call is a contact: a second one gets its own protocol
    let again = check(&app, "2001").await;
    let second = assert_protocol_today(&app, &again.json["protocolo"]);
    assert_ne!(second, protocol);
    assert!(second > protocol);
    app.stop().await;
}

#[tokio::test]
async fn nas_maintenance_is_status_8() {
    let app = spawn().await;
    let r = check(&app, "5001").await;
    let protocol = assert_protocol_today(&app, &r.json["protocolo"]);
    assert_eq!(
        r.json,
        json!({
            "status": 8,
            "razaoSocial": "JOSE SEM CONTATO",
            "cpfCnpj": "111.NNN.777-NN",
            "msg": "Manutenção NAS",
            "contratoId": 5001,
            "tempo": "45m",
            "login": "jose.loja",
            "servico_id": 501,
            "protocolo": protocol,
        }),
        "{}",
        r.body
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM tickets WHERE protocol = '{protocol}' AND contract_id = 5001"
        ))
        .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn maintenance_custom_ivr_message() {
    let app = spawn().await;
    let m = add_maintenance(
        &app,
        Some("Estamos trocando um cabo no seu bairro"),
        TimeDelta::minutes(-5),
        Some(TimeDelta::hours(2)),
        None,
    )
    .await;
    cover_pop(&app, m, 1).await;
    let r = check(&app, "1001").await;
    assert_eq!(r.json["status"], json!(9), "{}", r.body);
    assert_eq!(
        r.json["msg"],
        json!("Estamos trocando um cabo no seu bairro")
    );
    assert_eq!(r.json["tempo"], json!("2h"));
    assert_protocol_today(&app, &r.json["protocolo"]);
    app.stop().await;
}

#[tokio::test]
async fn maintenance_default_region_message_and_day_tempo() {
    let app = spawn().await;
    let m = add_maintenance(
        &app,
        None,
        TimeDelta::minutes(-5),
        Some(TimeDelta::hours(28)),
        None,
    )
    .await;
    cover_pop(&app, m, 1).await;
    let r = check(&app, "1001").await;
    assert_eq!(r.json["status"], json!(9), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Manutenção na região"));
    assert_eq!(r.json["tempo"], json!("1d4h"));
    app.stop().await;
}

#[tokio::test]
async fn maintenance_without_expected_end_is_indefinido() {
    let app = spawn().await;
    let m = add_maintenance(&app, None, TimeDelta::minutes(-5), None, None).await;
    cover_pop(&app, m, 1).await;
    let r = check(&app, "1001").await;
    assert_eq!(r.json["status"], json!(9), "{}", r.body);
    assert_eq!(r.json["tempo"], json!("indefinido"));
    assert_protocol_today(&app, &r.json["protocolo"]);
    app.stop().await;
}

#[tokio::test]
async fn maintenance_past_its_end_but_unresolved_is_0m() {
    let app = spawn().await;
    let m = add_maintenance(
        &app,
        None,
        TimeDelta::hours(-3),
        Some(TimeDelta::hours(-1)),
        None,
    )
    .await;
    cover_pop(&app, m, 1).await;
    let r = check(&app, "1001").await;
    assert_eq!(r.json["status"], json!(9), "{}", r.body);
    assert_eq!(r.json["tempo"], json!("0m"));
    app.stop().await;
}

#[tokio::test]
async fn resolved_maintenance_is_ignored() {
    let app = spawn().await;
    let m = add_maintenance(
        &app,
        Some("Manutenção resolvida"),
        TimeDelta::hours(-3),
        Some(TimeDelta::hours(1)),
        Some(TimeDelta::minutes(-10)),
    )
    .await;
    cover_pop(&app, m, 1).await;
    let r = check(&app, "1001").await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Serviço Online"));
    assert_eq!(tickets(&app).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn maintenance_not_started_yet_is_ignored() {
    let app = spawn().await;
    let m = add_maintenance(
        &app,
        Some("Manutenção programada"),
        TimeDelta::hours(2),
        Some(TimeDelta::hours(4)),
        None,
    )
    .await;
    cover_pop(&app, m, 1).await;
    let r = check(&app, "1001").await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert!(r.json.get("tempo").is_none(), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn maintenance_of_another_pop_is_ignored() {
    let app = spawn().await;
    // the demo's POP 2 maintenance does not touch 1001 (POP 1)
    let r = check(&app, "1001").await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn maintenance_of_the_network_element_is_status_9() {
    let app = spawn().await;
    let m = add_maintenance(
        &app,
        None,
        TimeDelta::minutes(-1),
        Some(TimeDelta::minutes(45)),
        None,
    )
    .await;
    app.exec(&format!(
        "INSERT INTO maintenance_elements (maintenance_id, element_id) VALUES ({m}, 1)"
    ))
    .await;
    let r = check(&app, "1001").await;
    assert_eq!(r.json["status"], json!(9), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Manutenção na região"));
    assert_eq!(r.json["tempo"], json!("45m"));
    assert_eq!(r.json["servico_id"], json!(101));
    assert_protocol_today(&app, &r.json["protocolo"]);
    app.stop().await;
}

#[tokio::test]
async fn nas_unreachable_is_status_8() {
    let app = spawn().await;
    app.exec("UPDATE nas SET reachable = 0 WHERE id = 1").await;
    let r = check(&app, "1001").await;
    assert_eq!(
        r.json,
        json!({
            "status": 8,
            "razaoSocial": "MARIA DE TESTE SILVA",
            "cpfCnpj": "529.NNN.247-NN",
            "msg": "Concentrador (NAS) offline",
            "contratoId": 1001,
            "login": "maria.silva",
            "servico_id": 101,
        }),
        "{}",
        r.body
    );
    assert_eq!(tickets(&app).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn maintenance_comes_before_an_unreachable_nas() {
    let app = spawn().await;
    // 2001's service is on NAS 1 and its POP 2 is in maintenance
    app.exec("UPDATE nas SET reachable = 0 WHERE id = 1").await;
    let r = check(&app, "2001").await;
    assert_eq!(r.json["status"], json!(9), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Manutenção na região"));
    app.stop().await;
}

#[tokio::test]
async fn unreachable_nas_comes_before_the_contract_status() {
    let app = spawn().await;
    app.exec("UPDATE nas SET reachable = 0 WHERE id = 1").await;
    let r = check(&app, "1002").await;
    assert_eq!(r.json["status"], json!(8), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Concentrador (NAS) offline"));
    app.stop().await;
}

#[tokio::test]
async fn maintenance_comes_before_the_contract_status() {
    let app = spawn().await;
    app.exec("UPDATE contracts SET status = 4 WHERE id = 2001")
        .await;
    let r = check(&app, "2001").await;
    assert_eq!(r.json["status"], json!(9), "{}", r.body);
    assert_eq!(r.json["tempo"], json!("1h30m"));
    app.stop().await;
}

#[tokio::test]
async fn answered_for_the_first_service_that_is_not_online() {
    let app = spawn().await;
    // a second service of 1001 with no session
    app.exec(
        "INSERT INTO internet_services (id, contract_id, login, password, plan_id, nas_id, \
         element_id, enabled) VALUES (150, 1001, 'maria.escritorio', 'x', 1, 1, 1, 1)",
    )
    .await;
    let r = check(&app, "1001").await;
    assert_eq!(r.json["status"], json!(2), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Serviço Offline"));
    assert_eq!(r.json["login"], json!("maria.escritorio"));
    assert_eq!(r.json["servico_id"], json!(150));
    app.stop().await;
}

#[tokio::test]
async fn answered_for_the_first_service_when_all_are_online() {
    let app = spawn().await;
    app.exec(
        "INSERT INTO internet_services (id, contract_id, login, password, plan_id, nas_id, \
         element_id, enabled) VALUES (150, 1001, 'maria.escritorio', 'x', 1, 1, 1, 1); \
         INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, \
         acctstarttime) VALUES ('S150', 'teste-150', 'maria.escritorio', '127.0.0.1', \
         '2026-01-01 00:00:00')",
    )
    .await;
    let r = check(&app, "1001").await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["login"], json!("maria.silva"));
    assert_eq!(r.json["servico_id"], json!(101));
    app.stop().await;
}

#[tokio::test]
async fn lower_id_offline_service_is_answered_first() {
    let app = spawn().await;
    app.exec(
        "INSERT INTO internet_services (id, contract_id, login, password, plan_id, nas_id, \
         element_id, enabled) VALUES (100, 1001, 'maria.antigo', 'x', 1, 1, 1, 1)",
    )
    .await;
    let r = check(&app, "1001").await;
    assert_eq!(r.json["status"], json!(2), "{}", r.body);
    assert_eq!(r.json["servico_id"], json!(100));
    assert_eq!(r.json["login"], json!("maria.antigo"));
    app.stop().await;
}

#[tokio::test]
async fn not_found_follows_the_common_rule() {
    let app = spawn().await;
    let r = check(&app, "9999").await;
    assert_eq!(
        r.json,
        json!({"status":0,"msg":"Contrato não localizado","contratoId":9999}),
        "{}",
        r.body
    );
    let r = app
        .call(
            "verificaacesso",
            &[
                ("contrato", "2001"),
                ("cpfcnpj", "52998224725"),
                ("uracontato", "8491380000"),
            ],
        )
        .await;
    assert_eq!(
        r.json,
        json!({"status":0,"msg":"Contrato não localizado","contratoId":2001,"uracontato":"8491380000"}),
        "{}",
        r.body
    );
    assert_eq!(tickets(&app).await, 0, "nothing recorded for a not-found");
    // the owner's CNPJ (with letters) matches
    let r = app
        .call(
            "verificaacesso",
            &[("contrato", "2001"), ("cpfcnpj", "12.ABC.345/01DE-35")],
        )
        .await;
    assert_eq!(r.json["status"], json!(9), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn contrato_is_required() {
    let app = spawn().await;
    let r = app.call("verificaacesso", &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"detail":"Parâmetro 'contrato' é obrigatório."}"#
    );
    app.stop().await;
}
