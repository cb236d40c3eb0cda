//! `ura import`: invoices from CSV and JSON, checked line by line (the payment data
//! included), good lines upserted, bad ones reported with their line and field.

use serde_json::json;

use crate::common::*;

/// `ura import FILE` on the test's database, as (exit status, stdout, stderr). Run without
/// blocking the runtime: the server of the test (its background writers included) goes on
/// meanwhile.
async fn import(app: &TestApp, file: &std::path::Path) -> (i32, String, String) {
    let run = ura_import(&app.settings.database_url, app.dir.path(), file, &[]).await;
    (run.code, run.stdout, run.stderr)
}

/// A valid slip for 79,90 due on 2026-12-20 and its PIX code.
fn slip() -> (String, String, String) {
    let due = chrono::NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
    let barcode =
        ura::domain::boleto::barcode("341", '9', Some(due), 7990, "1234567890123456789012345")
            .unwrap();
    let line = ura::domain::boleto::linha_digitavel(&barcode).unwrap();
    let pix = ura::domain::pix::build(&ura::domain::pix::PixPayload {
        key: "12345678000195".into(),
        merchant_name: "PROVEDOR".into(),
        merchant_city: "NATAL".into(),
        amount_cents: Some(7990),
        txid: "FAT777001".into(),
    });
    (barcode, line, pix)
}

#[tokio::test]
async fn csv_lines_are_checked_and_the_good_ones_upserted() {
    let app = spawn().await;
    let (barcode, line, pix) = slip();
    let mut bad_barcode = barcode.clone().into_bytes();
    bad_barcode[43] = if bad_barcode[43] == b'0' { b'1' } else { b'0' };
    let bad_barcode = String::from_utf8(bad_barcode).unwrap();
    let formatted = ura::domain::boleto::format_linha(&line);
    let csv = format!(
        "id,contrato,numero_documento,valor,vencimento,status,codigo_barras,linha_digitavel,codigo_pix\n\
         777001,6001,777001,\"79,90\",2026-12-20,aberto,{barcode},{formatted},{pix}\n\
         777002,6001,777002,10.00,20/12/2026,aberto,{bad_barcode},,\n\
         777003,6001,777003,10.00,2026-12-20,aberto,,12345,\n\
         777004,6001,777004,10.00,2026-12-20,aberto,,,000201nada\n\
         777005,424242,777005,10.00,2026-12-20,aberto,,,\n\
         777006,6001,777006,dez,2026-12-20,aberto,,,\n\
         777007,6001,777007,10.00,2026-12-20,quitado,,,\n"
    );
    let file = app.dir.path().join("faturas.csv");
    std::fs::write(&file, csv).unwrap();
    let (code, stdout, stderr) = import(&app, &file).await;
    assert_ne!(code, 0, "bad lines make the command fail");
    assert!(
        stdout.contains("1 fatura(s) importada(s), 6 linha(s) com erro, de 7"),
        "{stdout}"
    );
    for expected in [
        "linha 3: codigo_barras:",
        "linha 4: linha_digitavel:",
        "linha 5: codigo_pix:",
        "linha 6: contrato: contrato 424242 não existe",
        "linha 7: valor:",
        "linha 8: status:",
    ] {
        assert!(stderr.contains(expected), "{expected} missing in {stderr}");
    }
    // The good line is there, completed (barcode from the linha), and visible to the API.
    assert_eq!(
        app.scalar_str("SELECT barcode FROM invoices WHERE id = 777001")
            .await
            .as_deref(),
        Some(barcode.as_str())
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM invoices WHERE id BETWEEN 777002 AND 777007")
            .await,
        0
    );
    let r = app.call("consultacliente", &[("contrato", "6001")]).await;
    assert_eq!(r.json["contratos"][0]["contratoValorAberto"], json!(79.9));

    // The same file again changes nothing; an edited line updates its invoice.
    let (_, stdout, _) = import(&app, &file).await;
    assert!(stdout.contains("1 fatura(s) importada(s)"), "{stdout}");
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM invoices WHERE id = 777001")
            .await,
        1
    );
    let json_file = app.dir.path().join("faturas.json");
    std::fs::write(
        &json_file,
        serde_json::to_string(&json!([
            {"id": 777001, "contrato": 6001, "valor": 79.9, "vencimento": "2026-12-20",
             "status": "pago", "pagamento": "2026-12-01", "codigo_barras": barcode}
        ]))
        .unwrap(),
    )
    .unwrap();
    let (code, stdout, stderr) = import(&app, &json_file).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        app.scalar_str("SELECT status FROM invoices WHERE id = 777001")
            .await
            .as_deref(),
        Some("paid")
    );
    let r = app.call("consultacliente", &[("contrato", "6001")]).await;
    assert_eq!(r.json["contratos"][0]["contratoValorAberto"], json!(0));
    app.stop().await;
}

