//! Bank return files from outside (docs/bank-returns.md): the fixture files of every bank and
//! layout (tests/fixtures/cnab/README.md says what each holds) imported through the admin API,
//! the command line and the console; invoices registered with the nosso número as the file
//! prints it and as the slip prints it are paid and registered as the file says; a file
//! imported twice pays nothing twice; a broken file changes nothing.

use std::path::PathBuf;

use reqwest::header::COOKIE;
use serde_json::{Value, json};
use ura::settings::PartialPayment;

use crate::common::*;

/// One fixture file: its bank, and its three occurrences' nosso números as the file prints
/// them and as the bank's slip prints them (liquidation, entry confirmation, rejection).
struct Fixture {
    file: &'static str,
    bank: &'static str,
    numbers: [(&'static str, &'static str); 3],
}

/// Inter's CNAB 400 carries no fee (tarifa) field.
fn carries_fees(f: &Fixture) -> bool {
    f.bank != "077"
}

const FIXTURES: &[Fixture] = &[
    fx(
        "001_240.ret",
        "001",
        [
            ("12345670000000101", "12345670000000101"),
            ("12345670000000102", "12345670000000102"),
            ("12345670000000103", "12345670000000103"),
        ],
    ),
    fx(
        "041_240.ret",
        "041",
        [
            ("0000410171", "00004101-71"),
            ("0000410259", "00004102-59"),
            ("0000410336", "00004103-36"),
        ],
    ),
    fx(
        "033_240.ret",
        "033",
        [
            ("0000000033014", "000000003301-4"),
            ("0000000033022", "000000003302-2"),
            ("0000000033030", "000000003303-0"),
        ],
    ),
    fx(
        "104_240.ret",
        "104",
        [
            ("14000000000010401", "14000000000010401-4"),
            ("14000000000010402", "14000000000010402-2"),
            ("14000000000010403", "14000000000010403-0"),
        ],
    ),
    fx(
        "237_240.ret",
        "237",
        [
            ("000000237018", "09/00000023701-8"),
            ("000000237026", "09/00000023702-6"),
            ("000000237034", "09/00000023703-4"),
        ],
    ),
    fx(
        "341_240.ret",
        "341",
        [
            ("00034101", "109/00034101-0"),
            ("00034102", "109/00034102-9"),
            ("00034103", "109/00034103-7"),
        ],
    ),
    fx(
        "748_240.ret",
        "748",
        [
            ("262748010", "26/274801-0"),
            ("262748029", "26/274802-9"),
            ("262748037", "26/274803-7"),
        ],
    ),
    fx(
        "756_240.ret",
        "756",
        [
            ("0000756016", "0075601-6"),
            ("0000756024", "0075602-4"),
            ("0000756032", "0075603-2"),
        ],
    ),
    fx(
        "208_240.ret",
        "208",
        [
            ("00000000000000020801", "20801"),
            ("00000000000000020802", "20802"),
            ("00000000000000020803", "20803"),
        ],
    ),
    fx(
        "001_400.ret",
        "001",
        [
            ("12345670000000111", "12345670000000111"),
            ("12345670000000112", "12345670000000112"),
            ("12345670000000113", "12345670000000113"),
        ],
    ),
    fx(
        "041_400.ret",
        "041",
        [
            ("0000411148", "00004111-48"),
            ("0000411225", "00004112-25"),
            ("0000411302", "00004113-02"),
        ],
    ),
    fx(
        "033_400.ret",
        "033",
        [
            ("00033111", "0003311-1"),
            ("00033120", "0003312-0"),
            ("00033138", "0003313-8"),
        ],
    ),
    fx(
        "104_400.ret",
        "104",
        [
            ("14000000000010411", "14000000000010411-1"),
            ("14000000000010412", "14000000000010412-0"),
            ("14000000000010413", "14000000000010413-8"),
        ],
    ),
    fx(
        "237_400.ret",
        "237",
        [
            ("000000237115", "09/00000023711-5"),
            ("000000237123", "09/00000023712-3"),
            ("000000237131", "09/00000023713-1"),
        ],
    ),
    fx(
        "341_400.ret",
        "341",
        [
            ("00034111", "109/00034111-8"),
            ("00034112", "109/00034112-6"),
            ("00034113", "109/00034113-4"),
        ],
    ),
    fx(
        "748_400.ret",
        "748",
        [
            ("262748118", "26/274811-8"),
            ("262748126", "26/274812-6"),
            ("262748134", "26/274813-4"),
        ],
    ),
    fx(
        "756_400.ret",
        "756",
        [
            ("000000756113", "0075611-3"),
            ("000000756121", "0075612-1"),
            ("000000756130", "0075613-0"),
        ],
    ),
    fx(
        "077_400.ret",
        "077",
        [
            ("00000077119", "112/0000007711-9"),
            ("00000077127", "112/0000007712-7"),
            ("00000077135", "112/0000007713-5"),
        ],
    ),
];

