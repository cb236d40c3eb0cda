//! A bank return file on the real network: the dunning job suspends a contract whose
//! invoice is overdue (FreeRADIUS answers the block group, the NAS gets a Disconnect); the
//! bank's return file that reports the boleto paid, sent to the admin API, gives the line
//! back within 5 s (the plan's group and reply, a second Disconnect).
//!
//! The NAS is `NasSim` in process, standing in for the demo's NAS 1 (127.0.0.1); the
//! sessions it holds are opened and closed through FreeRADIUS's accounting, as a NAS would.
//! The steps shared with the other payments are in `cobranca`.

use std::path::PathBuf;
use std::time::Instant;

use reqwest::Method;
use serde_json::json;

use crate::cobranca::{
    PLAN_GROUP, group_of, money_loop, open_session, restored_by, simulated_nas,
    suspended_by_the_job,
};

/// The liquidation of tests/fixtures/cnab/341_400.ret (Itaú CNAB 400): nosso número as the
/// slip prints it.
const FIXTURE: &str = "341_400.ret";
const OUR_NUMBER: &str = "109/00034111-8";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_file_paying_the_overdue_invoice_gives_the_line_back() {
    const TEST: &str = "a_return_file_paying_the_overdue_invoice_gives_the_line_back";
    let Some((ura, radius, token, maria)) = money_loop(TEST, |_| {}).await else {
        return;
    };
    let sim = simulated_nas(&ura).await;
    let first = open_session(&radius, &sim, "maria.silva", "100.64.0.10").await;

    // The boleto registered with Itaú, 30 days overdue: the job suspends 1001.
    let due = (chrono::Utc::now() - chrono::TimeDelta::days(30)).date_naive();
    let r = ura
        .admin(
            Method::POST,
            &token,
            "faturas",
            &json!({
                "contrato_id": 1001,
                "numero_documento": "RETORNO-1001",
                "nosso_numero": OUR_NUMBER,
                "banco": "341",
                "valor": 99.9,
                "emissao": (due - chrono::TimeDelta::days(20)).to_string(),
                "vencimento": due.to_string(),
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let invoice = r.json["id"].as_i64().unwrap();
    let second = suspended_by_the_job(&ura, &radius, &sim, &maria, &first).await;

    // The bank's return file reports the boleto paid.
    let file = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/cnab")
            .join(FIXTURE),
    )
    .expect("fixture");
    let imported_at = Instant::now();
    let response = reqwest::Client::new()
        .post(format!("{}/admin/api/v1/retornos?nome={FIXTURE}", ura.base))
        .bearer_auth(&token)
        .body(file)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 200);
    let report: serde_json::Value = response.json().await.expect("report");
    assert_eq!(report["linhas"][0]["resultado"], "pago", "{report}");
    assert_eq!(report["linhas"][0]["fatura"], invoice, "{report}");
    assert_eq!(
        group_of(&ura, "maria.silva").await.as_deref(),
        Some(PLAN_GROUP),
        "restored in the import's transaction"
    );
    restored_by(
        &ura,
        &radius,
        &sim,
        &maria,
        &second,
        imported_at,
        "pagamento:retorno",
    )
    .await;
}
