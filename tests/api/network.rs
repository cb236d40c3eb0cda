//! Acting on the network (RFC 5176) against a NAS simulator on loopback: disconnect after an
//! unlock, the access check asking the NAS (CONTRACT.md §2.4 step 6), NAS health.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;
use ura::network::nas_sim::{Behavior, NasSim};

use crate::common::*;

const SECRET: &str = "segredo-do-nas";

/// A simulator standing in for the demo's NAS 1 (127.0.0.1, where Maria's sessions are).
async fn nas_for(app: &TestApp, behavior: Behavior, method: &str) -> NasSim {
    let sim = NasSim::start(
        "127.0.0.1:0".parse::<SocketAddr>().unwrap(),
        SECRET.as_bytes().to_vec(),
        behavior,
    )
    .expect("simulator");
    app.exec(&format!(
        "UPDATE nas SET coa_port = {}, secret = '{SECRET}', check_method = '{method}' WHERE id = 1",
        sim.addr().port()
    ))
    .await;
    sim
}

/// Opens an accounting session for a login on NAS 1.
async fn open_session(app: &TestApp, login: &str, session_id: &str) {
    let sql = if app.is_postgres() {
        format!(
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, \
             acctstarttime, framedipaddress) VALUES ('{session_id}', 'u-{session_id}', \
             '{login}', '127.0.0.1', now(), '100.64.9.9')"
        )
    } else {
        format!(
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, \
             acctstarttime, framedipaddress) VALUES ('{session_id}', 'u-{session_id}', \
             '{login}', '127.0.0.1', '2026-01-01 00:00:00', '100.64.9.9')"
        )
    };
    app.exec(&sql).await;
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn unlock_disconnects_the_open_sessions_and_records_the_outcome() {
    let app = spawn().await;
    let sim = nas_for(&app, Behavior::Normal, "none").await;
    open_session(&app, "maria.silva2", "SESS-1002").await;
    sim.hold("maria.silva2", "SESS-1002");
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    wait_for("the disconnect to be recorded", || async {
        app.scalar_i64(
            "SELECT COUNT(*) FROM promises WHERE contract_id = 1002 \
             AND disconnect_result IS NOT NULL",
        )
        .await
            > 0
    })
    .await;
    let got = sim.received();
    let disconnects: Vec<_> = got.iter().filter(|p| p.code == 40).collect();
    assert_eq!(disconnects.len(), 1, "{got:?}");
    assert_eq!(disconnects[0].user_name.as_deref(), Some("maria.silva2"));
    assert_eq!(disconnects[0].acct_session_id.as_deref(), Some("SESS-1002"));
    assert!(disconnects[0].message_authenticator_ok && disconnects[0].authenticator_ok);
    assert!(!sim.holds("maria.silva2"));
    let result = app
        .scalar_str("SELECT disconnect_result FROM promises WHERE contract_id = 1002")
        .await
        .unwrap();
    assert!(
        result.contains("maria.silva2") && result.contains("ACK"),
        "{result}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_silent_nas_changes_nothing_in_the_unlock_answer() {
    let app = spawn().await;
    let sim = nas_for(&app, Behavior::Silent, "none").await;
    open_session(&app, "maria.silva2", "SESS-SILENT").await;
    let started = Instant::now();
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    println!(
        "liberacaopromessa with a silent NAS answered in {:?}",
        started.elapsed()
    );
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["liberado"], json!(true));
    wait_for("the timeout to be recorded", || async {
        app.scalar_i64(
            "SELECT COUNT(*) FROM promises WHERE contract_id = 1002 \
             AND disconnect_result IS NOT NULL",
        )
        .await
            > 0
    })
    .await;
    let result = app
        .scalar_str("SELECT disconnect_result FROM promises WHERE contract_id = 1002")
        .await
        .unwrap();
    assert!(result.contains("não respondeu"), "{result}");
    // First try plus two retransmissions, same identifier.
    let tries = sim.received();
    assert_eq!(tries.len(), 3, "{tries:?}");
    assert!(tries.iter().all(|p| p.identifier == tries[0].identifier));
    app.stop().await;
}

