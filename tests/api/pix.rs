//! The PSP's PIX webhook over HTTP: a notice pays the invoice holding its txid, a replay (100
//! at once) pays once, an unknown txid is kept, listed and counted, only the secret (in the
//! URL or as the body's HMAC) and the allowed networks get in, bad bodies store nothing, a
//! partial payment records the difference, and refunds returning the whole payment open the
//! invoice again. The demo's open invoices hold the txids `FAT{id}`.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::*;

const SECRET: &str = "segredo-do-psp-0123456789";

async fn pix_app() -> TestApp {
    pix_app_with(|_| {}).await
}

async fn pix_app_with(configure: impl FnOnce(&mut ura::settings::Settings)) -> TestApp {
    scan::secret(SECRET);
    spawn_with(|s| {
        s.pix.webhook_segredo = Some(SECRET.into());
        configure(s);
    })
    .await
}

/// A 32-character endToEndId ending in `n`.
fn e2e(n: u32) -> String {
    format!("E00000000202612051300{n:011}")
}

fn entry(e2e: &str, txid: &str, valor: &str, horario: &str) -> Value {
    json!({
        "endToEndId": e2e, "txid": txid, "valor": valor, "horario": horario,
        "infoPagador": "pagamento da fatura", "chave": "financeiro@provedor.example"
    })
}

fn notice(entries: &[Value]) -> Value {
    json!({ "pix": entries })
}

async fn deliver(app: &TestApp, path: &str, body: &Value) -> Resp {
    app.post_json(&app.url(path), body).await
}

fn with_secret(path: &str) -> String {
    format!("{path}?hmac={SECRET}")
}

async fn notices(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT COUNT(*) FROM pix_notices").await
}

async fn invoice(app: &TestApp, id: i64) -> (String, Option<String>, Option<i64>) {
    let status = app
        .scalar_str(&format!("SELECT status FROM invoices WHERE id = {id}"))
        .await
        .unwrap();
    let paid_on = app
        .scalar_str(&format!(
            "SELECT COALESCE(paid_on, '') FROM invoices WHERE id = {id}"
        ))
        .await
        .filter(|d| !d.is_empty());
    let paid_cents = app
        .scalar_i64(&format!(
            "SELECT COALESCE(paid_cents, -1) FROM invoices WHERE id = {id}"
        ))
        .await;
    (status, paid_on, (paid_cents >= 0).then_some(paid_cents))
}

async fn events(app: &TestApp, id: i64, kind: &str) -> i64 {
    app.scalar_i64(&format!(
        "SELECT COUNT(*) FROM invoice_events WHERE invoice_id = {id} AND kind = '{kind}'"
    ))
    .await
}

async fn metric(app: &TestApp, outcome: &str) -> i64 {
    let r = app.get(&app.url("/metrics")).await;
    assert_eq!(r.status, 200);
    let prefix = format!("ura_pix_notices_total{{outcome=\"{outcome}\"}} ");
    r.body
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0)
}

async fn admin_get(app: &TestApp, token: &str, path: &str) -> Resp {
    app.send(
        app.client
            .get(app.url(&format!("/admin/api/v1/{path}")))
            .bearer_auth(token),
    )
    .await
}

