//! What the operator sees: `/healthz`, `/readyz`, `/metrics`, the audit trail of URA calls and
//! its admin API listing.

use std::time::Duration;

use crate::common::*;

/// The value of the first sample line starting with `prefix` (name and labels).
fn sample(metrics: &str, prefix: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn metrics(app: &TestApp) -> String {
    let r = app.get(&app.url("/metrics")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.content_type.starts_with("application/openmetrics-text"));
    r.body
}

/// Waits (bounded) until the audit trail holds `n` rows.
async fn audit_rows(app: &TestApp, n: i64) {
    for _ in 0..100 {
        if app.scalar_i64("SELECT COUNT(*) FROM audit_log").await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "audit trail has {} rows, expected {n}",
        app.scalar_i64("SELECT COUNT(*) FROM audit_log").await
    );
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn().await;
    let r = app.get(&app.url("/healthz")).await;
    assert_eq!((r.status, r.body.as_str()), (200, r#"{"status":"ok"}"#));
    let r = app.get(&app.url("/readyz")).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, r#"{"status":"ok","banco":"ok"}"#)
    );
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_status_and_outcome() {
    let app = spawn().await;
    for _ in 0..3 {
        app.call("consultacliente", &[("cpfcnpj", "529.982.247-25")])
            .await;
    }
    let r = app
        .post_form(
            &app.fn_url("consultacliente"),
            &[("app", APP), ("token", "errado"), ("cpfcnpj", "1")],
        )
        .await;
    assert_eq!(r.status, 403);
    let unlock = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(unlock.json["status"], 1, "{}", unlock.body);
    let ticket = app
        .call("chamado", &[("contrato", "1001"), ("ocorrenciatipo", "1")])
        .await;
    assert_eq!(ticket.json["status"], 1, "{}", ticket.body);

    let m = metrics(&app).await;
    let route = "/ws/ura/consultacliente/";
    assert_eq!(
        sample(
            &m,
            &format!("ura_http_requests_total{{route=\"{route}\",status=\"200\"}}")
        ),
        Some(3.0),
        "{m}"
    );
    assert_eq!(
        sample(
            &m,
            &format!("ura_http_requests_total{{route=\"{route}\",status=\"403\"}}")
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &m,
            &format!("ura_http_request_duration_seconds_count{{route=\"{route}\"}}")
        ),
        Some(4.0)
    );
    assert!(
        m.contains(&format!(
            "ura_http_request_duration_seconds_bucket{{le=\"0.005\",route=\"{route}\"}}"
        )) || m.contains(&format!(
            "ura_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"0.005\"}}"
        )),
        "{m}"
    );
    assert_eq!(sample(&m, "ura_desbloqueios_total"), Some(1.0));
    assert_eq!(sample(&m, "ura_chamados_total{origem=\"ura\"}"), Some(1.0));
    assert_eq!(
        sample(
            &m,
            "ura_funcao_respostas_total{funcao=\"consultacliente\",status=\"1\"}"
        ),
        Some(3.0)
    );
    assert_eq!(sample(&m, "ura_banco_disponivel"), Some(1.0));
    assert_eq!(
        sample(&m, "ura_nas_alcancavel{nas=\"127.0.0.1\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&m, "ura_outbox_mensagens{status=\"queued\"}"),
        Some(0.0)
    );
    // No raw paths, documents or tokens in label values. Only the series
    // names and labels are searched: a sample's value (a duration's sum)
    // may hold any digits.
    let series: Vec<&str> = m
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' ').map(|(series, _value)| series))
        .collect();
    assert!(!series.is_empty(), "{m}");
    for s in &series {
        assert!(!s.contains("529") && !s.contains(&app.token), "{s}");
    }
    assert!(!m.contains(&app.token));

    // The NAS's health follows the database.
    app.exec("UPDATE nas SET reachable = 0 WHERE nasname = '127.0.0.1'")
        .await;
    let m = metrics(&app).await;
    assert_eq!(
        sample(&m, "ura_nas_alcancavel{nas=\"127.0.0.1\"}"),
        Some(0.0)
    );
    app.stop().await;
}

#[tokio::test]
async fn metrics_can_require_a_token() {
    let app = spawn_with(|s| s.metricas_token = Some("segredo-das-metricas".into())).await;
    let r = app.get(&app.url("/metrics")).await;
    assert_eq!(r.status, 401);
    let r = app
        .send(
            app.client
                .get(app.url("/metrics"))
                .bearer_auth("segredo-das-metricas"),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("ura_http_requests_total"));
    app.stop().await;
}

#[tokio::test]
async fn every_ura_call_is_audited_without_full_documents_or_tokens() {
    let app = spawn().await;
    app.call("consultacliente", &[("cpfcnpj", "529.982.247-25")])
        .await;
    let unlock = app
        .call(
            "liberacaopromessa",
            &[("contrato", "1002"), ("uracontato", "84991380000")],
        )
        .await;
    let protocol = unlock.json["protocolo"].as_str().unwrap().to_string();
    let r = app
        .post_form(
            &app.fn_url("consultacliente"),
            &[
                ("app", APP),
                ("token", "token-errado"),
                ("cpfcnpj", "52998224725"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    audit_rows(&app, 3).await;

    let row = |sql: &str| {
        let sql = sql.to_string();
        let app = &app;
        async move { app.scalar_str(&sql).await }
    };
    assert_eq!(
        row("SELECT document FROM audit_log WHERE route = 'consultacliente' AND http_status = 200")
            .await
            .as_deref(),
        Some("529.NNN.247-NN")
    );
    assert_eq!(
        row("SELECT app_name FROM audit_log WHERE route = 'liberacaopromessa'")
            .await
            .as_deref(),
        Some(APP)
    );
    assert_eq!(
        row("SELECT protocol FROM audit_log WHERE route = 'liberacaopromessa'").await,
        Some(protocol.clone())
    );
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM audit_log WHERE route = 'liberacaopromessa' \
             AND contract_id = 1002 AND ura_status = 1 AND method = 'POST' \
             AND remote_addr = '127.0.0.1' AND latency_ms > 0"
        )
        .await,
        1
    );
    // The refused call is there too, without an app, its document masked.
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM audit_log WHERE http_status = 403 AND app_id IS NULL \
             AND document = '529.NNN.247-NN' AND ura_status IS NULL"
        )
        .await,
        1
    );
    // Nothing secret in any column.
    let everything: Vec<String> = sqlx::query_scalar(
        "SELECT COALESCE(app_name, '') || '|' || route || '|' || COALESCE(document, '') || '|' \
         || COALESCE(protocol, '') || '|' || COALESCE(remote_addr, '') FROM audit_log",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    for line in &everything {
        assert!(
            !line.contains("52998224725") && !line.contains("982.247") && !line.contains("errado"),
            "{line}"
        );
        assert!(!line.contains(&app.token));
    }
    app.stop().await;
}

#[tokio::test]
async fn the_admin_api_lists_the_audit_trail() {
    let app = spawn().await;
    let admin = ura::store::admin_tokens::create(&app.store, "operador")
        .await
        .unwrap();
    for contract in ["1001", "1002", "2001"] {
        app.call("verificaacesso", &[("contrato", contract)]).await;
    }
    app.call("chamado", &[("contrato", "1001"), ("ocorrenciatipo", "1")])
        .await;
    audit_rows(&app, 4).await;
    let list = |query: &str| {
        let url = app.url(&format!("/admin/api/v1/auditoria{query}"));
        let request = app.client.get(url).bearer_auth(&admin);
        app.send(request)
    };

    let r = list("").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["paginacao"]["total"], 4);
    let rows = r.json["registros"].as_array().unwrap();
    assert_eq!(rows[0]["route"], "chamado", "newest first");
    assert!(rows[0]["protocol"].as_str().unwrap().len() >= 8);

    let r = list("?contrato=1001").await;
    assert_eq!(r.json["paginacao"]["total"], 2);
    let r = list("?rota=verificaacesso&limit=2&offset=1").await;
    assert_eq!(r.json["paginacao"]["total"], 3);
    assert_eq!(r.json["paginacao"]["parcial"], 2);
    let r = list("?desde=2000-01-01&ate=2000-01-02").await;
    assert_eq!(r.json["paginacao"]["total"], 0);
    let r = list("?app=outro").await;
    assert_eq!(r.json["paginacao"]["total"], 0);

    for (query, field) in [
        ("?limit=0", "limit"),
        ("?limit=5000", "limit"),
        ("?offset=-1", "offset"),
        ("?desde=ontem", "desde"),
        ("?contrato=abc", "contrato"),
    ] {
        let r = list(query).await;
        assert_eq!(r.status, 400, "{query}");
        assert!(
            r.json["detail"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{field}:")),
            "{query}: {}",
            r.body
        );
    }

    // The URA app's token opens nothing here; a revoked admin token neither.
    let r = app
        .send(
            app.client
                .get(app.url("/admin/api/v1/auditoria"))
                .bearer_auth(&app.token),
        )
        .await;
    assert_eq!(r.status, 401);
    let r = app.get(&app.url("/admin/api/v1/auditoria")).await;
    assert_eq!(r.status, 401);
    ura::store::admin_tokens::revoke(&app.store, "operador")
        .await
        .unwrap();
    assert_eq!(list("").await.status, 401);
    app.stop().await;
}

#[tokio::test]
async fn old_audit_entries_are_pruned_after_the_retention() {
    let app = spawn_with(|s| s.auditoria.dias = 30).await;
    app.call("consultacliente", &[("cpfcnpj", "529.982.247-25")])
        .await;
    audit_rows(&app, 1).await;
    app.exec(
        "INSERT INTO audit_log (at, route, method, http_status, latency_ms) \
         VALUES ('2020-01-01T00:00:00.000000Z', 'consultacliente', 'POST', 200, 1.0)",
    )
    .await;
    let pruned =
        ura::store::audit::prune(&app.store, app.settings.auditoria.dias, chrono::Utc::now())
            .await
            .unwrap();
    assert_eq!(pruned, 1);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM audit_log").await, 1);
    app.stop().await;
}
