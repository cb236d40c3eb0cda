use crate::common::*;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const MARIA_EMAIL: &str = "maria.silva@example.com";
const MARIA_MOBILE: &str = "84991380000";

pub(crate) fn base64_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    out
}

pub(crate) fn qp_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') {
                i += 3;
                continue;
            }
            if b.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            if let Some(hex) = s.get(i + 1..i + 3)
                && let Ok(v) = u8::from_str_radix(hex, 16)
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// A MIME message's headers followed by its body decoded from its transfer encoding, so
/// that tests can search the text the customer reads.
/// The mail with every text part decoded (quoted-printable or base64), MIME parts included;
/// PDF attachments are left out.
fn readable_mail(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let mut out = String::new();
    // Boundary lines start with `--`; every chunk between them is a part (or the top).
    let mut chunks: Vec<String> = vec![String::new()];
    for line in raw.lines() {
        if line.starts_with("--") && !line.contains(' ') {
            chunks.push(String::new());
        } else if let Some(last) = chunks.last_mut() {
            last.push_str(line);
            last.push('\n');
        }
    }
    for chunk in chunks {
        let (headers, body) = chunk.split_once("\n\n").unwrap_or((chunk.as_str(), ""));
        let header = |name: &str| {
            headers.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_ascii_lowercase())
            })
        };
        if header("content-type").is_some_and(|t| t.starts_with("application/pdf")) {
            out.push_str(headers);
            out.push_str("\n\n");
            continue;
        }
        let body = match header("content-transfer-encoding")
            .unwrap_or_default()
            .as_str()
        {
            "base64" => String::from_utf8_lossy(&base64_decode(body)).into_owned(),
            "quoted-printable" => String::from_utf8_lossy(&qp_decode(body)).into_owned(),
            _ => body.to_string(),
        };
        out.push_str(headers);
        out.push_str("\n\n");
        out.push_str(&body);
        out.push('\n');
    }
    out
}

fn files_with_ext(app: &TestApp, ext: &str) -> Vec<std::path::PathBuf> {
    app.message_files()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect()
}

/// The digits of the linha digitável of 1001's invoice in `status` (one open, one paid).
async fn digitable_line(app: &TestApp, status: &str) -> String {
    let line = app
        .scalar_str(&format!(
            "SELECT digitable_line FROM invoices WHERE contract_id = 1001 AND status = '{status}'"
        ))
        .await
        .expect("invoice has a linha digitável");
    line.chars().filter(char::is_ascii_digit).collect()
}

/// The PIX copia-e-cola of 1001's open invoice.
async fn pix_payload(app: &TestApp) -> String {
    app.scalar_str("SELECT pix_payload FROM invoices WHERE contract_id = 1001 AND status = 'open'")
        .await
        .expect("the demo invoice has a PIX")
}

/// The text without the separators a linha digitável is printed with.
fn squeeze(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '.')
        .collect()
}

async fn message_row(app: &TestApp, protocol: &str) -> (String, String, String) {
    let status = app
        .scalar_str(&format!(
            "SELECT status FROM messages WHERE protocol = '{protocol}'"
        ))
        .await
        .expect("a messages row with the protocol");
    let channel = app
        .scalar_str(&format!(
            "SELECT channel FROM messages WHERE protocol = '{protocol}'"
        ))
        .await
        .unwrap();
    let recipient = app
        .scalar_str(&format!(
            "SELECT recipient FROM messages WHERE protocol = '{protocol}'"
        ))
        .await
        .unwrap();
    (status, channel, recipient)
}

async fn tickets_with(app: &TestApp, protocol: &str) -> i64 {
    app.scalar_i64(&format!(
        "SELECT COUNT(*) FROM tickets WHERE protocol = '{protocol}'"
    ))
    .await
}

// ---------------------------------------------------------------- a small SMTP peer

