//! Second copies of invoices (CONTRACT.md §3 and §2.3): `fatura2via`, `titulos`,
//! `pagamento/pix/{fatura}`, the signed links to the PDFs, the e-mail with the PDFs attached,
//! the durable outbox and SMS through a gateway.

use crate::common::*;
use crate::fatura::{SmtpPeer, base64_decode, closed_port, qp_decode, smtp_peer, smtp_session};

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeDelta, Utc};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const NOT_FOUND: &str = r#"{"detail":"Não encontrado."}"#;
const MARIA: &str = "MARIA DE TESTE SILVA";
const MARIA_CPF: &str = "529.982.247-25";
const MARIA_MASKED: &str = "529.NNN.247-NN";
const MARIA_MOBILE: &str = "84991380000";
const MARIA_EMAIL: &str = "maria.silva@example.com";
const JOSE_CPF: &str = "111.444.777-35";

// ---------------------------------------------------------------- helpers

/// A wire amount: a JSON number in reais, at most two decimals, equal to `cents`.
fn assert_money(v: &Value, cents: i64, what: &str) {
    let n = v
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {v}"));
    assert!(
        (n * 100.0 - cents as f64).abs() < 1e-6,
        "{what}: expected {} reais, got {v}",
        cents as f64 / 100.0
    );
    let text = v.to_string();
    if let Some((_, decimals)) = text.split_once('.') {
        assert!(
            decimals.len() <= 2,
            "{what}: more than two decimals: {text}"
        );
    }
    assert!(!text.contains(['e', 'E']), "{what}: exponent in {text}");
}

/// Fine and interest in centavos of `cents` that is `days` late, at `multa` % once and
/// `juros` % a month pro rata per day (30-day month), each rounded half-up to the centavo.
fn expected_charges(cents: i64, days: i64, multa: i64, juros: i64) -> (i64, i64) {
    if days <= 0 {
        return (0, 0);
    }
    let fine = (cents * multa + 50) / 100;
    let interest = (cents * juros * days + 1500) / 3000;
    (fine, interest)
}

fn br_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// `00190.00009 01234.567890 12345.678901 2 12340000004990`, as printed on a boleto.
fn format_linha(d: &str) -> String {
    assert_eq!(d.len(), 47, "{d}");
    format!(
        "{}.{} {}.{} {}.{} {} {}",
        &d[0..5],
        &d[5..10],
        &d[10..15],
        &d[15..21],
        &d[21..26],
        &d[26..32],
        &d[32..33],
        &d[33..47]
    )
}

/// Runs of whitespace as one space.
fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An invoice as stored (the fixture the answers are checked against).
#[derive(Debug, Clone)]
struct Inv {
    id: i64,
    cents: i64,
    issued: String,
    due: NaiveDate,
    /// The 47 digits.
    linha: String,
    barcode: String,
    pix: String,
}

async fn invoice(app: &TestApp, id: i64) -> Inv {
    let col = |c: &str| format!("SELECT {c} FROM invoices WHERE id = {id}");
    let text = |v: Option<String>, what: &str| v.unwrap_or_else(|| panic!("{what} of {id}"));
    let due = text(app.scalar_str(&col("due_on")).await, "due_on");
    Inv {
        id,
        cents: app.scalar_i64(&col("CAST(amount_cents AS BIGINT)")).await,
        issued: text(app.scalar_str(&col("issued_on")).await, "issued_on"),
        due: NaiveDate::parse_from_str(&due, "%Y-%m-%d").expect("due_on is a date"),
        linha: digits(&text(
            app.scalar_str(&col("digitable_line")).await,
            "digitable_line",
        )),
        barcode: text(app.scalar_str(&col("barcode")).await, "barcode"),
        pix: text(app.scalar_str(&col("pix_payload")).await, "pix_payload"),
    }
}

fn days_late(app: &TestApp, inv: &Inv) -> i64 {
    (today(&app.settings) - inv.due).num_days()
}

/// Checks that `link` is `{origin}/fatura/{id}/<expiry>-<signature>.pdf`; returns the expiry.
fn assert_link(link: &Value, origin: &str, id: i64) -> i64 {
    let link = link
        .as_str()
        .unwrap_or_else(|| panic!("link is not a string: {link}"));
    let prefix = format!("{origin}/fatura/{id}/");
    let rest = link
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{link} does not start with {prefix}"));
    let token = rest
        .strip_suffix(".pdf")
        .unwrap_or_else(|| panic!("{link} does not end with .pdf"));
    let (expiry, signature) = token
        .split_once('-')
        .unwrap_or_else(|| panic!("{link}: no <expiry>-<signature>"));
    assert!(
        !signature.is_empty()
            && signature
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{link}: signature {signature:?}"
    );
    expiry
        .parse()
        .unwrap_or_else(|_| panic!("{link}: expiry {expiry:?} is not a number"))
}

/// GET without following redirects: (status, Content-Type, body bytes).
async fn fetch(app: &TestApp, url: &str) -> (u16, String, Vec<u8>) {
    let response = app.client.get(url).send().await.expect("send");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = response.bytes().await.expect("body").to_vec();
    (status, content_type, body)
}

/// GETs an invoice link and checks it is a PDF; returns its bytes.
async fn fetch_pdf(app: &TestApp, url: &str) -> Vec<u8> {
    let (status, content_type, body) = fetch(app, url).await;
    assert_eq!(
        status,
        200,
        "{url}: {}",
        String::from_utf8_lossy(&body[..body.len().min(300)])
    );
    assert_eq!(content_type, "application/pdf", "{url}");
    assert!(body.starts_with(b"%PDF"), "{url}: not a PDF");
    body
}

/// A link that must not work: 404 with the JSON "not found" answer.
async fn assert_link_rejected(app: &TestApp, url: &str) {
    let (status, content_type, body) = fetch(app, url).await;
    assert_eq!(status, 404, "{url}");
    assert_eq!(content_type, "application/json", "{url}");
    assert_eq!(String::from_utf8_lossy(&body), NOT_FOUND, "{url}");
}

/// Whether poppler-utils (`pdftotext`, `pdftoppm`) is installed; when it is not, the PDF's
/// text is not checked and the run says so (`URA_TEST_REQUIRE_POPPLER=1`: a failure).
fn poppler(name: &str) -> bool {
    let found = std::process::Command::new("pdftotext")
        .arg("-v")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok();
    if !found {
        crate::skip::skip(
            "poppler",
            name,
            "pdftotext is not installed: the PDFs' text is not checked",
            "apt-get install poppler-utils",
            Some("POPPLER"),
        );
    }
    found
}