#[tokio::test]
async fn access_check_asks_the_nas_and_closes_a_stale_session() {
    let app = spawn().await;
    let sim = nas_for(&app, Behavior::Normal, "coa").await;
    // The NAS holds Maria's demo session: online.
    let session_id: String = app
        .scalar_str("SELECT acctsessionid FROM radacct WHERE username = 'maria.silva' AND acctstoptime IS NULL")
        .await
        .unwrap();
    sim.hold("maria.silva", &session_id);
    let r = app.call("verificaacesso", &[("contrato", "1001")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Serviço Online"));
    assert!(
        sim.received().iter().any(|p| p.code == 43),
        "a CoA-Request asked the NAS"
    );

    // The NAS lost it (say, it rebooted): stale.
    sim.release("maria.silva");
    let r = app.call("verificaacesso", &[("contrato", "1001")]).await;
    assert_eq!(r.json["status"], json!(2), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Serviço Offline"));
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM radacct WHERE username = 'maria.silva' AND acctstoptime IS NULL"
        )
        .await,
        0,
        "the stale session is closed"
    );
    assert_eq!(
        app.scalar_str("SELECT acctterminatecause FROM radacct WHERE username = 'maria.silva'")
            .await
            .as_deref(),
        Some("Stale-Session")
    );
    wait_for("a Disconnect-Request for the stale session", || async {
        sim.received().iter().any(|p| p.code == 40)
    })
    .await;
    // The next check knows at once, without asking.
    let r = app.call("verificaacesso", &[("contrato", "1001")]).await;
    assert_eq!(r.json["status"], json!(2), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn a_nas_that_cannot_answer_in_time_counts_as_holding_the_session() {
    let app = spawn_with(|s| {
        s.acesso.tempo_max = 1.0;
        s.nas.timeout = 0.4;
        s.nas.tentativas = 5;
    })
    .await;
    for behavior in [
        Behavior::Silent,
        Behavior::Garbage,
        Behavior::WrongAuthenticator,
    ] {
        let _sim = nas_for(&app, behavior, "coa").await;
        let started = Instant::now();
        let r = app.call("verificaacesso", &[("contrato", "1001")]).await;
        let took = started.elapsed();
        println!("verificaacesso with a {behavior:?} NAS answered in {took:?}");
        assert_eq!(r.status, 200);
        assert_eq!(r.json["status"], json!(1), "{behavior:?}: {}", r.body);
        // Sanity bound only (the budget is 1 s; the NAS alone would take 2.4 s).
        assert!(took < Duration::from_secs(2), "{behavior:?} took {took:?}");
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM radacct WHERE username = 'maria.silva' AND acctstoptime IS NULL")
                .await,
            1,
            "nothing closed on a non-answer"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn nas_health_is_probed_and_read_by_the_access_check() {
    let app = spawn_with(|s| s.nas.verificar_saude = 0.2).await;
    let sim = nas_for(&app, Behavior::Normal, "coa").await;
    wait_for("a probe", || async {
        sim.received()
            .iter()
            .any(|p| p.user_name.as_deref() == Some("ura-sonda-de-saude"))
    })
    .await;
    assert_eq!(
        app.scalar_i64("SELECT reachable FROM nas WHERE id = 1")
            .await,
        1
    );

    sim.set_behavior(Behavior::Silent);
    wait_for("the NAS to be marked unreachable", || async {
        app.scalar_i64("SELECT reachable FROM nas WHERE id = 1")
            .await
            == 0
    })
    .await;
    let r = app.call("verificaacesso", &[("contrato", "1001")]).await;
    assert_eq!(r.json["status"], json!(8), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Concentrador (NAS) offline"));

    sim.set_behavior(Behavior::Normal);
    wait_for("the NAS to be marked reachable again", || async {
        app.scalar_i64("SELECT reachable FROM nas WHERE id = 1")
            .await
            == 1
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn status_server_probe() {
    let app = spawn_with(|s| s.nas.verificar_saude = 0.2).await;
    let sim = nas_for(&app, Behavior::Normal, "status-server").await;
    wait_for("a Status-Server", || async {
        sim.received().iter().any(|p| p.code == 12)
    })
    .await;
    assert_eq!(
        app.scalar_i64("SELECT reachable FROM nas WHERE id = 1")
            .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn expiry_disconnects_the_sessions_opened_during_the_unlock() {
    let app = spawn_with(|s| s.promessa.verificar_expiracao = 0.2).await;
    let sim = nas_for(&app, Behavior::Normal, "none").await;
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    wait_for("the unlock's disconnect result", || async {
        app.scalar_i64(
            "SELECT COUNT(*) FROM promises WHERE contract_id = 1002 \
             AND disconnect_result IS NOT NULL",
        )
        .await
            > 0
    })
    .await;
    // The equipment reconnected with the plan's profile.
    open_session(&app, "maria.silva2", "SESS-AFTER").await;
    sim.hold("maria.silva2", "SESS-AFTER");
    app.exec(
        "UPDATE promises SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE state = 'active'",
    )
    .await;
    wait_for("the session to be cut", || async {
        !sim.holds("maria.silva2")
    })
    .await;
    let r = app.call("consultacliente", &[("contrato", "1002")]).await;
    assert_eq!(r.json["contratos"][0]["contratoStatus"], json!(4));
    app.stop().await;
}
