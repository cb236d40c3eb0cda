//! The money loop (docs/billing.md) from outside: the dunning run over the admin API
//! and the CLI, its notice and its block, and the payment that gives the line back. Every test
//! builds its own customer, plan, contract, service and invoices through the admin API, so the
//! demo data's expectations elsewhere stay untouched.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use ura::settings::{CobrancaSettings, Settings};

use crate::common::*;

/// An operator of the admin API.
struct Admin<'a> {
    app: &'a TestApp,
    token: String,
}

impl Admin<'_> {
    async fn new(app: &TestApp) -> Admin<'_> {
        let token = ura::store::admin_tokens::create(&app.store, "operador")
            .await
            .unwrap();
        scan::secret(&token);
        Admin { app, token }
    }

    fn url(&self, path: &str) -> String {
        self.app.url(&format!("/admin/api/v1/{path}"))
    }

    async fn get(&self, path: &str) -> Resp {
        self.app
            .send(self.app.client.get(self.url(path)).bearer_auth(&self.token))
            .await
    }

    async fn post(&self, path: &str, body: Value) -> Resp {
        self.app
            .send(
                self.app
                    .client
                    .post(self.url(path))
                    .bearer_auth(&self.token)
                    .json(&body),
            )
            .await
    }

    async fn post_raw(&self, path: &str, body: &'static str) -> Resp {
        self.app
            .send(
                self.app
                    .client
                    .post(self.url(path))
                    .bearer_auth(&self.token)
                    .header("content-type", "application/json")
                    .body(body),
            )
            .await
    }

    async fn patch(&self, path: &str, body: Value) -> Resp {
        self.app
            .send(
                self.app
                    .client
                    .patch(self.url(path))
                    .bearer_auth(&self.token)
                    .json(&body),
            )
            .await
    }

    /// Runs the rule once; the report's lines.
    async fn run(&self, simular: bool) -> Vec<Value> {
        let r = self
            .post("cobranca/executar", json!({ "simular": simular }))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json["simulacao"], json!(simular), "{}", r.body);
        r.json["contratos"]
            .as_array()
            .unwrap_or_else(|| panic!("no contratos: {}", r.body))
            .clone()
    }

    /// Pays an invoice today, with its amount.
    async fn pay(&self, invoice: i64) -> Resp {
        self.post(&format!("faturas/{invoice}/pagar"), json!({}))
            .await
    }
}

