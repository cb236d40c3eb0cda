//! Crash safety: `ura serve` is SIGKILLed during a write load of unlocks, tickets, invoice
//! messages and notifications, then started again on the same database. Every request answered
//! with status 1 left its row, no protocol number repeats after the restart, and the outbox
//! and expiry jobs pick up where the dead process left off.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use crate::process::Server;

use serde_json::Value;
use tokio::sync::Mutex;

struct Answered {
    function: &'static str,
    json: Value,
}

fn config(dir: &std::path::Path, name: &str, smtp: Option<&str>) -> String {
    let path = dir.join(name);
    let smtp = smtp
        .map(|url| format!("[smtp]\nurl = \"{url}\"\n"))
        .unwrap_or_default();
    // Messages that really leave need the address their links use.
    let public = if smtp.is_empty() {
        ""
    } else {
        "public_url = \"http://ura.teste\"\n\n"
    };
    std::fs::write(
        &path,
        format!(
            "{public}[fatura]\ntempo_max = 0.5\nreenviar = 0.2\nespera_inicial = 0.1\n\
             diretorio = \"{}\"\n\n[promessa]\nverificar_expiracao = 0.2\n\n{smtp}",
            dir.join("mensagens").display()
        ),
    )
    .unwrap();
    path.display().to_string()
}

