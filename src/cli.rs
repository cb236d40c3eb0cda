//! Subcommands: `serve`, `demo`, `migrate`, `app`, `agent` and the tools around them.

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::settings::Settings;
use crate::store::{Store, apps, redact_url};

#[derive(Parser, Debug)]
#[command(
    name = "ura",
    version,
    about = "WebService URA para provedores de internet"
)]
pub struct Cli {
    /// Settings file (default: ./ura.toml when it exists; also URA_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct DbArgs {
    /// Database URL, e.g. sqlite://ura.db (overrides URA_DATABASE_URL).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP server.
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8000 (overrides URA_LISTEN).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Fill an empty database with the demo provider, print a token and curl lines, serve.
    Demo {
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Create the database if missing and apply migrations, then exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// A NAS simulator: answers RFC 5176 Disconnect/CoA and Status-Server over UDP for the
    /// sessions it holds (for the demo, tests and trying integrations without a router).
    NasSim {
        /// UDP address to listen on.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3799")]
        listen: String,
        /// Shared secret.
        #[arg(long, value_name = "SEGREDO")]
        secret: String,
        /// A session it holds: LOGIN or LOGIN=ACCT-SESSION-ID (repeatable).
        #[arg(long = "session", value_name = "LOGIN")]
        sessions: Vec<String>,
    },
    /// Import plans, POPs, NAS, customers, contracts, internet services or invoices from a
    /// CSV (with a header) or JSON file: upserts by the provider's ids, every line checked;
    /// bad lines are reported with their number and field. See examples/import/.
    Import {
        file: PathBuf,
        /// What the file holds: planos, pops, nas, clientes, contratos, servicos or faturas
        /// (default: recognised from the columns).
        #[arg(long, value_name = "TIPO")]
        tipo: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Fill an EMPTY database with a synthetic provider of N customers (contracts,
    /// services, FreeRADIUS, invoices, sessions), for benchmarks; see BENCHMARKS.md.
    Gen {
        /// How many customers (about 1.2 contracts each).
        #[arg(long, value_name = "N")]
        customers: u64,
        /// Seed: the same seed gives the same provider.
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
        /// Write random `document,contract` pairs, one per line, to FILE (for load
        /// generators).
        #[arg(long, value_name = "FILE")]
        sample: Option<PathBuf>,
        /// How many pairs --sample writes.
        #[arg(long, value_name = "N", default_value_t = 10_000)]
        sample_size: usize,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Invoices: the PDF second copy of one invoice, as callers receive it.
    Fatura {
        #[command(subcommand)]
        command: FaturaCommand,
    },
    /// Bank return files (arquivos de retorno CNAB 240/400): pay the invoices they report paid.
    Retorno {
        #[command(subcommand)]
        command: RetornoCommand,
    },
    /// Dunning: the provider's rule for blocking contracts with overdue invoices.
    Cobranca {
        #[command(subcommand)]
        command: CobrancaCommand,
    },
    /// FreeRADIUS provisioning.
    Radius {
        #[command(subcommand)]
        command: RadiusCommand,
    },
    /// Manage the applications (IVR, chatbot...) allowed to call the API.
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Manage the tokens of the admin API ({base}/admin/api/v1/).
    AdminToken {
        #[command(subcommand)]
        command: AdminTokenCommand,
    },
    /// Manage the agents who sign in to the console at {base}/painel/.
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum AdminTokenCommand {
    /// Create a token and print it alone on stdout (only its SHA-256 is stored).
    Add {
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List tokens (never the tokens themselves).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a token at once.
    Revoke {
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum AgentCommand {
    /// Create an agent. Without --senha-stdin a password is generated and printed alone on
    /// stdout.
    Add {
        login: String,
        /// Name shown to the other agents (default: the login).
        #[arg(long, value_name = "NOME")]
        nome: Option<String>,
        /// Queues the agent answers (the IVR's `uraagente`), comma-separated, or `todas`.
        #[arg(long, value_name = "FILAS", default_value = "todas")]
        filas: String,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        senha_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List agents (never their passwords).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Set a new password (generated, or read with --senha-stdin); ends the agent's sessions.
    Senha {
        login: String,
        #[arg(long)]
        senha_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Set the queues an agent answers (comma-separated, or `todas`).
    Filas {
        login: String,
        filas: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disable an agent: signed out at once, cannot sign in.
    Disable {
        login: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Enable a disabled agent (also lifts a lock after wrong passwords).
    Enable {
        login: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum FaturaCommand {
    /// Write the PDF of an invoice (e.g. `ura fatura pdf 10021` on the demo database).
    Pdf {
        /// Invoice id.
        id: i64,
        /// Output file (default: fatura-ID.pdf).
        #[arg(long, value_name = "ARQUIVO")]
        saida: Option<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum RadiusCommand {
    /// Rewrite radcheck, radusergroup and the plans' radgroupreply from the data
    /// (after editing tables by hand, or on a first install). Idempotent.
    Sync {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum RetornoCommand {
    /// Import return files: liquidations pay their invoices (and give lines blocked for debt
    /// back), other occurrences go to the invoices' history; a report per file. A file
    /// already imported is not applied again. Exit status 1 when a file or a line was refused.
    Importar {
        /// The files, in the order to import them.
        #[arg(required = true, value_name = "ARQUIVO")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum CobrancaCommand {
    /// Run the rule once (the server's job does it every `cobranca.intervalo`) and print,
    /// per contract, the oldest overdue invoice, days, amount and the action taken.
    Executar {
        /// Show what would be done, change nothing.
        #[arg(long)]
        simular: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum AppCommand {
    /// Create an app and print its token (alone, on stdout).
    Add {
        name: String,
        /// Functions the app may call, comma-separated (default: all),
        /// e.g. consultacliente,verificaacesso
        #[arg(long, value_name = "FUNCOES")]
        allow: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Limit an app to some functions (comma-separated), or `todas` for all.
    Allow {
        name: String,
        functions: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Limit an app to some networks (comma-separated: 10.0.0.0/8,192.168.1.10), or `todas`.
    /// From elsewhere its credentials are refused.
    Networks {
        name: String,
        networks: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List apps (never their tokens).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disable an app: its token stops working at once.
    Disable {
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Enable a disabled app.
    Enable {
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Give an app a new token (printed alone on stdout); the old one stops working.
    Rotate {
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

fn settings(
    config: Option<&PathBuf>,
    db: &DbArgs,
    listen: Option<&String>,
) -> anyhow::Result<Settings> {
    let mut settings = Settings::load(config.map(PathBuf::as_path))?;
    if let Some(url) = &db.database {
        settings.database_url = url.clone();
    }
    if let Some(listen) = listen {
        settings.listen = listen.clone();
    }
    settings.validate().map_err(anyhow::Error::msg)?;
    Ok(settings)
}

async fn open(settings: &Settings) -> anyhow::Result<Store> {
    let options = crate::store::StoreOptions {
        max_connections: settings.database_max_connections,
        sqlite_max_pages: settings.sqlite_max_paginas,
    };
    Store::open_with_options(&settings.database_url, options)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "não foi possível abrir o banco {}: {e}",
                redact_url(&settings.database_url)
            )
        })
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config.as_ref();
    match cli.command {
        Command::Serve { listen, db } => {
            let settings = settings(config, &db, listen.as_ref())?;
            let store = open(&settings).await?;
            let listener = bind(&settings.listen).await?;
            crate::app::serve(store, settings, listener, crate::app::shutdown_signal()).await
        }
        Command::Demo { listen, db } => demo(settings(config, &db, listen.as_ref())?).await,
        Command::Migrate { db } => {
            let settings = settings(config, &db, None)?;
            open(&settings).await?;
            eprintln!("banco {} pronto", redact_url(&settings.database_url));
            Ok(())
        }
        Command::App { command } => app(config, command).await,
        Command::Agent { command } => agent(config, command).await,
        Command::AdminToken { command } => admin_token(config, command).await,
        Command::NasSim {
            listen,
            secret,
            sessions,
        } => nas_sim(&listen, &secret, &sessions).await,
        Command::Import { file, tipo, db } => {
            let settings = settings(config, &db, None)?;
            let store = open(&settings).await?;
            let imported =
                crate::import::command(&store, &settings.radius, &file, tipo.as_deref()).await?;
            if !imported.paid_contracts.is_empty() {
                // Invoices marked paid by the file pay like any other payment: a contract
                // blocked for debt with nothing overdue left gets its line back.
                let state = crate::app::AppState::new(store.clone(), settings).await?;
                let settlement = &state.admin.settlement;
                let mut restored = 0;
                for id in &imported.paid_contracts {
                    if settlement.restore(*id, "importacao").await?.is_some() {
                        restored += 1;
                    }
                }
                settlement.line.settle_effects().await;
                state.stop.cancel();
                if restored > 0 {
                    eprintln!("{restored} contrato(s) com acesso restabelecido pelo pagamento");
                }
            }
            if imported.refused > 0 {
                anyhow::bail!("{} linha(s) recusada(s)", imported.refused);
            }
            Ok(())
        }
        Command::Gen {
            customers,
            seed,
            sample,
            sample_size,
            db,
        } => {
            crate::r#gen::command(
                &settings(config, &db, None)?,
                crate::r#gen::Options {
                    customers,
                    seed,
                    sample,
                    sample_size,
                },
            )
            .await
        }
        Command::Fatura {
            command: FaturaCommand::Pdf { id, saida, db },
        } => {
            let settings = settings(config, &db, None)?;
            let store = open(&settings).await?;
            let tz = settings.tz().map_err(anyhow::Error::msg)?;
            let document =
                crate::notify::invoice_doc::InvoiceDocument::from_settings(&settings, tz);
            let Some(inv) = crate::store::invoices::by_id(&store, id).await? else {
                anyhow::bail!("fatura {id} não encontrada");
            };
            let bytes = document.render(&inv, chrono::Utc::now())?;
            let path = saida.unwrap_or_else(|| PathBuf::from(format!("fatura-{id}.pdf")));
            std::fs::write(&path, bytes)?;
            eprintln!("PDF da fatura {id} gravado em {}", path.display());
            Ok(())
        }
        Command::Cobranca {
            command: CobrancaCommand::Executar { simular, db },
        } => {
            let settings = settings(config, &db, None)?;
            if !settings.cobranca.ativo {
                anyhow::bail!(
                    "a cobrança automática está desligada: defina cobranca.ativo = true em ura.toml"
                );
            }
            let store = open(&settings).await?;
            let state = crate::app::AppState::new(store.clone(), settings).await?;
            let lines = state.admin.dunning.run(simular).await?;
            state.admin.dunning.line.settle_effects().await;
            state.stop.cancel();
            print_dunning(&lines, simular);
            Ok(())
        }
        Command::Retorno {
            command: RetornoCommand::Importar { files, db },
        } => {
            let settings = settings(config, &db, None)?;
            let store = open(&settings).await?;
            let state = crate::app::AppState::new(store.clone(), settings).await?;
            let service = &state.admin.bank_returns;
            let outcome = import_returns(service, &files).await;
            service.settlement.line.settle_effects().await;
            state.stop.cancel();
            outcome
        }
        Command::Radius {
            command: RadiusCommand::Sync { db },
        } => {
            let settings = settings(config, &db, None)?;
            let store = open(&settings).await?;
            let mut tx = store.write().await?;
            let report = crate::store::radius::sync_all(&mut tx, &settings.radius).await?;
            tx.commit().await?;
            eprintln!(
                "FreeRADIUS sincronizado: {} plano(s), {} contrato(s)",
                report.plans, report.contracts
            );
            Ok(())
        }
    }
}

async fn nas_sim(listen: &str, secret: &str, sessions: &[String]) -> anyhow::Result<()> {
    use crate::network::nas_sim::{Behavior, NasSim};
    let addr: std::net::SocketAddr = listen
        .parse()
        .map_err(|_| anyhow::anyhow!("endereço inválido: {listen} (use IP:PORTA)"))?;
    if secret.is_empty() {
        anyhow::bail!("informe o segredo com --secret");
    }
    let sim = NasSim::start(addr, secret.as_bytes().to_vec(), Behavior::Normal)
        .map_err(|e| anyhow::anyhow!("não foi possível escutar em {listen}: {e}"))?;
    for session in sessions {
        let (login, id) = session.split_once('=').unwrap_or((session.as_str(), ""));
        sim.hold(login, id);
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "nas-sim escutando em udp://{}", sim.addr())?;
    writeln!(
        out,
        "sessões: {}",
        if sessions.is_empty() {
            "nenhuma".to_string()
        } else {
            sessions.join(", ")
        }
    )?;
    out.flush()?;
    drop(out);
    crate::app::shutdown_signal().await;
    sim.stop();
    Ok(())
}

/// Starts a NAS simulator on each demo NAS's own loopback address, holding the sessions
/// `radacct` shows open there, and points the NAS rows at them.
async fn start_demo_nas(store: &Store) -> anyhow::Result<Vec<crate::network::nas_sim::NasSim>> {
    use crate::network::nas_sim::{Behavior, NasSim};
    let mut sims = Vec::new();
    for nas in crate::store::seed::demo_nas(store).await? {
        let Ok(ip) = nas.nasname.parse::<std::net::IpAddr>() else {
            continue;
        };
        if !ip.is_loopback() {
            continue;
        }
        let sim = NasSim::start(
            std::net::SocketAddr::new(ip, 0),
            nas.secret.as_bytes().to_vec(),
            Behavior::Normal,
        )?;
        for (login, session) in crate::store::seed::open_sessions_at(store, &nas.nasname).await? {
            sim.hold(&login, &session);
        }
        crate::store::seed::point_nas_at(store, nas.id, sim.addr().port()).await?;
        sims.push(sim);
    }
    Ok(sims)
}

async fn bind(addr: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("não foi possível escutar em {addr}: {e}"))
}

async fn app(config: Option<&PathBuf>, command: AppCommand) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match command {
        AppCommand::Add { name, allow, db } => {
            let functions = allow.as_deref().map(parse_functions).transpose()?.flatten();
            let store = open(&settings(config, &db, None)?).await?;
            let token = apps::create_limited(&store, &name, functions.as_deref()).await?;
            writeln!(out, "{token}")?;
            eprintln!("app {name:?} criado; guarde o token: ele não é exibido novamente");
        }
        AppCommand::Rotate { name, db } => {
            let store = open(&settings(config, &db, None)?).await?;
            let token = apps::rotate(&store, &name).await?;
            writeln!(out, "{token}")?;
            eprintln!("novo token do app {name:?}; o anterior deixou de valer");
        }
        AppCommand::Allow {
            name,
            functions,
            db,
        } => {
            let functions = parse_functions(&functions)?;
            let store = open(&settings(config, &db, None)?).await?;
            apps::set_functions(&store, &name, functions.as_deref()).await?;
            match functions {
                Some(list) => eprintln!("app {name:?} limitado a: {}", list.join(", ")),
                None => eprintln!("app {name:?} pode chamar todas as funções"),
            }
        }
        AppCommand::Networks { name, networks, db } => {
            let list = if networks.trim().eq_ignore_ascii_case("todas") {
                None
            } else {
                let list: Vec<String> = networks.split(',').map(str::to_string).collect();
                let parsed =
                    crate::http::limits::parse_networks(&list).map_err(anyhow::Error::msg)?;
                if parsed.is_empty() {
                    anyhow::bail!("informe ao menos uma rede, ou `todas`");
                }
                Some(parsed)
            };
            let store = open(&settings(config, &db, None)?).await?;
            apps::set_networks(&store, &name, list.as_deref()).await?;
            match list {
                Some(list) => eprintln!(
                    "app {name:?} aceito somente de: {}",
                    list.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => eprintln!("app {name:?} aceito de qualquer rede"),
            }
        }
        AppCommand::List { db } => {
            let store = open(&settings(config, &db, None)?).await?;
            let rows = apps::list(&store).await?;
            writeln!(
                out,
                "{:<24} {:<10} {:<28} {:<28} FUNÇÕES",
                "APP", "SITUAÇÃO", "CRIADO EM", "ÚLTIMO USO"
            )?;
            for row in rows {
                writeln!(
                    out,
                    "{:<24} {:<10} {:<28} {:<28} {}",
                    row.name,
                    if row.enabled != 0 {
                        "ativo"
                    } else {
                        "desativado"
                    },
                    row.created_at,
                    row.last_used_at.as_deref().unwrap_or("-"),
                    row.allowed_functions.as_deref().unwrap_or("todas")
                )?;
            }
        }
        AppCommand::Disable { name, db } => {
            let store = open(&settings(config, &db, None)?).await?;
            apps::set_enabled(&store, &name, false).await?;
            eprintln!("app {name:?} desativado");
        }
        AppCommand::Enable { name, db } => {
            let store = open(&settings(config, &db, None)?).await?;
            apps::set_enabled(&store, &name, true).await?;
            eprintln!("app {name:?} ativado");
        }
    }
    Ok(())
}

async fn admin_token(config: Option<&PathBuf>, command: AdminTokenCommand) -> anyhow::Result<()> {
    use crate::store::admin_tokens;
    let mut out = std::io::stdout().lock();
    match command {
        AdminTokenCommand::Add { name, db } => {
            let store = open(&settings(config, &db, None)?).await?;
            let token = admin_tokens::create(&store, &name).await?;
            writeln!(out, "{token}")?;
            eprintln!(
                "token de administração {name:?} criado; guarde-o: ele não é exibido novamente"
            );
        }
        AdminTokenCommand::List { db } => {
            let store = open(&settings(config, &db, None)?).await?;
            writeln!(
                out,
                "{:<24} {:<10} {:<28} ÚLTIMO USO",
                "NOME", "SITUAÇÃO", "CRIADO EM"
            )?;
            for row in admin_tokens::list(&store).await? {
                writeln!(
                    out,
                    "{:<24} {:<10} {:<28} {}",
                    row.name,
                    if row.enabled != 0 {
                        "ativo"
                    } else {
                        "revogado"
                    },
                    row.created_at,
                    row.last_used_at.as_deref().unwrap_or("-")
                )?;
            }
        }
        AdminTokenCommand::Revoke { name, db } => {
            let store = open(&settings(config, &db, None)?).await?;
            admin_tokens::revoke(&store, &name).await?;
            eprintln!("token de administração {name:?} revogado");
        }
    }
    Ok(())
}

/// The password from stdin's first line, or a new random one (then printed).
fn password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        return Ok((line, false));
    }
    // 16 characters from an alphabet without look-alikes (0/O, 1/l): about 90 bits.
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    use rand::Rng;
    let mut rng = rand::rng();
    let generated = (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    Ok((generated, true))
}

async fn agent(config: Option<&PathBuf>, command: AgentCommand) -> anyhow::Result<()> {
    use crate::store::agents;
    let mut out = std::io::stdout().lock();
    match command {
        AgentCommand::Add {
            login,
            nome,
            filas,
            senha_stdin,
            db,
        } => {
            let queues = agents::parse_queues(&filas)?;
            let (secret, generated) = password(senha_stdin)?;
            let store = open(&settings(config, &db, None)?).await?;
            agents::create(
                &store,
                &login,
                nome.as_deref().unwrap_or(""),
                &secret,
                queues.as_deref(),
            )
            .await?;
            if generated {
                writeln!(out, "{secret}")?;
                eprintln!("agente {login:?} criado; guarde a senha: ela não é exibida novamente");
            } else {
                eprintln!("agente {login:?} criado");
            }
        }
        AgentCommand::Senha {
            login,
            senha_stdin,
            db,
        } => {
            let (secret, generated) = password(senha_stdin)?;
            let store = open(&settings(config, &db, None)?).await?;
            agents::set_password(&store, &login, &secret).await?;
            if generated {
                writeln!(out, "{secret}")?;
            }
            eprintln!("nova senha do agente {login:?}; as sessões abertas foram encerradas");
        }
        AgentCommand::Filas { login, filas, db } => {
            let queues = agents::parse_queues(&filas)?;
            let store = open(&settings(config, &db, None)?).await?;
            agents::set_queues(&store, &login, queues.as_deref()).await?;
            eprintln!(
                "agente {login:?} atende: {}",
                queues
                    .map(|q| q.join(", "))
                    .unwrap_or_else(|| "todas as filas".into())
            );
        }
        AgentCommand::List { db } => {
            let store = open(&settings(config, &db, None)?).await?;
            writeln!(
                out,
                "{:<20} {:<24} {:<10} {:<28} FILAS",
                "LOGIN", "NOME", "SITUAÇÃO", "ÚLTIMO ACESSO"
            )?;
            for a in agents::list(&store).await? {
                writeln!(
                    out,
                    "{:<20} {:<24} {:<10} {:<28} {}",
                    a.login,
                    a.name,
                    if a.enabled != 0 {
                        "ativo"
                    } else {
                        "desativado"
                    },
                    a.last_login_at.as_deref().unwrap_or("-"),
                    a.queues.as_deref().unwrap_or("todas")
                )?;
            }
        }
        AgentCommand::Disable { login, db } => {
            let store = open(&settings(config, &db, None)?).await?;
            agents::set_enabled(&store, &login, false).await?;
            eprintln!("agente {login:?} desativado; as sessões abertas foram encerradas");
        }
        AgentCommand::Enable { login, db } => {
            let store = open(&settings(config, &db, None)?).await?;
            agents::set_enabled(&store, &login, true).await?;
            eprintln!("agente {login:?} ativado");
        }
    }
    Ok(())
}

/// `consultacliente,chamado` → the list, checked against the known functions; `todas` → None.
fn parse_functions(text: &str) -> anyhow::Result<Option<Vec<String>>> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("todas") || text.eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    let mut list = Vec::new();
    for name in text.split(',').map(|f| f.trim().to_ascii_lowercase()) {
        if name.is_empty() {
            continue;
        }
        if crate::http::ura::Function::from_name(&name).is_none() {
            let known: Vec<&str> = crate::http::ura::Function::ALL
                .iter()
                .map(|f| f.name())
                .collect();
            anyhow::bail!("função desconhecida: {name} (use: {})", known.join(", "));
        }
        list.push(name);
    }
    if list.is_empty() {
        anyhow::bail!("informe ao menos uma função, ou `todas`");
    }
    Ok(Some(list))
}

async fn demo(mut settings: Settings) -> anyhow::Result<()> {
    // The demo provider's own name and CNPJ on invoices, unless the operator set them.
    if settings.provedor.nome == crate::settings::ProviderSettings::default().nome {
        settings.provedor.nome = "PROVEDOR DEMO INTERNET LTDA".into();
    }
    if settings.provedor.cnpj.is_empty() {
        settings.provedor.cnpj = "12345678000195".into();
    }
    let store = open(&settings).await?;
    let tz = settings.tz().map_err(anyhow::Error::msg)?;
    let created = crate::demo::seed_with(&store, chrono::Utc::now(), tz, &settings.radius).await?;
    let is_demo = crate::demo::is_demo(&store).await?;
    // Stand-ins for the demo's NAS, so that every path of `verificaacesso` (the NAS asked
    // whether it holds a session) can be tried on one machine.
    let simulators = if is_demo {
        start_demo_nas(&store).await?
    } else {
        Vec::new()
    };
    let listener = bind(&settings.listen).await?;
    let addr = listener.local_addr()?;
    let host = if addr.ip().is_unspecified() {
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    };
    let base = format!("http://{host}{}", settings.base_path.trim_end_matches('/'));

    let mut out = std::io::stdout().lock();
    writeln!(out, "ura demo: provedor de demonstração")?;
    writeln!(out, "Banco: {}", redact_url(&settings.database_url))?;
    if !is_demo {
        writeln!(
            out,
            "Este banco já tem dados e não foi criado pelo demo: nada foi alterado e nenhum token foi criado."
        )?;
        writeln!(
            out,
            "Crie um token com: ura app add NOME --database {}",
            redact_url(&settings.database_url)
        )?;
    } else {
        let token = match apps::create(&store, "demo").await {
            Ok(token) => token,
            Err(apps::AppError::Exists(_)) => apps::rotate(&store, "demo").await?,
            Err(e) => return Err(e.into()),
        };
        writeln!(
            out,
            "{}",
            if created {
                "Dados de demonstração criados."
            } else {
                "Dados de demonstração mantidos; o app demo recebeu um novo token."
            }
        )?;
        writeln!(
            out,
            "E-mails e SMS não são enviados: ficam como arquivos em {}/",
            settings.fatura.diretorio.display()
        )?;
        for sim in &simulators {
            writeln!(out, "NAS simulado em udp://{} (RFC 5176)", sim.addr())?;
        }
        writeln!(out, "App: demo")?;
        writeln!(out, "Token: {token}")?;
        let (secret, _) = password(false)?;
        match crate::store::agents::create(&store, "atendente", "Atendente Demo", &secret, None)
            .await
        {
            Ok(_) => {}
            Err(crate::store::agents::AgentError::Exists(_)) => {
                crate::store::agents::set_password(&store, "atendente", &secret).await?
            }
            Err(e) => return Err(e.into()),
        }
        writeln!(
            out,
            "Painel de atendimento: {base}/painel/ (login atendente, senha {secret})"
        )?;
        writeln!(out)?;
        writeln!(out, "Experimente em outro terminal:")?;
        let auth = format!("-d app=demo -d token={token}");
        let lines = [
            ("consultacliente", "-d cpfcnpj=529.982.247-25"),
            (
                "liberacaopromessa",
                "-d contrato=1002 -d uracontato=84991380000",
            ),
            (
                "enviafatura",
                "-d contrato=1001 -d tipo=email -d uracontato=84991380000",
            ),
            (
                "verificaacesso",
                "-d contrato=2001 -d uracontato=84991380000",
            ),
            (
                "notificacaosistema",
                "-d contrato=1001 -d uracontato=84991380000 -d uraagente=suporte",
            ),
            (
                "chamado",
                "-d contrato=1001 -d ocorrenciatipo=1 -d uracontato=84991380000",
            ),
        ];
        for (function, params) in lines {
            writeln!(
                out,
                "curl -s {base}/ws/ura/{function}/ {auth} {params}; echo"
            )?;
        }
    }
    writeln!(out)?;
    writeln!(out, "Servindo em {base}/ (Ctrl+C para encerrar)")?;
    out.flush()?;
    drop(out);
    let served = crate::app::serve(store, settings, listener, crate::app::shutdown_signal()).await;
    drop(simulators);
    served
}

/// The dunning run as a table on stdout.
fn print_dunning(lines: &[crate::services::dunning::Line], simulated: bool) {
    println!(
        "{:>9}  {:<30}  {:<10}  {:>5}  {:>12}  {:<34}  protocolo",
        "contrato", "cliente", "fatura", "dias", "valor", "ação"
    );
    for l in lines {
        let name: String = l.cliente.chars().take(30).collect();
        let amount = crate::domain::money::brl(
            l.valor
                .as_f64()
                .map(|v| (v * 100.0).round() as i64)
                .unwrap_or(0),
        );
        println!(
            "{:>9}  {:<30}  {:<10}  {:>5}  {:>12}  {:<34}  {}",
            l.contrato,
            name,
            l.fatura_mais_antiga,
            l.dias,
            format!("R$ {amount}"),
            l.acao,
            l.protocolo.as_deref().unwrap_or("-")
        );
    }
    let done = lines.iter().filter(|l| l.executada).count();
    if simulated {
        eprintln!("simulação: {} contrato(s), nada foi alterado", lines.len());
    } else {
        eprintln!("{} contrato(s), {done} ação(ões) executada(s)", lines.len());
    }
}

/// `ura retorno importar`: each file in turn, with a progress bar on a terminal for large
/// ones, its report, and a summary. Fails (exit status 1) when a file could not be read or
/// imported, or a line was refused.
async fn import_returns(
    service: &crate::services::bank_returns::BankReturns,
    files: &[PathBuf],
) -> anyhow::Result<()> {
    use crate::services::bank_returns::{ImportError, file_name};
    let mut failed_files = 0;
    let mut refused_lines = 0;
    for path in files {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{}: não foi possível ler: {e}", path.display());
                failed_files += 1;
                continue;
            }
        };
        let name = file_name(Some(path.display().to_string()));
        let bar = return_progress_bar();
        let result = service
            .import(&name, &bytes, "cli", |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })
            .await;
        bar.finish_and_clear();
        match result {
            Ok(report) => {
                print_return_report(&report);
                refused_lines += report.refused();
            }
            Err(ImportError::Refused(e)) => {
                eprintln!(
                    "{}: arquivo recusado: {e}; nada foi importado",
                    path.display()
                );
                failed_files += 1;
            }
            Err(ImportError::Db(e)) => {
                eprintln!("{}: falha ao importar: {e}", path.display());
                failed_files += 1;
            }
        }
    }
    if failed_files > 0 || refused_lines > 0 {
        anyhow::bail!(
            "{failed_files} arquivo(s) recusado(s) ou com falha, {refused_lines} linha(s) recusada(s)"
        );
    }
    Ok(())
}

/// A bar on stderr when it is a terminal; nothing otherwise (logs, pipes, cron).
fn return_progress_bar() -> indicatif::ProgressBar {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "[{elapsed_precise}] {wide_bar} {pos}/{len} ocorrências ({percent}%), faltam {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// The report of one file on stdout: the lines that need a look (refused, unknown, partial
/// payments...), then the counts.
fn print_return_report(r: &crate::services::bank_returns::Report) {
    let f = &r.arquivo;
    let money = |v: &serde_json::Value| {
        crate::domain::money::brl(v.as_f64().map(|v| (v * 100.0).round() as i64).unwrap_or(0))
    };
    println!(
        "{}: banco {}, {}, {} ocorrência(s){}",
        f.arquivo,
        f.banco,
        f.layout,
        f.ocorrencias,
        if r.ja_importado {
            format!(" — já importado em {}: nada foi feito agora", f.criado_em)
        } else if r.retomado {
            " — importação interrompida concluída".to_string()
        } else {
            String::new()
        }
    );
    for l in &r.linhas {
        if l.resultado == "pago" && l.motivo.is_none() {
            continue;
        }
        println!(
            "  linha {:>6}  {:<20}  {:<3} {:<30}  {:<12}  {}{}",
            l.linha,
            l.nosso_numero,
            l.ocorrencia,
            l.descricao.chars().take(30).collect::<String>(),
            l.resultado,
            l.fatura
                .map(|id| format!("fatura {id}"))
                .unwrap_or_default(),
            l.motivo
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        );
    }
    println!(
        "  pagos: {}, já pagos: {}, registrados: {}, desconhecidos: {}, recusados: {}; \
         valor pago: R$ {}, tarifas: R$ {}",
        f.pagos,
        f.ja_pagos,
        f.registrados,
        f.desconhecidos,
        f.recusados,
        money(&f.valor_pago),
        money(&f.tarifas)
    );
}