fn detail(r: &Resp) -> &str {
    r.json["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("no detail ({}): {}", r.status, r.body))
}

/// The rule on, for the whole day, every day, blocking at 10 days with no wait after the
/// notice; `tweak` changes the rest.
fn rule_on(tweak: impl FnOnce(&mut CobrancaSettings)) -> impl FnOnce(&mut Settings) {
    move |s: &mut Settings| {
        s.cobranca.ativo = true;
        s.cobranca.aviso_antecedencia = 0;
        s.cobranca.horario = "00:00-24:00".into();
        s.cobranca.dias_uteis = false;
        s.cobranca.dias_bloqueio = 10;
        tweak(&mut s.cobranca);
    }
}

/// A valid CPF (check digits computed) that no demo customer has.
fn cpf(n: u32) -> String {
    let base = format!("{:09}", 812_000_000 + n * 7);
    let mut digits: Vec<u32> = base.bytes().map(|b| u32::from(b - b'0')).collect();
    for len in [9, 10] {
        let sum: u32 = digits
            .iter()
            .take(len)
            .enumerate()
            .map(|(i, d)| d * (len as u32 + 1 - i as u32))
            .sum();
        let r = sum % 11;
        digits.push(if r < 2 { 0 } else { 11 - r });
    }
    digits.iter().map(|d| char::from(b'0' + *d as u8)).collect()
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A customer with a contract, its plan and service, and invoices.
struct Debtor {
    contract: i64,
    name: String,
    email: String,
    mobile: String,
    login: String,
    plan_group: String,
    /// Ids of the invoices, in the order asked for.
    invoices: Vec<i64>,
    /// Due date of the first invoice (`YYYY-MM-DD`).
    first_due: String,
}

/// Creates a debtor numbered `n` (unique in the test): invoices `(days overdue, reais)`, a
/// negative number of days being a due date still to come; `contract_extra` and
/// `plan_extra` are merged into the contract's and the plan's bodies.
async fn debtor(
    admin: &Admin<'_>,
    n: u32,
    invoices: &[(i64, f64)],
    contract_extra: Value,
    plan_extra: Value,
) -> Debtor {
    let today = today(&admin.app.settings);
    let name = format!("DEVEDOR TESTE {n}");
    let email = format!("devedor{n}@exemplo.com.br");
    let mobile = format!("849990{n:05}");
    let r = admin
        .post(
            "clientes",
            json!({
                "nome": name,
                "cpfcnpj": cpf(n),
                "contatos": [
                    {"tipo": "email", "valor": email},
                    {"tipo": "celular", "valor": mobile},
                ]
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let customer = r.json["id"].as_i64().unwrap();

    let plan_group = format!("plano-g-{n}");
    let mut plan = json!({
        "nome": format!("FIBRA G{n}"), "download_kbps": 300000, "upload_kbps": 150000,
        "preco": 99.9, "grupo_radius": plan_group,
    });
    merge(&mut plan, plan_extra);
    let r = admin.post("planos", plan).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let plan_id = r.json["id"].as_i64().unwrap();

    let mut contract =
        json!({"cliente_id": customer, "status": 1, "pop_id": 1, "vencimento_dia": 10});
    merge(&mut contract, contract_extra);
    let r = admin.post("contratos", contract).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let contract = r.json["id"].as_i64().unwrap();

    let login = format!("devedor.{n}");
    let r = admin
        .post(
            "servicos",
            json!({"contrato_id": contract, "login": login, "senha": format!("s3nh4-{n}"), "plano_id": plan_id}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let mut ids = Vec::new();
    let mut first_due = String::new();
    for (i, (days, reais)) in invoices.iter().enumerate() {
        let due = if *days >= 0 {
            today - Days::new(*days as u64)
        } else {
            today + Days::new(days.unsigned_abs())
        };
        if i == 0 {
            first_due = ymd(due);
        }
        let r = admin
            .post(
                "faturas",
                json!({
                    "contrato_id": contract,
                    "numero_documento": format!("{n}{i}"),
                    "nosso_numero": format!("9{n:04}{i:02}"),
                    "valor": reais,
                    "emissao": ymd(due - Days::new(10)),
                    "vencimento": ymd(due),
                }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.json["id"].as_i64().unwrap());
    }
    Debtor {
        contract,
        name,
        email,
        mobile,
        login,
        plan_group,
        invoices: ids,
        first_due,
    }
}

fn merge(into: &mut Value, extra: Value) {
    if let (Some(into), Value::Object(extra)) = (into.as_object_mut(), extra) {
        into.extend(extra);
    }
}

/// The report's lines about one contract.
fn lines_of(lines: &[Value], contract: i64) -> Vec<Value> {
    lines
        .iter()
        .filter(|l| l["contrato"] == json!(contract))
        .cloned()
        .collect()
}

async fn groups_of(app: &TestApp, login: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT groupname FROM radusergroup WHERE username = $1 ORDER BY groupname")
        .bind(login)
        .fetch_all(app.store.pool())
        .await
        .unwrap()
}

/// `contratoStatus` as `consultacliente` answers it.
async fn ivr_status(app: &TestApp, contract: i64) -> (i64, String) {
    let r = app
        .call("consultacliente", &[("contrato", &contract.to_string())])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = &r.json["contratos"][0];
    assert_eq!(c["contratoId"], json!(contract), "{}", r.body);
    (
        c["contratoStatus"].as_i64().unwrap(),
        c["contratoStatusDisplay"].as_str().unwrap().to_string(),
    )
}

async fn access_status(app: &TestApp, contract: i64) -> Value {
    let r = app
        .call("verificaacesso", &[("contrato", &contract.to_string())])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json
}

/// A contract's status history: (from, to, reason, protocol, actor), oldest first.
async fn history(app: &TestApp, contract: i64) -> Vec<(i64, i64, String, Option<String>, String)> {
    sqlx::query_as(
        "SELECT CAST(from_status AS BIGINT), CAST(to_status AS BIGINT), reason, protocol, actor \
         FROM contract_status_changes WHERE contract_id = $1 ORDER BY id",
    )
    .bind(contract)
    .fetch_all(app.store.pool())
    .await
    .unwrap()
}

/// History rows of the contract for `reason`.
fn with_reason(
    rows: &[(i64, i64, String, Option<String>, String)],
    reason: &str,
) -> Vec<(i64, i64, String, Option<String>, String)> {
    rows.iter().filter(|r| r.2 == reason).cloned().collect()
}

/// A contract's messages: (channel, recipient, subject, protocol), oldest first.
async fn messages_of(
    app: &TestApp,
    contract: i64,
) -> Vec<(String, String, Option<String>, Option<String>)> {
    sqlx::query_as(
        "SELECT channel, recipient, subject, protocol FROM messages WHERE contract_id = $1 ORDER BY id",
    )
    .bind(contract)
    .fetch_all(app.store.pool())
    .await
    .unwrap()
}

/// Everything a run or a payment could change, across the whole database.
#[derive(Debug, PartialEq)]
struct Snapshot {
    contracts: Vec<(i64, i64, i64, String)>,
    groups: Vec<(String, String)>,
    counts: BTreeMap<&'static str, i64>,
}

async fn snapshot(app: &TestApp) -> Snapshot {
    let contracts = sqlx::query_as(
        "SELECT id, CAST(status AS BIGINT), CAST(status_mode AS BIGINT), \
         COALESCE(status_reason, '') FROM contracts ORDER BY id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    let groups =
        sqlx::query_as("SELECT username, groupname FROM radusergroup ORDER BY username, groupname")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    let mut counts = BTreeMap::new();
    for table in [
        "contract_status_changes",
        "dunning_notices",
        "messages",
        "protocols",
        "tickets",
        "promises",
    ] {
        let n = app
            .scalar_i64(&format!("SELECT COUNT(*) FROM {table}"))
            .await;
        counts.insert(table, n);
    }
    Snapshot {
        contracts,
        groups,
        counts,
    }
}

/// `ura_contrato_mudancas_total{status,motivo}` as `/metrics` shows it (0 when absent).
async fn changes_metric(app: &TestApp, status: &str, motivo: &str) -> f64 {
    let r = app.get(&app.url("/metrics")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let status = format!("status=\"{status}\"");
    let motivo = format!("motivo=\"{motivo}\"");
    r.body
        .lines()
        .filter(|l| l.starts_with("ura_contrato_mudancas_total{"))
        .filter(|l| l.contains(&status) && l.contains(&motivo))
        .map(|l| {
            l.rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("bad metric line {l}"))
        })
        .sum()
}

async fn debt_blocks(app: &TestApp) -> i64 {
    app.scalar_i64(
        "SELECT COUNT(*) FROM contract_status_changes WHERE reason = 'debito' AND to_status = 4",
    )
    .await
}

#[tokio::test]
async fn simulating_changes_nothing_and_tells_what_would_be_done() {
    let app = spawn_with(rule_on(|_| {})).await;
    let admin = Admin::new(&app).await;
    let d = debtor(&admin, 1, &[(30, 100.0)], json!({}), json!({})).await;
    let before = snapshot(&app).await;

    let lines = admin.run(true).await;
    let mine = lines_of(&lines, d.contract);
    let acoes: Vec<&str> = mine.iter().map(|l| l["acao"].as_str().unwrap()).collect();
    assert_eq!(acoes, ["aviso de suspensão", "suspensão"], "{lines:?}");
    for l in &mine {
        assert_eq!(l["executada"], json!(false), "{l}");
        assert!(l.get("protocolo").is_none(), "{l}");
        assert_eq!(l["cliente"], json!(d.name), "{l}");
        assert_eq!(l["fatura_mais_antiga"], json!(d.first_due), "{l}");
        assert_eq!(l["dias"], json!(30), "{l}");
        assert_eq!(l["valor"].as_f64(), Some(100.0), "{l}");
    }
    assert!(
        lines.iter().all(|l| l["executada"] == json!(false)),
        "{lines:?}"
    );
    // Twice, to be sure the first simulation did not record a notice either.
    let again = admin.run(true).await;
    assert_eq!(lines_of(&again, d.contract), mine);

    assert_eq!(snapshot(&app).await, before);
    assert_eq!(ivr_status(&app, d.contract).await.0, 1);
    assert_eq!(groups_of(&app, &d.login).await, vec![d.plan_group.clone()]);
    assert!(messages_of(&app, d.contract).await.is_empty());
    assert!(app.message_files().is_empty(), "{:?}", app.message_files());
    app.stop().await;
}

#[tokio::test]
async fn without_notice_days_the_notice_goes_out_and_the_line_is_blocked_in_one_run() {
    let app = spawn_with(rule_on(|_| {})).await;
    let admin = Admin::new(&app).await;
    let d = debtor(&admin, 2, &[(30, 100.0)], json!({}), json!({})).await;
    let metric_before = changes_metric(&app, "Suspenso", "debito").await;
    let blocks_before = debt_blocks(&app).await;

    let lines = admin.run(false).await;
    let mine = lines_of(&lines, d.contract);
    assert_eq!(mine.len(), 2, "{lines:?}");
    assert_eq!(mine[0]["acao"], json!("aviso de suspensão"), "{lines:?}");
    assert_eq!(mine[1]["acao"], json!("suspensão"), "{lines:?}");
    for l in &mine {
        assert_eq!(l["executada"], json!(true), "{l}");
        assert_eq!(l["dias"], json!(30), "{l}");
        assert_eq!(l["valor"].as_f64(), Some(100.0), "{l}");
        assert_eq!(l["fatura_mais_antiga"], json!(d.first_due), "{l}");
    }
    let notice_protocol = assert_protocol_today(&app, &mine[0]["protocolo"]);
    let block_protocol = assert_protocol_today(&app, &mine[1]["protocolo"]);
    assert_ne!(notice_protocol, block_protocol);

    // The notice: recorded on the contract, for this debt, today, with its protocol.
    let notices: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT step, debt_due_on, sent_on, protocol FROM dunning_notices WHERE contract_id = $1",
    )
    .bind(d.contract)
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(
        notices,
        vec![(
            "bloqueio".to_string(),
            d.first_due.clone(),
            ymd(today(&app.settings)),
            notice_protocol.clone()
        )]
    );
    // ... and sent to the customer's e-mail (and mobile), with that protocol.
    let messages = messages_of(&app, d.contract).await;
    let email: Vec<_> = messages.iter().filter(|m| m.0 == "email").collect();
    assert_eq!(email.len(), 1, "{messages:?}");
    assert_eq!(email[0].1, d.email, "{messages:?}");
    assert_eq!(
        email[0].3.as_deref(),
        Some(notice_protocol.as_str()),
        "{messages:?}"
    );
    let subject = email[0].2.as_deref().unwrap_or_default();
    assert!(subject.starts_with("Aviso de suspensão"), "{subject}");
    assert!(
        messages
            .iter()
            .any(|m| m.0 == "sms" && m.1 == d.mobile && m.3.as_deref() == Some(&notice_protocol)),
        "{messages:?}"
    );

    // The block: the IVR, FreeRADIUS, the history and the admin API agree.
    assert_eq!(
        ivr_status(&app, d.contract).await,
        (4, " Suspenso".to_string())
    );
    let access = access_status(&app, d.contract).await;
    assert_eq!(access["status"], json!(3), "{access}");
    assert_eq!(
        access["msg"],
        json!("Serviço suspenso por pendência financeira")
    );
    assert_eq!(
        groups_of(&app, &d.login).await,
        vec![app.settings.radius.grupo_bloqueio.clone()]
    );
    let debt = with_reason(&history(&app, d.contract).await, "debito");
    assert_eq!(
        debt,
        vec![(
            1,
            4,
            "debito".to_string(),
            Some(block_protocol.clone()),
            "cobranca".to_string()
        )]
    );
    let r = admin.get(&format!("contratos/{}", d.contract)).await;
    assert_eq!(r.json["status"], json!(4), "{}", r.body);
    assert_eq!(r.json["motivo_status"], json!("debito"), "{}", r.body);
    assert_eq!(r.json["status_modo"], json!(1), "{}", r.body);

    // The metric counts every block of the run (the demo's debtors too).
    let blocks = debt_blocks(&app).await - blocks_before;
    assert!(blocks >= 1);
    assert_eq!(
        changes_metric(&app, "Suspenso", "debito").await - metric_before,
        blocks as f64
    );

    // A second run leaves it as it is.
    let before = snapshot(&app).await;
    let lines = admin.run(false).await;
    assert!(
        lines_of(&lines, d.contract)
            .iter()
            .all(|l| l["executada"] == json!(false)),
        "{lines:?}"
    );
    assert_eq!(snapshot(&app).await, before);
    app.stop().await;
}

#[tokio::test]
async fn with_notice_days_the_first_run_only_notifies() {
    let app = spawn_with(rule_on(|c| c.aviso_antecedencia = 5)).await;
    let admin = Admin::new(&app).await;
    let d = debtor(&admin, 3, &[(30, 100.0)], json!({}), json!({})).await;

    let lines = admin.run(false).await;
    let mine = lines_of(&lines, d.contract);
    assert_eq!(mine.len(), 1, "{lines:?}");
    assert_eq!(mine[0]["acao"], json!("aviso de suspensão"));
    assert_eq!(mine[0]["executada"], json!(true));
    let protocol = assert_protocol_today(&app, &mine[0]["protocolo"]);
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM dunning_notices WHERE contract_id = {} AND protocol = '{protocol}'",
            d.contract
        ))
        .await,
        1
    );
    assert!(
        messages_of(&app, d.contract)
            .await
            .iter()
            .any(|m| m.0 == "email" && m.3.as_deref() == Some(&protocol))
    );
    assert_eq!(ivr_status(&app, d.contract).await.0, 1);
    assert!(with_reason(&history(&app, d.contract).await, "debito").is_empty());

    // The same day: waiting for the notice's days, nothing changes.
    let before = snapshot(&app).await;
    let lines = admin.run(false).await;
    let mine = lines_of(&lines, d.contract);
    assert_eq!(mine.len(), 1, "{lines:?}");
    assert_eq!(
        mine[0]["acao"],
        json!("nenhuma: aguardando o prazo do aviso")
    );
    assert_eq!(mine[0]["executada"], json!(false));
    assert!(mine[0].get("protocolo").is_none());
    assert_eq!(snapshot(&app).await, before);
    assert_eq!(
        ivr_status(&app, d.contract).await,
        (1, " Ativo".to_string())
    );
    assert_eq!(groups_of(&app, &d.login).await, vec![d.plan_group.clone()]);
    app.stop().await;
}

/// Blocks `d` for debt with one run of the rule (no wait after the notice).
async fn block_for_debt(admin: &Admin<'_>, d: &Debtor) {
    let lines = admin.run(false).await;
    let mine = lines_of(&lines, d.contract);
    assert!(
        mine.iter()
            .any(|l| l["acao"] == json!("suspensão") && l["executada"] == json!(true)),
        "{lines:?}"
    );
    assert_eq!(ivr_status(admin.app, d.contract).await.0, 4);
}

#[tokio::test]
async fn paying_the_overdue_invoice_gives_the_line_back_and_tells_the_customer() {
    let app = spawn_with(rule_on(|c| c.notificar_restabelecimento = true)).await;
    let admin = Admin::new(&app).await;
    // One invoice overdue, the next one not due yet: only the overdue debt keeps it blocked.
    let d = debtor(&admin, 4, &[(30, 100.0), (-5, 100.0)], json!({}), json!({})).await;
    block_for_debt(&admin, &d).await;
    let metric_before = changes_metric(&app, "Ativo", "pagamento").await;
    let messages_before = messages_of(&app, d.contract).await.len();

    let r = admin.pay(d.invoices[0]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!("pago"), "{}", r.body);

    assert_eq!(
        ivr_status(&app, d.contract).await,
        (1, " Ativo".to_string())
    );
    let access = access_status(&app, d.contract).await;
    assert_ne!(access["status"], json!(3), "{access}");
    assert_eq!(access["msg"], json!("Serviço Offline"), "{access}");
    assert_eq!(groups_of(&app, &d.login).await, vec![d.plan_group.clone()]);
    let paid = with_reason(&history(&app, d.contract).await, "pagamento");
    assert_eq!(paid.len(), 1, "{paid:?}");
    let (from, to, _, protocol, actor) = &paid[0];
    assert_eq!((*from, *to), (4, 1));
    assert_eq!(actor, "pagamento:admin:operador");
    let protocol = assert_protocol_today(&app, &json!(protocol));
    let r = admin.get(&format!("contratos/{}", d.contract)).await;
    assert_eq!(r.json["motivo_status"], json!("pagamento"), "{}", r.body);
    assert_eq!(
        changes_metric(&app, "Ativo", "pagamento").await - metric_before,
        1.0
    );

    // The restoration message, from its own template, with the restoration's protocol.
    let messages = messages_of(&app, d.contract).await;
    let new = &messages[messages_before..];
    let email: Vec<_> = new.iter().filter(|m| m.0 == "email").collect();
    assert_eq!(email.len(), 1, "{new:?}");
    assert_eq!(email[0].1, d.email);
    assert_eq!(email[0].3.as_deref(), Some(protocol.as_str()));
    let subject = email[0].2.as_deref().unwrap_or_default();
    assert!(subject.starts_with("Acesso restabelecido"), "{subject}");
    assert!(
        new.iter()
            .all(|m| m.3.as_deref() == Some(protocol.as_str())),
        "{new:?}"
    );

    // Paying the invoice not yet due changes the line no further.
    let before = history(&app, d.contract).await;
    let r = admin.pay(d.invoices[1]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(history(&app, d.contract).await, before);
    app.stop().await;
}

#[tokio::test]
async fn the_restoration_message_is_off_by_default() {
    let app = spawn_with(rule_on(|_| {})).await;
    assert!(!app.settings.cobranca.notificar_restabelecimento);
    let admin = Admin::new(&app).await;
    let d = debtor(&admin, 5, &[(30, 100.0)], json!({}), json!({})).await;
    block_for_debt(&admin, &d).await;
    let messages_before = messages_of(&app, d.contract).await;

    let r = admin.pay(d.invoices[0]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ivr_status(&app, d.contract).await.0, 1);
    assert_eq!(
        with_reason(&history(&app, d.contract).await, "pagamento").len(),
        1
    );
    assert_eq!(messages_of(&app, d.contract).await, messages_before);
    app.stop().await;
}

#[tokio::test]
async fn a_contract_suspended_by_hand_is_not_lifted_by_a_payment() {
    let app = spawn_with(rule_on(|_| {})).await;
    let admin = Admin::new(&app).await;
    let d = debtor(&admin, 6, &[(30, 100.0)], json!({}), json!({})).await;
    let r = admin
        .patch(&format!("contratos/{}", d.contract), json!({"status": 4}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["motivo_status"], json!("manual"), "{}", r.body);
    let block = app.settings.radius.grupo_bloqueio.clone();
    assert_eq!(groups_of(&app, &d.login).await, vec![block.clone()]);

    // The rule leaves it to the operator.
    let lines = admin.run(false).await;
    assert!(lines_of(&lines, d.contract).is_empty(), "{lines:?}");

    let r = admin.pay(d.invoices[0]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        ivr_status(&app, d.contract).await,
        (4, " Suspenso".to_string())
    );
    assert_eq!(groups_of(&app, &d.login).await, vec![block]);
    let rows = history(&app, d.contract).await;
    assert!(with_reason(&rows, "pagamento").is_empty(), "{rows:?}");
    assert!(with_reason(&rows, "debito").is_empty(), "{rows:?}");
    let r = admin.get(&format!("contratos/{}", d.contract)).await;
    assert_eq!(r.json["motivo_status"], json!("manual"), "{}", r.body);
    assert_eq!(r.json["status_modo"], json!(2), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn exempt_promised_small_and_not_yet_due_debts_are_left_alone() {
    let app = spawn_with(rule_on(|c| c.valor_minimo = 50.0)).await;
    let admin = Admin::new(&app).await;
    let exempt = debtor(
        &admin,
        7,
        &[(30, 100.0)],
        json!({"isento_bloqueio": true}),
        json!({}),
    )
    .await;
    let promised = debtor(&admin, 8, &[(30, 100.0)], json!({}), json!({})).await;
    let small = debtor(&admin, 9, &[(30, 30.0)], json!({}), json!({})).await;
    // The plan blocks at 40 days: 30 days overdue is not yet time, nor time for the notice.
    let patient = debtor(
        &admin,
        10,
        &[(30, 100.0)],
        json!({}),
        json!({"dias_bloqueio": 40}),
    )
    .await;
    let r = admin.get(&format!("contratos/{}", exempt.contract)).await;
    assert_eq!(r.json["isento_bloqueio"], json!(true), "{}", r.body);

    let lines = admin.run(false).await;
    let line = lines_of(&lines, exempt.contract);
    assert_eq!(line.len(), 1, "{lines:?}");
    assert_eq!(
        line[0]["acao"],
        json!("nenhuma: contrato isento de bloqueio")
    );
    assert_eq!(line[0]["executada"], json!(false));
    assert!(lines_of(&lines, small.contract).is_empty(), "{lines:?}");
    assert!(lines_of(&lines, patient.contract).is_empty(), "{lines:?}");
    // The one without an exception is blocked; the customer promises to pay.
    assert_eq!(ivr_status(&app, promised.contract).await.0, 4);
    let r = app
        .call(
            "liberacaopromessa",
            &[("contrato", &promised.contract.to_string())],
        )
        .await;
    assert_eq!(r.json["liberado"], json!(true), "{}", r.body);
    assert_eq!(ivr_status(&app, promised.contract).await.0, 1);

    let before = snapshot(&app).await;
    let lines = admin.run(false).await;
    let line = lines_of(&lines, promised.contract);
    assert_eq!(line.len(), 1, "{lines:?}");
    assert_eq!(
        line[0]["acao"],
        json!("nenhuma: promessa de pagamento em vigor")
    );
    assert_eq!(line[0]["executada"], json!(false));
    assert_eq!(snapshot(&app).await, before);
    assert_eq!(ivr_status(&app, promised.contract).await.0, 1);
    assert_eq!(
        groups_of(&app, &promised.login).await,
        vec![promised.plan_group.clone()]
    );

    for d in [&exempt, &small, &patient] {
        assert_eq!(ivr_status(&app, d.contract).await.0, 1, "{}", d.contract);
        assert_eq!(groups_of(&app, &d.login).await, vec![d.plan_group.clone()]);
        let rows = history(&app, d.contract).await;
        assert!(with_reason(&rows, "debito").is_empty(), "{rows:?}");
        assert!(messages_of(&app, d.contract).await.is_empty());
        assert_eq!(
            app.scalar_i64(&format!(
                "SELECT COUNT(*) FROM dunning_notices WHERE contract_id = {}",
                d.contract
            ))
            .await,
            0
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_payments_of_the_last_invoices_at_once_restore_once() {
    const ROUNDS: u32 = 8;
    let app = spawn_with(rule_on(|_| {})).await;
    let admin = Admin::new(&app).await;
    let mut debtors = Vec::new();
    for n in 0..ROUNDS {
        debtors.push(
            debtor(
                &admin,
                20 + n,
                &[(30, 100.0), (20, 80.0)],
                json!({}),
                json!({}),
            )
            .await,
        );
    }
    let lines = admin.run(false).await;
    for d in &debtors {
        assert!(
            lines_of(&lines, d.contract)
                .iter()
                .any(|l| l["acao"] == json!("suspensão") && l["executada"] == json!(true)),
            "{lines:?}"
        );
    }
    for d in &debtors {
        let (a, b) = tokio::join!(admin.pay(d.invoices[0]), admin.pay(d.invoices[1]));
        assert_eq!((a.status, b.status), (200, 200), "{} / {}", a.body, b.body);
        let rows = history(&app, d.contract).await;
        assert_eq!(
            with_reason(&rows, "pagamento").len(),
            1,
            "contract {}: {rows:?}",
            d.contract
        );
        assert_eq!(ivr_status(&app, d.contract).await.0, 1, "{}", d.contract);
        assert_eq!(groups_of(&app, &d.login).await, vec![d.plan_group.clone()]);
    }
    app.stop().await;
}

/// Fires `n` settlements (`pagar`/`cancelar`, per `action(i)`) of one invoice at once.
async fn settle_burst(
    admin: &Admin<'_>,
    invoice: i64,
    n: usize,
    action: impl Fn(usize) -> &'static str,
) -> Vec<(&'static str, u16, Value)> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let mut set = JoinSet::new();
    for i in 0..n {
        let act = action(i);
        let (client, url, token, barrier) = (
            admin.app.client.clone(),
            admin.url(&format!("faturas/{invoice}/{act}")),
            admin.token.clone(),
            barrier.clone(),
        );
        set.spawn(async move {
            barrier.wait().await;
            let r = into_resp(
                client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({}))
                    .send()
                    .await
                    .expect("send"),
            )
            .await;
            (act, r.status, r.json)
        });
    }
    let mut out = Vec::with_capacity(n);
    while let Some(done) = set.join_next().await {
        out.push(done.expect("task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_invoice_is_settled_once_however_many_ask_at_once() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let d = debtor(&admin, 40, &[(-10, 100.0)], json!({}), json!({})).await;
    let results = settle_burst(&admin, d.invoices[0], 40, |_| "pagar").await;
    let won: Vec<_> = results.iter().filter(|r| r.1 == 200).collect();
    assert_eq!(won.len(), 1, "{results:?}");
    assert_eq!(won[0].2["status"], json!("pago"));
    for (_, status, body) in results.iter().filter(|r| r.1 != 200) {
        assert_eq!(*status, 400, "{body}");
        assert_eq!(body["detail"], json!("status: a fatura já está paga."));
    }

    // Paying and cancelling at once: exactly one wins, the other learns what happened.
    let d = debtor(&admin, 41, &[(-10, 10.0); 10], json!({}), json!({})).await;
    for invoice in &d.invoices {
        let results = settle_burst(&admin, *invoice, 2, |i| ["pagar", "cancelar"][i]).await;
        let won: Vec<_> = results.iter().filter(|r| r.1 == 200).collect();
        assert_eq!(won.len(), 1, "{results:?}");
        let (winner, _, body) = won[0];
        let stored = if *winner == "pagar" {
            "pago"
        } else {
            "cancelado"
        };
        assert_eq!(body["status"], json!(stored), "{results:?}");
        let lost = results.iter().find(|r| r.1 != 200).unwrap();
        assert_eq!(lost.1, 400, "{results:?}");
        let expected = if *winner == "pagar" {
            "status: a fatura já está paga."
        } else {
            "status: a fatura já está cancelada."
        };
        assert_eq!(lost.2["detail"], json!(expected), "{results:?}");
        assert_eq!(
            app.scalar_str(&format!("SELECT status FROM invoices WHERE id = {invoice}"))
                .await
                .as_deref(),
            Some(if *winner == "pagar" {
                "paid"
            } else {
                "cancelled"
            })
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_admin_route_checks_its_caller_and_its_body() {
    let app = spawn_with(rule_on(|_| {})).await;
    let admin = Admin::new(&app).await;
    let d = debtor(&admin, 50, &[(30, 100.0)], json!({}), json!({})).await;
    let before = snapshot(&app).await;
    let url = admin.url("cobranca/executar");

    let r = app.post_json(&url, &json!({"simular": true})).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = app
        .send(
            app.client
                .post(&url)
                .bearer_auth(&app.token)
                .json(&json!({})),
        )
        .await;
    assert_eq!(r.status, 401, "the URA app's token: {}", r.body);
    let r = app
        .send(
            app.client
                .post(&url)
                .bearer_auth("nao-e-um-token")
                .json(&json!({})),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);

    for (body, expected) in [
        (json!({"simular": true, "x": 1}), "x: campo desconhecido."),
        (json!({"simular": "x"}), "simular: use true ou false."),
        (json!({"simular": 1}), "simular: use true ou false."),
    ] {
        let r = admin.post("cobranca/executar", body.clone()).await;
        assert_eq!((r.status, detail(&r)), (400, expected), "{body}");
    }
    let r = admin.post_raw("cobranca/executar", "{simular").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(detail(&r).starts_with("JSON inválido"), "{}", r.body);
    let r = admin.post_raw("cobranca/executar", "[true]").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        snapshot(&app).await,
        before,
        "a refused run changed something"
    );

    // No body at all is a real run.
    let r = app
        .send(app.client.post(&url).bearer_auth(&admin.token))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["simulacao"], json!(false));
    assert_eq!(ivr_status(&app, d.contract).await.0, 4);
    app.stop().await;

    // The rule off: refused, nothing done.
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let d = debtor(&admin, 51, &[(30, 100.0)], json!({}), json!({})).await;
    let before = snapshot(&app).await;
    for body in [json!({}), json!({"simular": true})] {
        let r = admin.post("cobranca/executar", body).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(
            detail(&r),
            "A cobrança automática está desligada: defina cobranca.ativo = true."
        );
    }
    assert_eq!(snapshot(&app).await, before);
    assert_eq!(ivr_status(&app, d.contract).await.0, 1);
    app.stop().await;
}

#[tokio::test]
async fn the_cli_simulation_prints_the_table_and_changes_nothing() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let d = debtor(&admin, 60, &[(30, 100.0)], json!({}), json!({})).await;
    let before = snapshot(&app).await;
    std::fs::write(
        app.dir.path().join("ura.toml"),
        "[cobranca]\nativo = true\naviso_antecedencia = 0\nhorario = \"00:00-24:00\"\n\
         dias_uteis = false\ndias_bloqueio = 10\n",
    )
    .unwrap();
    let out = crate::process::run(
        app.dir.path(),
        &[
            "cobranca",
            "executar",
            "--simular",
            "--database",
            &app.settings.database_url,
        ],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let mut rows = out.stdout.lines();
    let header = rows.next().unwrap_or_default();
    for column in [
        "contrato",
        "cliente",
        "fatura",
        "dias",
        "valor",
        "ação",
        "protocolo",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let mine: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.split_whitespace().next() == Some(d.contract.to_string().as_str()))
        .collect();
    assert_eq!(mine.len(), 2, "{}", out.stdout);
    for (line, action) in mine.iter().zip(["aviso de suspensão", "suspensão"]) {
        assert!(line.contains(&d.name), "{line}");
        assert!(line.contains(&d.first_due), "{line}");
        assert!(line.contains(" 30 "), "{line}");
        assert!(line.contains("R$ 100,00"), "{line}");
        assert!(line.contains(action), "{line}");
        assert!(line.trim_end().ends_with('-'), "no protocol: {line}");
    }
    assert!(
        out.stderr.contains("simulação:") && out.stderr.contains("nada foi alterado"),
        "{}",
        out.stderr
    );
    assert_eq!(snapshot(&app).await, before);
    assert_eq!(ivr_status(&app, d.contract).await.0, 1);
    assert_eq!(groups_of(&app, &d.login).await, vec![d.plan_group.clone()]);

    // Off in the settings: the command refuses, naming the setting.
    std::fs::write(
        app.dir.path().join("ura.toml"),
        "[cobranca]\nativo = false\n",
    )
    .unwrap();
    let out = crate::process::run(
        app.dir.path(),
        &[
            "cobranca",
            "executar",
            "--simular",
            "--database",
            &app.settings.database_url,
        ],
    )
    .await;
    assert_ne!(out.code, Some(0), "{}", out.stdout);
    assert!(out.stderr.contains("cobranca.ativo"), "{}", out.stderr);
    app.stop().await;
}

/// More overdue contracts than one transaction's batch of notices, and two runs at once (the
/// admin API and the command line): each contract gets one notice, with a protocol of its
/// own and its messages (all of the customer's e-mails in one, the first mobile), and no
/// protocol is left behind by the run that found the notice already sent.
#[tokio::test]
async fn notices_go_out_once_each_across_batches_and_two_runs_at_once() {
    let app = spawn_with(rule_on(|c| c.aviso_antecedencia = 5)).await;
    let admin = Admin::new(&app).await;
    let mut debtors = Vec::new();
    for n in 0..230 {
        let reais = 100.0 + f64::from(n);
        debtors.push(debtor(&admin, 700 + n, &[(30, reais)], json!({}), json!({})).await);
    }
    // One customer with a second e-mail (and a blank one), one with no contact at all.
    let two_emails = &debtors[7];
    let silent = &debtors[150];
    app.exec(&format!(
        "INSERT INTO customer_contacts (customer_id, kind, value) \
         SELECT customer_id, 'email', 'segundo@exemplo.com.br' FROM contracts WHERE id = {0}; \
         INSERT INTO customer_contacts (customer_id, kind, value) \
         SELECT customer_id, 'email', '  ' FROM contracts WHERE id = {0}; \
         DELETE FROM customer_contacts WHERE customer_id = \
         (SELECT customer_id FROM contracts WHERE id = {1})",
        two_emails.contract, silent.contract
    ))
    .await;
    std::fs::write(
        app.dir.path().join("ura.toml"),
        "[cobranca]\nativo = true\naviso_antecedencia = 5\nhorario = \"00:00-24:00\"\n\
         dias_uteis = false\ndias_bloqueio = 10\n",
    )
    .unwrap();
    let url = app.settings.database_url.clone();
    let args = ["cobranca", "executar", "--database", url.as_str()];
    let cli = crate::process::run(app.dir.path(), &args);
    let (lines, out) = tokio::join!(admin.run(false), cli);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);

    let mut protocols = std::collections::HashSet::new();
    for (i, d) in debtors.iter().enumerate() {
        let notices: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT step, debt_due_on, protocol FROM dunning_notices WHERE contract_id = $1",
        )
        .bind(d.contract)
        .fetch_all(app.store.pool())
        .await
        .unwrap();
        assert_eq!(notices.len(), 1, "contract {}: {notices:?}", d.contract);
        let (step, due, protocol) = &notices[0];
        assert_eq!(
            (step.as_str(), due.as_str()),
            ("bloqueio", d.first_due.as_str())
        );
        assert!(
            protocols.insert(protocol.clone()),
            "protocol {protocol} twice"
        );
        let owners = app
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM protocols WHERE contract_id = {} AND origin = 'cobranca_aviso'",
                d.contract
            ))
            .await;
        assert_eq!(
            owners, 1,
            "contract {}: protocols of its notices",
            d.contract
        );
        assert_protocol_today(&app, &json!(protocol));
        // The report that sent it says so, with the same protocol; the other did not send it.
        let reported = lines_of(&lines, d.contract);
        let by_api = reported.iter().any(|l| l["executada"] == json!(true));
        if by_api {
            assert_eq!(reported[0]["protocolo"], json!(protocol), "{reported:?}");
        }
        let by_cli = out.stdout.lines().any(|l| {
            l.split_whitespace().next() == Some(d.contract.to_string().as_str())
                && l.trim_end().ends_with(protocol.as_str())
        });
        assert!(
            by_api != by_cli,
            "contract {}: api {by_api}, cli {by_cli}",
            d.contract
        );

        let sent: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT channel, recipient, body, protocol FROM messages WHERE contract_id = $1 ORDER BY id",
        )
        .bind(d.contract)
        .fetch_all(app.store.pool())
        .await
        .unwrap();
        if d.contract == silent.contract {
            assert!(sent.is_empty(), "{sent:?}");
            continue;
        }
        let email = if d.contract == two_emails.contract {
            format!("{}, segundo@exemplo.com.br", d.email)
        } else {
            d.email.clone()
        };
        assert_eq!(sent.len(), 2, "contract {}: {sent:?}", d.contract);
        assert_eq!((sent[0].0.as_str(), &sent[0].1), ("email", &email));
        assert_eq!((sent[1].0.as_str(), &sent[1].1), ("sms", &d.mobile));
        for (_, _, body, p) in &sent {
            assert_eq!(p.as_deref(), Some(protocol.as_str()));
            assert!(body.contains(&format!("contrato {}", d.contract)), "{body}");
            assert!(body.contains(protocol.as_str()), "{body}");
        }
        let reais = format!("R$ {},00", 100 + i);
        assert!(sent[1].2.contains(&reais), "{reais}: {}", sent[1].2);
        assert!(sent[0].2.contains(&d.name), "{}", sent[0].2);
    }
    // Nothing else was left: no protocol of a notice without its notice.
    let orphans = app
        .scalar_i64(
            "SELECT COUNT(*) FROM protocols p WHERE origin = 'cobranca_aviso' AND NOT EXISTS \
             (SELECT 1 FROM dunning_notices n WHERE n.protocol = p.protocol)",
        )
        .await;
    assert_eq!(orphans, 0);
    // The next run has nothing to send.
    let before = snapshot(&app).await;
    admin.run(false).await;
    assert_eq!(snapshot(&app).await, before);
    app.stop().await;
}

/// A run over more debtors than it delivers to itself, while the mail server is silent: the
/// run records every notice without waiting for it, leaves the messages past its own
/// deliveries queued, and the outbox's worker sends those; every e-mail reaches the server
/// exactly once.
#[tokio::test]
async fn a_run_does_not_wait_for_the_mail_server_and_the_outbox_sends_the_rest() {
    let (open, gate) = tokio::sync::watch::channel(false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let received = mails.clone();
    let peer = tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let (mut gate, mails) = (gate.clone(), received.clone());
            tokio::spawn(async move {
                // Silent until the test opens the gate, then a plain SMTP server.
                if gate.wait_for(|open| *open).await.is_ok() {
                    let _ = crate::fatura::smtp_session(sock, mails).await;
                }
            });
        }
    });
    let app = spawn_with(move |s| {
        rule_on(|c| c.aviso_antecedencia = 5)(s);
        s.smtp.url = Some(format!("smtp://127.0.0.1:{port}"));
        s.fatura.tempo_max = 60.0;
        s.fatura.reenviar = 0.2;
    })
    .await;
    let admin = Admin::new(&app).await;
    let mut debtors = Vec::new();
    for n in 0..450 {
        debtors.push(debtor(&admin, 1000 + n, &[(20, 50.0)], json!({}), json!({})).await);
    }
    let first = debtors[0].contract;

    let lines = tokio::time::timeout(std::time::Duration::from_secs(60), admin.run(false))
        .await
        .expect("the run waits for no mail server");
    for d in &debtors {
        let mine = lines_of(&lines, d.contract);
        assert_eq!(mine.len(), 1, "{mine:?}");
        assert_eq!(mine[0]["executada"], json!(true), "{mine:?}");
        assert_protocol_today(&app, &mine[0]["protocolo"]);
    }
    let count = |status: &str| {
        format!(
            "SELECT COUNT(*) FROM messages WHERE contract_id >= {first} AND status = '{status}'"
        )
    };
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM messages WHERE contract_id >= {first}"
        ))
        .await,
        900
    );
    let queued = app.scalar_i64(&count("queued")).await;
    assert!(
        queued > 0,
        "every message was held for a delivery of the run's own"
    );

    open.send_replace(true);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while app.scalar_i64(&count("sent")).await < 900 {
        assert!(
            std::time::Instant::now() < deadline,
            "not all sent: {} queued, {} sending, {} failed",
            app.scalar_i64(&count("queued")).await,
            app.scalar_i64(&count("sending")).await,
            app.scalar_i64(&count("failed")).await,
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mails = mails.lock().unwrap().clone();
    for d in &debtors {
        let to_them = mails
            .iter()
            .filter(|m| m.rcpt.iter().any(|r| r.contains(&d.email)))
            .count();
        assert_eq!(to_them, 1, "{}: {to_them} e-mails", d.email);
    }
    peer.abort();
    app.stop().await;
}