#[derive(Debug, Default, Clone)]
pub(crate) struct Mail {
    pub(crate) from: String,
    pub(crate) rcpt: Vec<String>,
    pub(crate) data: String,
}

pub(crate) struct SmtpPeer {
    pub(crate) port: u16,
    pub(crate) mails: Arc<Mutex<Vec<Mail>>>,
    pub(crate) task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn reply(w: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) -> std::io::Result<()> {
    w.write_all(text.as_bytes()).await?;
    w.flush().await
}

pub(crate) async fn smtp_session(
    sock: TcpStream,
    mails: Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<()> {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    reply(&mut w, "220 teste.local ESMTP pronto\r\n").await?;
    let mut current = Mail::default();
    let mut raw = Vec::new();
    loop {
        raw.clear();
        if r.read_until(b'\n', &mut raw).await? == 0 {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&raw).trim_end().to_string();
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            reply(&mut w, "250-teste.local\r\n250 HELP\r\n").await?;
        } else if upper.starts_with("HELO") {
            reply(&mut w, "250 teste.local\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            current = Mail {
                from: line[10..].trim().to_string(),
                ..Mail::default()
            };
            reply(&mut w, "250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            current.rcpt.push(line[8..].trim().to_string());
            reply(&mut w, "250 OK\r\n").await?;
        } else if upper == "DATA" {
            reply(&mut w, "354 fim com <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                raw.clear();
                if r.read_until(b'\n', &mut raw).await? == 0 {
                    return Ok(());
                }
                let text = String::from_utf8_lossy(&raw).into_owned();
                let bare = text.trim_end_matches(['\r', '\n']);
                if bare == "." {
                    break;
                }
                // dot-stuffing
                data.push_str(text.strip_prefix('.').unwrap_or(&text));
            }
            current.data = data;
            mails.lock().unwrap().push(current.clone());
            reply(&mut w, "250 OK queued\r\n").await?;
        } else if upper == "QUIT" {
            reply(&mut w, "221 tchau\r\n").await?;
            return Ok(());
        } else if upper == "RSET" || upper == "NOOP" {
            reply(&mut w, "250 OK\r\n").await?;
        } else {
            reply(&mut w, "502 comando não implementado\r\n").await?;
        }
    }
}

pub(crate) async fn smtp_peer() -> SmtpPeer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
    let port = listener.local_addr().unwrap().port();
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

/// Accepts connections and never says a word.
async fn silent_peer() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    (port, task)
}

/// A port nobody listens on.
pub(crate) async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().unwrap().port()
}

// ---------------------------------------------------------------- parameters

