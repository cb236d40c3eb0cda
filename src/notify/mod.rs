//! What reaches people: invoice messages by e-mail through SMTP (or `.eml` files) and SMS
//! through an HTTP gateway (or text files), the durable outbox, message templates, signed
//! links, the invoice document (PDF), and the wake-up of the agents' live console.
//! May import `domain`, `store` and `settings`; never a transport or `app`.

pub mod invoice_doc;
pub mod links;
pub mod live;
pub mod outbox;
pub mod pdf;
mod sms;
pub mod templates;

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};

use crate::settings::Settings;

pub use sms::SmsGateway;

enum EmailTransport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

enum SmsTransport {
    Http(SmsGateway),
    Files,
}

pub struct Notifier {
    email: EmailTransport,
    sms: SmsTransport,
    from: Mailbox,
    dir: PathBuf,
    timeout: Duration,
}

impl Notifier {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Notifier> {
        let timeout = Duration::from_secs_f64(settings.fatura.tempo_max.clamp(0.1, 600.0));
        let dir = settings.fatura.diretorio.clone();
        let from: Mailbox = settings
            .smtp
            .remetente
            .parse()
            .map_err(|e| anyhow::anyhow!("smtp.remetente inválido: {e}"))?;
        let needs_dir = settings.smtp.url.is_none() || settings.sms.url.is_none();
        if needs_dir {
            std::fs::create_dir_all(&dir).map_err(|e| {
                anyhow::anyhow!("não foi possível criar o diretório {}: {e}", dir.display())
            })?;
        }
        let email = match &settings.smtp.url {
            Some(url) => EmailTransport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("smtp.url inválida: {e}"))?
                    .timeout(Some(timeout))
                    .build(),
            ),
            None => EmailTransport::Files(AsyncFileTransport::new(&dir)),
        };
        let sms = match &settings.sms.url {
            Some(_) => SmsTransport::Http(SmsGateway::from_settings(&settings.sms, timeout)?),
            None => SmsTransport::Files,
        };
        Ok(Notifier {
            email,
            sms,
            from,
            dir,
            timeout,
        })
    }

    /// One line for the start-up log: where messages go.
    pub fn describe(&self) -> String {
        let email = match &self.email {
            EmailTransport::Smtp(_) => "e-mail via SMTP".to_string(),
            EmailTransport::Files(_) => format!(
                "e-mail NÃO é enviado: gravado como .eml em {}",
                self.dir.display()
            ),
        };
        let sms = match &self.sms {
            SmsTransport::Http(g) => format!("SMS via gateway {}", g.host()),
            SmsTransport::Files => format!(
                "SMS NÃO é enviado: gravado como .txt em {}",
                self.dir.display()
            ),
        };
        format!("{email}; {sms}")
    }

    /// Whether the SMTP server answers: connects, with TLS and sign-in as `smtp.url` says
    /// (for `ura doctor`). None when e-mails are written to files.
    pub async fn check_smtp(&self) -> Option<Result<(), String>> {
        let EmailTransport::Smtp(smtp) = &self.email else {
            return None;
        };
        Some(
            match tokio::time::timeout(self.timeout, smtp.test_connection()).await {
                Ok(Ok(true)) => Ok(()),
                Ok(Ok(false)) => Err("o servidor não respondeu ao NOOP".into()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("sem resposta em {} s", self.timeout.as_secs_f64())),
            },
        )
    }

    /// Sends one e-mail: text and HTML alternatives, and the attachments (name, PDF bytes).
    pub async fn send_email(
        &self,
        to: &[String],
        subject: &str,
        text: &str,
        html: Option<&str>,
        attachments: Vec<(String, Vec<u8>)>,
    ) -> Result<(), String> {
        let mut builder = Message::builder().from(self.from.clone()).subject(subject);
        for address in to {
            let mailbox: Mailbox = address
                .trim()
                .parse()
                .map_err(|e| format!("endereço inválido: {e}"))?;
            builder = builder.to(mailbox);
        }
        let body = match html {
            Some(html) => MultiPart::alternative_plain_html(text.to_string(), html.to_string()),
            None => MultiPart::mixed().singlepart(SinglePart::plain(text.to_string())),
        };
        let message = if attachments.is_empty() {
            builder.multipart(body)
        } else {
            let pdf = ContentType::parse("application/pdf").map_err(|e| e.to_string())?;
            let mut mixed = MultiPart::mixed().multipart(body);
            for (name, bytes) in attachments {
                mixed = mixed.singlepart(Attachment::new(name).body(bytes, pdf.clone()));
            }
            builder.multipart(mixed)
        }
        .map_err(|e| format!("mensagem inválida: {e}"))?;
        let attempt = async {
            match &self.email {
                EmailTransport::Smtp(t) => {
                    t.send(message).await.map(|_| ()).map_err(|e| e.to_string())
                }
                EmailTransport::Files(t) => {
                    t.send(message).await.map(|_| ()).map_err(|e| e.to_string())
                }
            }
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err("tempo esgotado".into()),
        }
    }

    pub async fn send_sms(&self, to: &str, text: &str) -> Result<(), String> {
        let attempt = async {
            match &self.sms {
                SmsTransport::Http(g) => g.send(to, text).await,
                SmsTransport::Files => {
                    let name = format!(
                        "sms-{}-{}.txt",
                        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"),
                        rand::random::<u32>()
                    );
                    let content = format!("Para: {to}\n\n{text}\n");
                    tokio::fs::write(self.dir.join(name), content)
                        .await
                        .map_err(|e| e.to_string())
                }
            }
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err("tempo esgotado".into()),
        }
    }
}
