//! One typed settings struct. Sources, each overriding the previous: built-in defaults,
//! the optional `ura.toml` (or the file named by `--config` / `URA_CONFIG`), `URA_*`
//! environment variables, then command-line flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub mod known;

/// Sections of the settings file; `URA_<SECTION>_<KEY>` maps to `<section>.<key>`.
const SECTIONS: &[&str] = &[
    "promessa",
    "fatura",
    "acesso",
    "smtp",
    "sms",
    "provedor",
    "radius",
    "nas",
    "painel",
    "auditoria",
    "limites",
    "cors",
    "tls",
    "cobranca",
    "retorno",
    "pix",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Address the HTTP server listens on.
    pub listen: String,
    /// `sqlite://path` (created if missing) or `postgres://...`.
    pub database_url: String,
    /// Path prefix in front of every route, e.g. `/provedorx`; empty by default.
    pub base_path: String,
    /// IANA time zone of the operator: decides "today" and "this month".
    pub timezone: String,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Seconds a request may take before it is answered with 503.
    pub request_timeout: f64,
    /// Absolute address of this server as callers reach it (`https://ura.provedor.com.br`),
    /// for links in answers and messages. Absent: answers build it from the request's
    /// `Host`; messages never do, and the server does not start while e-mail or SMS really
    /// leave (`smtp.url`, `sms.url`) without it.
    pub public_url: Option<String>,
    /// Key that signs the links to invoice PDFs. Absent: one is made and kept in the
    /// database, shared by every process.
    pub links_chave: Option<String>,
    /// Most database connections of this process.
    pub database_max_connections: u32,
    /// An existing FreeRADIUS database (postgres:// or mysql://) to read sessions from,
    /// read-only. Absent: our own `radacct`, where FreeRADIUS writes its accounting.
    pub radacct_url: Option<String>,
    pub promessa: PromiseSettings,
    pub fatura: InvoiceSettings,
    pub acesso: AccessSettings,
    pub smtp: SmtpSettings,
    pub sms: SmsSettings,
    pub provedor: ProviderSettings,
    pub radius: RadiusSettings,
    pub nas: NasSettings,
    pub painel: PainelSettings,
    pub auditoria: AuditSettings,
    pub limites: LimitSettings,
    pub cors: CorsSettings,
    pub tls: TlsSettings,
    pub cobranca: CobrancaSettings,
    pub retorno: ReturnSettings,
    pub pix: PixSettings,
    /// When set, `/metrics` answers only `Authorization: Bearer` with this token.
    pub metricas_token: Option<String>,
    /// SQLite only: the largest the database file may grow, in pages (4 KiB each); when it is
    /// full, writes answer `503` and nothing is corrupted. Absent: no limit but the disk's.
    pub sqlite_max_paginas: Option<u64>,
}

/// Abuse limits of the URA routes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitSettings {
    /// Requests per minute of one app (0: no limit).
    pub por_app: u32,
    /// Requests per minute from one client address (0: no limit).
    pub por_endereco: u32,
    /// Failed authentications of one address in 5 minutes before it must wait (0: never).
    pub falhas_autenticacao: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`127.0.0.1`, `10.0.0.0/8`).
    pub proxies_confiaveis: Vec<String>,
    /// Largest request target and largest sum of headers, in bytes (`414`, `431` above).
    pub cabecalhos_max: usize,
    /// Seconds a request's headers may take from its first byte (and a TLS handshake from
    /// the connection); then the connection is closed. Against half-sent requests that hold
    /// a connection.
    pub cabecalhos_tempo: f64,
    /// Seconds a kept-alive connection may stay without a request before it is closed.
    pub ocioso_tempo: f64,
    /// Connections open at once (all routes); the next ones wait to be accepted. Lowered at
    /// start, with a warning, to what the open-file limit allows.
    pub conexoes_max: usize,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            por_app: 0,
            por_endereco: 0,
            falhas_autenticacao: 20,
            proxies_confiaveis: Vec::new(),
            cabecalhos_max: 16 * 1024,
            cabecalhos_tempo: 10.0,
            ocioso_tempo: 60.0,
            conexoes_max: 10_000,
        }
    }
}

/// Serving HTTPS directly (for providers without a reverse proxy).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsSettings {
    /// PEM certificate chain; with `chave`, the server speaks only HTTPS.
    pub certificado: Option<PathBuf>,
    /// PEM private key.
    pub chave: Option<PathBuf>,
    /// `Strict-Transport-Security` on every answer while TLS is on.
    pub hsts: bool,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            certificado: None,
            chave: None,
            hsts: true,
        }
    }
}