#[tokio::test]
async fn tipo_is_required() {
    let app = spawn().await;
    let r = app.call("enviafatura", &[("contrato", "1001")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.content_type, "application/json");
    assert_eq!(r.body, r#"{"detail":"Parâmetro 'tipo' é obrigatório."}"#);
    // parameters are checked before the contract is looked up
    let r = app.call("enviafatura", &[("contrato", "9999")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body, r#"{"detail":"Parâmetro 'tipo' é obrigatório."}"#);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM messages").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn tipo_other_than_email_or_sms_is_400() {
    let app = spawn().await;
    for tipo in ["fax", "whatsapp", "1"] {
        let r = app
            .call("enviafatura", &[("contrato", "1001"), ("tipo", tipo)])
            .await;
        assert_eq!(r.status, 400, "tipo={tipo}");
        assert_eq!(
            r.body, r#"{"detail":"Parâmetro 'tipo' inválido: use email ou sms."}"#,
            "tipo={tipo}"
        );
    }
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM messages").await, 0);
    assert!(app.message_files().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn contrato_is_required() {
    let app = spawn().await;
    let r = app.call("enviafatura", &[("tipo", "email")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"detail":"Parâmetro 'contrato' é obrigatório."}"#
    );
    app.stop().await;
}

#[tokio::test]
async fn not_found_follows_the_common_rule() {
    let app = spawn().await;
    let r = app
        .call(
            "enviafatura",
            &[
                ("contrato", "9999"),
                ("tipo", "email"),
                ("uracontato", "8491380000"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json,
        json!({"status":0,"msg":"Contrato não localizado","contratoId":9999,"uracontato":"8491380000"}),
        "{}",
        r.body
    );
    // JOSE's CPF does not own 1001
    let r = app
        .call(
            "enviafatura",
            &[
                ("contrato", "1001"),
                ("tipo", "email"),
                ("cpfcnpj", "11144477735"),
            ],
        )
        .await;
    assert_eq!(
        r.json,
        json!({"status":0,"msg":"Contrato não localizado","contratoId":1001}),
        "{}",
        r.body
    );
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM messages").await, 0);
    assert!(app.message_files().is_empty());
    app.stop().await;
}

// ---------------------------------------------------------------- outcomes without sending

#[tokio::test]
async fn no_open_invoice_is_status_0() {
    let app = spawn().await;
    for tipo in ["email", "sms"] {
        let r = app
            .call("enviafatura", &[("contrato", "6001"), ("tipo", tipo)])
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.json,
            json!({
                "status": 0,
                "razaoSocial": "ANA OFFLINE COSTA",
                "cpfCnpj": "390.NNN.447-NN",
                "msg": "Não há faturas em aberto",
                "contratoId": 6001,
            }),
            "{}",
            r.body
        );
    }
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM messages").await, 0);
    assert!(app.message_files().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn no_email_on_file_is_status_2() {
    let app = spawn().await;
    let r = app
        .call(
            "enviafatura",
            &[
                ("contrato", "2001"),
                ("tipo", "email"),
                ("uracontato", "8432110000"),
            ],
        )
        .await;
    assert_eq!(
        r.json,
        json!({
            "status": 2,
            "razaoSocial": "PROVEDOR EXEMPLO LTDA",
            "cpfCnpj": "12.NNN.345/01DE-NN",
            "msg": "Não há contato para enviar a fatura por email",
            "contratoId": 2001,
            "uracontato": "8432110000",
        }),
        "{}",
        r.body
    );
    // a landline is not a mobile number
    let r = app
        .call("enviafatura", &[("contrato", "2001"), ("tipo", "sms")])
        .await;
    assert_eq!(r.json["status"], json!(2), "{}", r.body);
    assert_eq!(
        r.json["msg"],
        json!("Não há contato para enviar a fatura por SMS")
    );
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM messages").await, 0);
    assert!(app.message_files().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn no_mobile_on_file_is_status_2() {
    let app = spawn().await;
    let r = app
        .call("enviafatura", &[("contrato", "3001"), ("tipo", "sms")])
        .await;
    assert_eq!(
        r.json,
        json!({
            "status": 2,
            "razaoSocial": "JOSE SEM CONTATO",
            "cpfCnpj": "111.NNN.777-NN",
            "msg": "Não há contato para enviar a fatura por SMS",
            "contratoId": 3001,
        }),
        "{}",
        r.body
    );
    let r = app
        .call("enviafatura", &[("contrato", "3001"), ("tipo", "email")])
        .await;
    assert_eq!(r.json["status"], json!(2), "{}", r.body);
    assert_eq!(
        r.json["msg"],
        json!("Não há contato para enviar a fatura por email")
    );
    assert!(r.json.get("protocolo").is_none(), "{}", r.body);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM messages").await, 0);
    app.stop().await;
}

// ---------------------------------------------------------------- file delivery

#[tokio::test]
async fn email_to_files_is_sent_with_protocol() {
    let app = spawn().await;
    let r = app
        .call(
            "enviafatura",
            &[
                ("contrato", "1001"),
                ("tipo", "email"),
                ("uracontato", "84991380000"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let protocol = assert_protocol_today(&app, &r.json["protocolo"]);
    assert_eq!(
        r.json,
        json!({
            "status": 1,
            "razaoSocial": "MARIA DE TESTE SILVA",
            "cpfCnpj": "529.NNN.247-NN",
            "msg": "Fatura enviada por email com sucesso",
            "contratoId": 1001,
            "uracontato": "84991380000",
            "protocolo": protocol,
        }),
        "{}",
        r.body
    );

    let emls = files_with_ext(&app, "eml");
    assert_eq!(emls.len(), 1, "{:?}", app.message_files());
    let raw = std::fs::read_to_string(&emls[0]).expect("read eml");
    let mail = readable_mail(&raw);
    assert!(mail.contains(MARIA_EMAIL), "{mail}");
    let linha = digitable_line(&app, "open").await;
    assert_eq!(linha.len(), 47, "{linha}");
    assert!(
        squeeze(&mail).contains(&linha),
        "linha digitável {linha} not in {mail}"
    );
    assert!(mail.contains("129,90"), "{mail}");
    // the paid invoice is not sent
    assert!(!squeeze(&mail).contains(&digitable_line(&app, "paid").await));

    let pix = pix_payload(&app).await;
    assert!(
        squeeze(&mail).contains(&squeeze(&pix)),
        "PIX {pix} not in {mail}"
    );

    let (status, channel, recipient) = message_row(&app, &protocol).await;
    assert_eq!(status, "sent");
    assert_eq!(channel, "email");
    assert!(recipient.contains(MARIA_EMAIL), "{recipient}");
    assert_eq!(tickets_with(&app, &protocol).await, 1);
    assert_eq!(
        app.scalar_str(&format!(
            "SELECT caller FROM tickets WHERE protocol = '{protocol}'"
        ))
        .await
        .as_deref(),
        Some("84991380000"),
        "uracontato is stored with the ticket"
    );
    app.stop().await;
}

#[tokio::test]
async fn sms_to_files_is_sent_with_protocol() {
    let app = spawn().await;
    let r = app
        .call("enviafatura", &[("contrato", "1001"), ("tipo", "sms")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let protocol = assert_protocol_today(&app, &r.json["protocolo"]);
    assert_eq!(
        keys(&r.json),
        sorted(&[
            "status",
            "razaoSocial",
            "cpfCnpj",
            "msg",
            "contratoId",
            "protocolo"
        ]),
        "{}",
        r.body
    );
    assert_eq!(r.json["status"], json!(1));
    assert_eq!(r.json["msg"], json!("Fatura enviada por SMS com sucesso"));

    let txts = files_with_ext(&app, "txt");
    assert_eq!(txts.len(), 1, "{:?}", app.message_files());
    let text = std::fs::read_to_string(&txts[0]).expect("read sms");
    assert!(text.contains(MARIA_MOBILE), "{text}");
    assert!(text.contains("129,90"), "{text}");
    let linha = digitable_line(&app, "open").await;
    assert!(squeeze(&text).contains(&linha), "{text}");
    let pix = pix_payload(&app).await;
    assert!(squeeze(&text).contains(&squeeze(&pix)), "{text}");
    assert!(files_with_ext(&app, "eml").is_empty());

    let (status, channel, recipient) = message_row(&app, &protocol).await;
    assert_eq!(status, "sent");
    assert_eq!(channel, "sms");
    assert_eq!(recipient, MARIA_MOBILE);
    assert_eq!(tickets_with(&app, &protocol).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn open_invoices_are_sent_oldest_first() {
    let app = spawn().await;
    let r = app
        .call("enviafatura", &[("contrato", "1002"), ("tipo", "email")])
        .await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    let emls = files_with_ext(&app, "eml");
    assert_eq!(emls.len(), 1);
    let mail = readable_mail(&std::fs::read_to_string(&emls[0]).unwrap());
    let older = mail.find("49,90").expect("the 49,90 invoice");
    let newer = mail.find("99,90").expect("the 99,90 invoice");
    assert!(older < newer, "oldest due date first: {mail}");
    app.stop().await;
}

#[tokio::test]
async fn max_envio_limits_to_the_oldest_invoices() {
    let app = spawn_with(|s| s.fatura.max_envio = 1).await;
    let r = app
        .call("enviafatura", &[("contrato", "1002"), ("tipo", "email")])
        .await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    let emls = files_with_ext(&app, "eml");
    assert_eq!(emls.len(), 1);
    let mail = readable_mail(&std::fs::read_to_string(&emls[0]).unwrap());
    assert!(mail.contains("49,90"), "{mail}");
    assert!(!mail.contains("99,90"), "{mail}");
    let r = app
        .call("enviafatura", &[("contrato", "1002"), ("tipo", "sms")])
        .await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    let txts = files_with_ext(&app, "txt");
    assert_eq!(txts.len(), 1);
    let text = std::fs::read_to_string(&txts[0]).unwrap();
    assert!(text.contains("49,90"), "{text}");
    assert!(!text.contains("99,90"), "{text}");
    app.stop().await;
}

// ---------------------------------------------------------------- real SMTP

#[tokio::test]
async fn email_through_a_real_smtp_server() {
    let peer = smtp_peer().await;
    let port = peer.port;
    let app = spawn_with(|s| s.smtp.url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let r = app
        .call("enviafatura", &[("contrato", "1001"), ("tipo", "email")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Fatura enviada por email com sucesso"));
    let protocol = assert_protocol_today(&app, &r.json["protocolo"]);

    let mails = peer.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert!(
        mail.rcpt.iter().any(|r| r.contains(MARIA_EMAIL)),
        "{:?}",
        mail.rcpt
    );
    assert!(mail.from.contains('@'), "envelope sender: {:?}", mail.from);
    let text = readable_mail(&mail.data);
    assert!(
        text.lines()
            .any(|l| l.to_ascii_lowercase().starts_with("to:") && l.contains(MARIA_EMAIL)),
        "{text}"
    );
    assert!(text.contains("129,90"), "{text}");
    assert!(
        files_with_ext(&app, "eml").is_empty(),
        "nothing written to files when SMTP is configured"
    );
    let (status, _, _) = message_row(&app, &protocol).await;
    assert_eq!(status, "sent");
    app.stop().await;
}

#[tokio::test]
async fn smtp_down_is_status_9_with_protocol() {
    let port = closed_port().await;
    let app = spawn_with(|s| s.smtp.url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let r = app
        .call(
            "enviafatura",
            &[
                ("contrato", "1001"),
                ("tipo", "email"),
                ("uracontato", "84991380000"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let protocol = assert_protocol_today(&app, &r.json["protocolo"]);
    assert_eq!(
        r.json,
        json!({
            "status": 9,
            "razaoSocial": "MARIA DE TESTE SILVA",
            "cpfCnpj": "529.NNN.247-NN",
            "msg": "Erro no envio da fatura",
            "contratoId": 1001,
            "uracontato": "84991380000",
            "protocolo": protocol,
        }),
        "{}",
        r.body
    );
    let (status, channel, _) = message_row(&app, &protocol).await;
    assert_eq!(status, "failed");
    assert_eq!(channel, "email");
    assert_eq!(
        tickets_with(&app, &protocol).await,
        1,
        "the attempt is recorded as a ticket"
    );
    app.stop().await;
}

#[tokio::test]
async fn silent_smtp_server_is_status_9_and_the_request_returns() {
    let (port, task) = silent_peer().await;
    let app = spawn_with(|s| {
        s.smtp.url = Some(format!("smtp://127.0.0.1:{port}"));
        s.fatura.tempo_max = 0.5;
    })
    .await;
    let r = tokio::time::timeout(
        Duration::from_secs(60),
        app.call("enviafatura", &[("contrato", "1001"), ("tipo", "email")]),
    )
    .await
    .expect("enviafatura must return even when the mail server never answers");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(9), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Erro no envio da fatura"));
    let protocol = assert_protocol_today(&app, &r.json["protocolo"]);
    let (status, _, _) = message_row(&app, &protocol).await;
    assert_eq!(status, "failed");
    task.abort();
    app.stop().await;
}

// ---------------------------------------------------------------- SMS gateway

#[tokio::test]
async fn sms_through_an_http_gateway() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/send"))
        .and(query_param("to", MARIA_MOBILE))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let uri = server.uri();
    let app = spawn_with(|s| s.sms.url = Some(format!("{uri}/send?to={{{{ numero }}}}"))).await;
    let r = app
        .call("enviafatura", &[("contrato", "1001"), ("tipo", "sms")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Fatura enviada por SMS com sucesso"));
    let protocol = assert_protocol_today(&app, &r.json["protocolo"]);

    let requests = server.received_requests().await.expect("recording");
    assert_eq!(requests.len(), 1, "one gateway call");
    let req = &requests[0];
    assert_eq!(req.method.as_str(), "POST");
    let content_type = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: Value = serde_json::from_slice(&req.body).expect("JSON body");
    assert_eq!(body["to"], json!(MARIA_MOBILE), "{body}");
    let message = body["message"].as_str().expect("message string");
    assert!(message.contains("129,90"), "{message}");
    assert!(
        squeeze(message).contains(&digitable_line(&app, "open").await),
        "{message}"
    );
    assert!(files_with_ext(&app, "txt").is_empty());
    let (status, _, _) = message_row(&app, &protocol).await;
    assert_eq!(status, "sent");
    app.stop().await;
}

#[tokio::test]
async fn sms_gateway_error_is_status_9() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("falhou"))
        .mount(&server)
        .await;
    let uri = server.uri();
    let app = spawn_with(|s| s.sms.url = Some(format!("{uri}/send?to={{{{ numero }}}}"))).await;
    let r = app
        .call("enviafatura", &[("contrato", "1001"), ("tipo", "sms")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(9), "{}", r.body);
    assert_eq!(r.json["msg"], json!("Erro no envio da fatura"));
    let protocol = assert_protocol_today(&app, &r.json["protocolo"]);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    let (status, channel, _) = message_row(&app, &protocol).await;
    assert_eq!(status, "failed");
    assert_eq!(channel, "sms");
    assert_eq!(tickets_with(&app, &protocol).await, 1);
    app.stop().await;
}

/// `fatura.envios_por_segundo` paces the outbox's worker: at 0.01 a second, a full batch of
/// 100 queued messages is sent and the next waits (here, for longer than the test), and a
/// stop does not wait for that pause.
#[tokio::test]
async fn the_worker_sends_at_most_its_rate_and_stops_at_once() {
    let app = spawn_with(|s| {
        s.fatura.reenviar = 0.1;
        s.fatura.envios_por_segundo = 0.01;
    })
    .await;
    app.exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250) \
         INSERT INTO messages (contract_id, channel, recipient, body, status, attempts, created_at) \
         SELECT 1001, 'sms', '84999990000', 'fila ' || i, 'queued', 0, '2026-01-01 00:00:00' FROM n",
    )
    .await;
    let count = |status: &str| {
        format!("SELECT COUNT(*) FROM messages WHERE body LIKE 'fila %' AND status = '{status}'")
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while app.scalar_i64(&count("sent")).await < 100 {
        assert!(
            std::time::Instant::now() < deadline,
            "the first batch was never sent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(app.scalar_i64(&count("sent")).await, 100);
    assert_eq!(app.scalar_i64(&count("queued")).await, 150);
    tokio::time::timeout(Duration::from_secs(30), app.stop())
        .await
        .expect("the stop waits for no pause of the worker");
}
