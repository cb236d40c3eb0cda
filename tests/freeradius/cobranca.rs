//! The money loop on the real network: the dunning JOB suspends an
//! overdue contract (its `radusergroup` row moves to the block group, FreeRADIUS answers the
//! block group's attributes, the NAS gets a Disconnect), paying the invoice through the admin
//! API gives the line back within 5 s (the plan's group and attributes, a second Disconnect,
//! `consultacliente` says Ativo), and a contract suspended by hand stays suspended when paid.
//!
//! The NAS is `NasSim` in process, standing in for the demo's NAS 1 (127.0.0.1); the sessions
//! it holds are opened and closed through FreeRADIUS's accounting, as a NAS would.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use ura::network::nas_sim::{Behavior, NasSim, Received};
use ura::settings::{CobrancaSettings, Settings};

use crate::radius::{Auth, FreeRadius, session_attrs};
use crate::ura::Ura;
use crate::{assert_accept, install_or_skip, password_of, session_id};

pub(crate) const SECRET: &str = "segredo-do-nas";
/// RFC 5176 Disconnect-Request.
pub(crate) const DISCONNECT_REQUEST: u8 = 40;
/// The job runs every half second; it gets this long to suspend the contract.
pub(crate) const JOB_DEADLINE: Duration = Duration::from_secs(20);
/// The line is back within 5 s of the payment being recorded.
pub(crate) const RESTORE_DEADLINE: Duration = Duration::from_secs(5);
/// How long a payment of a contract suspended by hand is watched for a wrong Disconnect
/// (the effects after a commit take milliseconds; the job runs 4 times meanwhile).
const QUIET: Duration = Duration::from_secs(2);
/// The settings' default `radius.grupo_bloqueio`, and the demo's reply for it.
pub(crate) const BLOCK_GROUP: &str = "bloqueado";
pub(crate) const BLOCK_LIST: &str = "bloqueados";
/// 1001 (maria.silva) and 6001 (ana.costa) are both on plano-600m.
pub(crate) const PLAN_GROUP: &str = "plano-600m";
pub(crate) const PLAN_RATE: &str = "300M/600M";

/// Polls `check` every 50 ms until it holds; panics with `what` after `deadline`.
pub(crate) async fn wait_until<F, Fut>(what: &str, deadline: Duration, mut check: F)
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

/// The Disconnect-Requests the simulator received for `login`.
pub(crate) fn disconnects(sim: &NasSim, login: &str) -> Vec<Received> {
    sim.received()
        .into_iter()
        .filter(|p| p.code == DISCONNECT_REQUEST && p.user_name.as_deref() == Some(login))
        .collect()
}

pub(crate) fn assert_disconnect(p: &Received, login: &str, session: &str) {
    assert_eq!(p.user_name.as_deref(), Some(login), "{p:?}");
    assert_eq!(p.acct_session_id.as_deref(), Some(session), "{p:?}");
    assert!(
        p.authenticator_ok && p.message_authenticator_ok,
        "signed with the NAS's secret: {p:?}"
    );
}

pub(crate) async fn contract_status(ura: &Ura, contract: i64) -> i64 {
    ura.scalar_i64(&format!(
        "SELECT CAST(status AS BIGINT) FROM contracts WHERE id = {contract}"
    ))
    .await
}

pub(crate) async fn group_of(ura: &Ura, login: &str) -> Option<String> {
    ura.scalar_str(&format!(
        "SELECT groupname FROM radusergroup WHERE username = '{login}'"
    ))
    .await
}