/// The bank, the agreement and the PIX txid are imported and checked; a txid that names
/// another invoice (stored, or on another line) refuses its line and changes nothing.
#[tokio::test]
async fn bank_fields_and_pix_txids_are_checked_on_import() {
    let app = spawn().await;
    let (_, _, pix) = slip();
    let csv = format!(
        "id,contrato,numero_documento,nosso_numero,valor,vencimento,banco,convenio,pix_txid,codigo_pix\n\
         777001,6001,777001,109/00012345-6,10.00,2026-12-20,341,12345,,{pix}\n\
         777002,6001,777002,2,10.00,2026-12-20,34,,,\n\
         777003,6001,777003,3,10.00,2026-12-20,001,12 3,,\n\
         777004,6001,777004,4,10.00,2026-12-20,001,,FAT10012,\n\
         777005,6001,777005,5,10.00,2026-12-20,001,,FAT777001,\n\
         777006,6001,777006,6,10.00,2026-12-20,001,,não,\n"
    );
    let file = app.dir.path().join("faturas.csv");
    std::fs::write(&file, csv).unwrap();
    let (code, stdout, stderr) = import(&app, &file).await;
    assert_ne!(code, 0, "{stdout}");
    assert!(
        stdout.contains("1 fatura(s) importada(s), 5 linha(s) com erro, de 6"),
        "{stdout}"
    );
    for expected in [
        "linha 3: banco:",
        "linha 4: convenio:",
        "linha 5: pix_txid: txid FAT10012 já é da fatura 10012",
        "linha 6: pix_txid: txid FAT777001 já é da fatura 777001",
        "linha 7: pix_txid:",
    ] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    let row = app
        .scalar_str(
            "SELECT bank_code || '|' || agreement || '|' || pix_txid || '|' || our_number_key \
             FROM invoices WHERE id = 777001",
        )
        .await
        .unwrap();
    let parts: Vec<&str> = row.split('|').collect();
    assert_eq!(&parts[..3], ["341", "12345", "FAT777001"], "{row}");
    assert!(
        !parts[3].contains('/') && !parts[3].starts_with('0'),
        "{row}"
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM invoices WHERE id BETWEEN 777002 AND 777006")
            .await,
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn the_sample_file_imports_into_the_demo() {
    let app = spawn().await;
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/import/faturas.csv");
    let (code, stdout, stderr) = import(&app, &file).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("3 fatura(s) importada(s), 0 linha(s) com erro"),
        "{stdout}"
    );
    let r = app
        .call("titulos", &[("contrato", "1001"), ("status", "pagos")])
        .await;
    assert!(
        r.json["titulos"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == json!(900003)),
        "{}",
        r.body
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Customers, contracts, services and the catalogs they refer to.

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// `inseridos: I, atualizados: U, sem alteração: K, recusados: E` as numbers.
    fn counts(&self) -> [usize; 4] {
        let line = self
            .stdout
            .lines()
            .find(|l| l.starts_with("inseridos:"))
            .unwrap_or_else(|| panic!("no summary in {}", self.stdout));
        let n: Vec<usize> = line
            .split(',')
            .map(|part| {
                part.rsplit(':')
                    .next()
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("summary {line}"))
            })
            .collect();
        [n[0], n[1], n[2], n[3]]
    }

    fn assert_ok(&self) {
        assert_eq!(self.code, 0, "{}{}", self.stdout, self.stderr);
    }

    fn assert_refused(&self, expected: &[&str]) {
        assert_eq!(self.code, 1, "{}{}", self.stdout, self.stderr);
        for e in expected {
            assert!(
                self.stderr.lines().any(|l| l.starts_with(e)),
                "{e:?} missing in:\n{}",
                self.stderr
            );
        }
    }
}

/// `ura import FILE [ARGS] --database URL`, isolated from the caller's environment.
async fn ura_import(
    url: &str,
    dir: &std::path::Path,
    file: &std::path::Path,
    args: &[&str],
) -> Run {
    let out = crate::process::ura(dir)
        .arg("import")
        .arg(file)
        .args(args)
        .args(["--database", url])
        .output()
        .await
        .expect("run ura import");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn import_text(app: &TestApp, name: &str, text: &str, args: &[&str]) -> Run {
    let file = app.dir.path().join(name);
    std::fs::write(&file, text).unwrap();
    ura_import(&app.settings.database_url, app.dir.path(), &file, args).await
}

fn sample(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/import")
        .join(name)
}

async fn groups(pool: &sqlx::AnyPool, login: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT groupname FROM radusergroup WHERE username = $1 ORDER BY id")
        .bind(login)
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn password(pool: &sqlx::AnyPool, login: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT value FROM radcheck WHERE username = $1 AND attribute = 'Cleartext-Password'",
    )
    .bind(login)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// A database made with `ura migrate` only: a SQLite file, or a fresh PostgreSQL database
/// when the suite runs on PostgreSQL.
struct FreshDb {
    url: String,
    dir: tempfile::TempDir,
    pg_name: Option<String>,
    _cleanup: crate::pgfault::DropDatabaseOnPanic,
}

impl FreshDb {
    async fn new() -> FreshDb {
        let dir = tempfile::tempdir().unwrap();
        let (pg_name, url) = match postgres_admin_url() {
            Some(admin) => {
                let (name, url) = create_pg_database(&admin).await;
                (Some(name), url)
            }
            None => (None, crate::process::sqlite_url(dir.path(), "ura.db")),
        };
        let out = crate::process::run(dir.path(), &["migrate", "--database", &url]).await;
        assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
        FreshDb {
            _cleanup: crate::pgfault::DropDatabaseOnPanic::new(&url),
            url,
            dir,
            pg_name,
        }
    }

    async fn import(&self, file: &std::path::Path, args: &[&str]) -> Run {
        ura_import(&self.url, self.dir.path(), file, args).await
    }

    async fn store(&self) -> ura::store::Store {
        ura::store::Store::open(&self.url).await.unwrap()
    }

    async fn close(self) {
        if let (Some(admin), Some(name)) = (postgres_admin_url(), &self.pg_name) {
            drop_pg_database(&admin, name).await;
        }
    }
}

async fn count(pool: &sqlx::AnyPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(pool)
        .await
        .unwrap()
}

const SAMPLES: [(&str, usize); 7] = [
    ("planos.csv", 3),
    ("pops.csv", 2),
    ("nas.csv", 2),
    ("clientes.csv", 3),
    ("contratos.csv", 4),
    ("servicos.csv", 4),
    ("faturas.csv", 3),
];

#[tokio::test]
async fn the_samples_import_into_an_empty_database_in_order() {
    let db = FreshDb::new().await;
    for (file, lines) in SAMPLES {
        let run = db.import(&sample(file), &[]).await;
        run.assert_ok();
        assert_eq!(run.counts(), [lines, 0, 0, 0], "{file}: {}", run.stdout);
    }
    let store = db.store().await;
    let pool = store.pool();
    for (table, n) in [
        ("plans", 3),
        ("pops", 2),
        ("nas", 2),
        ("customers", 3),
        ("customer_contacts", 5),
        ("contracts", 4),
        ("internet_services", 4),
        ("invoices", 3),
    ] {
        assert_eq!(
            count(pool, &format!("SELECT COUNT(*) FROM {table}")).await,
            n,
            "{table}"
        );
    }
    // Contacts normalized, in the file's order.
    let contacts: Vec<(String, String)> = sqlx::query_as(
        "SELECT kind, value FROM customer_contacts WHERE customer_id = 2 ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        contacts,
        [
            ("email".into(), "financeiro@provedor.example.com".into()),
            ("email".into(), "suporte@provedor.example.com".into()),
            ("phone".into(), "8432110000".into())
        ]
    );
    assert_eq!(
        count(
            pool,
            "SELECT COUNT(*) FROM customers WHERE document = '12ABC34501DE35'"
        )
        .await,
        1
    );
    // FreeRADIUS: each plan's rate limit, each login's password and group.
    let limit: String = sqlx::query_scalar(
        "SELECT value FROM radgroupreply WHERE groupname = 'plano-600m' \
         AND attribute = 'Mikrotik-Rate-Limit'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(limit, "300M/600M");
    for (login, group) in [
        ("maria.silva", "plano-600m"),
        ("maria.silva2", "bloqueado"),
        ("provedor.exemplo", "plano-empresa-1g"),
        ("jose.semcontato", "bloqueado"),
    ] {
        assert_eq!(groups(pool, login).await, [group], "{login}");
    }
    assert_eq!(
        password(pool, "maria.silva").await,
        ["troque-esta-senha-101"]
    );
    // A row added later without an id does not collide with imported ones (on PostgreSQL
    // the import moved the id sequences past them).
    for sql in [
        "INSERT INTO pops (name) VALUES ('POP Novo')",
        "INSERT INTO plans (name, download_kbps, upload_kbps, price_cents, radius_group) \
         VALUES ('NOVO', 1000, 1000, 0, 'novo')",
        "DELETE FROM pops WHERE name = 'POP Novo'",
        "DELETE FROM plans WHERE name = 'NOVO'",
    ] {
        sqlx::query(sql).execute(pool).await.unwrap();
    }

    // Everything again: nothing changes, and the summary says so. The JSON sample holds the
    // same customers as the CSV one.
    let before = count(pool, "SELECT COUNT(*) FROM radcheck").await;
    for (file, lines) in SAMPLES.into_iter().chain([("clientes.json", 3)]) {
        let run = db.import(&sample(file), &[]).await;
        run.assert_ok();
        assert_eq!(run.counts(), [0, 0, lines, 0], "{file}: {}", run.stdout);
    }
    assert_eq!(count(pool, "SELECT COUNT(*) FROM radcheck").await, before);
    assert_eq!(
        count(pool, "SELECT COUNT(*) FROM customer_contacts").await,
        5
    );
    store.close().await;
    db.close().await;
}

#[tokio::test]
async fn customer_lines_are_checked_and_refused_ones_change_nothing() {
    let app = spawn().await;
    let csv = "id,nome,cpfcnpj,nascimento,emails,celulares,telefones\n\
        900,NOVO CLIENTE,390.533.447-05,1990-01-31,novo@example.com;outro@example.com,(84) 98888-7777,\n\
        1,MARIA ALTERADA,529.982.247-25,,maria@,,\n\
        901,CPF ERRADO,529.982.247-24,,,,\n\
        902,,111.444.777-35,,,,\n\
        903,CNPJ CURTO,12.345.678/0001,,,,\n\
        904,FUTURO,111.444.777-35,2999-01-01,,,\n\
        905,SEM DDD,111.444.777-35,,,9138-0000,\n\
        906,FIXO ERRADO,111.444.777-35,,,,12345\n\
        900,REPETIDO,111.444.777-35,,,,\n\
        abc,ID RUIM,111.444.777-35,,,,\n\
        907,DATA RUIM,111.444.777-35,31/02/1990,,,\n\
        5,ANA OFFLINE COSTA,390.533.447-05,1992-11-30,ana.nova@example.com,(84) 98888-7777,\n\
        908,EMPRESA ALFA,12.ABC.345/01DE-35,,,,\n";
    let run = import_text(&app, "clientes.csv", csv, &[]).await;
    run.assert_refused(&[
        "linha 3: emails: e-mail inválido: \"maria@\"",
        "linha 4: cpfcnpj: CPF/CNPJ inválido: dígitos verificadores não conferem (529.NNN.247-NN)",
        "linha 5: nome: obrigatório",
        "linha 6: cpfcnpj: CPF/CNPJ inválido: use 11 dígitos (CPF) ou 14 caracteres (CNPJ)",
        "linha 7: nascimento: data no futuro",
        "linha 8: celulares: número inválido: \"9138-0000\"",
        "linha 9: telefones: número inválido: \"12345\"",
        "linha 10: id: id 900 repetido: já aparece na linha 2",
        "linha 11: id: use um número inteiro positivo",
        "linha 12: nascimento: data inválida",
    ]);
    assert_eq!(run.counts(), [2, 1, 0, 10], "{}", run.stdout);
    assert!(
        run.stdout
            .contains("3 cliente(s) importado(s), 10 linha(s) com erro, de 13"),
        "{}",
        run.stdout
    );
    // A full CPF never reaches the output.
    assert!(!run.stderr.contains("52998224724") && !run.stderr.contains("529.982.247-24"));
    // The refused line of an existing customer changed nothing.
    assert_eq!(
        app.scalar_str("SELECT name FROM customers WHERE id = 1")
            .await
            .as_deref(),
        Some("MARIA DE TESTE SILVA")
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM customers WHERE id BETWEEN 901 AND 907")
            .await,
        0
    );
    // The new customer with its contacts; the updated one with its contacts replaced.
    assert_eq!(
        app.scalar_str("SELECT document FROM customers WHERE id = 900")
            .await
            .as_deref(),
        Some("39053344705")
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM customer_contacts WHERE customer_id = 900")
            .await,
        3
    );
    assert_eq!(
        app.scalar_str(
            "SELECT value FROM customer_contacts WHERE customer_id = 5 AND kind = 'email'"
        )
        .await
        .as_deref(),
        Some("ana.nova@example.com")
    );
    assert_eq!(
        app.scalar_str(
            "SELECT value FROM customer_contacts WHERE customer_id = 5 AND kind = 'mobile'"
        )
        .await
        .as_deref(),
        Some("84988887777")
    );
    // The alphanumeric CNPJ is found by the API.
    let r = app
        .call("consultacliente", &[("cpfcnpj", "12.ABC.345/01DE-35")])
        .await;
    assert_eq!(
        r.json["contratos"][0]["contratoId"],
        json!(2001),
        "{}",
        r.body
    );

    // The same file again: the good lines are unchanged, the bad ones still refused.
    let run = import_text(&app, "clientes.csv", csv, &[]).await;
    assert_eq!(run.counts(), [0, 0, 3, 10], "{}", run.stdout);
    app.stop().await;
}

#[tokio::test]
async fn contract_lines_are_checked_and_status_changes_reprovision_services() {
    let app = spawn().await;
    let pool = app.store.pool();
    assert_eq!(groups(pool, "maria.silva2").await, ["bloqueado"]);
    let csv = "id,cliente,status,status_modo,pop,dia_vencimento,endereco\n\
        1001,1,suspenso,2,1,10,\"Rua das Flores, 100, Centro\"\n\
        1002,1,1,1,1,15,\"Av. Praia, 2000, Ponta Negra\"\n\
        7001,424242,1,,,,\n\
        7002,1,9,,,,\n\
        7003,1,1,,99,,\n\
        7004,1,1,,,40,\n\
        7005,1,1,3,,,\n\
        7006,,1,,,,\n\
        6001,5,3,1,1,25,Rua Desligada\n\
        7007,5,Novo,,2,5,\"Rua Nova, 1\"\n";
    let run = import_text(&app, "contratos.csv", csv, &[]).await;
    run.assert_refused(&[
        "linha 4: cliente: cliente 424242 não existe",
        "linha 5: status: use um status de 1 a 7 (1 Ativo, 2 Inativo, 3 Cancelado, 4 Suspenso",
        "linha 6: pop: POP 99 não existe",
        "linha 7: dia_vencimento: use um número inteiro de 1 a 31",
        "linha 8: status_modo: use 1 (automático) ou 2 (manual)",
        "linha 9: cliente: obrigatório",
    ]);
    assert_eq!(run.counts(), [1, 3, 0, 6], "{}", run.stdout);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM contracts WHERE id BETWEEN 7001 AND 7006")
            .await,
        0
    );
    // Suspended: its service leaves the plan's group, and is disabled as an expiry does.
    assert_eq!(groups(pool, "maria.silva").await, ["bloqueado"]);
    assert_eq!(
        app.scalar_i64("SELECT enabled FROM internet_services WHERE id = 101")
            .await,
        0
    );
    // Back in service: enabled, in its plan's group (plan 1), as an unlock does.
    assert_eq!(groups(pool, "maria.silva2").await, ["plano-300m"]);
    assert_eq!(
        app.scalar_i64("SELECT enabled FROM internet_services WHERE id = 102")
            .await,
        1
    );
    // Cancelled.
    assert_eq!(groups(pool, "ana.costa").await, ["bloqueado"]);
    let r = app.call("consultacliente", &[("contrato", "1002")]).await;
    assert_eq!(
        r.json["contratos"][0]["contratoStatus"],
        json!(1),
        "{}",
        r.body
    );
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    assert_eq!(
        r.json["contratos"][0]["contratoStatusModo"],
        json!(2),
        "{}",
        r.body
    );
    // Nothing else moved: one password and one group per login.
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM radusergroup").await,
        app.scalar_i64("SELECT COUNT(*) FROM internet_services")
            .await
    );

    let run = import_text(&app, "contratos.csv", csv, &[]).await;
    assert_eq!(run.counts(), [0, 0, 4, 6], "{}", run.stdout);
    app.stop().await;
}

#[tokio::test]
async fn service_lines_are_checked_and_provisioned_in_freeradius() {
    let app = spawn().await;
    let pool = app.store.pool();
    let csv = "id,contrato,login,senha,plano,nas,mac,habilitado\n\
        9001,6001,novo.login,segredo-9001,1,1,02-00-00-00-90-01,sim\n\
        601,6001,ana.costa2,nova-senha,3,1,,\n\
        9002,3001,jose.extra,segredo-9002,2,,,sim\n\
        9003,424242,x.contrato,s,1,,,\n\
        9004,6001,x.plano,s,99,,,\n\
        9005,6001,x.nas,s,1,42,,\n\
        9006,6001,maria.silva,s,1,,,\n\
        9007,6001,novo.login,s,1,,,\n\
        9008,6001,com espaco,s,1,,,\n\
        9009,6001,x.mac,s,1,,02:00,\n\
        9010,6001,x.habilitado,s,1,,,talvez\n\
        9011,6001,x.senha,,1,,,\n\
        9012,6001,x.semplano,s,,,,\n";
    let run = import_text(&app, "servicos.csv", csv, &[]).await;
    run.assert_refused(&[
        "linha 5: contrato: contrato 424242 não existe",
        "linha 6: plano: plano 99 não existe",
        "linha 7: nas: NAS 42 não existe",
        "linha 8: login: login maria.silva já pertence ao serviço 101",
        "linha 9: login: login novo.login repetido: já aparece na linha 2",
        "linha 10: login: login inválido",
        "linha 11: mac: MAC inválido",
        "linha 12: habilitado: use sim ou não",
        "linha 13: senha: obrigatório",
        "linha 14: plano: obrigatório",
    ]);
    assert_eq!(run.counts(), [2, 1, 0, 10], "{}", run.stdout);
    assert!(
        !run.stderr.contains("segredo-"),
        "passwords are never printed"
    );
    // Provisioned in the same run: password and group of each written login.
    assert_eq!(password(pool, "novo.login").await, ["segredo-9001"]);
    assert_eq!(groups(pool, "novo.login").await, ["plano-300m"]);
    assert_eq!(
        app.scalar_str("SELECT mac FROM internet_services WHERE id = 9001")
            .await
            .as_deref(),
        Some("02:00:00:00:90:01")
    );
    // A service of a suspended contract is in the block group, whatever its own flag.
    assert_eq!(groups(pool, "jose.extra").await, ["bloqueado"]);
    // A renamed login: the old one is gone from FreeRADIUS, the new one has the new plan.
    assert!(password(pool, "ana.costa").await.is_empty());
    assert!(groups(pool, "ana.costa").await.is_empty());
    assert_eq!(password(pool, "ana.costa2").await, ["nova-senha"]);
    assert_eq!(groups(pool, "ana.costa2").await, ["plano-empresa-1g"]);
    // Refused lines wrote nothing, in our tables or FreeRADIUS's.
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM internet_services WHERE id BETWEEN 9003 AND 9012")
            .await,
        0
    );
    assert_eq!(password(pool, "maria.silva").await.len(), 1);
    assert!(password(pool, "x.mac").await.is_empty());
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM radcheck").await,
        app.scalar_i64("SELECT COUNT(*) FROM internet_services")
            .await
    );
    let run = import_text(&app, "servicos.csv", csv, &[]).await;
    assert_eq!(run.counts(), [0, 0, 3, 10], "{}", run.stdout);
    app.stop().await;
}

