//! `ura doctor`: checks an installation without changing it — the settings, the database and
//! its migrations, the FreeRADIUS tables, each NAS, SMTP and the SMS gateway, `public_url`,
//! the TLS files, the clock and time zone — and prints one line per check with ✓ or ✗ and,
//! on ✗, what to do. SQL goes through `store::database`, network probes through `network`.

use std::io::Write;
use std::time::Duration;

use crate::network::{coa::CoaClient, nas as nas_probe, reach};
use crate::settings::Settings;
use crate::store::{Store, StoreOptions, database, redact_url};

/// How long one probe may take.
const WITHIN: Duration = Duration::from_secs(5);
/// The database's clock may differ from this machine's by this much.
const MAX_SKEW_SECONDS: f64 = 5.0;

/// One line of the report.
struct Check {
    ok: bool,
    text: String,
    /// What to do when it failed.
    fix: Option<String>,
}

fn ok(text: impl Into<String>) -> Check {
    Check {
        ok: true,
        text: text.into(),
        fix: None,
    }
}

fn fail(text: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        ok: false,
        text: text.into(),
        fix: Some(fix.into()),
    }
}

/// Prints each line as its check ends, and counts the failures.
#[derive(Default)]
struct Report {
    failed: usize,
}

impl Report {
    fn print(&mut self, c: Check) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        if c.ok {
            writeln!(out, "✓ {}", c.text)?;
        } else {
            self.failed += 1;
            match c.fix {
                Some(fix) => writeln!(out, "✗ {} → {fix}", c.text)?,
                None => writeln!(out, "✗ {}", c.text)?,
            }
        }
        out.flush()
    }
}

/// Runs every check, printing each line as it is done; returns how many failed.
pub async fn run(settings: Result<Settings, String>) -> anyhow::Result<usize> {
    let mut report = Report::default();
    let settings = match settings {
        Ok(s) => {
            report.print(ok("configuração carregada e válida"))?;
            for warning in s.cobranca.warnings() {
                report.print(ok(format!("configuração: aviso: {warning}")))?;
            }
            s
        }
        Err(e) => {
            report.print(fail(
                format!("configuração: {e}"),
                "corrija o arquivo (docs/settings.md lista cada chave) e rode `ura doctor` de novo",
            ))?;
            return Ok(report.failed);
        }
    };

    let store = database_checks(&settings, &mut report).await?;
    match &store {
        Some(store) => nas_checks(store, &settings, &mut report).await?,
        None => report.print(fail(
            "NAS: não verificados (o banco não está pronto)",
            "resolva o banco de dados acima",
        ))?,
    }
    for check in message_checks(&settings).await {
        report.print(check)?;
    }
    report.print(public_url_check(&settings).await)?;
    report.print(tls_check(&settings).await)?;
    report.print(clock_check(&settings))?;
    if let Some(store) = store {
        store.close().await;
    }
    Ok(report.failed)
}

