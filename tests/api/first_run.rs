//! What a newcomer meets first, through the binary as an operator runs it: settings that
//! refuse typos, read-only commands that do not create a database, databases created where
//! they should be, `ura doctor`, and the command line's help.

use crate::common::*;
use crate::process::{Server, run, sqlite_url, ura};

use std::path::Path;

/// `ura migrate` on a fresh SQLite file in `dir`.
async fn migrated(dir: &Path) -> String {
    let url = sqlite_url(dir, "ura.db");
    let out = run(dir, &["migrate", "--database", &url]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    url
}

// ---------------------------------------------------------------- settings

#[tokio::test]
async fn an_unknown_key_stops_the_start_naming_file_line_and_nearest_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("ura.toml"),
        "# settings\nlisten = \"127.0.0.1:0\"\nlistn = \"0.0.0.0:8000\"\n",
    )
    .unwrap();
    let out = run(dir, &["migrate"]).await;
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("ura.toml:3: chave desconhecida `listn`; a mais próxima é `listen`"),
        "{}",
        out.stderr
    );
    assert!(!dir.join("ura.db").exists(), "nothing is created");

    std::fs::write(
        dir.join("ura.toml"),
        "[promessa]\ndias = 3\n\n[promesa]\nlimite_mes = 2\n",
    )
    .unwrap();
    let out = run(dir, &["serve", "--listen", "127.0.0.1:0"]).await;
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("ura.toml:4: chave desconhecida `promesa`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("`promessa"), "{}", out.stderr);

    // The same with --config, and a key under a known section.
    std::fs::write(
        dir.join("outro.toml"),
        "[fatura]\nmulta = 2\njuros_mez = 1\n",
    )
    .unwrap();
    let out = run(dir, &["--config", "outro.toml", "app", "list"]).await;
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "outro.toml:3: chave desconhecida `fatura.juros_mez`; a mais próxima é `fatura.juros_mes`"
        ),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn unknown_ura_variables_are_warned_of_and_test_variables_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let url = sqlite_url(dir, "ura.db");
    let out = ura(dir)
        .args(["migrate", "--database", &url])
        .env("URA_LISTN", "0.0.0.0:9000")
        .env("URA_PROMESSA_DIAZ", "5")
        .env("URA_TEST_QUALQUER", "1")
        .env("URA_PROMESSA_DIAS", "5")
        .output()
        .await
        .expect("run ura");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "variável de ambiente URA_LISTN desconhecida, ignorada; a mais próxima é URA_LISTEN"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "URA_PROMESSA_DIAZ desconhecida, ignorada; a mais próxima é URA_PROMESSA_DIAS"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("URA_TEST_QUALQUER"), "{stderr}");
    assert!(
        !stderr.contains("URA_PROMESSA_DIAS desconhecida"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------- databases

#[tokio::test]
async fn read_only_commands_never_create_a_database() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for args in [
        &["app", "list"][..],
        &["agent", "list"],
        &["admin-token", "list"],
        &["app", "disable", "ivr"],
        &["fatura", "pdf", "10021"],
        &["radius", "sync"],
        &["doctor"],
    ] {
        let out = run(dir, args).await;
        assert_eq!(out.code, Some(1), "ura {args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("não existe") || out.stdout.contains("não existe"),
            "ura {args:?} says the database does not exist:\n{}\n{}",
            out.stdout,
            out.stderr
        );
        let left: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "ura {args:?} left {left:?}");
    }
    // Creating something creates the database.
    let out = run(dir, &["app", "add", "ivr"]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(dir.join("ura.db").exists());
    let out = run(dir, &["app", "list"]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("ivr"), "{}", out.stdout);
}

#[tokio::test]
async fn migrate_demo_and_serve_create_a_missing_postgresql_database() {
    let Some(admin) = postgres_admin_url() else {
        crate::skip::skip(
            "postgresql",
            "migrate_demo_and_serve_create_a_missing_postgresql_database",
            "needs PostgreSQL",
            "URA_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ./test",
            None,
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let suffix = format!("{}_{}", std::process::id(), rand::random::<u32>());
    for command in ["demo", "serve", "migrate"] {
        let name = format!("ura_test_novo_{command}_{suffix}");
        let url = with_database(&admin, &name);
        // A read-only command refuses it first, and creates nothing.
        let out = run(dir, &["app", "list", "--database", &url]).await;
        assert_eq!(out.code, Some(1), "{}", out.stderr);
        assert!(out.stderr.contains("não existe"), "{}", out.stderr);
        if command == "migrate" {
            let out = run(dir, &["migrate", "--database", &url]).await;
            assert_eq!(out.code, Some(0), "{}", out.stderr);
        } else {
            let server = Server::start(
                dir,
                &[command, "--database", &url, "--listen", "127.0.0.1:0"],
            )
            .await;
            let r = reqwest::get(format!("{}/readyz", server.base))
                .await
                .expect("readyz");
            assert_eq!(r.status().as_u16(), 200, "ura {command} serves");
            drop(server);
        }
        let out = run(dir, &["app", "list", "--database", &url]).await;
        assert_eq!(
            out.code,
            Some(0),
            "ura {command} made {name}: {}",
            out.stderr
        );
        drop_pg_database(&admin, &name).await;
    }
}

// ---------------------------------------------------------------- doctor

#[tokio::test]
async fn doctor_passes_on_a_good_installation_and_fails_on_an_unreachable_nas() {
    use ura::network::nas_sim::{Behavior, NasSim};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let url = migrated(dir).await;

    let out = run(dir, &["doctor", "--database", &url]).await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    for line in [
        "✓ configuração carregada e válida",
        "✓ migrações: todas aplicadas",
        "✓ tabelas do FreeRADIUS presentes",
        "✓ NAS: nenhum cadastrado",
        "✓ SMTP não configurado",
        "✓ TLS desligado",
        "✓ relógio e fuso",
    ] {
        assert!(out.stdout.contains(line), "{line:?} in:\n{}", out.stdout);
    }
    assert!(!out.stdout.contains('✗'), "{}", out.stdout);

    // A NAS that answers Status-Server, then the same NAS gone.
    let sim = NasSim::start(
        "127.0.0.1:0".parse().unwrap(),
        b"segredo-do-nas".to_vec(),
        Behavior::Normal,
    )
    .unwrap();
    let port = sim.addr().port();
    std::fs::write(
        dir.join("nas.csv"),
        format!(
            "id,nome,ip,segredo,porta_coa,verificacao\n1,nas-teste,127.0.0.1,segredo-do-nas,{port},status-server\n"
        ),
    )
    .unwrap();
    let out = run(dir, &["import", "nas.csv", "--database", &url]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let out = run(dir, &["doctor", "--database", &url]).await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains(&format!("✓ NAS nas-teste (127.0.0.1:{port}): responde")),
        "{}",
        out.stdout
    );
    drop(sim);
    let out = run(dir, &["doctor", "--database", &url]).await;
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("✗ NAS nas-teste"))
        .unwrap_or_else(|| panic!("a ✗ line for the NAS:\n{}", out.stdout));
    assert!(line.contains("→ confira o IP"), "{line}");
    assert!(
        out.stderr.contains("1 verificação(ões) falharam"),
        "{}",
        out.stderr
    );
    // Every other check still ran and passed.
    assert_eq!(out.stdout.matches('✗').count(), 1, "{}", out.stdout);
    assert!(out.stdout.contains("✓ relógio e fuso"), "{}", out.stdout);
}

#[tokio::test]
async fn doctor_fails_on_a_wrong_database_url() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Nothing listens on port 1.
    let out = run(
        dir,
        &[
            "doctor",
            "--database",
            "postgres://ura:segredo@127.0.0.1:1/ura",
        ],
    )
    .await;
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("✗ banco de dados"))
        .unwrap_or_else(|| panic!("a ✗ line for the database:\n{}", out.stdout));
    assert!(line.contains("→ confira database_url"), "{line}");
    assert!(
        !out.stdout.contains("segredo"),
        "no password shown: {}",
        out.stdout
    );
    // The checks that need no database still ran.
    assert!(out.stdout.contains("✓ configuração"), "{}", out.stdout);
    assert!(out.stdout.contains("✓ relógio e fuso"), "{}", out.stdout);
}

#[tokio::test]
async fn doctor_fails_on_a_missing_tls_file_and_a_bad_setting() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let url = migrated(dir).await;
    std::fs::write(
        dir.join("ura.toml"),
        "[tls]\ncertificado = \"nao-existe.pem\"\nchave = \"nao-existe.key\"\n",
    )
    .unwrap();
    let out = run(dir, &["doctor", "--database", &url]).await;
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("✗ TLS"))
        .unwrap_or_else(|| panic!("a ✗ line for TLS:\n{}", out.stdout));
    assert!(line.contains("nao-existe.pem"), "{line}");
    assert!(out.stdout.contains("✓ migrações"), "{}", out.stdout);

    // A settings file with a typo: one ✗ line naming it, exit 1.
    std::fs::write(dir.join("ura.toml"), "timezon = \"America/Recife\"\n").unwrap();
    let out = run(dir, &["doctor", "--database", &url]).await;
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("✗ configuração: ura.toml:1: chave desconhecida `timezon`"),
        "{}",
        out.stdout
    );
}

// ---------------------------------------------------------------- help

#[tokio::test]
async fn help_is_in_portuguese_and_lists_the_allowed_values() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = run(dir, &["--help"]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for text in [
        "Uso: ura",
        "Comandos:",
        "Opções:",
        "doctor",
        "Mostra esta ajuda",
    ] {
        assert!(out.stdout.contains(text), "{text:?} in:\n{}", out.stdout);
    }
    for english in [
        "Usage:",
        "Commands:",
        "Options:",
        "Print help",
        "Print version",
    ] {
        assert!(
            !out.stdout.contains(english),
            "{english:?} in:\n{}",
            out.stdout
        );
    }

    let out = run(dir, &["app", "allow", "--help"]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("Argumentos:"), "{}", out.stdout);
    for f in ura::http::ura::Function::ALL {
        assert!(
            out.stdout.contains(f.name()),
            "{} in:\n{}",
            f.name(),
            out.stdout
        );
    }

    // Usage errors too.
    let out = run(dir, &["app", "add"]).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("erro: faltam argumentos obrigatórios"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Uso: ura app add [OPÇÕES] <NOME>"),
        "{}",
        out.stderr
    );
    let out = run(dir, &["gen", "--customers", "muitos"]).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("valor inválido 'muitos' em '--customers <N>': não é um número"),
        "{}",
        out.stderr
    );
    for english in ["error:", "Usage:", "For more information"] {
        assert!(
            !out.stderr.contains(english),
            "{english:?} in:\n{}",
            out.stderr
        );
    }

    let out = run(dir, &["import", "--help"]).await;
    assert!(out.stdout.contains("ARQUIVO"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("planos, pops, nas, clientes, contratos, servicos ou"),
        "{}",
        out.stdout
    );
    for english in ["possible values", "default:", "Arguments:"] {
        assert!(
            !out.stdout.contains(english),
            "{english:?} in:\n{}",
            out.stdout
        );
    }
}