async fn count(store: &ura::store::Store, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_keeps_every_acknowledged_write_and_its_jobs_resume() {
    // A database of its own, with no server in this process: only the killed process and
    // the restarted one ever work on it.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let (url, pg) = match postgres_admin_url() {
        Some(admin) => {
            let (name, url) = create_pg_database(&admin).await;
            (url, Some((admin, name)))
        }
        None => (format!("sqlite://{}", dir.join("ura.db").display()), None),
    };
    let _cleanup = crate::pgfault::DropDatabaseOnPanic::new(&url);
    let seeded = ura::store::Store::open(&url).await.unwrap();
    let tz: chrono_tz::Tz = "America/Sao_Paulo".parse().unwrap();
    ura::demo::seed(&seeded, chrono::Utc::now(), tz)
        .await
        .unwrap();
    let token = ura::store::apps::create(&seeded, APP).await.unwrap();
    seeded.close().await;
    // Mail goes nowhere before the crash (port 1 refuses), so invoice messages wait in the
    // outbox; after the restart they go to files.
    let before = config(&dir, "antes.toml", Some("smtp://127.0.0.1:1"));
    let after = config(&dir, "depois.toml", None);
    let server = Server::start(
        &dir,
        &[
            "--config",
            &before,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &url,
        ],
    )
    .await;
    let base = server.base.clone();
    let answered: Arc<Mutex<Vec<Answered>>> = Arc::new(Mutex::new(Vec::new()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let mut load = tokio::task::JoinSet::new();
    for worker in 0..6 {
        let (client, base, token, answered) = (
            client.clone(),
            base.clone(),
            token.clone(),
            answered.clone(),
        );
        load.spawn(async move {
            for i in 0.. {
                let (function, params): (&'static str, Vec<(&str, String)>) = match (worker + i) % 4
                {
                    0 => (
                        "chamado",
                        vec![("contrato", "1001".into()), ("ocorrenciatipo", "1".into())],
                    ),
                    1 => (
                        "notificacaosistema",
                        vec![
                            ("contrato", "2001".into()),
                            ("uracontato", format!("8499{worker}{i:05}")),
                        ],
                    ),
                    2 => (
                        "enviafatura",
                        vec![("contrato", "1001".into()), ("tipo", "email".into())],
                    ),
                    _ => ("liberacaopromessa", vec![("contrato", "1002".into())]),
                };
                let mut form = vec![("app", APP.to_string()), ("token", token.clone())];
                form.extend(params);
                let response = client
                    .post(format!("{base}/ws/ura/{function}/"))
                    .form(&form)
                    .send()
                    .await;
                // The process died: what was not answered was not acknowledged.
                let Ok(response) = response else { return };
                let Ok(body) = response.text().await else {
                    return;
                };
                let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                answered.lock().await.push(Answered { function, json });
            }
        });
    }
    // Let the load run, then kill the process mid-flight.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(server);
    while load.join_next().await.is_some() {}
    let answered = std::mem::take(&mut *answered.lock().await);
    assert!(
        answered.len() > 20,
        "some load was answered: {}",
        answered.len()
    );

    // Every acknowledged write is there.
    let store = ura::store::Store::open(&url).await.unwrap();
    let mut protocols_before = HashSet::new();
    let mut acknowledged = 0;
    for a in &answered {
        let Some(protocol) = a.json["protocolo"].as_str() else {
            continue;
        };
        protocols_before.insert(protocol.to_string());
        let status = a.json["status"].as_i64().unwrap_or(0);
        let table = match (a.function, status) {
            ("chamado", 1) => "tickets",
            ("notificacaosistema", 1) => "notifications",
            ("liberacaopromessa", 1) => "promises",
            // Accepted for delivery: the message is in the outbox.
            ("enviafatura", 1 | 9) => "messages",
            _ => continue,
        };
        acknowledged += 1;
        let n = count(
            &store,
            &format!("SELECT COUNT(*) FROM {table} WHERE protocol = '{protocol}'"),
        )
        .await;
        assert!(
            n >= 1,
            "{} answered {} with protocol {protocol}, but no row in {table}",
            a.function,
            a.json
        );
    }
    assert!(acknowledged > 10, "{acknowledged}");
    let waiting = count(
        &store,
        "SELECT COUNT(*) FROM messages WHERE status <> 'sent'",
    )
    .await;
    assert!(waiting > 0, "the dead SMTP left messages waiting");
    // The unlock's promise ends now: the expiry job of the new process must find it.
    let unlocked = count(
        &store,
        "SELECT COUNT(*) FROM promises WHERE contract_id = 1002 AND state = 'active'",
    )
    .await;
    assert_eq!(unlocked, 1, "one unlock of 1002 per month");
    sqlx::query("UPDATE promises SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE contract_id = 1002 AND state = 'active'")
        .execute(store.pool())
        .await
        .unwrap();

    // Restarted: new protocols are new, and the jobs resume.
    let server = Server::start(
        &dir,
        &[
            "--config",
            &after,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &url,
        ],
    )
    .await;
    let mut protocols_after = HashSet::new();
    for _ in 0..20 {
        let response = client
            .post(format!("{}/ws/ura/chamado/", server.base))
            .form(&[
                ("app", APP),
                ("token", token.as_str()),
                ("contrato", "1001"),
                ("ocorrenciatipo", "1"),
            ])
            .send()
            .await
            .unwrap();
        let r = into_resp(response).await;
        assert_eq!(r.json["status"], 1, "{}", r.body);
        let protocol = r.json["protocolo"].as_str().unwrap().to_string();
        assert!(
            !protocols_before.contains(&protocol),
            "protocol {protocol} given again after the restart"
        );
        assert!(protocols_after.insert(protocol));
    }
    // Messages the dead process had claimed wait out its claim (the attempt's budget plus
    // `outbox::CLAIM_MARGIN`), then go.
    let mut resumed = false;
    for _ in 0..300 {
        let waiting = count(
            &store,
            "SELECT COUNT(*) FROM messages WHERE status NOT IN ('sent', 'abandoned')",
        )
        .await;
        let expired = count(
            &store,
            "SELECT COUNT(*) FROM promises WHERE contract_id = 1002 AND state = 'expired'",
        )
        .await;
        if waiting == 0 && expired == 1 {
            resumed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !resumed {
        let rows: Vec<(String, i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT status, CAST(attempts AS BIGINT), next_attempt_at, claimed_until FROM messages",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        let promises: Vec<(String, String)> =
            sqlx::query_as("SELECT state, expires_at FROM promises WHERE contract_id = 1002")
                .fetch_all(store.pool())
                .await
                .unwrap();
        panic!("the outbox and the expiry job did not resume: {rows:?} {promises:?}");
    }
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM messages WHERE status = 'abandoned'"
        )
        .await,
        0
    );
    assert_eq!(
        count(&store, "SELECT status FROM contracts WHERE id = 1002").await,
        4,
        "suspended again when its promise expired"
    );
    let files = std::fs::read_dir(dir.join("mensagens"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(
        files > 0,
        "the waiting messages were delivered (as files) after the restart"
    );
    drop(server);
    store.close().await;
    if let Some((admin, name)) = pg {
        drop_pg_database(&admin, &name).await;
    }
}