/// `consultacliente` for one contract: its `contratoStatusDisplay`.
pub(crate) async fn status_display(ura: &Ura, contract: &str) -> String {
    let r = ura.call("consultacliente", &[("contrato", contract)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json["contratos"][0]["contratoStatusDisplay"]
        .as_str()
        .unwrap_or_else(|| panic!("consultacliente {contract}: {}", r.body))
        .to_string()
}

/// The NAS reports a session through FreeRADIUS (Start or Stop).
pub(crate) async fn account(
    radius: &FreeRadius,
    login: &str,
    session: &str,
    status: &str,
    ip: &str,
) {
    let r = radius
        .accounting(&session_attrs(login, session, status, ip))
        .await;
    assert_eq!(r.code, "Accounting-Response", "{}", r.output);
}

/// An open invoice of `contract` due 30 days ago (past the default `dias_bloqueio`, 20),
/// created as an operator would; its id.
async fn overdue_invoice(ura: &Ura, token: &str, contract: i64) -> i64 {
    let due = (chrono::Utc::now() - chrono::TimeDelta::days(30)).date_naive();
    let issued = due - chrono::TimeDelta::days(20);
    let r = ura
        .admin(
            Method::POST,
            token,
            "faturas",
            &json!({
                "contrato_id": contract,
                "numero_documento": format!("ATRASO-{contract}"),
                "nosso_numero": format!("9{contract}"),
                "valor": 129.9,
                "emissao": issued.to_string(),
                "vencimento": due.to_string(),
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json["id"].as_i64().expect("invoice id")
}

async fn pay(ura: &Ura, token: &str, invoice: i64) {
    let r = ura
        .admin(
            Method::POST,
            token,
            &format!("faturas/{invoice}/pagar"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], "pago", "{}", r.body);
}

pub(crate) async fn assert_block_group_reply(radius: &FreeRadius, login: &str, password: &str) {
    let r = radius.radtest(login, password, Auth::Pap).await;
    assert_accept(&r);
    assert_eq!(
        r.get("Mikrotik-Address-List").as_deref(),
        Some(BLOCK_LIST),
        "{login}: the block group's reply: {}",
        r.output
    );
    assert_eq!(r.get("Mikrotik-Rate-Limit"), None, "{}", r.output);
}

pub(crate) async fn assert_plan_reply(radius: &FreeRadius, login: &str, password: &str) {
    let r = radius.radtest(login, password, Auth::Pap).await;
    assert_accept(&r);
    assert_eq!(
        r.get("Mikrotik-Rate-Limit").as_deref(),
        Some(PLAN_RATE),
        "{login}: {PLAN_GROUP}'s reply: {}",
        r.output
    );
    assert_eq!(r.get("Mikrotik-Address-List"), None, "{}", r.output);
}

/// The rule blocks at once, at any hour, any day, every half second: the notice is still
/// sent, the step follows it in the same run.
pub(crate) fn dunning_at_once(s: &mut Settings) {
    s.cobranca = CobrancaSettings {
        ativo: true,
        aviso_antecedencia: 0,
        horario: "00:00-24:00".into(),
        dias_uteis: false,
        intervalo: 0.5,
        ..CobrancaSettings::default()
    };
}

/// NAS 1 becomes the simulator. Maria's demo session was written by the seeder, not by this
/// NAS: it is closed. (Accounting-On would not close it on SQLite: the seeder writes text
/// timestamps where FreeRADIUS writes and compares epoch integers.)
pub(crate) async fn simulated_nas(ura: &Ura) -> NasSim {
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
    sim
}

/// The NAS opens a session of `login` (reported through FreeRADIUS) and holds it; its id.
pub(crate) async fn open_session(
    radius: &FreeRadius,
    sim: &NasSim,
    login: &str,
    ip: &str,
) -> String {
    let session = session_id();
    account(radius, login, &session, "Start", ip).await;
    sim.hold(login, &session);
    session
}

/// 1001 owes an overdue invoice: the job suspends it, its session `first` is cut, and the
/// equipment comes back into the block group on a new session, whose id this returns.
pub(crate) async fn suspended_by_the_job(
    ura: &Ura,
    radius: &FreeRadius,
    sim: &NasSim,
    maria: &str,
    first: &str,
) -> String {
    wait_until("the job to suspend 1001", JOB_DEADLINE, || async {
        contract_status(ura, 1001).await == 4
    })
    .await;
    assert_eq!(
        group_of(ura, "maria.silva").await.as_deref(),
        Some(BLOCK_GROUP)
    );
    wait_until("the Disconnect of 1001's session", JOB_DEADLINE, || async {
        !disconnects(sim, "maria.silva").is_empty()
    })
    .await;
    assert_disconnect(&disconnects(sim, "maria.silva")[0], "maria.silva", first);
    assert_block_group_reply(radius, "maria.silva", maria).await;
    account(radius, "maria.silva", first, "Stop", "100.64.0.10").await;
    let second = open_session(radius, sim, "maria.silva", "100.64.0.11").await;
    assert_eq!(status_display(ura, "1001").await, " Suspenso");
    second
}

/// After a payment made at `paid_at` and recorded by `actor`: within 5 s the plan's group and
/// reply, a Disconnect of the blocked session `second`, the IVR sees Ativo, one change back.
pub(crate) async fn restored_by(
    ura: &Ura,
    radius: &FreeRadius,
    sim: &NasSim,
    maria: &str,
    second: &str,
    paid_at: Instant,
    actor: &str,
) {
    let left = RESTORE_DEADLINE.saturating_sub(paid_at.elapsed());
    wait_until("the Disconnect after the payment", left, || async {
        disconnects(sim, "maria.silva").len() >= 2
    })
    .await;
    assert_eq!(
        group_of(ura, "maria.silva").await.as_deref(),
        Some(PLAN_GROUP)
    );
    assert_eq!(contract_status(ura, 1001).await, 1);
    let sent = disconnects(sim, "maria.silva");
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_disconnect(&sent[1], "maria.silva", second);
    assert_plan_reply(radius, "maria.silva", maria).await;
    assert_eq!(status_display(ura, "1001").await, " Ativo");
    let restored_in = paid_at.elapsed();
    assert!(
        restored_in <= RESTORE_DEADLINE,
        "the line came back {restored_in:?} after the payment ({actor})"
    );
    let changes = ura
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM contract_status_changes WHERE contract_id = 1001 \
             AND to_status = 1 AND reason = 'pagamento' AND actor = '{actor}'"
        ))
        .await;
    assert_eq!(changes, 1, "given back by {actor}");
}

/// Where each payment's test starts: a server with the dunning rule on (and `configure`'s
/// settings), FreeRADIUS in front of it, an operator's admin token and Maria's password.
/// None when FreeRADIUS is not installed (the test is reported skipped).
pub(crate) async fn money_loop(
    test: &str,
    configure: impl FnOnce(&mut Settings),
) -> Option<(Ura, FreeRadius, String, String)> {
    let install = install_or_skip(test)?;
    let ura = Ura::spawn(&install, |s| {
        dunning_at_once(s);
        configure(s);
    })
    .await;
    let radius = FreeRadius::start(&install, &ura.radius_target()).await;
    let token = ura::store::admin_tokens::create(&ura.store, "operador")
        .await
        .expect("admin token");
    let maria = password_of(&ura, "maria.silva").await;
    Some((ura, radius, token, maria))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_blocks_an_overdue_contract_and_its_payment_gives_the_line_back() {
    const TEST: &str = "the_job_blocks_an_overdue_contract_and_its_payment_gives_the_line_back";
    let Some((ura, radius, token, maria)) = money_loop(TEST, |_| {}).await else {
        return;
    };
    let ana = password_of(&ura, "ana.costa").await;

    // NAS 1 is the simulator, holding the sessions it opens through FreeRADIUS for Maria
    // (1001) and Ana (6001).
    let sim = simulated_nas(&ura).await;
    let maria_first = open_session(&radius, &sim, "maria.silva", "100.64.0.10").await;
    open_session(&radius, &sim, "ana.costa", "100.64.0.30").await;

    // 6001 is suspended by hand before it owes anything: the job never looks at it.
    let r = ura
        .admin(
            Method::PATCH,
            &token,
            "contratos/6001",
            &json!({"status": 4}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The manual suspension cuts the open session: the equipment re-authenticates into the
    // block group.
    wait_until(
        "the manual suspension to disconnect 6001",
        JOB_DEADLINE,
        || async { disconnects(&sim, "ana.costa").len() == 1 },
    )
    .await;
    let manual_invoice = overdue_invoice(&ura, &token, 6001).await;

    // 1001 (active) now owes an invoice 30 days overdue: the job suspends it.
    let invoice = overdue_invoice(&ura, &token, 1001).await;
    wait_until("the job to suspend 1001", JOB_DEADLINE, || async {
        contract_status(&ura, 1001).await == 4
    })
    .await;
    let changes = ura
        .scalar_i64(
            "SELECT COUNT(*) FROM contract_status_changes WHERE contract_id = 1001 \
             AND to_status = 4 AND reason = 'debito' AND actor = 'cobranca'",
        )
        .await;
    assert_eq!(changes, 1, "suspended for debt by the job");
    let notices = ura
        .scalar_i64(
            "SELECT COUNT(*) FROM dunning_notices WHERE contract_id = 1001 AND step = 'bloqueio'",
        )
        .await;
    assert_eq!(
        notices, 1,
        "the notice went out before the step (RGC art. 70)"
    );
    assert_eq!(
        group_of(&ura, "maria.silva").await.as_deref(),
        Some(BLOCK_GROUP)
    );
    wait_until("the Disconnect of 1001's session", JOB_DEADLINE, || async {
        !disconnects(&sim, "maria.silva").is_empty()
    })
    .await;
    let sent = disconnects(&sim, "maria.silva");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_disconnect(&sent[0], "maria.silva", &maria_first);
    assert!(!sim.holds("maria.silva"), "the NAS dropped the session");
    assert_eq!(status_display(&ura, "1001").await, " Suspenso");

    // The equipment authenticates again: the block group. Its NAS reports the old session's
    // end and the new one's start.
    assert_block_group_reply(&radius, "maria.silva", &maria).await;
    account(&radius, "maria.silva", &maria_first, "Stop", "100.64.0.10").await;
    let maria_second = open_session(&radius, &sim, "maria.silva", "100.64.0.11").await;

    // The customer pays: within 5 s, the plan's group, the plan's reply, a Disconnect of
    // the blocked session, and the IVR sees Ativo.
    let paid_at = Instant::now();
    pay(&ura, &token, invoice).await;
    assert_eq!(
        group_of(&ura, "maria.silva").await.as_deref(),
        Some(PLAN_GROUP),
        "restored in the payment's transaction"
    );
    restored_by(
        &ura,
        &radius,
        &sim,
        &maria,
        &maria_second,
        paid_at,
        "pagamento:admin:operador",
    )
    .await;

    // 6001 was suspended by hand: its overdue invoice paid, it stays suspended, in the block
    // group, and no Disconnect follows the payment.
    assert_eq!(
        group_of(&ura, "ana.costa").await.as_deref(),
        Some(BLOCK_GROUP)
    );
    pay(&ura, &token, manual_invoice).await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(contract_status(&ura, 6001).await, 4);
    assert_eq!(
        group_of(&ura, "ana.costa").await.as_deref(),
        Some(BLOCK_GROUP)
    );
    assert_block_group_reply(&radius, "ana.costa", &ana).await;
    assert_eq!(status_display(&ura, "6001").await, " Suspenso");
    let sent = disconnects(&sim, "ana.costa");
    assert_eq!(
        sent.len(),
        1,
        "only the manual suspension's Disconnect for 6001: {sent:?}"
    );
    // Nor did the job touch 1001 again.
    assert_eq!(disconnects(&sim, "maria.silva").len(), 2);
    assert_eq!(contract_status(&ura, 1001).await, 1);
}

/// The PSP's webhook secret of the PIX test.
const PIX_SECRET: &str = "segredo-do-psp-para-o-teste-e2e";

/// A PIX notice (BACEN API Pix webhook) for `txid`, as the PSP posts it.
async fn pix_notice(ura: &Ura, txid: &str, valor: &str) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(format!("{}/webhooks/pix/pix?hmac={PIX_SECRET}", ura.base))
        .json(&json!({"pix": [{
            "endToEndId": "E18236120202612051300s0000000042",
            "txid": txid,
            "valor": valor,
            "horario": chrono::Utc::now().to_rfc3339(),
        }]}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pix_notice_paying_the_overdue_invoice_gives_the_line_back() {
    const TEST: &str = "a_pix_notice_paying_the_overdue_invoice_gives_the_line_back";
    let Some((ura, radius, token, maria)) =
        money_loop(TEST, |s| s.pix.webhook_segredo = Some(PIX_SECRET.into())).await
    else {
        return;
    };
    let sim = simulated_nas(&ura).await;
    let first = open_session(&radius, &sim, "maria.silva", "100.64.0.10").await;

    // 1001 owes an invoice 30 days overdue, whose PIX txid the operator registered.
    let invoice = overdue_invoice(&ura, &token, 1001).await;
    let r = ura
        .admin(
            Method::PATCH,
            &token,
            &format!("faturas/{invoice}"),
            &json!({"pix_txid": "ATRASO1001PIX"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let second = suspended_by_the_job(&ura, &radius, &sim, &maria, &first).await;

    // The PSP tells of the PIX: within 5 s the plan's group and reply, a Disconnect of the
    // blocked session, and the IVR sees Ativo.
    let paid_at = Instant::now();
    let answer = pix_notice(&ura, "ATRASO1001PIX", "129.90").await;
    assert_eq!(answer["resultados"][0]["resultado"], "pago", "{answer}");
    assert_eq!(answer["resultados"][0]["fatura"], invoice, "{answer}");
    restored_by(
        &ura,
        &radius,
        &sim,
        &maria,
        &second,
        paid_at,
        "pagamento:pix",
    )
    .await;
    // The same notice again: nothing more.
    let answer = pix_notice(&ura, "ATRASO1001PIX", "129.90").await;
    assert_eq!(answer["resultados"][0]["resultado"], "repetida", "{answer}");
    assert_eq!(disconnects(&sim, "maria.silva").len(), 2);
}
