//! Message templates (minijinja), in Portuguese. The defaults are built in; an operator edits
//! them by putting files of the same names in `fatura.templates` (`assunto.txt`,
//! `corpo.txt`, `corpo.html`, `sms.txt`; the dunning notice `aviso_assunto.txt`, `aviso.txt`,
//! `aviso_sms.txt`; the restored access `acesso_restabelecido_assunto.txt`, `acesso_restabelecido.txt`,
//! `acesso_restabelecido_sms.txt`).

use std::path::Path;

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

const DEFAULTS: &[(&str, &str)] = &[
    (
        "assunto.txt",
        include_str!("../../templates/fatura/assunto.txt"),
    ),
    (
        "corpo.txt",
        include_str!("../../templates/fatura/corpo.txt"),
    ),
    (
        "corpo.html",
        include_str!("../../templates/fatura/corpo.html"),
    ),
    ("sms.txt", include_str!("../../templates/fatura/sms.txt")),
    (
        "aviso_assunto.txt",
        include_str!("../../templates/cobranca/aviso_assunto.txt"),
    ),
    (
        "aviso.txt",
        include_str!("../../templates/cobranca/aviso.txt"),
    ),
    (
        "aviso_sms.txt",
        include_str!("../../templates/cobranca/aviso_sms.txt"),
    ),
    (
        "acesso_restabelecido_assunto.txt",
        include_str!("../../templates/cobranca/acesso_restabelecido_assunto.txt"),
    ),
    (
        "acesso_restabelecido.txt",
        include_str!("../../templates/cobranca/acesso_restabelecido.txt"),
    ),
    (
        "acesso_restabelecido_sms.txt",
        include_str!("../../templates/cobranca/acesso_restabelecido_sms.txt"),
    ),
];

pub struct Templates {
    env: Environment<'static>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Provider {
    pub nome: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub nome: String,
}