impl TlsSettings {
    /// The certificate and key, when TLS is on.
    pub fn files(&self) -> Option<(&Path, &Path)> {
        match (&self.certificado, &self.chave) {
            (Some(c), Some(k)) => Some((c.as_path(), k.as_path())),
            _ => None,
        }
    }
}

/// Blocking for debt (dunning): the provider's rule, which the job, `ura cobranca executar`
/// and the admin API apply. "RGC" is the Regulamento Geral de Direitos do Consumidor de
/// Serviços de Telecomunicações, Resolução Anatel nº 765/2023 (in force since 1 September
/// 2025; it replaced Resolução nº 632/2014). docs/billing.md has the rule and the sources.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CobrancaSettings {
    /// Whether the job blocks for debt at all. Off by default: nothing is reduced, blocked or
    /// noticed until the provider turns it on (payments still give back what the rule took).
    pub ativo: bool,
    /// Days after the due date → `Ativo V. Reduzida` (partial suspension). Absent: no
    /// reduction step. The RGC of 2023 no longer requires partial suspension before total
    /// suspension of fixed broadband (it existed in Resolução 632/2014, art. 90, "reduced
    /// speed", 15 days after the notice); a provider may still choose it, with its own notice.
    pub dias_reducao: Option<u32>,
    /// Days after the due date → `Suspenso`. RGC art. 70: suspension only after 15 days from
    /// the notice of an overdue debt; with `aviso_antecedencia = 15` the notice goes out at
    /// 5 days overdue and the line is suspended at 20 days.
    pub dias_bloqueio: u32,
    /// Overdue debts below this amount, in reais, never block (and what is left below it
    /// after a payment does not keep a line blocked). The provider's choice: not in the RGC.
    pub valor_minimo: f64,
    /// Seconds between two runs of the job.
    pub intervalo: f64,
    /// Local window (`HH:MM-HH:MM`, `24:00` allowed as the end) in which notices go out and
    /// lines are reduced or blocked, so that nobody is cut at night. ura's choice: not in
    /// the RGC.
    pub horario: String,
    /// Steps apply only Monday to Friday, national holidays excluded (notices go out any
    /// day, inside `horario`). ura's choice: not in the RGC.
    pub dias_uteis: bool,
    /// Days the notice of each step goes out before it. RGC art. 70 (15 days between the
    /// notice of the overdue debt and the suspension; art. 71 lists what the notice says).
    /// The notice is mandatory, so it is always sent; only an explicit 0 applies a step
    /// without waiting after it (the start-up log says so).
    pub aviso_antecedencia: u32,
    /// Tell the customer (template `acesso_restabelecido`) when a payment gives the line back.
    /// Off by default; the line itself comes back either way, within seconds (RGC art. 78:
    /// at most 1 day after the provider learns of the payment).
    pub notificar_restabelecimento: bool,
}

impl Default for CobrancaSettings {
    fn default() -> Self {
        CobrancaSettings {
            ativo: false,
            dias_reducao: None,
            dias_bloqueio: 20,
            valor_minimo: 0.0,
            intervalo: 3600.0,
            horario: "08:00-18:00".into(),
            dias_uteis: true,
            aviso_antecedencia: RGC_NOTICE_DAYS,
            notificar_restabelecimento: false,
        }
    }
}

/// Bank return files (arquivos de retorno): how their payments are applied. docs/bank-returns.md
/// explains each outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ReturnSettings {
    /// A liquidation paying less than the invoice's amount: `quitar` pays the invoice and
    /// records the difference on its history; `manter_aberta` keeps it open and records the
    /// partial payment (the line's outcome is `registrado`, with the reason).
    pub pagamento_parcial: PartialPayment,
    /// Largest return file accepted by the admin API and the console, in bytes (a CNAB 240
    /// file of 10,000 boletos is about 5 MB).
    pub tamanho_max: usize,
}

impl Default for ReturnSettings {
    fn default() -> Self {
        ReturnSettings {
            pagamento_parcial: PartialPayment::Quitar,
            tamanho_max: 20 * 1024 * 1024,
        }
    }
}

/// What a payment below the invoice's amount does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartialPayment {
    /// Pays the invoice; the difference is recorded on its history.
    Quitar,
    /// Keeps the invoice open; the partial payment is recorded on its history.
    ManterAberta,
}

/// RGC (Resolução Anatel nº 765/2023) art. 70: days from the notice of an overdue debt
/// before the service may be suspended.
pub const RGC_NOTICE_DAYS: u32 = 15;