fn hmac_of(body: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

async fn deliver_signed(app: &TestApp, path: &str, body: &Value, signature: &str) -> Resp {
    app.send(
        app.client
            .post(app.url(path))
            .header("content-type", "application/json")
            .header("X-Webhook-Signature", signature)
            .body(body.to_string()),
    )
    .await
}

#[tokio::test]
async fn a_notice_pays_the_invoice_of_its_txid_on_the_local_date() {
    let app = pix_app().await;
    assert_eq!(invoice(&app, 10012).await.0, "open");
    // 22:30 in São Paulo is already the next day in UTC: the invoice is paid on the 5th.
    let body = notice(&[entry(
        &e2e(1),
        "FAT10012",
        "129.90",
        "2026-12-05T22:30:00.00-03:00",
    )]);
    let r = deliver(&app, &with_secret("/webhooks/pix/pix"), &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["recebidas"], 1, "{}", r.body);
    assert_eq!(r.json["resultados"][0]["resultado"], "pago", "{}", r.body);
    assert_eq!(r.json["resultados"][0]["fatura"], 10012, "{}", r.body);
    assert_eq!(
        invoice(&app, 10012).await,
        ("paid".into(), Some("2026-12-05".into()), Some(12990))
    );
    assert_eq!(events(&app, 10012, "pago").await, 1);
    assert_eq!(
        app.scalar_str("SELECT outcome FROM pix_notices")
            .await
            .as_deref(),
        Some("pago")
    );
    // The instant is kept in UTC beside the text the PSP wrote.
    let stored = app
        .scalar_str("SELECT paid_at FROM pix_notices")
        .await
        .unwrap();
    assert!(stored.starts_with("2026-12-06T01:30:00"), "{stored}");
    assert_eq!(metric(&app, "pago").await, 1);

    // The admin API lists it, with the invoice it paid.
    let token = ura::store::admin_tokens::create(&app.store, "operador")
        .await
        .unwrap();
    let r = admin_get(&app, &token, "pix?fatura=10012").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["paginacao"]["total"], 1, "{}", r.body);
    let listed = &r.json["registros"][0];
    assert_eq!(listed["endToEndId"], e2e(1));
    assert_eq!(listed["valor"], json!(129.9));
    assert_eq!(listed["resultado"], "pago");
    assert_eq!(listed["horario"], "2026-12-05T22:30:00.00-03:00");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_notice_replayed_100_times_at_once_pays_once() {
    let app = pix_app().await;
    let body = notice(&[entry(
        &e2e(2),
        "FAT10021",
        "49.90",
        "2026-12-05T10:00:00-03:00",
    )]);
    let url = app.url(&with_secret("/webhooks/pix"));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let client = app.client.clone();
        let url = url.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let r = client.post(&url).json(&body).send().await.expect("send");
            let status = r.status().as_u16();
            let json: Value = r.json().await.unwrap_or(Value::Null);
            (status, json)
        }));
    }
    let mut paid = 0;
    for task in tasks {
        let (status, json) = task.await.unwrap();
        assert_eq!(status, 200, "{json}");
        match json["resultados"][0]["resultado"].as_str() {
            Some("pago") => paid += 1,
            Some("repetida") => {}
            other => panic!("{other:?}: {json}"),
        }
    }
    assert_eq!(paid, 1, "exactly one delivery paid");
    assert_eq!(notices(&app).await, 1);
    assert_eq!(
        invoice(&app, 10021).await,
        ("paid".into(), Some("2026-12-05".into()), Some(4990))
    );
    assert_eq!(events(&app, 10021, "pago").await, 1);
    assert_eq!(metric(&app, "pago").await, 1);
    assert_eq!(metric(&app, "repetida").await, 99);
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_txid_is_kept_listed_first_and_counted() {
    let app = pix_app().await;
    let body = notice(&[
        entry(&e2e(3), "FAT10022", "99.90", "2026-12-05T09:00:00-03:00"),
        entry(
            &e2e(4),
            "NAOEXISTE123",
            "15.00",
            "2026-12-05T09:01:00-03:00",
        ),
        // A payment to the key with no charge behind it.
        json!({"endToEndId": e2e(5), "valor": "20.00", "horario": "2026-12-05T09:02:00Z"}),
        // The cancelled invoice's txid: refused, with the reason.
        entry(&e2e(6), "FAT40011", "99.90", "2026-12-05T09:03:00-03:00"),
        // The invoice paid before: nothing changes.
        entry(&e2e(7), "FAT10011", "129.90", "2026-12-05T09:04:00-03:00"),
    ]);
    let r = deliver(&app, &with_secret("/webhooks/pix"), &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let outcomes: Vec<&str> = r.json["resultados"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resultado"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "pago",
            "desconhecido",
            "desconhecido",
            "recusado",
            "ja_pago"
        ]
    );
    assert_eq!(notices(&app).await, 5, "every payment is kept");
    assert_eq!(invoice(&app, 40011).await.0, "cancelled");
    assert_eq!(
        app.scalar_str(&format!(
            "SELECT reason FROM pix_notices WHERE end_to_end_id = '{}'",
            e2e(6)
        ))
        .await
        .as_deref(),
        Some("fatura cancelada")
    );
    assert_eq!(events(&app, 10011, "pix_sem_efeito").await, 1);
    assert_eq!(metric(&app, "desconhecido").await, 2);
    assert_eq!(metric(&app, "recusado").await, 1);
    assert_eq!(metric(&app, "ja_pago").await, 1);

    let token = ura::store::admin_tokens::create(&app.store, "operador")
        .await
        .unwrap();
    let r = admin_get(&app, &token, "pix?resultado=desconhecido").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["paginacao"]["total"], 2, "{}", r.body);
    assert_eq!(r.json["registros"][0]["fatura_id"], Value::Null);
    // Those that paid nothing first.
    let r = admin_get(&app, &token, "pix?ordem=pendentes_primeiro&limit=2").await;
    assert_eq!(r.json["paginacao"]["total"], 5, "{}", r.body);
    for listed in r.json["registros"].as_array().unwrap() {
        let outcome = listed["resultado"].as_str().unwrap();
        assert!(
            ["desconhecido", "recusado"].contains(&outcome),
            "{}",
            r.body
        );
    }
    for bad in [
        "pix?resultado=talvez",
        "pix?fatura=x",
        "pix?ordem=aleatoria",
        "pix?cor=azul",
    ] {
        let r = admin_get(&app, &token, bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    let r = app.get(&app.url("/admin/api/v1/pix")).await;
    assert_eq!(r.status, 401);

    // The console lists them, the unmatched first.
    let agent = sign_in(&app).await;
    let r = app
        .send(
            app.client
                .get(app.url("/painel/pix"))
                .header(COOKIE, &agent),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let unknown = r.body.find("NAOEXISTE123").expect("unknown txid listed");
    let paid = r.body.find("FAT10022").expect("paid notice listed");
    assert!(unknown < paid, "unmatched first");
    assert!(r.body.contains("id=\"pix-pendentes\""), "{}", r.body);
    // Without a session: the sign-in page.
    let r = app.get(&app.url("/painel/pix")).await;
    assert_ne!(r.status, 200);
    app.stop().await;
}

/// Signs in a new agent; its session cookie.
async fn sign_in(app: &TestApp) -> String {
    const PASSWORD: &str = "senha-do-atendente-1";
    scan::secret(PASSWORD);
    ura::store::agents::create(&app.store, "pix.atendente", "Atendente", PASSWORD, None)
        .await
        .unwrap();
    let form = app
        .client
        .get(app.url("/painel/entrar"))
        .send()
        .await
        .unwrap();
    let cookie = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                let (k, val) = v.split(';').next()?.trim().split_once('=')?;
                (k == name).then(|| val.to_string())
            })
    };
    let csrf_cookie = cookie(&form, "ura_painel_csrf").unwrap();
    let html = form.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let rest = &html[html.find(marker).unwrap() + marker.len()..];
    let csrf = &rest[..rest.find('"').unwrap()];
    let r = app
        .client
        .post(app.url("/painel/entrar"))
        .header(COOKIE, format!("ura_painel_csrf={csrf_cookie}"))
        .form(&[
            ("login", "pix.atendente"),
            ("senha", PASSWORD),
            ("csrf", csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    format!("ura_painel={}", cookie(&r, "ura_painel").unwrap())
}

#[tokio::test]
async fn only_the_secret_or_the_bodys_hmac_gets_in() {
    let app = pix_app().await;
    let body = notice(&[entry(
        &e2e(10),
        "FAT20011",
        "499.00",
        "2026-12-05T08:00:00-03:00",
    )]);
    let raw = body.to_string();
    let mac = hmac_of(raw.as_bytes());
    let other_mac = hmac_of(b"{\"pix\":[]}");
    // Refused: no secret, a wrong one (query, path, with the suffix), a wrong HMAC.
    for path in [
        "/webhooks/pix".to_string(),
        "/webhooks/pix/pix".to_string(),
        "/webhooks/pix?hmac=segredo-errado-0123456789".to_string(),
        "/webhooks/pix?hmac=".to_string(),
        format!("/webhooks/pix?hmac={}", &SECRET[..SECRET.len() - 1]),
        "/webhooks/pix/segredo-errado-0123456789".to_string(),
        "/webhooks/pix/segredo-errado-0123456789/pix".to_string(),
    ] {
        let r = deliver(&app, &path, &body).await;
        assert_eq!(r.status, 401, "{path}: {}", r.body);
        assert_eq!(r.json["detail"], "Notificação não autenticada.");
    }
    for signature in [
        hex::encode(&other_mac),
        hex::encode(&mac[..31]),
        "sha256=".to_string(),
        SECRET.to_string(),
    ] {
        let r = deliver_signed(&app, "/webhooks/pix", &body, &signature).await;
        assert_eq!(r.status, 401, "{signature}: {}", r.body);
    }
    assert_eq!(notices(&app).await, 0, "nothing stored");
    assert_eq!(invoice(&app, 20011).await.0, "open", "nothing paid");

    // Accepted: each form, each a new payment (its own endToEndId).
    let mut n = 10;
    for path in [
        format!("/webhooks/pix?hmac={SECRET}"),
        format!("/webhooks/pix/pix?hmac={SECRET}"),
        format!("/webhooks/pix/{SECRET}"),
        format!("/webhooks/pix/{SECRET}/pix"),
    ] {
        n += 1;
        let body = notice(&[entry(&e2e(n), "OUTRO", "1.00", "2026-12-05T08:00:00Z")]);
        let r = deliver(&app, &path, &body).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    for signature in [
        hex::encode(&mac),
        format!("sha256={}", hex::encode(&mac)),
        base64::engine::general_purpose::STANDARD.encode(&mac),
    ] {
        let r = deliver_signed(&app, "/webhooks/pix/pix", &body, &signature).await;
        assert_eq!(r.status, 200, "{signature}: {}", r.body);
    }
    assert_eq!(notices(&app).await, 5);
    assert_eq!(invoice(&app, 20011).await.0, "paid");
    // The secret is never logged; the paths it rode in are logged without it.
    app.stop().await;

    // No secret configured: the webhook is off.
    let off = spawn().await;
    for path in ["/webhooks/pix", "/webhooks/pix/pix"] {
        let r = deliver(&off, &with_secret(path), &body).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert!(
            r.json["detail"]
                .as_str()
                .unwrap()
                .contains("pix.webhook_segredo")
        );
    }
    assert_eq!(notices(&off).await, 0);
    off.stop().await;
}

#[tokio::test]
async fn the_allowlist_refuses_other_addresses() {
    let body = notice(&[entry(
        &e2e(20),
        "FAT30011",
        "79.90",
        "2026-12-05T08:00:00-03:00",
    )]);
    let app = pix_app_with(|s| s.pix.redes_permitidas = vec!["10.0.0.0/8".into()]).await;
    let r = deliver(&app, &with_secret("/webhooks/pix"), &body).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(notices(&app).await, 0);
    assert_eq!(invoice(&app, 30011).await.0, "open");
    app.stop().await;

    let app =
        pix_app_with(|s| s.pix.redes_permitidas = vec!["10.0.0.0/8".into(), "127.0.0.1".into()])
            .await;
    let r = deliver(&app, &with_secret("/webhooks/pix"), &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(invoice(&app, 30011).await.0, "paid");
    app.stop().await;
}

#[tokio::test]
async fn malformed_bodies_are_refused_and_store_nothing() {
    let app = pix_app_with(|s| s.pix.corpo_max = 4096).await;
    let good = entry(&e2e(30), "FAT10012", "129.90", "2026-12-05T08:00:00-03:00");
    let with = |field: &str, value: Value| {
        let mut e = good.clone();
        e[field] = value;
        // A good entry first: the whole notice is refused, the good one included.
        notice(&[good.clone(), e]).to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        ("{".into(), "JSON inválido"),
        ("[]".into(), "o corpo deve ser um objeto"),
        ("{}".into(), "pix: campo obrigatório."),
        (json!({"pix": "x"}).to_string(), "pix: deve ser uma lista."),
        (
            with("valor", json!("12,90")),
            "pix[1].valor: use o formato 123.45.",
        ),
        (
            with("valor", json!("0.00")),
            "pix[1].valor: deve ser maior que zero.",
        ),
        (
            with("valor", json!(null)),
            "pix[1].valor: campo obrigatório.",
        ),
        (
            with("horario", json!("05/12/2026")),
            "pix[1].horario: use data e hora RFC 3339",
        ),
        (
            with("endToEndId", json!(42)),
            "pix[1].endToEndId: deve ser um texto.",
        ),
        (
            with("txid", json!("com espaço")),
            "pix[1].txid: use de 1 a 35",
        ),
        (
            with(
                "devolucoes",
                json!([{"id": "D1", "valor": "1.00", "status": "?"}]),
            ),
            "pix[1].devolucoes[0].status:",
        ),
    ];
    for (body, expected) in cases {
        let r = app
            .post_raw(
                &app.url(&with_secret("/webhooks/pix")),
                "application/json",
                body.clone(),
            )
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        let detail = r.json["detail"].as_str().unwrap_or_default();
        assert!(detail.starts_with(expected), "{body}: {detail}");
    }
    let big = notice(&vec![good.clone(); 40]).to_string();
    assert!(big.len() > 4096);
    let r = app
        .post_raw(
            &app.url(&with_secret("/webhooks/pix")),
            "application/json",
            big,
        )
        .await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(notices(&app).await, 0);
    assert_eq!(invoice(&app, 10012).await.0, "open");
    app.stop().await;
}

#[tokio::test]
async fn a_partial_payment_pays_and_records_the_difference() {
    let app = pix_app().await;
    let body = notice(&[entry(
        &e2e(40),
        "FAT10022",
        "90.00",
        "2026-12-05T08:00:00-03:00",
    )]);
    let r = deliver(&app, &with_secret("/webhooks/pix"), &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["resultados"][0]["resultado"], "pago");
    assert_eq!(
        invoice(&app, 10022).await,
        ("paid".into(), Some("2026-12-05".into()), Some(9000))
    );
    assert_eq!(
        app.scalar_i64(
            "SELECT amount_cents FROM invoice_events WHERE invoice_id = 10022 \
             AND kind = 'pagamento_parcial'"
        )
        .await,
        990
    );
    app.stop().await;
}

fn refund(id: &str, valor: &str, status: &str) -> Value {
    json!({
        "id": id, "rtrId": format!("D00000000202612051400{:0>11}", id.len()), "valor": valor,
        "horario": {"solicitacao": "2026-12-05T14:00:00-03:00"}, "status": status
    })
}

#[tokio::test]
async fn a_whole_refund_opens_the_invoice_again() {
    let app = pix_app().await;
    let paid = entry(&e2e(50), "FAT10012", "129.90", "2026-12-05T08:00:00-03:00");
    let r = deliver(
        &app,
        &with_secret("/webhooks/pix"),
        &notice(std::slice::from_ref(&paid)),
    )
    .await;
    assert_eq!(r.json["resultados"][0]["resultado"], "pago", "{}", r.body);

    // The PSP tells of a refund in process, then of it settled with a second one: together
    // the whole amount.
    let mut refunded = paid.clone();
    refunded["devolucoes"] = json!([refund("D1", "100.00", "EM_PROCESSAMENTO")]);
    let r = deliver(
        &app,
        &with_secret("/webhooks/pix"),
        &notice(&[refunded.clone()]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["resultados"][0]["resultado"], "repetida");
    assert_eq!(r.json["resultados"][0]["devolucoes_registradas"], 1);
    assert_eq!(invoice(&app, 10012).await.0, "paid");
    refunded["devolucoes"] = json!([
        refund("D1", "100.00", "DEVOLVIDO"),
        refund("D2", "29.90", "DEVOLVIDO"),
    ]);
    let r = deliver(
        &app,
        &with_secret("/webhooks/pix"),
        &notice(&[refunded.clone()]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["resultados"][0]["devolucoes_registradas"], 2);
    assert_eq!(r.json["resultados"][0]["reaberta"], true, "{}", r.body);
    assert_eq!(invoice(&app, 10012).await, ("open".into(), None, None));
    assert_eq!(events(&app, 10012, "reaberta").await, 1);
    assert_eq!(events(&app, 10012, "devolucao").await, 3);
    // Replayed: nothing more.
    let r = deliver(&app, &with_secret("/webhooks/pix"), &notice(&[refunded])).await;
    assert_eq!(r.json["resultados"][0]["devolucoes_registradas"], 0);
    assert_eq!(r.json["resultados"][0]["reaberta"], false);
    assert_eq!(events(&app, 10012, "reaberta").await, 1);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM pix_refunds").await, 2);
    let token = ura::store::admin_tokens::create(&app.store, "operador")
        .await
        .unwrap();
    let r = admin_get(&app, &token, &format!("pix?endToEndId={}", e2e(50))).await;
    let listed = &r.json["registros"][0];
    assert_eq!(
        listed["devolucoes"].as_array().unwrap().len(),
        2,
        "{}",
        r.body
    );
    assert!(listed["reaberta_em"].is_string(), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn a_partial_refund_is_recorded_only() {
    let app = pix_app().await;
    let mut paid = entry(&e2e(60), "FAT10021", "49.90", "2026-12-05T08:00:00-03:00");
    paid["devolucoes"] = json!([refund("R1", "10.00", "DEVOLVIDO")]);
    // Payment and refund in one delivery.
    let r = deliver(&app, &with_secret("/webhooks/pix"), &notice(&[paid])).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["resultados"][0]["resultado"], "pago");
    assert_eq!(r.json["resultados"][0]["reaberta"], false);
    assert_eq!(invoice(&app, 10021).await.0, "paid");
    assert_eq!(events(&app, 10021, "devolucao").await, 1);
    assert_eq!(
        app.scalar_str("SELECT status FROM pix_refunds")
            .await
            .as_deref(),
        Some("DEVOLVIDO")
    );
    app.stop().await;
}