#[tokio::test]
async fn plan_pop_and_nas_lines_are_checked() {
    let app = spawn().await;
    let run = import_text(
        &app,
        "planos.csv",
        "id,nome,download,upload,valor,grupo_radius\n\
         1,FIBRA 300M,300M,200M,99.90,plano-300m\n\
         9,FIBRA 1G,1G,1G,199,\n\
         10,SEM UNIDADE,300,150M,99.90,x\n\
         11,BLOQUEIO,300M,150M,99.90,bloqueado\n\
         12,SEM VALOR,300M,150M,,x\n",
        &[],
    )
    .await;
    run.assert_refused(&[
        "linha 4: download: velocidade inválida: use 300M, 1G ou 512k",
        "linha 5: grupo_radius: bloqueado é o grupo de bloqueio",
        "linha 6: valor: obrigatório",
    ]);
    assert_eq!(run.counts(), [1, 1, 0, 3], "{}", run.stdout);
    assert_eq!(
        app.scalar_str(
            "SELECT value FROM radgroupreply WHERE groupname = 'plano-300m' \
             AND attribute = 'Mikrotik-Rate-Limit'"
        )
        .await
        .as_deref(),
        Some("200M/300M")
    );
    assert_eq!(
        app.scalar_str("SELECT radius_group FROM plans WHERE id = 9")
            .await
            .as_deref(),
        Some("plano-9")
    );
    let run = import_text(
        &app,
        "pops.csv",
        "id,nome,cidade\n3,POP Sul,Parnamirim\n4,,Natal\n",
        &[],
    )
    .await;
    run.assert_refused(&["linha 3: nome: obrigatório"]);
    let run = import_text(
        &app,
        "nas.csv",
        "id,nome,ip,segredo,tipo,porta_coa,verificacao,pop\n\
         3,nas-sul,127.0.0.3,s3,mikrotik,3799,coa,3\n\
         4,x,999.1.1.1,s,,,,\n\
         5,x,127.0.0.5,s,,70000,,\n\
         6,x,127.0.0.6,s,,,ping,\n\
         7,x,127.0.0.7,s,,,,77\n\
         8,x,127.0.0.8,,,,,\n",
        &[],
    )
    .await;
    run.assert_refused(&[
        "linha 3: ip: endereço IP inválido: \"999.1.1.1\"",
        "linha 4: porta_coa: use um número inteiro de 1 a 65535",
        "linha 5: verificacao: use none, coa, status-server, mikrotik-api",
        "linha 6: pop: POP 77 não existe",
        "linha 7: segredo: obrigatório",
    ]);
    assert_eq!(run.counts(), [1, 0, 0, 5], "{}", run.stdout);
    assert_eq!(
        app.scalar_str("SELECT check_method FROM nas WHERE id = 3")
            .await
            .as_deref(),
        Some("coa")
    );
    app.stop().await;
}