impl CobrancaSettings {
    /// The rule these settings describe; the error names the bad setting, in pt-BR.
    pub fn rule(&self) -> Result<crate::domain::dunning::Rule, String> {
        let window = crate::domain::dunning::Window::parse(&self.horario)
            .map_err(|e| format!("cobranca.horario: {e}"))?;
        if !(self.valor_minimo.is_finite() && self.valor_minimo >= 0.0) {
            return Err(format!(
                "cobranca.valor_minimo: valor inválido {} (use reais, por exemplo 10.0)",
                self.valor_minimo
            ));
        }
        if let Some(reduce) = self.dias_reducao
            && reduce >= self.dias_bloqueio
        {
            return Err(format!(
                "cobranca.dias_reducao ({reduce}) deve ser menor que cobranca.dias_bloqueio ({})",
                self.dias_bloqueio
            ));
        }
        Ok(crate::domain::dunning::Rule {
            reduce_after: self.dias_reducao,
            block_after: self.dias_bloqueio,
            min_cents: (self.valor_minimo * 100.0).round() as i64,
            notice_days: self.aviso_antecedencia,
            window,
            business_days_only: self.dias_uteis,
        })
    }

    /// Time between two runs of the job.
    pub fn intervalo(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.intervalo.clamp(1.0, 7.0 * 86_400.0))
    }

    /// What the start-up log should warn of, in pt-BR (empty while blocking is off).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.ativo {
            return out;
        }
        match self.aviso_antecedencia {
            0 => out.push(
                "cobranca.aviso_antecedencia = 0: contratos serão reduzidos ou bloqueados sem \
                 esperar após o aviso de débito (o aviso ainda é enviado); o RGC (art. 70) \
                 pede 15 dias"
                    .to_string(),
            ),
            days if days < RGC_NOTICE_DAYS => out.push(format!(
                "cobranca.aviso_antecedencia = {days}: menos que os {RGC_NOTICE_DAYS} dias entre \
                 o aviso de débito e a suspensão do RGC (art. 70)"
            )),
            _ => {}
        }
        out
    }
}

/// The PSP's PIX webhook (`/webhooks/pix`): how its notices are authenticated. docs/pix.md
/// has how to register it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PixSettings {
    /// The secret the PSP shows: in the registered URL (`?hmac=SEGREDO` or a path segment)
    /// or as the key of an HMAC-SHA256 of the body. Absent: the webhook is off (`404`).
    pub webhook_segredo: Option<String>,
    /// The header carrying the HMAC-SHA256 of the body (hex or base64, `sha256=` allowed).
    pub cabecalho_hmac: String,
    /// When not empty, only these networks may deliver notices (`10.0.0.0/8`, `203.0.113.7`);
    /// behind a reverse proxy, see `limites.proxies_confiaveis`.
    pub redes_permitidas: Vec<String>,
    /// Largest notice body, in bytes (`413` above).
    pub corpo_max: usize,
}

impl Default for PixSettings {
    fn default() -> Self {
        PixSettings {
            webhook_segredo: None,
            cabecalho_hmac: "X-Webhook-Signature".into(),
            redes_permitidas: Vec::new(),
            corpo_max: 1024 * 1024,
        }
    }
}

impl PixSettings {
    /// The shortest secret taken: one that cannot be guessed, and never the `pix` suffix.
    pub const SECRET_MIN: usize = 16;

    /// The secret, when the webhook is on.
    pub fn secret(&self) -> Option<&str> {
        self.webhook_segredo
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    fn validate(&self) -> Result<(), String> {
        if let Some(secret) = self.secret() {
            let url_safe = secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if secret.len() < Self::SECRET_MIN || !url_safe {
                return Err(format!(
                    "pix.webhook_segredo: use ao menos {} letras, dígitos ou - . _ ~ \
                     (ele vai na URL cadastrada no PSP)",
                    Self::SECRET_MIN
                ));
            }
        }
        if axum::http::HeaderName::from_bytes(self.cabecalho_hmac.trim().as_bytes()).is_err() {
            return Err(format!(
                "pix.cabecalho_hmac: nome de cabeçalho inválido {:?}",
                self.cabecalho_hmac
            ));
        }
        parse_networks(&self.redes_permitidas).map_err(|e| format!("pix.redes_permitidas: {e}"))?;
        if self.corpo_max == 0 {
            return Err("pix.corpo_max deve ser maior que zero".into());
        }
        Ok(())
    }
}

/// Browsers allowed to call the URA routes (web chat widgets).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CorsSettings {
    /// Allowed origins, e.g. `https://chat.provedor.com.br`; none by default.
    pub origens: Vec<String>,
}

/// The audit trail of URA calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditSettings {
    /// Days an entry is kept; 0 keeps them forever.
    pub dias: u32,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings { dias: 90 }
    }
}