/// One invoice as the templates see it; amounts already in Brazilian format.
#[derive(Debug, Clone, Serialize)]
pub struct InvoiceView {
    pub id: i64,
    pub valor: String,
    pub valor_corrigido: String,
    pub atrasada: bool,
    pub vencimento: String,
    /// Formatted linha digitável, or empty.
    pub linha: String,
    /// The 47 digits alone (for SMS), or empty.
    pub linha_digitos: String,
    pub pix: String,
    pub link: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EmailContext {
    pub provedor: Provider,
    pub cliente: Customer,
    pub contrato: i64,
    pub faturas: Vec<InvoiceView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SmsContext {
    pub provedor: Provider,
    pub fatura: InvoiceView,
}

/// The notice before a dunning step.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeContext {
    pub provedor: Provider,
    pub cliente: Customer,
    pub contrato: i64,
    /// `redução de velocidade` or `suspensão`.
    pub etapa: String,
    /// The overdue amount, Brazilian format.
    pub valor: String,
    /// The oldest overdue invoice's due date, `dd/mm/aaaa`.
    pub vencimento: String,
    /// The first day the step may happen, `dd/mm/aaaa`.
    pub data_prevista: String,
    pub protocolo: String,
}

/// The access given back after a payment.
#[derive(Debug, Clone, Serialize)]
pub struct RestoredContext {
    pub provedor: Provider,
    pub cliente: Customer,
    pub contrato: i64,
    pub protocolo: String,
}

/// A notice as the outbox sends it.
pub struct Message {
    pub subject: String,
    pub text: String,
    pub sms: String,
}

pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Templates {
    /// The built-in templates, overridden by the files found in `dir`.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Templates> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        for (name, default) in DEFAULTS {
            let source = match dir.map(|d| d.join(name)) {
                Some(path) if path.exists() => std::fs::read_to_string(&path).map_err(|e| {
                    anyhow::anyhow!("não foi possível ler o template {}: {e}", path.display())
                })?,
                _ => (*default).to_string(),
            };
            env.add_template_owned(*name, source)
                .map_err(|e| anyhow::anyhow!("template {name} inválido: {e}"))?;
        }
        Ok(Templates { env })
    }

    pub fn email(&self, ctx: &EmailContext) -> Result<Email, minijinja::Error> {
        let render = |name: &str| self.env.get_template(name)?.render(ctx);
        Ok(Email {
            subject: render("assunto.txt")?.trim().to_string(),
            text: render("corpo.txt")?,
            html: render("corpo.html")?,
        })
    }

    /// A message by name prefix (`aviso`, `acesso_restabelecido`): subject, e-mail text, SMS line.
    pub fn message(&self, prefix: &str, ctx: &impl Serialize) -> Result<Message, minijinja::Error> {
        let render = |name: String| self.env.get_template(&name)?.render(ctx);
        let sms = render(format!("{prefix}_sms.txt"))?;
        Ok(Message {
            subject: render(format!("{prefix}_assunto.txt"))?.trim().to_string(),
            text: render(format!("{prefix}.txt"))?,
            sms: sms.split_whitespace().collect::<Vec<_>>().join(" "),
        })
    }

    /// One SMS per invoice, as single lines.
    pub fn sms(&self, ctx: &SmsContext) -> Result<String, minijinja::Error> {
        let text = self.env.get_template("sms.txt")?.render(ctx)?;
        Ok(text.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> InvoiceView {
        InvoiceView {
            id: 7,
            valor: "49,90".into(),
            valor_corrigido: "51,07".into(),
            atrasada: true,
            vencimento: "10/11/2026".into(),
            linha: "00190.00009 01234.567890 12345.678901 2 12340000004990".into(),
            linha_digitos: "00190000090123456789012345678901212340000004990".into(),
            pix: "000201...6304ABCD".into(),
            link: "https://ura.exemplo/fatura/7/x.pdf".into(),
        }
    }

    #[test]
    fn built_in_templates_render_in_portuguese() {
        let t = Templates::load(None).unwrap();
        let email = t
            .email(&EmailContext {
                provedor: Provider {
                    nome: "Provedor X".into(),
                },
                cliente: Customer {
                    nome: "MARIA <b>".into(),
                },
                contrato: 1002,
                faturas: vec![view()],
            })
            .unwrap();
        assert_eq!(email.subject, "Segunda via de fatura - Provedor X");
        assert!(email.text.contains("R$ 49,90"));
        assert!(email.text.contains("Linha digitável: 00190.00009"));
        assert!(email.text.contains("51,07"));
        assert!(email.html.contains("MARIA &lt;b&gt;"), "HTML is escaped");
        let sms = t
            .sms(&SmsContext {
                provedor: Provider {
                    nome: "Provedor X".into(),
                },
                fatura: view(),
            })
            .unwrap();
        assert!(sms.starts_with("Provedor X: fatura R$ 49,90 venc. 10/11/2026."));
        assert!(sms.contains("PIX: 000201"));
        assert!(!sms.contains('\n'));
    }

    #[test]
    fn dunning_messages_render_in_portuguese() {
        let t = Templates::load(None).unwrap();
        let notice = t
            .message(
                "aviso",
                &NoticeContext {
                    provedor: Provider { nome: "P".into() },
                    cliente: Customer { nome: "ANA".into() },
                    contrato: 1002,
                    etapa: "suspensão".into(),
                    valor: "149,80".into(),
                    vencimento: "26/10/2026".into(),
                    data_prevista: "20/11/2026".into(),
                    protocolo: "202611050000001".into(),
                },
            )
            .unwrap();
        assert_eq!(
            notice.subject,
            "Aviso de suspensão por falta de pagamento - P"
        );
        assert!(notice.text.contains("R$ 149,80 do contrato 1002"));
        assert!(notice.text.contains("a partir de 20/11/2026"));
        assert!(notice.sms.contains("Protocolo 202611050000001"));
        assert!(!notice.sms.contains('\n'));
        let back = t
            .message(
                "acesso_restabelecido",
                &RestoredContext {
                    provedor: Provider { nome: "P".into() },
                    cliente: Customer { nome: "ANA".into() },
                    contrato: 1002,
                    protocolo: "202611050000002".into(),
                },
            )
            .unwrap();
        assert_eq!(back.subject, "Acesso restabelecido - P");
        assert!(back.text.contains("contrato 1002 foi restabelecido"));
        assert!(t.message("inexistente", &back.subject).is_err());
    }

    #[test]
    fn operator_files_override_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("assunto.txt"),
            "Sua fatura, {{ cliente.nome }}",
        )
        .unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        let email = t
            .email(&EmailContext {
                provedor: Provider { nome: "P".into() },
                cliente: Customer { nome: "ANA".into() },
                contrato: 1,
                faturas: vec![],
            })
            .unwrap();
        assert_eq!(email.subject, "Sua fatura, ANA");
        std::fs::write(dir.path().join("sms.txt"), "{% if %}").unwrap();
        assert!(
            Templates::load(Some(dir.path())).is_err(),
            "a broken template fails at start"
        );
    }
}
