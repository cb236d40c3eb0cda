use crate::common::*;

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinSet;

fn client(max_idle: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(max_idle)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client")
}

/// Fires `n` identical calls at once and returns (HTTP status, JSON body) of each.
async fn burst(
    app: &TestApp,
    n: usize,
    function: &str,
    params: &[(&str, &str)],
) -> Vec<(u16, Value)> {
    let client = client(n);
    let url = app.fn_url(function);
    let mut form: Vec<(String, String)> = vec![
        ("app".into(), APP.into()),
        ("token".into(), app.token.clone()),
    ];
    form.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let mut set = JoinSet::new();
    for _ in 0..n {
        let (client, url, form, barrier) =
            (client.clone(), url.clone(), form.clone(), barrier.clone());
        set.spawn(async move {
            barrier.wait().await;
            let response = client.post(&url).form(&form).send().await.expect("send");
            let status = response.status().as_u16();
            let body = response.text().await.expect("body");
            let json: Value = serde_json::from_str(&body)
                .unwrap_or_else(|_| panic!("not JSON ({status}): {body}"));
            (status, json)
        });
    }
    let mut out = Vec::with_capacity(n);
    while let Some(done) = set.join_next().await {
        out.push(done.expect("task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_simultaneous_promises_unlock_once() {
    let app = spawn().await;
    let results = burst(&app, 50, "liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(results.len(), 50);
    for (status, body) in &results {
        assert_eq!(*status, 200, "{body}");
    }
    let ones: Vec<&Value> = results
        .iter()
        .map(|(_, b)| b)
        .filter(|b| b["status"] == 1)
        .collect();
    let twos = results.iter().filter(|(_, b)| b["status"] == 2).count();
    assert_eq!(ones.len(), 1, "exactly one unlock: {results:?}");
    assert_eq!(twos, 49, "the others are told it was used: {results:?}");
    for (_, b) in results.iter().filter(|(_, b)| b["status"] == 2) {
        assert_eq!(
            b["msg"],
            "O recurso de promessa de pagamento já foi utilizado no mês. Recurso não disponível"
        );
        assert_eq!(b["liberado"], false);
    }
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM promises WHERE contract_id = 1002")
            .await,
        1
    );
    let protocol = ones[0]["protocolo"]
        .as_str()
        .expect("protocolo")
        .to_string();
    assert_eq!(
        app.scalar_str("SELECT protocol FROM promises WHERE contract_id = 1002")
            .await
            .as_deref(),
        Some(protocol.as_str())
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM tickets WHERE contract_id = 1002")
            .await,
        1,
        "one ticket of the unlock"
    );
    assert_eq!(
        app.scalar_i64("SELECT status FROM contracts WHERE id = 1002")
            .await,
        1
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousand_simultaneous_tickets_get_distinct_sequential_protocols() {
    let app = spawn().await;
    let day = today(&app.settings).format("%Y%m%d").to_string();
    let tickets_before = app
        .scalar_i64("SELECT COUNT(*) FROM tickets WHERE contract_id = 1001")
        .await;
    // the last protocol issued today before the burst (the demo issues one)
    let last_before: i64 = app
        .scalar_str(&format!(
            "SELECT MAX(protocol) FROM protocols WHERE protocol LIKE '{day}%'"
        ))
        .await
        .map(|p| p[8..].parse().expect("sequence"))
        .unwrap_or(0);

    let n = 1000;
    let results = burst(&app, n, "chamado", &[("contrato", "1001")]).await;
    assert_eq!(results.len(), n);
    let mut protocols = Vec::with_capacity(n);
    for (status, body) in &results {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["status"], 1, "{body}");
        let p = body["protocolo"]
            .as_str()
            .unwrap_or_else(|| panic!("no protocolo: {body}"))
            .to_string();
        assert_eq!(p.len(), 14, "{p}");
        assert!(p.starts_with(&day), "{p}");
        assert!(p.bytes().all(|b| b.is_ascii_digit()), "{p}");
        protocols.push(p);
    }
    let distinct: HashSet<&String> = protocols.iter().collect();
    assert_eq!(distinct.len(), n, "protocols must never repeat");

    let mut seqs: Vec<i64> = protocols
        .iter()
        .map(|p| p[8..].parse().expect("sequence"))
        .collect();
    seqs.sort_unstable();
    let expected: Vec<i64> = (last_before + 1..=last_before + n as i64).collect();
    assert_eq!(
        seqs.first(),
        expected.first(),
        "the burst continues the day's sequence"
    );
    assert_eq!(seqs, expected, "no gaps among the new protocols");

    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM tickets WHERE contract_id = 1001")
            .await,
        tickets_before + n as i64
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(DISTINCT protocol) FROM tickets WHERE contract_id = 1001")
            .await,
        tickets_before + n as i64
    );
    // every answered protocol is stored with its ticket
    let stored = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM tickets WHERE contract_id = 1001 AND protocol IN ({})",
            protocols
                .iter()
                .map(|p| format!("'{p}'"))
                .collect::<Vec<_>>()
                .join(",")
        ))
        .await;
    assert_eq!(stored, n as i64);
    app.stop().await;
}

/// A day's first two protocols, opened at once in two transactions, are that day's 1 and 2,
/// whatever other days counted before; a day whose first transaction rolls back starts at 1
/// with the next. (On PostgreSQL the second waits for the first to set the day's base.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_day_starts_at_one_even_when_its_first_two_overlap() {
    use ura::store::protocols::{Owner, allocate};
    let app = spawn().await;
    let owner = || Owner {
        contract_id: Some(1001),
        customer_id: 1,
        origin: "chamado",
    };
    let now = chrono::Utc::now();
    let day = chrono::NaiveDate::from_ymd_opt(2099, 3, 1).unwrap();
    // Today's numbers (the demo's, and one more) come first.
    let r = app.call("chamado", &[("contrato", "1001")]).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let mut first = app.store.write().await.expect("write");
    let p1 = allocate(&mut first, now, day, owner(), None)
        .await
        .expect("first");
    let store = app.store.clone();
    let second = tokio::spawn(async move {
        let mut tx = store.write().await.expect("write");
        let p = allocate(
            &mut tx,
            now,
            day,
            Owner {
                contract_id: Some(1001),
                customer_id: 1,
                origin: "chamado",
            },
            None,
        )
        .await
        .expect("second");
        tx.commit().await.expect("commit second");
        p
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the second waits for the first");
    first.commit().await.expect("commit first");
    let p2 = second.await.expect("join");
    assert_eq!(
        (p1.as_str(), p2.as_str()),
        ("20990301000001", "20990301000002")
    );

    // A day whose first transaction rolls back: the next one is still the day's first.
    let other = chrono::NaiveDate::from_ymd_opt(2099, 3, 2).unwrap();
    let mut undone = app.store.write().await.expect("write");
    let gone = allocate(&mut undone, now, other, owner(), None)
        .await
        .expect("undone");
    assert_eq!(gone, "20990302000001");
    drop(undone);
    let mut tx = app.store.write().await.expect("write");
    let kept = allocate(&mut tx, now, other, owner(), None)
        .await
        .expect("kept");
    tx.commit().await.expect("commit");
    assert_eq!(kept, "20990302000001");
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM protocols WHERE protocol LIKE '209903%'")
            .await,
        3
    );
    app.stop().await;
}