/// The database, its migrations and the FreeRADIUS tables; the store when it is ready to use.
async fn database_checks(
    settings: &Settings,
    report: &mut Report,
) -> anyhow::Result<Option<Store>> {
    let shown = redact_url(&settings.database_url);
    let inspection = match database::inspect(&settings.database_url, WITHIN).await {
        Ok(i) => i,
        Err(e) => {
            report.print(fail(
                format!("banco de dados {shown}: {e}"),
                "confira database_url (ou --database), se o servidor do banco está no ar e \
                 aceita este usuário; um banco novo é criado por `ura migrate`",
            ))?;
            return Ok(None);
        }
    };
    report.print(ok(format!("banco de dados {shown} responde")))?;
    if let Some(skew) = inspection.clock_skew
        && skew.abs() > MAX_SKEW_SECONDS
    {
        report.print(fail(
            format!("relógio: o do banco difere deste servidor em {skew:.0} s"),
            "sincronize os relógios (NTP: `timedatectl set-ntp true`) nas duas máquinas",
        ))?;
    }
    let mut ready = true;
    if !inspection.unknown.is_empty() {
        ready = false;
        report.print(fail(
            format!(
                "migrações: o banco tem migrações que esta versão não conhece ({:?})",
                inspection.unknown
            ),
            "uma versão mais nova do ura usou este banco: instale-a aqui também",
        ))?;
    } else if !inspection.pending.is_empty() {
        ready = false;
        report.print(fail(
            format!(
                "migrações: {} pendente(s): {}",
                inspection.pending.len(),
                inspection.pending.join(", ")
            ),
            "rode `ura migrate` (o `ura serve` também as aplica ao iniciar)",
        ))?;
    } else {
        report.print(ok("migrações: todas aplicadas"))?;
    }
    if inspection.missing_tables.is_empty() {
        report.print(ok(format!(
            "tabelas do FreeRADIUS presentes ({})",
            database::FREERADIUS_TABLES.join(", ")
        )))?;
    } else if inspection.pending.is_empty() {
        report.print(fail(
            format!(
                "tabelas do FreeRADIUS ausentes: {}",
                inspection.missing_tables.join(", ")
            ),
            "alguém as removeu: restaure o banco de um backup ou recrie-o com `ura migrate`",
        ))?;
    }
    match settings
        .radacct_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        Some(url) => match database::check_radacct(url, WITHIN).await {
            Ok(()) => report.print(ok(format!(
                "radacct_url {} responde e tem a tabela radacct",
                redact_url(url)
            )))?,
            Err(e) => report.print(fail(
                format!("radacct_url {}: {e}", redact_url(url)),
                "confira o endereço, o usuário (só leitura basta) e se o FreeRADIUS grava \
                 radacct nesse banco",
            ))?,
        },
        None => report.print(ok(
            "sessões RADIUS lidas da tabela radacct do próprio banco",
        ))?,
    }
    if !ready {
        return Ok(None);
    }
    let options = StoreOptions {
        max_connections: 2,
        sqlite_max_pages: None,
    };
    match Store::open_with_options(&settings.database_url, options).await {
        Ok(store) => Ok(Some(store)),
        Err(e) => {
            report.print(fail(
                format!("banco de dados {shown}: {e}"),
                "confira as permissões do usuário do banco",
            ))?;
            Ok(None)
        }
    }
}

/// Each NAS answers its probe (Status-Server, or a CoA-Request naming no session).
async fn nas_checks(store: &Store, settings: &Settings, report: &mut Report) -> anyhow::Result<()> {
    let list = crate::store::nas::all(store).await?;
    if list.is_empty() {
        return Ok(report.print(ok(
            "NAS: nenhum cadastrado (importe-os com `ura import nas.csv`)",
        ))?);
    }
    let timeout = Duration::from_secs_f64(settings.nas.timeout.clamp(0.05, 30.0));
    let coa = CoaClient::new(timeout, settings.nas.tentativas)?;
    for nas in &list {
        let address = match nas.ip {
            Some(ip) => format!("{ip}:{}", nas.coa_port),
            None => "sem IP".into(),
        };
        let name = format!("NAS {} ({address})", nas.name);
        let line = match nas_probe::probe(&coa, nas).await {
            None => ok(format!(
                "{name}: sem verificação (check_method none; as sessões não são consultadas)"
            )),
            Some(outcome)
                if matches!(
                    outcome,
                    crate::network::coa::Outcome::Ack | crate::network::coa::Outcome::Nak { .. }
                ) =>
            {
                ok(format!("{name}: responde ({})", outcome.describe()))
            }
            Some(outcome) => fail(
                format!("{name}: {}", outcome.describe()),
                "confira o IP, a porta CoA (porta_coa), o segredo e se o NAS aceita RFC 5176 \
                 (ou Status-Server) deste servidor; docs/network.md",
            ),
        };
        report.print(line)?;
    }
    Ok(())
}

