//! Subcommands: `serve`, `demo`, `migrate`, `app`, `agent` and the tools around them. Every
//! text the operator reads here is in Portuguese, clap's own headings included (`command`).

use std::io::Write;
use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use tokio::net::TcpListener;

use crate::settings::Settings;
use crate::store::{Store, apps, redact_url};

#[derive(Parser, Debug)]
#[command(
    name = "ura",
    version,
    about = "WebService URA para provedores de internet",
    long_about = "WebService URA para provedores de internet: a API da URA compatível com o SGP, \
                  o FreeRADIUS, RFC 5176, faturas por e-mail e SMS e o painel de atendimento.\n\n\
                  Configuração: ura.toml (ou --config), variáveis URA_*, opções da linha de \
                  comando; docs/settings.md lista cada chave. Depois de instalar, rode \
                  `ura doctor`."
)]
pub struct Cli {
    /// Arquivo de configuração (padrão: ./ura.toml, se existir; também URA_CONFIG).
    #[arg(long, global = true, value_name = "ARQUIVO")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct DbArgs {
    /// URL do banco: sqlite://ARQUIVO ou postgres://usuário:senha@host/banco (substitui
    /// database_url e URA_DATABASE_URL).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

/// The functions an app may be limited to, as `app add --allow` and `app allow` take them.
const FUNCTIONS_HELP: &str = "consultacliente, liberacaopromessa, enviafatura, verificaacesso, \
     notificacaosistema, chamado, fatura2via, titulos, pagamento/pix, clientes, manutencao, \
     catalogos";

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Roda o servidor HTTP (aplica as migrações ao iniciar; SIGTERM/SIGINT terminam as
    /// requisições em andamento e param).
    Serve {
        /// Endereço de escuta, p. ex. 0.0.0.0:8000 (substitui listen e URA_LISTEN).
        #[arg(long, value_name = "ENDEREÇO")]
        listen: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Preenche um banco vazio com o provedor de demonstração, mostra um token e linhas
    /// curl, e serve.
    Demo {
        /// Endereço de escuta, p. ex. 127.0.0.1:8000 (substitui listen e URA_LISTEN).
        #[arg(long, value_name = "ENDEREÇO")]
        listen: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Cria o banco se não existir e aplica as migrações.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Verifica a instalação sem alterar nada: configuração, banco e migrações, tabelas do
    /// FreeRADIUS, cada NAS, SMTP, gateway SMS, public_url, TLS, relógio e fuso. Uma linha
    /// por verificação (✓ ou ✗ e o que fazer); código de saída 1 se alguma falhar.
    Doctor {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Simulador de NAS: responde Disconnect/CoA (RFC 5176) e Status-Server por UDP para as
    /// sessões que mantém (para o demo, testes e integrações sem roteador).
    NasSim {
        /// Endereço UDP de escuta (padrão: 127.0.0.1:3799).
        #[arg(long, value_name = "ENDEREÇO", default_value = "127.0.0.1:3799")]
        listen: String,
        /// Segredo compartilhado com o servidor.
        #[arg(long, value_name = "SEGREDO")]
        secret: String,
        /// Uma sessão mantida: LOGIN ou LOGIN=ACCT-SESSION-ID (repetível).
        #[arg(long = "session", value_name = "LOGIN")]
        sessions: Vec<String>,
    },
    /// Importa planos, POPs, NAS, clientes, contratos, serviços de internet ou faturas de um
    /// CSV (com cabeçalho) ou JSON: atualiza pelos ids do provedor, confere cada linha e
    /// informa as recusadas com número e campo. Código de saída 1 se alguma linha for
    /// recusada. Exemplos em examples/import/.
    Import {
        /// Arquivo CSV (com cabeçalho) ou JSON.
        #[arg(value_name = "ARQUIVO")]
        file: PathBuf,
        /// O que o arquivo contém: planos, pops, nas, clientes, contratos, servicos ou
        /// faturas (padrão: reconhecido pelas colunas).
        #[arg(long, value_name = "TIPO")]
        tipo: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Preenche um banco VAZIO com um provedor sintético de N clientes (contratos, serviços,
    /// FreeRADIUS, faturas, sessões), para medições; veja BENCHMARKS.md.
    Gen {
        /// Quantos clientes (cerca de 1,2 contrato cada).
        #[arg(long, value_name = "N")]
        customers: u64,
        /// Semente: a mesma semente gera o mesmo provedor (padrão: 1).
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
        /// Grava pares `documento,contrato` sorteados, um por linha, em ARQUIVO (para
        /// geradores de carga).
        #[arg(long, value_name = "ARQUIVO")]
        sample: Option<PathBuf>,
        /// Quantos pares --sample grava (padrão: 10000).
        #[arg(long, value_name = "N", default_value_t = 10_000)]
        sample_size: usize,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Faturas: a segunda via em PDF de uma fatura, como o cliente a recebe.
    Fatura {
        #[command(subcommand)]
        command: FaturaCommand,
    },
    /// Arquivos de retorno do banco (CNAB 240/400): as liquidações pagam as faturas.
    Retorno {
        #[command(subcommand)]
        command: RetornoCommand,
    },
    /// Cobrança: a regra do provedor para bloquear contratos com faturas vencidas.
    Cobranca {
        #[command(subcommand)]
        command: CobrancaCommand,
    },
    /// Provisionamento do FreeRADIUS.
    Radius {
        #[command(subcommand)]
        command: RadiusCommand,
    },
    /// Aplicações (URA, chatbot...) autorizadas a chamar a API.
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Tokens da API de administração ({base}/admin/api/v1/).
    AdminToken {
        #[command(subcommand)]
        command: AdminTokenCommand,
    },
    /// Atendentes que entram no painel em {base}/painel/.
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
    /// Escreve na saída o script de autocompletar do ura para o shell indicado.
    Completar {
        /// O shell: bash, zsh, fish, elvish ou powershell.
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Gera as páginas de manual (man/) e os scripts de autocompletar (completions/) em
    /// PASTA, para o pacote.
    #[command(hide = true)]
    Manuais {
        #[arg(value_name = "PASTA")]
        dir: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum AdminTokenCommand {
    /// Cria um token e o escreve sozinho na saída (só o seu SHA-256 é guardado).
    Add {
        /// Nome do token.
        #[arg(value_name = "NOME")]
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Lista os tokens (nunca os tokens em si).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoga um token na hora.
    Revoke {
        /// Nome do token.
        #[arg(value_name = "NOME")]
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum AgentCommand {
    /// Cria um atendente. Sem --senha-stdin, uma senha é gerada e escrita sozinha na saída.
    Add {
        /// Login do atendente.
        #[arg(value_name = "LOGIN")]
        login: String,
        /// Nome mostrado aos outros atendentes (padrão: o login).
        #[arg(long, value_name = "NOME")]
        nome: Option<String>,
        /// Filas que o atendente atende (o `uraagente` da URA), separadas por vírgula, ou
        /// `todas` (padrão: todas).
        #[arg(long, value_name = "FILAS", default_value = "todas")]
        filas: String,
        /// Lê a senha da primeira linha da entrada padrão.
        #[arg(long)]
        senha_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Lista os atendentes (nunca as senhas).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Define uma nova senha (gerada, ou lida com --senha-stdin); encerra as sessões do
    /// atendente.
    Senha {
        /// Login do atendente.
        #[arg(value_name = "LOGIN")]
        login: String,
        /// Lê a senha da primeira linha da entrada padrão.
        #[arg(long)]
        senha_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Define as filas que um atendente atende.
    Filas {
        /// Login do atendente.
        #[arg(value_name = "LOGIN")]
        login: String,
        /// Filas separadas por vírgula (p. ex. suporte,financeiro), ou `todas`.
        #[arg(value_name = "FILAS")]
        filas: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Desativa um atendente: sai na hora e não entra mais.
    Disable {
        /// Login do atendente.
        #[arg(value_name = "LOGIN")]
        login: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Ativa um atendente desativado (também libera um bloqueio por senhas erradas).
    Enable {
        /// Login do atendente.
        #[arg(value_name = "LOGIN")]
        login: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum FaturaCommand {
    /// Grava o PDF de uma fatura (p. ex. `ura fatura pdf 10021` no banco do demo).
    Pdf {
        /// Id da fatura.
        #[arg(value_name = "ID")]
        id: i64,
        /// Arquivo de saída (padrão: fatura-ID.pdf).
        #[arg(long, value_name = "ARQUIVO")]
        saida: Option<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum RadiusCommand {
    /// Reescreve radcheck, radusergroup e o radgroupreply dos planos a partir dos dados
    /// (depois de editar tabelas à mão, ou na primeira instalação). Idempotente.
    Sync {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum RetornoCommand {
    /// Importa arquivos de retorno: as liquidações pagam as faturas (e devolvem o acesso
    /// bloqueado por débito), as outras ocorrências vão para o histórico da fatura; um
    /// relatório por arquivo. Um arquivo já importado não é aplicado de novo. Sai com status 1
    /// quando um arquivo ou uma linha foi recusado.
    Importar {
        /// Os arquivos, na ordem em que devem ser importados.
        #[arg(required = true, value_name = "ARQUIVO")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum CobrancaCommand {
    /// Executa a regra uma vez (o servidor a executa a cada `cobranca.intervalo`) e mostra,
    /// por contrato, a fatura vencida mais antiga, os dias, o valor e a ação tomada.
    Executar {
        /// Mostra o que seria feito, sem alterar nada.
        #[arg(long)]
        simular: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum AppCommand {
    /// Cria uma aplicação e escreve o seu token sozinho na saída (só o SHA-256 é guardado:
    /// não é possível mostrá-lo de novo).
    Add {
        /// Nome da aplicação (o `app` das requisições).
        #[arg(value_name = "NOME")]
        name: String,
        /// Funções que a aplicação pode chamar, separadas por vírgula (padrão: todas).
        #[arg(long, value_name = "FUNÇÕES", long_help = format!(
            "Funções que a aplicação pode chamar, separadas por vírgula (padrão: todas). \
             Funções: {FUNCTIONS_HELP}."
        ))]
        allow: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Limita uma aplicação a algumas funções; as outras respondem 403.
    Allow {
        /// Nome da aplicação.
        #[arg(value_name = "NOME")]
        name: String,
        /// Funções separadas por vírgula, ou `todas`.
        #[arg(value_name = "FUNÇÕES", long_help = format!(
            "Funções separadas por vírgula, ou `todas`. Funções: {FUNCTIONS_HELP}."
        ))]
        functions: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Limita uma aplicação a algumas redes; de outros endereços as suas credenciais são
    /// recusadas.
    Networks {
        /// Nome da aplicação.
        #[arg(value_name = "NOME")]
        name: String,
        /// Redes e endereços separados por vírgula (10.0.0.0/8,192.168.1.10), ou `todas`.
        #[arg(value_name = "REDES")]
        networks: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Lista as aplicações (nunca os tokens).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Desativa uma aplicação: o token para de funcionar na hora.
    Disable {
        /// Nome da aplicação.
        #[arg(value_name = "NOME")]
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Ativa uma aplicação desativada.
    Enable {
        /// Nome da aplicação.
        #[arg(value_name = "NOME")]
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Dá um novo token à aplicação (escrito sozinho na saída); o antigo para de funcionar.
    Rotate {
        /// Nome da aplicação.
        #[arg(value_name = "NOME")]
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// The command line with clap's own texts (headings, usage, help and version flags) in
/// Portuguese, recursively.
pub fn command() -> clap::Command {
    let mut cmd = translate(Cli::command());
    cmd.build();
    localize_usage(cmd)
}

/// clap writes `[OPTIONS]` in every usage line: each command gets its own usage, rendered by
/// clap and translated.
fn localize_usage(mut cmd: clap::Command) -> clap::Command {
    let usage = cmd.render_usage().to_string();
    let usage = usage
        .trim()
        .trim_start_matches("Usage:")
        .trim()
        .replace("[OPTIONS]", "[OPÇÕES]");
    let cmd = cmd.override_usage(usage);
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    names
        .into_iter()
        .fold(cmd, |cmd, name| cmd.mut_subcommand(name, localize_usage))
}

fn translate(cmd: clap::Command) -> clap::Command {
    let cmd = cmd
        .help_template("{before-help}{about-with-newline}\nUso: {usage}\n\n{all-args}{after-help}")
        .subcommand_help_heading("Comandos")
        .subcommand_value_name("COMANDO")
        .disable_help_subcommand(true)
        .disable_help_flag(true)
        // clap's "[default: …]" and "[possible values: …]" are English: each argument's own
        // text says its default and its values instead. Setting a heading would put the
        // arguments in the order clap stores them: the declaration order is kept.
        .mut_args({
            let mut order = 0;
            move |a| {
                order += 1;
                let a = a.display_order(order);
                let a = if a.get_action().takes_values() {
                    a.hide_default_value(true).hide_possible_values(true)
                } else {
                    a
                };
                if a.get_help_heading().is_some() {
                    a
                } else if a.is_positional() {
                    a.help_heading("Argumentos")
                } else {
                    a.help_heading("Opções")
                }
            }
        })
        .arg(
            clap::Arg::new("help")
                .short('h')
                .long("help")
                .action(clap::ArgAction::Help)
                .help("Mostra esta ajuda (-h: resumo; --help: completa)")
                .help_heading("Opções")
                .display_order(1000),
        );
    let cmd = if cmd.get_name() == "ura" {
        cmd.disable_version_flag(true).arg(
            clap::Arg::new("version")
                .short('V')
                .long("version")
                .action(clap::ArgAction::Version)
                .help("Mostra a versão")
                .help_heading("Opções")
                .display_order(1001),
        )
    } else {
        cmd
    };
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    names
        .into_iter()
        .fold(cmd, |cmd, name| cmd.mut_subcommand(name, translate))
}

/// Parses the process's arguments (exits with the help, the version or a usage error).
pub fn parse() -> Cli {
    let matches = command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    match matches {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            eprint!("{}", usage_error(&e.render().to_string()));
            std::process::exit(2);
        }
    }
}

/// clap's usage errors in Portuguese: its fixed phrases replaced, the names and values kept.
fn usage_error(text: &str) -> String {
    const PHRASES: &[(&str, &str)] = &[
        ("error: ", "erro: "),
        (
            "the following required arguments were not provided:",
            "faltam argumentos obrigatórios:",
        ),
        ("unrecognized subcommand", "comando desconhecido"),
        ("unexpected argument", "argumento inesperado"),
        ("invalid value", "valor inválido"),
        ("' for '", "' em '"),
        ("[possible values: ", "[valores aceitos: "),
        ("invalid digit found in string", "não é um número"),
        ("a value is required for", "falta o valor de"),
        ("but none was supplied", ""),
        ("the argument", "o argumento"),
        ("cannot be used multiple times", "não pode ser repetido"),
        ("cannot be used with", "não pode ser usado com"),
        ("' found", "'"),
        ("tip: ", "dica: "),
        ("to pass '", "para passar '"),
        ("as a value, use", "como valor, use"),
        (
            "a similar subcommand exists:",
            "existe um comando parecido:",
        ),
        (
            "a similar argument exists:",
            "existe um argumento parecido:",
        ),
        (
            "some similar subcommands exist:",
            "existem comandos parecidos:",
        ),
        ("Usage: ", "Uso: "),
        (
            "For more information, try '--help'.",
            "Para mais informações: '--help'.",
        ),
    ];
    PHRASES
        .iter()
        .fold(text.to_string(), |t, (en, pt)| t.replace(en, pt))
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

/// Opens an existing database (and applies pending migrations); a missing one is an
/// error, so that a command that only reads or changes existing rows never leaves an empty
/// database behind (`ura app list` in the wrong folder).
async fn open(settings: &Settings) -> anyhow::Result<Store> {
    let shown = redact_url(&settings.database_url);
    let exists = crate::store::database::exists(&settings.database_url)
        .await
        .map_err(|e| anyhow::anyhow!("não foi possível abrir o banco {shown}: {e}"))?;
    if !exists {
        anyhow::bail!(
            "o banco {shown} não existe: confira --database / database_url, ou crie-o com \
             `ura migrate` (ou `ura demo`)"
        );
    }
    open_store(settings).await
}

/// Creates the database when missing (a SQLite file, or a PostgreSQL database as the URL's
/// user), then opens it.
async fn create(settings: &Settings) -> anyhow::Result<Store> {
    let shown = redact_url(&settings.database_url);
    match crate::store::database::create_if_missing(&settings.database_url).await {
        Ok(true) => tracing::info!("banco {shown} criado"),
        Ok(false) => {}
        Err(e) => anyhow::bail!("não foi possível criar o banco {shown}: {e}"),
    }
    open_store(settings).await
}

async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
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

/// clap_mangen's section headings are English; the manual is read by the operator.
fn portuguese_headings(roff: &[u8]) -> String {
    let mut text = String::from_utf8_lossy(roff).into_owned();
    for (en, pt) in [
        ("NAME", "NOME"),
        ("SYNOPSIS", "SINOPSE"),
        ("DESCRIPTION", "DESCRIÇÃO"),
        ("OPTIONS", "OPÇÕES"),
        ("SUBCOMMANDS", "COMANDOS"),
        ("EXTRA", "MAIS"),
        ("VERSION", "VERSÃO"),
        ("AUTHORS", "AUTORES"),
    ] {
        text = text.replace(&format!(".SH {en}\n"), &format!(".SH {pt}\n"));
    }
    text
}

/// Writes `ura.1`, one page per subcommand (`ura-app-add.1`...) and the completion scripts.
fn write_manuals(dir: &std::path::Path) -> anyhow::Result<()> {
    use clap_complete::Shell;
    let man = dir.join("man");
    let completions = dir.join("completions");
    std::fs::create_dir_all(&man)?;
    std::fs::create_dir_all(&completions)?;
    fn pages(cmd: &clap::Command, name: &str, man: &std::path::Path) -> anyhow::Result<usize> {
        let cmd = cmd.clone().name(name.to_string());
        let mut text = Vec::new();
        clap_mangen::Man::new(cmd.clone())
            .title(name.to_ascii_uppercase())
            .section("1")
            .manual("Manual do ura")
            .render(&mut text)?;
        std::fs::write(man.join(format!("{name}.1")), portuguese_headings(&text))?;
        let mut n = 1;
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            n += pages(sub, &format!("{name}-{}", sub.get_name()), man)?;
        }
        Ok(n)
    }
    let mut cmd = command();
    cmd.build();
    let n = pages(&cmd, "ura", &man)?;
    for (shell, file) in [
        (Shell::Bash, "ura"),
        (Shell::Zsh, "_ura"),
        (Shell::Fish, "ura.fish"),
    ] {
        let mut out = std::fs::File::create(completions.join(file))?;
        clap_complete::generate(shell, &mut command(), "ura", &mut out);
    }
    eprintln!(
        "{n} página(s) de manual em {} e autocompletar (bash, zsh, fish) em {}",
        man.display(),
        completions.display()
    );
    Ok(())
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config.as_ref();
    match cli.command {
        Command::Serve { listen, db } => {
            let settings = settings(config, &db, listen.as_ref())?;
            let store = create(&settings).await?;
            let listener = bind(&settings.listen).await?;
            crate::app::serve(store, settings, listener, crate::app::shutdown_signal()).await
        }
        Command::Demo { listen, db } => demo(settings(config, &db, listen.as_ref())?).await,
        Command::Migrate { db } => {
            let settings = settings(config, &db, None)?;
            create(&settings).await?;
            eprintln!("banco {} pronto", redact_url(&settings.database_url));
            Ok(())
        }
        Command::Doctor { db } => {
            let loaded = settings(config, &db, None).map_err(|e| format!("{e:#}"));
            let failed = crate::doctor::run(loaded).await?;
            if failed > 0 {
                anyhow::bail!("{failed} verificação(ões) falharam");
            }
            Ok(())
        }
        Command::Completar { shell } => {
            clap_complete::generate(shell, &mut command(), "ura", &mut std::io::stdout());
            Ok(())
        }
        Command::Manuais { dir } => write_manuals(&dir),
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
            let store = create(&settings).await?;
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
            // Each line is printed as its contract is done: a run over a whole provider
            // holds no report in memory.
            let mut table = DunningTable::new();
            let run = state
                .admin
                .dunning
                .run_each(simular, |line| table.line(&line))
                .await;
            state.admin.dunning.line.settle_effects().await;
            state.stop.cancel();
            table.finish(run?, simular)?;
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
            let store = create(&settings(config, &db, None)?).await?;
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
            let store = create(&settings(config, &db, None)?).await?;
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
            let store = create(&settings(config, &db, None)?).await?;
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
    let store = create(&settings).await?;
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
    // Links in the demo's messages lead to this server, whatever `Host` a caller sends.
    if settings.public_url.is_none() {
        settings.public_url = Some(base.clone());
    }

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

/// The dunning run as a table on stdout, a line at a time.
struct DunningTable {
    out: std::io::BufWriter<std::io::Stdout>,
    /// The first failed write to stdout (a closed pipe): reported once the run is over.
    failed: Option<std::io::Error>,
}

impl DunningTable {
    fn new() -> DunningTable {
        let mut table = DunningTable {
            out: std::io::BufWriter::new(std::io::stdout()),
            failed: None,
        };
        let header = format!(
            "{:>9}  {:<30}  {:<10}  {:>5}  {:>12}  {:<34}  protocolo",
            "contrato", "cliente", "fatura", "dias", "valor", "ação"
        );
        table.write(&header);
        table
    }

    fn write(&mut self, text: &str) {
        if self.failed.is_none()
            && let Err(e) = writeln!(self.out, "{text}")
        {
            self.failed = Some(e);
        }
    }

    fn line(&mut self, l: &crate::services::dunning::Line) {
        let name: String = l.cliente.chars().take(30).collect();
        let amount = crate::domain::money::brl(
            l.valor
                .as_f64()
                .map(|v| (v * 100.0).round() as i64)
                .unwrap_or(0),
        );
        let text = format!(
            "{:>9}  {:<30}  {:<10}  {:>5}  {:>12}  {:<34}  {}",
            l.contrato,
            name,
            l.fatura_mais_antiga,
            l.dias,
            format!("R$ {amount}"),
            l.acao,
            l.protocolo.as_deref().unwrap_or("-")
        );
        self.write(&text);
    }

    fn finish(
        mut self,
        tally: crate::services::dunning::Tally,
        simulated: bool,
    ) -> anyhow::Result<()> {
        if self.failed.is_none()
            && let Err(e) = self.out.flush()
        {
            self.failed = Some(e);
        }
        if simulated {
            eprintln!("simulação: {} contrato(s), nada foi alterado", tally.lines);
        } else {
            eprintln!(
                "{} contrato(s), {} ação(ões) executada(s)",
                tally.lines, tally.done
            );
            if tally.queued > 0 {
                eprintln!(
                    "{} mensagem(ns) de aviso na fila de envio: o `ura serve` as envia em \
                     segundo plano (fatura.reenviar)",
                    tally.queued
                );
            }
        }
        match self.failed {
            Some(e) => Err(anyhow::anyhow!(
                "não foi possível escrever o relatório: {e}"
            )),
            None => Ok(()),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// clap's own consistency checks, on the translated command line.
    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn the_function_list_of_the_help_is_complete() {
        for f in crate::http::ura::Function::ALL {
            assert!(FUNCTIONS_HELP.contains(f.name()), "{}", f.name());
        }
    }

    #[test]
    fn man_pages_and_completions_are_written() {
        let dir = tempfile::tempdir().unwrap();
        write_manuals(dir.path()).unwrap();
        let page = std::fs::read_to_string(dir.path().join("man/ura.1")).unwrap();
        assert!(page.contains(".SH SINOPSE"), "{page}");
        assert!(!page.contains(".SH SYNOPSIS"), "{page}");
        for name in ["ura-doctor.1", "ura-app-add.1", "ura-agent-senha.1"] {
            assert!(dir.path().join("man").join(name).is_file(), "{name}");
        }
        assert!(!dir.path().join("man/ura-manuais.1").exists());
        for name in ["ura", "_ura", "ura.fish"] {
            let text = std::fs::read_to_string(dir.path().join("completions").join(name)).unwrap();
            assert!(text.contains("doctor"), "{name}");
        }
    }
}