const fn fx(
    file: &'static str,
    bank: &'static str,
    numbers: [(&'static str, &'static str); 3],
) -> Fixture {
    Fixture {
        file,
        bank,
        numbers,
    }
}

/// Every fixture: liquidation paid R$ 101,50 on 2026-03-10, face R$ 99,90, fee R$ 2,50.
const PAID: f64 = 101.5;
const PAID_ON: &str = "2026-03-10";

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cnab")
        .join(name)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

struct Admin<'a> {
    app: &'a TestApp,
    token: String,
}

impl Admin<'_> {
    async fn new(app: &TestApp) -> Admin<'_> {
        let token = ura::store::admin_tokens::create(&app.store, "retornos")
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

    /// Sends a return file as the raw body.
    async fn upload(&self, name: &str, bytes: Vec<u8>) -> Resp {
        self.app
            .send(
                self.app
                    .client
                    .post(self.url(&format!("retornos?nome={name}")))
                    .bearer_auth(&self.token)
                    .header("content-type", "application/octet-stream")
                    .body(bytes),
            )
            .await
    }

    /// Creates an open invoice of the demo contract 1001 due 2026-03-05; its id.
    async fn invoice(&self, our_number: &str, bank: Option<&str>, reais: f64) -> i64 {
        let mut body = json!({
            "contrato_id": 1001,
            "numero_documento": format!("RET-{our_number}"),
            "nosso_numero": our_number,
            "valor": reais,
            "emissao": "2026-02-20",
            "vencimento": "2026-03-05",
        });
        if let Some(bank) = bank {
            body["banco"] = json!(bank);
        }
        let r = self.post("faturas", body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.json["id"].as_i64().unwrap()
    }

    async fn invoice_json(&self, id: i64) -> Value {
        let r = self.get(&format!("faturas/{id}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.json
    }

    /// The invoice's history: (tipo, valor).
    async fn history(&self, id: i64) -> Vec<(String, Value)> {
        let r = self.get(&format!("faturas/{id}/historico")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.json["eventos"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", r.body))
            .iter()
            .map(|e| (e["tipo"].as_str().unwrap().to_string(), e["valor"].clone()))
            .collect()
    }
}

/// The report's lines: (resultado, fatura).
fn outcomes(report: &Value) -> Vec<(String, Option<i64>)> {
    report["linhas"]
        .as_array()
        .unwrap_or_else(|| panic!("no linhas: {report}"))
        .iter()
        .map(|l| {
            (
                l["resultado"].as_str().unwrap().to_string(),
                l["fatura"].as_i64(),
            )
        })
        .collect()
}

fn pair(outcome: &str, invoice: i64) -> (String, Option<i64>) {
    (outcome.to_string(), Some(invoice))
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.scalar_i64(sql).await
}

/// For every bank and layout: the liquidation pays its invoice at the amount and date of the
/// file, the entry confirmation and the rejection go to their invoices' history; the nosso
/// número matches whether the invoice holds it as the file prints it or as the slip does, and
/// with or without the bank. The same file again pays nothing twice.
#[tokio::test]
async fn every_bank_and_layout_pays_and_registers_as_the_file_says() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    for (n, f) in FIXTURES.iter().enumerate() {
        // Alternate the forms: the file's on one invoice, the slip's on the next.
        let form = |i: usize| {
            let (printed, slip) = f.numbers[i];
            if (n + i).is_multiple_of(2) {
                printed
            } else {
                slip
            }
        };
        let paid = admin.invoice(form(0), Some(f.bank), 99.9).await;
        let entry = admin.invoice(form(1), Some(f.bank), 120.0).await;
        // Registered without a bank, as the file prints the number: matched on it alone.
        let rejected = admin.invoice(f.numbers[2].0, None, 75.0).await;

        let r = admin.upload(f.file, fixture(f.file)).await;
        assert_eq!(r.status, 200, "{}: {}", f.file, r.body);
        let report = &r.json;
        assert_eq!(report["banco"], f.bank, "{}", f.file);
        assert_eq!(report["ja_importado"], false, "{}", f.file);
        assert_eq!(
            outcomes(report),
            vec![
                pair("pago", paid),
                pair("registrado", entry),
                pair("registrado", rejected)
            ],
            "{}: {}",
            f.file,
            r.body
        );
        assert_eq!(
            (
                report["ocorrencias"].as_i64(),
                report["pagos"].as_i64(),
                report["registrados"].as_i64()
            ),
            (Some(3), Some(1), Some(2)),
            "{}",
            f.file
        );
        assert_eq!(report["valor_pago"], json!(PAID), "{}", f.file);
        let fees = if carries_fees(f) {
            json!(2.5)
        } else {
            json!(0)
        };
        assert_eq!(report["tarifas"], fees, "{}", f.file);
        assert_eq!(report["linhas"][0]["tipo"], "liquidacao", "{}", f.file);
        assert_eq!(report["linhas"][1]["tipo"], "entrada", "{}", f.file);
        assert_eq!(report["linhas"][2]["tipo"], "rejeicao", "{}", f.file);

        let invoice = admin.invoice_json(paid).await;
        assert_eq!(invoice["status"], "pago", "{}: {invoice}", f.file);
        assert_eq!(invoice["data_pagamento"], PAID_ON, "{}", f.file);
        assert_eq!(invoice["valor_pago"], json!(PAID), "{}", f.file);
        for open in [entry, rejected] {
            assert_eq!(
                admin.invoice_json(open).await["status"],
                "aberto",
                "{}",
                f.file
            );
        }
        assert_eq!(
            admin.history(paid).await,
            vec![("liquidacao".to_string(), json!(PAID))],
            "{}",
            f.file
        );
        assert_eq!(
            admin.history(entry).await,
            vec![("entrada".into(), Value::Null)]
        );
        assert_eq!(
            admin.history(rejected).await,
            vec![("rejeicao".into(), Value::Null)]
        );

        // Again: the stored report, and nothing done.
        let again = admin.upload(f.file, fixture(f.file)).await;
        assert_eq!(again.status, 200, "{}", again.body);
        assert_eq!(again.json["ja_importado"], true, "{}", f.file);
        assert_eq!(again.json["id"], report["id"], "{}", f.file);
        assert_eq!(outcomes(&again.json), outcomes(report), "{}", f.file);
        assert_eq!(admin.history(paid).await.len(), 1, "{}", f.file);
        assert_eq!(admin.history(entry).await.len(), 1, "{}", f.file);
    }
    // The list, newest first, and each file's report.
    let list = admin.get("retornos?limit=5").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.json["paginacao"]["total"], FIXTURES.len());
    assert_eq!(
        list.json["registros"][0]["arquivo"],
        FIXTURES.last().unwrap().file
    );
    assert_eq!(list.json["registros"].as_array().unwrap().len(), 5);
    let id = list.json["registros"][0]["id"].as_i64().unwrap();
    let one = admin.get(&format!("retornos/{id}")).await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.json["linhas"].as_array().unwrap().len(), 3);
    assert_eq!(admin.get("retornos/999999").await.status, 404);
    assert_eq!(admin.get("retornos/x").await.status, 404);
    assert_eq!(admin.get("retornos?limit=0").await.status, 400);
    assert_eq!(admin.get("faturas/999999/historico").await.status, 404);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM bank_return_files").await,
        FIXTURES.len() as i64
    );
    app.stop().await;
}

