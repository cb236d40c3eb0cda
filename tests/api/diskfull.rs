//! SQLite out of space (`PRAGMA max_page_count` on every connection, as `sqlite_max_paginas`
//! sets it): writes answer `503`, what was acknowledged is there, the file is not corrupted,
//! reads go on, and with room again writes work.

use crate::common::*;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use ura::settings::Settings;
use ura::store::{Store, StoreOptions};

struct Running {
    base: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn serve(url: &str, max_pages: Option<u64>, dir: &std::path::Path) -> Running {
    let store = Store::open_with_options(
        url,
        StoreOptions {
            max_connections: 8,
            sqlite_max_pages: max_pages,
        },
    )
    .await
    .expect("open");
    let mut settings = Settings {
        database_url: url.to_string(),
        sqlite_max_paginas: max_pages,
        ..Settings::default()
    };
    settings.fatura.diretorio = dir.join("mensagens");
    settings.validate().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(ura::app::serve(store, settings, listener, async move {
        let _ = rx.await;
    }));
    Running { base, stop, task }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sqlite_database_answers_503_and_is_not_corrupted() {
    if postgres_admin_url().is_some() {
        eprintln!("PostgreSQL run: the out-of-space case is SQLite's");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ura.db").display());
    let store = Store::open(&url).await.unwrap();
    let tz: chrono_tz::Tz = "America/Sao_Paulo".parse().unwrap();
    ura::demo::seed(&store, chrono::Utc::now(), tz)
        .await
        .unwrap();
    let token = ura::store::apps::create(&store, APP).await.unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(store.pool())
        .await
        .unwrap();
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(store.pool())
        .await
        .unwrap();
    store.close().await;

    // A few pages of room: some tickets fit, then the file is full.
    let server = serve(&url, Some(pages as u64 + 4), dir.path()).await;
    let client = reqwest::Client::new();
    let ticket = |base: String, text: String| {
        let client = client.clone();
        let token = token.clone();
        async move {
            let r = client
                .post(format!("{base}/ws/ura/chamado/"))
                .form(&[
                    ("app", APP),
                    ("token", token.as_str()),
                    ("contrato", "1001"),
                    ("ocorrenciatipo", "1"),
                    ("conteudo", text.as_str()),
                ])
                .send()
                .await
                .unwrap();
            into_resp(r).await
        }
    };
    let mut acknowledged = Vec::new();
    let mut full = None;
    for i in 0..2000 {
        // Long texts fill pages quickly.
        let r = ticket(server.base.clone(), format!("{i} {}", "x".repeat(3000))).await;
        match r.status {
            200 => {
                assert_eq!(r.json["status"], 1, "{}", r.body);
                acknowledged.push(r.json["protocolo"].as_str().unwrap().to_string());
            }
            _ => {
                full = Some(r);
                break;
            }
        }
    }
    let full = full.expect("the database filled up");
    assert_eq!(
        (full.status, full.body.as_str()),
        (503, r#"{"detail":"Serviço temporariamente indisponível."}"#)
    );
    assert!(!acknowledged.is_empty());
    // Reads go on.
    let r = client
        .post(format!("{}/ws/ura/consultacliente/", server.base))
        .form(&[
            ("app", APP),
            ("token", token.as_str()),
            ("contrato", "1001"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = server.stop.send(());
    let _ = server.task.await;

    // Not corrupted, and everything acknowledged is there.
    let store = Store::open(&url).await.unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(check, "ok");
    for protocol in &acknowledged {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE protocol = $1")
            .bind(protocol)
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(n, 1, "acknowledged ticket {protocol} is missing");
    }
    store.close().await;

    // With room again, writes work.
    let server = serve(&url, None, dir.path()).await;
    let r = ticket(server.base.clone(), "depois".into()).await;
    assert_eq!(r.json["status"], 1, "{}", r.body);
    let _ = server.stop.send(());
    let _ = server.task.await;
}