/// The agents' console.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PainelSettings {
    /// Hours a sign-in lasts.
    pub sessao_horas: f64,
    /// Hours a call not marked handled stays on the agents' screens.
    pub janela_horas: f64,
    /// Wrong passwords from one address within 15 minutes before it must wait.
    pub falhas_por_endereco: u32,
}

impl Default for PainelSettings {
    fn default() -> Self {
        PainelSettings {
            sessao_horas: 12.0,
            janela_horas: 12.0,
            falhas_por_endereco: 20,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct NasSettings {
    /// Seconds to wait for each try of an RFC 5176 request.
    pub timeout: f64,
    /// Tries after the first.
    pub tentativas: u32,
    /// Seconds between two health probes of each NAS.
    pub verificar_saude: f64,
}

impl Default for NasSettings {
    fn default() -> Self {
        NasSettings {
            timeout: 0.5,
            tentativas: 2,
            verificar_saude: 30.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RadiusSettings {
    /// Group of the services of contracts not in service (suspended, cancelled, inactive).
    pub grupo_bloqueio: String,
    /// Group of the services of contracts at reduced speed (status 7); absent: the plan's.
    pub grupo_velocidade_reduzida: Option<String>,
}

impl Default for RadiusSettings {
    fn default() -> Self {
        RadiusSettings {
            grupo_bloqueio: "bloqueado".into(),
            grupo_velocidade_reduzida: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PromiseSettings {
    /// Days an unlock lasts, and how far ahead `data_promessa` may be.
    pub dias: u32,
    /// Promises per contract per calendar month.
    pub limite_mes: u32,
    /// Whether a contract suspended by hand (mode 2) may be unlocked by the IVR.
    pub suspensao_manual: bool,
    /// Largest open debt, in reais, that still allows an unlock (no limit when absent).
    pub max_valor_aberto: Option<f64>,
    /// Oldest overdue invoice, in days, that still allows an unlock (no limit when absent).
    pub max_dias_atraso: Option<u32>,
    /// Seconds between two looks for promises whose time is up.
    pub verificar_expiracao: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct InvoiceSettings {
    /// Most invoices sent in one `enviafatura`.
    pub max_envio: u32,
    /// Seconds one delivery attempt may take before the answer says status 9.
    pub tempo_max: f64,
    /// Where messages land when no SMTP server / SMS gateway is configured.
    pub diretorio: PathBuf,
    /// Fine of a late invoice, in percent of its amount.
    pub multa: f64,
    /// Interest of a late invoice, in percent a month, pro rata per day.
    pub juros_mes: f64,
    /// Days a link to an invoice's PDF keeps working.
    pub link_validade_dias: u32,
    /// Seconds between two looks for messages to retry.
    pub reenviar: f64,
    /// Seconds before the first retry of a failed message; each next wait doubles (at most
    /// one hour).
    pub espera_inicial: f64,
    /// Tries of a message before it is given up (kept, marked failed).
    pub max_tentativas: u32,
    /// Most messages a second the outbox's worker sends from its queue (a dunning run's
    /// notices, retries): the mail server's or the SMS gateway's limit, and what leaves the
    /// machine to the URA's answers meanwhile. 0: no limit.
    pub envios_por_segundo: f64,
    /// Directory with edited message templates (`assunto.txt`, `corpo.txt`, `corpo.html`,
    /// `sms.txt`); absent: the built-in ones.
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessSettings {
    /// Seconds the whole `verificaacesso` answer may take.
    pub tempo_max: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SmtpSettings {
    /// `smtp://user:pass@host:587?tls=required`, `smtps://host:465`, `smtp://host:25`.
    /// Absent: e-mails are written as `.eml` files into `fatura.diretorio`.
    pub url: Option<String>,
    /// The `From:` header.
    pub remetente: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SmsSettings {
    /// The gateway's URL, a minijinja template (`{{ numero }}`, `{{ mensagem }}`).
    /// Absent: SMS messages are written as text files into `fatura.diretorio`.
    pub url: Option<String>,
    /// HTTP method of the gateway call.
    pub metodo: String,
    /// Extra headers, e.g. an API key.
    pub cabecalhos: BTreeMap<String, String>,
    /// Request body template (minijinja); empty for no body.
    pub corpo: String,
    /// Content type of the body.
    pub content_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderSettings {
    pub nome: String,
    pub cnpj: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8000".into(),
            database_url: "sqlite://ura.db".into(),
            base_path: String::new(),
            timezone: "America/Sao_Paulo".into(),
            body_limit: 64 * 1024,
            request_timeout: 10.0,
            database_max_connections: 16,
            public_url: None,
            links_chave: None,
            radacct_url: None,
            promessa: PromiseSettings::default(),
            fatura: InvoiceSettings::default(),
            acesso: AccessSettings::default(),
            smtp: SmtpSettings {
                url: None,
                remetente: "URA <ura@localhost>".into(),
            },
            sms: SmsSettings::default(),
            provedor: ProviderSettings::default(),
            radius: RadiusSettings::default(),
            nas: NasSettings::default(),
            painel: PainelSettings::default(),
            auditoria: AuditSettings::default(),
            limites: LimitSettings::default(),
            cors: CorsSettings::default(),
            tls: TlsSettings::default(),
            cobranca: CobrancaSettings::default(),
            retorno: ReturnSettings::default(),
            pix: PixSettings::default(),
            metricas_token: None,
            sqlite_max_paginas: None,
        }
    }
}

impl Default for PromiseSettings {
    fn default() -> Self {
        PromiseSettings {
            dias: 3,
            limite_mes: 1,
            suspensao_manual: false,
            max_valor_aberto: None,
            max_dias_atraso: None,
            verificar_expiracao: 30.0,
        }
    }
}

impl Default for InvoiceSettings {
    fn default() -> Self {
        InvoiceSettings {
            max_envio: 3,
            tempo_max: 3.0,
            diretorio: PathBuf::from("ura-mensagens"),
            multa: crate::domain::invoice::DEFAULT_FINE_PERCENT,
            juros_mes: crate::domain::invoice::DEFAULT_INTEREST_PERCENT_MONTH,
            link_validade_dias: 30,
            reenviar: 15.0,
            espera_inicial: 30.0,
            max_tentativas: 10,
            envios_por_segundo: 100.0,
            templates: None,
        }
    }
}

impl Default for AccessSettings {
    fn default() -> Self {
        AccessSettings { tempo_max: 2.0 }
    }
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            url: None,
            metodo: "POST".into(),
            cabecalhos: BTreeMap::new(),
            corpo: r#"{"to":"{{ numero }}","message":{{ mensagem | tojson }}}"#.into(),
            content_type: "application/json".into(),
        }
    }
}

impl Default for ProviderSettings {
    fn default() -> Self {
        ProviderSettings {
            nome: "Provedor".into(),
            cnpj: String::new(),
        }
    }
}

/// Maps `URA_PROMESSA_LIMITE_MES` to `promessa.limite_mes`, `URA_BASE_PATH` to `base_path`.
fn env_key(key: &str) -> String {
    let key = key.to_ascii_lowercase();
    for section in SECTIONS {
        if let Some(rest) = key.strip_prefix(section).and_then(|r| r.strip_prefix('_')) {
            return format!("{section}.{rest}");
        }
    }
    key
}

impl Settings {
    /// `scheme://host` plus the base path: `public_url` when set, else from the request's
    /// `Host` (and `X-Forwarded-Proto` behind a proxy).
    pub fn origin(&self, headers: &axum::http::HeaderMap) -> String {
        if let Some(url) = self.public_url.as_deref().filter(|u| !u.trim().is_empty()) {
            return url.trim().trim_end_matches('/').to_string();
        }
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let host = header("host").unwrap_or("localhost");
        let scheme = match header("x-forwarded-proto") {
            _ if self.tls.files().is_some() => "https",
            Some("https") => "https",
            _ => "http",
        };
        format!("{scheme}://{host}{}", self.base_path)
    }

    /// `scheme://host` plus the base path for links in messages (e-mail, SMS): `public_url`
    /// only, never the request's `Host`, which the caller writes. Without `public_url` (only
    /// allowed while messages are written to files, see `check_delivery`): this server's own
    /// listening address.
    pub fn message_origin(&self) -> String {
        if let Some(url) = self.public_url.as_deref().filter(|u| !u.trim().is_empty()) {
            return url.trim().trim_end_matches('/').to_string();
        }
        let listen = self.listen.trim();
        let listen = match listen.strip_prefix("0.0.0.0:") {
            Some(port) => format!("127.0.0.1:{port}"),
            None => match listen.strip_prefix("[::]:") {
                Some(port) => format!("[::1]:{port}"),
                None => listen.to_string(),
            },
        };
        let scheme = if self.tls.files().is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{listen}{}", self.base_path)
    }

    /// Messages that really leave (SMTP, an SMS gateway) carry links to this server, which
    /// must come from `public_url`: without it the server does not start.
    pub fn check_delivery(&self) -> Result<(), String> {
        let public = self
            .public_url
            .as_deref()
            .is_some_and(|u| !u.trim().is_empty());
        if public {
            return Ok(());
        }
        let channels: Vec<&str> = [
            self.smtp.url.as_ref().map(|_| "e-mail (smtp.url)"),
            self.sms.url.as_ref().map(|_| "SMS (sms.url)"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if channels.is_empty() {
            return Ok(());
        }
        Err(format!(
            "public_url não definido: o envio de {} está ligado e os links das faturas nas \
             mensagens usam apenas public_url (nunca o cabeçalho Host da requisição). Defina \
             public_url com o endereço pelo qual os clientes acessam este servidor, por exemplo \
             public_url = \"https://ura.provedor.com.br\" (ou URA_PUBLIC_URL).",
            channels.join(" e ")
        ))
    }

    /// The connection timeouts (`limites.cabecalhos_tempo`, `limites.ocioso_tempo`).
    pub fn connection_timeouts(&self) -> (std::time::Duration, std::time::Duration) {
        let secs = |v: f64| std::time::Duration::from_secs_f64(v.clamp(0.05, 86_400.0));
        (
            secs(self.limites.cabecalhos_tempo),
            secs(self.limites.ocioso_tempo),
        )
    }

    /// How long a request may take before it is answered `503`.
    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.request_timeout.clamp(0.1, 3600.0))
    }

    /// Defaults < file < environment. `file` None means `ura.toml` if it exists (here or in
    /// a folder above). An unknown key in the file is an error; unknown `URA_*` variables
    /// are logged as warnings.
    pub fn load(file: Option<&Path>) -> Result<Settings, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        let from_env = std::env::var_os("URA_CONFIG").map(PathBuf::from);
        let known = known::Known::new();
        let checked = match file.map(Path::to_path_buf).or(from_env) {
            Some(path) => {
                if !path.exists() {
                    return Err(Box::new(figment::Error::from(format!(
                        "arquivo de configuração não encontrado: {}",
                        path.display()
                    ))));
                }
                figment = figment.merge(Toml::file_exact(&path));
                Some(path)
            }
            None => {
                figment = figment.merge(Toml::file("ura.toml"));
                default_file()
            }
        };
        if let Some(path) = checked
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            known
                .check_file(&path, &text)
                .map_err(|e| Box::new(figment::Error::from(e)))?;
        }
        for warning in
            known.unknown_env(std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()))
        {
            tracing::warn!("{warning}");
        }
        figment
            .merge(
                Env::prefixed("URA_")
                    .ignore(&["config", "log", "test_database_url"])
                    .map(|k| env_key(k.as_str()).into()),
            )
            .extract()
            .map_err(Box::new)
    }

    /// Checks what serde cannot: a time zone that exists, a base path that is a path.
    pub fn validate(&mut self) -> Result<(), String> {
        for origin in &self.cors.origens {
            let o = origin.trim();
            let ok = (o.starts_with("http://") || o.starts_with("https://"))
                && axum::http::HeaderValue::from_str(o).is_ok()
                && !o
                    .trim_end_matches('/')
                    .contains(|c: char| c.is_whitespace());
            if !ok {
                return Err(format!(
                    "cors.origens: origem inválida {origin:?} (use https://chat.provedor.com.br)"
                ));
            }
        }
        if self.tls.certificado.is_some() != self.tls.chave.is_some() {
            return Err("tls: informe certificado e chave, ou nenhum dos dois".into());
        }
        parse_networks(&self.limites.proxies_confiaveis)
            .map_err(|e| format!("limites.proxies_confiaveis: {e}"))?;
        for (name, value) in [
            ("limites.cabecalhos_tempo", self.limites.cabecalhos_tempo),
            ("limites.ocioso_tempo", self.limites.ocioso_tempo),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(format!("{name} deve ser maior que zero (segundos)"));
            }
        }
        if self.limites.conexoes_max == 0 {
            return Err("limites.conexoes_max deve ser maior que zero".into());
        }
        self.tz()?;
        let base = self.base_path.trim().trim_end_matches('/');
        if !base.is_empty() && !base.starts_with('/') {
            self.base_path = format!("/{base}");
        } else {
            self.base_path = base.to_string();
        }
        if let Some(url) = self.public_url.as_deref().filter(|u| !u.trim().is_empty()) {
            let url = url.trim();
            let ok = (url.starts_with("http://") || url.starts_with("https://"))
                && axum::http::Uri::try_from(url).is_ok_and(|u| u.host().is_some());
            if !ok {
                return Err(format!(
                    "public_url inválido {url:?} (use https://ura.provedor.com.br)"
                ));
            }
        }
        if self.body_limit == 0 {
            return Err("body_limit deve ser maior que zero".into());
        }
        if self.database_max_connections == 0 {
            return Err("database_max_connections deve ser maior que zero".into());
        }
        if self.radius.grupo_bloqueio.trim().is_empty() {
            return Err("radius.grupo_bloqueio não pode ser vazio".into());
        }
        if self.promessa.limite_mes == 0 {
            return Err("promessa.limite_mes deve ser maior que zero".into());
        }
        self.cobranca.rule()?;
        self.pix.validate()?;
        if !(self.cobranca.intervalo.is_finite() && self.cobranca.intervalo > 0.0) {
            return Err("cobranca.intervalo deve ser maior que zero (segundos)".into());
        }
        if self.retorno.tamanho_max == 0 {
            return Err("retorno.tamanho_max deve ser maior que zero (bytes)".into());
        }
        Ok(())
    }

    pub fn tz(&self) -> Result<chrono_tz::Tz, String> {
        self.timezone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| format!("fuso horário desconhecido: {}", self.timezone))
    }
}

/// `ura.toml` as figment's `Toml::file` finds it: in the working directory or the nearest
/// folder above.
fn default_file() -> Option<PathBuf> {
    let here = PathBuf::from("ura.toml");
    if here.is_file() {
        return Some(here);
    }
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|dir| dir.join("ura.toml"))
        .find(|path| path.is_file())
}

/// Parses a list of networks (`10.0.0.0/8`, `192.168.1.10`); the error names the bad one.
pub fn parse_networks(list: &[String]) -> Result<Vec<ipnet::IpNet>, String> {
    list.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("rede inválida: {s:?} (use 10.0.0.0/8 ou 192.168.1.10)"))
        })
        .collect()
}

#[cfg(test)]
// figment's Jail closures return figment::Error, which is large; fine in tests.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    /// The example file shipped in the package names every setting, and loads.
    #[test]
    fn the_example_file_documents_every_setting() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/ura.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut settings = Settings::load(Some(&path)).expect("example loads");
        settings.validate().expect("example is valid");
        let defaults = serde_json::to_value(Settings::default()).unwrap();
        let mut missing = Vec::new();
        for (key, value) in defaults.as_object().unwrap() {
            let keys: Vec<String> = match value.as_object() {
                Some(section) => {
                    assert!(text.contains(&format!("[{key}]")), "section [{key}]");
                    section.keys().cloned().collect()
                }
                None => vec![key.clone()],
            };
            for k in keys {
                if !text.contains(&format!("{k} =")) {
                    missing.push(k);
                }
            }
        }
        assert!(missing.is_empty(), "not in packaging/ura.toml: {missing:?}");
    }

    #[test]
    fn env_keys_map_to_sections() {
        assert_eq!(env_key("PROMESSA_LIMITE_MES"), "promessa.limite_mes");
        assert_eq!(env_key("DATABASE_URL"), "database_url");
        assert_eq!(env_key("BASE_PATH"), "base_path");
        assert_eq!(env_key("SMTP_URL"), "smtp.url");
        assert_eq!(env_key("COBRANCA_DIAS_BLOQUEIO"), "cobranca.dias_bloqueio");
    }

    #[test]
    fn dunning_defaults_follow_the_rgc_and_are_off() {
        let c = CobrancaSettings::default();
        assert!(!c.ativo);
        assert!(!c.notificar_restabelecimento);
        assert!(c.warnings().is_empty());
        let rule = c.rule().unwrap();
        assert_eq!(rule.reduce_after, None);
        assert_eq!(rule.block_after, 20);
        assert_eq!(rule.notice_days, 15);
        assert_eq!(rule.min_cents, 0);
        assert!(rule.business_days_only);
        assert_eq!(rule.window.to_string(), "08:00-18:00");
        assert_eq!(c.intervalo(), std::time::Duration::from_secs(3600));
    }

    #[test]
    fn return_file_settings_come_from_file_and_environment() {
        figment::Jail::expect_with(|jail| {
            let s = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!(s.retorno.pagamento_parcial, PartialPayment::Quitar);
            jail.create_file(
                "ura.toml",
                "[retorno]\npagamento_parcial = \"manter_aberta\"\n",
            )?;
            let s = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!(s.retorno.pagamento_parcial, PartialPayment::ManterAberta);
            jail.set_env("URA_RETORNO_PAGAMENTO_PARCIAL", "quitar");
            jail.set_env("URA_RETORNO_TAMANHO_MAX", "1000");
            let mut s = Settings::load(None).map_err(|e| e.to_string())?;
            s.validate()?;
            assert_eq!(s.retorno.pagamento_parcial, PartialPayment::Quitar);
            assert_eq!(s.retorno.tamanho_max, 1000);
            jail.set_env("URA_RETORNO_PAGAMENTO_PARCIAL", "metade");
            assert!(Settings::load(None).is_err());
            jail.set_env("URA_RETORNO_PAGAMENTO_PARCIAL", "quitar");
            jail.set_env("URA_RETORNO_TAMANHO_MAX", "0");
            let mut s = Settings::load(None).map_err(|e| e.to_string())?;
            assert!(s.validate().unwrap_err().contains("retorno.tamanho_max"));
            Ok(())
        });
    }

    #[test]
    fn dunning_settings_come_from_file_and_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "ura.toml",
                r#"
                [cobranca]
                ativo = true
                dias_reducao = 20
                dias_bloqueio = 50
                valor_minimo = 10.5
                horario = "07:30-24:00"
                dias_uteis = false
                "#,
            )?;
            jail.set_env("URA_COBRANCA_AVISO_ANTECEDENCIA", "20");
            let mut s = Settings::load(None).map_err(|e| e.to_string())?;
            s.validate()?;
            let rule = s.cobranca.rule()?;
            assert_eq!(rule.reduce_after, Some(20));
            assert_eq!(rule.block_after, 50);
            assert_eq!(rule.min_cents, 1050);
            assert_eq!(rule.notice_days, 20);
            assert!(!rule.business_days_only);
            assert_eq!(rule.window.to_string(), "07:30-24:00");
            Ok(())
        });
    }

    #[test]
    fn bad_dunning_settings_are_refused_naming_the_setting() {
        let mut s = Settings::default();
        s.cobranca.horario = "18:00-08:00".into();
        let err = s.validate().unwrap_err();
        assert!(err.starts_with("cobranca.horario: "), "{err}");

        let mut s = Settings::default();
        s.cobranca.horario = "oito às seis".into();
        let err = s.validate().unwrap_err();
        assert!(
            err.contains("cobranca.horario") && err.contains("HH:MM-HH:MM"),
            "{err}"
        );

        let mut s = Settings::default();
        s.cobranca.dias_reducao = Some(20);
        let err = s.validate().unwrap_err();
        assert!(err.contains("cobranca.dias_reducao"), "{err}");

        let mut s = Settings::default();
        s.cobranca.valor_minimo = -1.0;
        assert!(s.validate().unwrap_err().contains("cobranca.valor_minimo"));

        let mut s = Settings::default();
        s.cobranca.intervalo = 0.0;
        assert!(s.validate().unwrap_err().contains("cobranca.intervalo"));
    }

    #[test]
    fn short_notices_are_warned_of_while_on() {
        let mut c = CobrancaSettings {
            ativo: true,
            ..CobrancaSettings::default()
        };
        assert!(c.warnings().is_empty());
        c.aviso_antecedencia = 0;
        let w = c.warnings();
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("aviso_antecedencia = 0"), "{w:?}");
        c.aviso_antecedencia = 7;
        assert!(c.warnings()[0].contains("art. 70"));
        c.aviso_antecedencia = 30;
        assert!(c.warnings().is_empty(), "stricter is fine");
        c.ativo = false;
        c.aviso_antecedencia = 0;
        assert!(c.warnings().is_empty());
    }

    #[test]
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "ura.toml",
                r#"
                listen = "0.0.0.0:9000"
                timezone = "America/Manaus"
                [promessa]
                dias = 5
                limite_mes = 2
                "#,
            )?;
            jail.set_env("URA_PROMESSA_LIMITE_MES", "4");
            jail.set_env("URA_DATABASE_URL", "sqlite://outro.db");
            jail.set_env("URA_BASE_PATH", "provedorx/");
            let mut s = Settings::load(None).map_err(|e| e.to_string())?;
            s.validate()?;
            assert_eq!(s.listen, "0.0.0.0:9000");
            assert_eq!(s.timezone, "America/Manaus");
            assert_eq!(s.promessa.dias, 5);
            assert_eq!(s.promessa.limite_mes, 4);
            assert_eq!(s.database_url, "sqlite://outro.db");
            assert_eq!(s.base_path, "/provedorx");
            assert_eq!(s.body_limit, 64 * 1024);
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("URA_TIMEZONE", "Marte/Olimpo");
            let mut s = Settings::load(None).map_err(|e| e.to_string())?;
            assert!(s.validate().is_err());
            jail.set_env("URA_PROMESSA_DIAS", "muitos");
            assert!(Settings::load(None).is_err());
            Ok(())
        });
    }
}