/// No invoice: `desconhecido`; two invoices that could be the one, or a cancelled one:
/// `recusado` with the reason; nothing paid.
#[tokio::test]
async fn unknown_ambiguous_and_cancelled_lines_are_reported_not_applied() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    // 237_400: the liquidation's number on two invoices of the bank; nothing for the entry.
    let a = admin.invoice("09/00000023711-5", Some("237"), 99.9).await;
    let b = admin.invoice("000000237115", Some("237"), 99.9).await;
    let rejected = admin.invoice("000000237131", Some("237"), 75.0).await;
    let r = admin.upload("237_400.ret", fixture("237_400.ret")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let lines = r.json["linhas"].as_array().unwrap();
    assert_eq!(lines[0]["resultado"], "recusado", "{}", r.body);
    let reason = lines[0]["motivo"].as_str().unwrap();
    assert!(
        reason.contains(&a.to_string()) && reason.contains(&b.to_string()),
        "{reason}"
    );
    assert_eq!(lines[1]["resultado"], "desconhecido", "{}", r.body);
    assert_eq!(lines[1]["fatura"], Value::Null);
    assert_eq!(lines[2]["resultado"], "registrado");
    assert_eq!(lines[2]["fatura"], rejected);
    assert_eq!(
        (
            r.json["recusados"].as_i64(),
            r.json["desconhecidos"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(r.json["valor_pago"], json!(0));
    for id in [a, b] {
        assert_eq!(admin.invoice_json(id).await["status"], "aberto");
        assert!(admin.history(id).await.is_empty());
    }

    // 341_400: the liquidation of a cancelled invoice is refused; an invoice of another
    // bank with the same number is not the one.
    let cancelled = admin.invoice("109/00034111-8", Some("341"), 99.9).await;
    let other_bank = admin.invoice("00034111", Some("001"), 99.9).await;
    let r = admin
        .post(&format!("faturas/{cancelled}/cancelar"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = admin.upload("341_400.ret", fixture("341_400.ret")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let line = &r.json["linhas"][0];
    assert_eq!(line["resultado"], "recusado", "{}", r.body);
    assert_eq!(line["fatura"], cancelled);
    assert!(
        line["motivo"].as_str().unwrap().contains("cancelada"),
        "{line}"
    );
    assert_eq!(admin.invoice_json(cancelled).await["status"], "cancelado");
    assert_eq!(admin.invoice_json(other_bank).await["status"], "aberto");
    app.stop().await;
}

/// A payment below the invoice's amount: `quitar` (default) pays it and records the
/// difference; `manter_aberta` keeps it open and says so.
#[tokio::test]
async fn partial_payments_follow_the_setting() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let id = admin.invoice("00034101", Some("341"), 150.0).await;
    let r = admin.upload("341_240.ret", fixture("341_240.ret")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let line = &r.json["linhas"][0];
    assert_eq!(line["resultado"], "pago", "{}", r.body);
    assert!(line["motivo"].as_str().unwrap().contains("48,50"), "{line}");
    let invoice = admin.invoice_json(id).await;
    assert_eq!(invoice["status"], "pago");
    assert_eq!(invoice["valor_pago"], json!(PAID));
    assert_eq!(
        admin.history(id).await,
        vec![
            ("liquidacao".to_string(), json!(PAID)),
            ("diferenca".to_string(), json!(48.5))
        ]
    );
    app.stop().await;

    let app = spawn_with(|s| s.retorno.pagamento_parcial = PartialPayment::ManterAberta).await;
    let admin = Admin::new(&app).await;
    let id = admin.invoice("00034101", Some("341"), 150.0).await;
    let r = admin.upload("341_240.ret", fixture("341_240.ret")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let line = &r.json["linhas"][0];
    assert_eq!(line["resultado"], "registrado", "{}", r.body);
    assert!(
        line["motivo"]
            .as_str()
            .unwrap()
            .contains("mantida em aberto"),
        "{line}"
    );
    assert_eq!(admin.invoice_json(id).await["status"], "aberto");
    assert_eq!(
        admin.history(id).await,
        vec![("pagamento_parcial".to_string(), json!(PAID))]
    );
    // A full payment is still a payment.
    let full = admin.invoice("00034111", Some("341"), 99.9).await;
    let r = admin.upload("341_400.ret", fixture("341_400.ret")).await;
    assert_eq!(r.json["linhas"][0]["resultado"], "pago", "{}", r.body);
    assert_eq!(admin.invoice_json(full).await["status"], "pago");
    app.stop().await;
}

/// `file` with its line `n` (1-based) cut to its first `keep` bytes.
fn cut_line(file: &str, n: usize, keep: usize) -> Vec<u8> {
    let bytes = fixture(file);
    let mut starts = vec![0];
    starts.extend(
        bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1),
    );
    let start = starts[n - 1];
    let mut out = bytes[..start + keep].to_vec();
    let end = starts[n] - 1;
    let end = if bytes[end - 1] == b'\r' {
        end - 1
    } else {
        end
    };
    out.extend_from_slice(&bytes[end..]);
    out
}

/// `file` with its first occurrence of `from` replaced by `to` (same length).
fn edited(file: &str, from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut bytes = fixture(file);
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .unwrap_or_else(|| panic!("{file} has no {from:?}"));
    bytes[at..at + to.len()].copy_from_slice(to);
    bytes
}

/// The same occurrences in another file (the bank sending a day again): nothing is applied
/// twice, and the report says where they were applied.
#[tokio::test]
async fn an_occurrence_repeated_by_another_file_is_not_applied_again() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let paid = admin.invoice("12345670000000111", Some("001"), 99.9).await;
    let entry = admin.invoice("12345670000000112", Some("001"), 120.0).await;
    let first = admin.upload("001_400.ret", fixture("001_400.ret")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.json["pagos"], 1, "{}", first.body);
    // Another file: the header's company name differs, the lines are the same.
    let copy = edited("001_400.ret", b"PROVEDOR", b"PROVEDOX");
    let second = admin.upload("001_400-copia.ret", copy).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.json["ja_importado"], false);
    assert_ne!(second.json["id"], first.json["id"]);
    let lines = second.json["linhas"].as_array().unwrap();
    assert_eq!(lines[0]["resultado"], "ja_pago", "{}", second.body);
    assert_eq!(lines[0]["fatura"], paid);
    assert_eq!(lines[1]["resultado"], "registrado");
    for l in &lines[..2] {
        assert!(
            l["motivo"].as_str().unwrap().contains("já processada"),
            "{l}"
        );
    }
    assert_eq!(second.json["pagos"], 0);
    assert_eq!(admin.history(paid).await.len(), 1);
    assert_eq!(admin.history(entry).await.len(), 1);
    app.stop().await;
}

/// A file that does not read is refused whole, with its line and field; nothing is stored
/// or paid. Empty, oversized and unauthenticated uploads change nothing either.
#[tokio::test]
async fn a_broken_file_is_refused_whole_and_changes_nothing() {
    let app = spawn_with(|s| s.retorno.tamanho_max = 4096).await;
    let admin = Admin::new(&app).await;
    let paid = admin.invoice("12345670000000111", Some("001"), 99.9).await;
    // The second line (the liquidation) cut short.
    let good = fixture("001_400.ret");
    let r = admin
        .upload("quebrado.ret", cut_line("001_400.ret", 2, 200))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json["linha"], 2, "{}", r.body);
    assert!(!r.json["campo"].as_str().unwrap().is_empty(), "{}", r.body);
    assert!(
        r.json["detail"].as_str().unwrap().contains("linha 2"),
        "{}",
        r.body
    );
    // A letter in an amount of the liquidation.
    let bad_amount = edited("001_400.ret", b"0000000010150", b"00000000101X0");
    let r = admin.upload("quebrado2.ret", bad_amount).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json["linha"], 2, "{}", r.body);
    // Not a return file at all.
    let r = admin
        .upload("nada.txt", b"isto nao e um retorno\n".to_vec())
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Empty, too large, no token.
    let r = admin.upload("vazio.ret", Vec::new()).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = admin.upload("grande.ret", vec![b'0'; 5000]).await;
    assert_eq!(r.status, 413, "{}", r.body);
    let r = app
        .send(
            app.client
                .post(app.url("/admin/api/v1/retornos"))
                .body(fixture("001_400.ret")),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM bank_return_files").await,
        0
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM bank_return_lines").await,
        0
    );
    assert_eq!(admin.invoice_json(paid).await["status"], "aberto");
    assert!(admin.history(paid).await.is_empty());
    // The multipart field `arquivo` works, named by its file name.
    let form = reqwest::multipart::Form::new().part(
        "arquivo",
        reqwest::multipart::Part::bytes(good).file_name("CBR643.ret"),
    );
    let r = app
        .send(
            app.client
                .post(admin.url("retornos"))
                .bearer_auth(&admin.token)
                .multipart(form),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["arquivo"], "CBR643.ret");
    assert_eq!(r.json["pagos"], 1);
    let r = app
        .send(
            app.client
                .post(admin.url("retornos"))
                .bearer_auth(&admin.token)
                .multipart(reqwest::multipart::Form::new().text("outro", "x")),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.json["detail"].as_str().unwrap().contains("arquivo"),
        "{}",
        r.body
    );
    app.stop().await;
}

/// An import interrupted after its first lines were stored (the state a crash leaves:
/// each batch commits its lines with what they did) completes when the file is sent again,
/// without paying twice.
#[tokio::test]
async fn an_interrupted_import_completes_when_sent_again() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let paid = admin.invoice("0000410171", Some("041"), 99.9).await;
    let entry = admin.invoice("0000410259", Some("041"), 120.0).await;
    let r = admin.upload("041_240.ret", fixture("041_240.ret")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json["id"].as_i64().unwrap();
    let entry_line = r.json["linhas"][1]["linha"].as_i64().unwrap();
    // Back to the state of a crash after the liquidation's batch: the later lines and what
    // they did are gone, the file is not finished.
    app.exec(&format!(
        "DELETE FROM bank_return_lines WHERE file_id = {id} AND line >= {entry_line}; \
         DELETE FROM invoice_events WHERE invoice_id = {entry}; \
         UPDATE bank_return_files SET finished_at = NULL, paid = 0, registered = 0 WHERE id = {id}"
    ))
    .await;
    let r = admin.upload("041_240.ret", fixture("041_240.ret")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["id"], id);
    assert_eq!(r.json["retomado"], true, "{}", r.body);
    assert_eq!(r.json["ja_importado"], false);
    // The rejection's boleto is not registered here.
    assert_eq!(
        (
            &r.json["pagos"],
            &r.json["registrados"],
            &r.json["desconhecidos"]
        ),
        (&json!(1), &json!(1), &json!(1)),
        "{}",
        r.body
    );
    assert!(r.json["concluido_em"].is_string());
    assert_eq!(admin.history(paid).await.len(), 1, "paid once");
    assert_eq!(admin.history(entry).await.len(), 1);
    app.stop().await;
}

/// `ura retorno importar`: several files, a report each, exit status 1 when a line or a
/// file was refused.
#[tokio::test]
async fn the_command_line_imports_files_and_fails_on_refusals() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let paid = admin.invoice("0000756016", Some("756"), 99.9).await;
    let paid_400 = admin.invoice("0075611-3", Some("756"), 99.9).await;
    let db = app.settings.database_url.clone();
    let ura = |files: &[PathBuf]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ura"))
            .args(["retorno", "importar"])
            .args(files)
            .args(["--database", &db])
            .current_dir(app.dir.path())
            .output()
            .expect("run ura")
    };
    let out = ura(&[fixture_path("756_240.ret"), fixture_path("756_400.ret")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("756_240.ret: banco 756"), "{stdout}");
    assert!(stdout.contains("756_400.ret: banco 756"), "{stdout}");
    assert_eq!(stdout.matches("pagos: 1").count(), 2, "{stdout}");
    assert_eq!(admin.invoice_json(paid).await["status"], "pago");
    assert_eq!(admin.invoice_json(paid_400).await["status"], "pago");

    // Again: already imported, nothing done, success.
    let out = ura(&[fixture_path("756_240.ret")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("já importado"), "{stdout}");
    assert_eq!(admin.history(paid).await.len(), 1);

    // A refused line (a cancelled invoice) fails the run; the file's other lines applied.
    let cancelled = admin.invoice("000000003301-4", Some("033"), 99.9).await;
    let entry = admin.invoice("000000003302-2", Some("033"), 120.0).await;
    let r = admin
        .post(&format!("faturas/{cancelled}/cancelar"), json!({}))
        .await;
    assert_eq!(r.status, 200);
    let out = ura(&[fixture_path("033_240.ret")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("recusado"), "{stdout}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 linha(s) recusada(s)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(admin.history(entry).await.len(), 1);

    // A file that does not read: exit 1, its line named, nothing of it stored; the other
    // file of the run is imported.
    let broken = app.dir.path().join("quebrado.ret");
    std::fs::write(&broken, cut_line("041_400.ret", 2, 150)).unwrap();
    let before = count(&app, "SELECT COUNT(*) FROM bank_return_files").await;
    let out = ura(&[broken, fixture_path("104_400.ret")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("quebrado.ret: arquivo recusado: linha 2"),
        "{stderr}"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM bank_return_files").await,
        before + 1
    );
    app.stop().await;
}

/// The console: an agent uploads a file (CSRF checked) and reads its report; the list shows
/// the files imported.
#[tokio::test]
async fn the_console_uploads_a_file_and_shows_its_report() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let paid = admin.invoice("000000003301-4", Some("033"), 99.9).await;
    scan::secret("senha-forte-123");
    ura::store::agents::create(&app.store, "caixa", "Caixa", "senha-forte-123", None)
        .await
        .unwrap();
    let (cookie, csrf) = sign_in(&app, "caixa", "senha-forte-123").await;
    let page = app
        .send(
            app.client
                .get(app.url("/painel/retornos"))
                .header(COOKIE, &cookie),
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("enctype=\"multipart/form-data\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("Nenhum arquivo de retorno importado"));

    let upload = |token: &str| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", token.to_string())
            .part(
                "arquivo",
                reqwest::multipart::Part::bytes(fixture("033_240.ret")).file_name("033_240.ret"),
            );
        app.client
            .post(app.url("/painel/retornos"))
            .header(COOKIE, &cookie)
            .multipart(form)
    };
    // A wrong CSRF token: refused, nothing imported.
    let r = app.send(upload("errado")).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM bank_return_files").await,
        0
    );
    // Without a session: to the sign-in page.
    let r = app
        .send(
            app.client
                .post(app.url("/painel/retornos"))
                .multipart(reqwest::multipart::Form::new().text("csrf", csrf.clone())),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    let r = app.send(upload(&csrf)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("data-resultado=\"pago\""), "{}", r.body);
    assert!(r.body.contains("033_240.ret"));
    assert!(!r.body.contains("id=\"ja-importado\""));
    assert_eq!(admin.invoice_json(paid).await["status"], "pago");
    let again = app.send(upload(&csrf)).await;
    assert_eq!(again.status, 200);
    assert!(again.body.contains("id=\"ja-importado\""), "{}", again.body);

    // A broken file: the page names the line, nothing imported.
    let broken = cut_line("033_400.ret", 2, 120);
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part(
            "arquivo",
            reqwest::multipart::Part::bytes(broken).file_name("x.ret"),
        );
    let r = app
        .send(
            app.client
                .post(app.url("/painel/retornos"))
                .header(COOKIE, &cookie)
                .multipart(form),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("linha 2"), "{}", r.body);

    let list = app
        .send(
            app.client
                .get(app.url("/painel/retornos"))
                .header(COOKIE, &cookie),
        )
        .await;
    assert_eq!(list.status, 200);
    assert_eq!(
        list.body.matches("data-retorno=").count(),
        1,
        "{}",
        list.body
    );
    assert!(list.body.contains("painel:caixa"));
    let id = count(&app, "SELECT MAX(id) FROM bank_return_files").await;
    let one = app
        .send(
            app.client
                .get(app.url(&format!("/painel/retornos/{id}")))
                .header(COOKIE, &cookie),
        )
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body.matches("data-linha=").count(), 3, "{}", one.body);
    app.stop().await;
}

/// Signs in through the form (its CSRF cookie first); the session cookie and the page's
/// CSRF token.
async fn sign_in(app: &TestApp, login: &str, password: &str) -> (String, String) {
    let cookie_of = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                let (k, val) = v.split(';').next()?.trim().split_once('=')?;
                (k == name).then(|| val.to_string())
            })
    };
    let csrf_in = |html: &str| {
        let marker = "name=\"csrf\" value=\"";
        let rest = &html[html.find(marker).expect("csrf field") + marker.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    };
    let form = app
        .client
        .get(app.url("/painel/entrar"))
        .send()
        .await
        .unwrap();
    let login_cookie = cookie_of(&form, "ura_painel_csrf").unwrap();
    let token = csrf_in(&form.text().await.unwrap());
    let r = app
        .client
        .post(app.url("/painel/entrar"))
        .header(COOKIE, format!("ura_painel_csrf={login_cookie}"))
        .form(&[("login", login), ("senha", password), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = format!("ura_painel={}", cookie_of(&r, "ura_painel").unwrap());
    let page = app
        .send(
            app.client
                .get(app.url("/painel/retornos"))
                .header(COOKIE, &cookie),
        )
        .await;
    (cookie, csrf_in(&page.body))
}
