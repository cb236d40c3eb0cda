//! Expiry of payment promises (CONTRACT.md §2.2, last paragraph).

use std::sync::Arc;

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn expired_promise_with_unpaid_invoices_restores_the_previous_status() {
    // CONTRACT §2.2: "After the promise expires, a contract whose open invoices were not
    // paid returns to the status it had, and its services are blocked again." The contract
    // does not say when the server notices; any answer given after the expiry should show
    // it, so this polls for a bounded time.
    let app = spawn_with(|s| s.promessa.verificar_expiracao = 0.2).await;
    // 6001 has no open invoice: suspended by hand here, unlocked, it must stay unlocked.
    app.exec("UPDATE contracts SET status = 4 WHERE id = 6001")
        .await;
    for contract in ["1002", "6001"] {
        let r = app
            .call("liberacaopromessa", &[("contrato", contract)])
            .await;
        assert_eq!(r.json["status"], json!(1), "{}", r.body);
    }
    app.exec(
        "UPDATE promises SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE state = 'active'",
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let r = app.call("consultacliente", &[("contrato", "1002")]).await;
        if r.json["contratos"][0]["contratoStatus"] == json!(4) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "1002 is still {} after its promise expired",
            r.json["contratos"][0]["contratoStatus"]
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        app.scalar_i64("SELECT enabled FROM internet_services WHERE id = 102")
            .await,
        0,
        "services blocked again"
    );
    let r = app.call("verificaacesso", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(3), "{}", r.body);
    let r = app.call("consultacliente", &[("contrato", "6001")]).await;
    assert_eq!(
        r.json["contratos"][0]["contratoStatus"],
        json!(1),
        "{}",
        r.body
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn expiry_runs_once_even_with_several_processes() {
    // Background loops off: the runs below are the only ones.
    let app = spawn_with(|s| s.promessa.verificar_expiracao = 86_400.0).await;
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    app.exec(
        "UPDATE promises SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE state = 'active'",
    )
    .await;
    // Eight "processes" (independent server states on the same database) race.
    let mut runs = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let state = Arc::new(
            ura::app::AppState::new(app.store.clone(), app.settings.clone())
                .await
                .expect("state"),
        );
        runs.spawn(async move { state.jobs.expiry.run_once().await.expect("run") });
    }
    let mut reverted = Vec::new();
    while let Some(report) = runs.join_next().await {
        reverted.extend(report.expect("join").reverted);
    }
    assert_eq!(
        reverted,
        vec![1002],
        "exactly one run reverted the contract"
    );
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM promises WHERE contract_id = 1002 AND state = 'expired'"
        )
        .await,
        1
    );
    assert_eq!(
        app.scalar_str("SELECT groupname FROM radusergroup WHERE username = 'maria.silva2'")
            .await
            .as_deref(),
        Some("bloqueado"),
        "FreeRADIUS sees the block again"
    );
    // Nothing left to do: a new run changes nothing.
    let state = ura::app::AppState::new(app.store.clone(), app.settings.clone())
        .await
        .expect("state");
    let again = state.jobs.expiry.run_once().await.expect("run");
    assert!(again.reverted.is_empty() && again.fulfilled == 0);
    app.stop().await;
}

#[tokio::test]
async fn paid_promise_is_fulfilled_and_the_contract_stays_active() {
    let app = spawn_with(|s| s.promessa.verificar_expiracao = 86_400.0).await;
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    app.exec("UPDATE invoices SET status = 'paid' WHERE contract_id = 1002")
        .await;
    app.exec(
        "UPDATE promises SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE state = 'active'",
    )
    .await;
    let state = ura::app::AppState::new(app.store.clone(), app.settings.clone())
        .await
        .expect("state");
    let report = state.jobs.expiry.run_once().await.expect("run");
    assert_eq!(report.fulfilled, 1);
    assert!(report.reverted.is_empty());
    let r = app.call("consultacliente", &[("contrato", "1002")]).await;
    assert_eq!(r.json["contratos"][0]["contratoStatus"], json!(1));
    assert_eq!(
        app.scalar_str("SELECT state FROM promises WHERE contract_id = 1002")
            .await
            .as_deref(),
        Some("fulfilled")
    );
    assert_eq!(
        app.scalar_str("SELECT groupname FROM radusergroup WHERE username = 'maria.silva2'")
            .await
            .as_deref(),
        Some("plano-300m")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_contract_changed_by_the_operator_meanwhile_is_left_alone() {
    let app = spawn_with(|s| s.promessa.verificar_expiracao = 86_400.0).await;
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    // The operator cancelled it by hand in the meantime.
    app.exec("UPDATE contracts SET status = 3, status_mode = 2 WHERE id = 1002")
        .await;
    app.exec(
        "UPDATE promises SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE state = 'active'",
    )
    .await;
    let state = ura::app::AppState::new(app.store.clone(), app.settings.clone())
        .await
        .expect("state");
    let report = state.jobs.expiry.run_once().await.expect("run");
    assert!(report.reverted.is_empty());
    let r = app.call("consultacliente", &[("contrato", "1002")]).await;
    assert_eq!(r.json["contratos"][0]["contratoStatus"], json!(3));
    assert_eq!(
        app.scalar_str("SELECT state FROM promises WHERE contract_id = 1002")
            .await
            .as_deref(),
        Some("expired")
    );
    app.stop().await;
}