/// The text of a PDF as `pdftotext` reads it (poppler-utils); None without poppler.
async fn pdf_text(dir: &Path, name: &str, pdf: &[u8]) -> Option<String> {
    if !poppler(name) {
        return None;
    }
    let file = dir.join(format!("{name}.pdf"));
    std::fs::write(&file, pdf).expect("write pdf");
    let out = tokio::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .await
        .expect("run pdftotext (poppler-utils)");
    assert!(
        out.status.success(),
        "pdftotext failed on {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Renders the PDF's pages with `pdftoppm` and checks that a non-empty PNG comes out.
async fn assert_renders(dir: &Path, name: &str, pdf: &[u8]) {
    if !poppler(name) {
        return;
    }
    let file = dir.join(format!("{name}-r.pdf"));
    std::fs::write(&file, pdf).expect("write pdf");
    let prefix = format!("{name}-pagina");
    let out = tokio::process::Command::new("pdftoppm")
        .args(["-png", "-r", "40"])
        .arg(&file)
        .arg(dir.join(&prefix))
        .output()
        .await
        .expect("run pdftoppm (poppler-utils)");
    assert!(
        out.status.success(),
        "pdftoppm failed on {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pngs: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".png"))
        })
        .collect();
    assert!(!pngs.is_empty(), "pdftoppm rendered no page of {name}");
    for png in pngs {
        let bytes = std::fs::read(&png).expect("read png");
        assert!(
            bytes.len() > 100 && bytes.starts_with(b"\x89PNG"),
            "{} is not a PNG",
            png.display()
        );
    }
}

/// Checks that a PDF's text shows the amount and the formatted linha digitável.
async fn assert_pdf_shows(app: &TestApp, name: &str, pdf: &[u8], amount: &str, inv: &Inv) {
    let Some(text) = pdf_text(app.dir.path(), name, pdf).await else {
        return;
    };
    assert!(text.contains(amount), "{amount} not in the PDF:\n{text}");
    let linha = format_linha(&inv.linha);
    assert!(
        normalize(&text).contains(&linha),
        "linha digitável {linha} not in the PDF:\n{text}"
    );
}

async fn message_state(app: &TestApp, protocol: &str) -> (String, i64) {
    let status = app
        .scalar_str(&format!(
            "SELECT status FROM messages WHERE protocol = '{protocol}'"
        ))
        .await
        .expect("a messages row with the protocol");
    let attempts = app
        .scalar_i64(&format!(
            "SELECT CAST(attempts AS BIGINT) FROM messages WHERE protocol = '{protocol}'"
        ))
        .await;
    (status, attempts)
}

fn protocol_of(r: &Resp) -> String {
    let p = r.json["protocolo"]
        .as_str()
        .unwrap_or_else(|| panic!("no protocolo: {}", r.body))
        .to_string();
    assert!(
        p.len() >= 14 && p.bytes().all(|b| b.is_ascii_digit()),
        "{p}"
    );
    p
}

async fn poll_until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

// ---------------------------------------------------------------- MIME reading

#[derive(Debug, Clone)]
struct Part {
    headers: Vec<(String, String)>,
    /// The body decoded from its transfer encoding.
    body: Vec<u8>,
}

impl Part {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `text/plain` from `text/plain; charset=utf-8`, lower case.
    fn mime_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("text/plain")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn split_head(raw: &str) -> (&str, &str) {
    raw.split_once("\r\n\r\n")
        .or_else(|| raw.split_once("\n\n"))
        .unwrap_or((raw, ""))
}

/// Unfolded headers, in order.
fn parse_headers(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push_str(line);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`).
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut last_encoded = false;
    for token in value.split_whitespace() {
        let word = token
            .strip_prefix("=?")
            .and_then(|t| t.strip_suffix("?="))
            .and_then(|t| {
                let mut it = t.splitn(3, '?');
                Some((it.next()?, it.next()?, it.next()?))
            });
        match word {
            Some((_charset, enc, text)) => {
                if !last_encoded && !out.is_empty() {
                    out.push(' ');
                }
                if enc.eq_ignore_ascii_case("b") {
                    pending.extend(base64_decode(text));
                } else {
                    pending.extend(qp_decode(&text.replace('_', " ")));
                }
                last_encoded = true;
            }
            None => {
                out.push_str(&String::from_utf8_lossy(&pending));
                pending.clear();
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(token);
                last_encoded = false;
            }
        }
    }
    out.push_str(&String::from_utf8_lossy(&pending));
    out
}

/// The message's headers and its leaf parts (multiparts flattened, depth first).
fn parse_mime(raw: &str) -> (Vec<(String, String)>, Vec<Part>) {
    let (head, body) = split_head(raw);
    let headers = parse_headers(head);
    let mut leaves = Vec::new();
    collect_parts(headers.clone(), body, &mut leaves);
    (headers, leaves)
}

fn collect_parts(headers: Vec<(String, String)>, body: &str, out: &mut Vec<Part>) {
    let content_type = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if content_type.to_ascii_lowercase().starts_with("multipart/") {
        let boundary = param(&content_type, "boundary").expect("multipart without boundary");
        let open = format!("--{boundary}");
        let close = format!("--{boundary}--");
        let mut current: Option<String> = None;
        for line in body.split_inclusive('\n') {
            let bare = line.trim_end_matches(['\r', '\n']);
            if bare == open || bare == close {
                if let Some(part) = current.take() {
                    let (h, b) = split_head(&part);
                    collect_parts(parse_headers(h), b, out);
                }
                if bare == close {
                    break;
                }
                current = Some(String::new());
            } else if let Some(part) = current.as_mut() {
                part.push_str(line);
            }
        }
        return;
    }
    let encoding = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-transfer-encoding"))
        .map(|(_, v)| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let decoded = match encoding.as_str() {
        "base64" => base64_decode(body),
        "quoted-printable" => qp_decode(body),
        _ => body.as_bytes().to_vec(),
    };
    out.push(Part {
        headers,
        body: decoded,
    });
}

/// The readable text of a mail (its text/plain part).
fn plain_text(raw: &str) -> String {
    let (_, parts) = parse_mime(raw);
    parts
        .iter()
        .filter(|p| p.mime_type() == "text/plain")
        .map(Part::text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// An SMTP peer on a given port (the port a server was configured with while it was down).
async fn smtp_peer_on(port: u16) -> SmtpPeer {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind the SMTP port again");
    let mails = Arc::new(Mutex::new(Vec::new()));
    let shared = mails.clone();
    let task = tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let m = shared.clone();
            tokio::spawn(async move {
                let _ = smtp_session(sock, m).await;
            });
        }
    });
    SmtpPeer { port, mails, task }
}

fn mail_count(peer: &SmtpPeer) -> usize {
    peer.mails.lock().unwrap().len()
}

// ---------------------------------------------------------------- fatura2via

#[tokio::test]
async fn fatura2via_late_invoices_carry_fine_and_interest() {
    let app = spawn().await;
    let r = app.call("fatura2via", &[("contrato", "1002")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.content_type, "application/json");
    assert_eq!(
        keys(&r.json),
        sorted(&[
            "status",
            "razaoSocial",
            "cpfCnpj",
            "contratoId",
            "link",
            "links"
        ]),
        "{}",
        r.body
    );
    assert_eq!(r.json["status"], json!(1));
    assert_eq!(r.json["razaoSocial"], json!(MARIA));
    assert_eq!(r.json["cpfCnpj"], json!(MARIA_MASKED));
    assert_eq!(r.json["contratoId"], json!(1002));
    let links = r.json["links"].as_array().expect("links is an array");
    assert_eq!(links.len(), 2, "{}", r.body);
    assert_eq!(r.json["link"], links[0]["link"], "link is the first one's");

    let today = today(&app.settings);
    // (invoice, days late, fine, interest) — 49.90 × 2 % = 0.998 → 1.00 and
    // 49.90 × 1 % / 30 × 40 = 0.665 → 0.67; 99.90 × 2 % = 1.998 → 2.00 and
    // 99.90 × 1 % / 30 × 10 = 0.333 → 0.33.
    let expected = [(10021, 40, 100, 67), (10022, 10, 200, 33)];
    for (entry, (id, late, fine, interest)) in links.iter().zip(expected) {
        let inv = invoice(&app, id).await;
        assert_eq!(days_late(&app, &inv), late, "demo invoice {id}");
        assert_eq!(
            expected_charges(inv.cents, late, 2, 1),
            (fine, interest),
            "{id}"
        );
        assert_eq!(
            keys(entry),
            sorted(&[
                "id",
                "fatura",
                "valor",
                "valor_original",
                "vencimento",
                "vencimento_original",
                "juros",
                "multa",
                "linhadigitavel",
                "codigopix",
                "link",
            ]),
            "{entry}"
        );
        assert_eq!(entry["id"], json!(id), "oldest first: {}", r.body);
        assert_eq!(entry["fatura"], json!(id));
        assert_money(&entry["valor_original"], inv.cents, "valor_original");
        assert_money(&entry["multa"], fine, "multa");
        assert_money(&entry["juros"], interest, "juros");
        assert_money(&entry["valor"], inv.cents + fine + interest, "valor");
        assert_eq!(entry["vencimento_original"], json!(br_date(inv.due)));
        // the corrected amount is what is due today
        assert_eq!(entry["vencimento"], json!(br_date(today)), "{entry}");
        let linha = entry["linhadigitavel"].as_str().expect("linhadigitavel");
        assert_eq!(digits(linha).len(), 47, "{linha}");
        assert_eq!(digits(linha), inv.linha);
        let pix = entry["codigopix"].as_str().expect("codigopix");
        assert!(pix.starts_with("000201"), "{pix}");
        assert_eq!(pix, inv.pix);
        assert_link(&entry["link"], &app.base, id);
    }
    assert_money(&links[0]["valor_original"], 4990, "49.90");
    assert_money(&links[0]["valor"], 5157, "49.90 + 1.00 + 0.67");
    assert_money(&links[1]["valor_original"], 9990, "99.90");
    assert_money(&links[1]["valor"], 10223, "99.90 + 2.00 + 0.33");
    app.stop().await;
}

#[tokio::test]
async fn fatura2via_not_late_has_no_charges() {
    let app = spawn().await;
    let r = app.call("fatura2via", &[("contrato", "1001")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["contratoId"], json!(1001));
    let links = r.json["links"].as_array().expect("links");
    assert_eq!(links.len(), 1, "the paid invoice is not listed: {}", r.body);
    let inv = invoice(&app, 10012).await;
    let entry = &links[0];
    assert_eq!(entry["fatura"], json!(10012));
    assert_money(&entry["valor"], 12990, "valor");
    assert_money(&entry["valor_original"], 12990, "valor_original");
    assert_eq!(entry["valor"], entry["valor_original"]);
    assert_money(&entry["juros"], 0, "juros");
    assert_money(&entry["multa"], 0, "multa");
    assert_eq!(entry["vencimento"], json!(br_date(inv.due)));
    assert_eq!(entry["vencimento_original"], json!(br_date(inv.due)));
    assert_eq!(r.json["link"], entry["link"]);
    app.stop().await;
}

#[tokio::test]
async fn fatura2via_uses_the_configured_rates() {
    let app = spawn_with(|s| {
        s.fatura.multa = 10.0;
        s.fatura.juros_mes = 3.0;
    })
    .await;
    let r = app.call("fatura2via", &[("contrato", "1002")]).await;
    let entry = &r.json["links"][0];
    assert_eq!(entry["fatura"], json!(10021), "{}", r.body);
    // 49.90 × 10 % = 4.99; 49.90 × 3 % / 30 × 40 = 1.996 → 2.00
    assert_eq!(expected_charges(4990, 40, 10, 3), (499, 200));
    assert_money(&entry["multa"], 499, "multa");
    assert_money(&entry["juros"], 200, "juros");
    assert_money(&entry["valor"], 4990 + 499 + 200, "valor");
    app.stop().await;
}

#[tokio::test]
async fn fatura2via_without_open_invoice() {
    let app = spawn().await;
    let r = app.call("fatura2via", &[("contrato", "6001")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json,
        json!({"status":0,"razaoSocial":"ANA OFFLINE COSTA","links":[]}),
        "{}",
        r.body
    );
    // cancelled and paid invoices are not open either
    for contrato in ["4001", "5001"] {
        let r = app.call("fatura2via", &[("contrato", contrato)]).await;
        assert_eq!(r.json["status"], json!(0), "{contrato}: {}", r.body);
        assert_eq!(r.json["links"], json!([]), "{contrato}: {}", r.body);
    }
    app.stop().await;
}

#[tokio::test]
async fn fatura2via_by_cpfcnpj() {
    let app = spawn().await;
    // one contract: exactly that contract's answer
    let r = app.call("fatura2via", &[("cpfcnpj", JOSE_CPF)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["razaoSocial"], json!("JOSE SEM CONTATO"));
    assert_eq!(r.json["cpfCnpj"], json!("111.NNN.777-NN"));
    assert_eq!(r.json["contratoId"], json!(3001));
    let links = r.json["links"].as_array().expect("links");
    assert_eq!(links.len(), 1, "{}", r.body);
    assert_eq!(links[0]["fatura"], json!(30011));
    let same = app.call("fatura2via", &[("contrato", "3001")]).await;
    assert_eq!(same.json["links"][0]["valor"], links[0]["valor"]);

    // Maria: the open invoices of both her contracts, oldest due date first
    for doc in [MARIA_CPF, "52998224725", " CPF 529 982 247 25 "] {
        let r = app.call("fatura2via", &[("cpfcnpj", doc)]).await;
        assert_eq!(r.json["status"], json!(1), "{doc}: {}", r.body);
        assert_eq!(r.json["razaoSocial"], json!(MARIA));
        assert_eq!(r.json["cpfCnpj"], json!(MARIA_MASKED));
        let contrato = r.json["contratoId"].as_i64().expect("contratoId");
        assert!([1001, 1002].contains(&contrato), "{}", r.body);
        let ids: Vec<i64> = r.json["links"]
            .as_array()
            .expect("links")
            .iter()
            .map(|l| l["fatura"].as_i64().expect("fatura"))
            .collect();
        assert_eq!(ids, vec![10021, 10022, 10012], "{doc}: {}", r.body);
        assert_eq!(r.json["link"], r.json["links"][0]["link"]);
    }

    // a valid document of nobody, and a malformed one: not found, never 400
    for doc in ["123.456.789-09", "123"] {
        let r = app.call("fatura2via", &[("cpfcnpj", doc)]).await;
        assert_eq!(r.status, 200, "{doc}: {}", r.body);
        assert_eq!(r.json["status"], json!(0), "{doc}: {}", r.body);
        assert!(r.json.get("links").is_none_or(|l| l == &json!([])));
    }
    app.stop().await;
}

#[tokio::test]
async fn fatura2via_not_found_and_parameters() {
    let app = spawn().await;
    let r = app
        .call(
            "fatura2via",
            &[("contrato", "9999"), ("uracontato", "84999990000")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json,
        json!({"status":0,"msg":"Contrato não localizado","contratoId":9999,"uracontato":"84999990000"}),
        "{}",
        r.body
    );
    // JOSE's CPF does not own 1002
    let r = app
        .call("fatura2via", &[("contrato", "1002"), ("cpfcnpj", JOSE_CPF)])
        .await;
    assert_eq!(
        r.json,
        json!({"status":0,"msg":"Contrato não localizado","contratoId":1002}),
        "{}",
        r.body
    );
    let r = app.call("fatura2via", &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.content_type, "application/json");
    assert_eq!(r.body, r#"{"detail":"Informe cpfcnpj ou contrato."}"#);
    let r = app.call("fatura2via", &[("contrato", "abc")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"detail":"Parâmetro 'contrato' inválido: informe um número inteiro."}"#
    );
    // nothing reaches an unauthenticated caller, not even the parameter check
    let r = app
        .post_form(&app.fn_url("fatura2via"), &[("contrato", "1002")])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        r#"{"detail":"As credenciais de autenticação não foram fornecidas."}"#
    );
    let r = app.post_form(&app.fn_url("fatura2via"), &[]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    app.stop().await;
}

// ---------------------------------------------------------------- the PDF links

#[tokio::test]
async fn the_link_serves_the_invoice_pdf() {
    let app = spawn().await;
    let r = app.call("fatura2via", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    let now = Utc::now().timestamp();
    for (entry, (id, amount, other)) in r.json["links"]
        .as_array()
        .expect("links")
        .iter()
        .zip([(10021, "49,90", 10022), (10022, "99,90", 10021)])
    {
        let expiry = assert_link(&entry["link"], &app.base, id);
        // valid for `fatura.link_validade_dias` (30) days
        let days = (expiry - now) as f64 / 86_400.0;
        assert!((29.0..=31.0).contains(&days), "expires in {days} days");
        let pdf = fetch_pdf(&app, entry["link"].as_str().unwrap()).await;
        let inv = invoice(&app, id).await;
        let name = format!("fatura-{id}");
        assert_pdf_shows(&app, &name, &pdf, amount, &inv).await;
        if let Some(text) = pdf_text(app.dir.path(), &name, &pdf).await {
            let text = normalize(&text);
            let other = invoice(&app, other).await;
            assert!(
                !text.contains(&format_linha(&other.linha)),
                "the PDF of {id} shows the linha of {}",
                other.id
            );
        }
        assert_renders(app.dir.path(), &name, &pdf).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn links_are_built_from_the_request_host() {
    let app = spawn().await;
    let request = app
        .client
        .post(app.fn_url("fatura2via"))
        .header("host", "ura.local:8080")
        .form(&[
            ("app", APP),
            ("token", app.token.as_str()),
            ("contrato", "1001"),
        ]);
    let r = app.send(request).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_link(&r.json["link"], "http://ura.local:8080", 10012);
    app.stop().await;
}

#[tokio::test]
async fn links_start_with_the_public_url() {
    const PUBLIC: &str = "https://ura.exemplo.com.br";
    let app = spawn_with(|s| s.public_url = Some(PUBLIC.into())).await;
    let r = app.call("fatura2via", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    for (entry, id) in r.json["links"]
        .as_array()
        .unwrap()
        .iter()
        .zip([10021, 10022])
    {
        assert_link(&entry["link"], PUBLIC, id);
    }
    assert_link(&r.json["link"], PUBLIC, 10021);
    // the same path works on this server
    let link = r.json["link"].as_str().unwrap();
    let local = link.replacen(PUBLIC, &app.base, 1);
    fetch_pdf(&app, &local).await;

    let r = app.call("titulos", &[("contrato", "1001")]).await;
    for t in r.json["titulos"].as_array().expect("titulos") {
        assert_link(&t["link"], PUBLIC, t["id"].as_i64().unwrap());
    }

    // and in the messages sent (here: e-mail written to files)
    let r = app
        .call("enviafatura", &[("contrato", "1001"), ("tipo", "email")])
        .await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    let eml = app
        .message_files()
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "eml"))
        .expect("an .eml file");
    let text = plain_text(&std::fs::read_to_string(&eml).unwrap());
    assert!(
        text.contains(&format!("{PUBLIC}/fatura/10012/")),
        "no public link in {text}"
    );
    assert!(!text.contains("127.0.0.1"), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn links_include_the_base_path() {
    let app = spawn_with(|s| s.base_path = "/provedorx".into()).await;
    assert!(app.base.ends_with("/provedorx"), "{}", app.base);
    let r = app.call("fatura2via", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_link(&r.json["link"], &app.base, 10021);
    let link = r.json["link"].as_str().unwrap();
    fetch_pdf(&app, link).await;
    // without the base path there is no such route
    let bare = link.replacen("/provedorx", "", 1);
    assert_link_rejected(&app, &bare).await;
    app.stop().await;
}

#[tokio::test]
async fn link_validity_follows_the_setting() {
    let app = spawn_with(|s| s.fatura.link_validade_dias = 2).await;
    let r = app.call("fatura2via", &[("contrato", "1001")]).await;
    let expiry = assert_link(&r.json["link"], &app.base, 10012);
    let days = (expiry - Utc::now().timestamp()) as f64 / 86_400.0;
    assert!((1.0..=3.0).contains(&days), "expires in {days} days");
    app.stop().await;
}

#[tokio::test]
async fn invalid_or_expired_links_are_404() {
    let app = spawn().await;
    let r = app.call("fatura2via", &[("contrato", "1002")]).await;
    let link = r.json["link"].as_str().expect("link").to_string();
    fetch_pdf(&app, &link).await;
    let path = link.strip_prefix(&app.base).expect("link under base");
    let token = path.rsplit('/').next().unwrap().to_string();
    let (expiry, signature) = token
        .strip_suffix(".pdf")
        .and_then(|t| t.split_once('-'))
        .expect("<expiry>-<signature>.pdf");
    let last = signature.chars().last().unwrap();
    let flipped = if last == '0' { '1' } else { '0' };
    let tampered = format!("{}{flipped}", &signature[..signature.len() - 1]);
    let later: i64 = expiry.parse::<i64>().unwrap() + 86_400;
    let bad = [
        format!("/fatura/10021/{expiry}-{tampered}.pdf"),
        format!("/fatura/10022/{token}"),
        format!("/fatura/99999/{token}"),
        format!("/fatura/10021/{later}-{signature}.pdf"),
        format!("/fatura/10021/{expiry}-{signature}"),
        format!("/fatura/10021/{expiry}-.pdf"),
        format!("/fatura/10021/{expiry}.pdf"),
        format!("/fatura/10021/-{signature}.pdf"),
        format!("/fatura/10021/abc-{signature}.pdf"),
        "/fatura/10021/nada.pdf".to_string(),
        format!("/fatura/abc/{token}"),
        format!(
            "/fatura/10021/{expiry}-{}.pdf",
            &signature[..signature.len() / 2]
        ),
    ];
    for path in &bad {
        assert_link_rejected(&app, &app.url(path)).await;
    }

    // links signed with the server's own key: fresh works, expired does not
    let signer = ura::notify::links::LinkSigner::load(&app.store, None)
        .await
        .expect("load the link key");
    let fresh = signer.path(10021, Utc::now() + TimeDelta::hours(1));
    fetch_pdf(&app, &app.url(&fresh)).await;
    let expired = signer.path(10021, Utc::now() - TimeDelta::minutes(1));
    assert_link_rejected(&app, &app.url(&expired)).await;
    // a well-signed link to an invoice that does not exist
    let missing = signer.path(987_654, Utc::now() + TimeDelta::hours(1));
    assert_link_rejected(&app, &app.url(&missing)).await;
    // a key other than the server's
    let other = ura::notify::links::LinkSigner::new(b"outra chave".to_vec());
    let forged = other.path(10021, Utc::now() + TimeDelta::hours(1));
    assert_link_rejected(&app, &app.url(&forged)).await;
    app.stop().await;
}

// ---------------------------------------------------------------- titulos

const TITULO_FIELDS: [&str; 17] = [
    "id",
    "clienteNome",
    "clienteContrato",
    "numeroDocumento",
    "nossoNumero",
    "status",
    "valor",
    "valorCorrigido",
    "valorPago",
    "linhaDigitavel",
    "codigoBarras",
    "codigoPix",
    "link",
    "dataEmissao",
    "dataVencimento",
    "dataPagamento",
    "dataCancelamento",
];

fn ids(r: &Resp) -> Vec<i64> {
    r.json["titulos"]
        .as_array()
        .unwrap_or_else(|| panic!("no titulos: {}", r.body))
        .iter()
        .map(|t| t["id"].as_i64().expect("id"))
        .collect()
}

/// The fields every título shares with its stored invoice.
fn assert_titulo_matches(app: &TestApp, t: &Value, inv: &Inv, contrato: i64) {
    assert_eq!(keys(t), sorted(&TITULO_FIELDS), "{t}");
    assert_eq!(t["id"], json!(inv.id));
    assert_eq!(t["clienteNome"], json!(MARIA), "{t}");
    assert_eq!(t["clienteContrato"], json!(contrato), "{t}");
    for f in ["numeroDocumento", "nossoNumero"] {
        assert!(t[f].is_string() || t[f].is_number(), "{f}: {t}");
    }
    assert_money(&t["valor"], inv.cents, "valor");
    let linha = t["linhaDigitavel"].as_str().expect("linhaDigitavel");
    assert_eq!(digits(linha), inv.linha, "{t}");
    let barcode = t["codigoBarras"].as_str().expect("codigoBarras");
    assert_eq!(barcode.len(), 44, "{barcode}");
    assert!(barcode.bytes().all(|b| b.is_ascii_digit()), "{barcode}");
    assert_eq!(barcode, inv.barcode);
    let pix = t["codigoPix"].as_str().expect("codigoPix");
    assert!(pix.starts_with("000201"), "{pix}");
    assert_eq!(pix, inv.pix);
    assert_link(&t["link"], &app.base, inv.id);
    assert_eq!(t["dataEmissao"], json!(inv.issued), "{t}");
    assert_eq!(t["dataVencimento"], json!(inv.due.to_string()), "{t}");
}

#[tokio::test]
async fn titulos_of_a_contract() {
    let app = spawn().await;
    let r = app.call("titulos", &[("contrato", "1002")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.content_type, "application/json");
    assert_eq!(keys(&r.json), sorted(&["paginacao", "titulos"]));
    assert_eq!(
        r.json["paginacao"],
        json!({"offset":0,"limit":100,"parcial":2,"total":2})
    );
    assert_eq!(ids(&r), vec![10021, 10022], "oldest due date first");
    for (t, (id, late)) in r.json["titulos"]
        .as_array()
        .unwrap()
        .iter()
        .zip([(10021, 40), (10022, 10)])
    {
        let inv = invoice(&app, id).await;
        assert_titulo_matches(&app, t, &inv, 1002);
        assert_eq!(t["status"], json!("aberto"));
        let (fine, interest) = expected_charges(inv.cents, late, 2, 1);
        assert_money(
            &t["valorCorrigido"],
            inv.cents + fine + interest,
            "valorCorrigido",
        );
        assert_eq!(t["valorPago"], Value::Null);
        assert_eq!(t["dataPagamento"], Value::Null);
        assert_eq!(t["dataCancelamento"], Value::Null);
    }
    let first = r.json["titulos"][0]["link"].as_str().unwrap();
    fetch_pdf(&app, first).await;

    // the same answer through the newer path
    let again = app
        .post_form(
            &app.url("/api/ura/titulos"),
            &[("app", APP), ("token", &app.token), ("contrato", "1002")],
        )
        .await;
    assert_eq!(ids(&again), vec![10021, 10022], "{}", again.body);
    app.stop().await;
}

#[tokio::test]
async fn titulos_by_status() {
    let app = spawn().await;

    let r = app
        .call("titulos", &[("contrato", "1001"), ("status", "pagos")])
        .await;
    assert_eq!(
        r.json["paginacao"],
        json!({"offset":0,"limit":100,"parcial":1,"total":1}),
        "{}",
        r.body
    );
    assert_eq!(ids(&r), vec![10011]);
    let t = &r.json["titulos"][0];
    let inv = invoice(&app, 10011).await;
    assert_titulo_matches(&app, t, &inv, 1001);
    assert_eq!(t["status"], json!("pago"));
    assert_money(&t["valorPago"], 12990, "valorPago");
    assert_money(
        &t["valorCorrigido"],
        12990,
        "valorCorrigido of a paid invoice",
    );
    let paid_on = app
        .scalar_str("SELECT paid_on FROM invoices WHERE id = 10011")
        .await
        .expect("paid_on");
    assert_eq!(t["dataPagamento"], json!(paid_on));
    assert!(NaiveDate::parse_from_str(&paid_on, "%Y-%m-%d").is_ok());
    assert_eq!(t["dataCancelamento"], Value::Null);

    let r = app
        .call("titulos", &[("contrato", "1001"), ("status", "abertos")])
        .await;
    assert_eq!(ids(&r), vec![10012], "{}", r.body);
    assert_eq!(r.json["titulos"][0]["status"], json!("aberto"));

    let r = app.call("titulos", &[("contrato", "1001")]).await;
    assert_eq!(ids(&r), vec![10011, 10012], "all, by due date: {}", r.body);
    assert_eq!(r.json["paginacao"]["total"], json!(2));

    let r = app
        .call("titulos", &[("contrato", "4001"), ("status", "cancelados")])
        .await;
    assert_eq!(ids(&r), vec![40011], "{}", r.body);
    let t = &r.json["titulos"][0];
    assert_eq!(keys(t), sorted(&TITULO_FIELDS));
    assert_eq!(t["status"], json!("cancelado"));
    let cancelled_on = app
        .scalar_str("SELECT cancelled_on FROM invoices WHERE id = 40011")
        .await
        .expect("cancelled_on");
    assert_eq!(t["dataCancelamento"], json!(cancelled_on));
    assert_eq!(t["dataPagamento"], Value::Null);
    assert_eq!(t["valorPago"], Value::Null);
    assert_eq!(t["clienteContrato"], json!(4001));
    assert_eq!(t["clienteNome"], json!("EMPRESA ANTIGA LTDA"));

    let r = app
        .call("titulos", &[("contrato", "4001"), ("status", "pagos")])
        .await;
    assert_eq!(
        r.json["paginacao"],
        json!({"offset":0,"limit":100,"parcial":0,"total":0})
    );
    assert_eq!(r.json["titulos"], json!([]));

    for status in ["todos", "aberto", "1"] {
        let r = app
            .call("titulos", &[("contrato", "1001"), ("status", status)])
            .await;
        assert_eq!(r.status, 400, "{status}");
        assert_eq!(
            r.body,
            r#"{"detail":"Parâmetro 'status' inválido: use abertos, pagos ou cancelados."}"#,
            "{status}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn titulos_by_cpfcnpj_and_paging() {
    let app = spawn().await;
    let r = app.call("titulos", &[("cpfcnpj", MARIA_CPF)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json["paginacao"],
        json!({"offset":0,"limit":100,"parcial":4,"total":4})
    );
    // both contracts, by due date: -40, -20, -10, +10 days
    assert_eq!(ids(&r), vec![10021, 10011, 10022, 10012], "{}", r.body);
    let contracts: Vec<Value> = r.json["titulos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["clienteContrato"].clone())
        .collect();
    assert_eq!(
        contracts,
        vec![json!(1002), json!(1001), json!(1002), json!(1001)]
    );
    let dues: Vec<&str> = r.json["titulos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["dataVencimento"].as_str().unwrap())
        .collect();
    assert!(dues.windows(2).all(|w| w[0] <= w[1]), "{dues:?}");

    let page = |offset: &'static str, limit: &'static str| {
        let app = &app;
        async move {
            app.call(
                "titulos",
                &[("cpfcnpj", MARIA_CPF), ("offset", offset), ("limit", limit)],
            )
            .await
        }
    };
    let r = page("1", "1").await;
    assert_eq!(
        r.json["paginacao"],
        json!({"offset":1,"limit":1,"parcial":1,"total":4}),
        "{}",
        r.body
    );
    assert_eq!(ids(&r), vec![10011]);
    let r = page("3", "2").await;
    assert_eq!(
        r.json["paginacao"],
        json!({"offset":3,"limit":2,"parcial":1,"total":4})
    );
    assert_eq!(ids(&r), vec![10012]);
    let r = page("10", "5").await;
    assert_eq!(
        r.json["paginacao"],
        json!({"offset":10,"limit":5,"parcial":0,"total":4})
    );
    assert_eq!(r.json["titulos"], json!([]));
    let r = page("0", "1000").await;
    assert_eq!(
        r.json["paginacao"],
        json!({"offset":0,"limit":250,"parcial":4,"total":4}),
        "limit is capped to 250: {}",
        r.body
    );
    let r = page(" 1 ", " 2 ").await;
    assert_eq!(ids(&r), vec![10011, 10022], "spaces are ignored");

    let r = page("0", "abc").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"detail":"Parâmetro 'limit' inválido: informe um número inteiro."}"#
    );
    let r = page("1.5", "10").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"detail":"Parâmetro 'offset' inválido: informe um número inteiro."}"#
    );
    app.stop().await;
}

#[tokio::test]
async fn titulos_of_nobody_are_empty() {
    let app = spawn().await;
    let empty = json!({"paginacao":{"offset":0,"limit":100,"parcial":0,"total":0},"titulos":[]});
    let r = app.call("titulos", &[("contrato", "9999")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json, empty, "{}", r.body);
    let r = app.call("titulos", &[("cpfcnpj", "123.456.789-09")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json, empty, "{}", r.body);
    // JOSE's CPF does not own 1002
    let r = app
        .call("titulos", &[("contrato", "1002"), ("cpfcnpj", JOSE_CPF)])
        .await;
    assert_eq!(r.json["paginacao"]["total"], json!(0), "{}", r.body);
    assert_eq!(r.json["titulos"], json!([]));
    app.stop().await;
}

// ---------------------------------------------------------------- pagamento/pix

#[tokio::test]
async fn pix_of_an_open_invoice() {
    let app = spawn().await;
    let inv = invoice(&app, 10012).await;
    let expected = json!({
        "status": 1,
        "fatura": 10012,
        "valor": 129.9,
        "vencimento": inv.due.to_string(),
        "codigopix": inv.pix,
    });
    assert!(inv.pix.starts_with("000201"));
    for path in [
        "/ws/ura/pagamento/pix/10012/",
        "/ws/ura/pagamento/pix/10012",
        "/api/ura/pagamento/pix/10012",
        "/api/ura/pagamento/pix/10012/",
    ] {
        let r = app
            .post_form(&app.url(path), &[("app", APP), ("token", &app.token)])
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.content_type, "application/json", "{path}");
        assert_eq!(r.json, expected, "{path}: {}", r.body);
        assert_money(&r.json["valor"], 12990, "valor");
    }
    // GET with the credentials in the query string
    let r = app
        .get(&app.url(&format!(
            "/api/ura/pagamento/pix/10012/?app={APP}&token={}",
            app.token
        )))
        .await;
    assert_eq!(r.json, expected, "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn pix_missing_and_credentials() {
    let app = spawn().await;
    let url = app.url("/ws/ura/pagamento/pix/10012/");
    let r = app.post_form(&url, &[]).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        r#"{"detail":"As credenciais de autenticação não foram fornecidas."}"#
    );
    let r = app
        .post_form(&url, &[("app", APP), ("token", "errado")])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        r#"{"detail":"Credenciais de autenticação incorretas."}"#
    );

    app.exec("UPDATE invoices SET pix_payload = NULL WHERE id = 10012")
        .await;
    let r = app
        .post_form(&url, &[("app", APP), ("token", &app.token)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json,
        json!({"status":0,"msg":"Fatura sem PIX"}),
        "{}",
        r.body
    );

    // an invoice that does not exist is no PIX either (a business outcome, not an error)
    let r = app
        .post_form(
            &app.url("/ws/ura/pagamento/pix/987654/"),
            &[("app", APP), ("token", &app.token)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(0), "{}", r.body);
    app.stop().await;
}

// ---------------------------------------------------------------- e-mail with PDFs

#[tokio::test]
async fn email_carries_text_html_and_one_pdf_per_invoice() {
    const PROVIDER: &str = "NetSul Conexão";
    let peer = smtp_peer().await;
    let port = peer.port;
    let app = spawn_with(|s| {
        s.smtp.url = Some(format!("smtp://127.0.0.1:{port}"));
        s.provedor.nome = PROVIDER.into();
    })
    .await;
    let r = app
        .call("enviafatura", &[("contrato", "1002"), ("tipo", "email")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Fatura enviada por email com sucesso"));

    let mails = peer.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let (headers, parts) = parse_mime(&mails[0].data);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} header"))
    };
    assert_eq!(
        decode_words(&header("subject")),
        format!("Segunda via de fatura - {PROVIDER}")
    );
    assert!(header("to").contains(MARIA_EMAIL));
    assert!(
        header("content-type")
            .to_ascii_lowercase()
            .starts_with("multipart/"),
        "{}",
        header("content-type")
    );

    let older = invoice(&app, 10021).await;
    let newer = invoice(&app, 10022).await;

    let texts: Vec<&Part> = parts
        .iter()
        .filter(|p| p.mime_type() == "text/plain")
        .collect();
    assert_eq!(texts.len(), 1, "one text part");
    let text = texts[0].text();
    for (inv, amount) in [(&older, "49,90"), (&newer, "99,90")] {
        assert!(text.contains(amount), "{amount} not in {text}");
        let linha = format_linha(&inv.linha);
        assert!(normalize(&text).contains(&linha), "{linha} not in {text}");
        assert!(text.contains(&inv.pix), "PIX {} not in {text}", inv.pix);
        assert!(
            text.contains(&format!("{}/fatura/{}/", app.base, inv.id)),
            "no link to the PDF of {} in {text}",
            inv.id
        );
    }
    let htmls: Vec<&Part> = parts
        .iter()
        .filter(|p| p.mime_type() == "text/html")
        .collect();
    assert_eq!(htmls.len(), 1, "one HTML part");
    let html = htmls[0].text();
    assert!(html.contains('<') && html.contains("49,90"), "{html}");

    let pdfs: Vec<&Part> = parts
        .iter()
        .filter(|p| p.mime_type() == "application/pdf")
        .collect();
    assert_eq!(pdfs.len(), 2, "one PDF per invoice");
    let mut seen = Vec::new();
    for (n, part) in pdfs.iter().enumerate() {
        assert!(
            part.body.starts_with(b"%PDF"),
            "attachment {n} is not a PDF"
        );
        let Some(text) = pdf_text(app.dir.path(), &format!("anexo-{n}"), &part.body).await else {
            return;
        };
        let (inv, amount) = if text.contains("49,90") {
            (&older, "49,90")
        } else {
            (&newer, "99,90")
        };
        assert_pdf_shows(&app, &format!("anexo-{n}"), &part.body, amount, inv).await;
        seen.push(inv.id);
    }
    seen.sort();
    assert_eq!(seen, vec![10021, 10022], "each invoice's own PDF");
    app.stop().await;
}

// ---------------------------------------------------------------- the outbox

#[tokio::test]
async fn failed_email_is_retried_by_the_worker_exactly_once() {
    let port = closed_port().await;
    let app = spawn_with(|s| {
        s.smtp.url = Some(format!("smtp://127.0.0.1:{port}"));
        s.fatura.reenviar = 0.2;
        // room for the checks below before the first retry is due
        s.fatura.espera_inicial = 1.0;
        s.fatura.tempo_max = 30.0;
    })
    .await;
    let r = app
        .call("enviafatura", &[("contrato", "1001"), ("tipo", "email")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(9), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Erro no envio da fatura"));
    let protocol = protocol_of(&r);
    assert_eq!(
        message_state(&app, &protocol).await,
        ("failed".to_string(), 1)
    );

    // the mail server comes back on the same port
    let peer = smtp_peer_on(port).await;
    let (peer_ref, app_ref, protocol_ref) = (&peer, &app, protocol.as_str());
    poll_until(
        "the worker to deliver",
        Duration::from_secs(30),
        || async move { mail_count(peer_ref) >= 1 },
    )
    .await;
    poll_until(
        "the row to be sent",
        Duration::from_secs(10),
        || async move { message_state(app_ref, protocol_ref).await.0 == "sent" },
    )
    .await;
    assert_eq!(
        message_state(&app, &protocol).await,
        ("sent".to_string(), 2)
    );
    let mails = peer.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].rcpt.iter().any(|r| r.contains(MARIA_EMAIL)));
    assert!(plain_text(&mails[0].data).contains("129,90"));

    // several more worker periods: never sent again
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        assert_eq!(mail_count(&peer), 1, "sent again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let state = ura::app::AppState::new(app.store.clone(), app.settings.clone())
        .await
        .expect("state");
    assert_eq!(state.jobs.outbox.run_once().await.expect("run"), 0);
    state.stop.cancel();
    assert_eq!(mail_count(&peer), 1);
    assert_eq!(
        message_state(&app, &protocol).await,
        ("sent".to_string(), 2)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_send_a_due_message_once() {
    let port = closed_port().await;
    let app = spawn_with(|s| {
        s.smtp.url = Some(format!("smtp://127.0.0.1:{port}"));
        // this server's own worker stays out of the way
        s.fatura.reenviar = 86_400.0;
        s.fatura.espera_inicial = 0.05;
        // a slow machine must not turn a delivery into a timeout (a failure, retried)
        s.fatura.tempo_max = 30.0;
    })
    .await;
    let mut protocols = Vec::new();
    for contrato in ["1001", "1002", "1001", "1002"] {
        let r = app
            .call("enviafatura", &[("contrato", contrato), ("tipo", "email")])
            .await;
        assert_eq!(r.json["status"], json!(9), "{}", r.body);
        protocols.push(protocol_of(&r));
    }
    let peer = smtp_peer_on(port).await;
    let app_ref = &app;
    poll_until(
        "the retries to be due",
        Duration::from_secs(10),
        || async move {
            let now = ura::store::ts(Utc::now());
            app_ref.scalar_i64(&format!(
            "SELECT COUNT(*) FROM messages WHERE status = 'failed' AND next_attempt_at <= '{now}'"
        ))
        .await
            == 4
        },
    )
    .await;

    let mut states = Vec::new();
    for _ in 0..2 {
        states.push(Arc::new(
            ura::app::AppState::new(app.store.clone(), app.settings.clone())
                .await
                .expect("state"),
        ));
    }
    let runs: Vec<_> = states
        .iter()
        .map(|state| {
            let state = state.clone();
            tokio::spawn(async move { state.jobs.outbox.run_once().await })
        })
        .collect();
    let mut sent = 0;
    for run in runs {
        sent += run.await.expect("join").expect("run_once");
    }
    assert_eq!(sent, 4, "each message sent by one process");
    let mails = peer.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 4, "each message received once");
    let texts: Vec<String> = mails.iter().map(|m| plain_text(&m.data)).collect();
    assert_eq!(texts.iter().filter(|t| t.contains("129,90")).count(), 2);
    assert_eq!(texts.iter().filter(|t| t.contains("49,90")).count(), 2);
    for protocol in &protocols {
        assert_eq!(
            message_state(&app, protocol).await,
            ("sent".to_string(), 2),
            "{protocol}"
        );
    }
    for state in &states {
        assert_eq!(state.jobs.outbox.run_once().await.expect("run"), 0);
        state.stop.cancel();
    }
    assert_eq!(mail_count(&peer), 4);
    drop(states);
    app.stop().await;
}

// ---------------------------------------------------------------- SMS

#[tokio::test]
async fn sms_one_message_per_invoice_with_its_pdf_link() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let uri = server.uri();
    let app = spawn_with(|s| s.sms.url = Some(format!("{uri}/send?to={{{{ numero }}}}"))).await;
    let r = app
        .call("enviafatura", &[("contrato", "1002"), ("tipo", "sms")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Fatura enviada por SMS com sucesso"));
    let protocol = protocol_of(&r);

    let requests = server.received_requests().await.expect("recording");
    assert_eq!(requests.len(), 2, "one SMS per invoice");
    for (req, (id, amount, not)) in requests
        .iter()
        .zip([(10021, "R$ 49,90", "99,90"), (10022, "R$ 99,90", "49,90")])
    {
        let body = String::from_utf8_lossy(&req.body).into_owned();
        assert!(body.contains(MARIA_MOBILE), "{body}");
        let message = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| body.clone());
        assert!(message.contains(amount), "{message}");
        assert!(!message.contains(not), "{message}");
        let prefix = format!("{}/fatura/{id}/", app.base);
        let start = message
            .find(&prefix)
            .unwrap_or_else(|| panic!("no link to the PDF of {id} in {message}"));
        let link: String = message[start..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '"')
            .collect();
        assert_link(&json!(link), &app.base, id);
        let pdf = fetch_pdf(&app, &link).await;
        if let Some(text) = pdf_text(app.dir.path(), &format!("sms-{id}"), &pdf).await {
            assert!(text.contains(&amount[3..]), "{text}");
        }
    }
    assert_eq!(
        message_state(&app, &protocol).await,
        ("sent".to_string(), 1)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_pdf_with_corrupt_stored_codes_still_renders_without_them() {
    let app = spawn().await;
    // Hand-edited rows (import refuses such data): a wrong check digit and a broken PIX.
    app.exec(
        "UPDATE invoices SET barcode = '00190000000000000000000000000000000000000000', \
         digitable_line = NULL, pix_payload = '000201quebrado' WHERE id = 10021",
    )
    .await;
    let r = app.call("fatura2via", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], serde_json::json!(1), "{}", r.body);
    let link = r.json["links"][0]["link"]
        .as_str()
        .expect("link")
        .to_string();
    let response = app.client.get(&link).send().await.expect("get pdf");
    assert_eq!(response.status().as_u16(), 200);
    let bytes = response.bytes().await.expect("body");
    assert!(bytes.starts_with(b"%PDF"));
    let Some(text) = pdf_text(app.dir.path(), "corrupt", &bytes).await else {
        return;
    };
    assert!(text.contains("49,90"), "{text}");
    assert!(
        text.contains("indispon"),
        "the codes are said to be unavailable: {text}"
    );
    assert!(!text.contains("000201quebrado"), "{text}");
    app.stop().await;
}