#[tokio::test]
async fn the_kind_comes_from_the_columns_or_tipo() {
    let app = spawn().await;
    // Ambiguous columns: refused as a whole, nothing written.
    let text = "id,contrato,login,valor,vencimento\n1,1001,a,10,2026-12-01\n";
    let run = import_text(&app, "x.csv", text, &[]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("servem para mais de um tipo (servicos, faturas)")
            && run.stderr.contains("--tipo"),
        "{}",
        run.stderr
    );
    // Unknown columns: the same, with the list of kinds.
    let run = import_text(&app, "x.csv", "codigo,descricao\n1,x\n", &[]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("não foi possível reconhecer o tipo"),
        "{}",
        run.stderr
    );
    // `--tipo` decides; columns the kind does not read are reported and ignored.
    let run = import_text(&app, "x.csv", text, &["--tipo", "faturas"]).await;
    run.assert_ok();
    assert!(
        run.stderr.contains("aviso: coluna \"login\" ignorada"),
        "{}",
        run.stderr
    );
    assert_eq!(run.counts(), [1, 0, 0, 0]);
    let run = import_text(&app, "x.csv", text, &["--tipo", "boletos"]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("tipo desconhecido: boletos"),
        "{}",
        run.stderr
    );
    // Semicolon-separated, as a pt-BR spreadsheet saves it, and a JSON file without .json.
    let run = import_text(
        &app,
        "pops.txt",
        "id;nome;cidade\n7;POP Praia;\"Natal; RN\"\n",
        &[],
    )
    .await;
    run.assert_ok();
    assert!(
        run.stdout.contains("1 POP(s) importado(s)"),
        "{}",
        run.stdout
    );
    let run = import_text(&app, "pops.dat", r#"[{"id": 8, "nome": "POP JSON"}]"#, &[]).await;
    run.assert_ok();
    assert_eq!(
        app.scalar_str("SELECT city FROM pops WHERE id = 7")
            .await
            .as_deref(),
        Some("Natal; RN")
    );
    app.stop().await;
}

/// A valid CPF from a number (9 digits plus check digits).
fn cpf(n: u64) -> String {
    let head = format!("{:09}", 100_000_000 + n);
    let dv = ura::domain::document::cpf_check_digits(&head).unwrap();
    format!("{}.{}.{}-{dv}", &head[..3], &head[3..6], &head[6..])
}

/// A valid alphanumeric CNPJ from a number.
fn cnpj(n: u64) -> String {
    let head = format!(
        "{}{:06}0001",
        ["AB", "X9", "Q1"][(n % 3) as usize],
        n % 1_000_000
    );
    let dv = ura::domain::document::cnpj_check_digits(&head).unwrap();
    format!("{head}{dv}")
}

#[tokio::test]
async fn a_hundred_thousand_customers() {
    const N: u64 = 100_000;
    const FIRST: u64 = 1_000_000;
    let app = spawn().await;
    let file = app.dir.path().join("clientes.csv");
    let mut text = String::from("id,nome,cpfcnpj,nascimento,emails,celulares\n");
    for i in 0..N {
        let doc = if i % 10 == 0 { cnpj(i) } else { cpf(i) };
        text.push_str(&format!(
            "{},CLIENTE {i},{doc},1980-01-{:02},cliente{i}@example.com,849{:08}\n",
            FIRST + i,
            1 + i % 28,
            i
        ));
    }
    std::fs::write(&file, text).unwrap();
    let started = std::time::Instant::now();
    let run = ura_import(&app.settings.database_url, app.dir.path(), &file, &[]).await;
    let first = started.elapsed();
    run.assert_ok();
    assert_eq!(run.counts(), [N as usize, 0, 0, 0], "{}", run.stdout);
    let backend = if app.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    eprintln!("{N} clientes em {backend}: {first:.1?}\n{}", run.stdout);
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM customers WHERE id >= {FIRST}"
        ))
        .await,
        N as i64
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM customer_contacts WHERE customer_id >= {FIRST}"
        ))
        .await,
        2 * N as i64
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM customers WHERE id >= {FIRST} AND length(document) = 14"
        ))
        .await,
        (N / 10) as i64
    );
    // Imported customers are found by document, the alphanumeric CNPJs included.
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT id FROM customers WHERE document = '{}'",
            cnpj(20)
        ))
        .await,
        (FIRST + 20) as i64
    );
    let started = std::time::Instant::now();
    let run = ura_import(&app.settings.database_url, app.dir.path(), &file, &[]).await;
    eprintln!("again, unchanged: {:.1?}", started.elapsed());
    run.assert_ok();
    assert_eq!(run.counts(), [0, 0, N as usize, 0], "{}", run.stdout);
    app.stop().await;
}