/// SMTP, the SMS gateway, and the folder messages land in when either is not configured.
async fn message_checks(settings: &Settings) -> Vec<Check> {
    let mut checks = Vec::new();
    match &settings.smtp.url {
        Some(_) => {
            // Without a gateway the notifier would create the messages folder; a check
            // changes nothing, so it is given a stand-in gateway here.
            let mut only_smtp = settings.clone();
            only_smtp.sms.url = Some("http://localhost/".into());
            let checked = match crate::notify::Notifier::from_settings(&only_smtp) {
                Ok(n) => n.check_smtp().await.unwrap_or(Ok(())),
                Err(e) => Err(e.to_string()),
            };
            checks.push(match checked {
                Ok(()) => ok("SMTP responde e aceita a conexão (TLS e login como em smtp.url)"),
                Err(e) => fail(
                    format!("SMTP: {e}"),
                    "confira smtp.url (servidor, porta, usuário, senha, tls=required)",
                ),
            });
        }
        None => checks.push(ok(format!(
            "SMTP não configurado: e-mails são gravados em {} (defina smtp.url para enviá-los)",
            settings.fatura.diretorio.display()
        ))),
    }
    match &settings.sms.url {
        Some(url) => {
            let parsed = reqwest::Url::parse(url.trim());
            let target = parsed
                .as_ref()
                .ok()
                .and_then(|u| Some((u.host_str()?.to_string(), u.port_or_known_default()?)));
            checks.push(match target {
                None => fail(
                    "gateway SMS: sms.url não é um endereço http(s) válido",
                    "use por exemplo https://sms.exemplo.com.br/api/send",
                ),
                Some((host, port)) => match reach::tcp(&host, port, WITHIN).await {
                    Ok(()) => ok(format!("gateway SMS {host}:{port} aceita conexões")),
                    Err(e) => fail(
                        format!("gateway SMS: {e}"),
                        "confira sms.url e se este servidor alcança o gateway (firewall, DNS)",
                    ),
                },
            });
        }
        None => checks.push(ok(format!(
            "gateway SMS não configurado: SMS são gravados em {} (defina sms.url para enviá-los)",
            settings.fatura.diretorio.display()
        ))),
    }
    if settings.smtp.url.is_none() || settings.sms.url.is_none() {
        let dir = &settings.fatura.diretorio;
        let existing = dir
            .ancestors()
            .find(|p| p.as_os_str().is_empty() || p.exists())
            .map(|p| {
                if p.as_os_str().is_empty() {
                    std::path::Path::new(".")
                } else {
                    p
                }
            });
        let writable = existing
            .and_then(|p| std::fs::metadata(p).ok())
            .is_some_and(|m| m.is_dir() && !m.permissions().readonly());
        checks.push(if writable {
            ok(format!("pasta de mensagens {} gravável", dir.display()))
        } else {
            fail(
                format!(
                    "pasta de mensagens {}: não pode ser criada ou gravada",
                    dir.display()
                ),
                "defina fatura.diretorio numa pasta do usuário do serviço",
            )
        });
    }
    checks
}

async fn public_url_check(settings: &Settings) -> Check {
    let Some(url) = settings
        .public_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    else {
        return ok(
            "public_url não definida: os links usam o Host de cada requisição (defina-a atrás \
             de um proxy reverso)",
        );
    };
    let parsed = reqwest::Url::parse(url.trim()).ok().filter(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some() && u.query().is_none()
    });
    let Some(parsed) = parsed else {
        return fail(
            format!("public_url {url:?} não é um endereço http(s)"),
            "use o endereço como os clientes o abrem, p. ex. https://ura.provedor.com.br",
        );
    };
    let host = parsed.host_str().unwrap_or_default();
    let port = parsed.port_or_known_default().unwrap_or(443);
    match reach::resolve(host, port, WITHIN).await {
        Ok(()) if parsed.scheme() == "https" => ok(format!("public_url {url} ({host} resolve)")),
        Ok(()) => ok(format!(
            "public_url {url} ({host} resolve; sem HTTPS, os links vão em texto aberto)"
        )),
        Err(e) => fail(
            format!("public_url: {e}"),
            "confira o nome no DNS; os links de fatura e PIX apontam para ele",
        ),
    }
}

async fn tls_check(settings: &Settings) -> Check {
    let Some((cert, key)) = settings.tls.files() else {
        return ok(
            "TLS desligado: HTTP (ponha um proxy reverso com HTTPS na frente, ou defina tls.certificado e tls.chave)",
        );
    };
    for path in [cert, key] {
        if let Err(e) = std::fs::File::open(path) {
            return fail(
                format!("TLS: {}: {e}", path.display()),
                "confira tls.certificado e tls.chave e a permissão de leitura do usuário do serviço",
            );
        }
    }
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    match axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await {
        Ok(_) => ok(format!(
            "TLS: certificado {} e chave {} válidos",
            cert.display(),
            key.display()
        )),
        Err(e) => fail(
            format!("TLS: {e}"),
            "use a cadeia de certificados e a chave privada em PEM (a chave do certificado)",
        ),
    }
}

fn clock_check(settings: &Settings) -> Check {
    match settings.tz() {
        Ok(tz) => {
            let now = chrono::Utc::now().with_timezone(&tz);
            ok(format!(
                "relógio e fuso: {} ({}, UTC{})",
                now.format("%d/%m/%Y %H:%M:%S"),
                settings.timezone,
                now.format("%:z")
            ))
        }
        Err(e) => fail(
            format!("fuso: {e}"),
            "use um nome IANA, p. ex. America/Sao_Paulo",
        ),
    }
}
