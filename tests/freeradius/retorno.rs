//! A bank return file on the real network: the dunning job suspends a contract whose
//! invoice is overdue (FreeRADIUS answers the block group, the NAS gets a Disconnect); the
//! bank's return file that reports the boleto paid, sent to the admin API, gives the line
//! back within 5 s (the plan's group and reply, a second Disconnect).
//!
//! The NAS is `NasSim` in process, standing in for the demo's NAS 1 (127.0.0.1); the
//! sessions it holds are opened and closed through FreeRADIUS's accounting, as a NAS would.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use ura::network::nas_sim::{Behavior, NasSim, Received};
use ura::settings::CobrancaSettings;

use crate::radius::{Auth, FreeRadius, session_attrs};
use crate::ura::Ura;
use crate::{assert_accept, install_or_skip, password_of, session_id};

const SECRET: &str = "segredo-do-nas";
/// RFC 5176 Disconnect-Request.
const DISCONNECT_REQUEST: u8 = 40;
/// The job runs every half second; it gets this long to suspend the contract.
const JOB_DEADLINE: Duration = Duration::from_secs(20);
/// The line is back within 5 s of the return file being imported.
const RESTORE_DEADLINE: Duration = Duration::from_secs(5);
const BLOCK_GROUP: &str = "bloqueado";
const BLOCK_LIST: &str = "bloqueados";
/// 1001 (maria.silva) is on plano-600m.
const PLAN_GROUP: &str = "plano-600m";
const PLAN_RATE: &str = "300M/600M";
/// The liquidation of tests/fixtures/cnab/341_400.ret (Itaú CNAB 400): nosso número as the
/// slip prints it.
const FIXTURE: &str = "341_400.ret";
const OUR_NUMBER: &str = "109/00034111-8";

async fn wait_until<F, Fut>(what: &str, deadline: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let until = Instant::now() + deadline;
    while !check().await {
        assert!(
            Instant::now() < until,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn disconnects(sim: &NasSim, login: &str) -> Vec<Received> {
    sim.received()
        .into_iter()
        .filter(|p| p.code == DISCONNECT_REQUEST && p.user_name.as_deref() == Some(login))
        .collect()
}

async fn contract_status(ura: &Ura) -> i64 {
    ura.scalar_i64("SELECT CAST(status AS BIGINT) FROM contracts WHERE id = 1001")
        .await
}

async fn group(ura: &Ura) -> Option<String> {
    ura.scalar_str("SELECT groupname FROM radusergroup WHERE username = 'maria.silva'")
        .await
}

async fn account(radius: &FreeRadius, session: &str, status: &str, ip: &str) {
    let r = radius
        .accounting(&session_attrs("maria.silva", session, status, ip))
        .await;
    assert_eq!(r.code, "Accounting-Response", "{}", r.output);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_file_paying_the_overdue_invoice_gives_the_line_back() {
    const TEST: &str = "a_return_file_paying_the_overdue_invoice_gives_the_line_back";
    let Some(install) = install_or_skip(TEST) else {
        return;
    };
    let ura = Ura::spawn(&install, |s| {
        s.cobranca = CobrancaSettings {
            ativo: true,
            aviso_antecedencia: 0,
            horario: "00:00-24:00".into(),
            dias_uteis: false,
            intervalo: 0.5,
            ..CobrancaSettings::default()
        };
    })
    .await;
    let radius = FreeRadius::start(&install, &ura.radius_target()).await;
    let token = ura::store::admin_tokens::create(&ura.store, "operador")
        .await
        .expect("admin token");
    let maria = password_of(&ura, "maria.silva").await;
    let sim = NasSim::start(
        "127.0.0.1:0".parse::<SocketAddr>().unwrap(),
        SECRET.as_bytes().to_vec(),
        Behavior::Normal,
    )
    .expect("NAS simulator");
    ura.exec(&format!(
        "UPDATE nas SET coa_port = {}, secret = '{SECRET}' WHERE id = 1",
        sim.addr().port()
    ))
    .await;
    ura.exec(
        "UPDATE radacct SET acctstoptime = acctupdatetime \
         WHERE username = 'maria.silva' AND acctstoptime IS NULL",
    )
    .await;
    let first = session_id();
    account(&radius, &first, "Start", "100.64.0.10").await;
    sim.hold("maria.silva", &first);

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
    wait_until("the job to suspend 1001", JOB_DEADLINE, || async {
        contract_status(&ura).await == 4
    })
    .await;
    assert_eq!(group(&ura).await.as_deref(), Some(BLOCK_GROUP));
    wait_until("the Disconnect of the suspension", JOB_DEADLINE, || async {
        !disconnects(&sim, "maria.silva").is_empty()
    })
    .await;
    let r = radius.radtest("maria.silva", &maria, Auth::Pap).await;
    assert_accept(&r);
    assert_eq!(
        r.get("Mikrotik-Address-List").as_deref(),
        Some(BLOCK_LIST),
        "{}",
        r.output
    );
    account(&radius, &first, "Stop", "100.64.0.10").await;
    let second = session_id();
    account(&radius, &second, "Start", "100.64.0.11").await;
    sim.hold("maria.silva", &second);

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
        group(&ura).await.as_deref(),
        Some(PLAN_GROUP),
        "restored with the payment"
    );
    assert_eq!(contract_status(&ura).await, 1);
    let left = RESTORE_DEADLINE.saturating_sub(imported_at.elapsed());
    wait_until("the Disconnect after the payment", left, || async {
        disconnects(&sim, "maria.silva").len() >= 2
    })
    .await;
    let sent = disconnects(&sim, "maria.silva");
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1].acct_session_id.as_deref(), Some(second.as_str()));
    let r = radius.radtest("maria.silva", &maria, Auth::Pap).await;
    assert_accept(&r);
    assert_eq!(
        r.get("Mikrotik-Rate-Limit").as_deref(),
        Some(PLAN_RATE),
        "{}",
        r.output
    );
    let restored_in = imported_at.elapsed();
    assert!(
        restored_in <= RESTORE_DEADLINE,
        "the line came back {restored_in:?} after the file was sent"
    );
    let changes = ura
        .scalar_i64(
            "SELECT COUNT(*) FROM contract_status_changes WHERE contract_id = 1001 \
             AND to_status = 1 AND reason = 'pagamento' AND actor = 'pagamento:retorno'",
        )
        .await;
    assert_eq!(changes, 1, "given back by the return file's payment");
}
