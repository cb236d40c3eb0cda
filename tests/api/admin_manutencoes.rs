//! Maintenances in the admin API (`/admin/api/v1/manutencoes`): created, listed, filtered,
//! read, changed and removed; every bad field named and nothing changed; and what is written
//! here driving `verificaacesso` like the URA's `manutencao/*` routes.

use crate::common::*;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

struct Admin<'a> {
    app: &'a TestApp,
    token: String,
}

impl Admin<'_> {
    async fn new(app: &TestApp) -> Admin<'_> {
        let token = ura::store::admin_tokens::create(&app.store, "operador")
            .await
            .unwrap();
        Admin { app, token }
    }

    fn url(&self, path: &str) -> String {
        self.app.url(&format!("/admin/api/v1/{path}"))
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Resp {
        let mut request = self
            .app
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.app.send(request).await
    }

    async fn get(&self, path: &str) -> Resp {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> Resp {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Resp {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// Creates a maintenance; returns it.
    async fn create(&self, body: Value) -> Value {
        let r = self.post("manutencoes", body.clone()).await;
        assert_eq!(r.status, 201, "{body}: {}", r.body);
        r.json
    }

    /// The ids listed by `GET manutencoes?{query}`.
    async fn ids(&self, query: &str) -> Vec<i64> {
        let r = self.get(&format!("manutencoes?{query}")).await;
        assert_eq!(r.status, 200, "{query}: {}", r.body);
        ids(&r.json["registros"])
    }
}

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|m| m["id"].as_i64().expect("id"))
        .collect()
}

fn detail(r: &Resp) -> &str {
    r.json["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", r.body))
}

/// `YYYY-MM-DD HH:MM:SS` in the operator's zone.
fn local(app: &TestApp, t: DateTime<Utc>) -> String {
    t.with_timezone(&app.settings.tz().expect("tz"))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Everything a maintenance write may change, to prove that a refused one changed nothing.
async fn snapshot(app: &TestApp) -> String {
    let rows = |sql: &'static str| async move {
        sqlx::query_as::<_, (String,)>(sql)
            .fetch_all(app.store.pool())
            .await
            .expect("snapshot")
            .into_iter()
            .map(|r| r.0)
            .collect::<Vec<_>>()
            .join("\n")
    };
    [
        rows(
            "SELECT CAST(id AS TEXT) || '|' || description || '|' || COALESCE(ivr_message, '-') \
             || '|' || CAST(severity AS TEXT) || '|' || CAST(status AS TEXT) || '|' || starts_at \
             || '|' || COALESCE(expected_end, '-') || '|' || COALESCE(resolved_at, '-') \
             FROM maintenances ORDER BY id",
        )
        .await,
        rows(
            "SELECT CAST(maintenance_id AS TEXT) || '-' || CAST(pop_id AS TEXT) \
             FROM maintenance_pops ORDER BY 1",
        )
        .await,
        rows(
            "SELECT CAST(maintenance_id AS TEXT) || '-' || CAST(element_id AS TEXT) \
             FROM maintenance_elements ORDER BY 1",
        )
        .await,
        rows(
            "SELECT CAST(maintenance_id AS TEXT) || '-' || CAST(nas_id AS TEXT) \
             FROM maintenance_nas ORDER BY 1",
        )
        .await,
    ]
    .join("\n--\n")
}

/// `verificaacesso` for a contract: (status, msg).
async fn access(app: &TestApp, contrato: &str) -> (i64, String) {
    let r = app.call("verificaacesso", &[("contrato", contrato)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    (
        r.json["status"].as_i64().expect("status"),
        r.json["msg"].as_str().expect("msg").to_string(),
    )
}

#[tokio::test]
async fn maintenances_need_an_admin_token() {
    let app = spawn().await;
    let before = snapshot(&app).await;
    let url = |path: &str| app.url(&format!("/admin/api/v1/{path}"));
    let body = json!({"descricao": "Sem token", "pops": [1]});
    let requests = || {
        [
            app.client.get(url("manutencoes")),
            app.client.get(url("manutencoes/1")),
            app.client.post(url("manutencoes")).json(&body),
            app.client.patch(url("manutencoes/1")).json(&body),
            app.client.put(url("manutencoes/1")).json(&body),
            app.client.delete(url("manutencoes/1")),
        ]
    };
    for request in requests() {
        let r = app.send(request).await;
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(
            detail(&r),
            "Informe o token de administração em Authorization: Bearer."
        );
    }
    // Neither the URA app's token nor a made-up one will do.
    for token in [app.token.as_str(), "nao-existe"] {
        for request in requests() {
            let r = app.send(request.bearer_auth(token)).await;
            assert_eq!(r.status, 401, "{}", r.body);
            assert_eq!(detail(&r), "Token de administração inválido.");
        }
    }
    assert_eq!(snapshot(&app).await, before, "nothing changed");
    app.stop().await;
}

#[tokio::test]
async fn create_read_and_list_in_the_ura_shape() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let r = admin
        .post(
            "manutencoes",
            json!({
                "descricao": "Troca de poste na Rua das Flores",
                "mensagem_ura": "Estamos trocando um poste no seu bairro",
                "severidade": 3,
                "status": 2,
                "data_inicial": "2030-11-29 08:00:00",
                "data_final": "2030-11-29T10:30",
                "pops": [1],
                "elementos": [2, 1, 2],
                "nas": [2],
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.content_type, "application/json");
    let id = app.scalar_i64("SELECT MAX(id) FROM maintenances").await;
    assert!(id > 3);
    assert_eq!(
        r.body,
        format!(
            r#"{{"id":{id},"descricao":"Troca de poste na Rua das Flores","mensagem_ura":"Estamos trocando um poste no seu bairro","severidade":3,"status":2,"data_inicial":"2030-11-29 08:00:00","data_final":"2030-11-29 10:30:00","pops":[1],"elementos":[1,2],"nas":[2]}}"#
        )
    );
    // America/Sao_Paulo is UTC-3: stored as the URA's routes store it.
    assert_eq!(
        app.scalar_str(&format!(
            "SELECT starts_at FROM maintenances WHERE id = {id}"
        ))
        .await
        .as_deref(),
        Some("2030-11-29T11:00:00.000000Z")
    );
    let created = r.json;

    // Read back, here and through the URA's list: the same shape.
    let r = admin.get(&format!("manutencoes/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json, created);
    let r = app.call("manutencao/list", &[]).await;
    assert_eq!(r.json.as_array().unwrap().last().unwrap(), &created);

    // Only `descricao`: the URA's defaults.
    let before = Utc::now() - TimeDelta::seconds(1);
    let v = admin
        .create(json!({"descricao": "  Só a descrição  "}))
        .await;
    assert_eq!(
        v,
        json!({
            "id": v["id"],
            "descricao": "Só a descrição",
            "mensagem_ura": "",
            "severidade": 4,
            "status": 1,
            "data_inicial": v["data_inicial"],
            "data_final": null,
            "pops": [],
            "elementos": [],
            "nas": [],
        })
    );
    let start = v["data_inicial"].as_str().unwrap();
    assert!(start >= local(&app, before).as_str(), "{start}");
    assert!(start <= local(&app, Utc::now()).as_str(), "{start}");

    // The list: by id, paged like every admin list.
    let r = admin.get("manutencoes").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json["paginacao"],
        json!({"offset": 0, "limit": 100, "parcial": 5, "total": 5})
    );
    assert_eq!(ids(&r.json["registros"]), vec![1, 2, 3, id, id + 1]);
    assert_eq!(r.json["registros"][3], created);
    let r = admin.get("manutencoes?offset=1&limit=2").await;
    assert_eq!(
        r.json["paginacao"],
        json!({"offset": 1, "limit": 2, "parcial": 2, "total": 5})
    );
    assert_eq!(ids(&r.json["registros"]), vec![2, 3]);
    let r = admin.get("manutencoes?offset=10").await;
    assert_eq!(
        r.json["paginacao"],
        json!({"offset": 10, "limit": 100, "parcial": 0, "total": 5})
    );
    assert_eq!(r.json["registros"], json!([]));

    // Unknown ids: 404 naming the maintenance.
    for path in ["manutencoes/999", "manutencoes/abc", "manutencoes/0"] {
        let r = admin.get(path).await;
        assert_eq!(r.status, 404, "{path}");
    }
    let r = admin.get("manutencoes/999").await;
    assert_eq!(r.body, r#"{"detail":"manutenção 999 não encontrada."}"#);

    // The generic resources are still answered by the generic routes.
    let r = admin.get("pops/1").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["id"], 1);
    app.stop().await;
}

#[tokio::test]
async fn list_filters() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let now = Utc::now();
    // Demo: 1 in force on POP 2, 2 in force on NAS 2, 3 resolved on element 1.
    let future = admin
        .create(json!({
            "descricao": "Amanhã",
            "data_inicial": local(&app, now + TimeDelta::hours(20)),
            "pops": [1, 2],
            "elementos": [2],
        }))
        .await["id"]
        .as_i64()
        .unwrap();
    let started = admin
        .create(json!({
            "descricao": "Agora",
            "status": 3,
            "data_inicial": local(&app, now - TimeDelta::minutes(5)),
            "nas": [1],
        }))
        .await["id"]
        .as_i64()
        .unwrap();

    assert_eq!(admin.ids("").await, vec![1, 2, 3, future, started]);
    for ativas in ["true", "1", "TRUE"] {
        assert_eq!(
            admin.ids(&format!("ativas={ativas}")).await,
            vec![1, 2, started],
            "{ativas}"
        );
    }
    for ativas in ["false", "0", ""] {
        assert_eq!(
            admin.ids(&format!("ativas={ativas}")).await,
            vec![1, 2, 3, future, started]
        );
    }
    assert_eq!(admin.ids("status=4").await, vec![3]);
    assert_eq!(admin.ids("status=1").await, vec![2, future]);
    assert_eq!(admin.ids("pop_id=2").await, vec![1, future]);
    assert_eq!(admin.ids("pop_id=1").await, vec![future]);
    assert_eq!(admin.ids("nas_id=2").await, vec![2]);
    assert_eq!(admin.ids("nas_id=1").await, vec![started]);
    assert_eq!(admin.ids("elemento_id=1").await, vec![3]);
    assert_eq!(admin.ids("elemento_id=2").await, vec![future]);
    // Every criterion given must hold; the total counts what matches.
    assert_eq!(admin.ids("ativas=1&pop_id=2").await, vec![1]);
    assert_eq!(admin.ids("ativas=1&status=3").await, vec![started]);
    assert!(admin.ids("status=0&pop_id=2").await.is_empty());
    let r = admin.get("manutencoes?pop_id=2&limit=1").await;
    assert_eq!(
        r.json["paginacao"],
        json!({"offset": 0, "limit": 1, "parcial": 1, "total": 2})
    );
    assert_eq!(ids(&r.json["registros"]), vec![1]);
    let r = admin.get("manutencoes?pop_id=2&limit=1&offset=1").await;
    assert_eq!(ids(&r.json["registros"]), vec![future]);

    for (query, expected) in [
        ("ativas=talvez", "ativas: use 0 ou 1."),
        ("status=9", "status: use um número de 0 a 4."),
        ("status=aberto", "status: informe um número inteiro."),
        ("pop_id=x", "pop_id: informe um número inteiro positivo."),
        ("pop_id=99", "pop_id: POP 99 não existe."),
        ("nas_id=0", "nas_id: informe um número inteiro positivo."),
        ("nas_id=3", "nas_id: NAS 3 não existe."),
        (
            "elemento_id=77",
            "elemento_id: elemento de rede 77 não existe.",
        ),
        ("descricao=x", "descricao: não é um filtro desta lista."),
        ("limit=0", "limit: de 1 a 1000."),
        (
            "offset=-1",
            "offset: informe um número inteiro não negativo.",
        ),
    ] {
        let r = admin.get(&format!("manutencoes?{query}")).await;
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert_eq!(detail(&r), expected, "{query}");
    }
    app.stop().await;
}

#[tokio::test]
async fn update_changes_only_what_is_given() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let v = admin
        .create(json!({
            "descricao": "Original",
            "mensagem_ura": "Mensagem original",
            "severidade": 2,
            "data_inicial": "2030-03-01 08:00:00",
            "data_final": "2030-03-01 12:00:00",
            "pops": [1, 2],
            "nas": [1],
        }))
        .await;
    let path = format!("manutencoes/{}", v["id"]);

    let r = admin
        .patch(&path, json!({"mensagem_ura": "Nova mensagem", "pops": []}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut expected = v.clone();
    expected["mensagem_ura"] = json!("Nova mensagem");
    expected["pops"] = json!([]);
    assert_eq!(r.json, expected);

    // PUT works the same way; a list given replaces the old one, null ends are unknown.
    let r = admin
        .put(
            &path,
            json!({
                "descricao": "Alterada",
                "severidade": 0,
                "status": "3",
                "data_inicial": "2030-03-01 07:00:00",
                "data_final": null,
                "elementos": [2],
                "nas": [2, 1],
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let changed = json!({
        "id": v["id"],
        "descricao": "Alterada",
        "mensagem_ura": "Nova mensagem",
        "severidade": 0,
        "status": 3,
        "data_inicial": "2030-03-01 07:00:00",
        "data_final": null,
        "pops": [],
        "elementos": [2],
        "nas": [1, 2],
    });
    assert_eq!(r.json, changed);

    // An empty body changes nothing and answers the maintenance.
    let r = admin.patch(&path, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json, changed);
    assert_eq!(admin.get(&path).await.json, changed);

    // The message cleared: the IVR says the default one again.
    let r = admin.patch(&path, json!({"mensagem_ura": null})).await;
    assert_eq!(r.json["mensagem_ura"], "");
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM maintenances WHERE id = {} AND ivr_message IS NULL",
            v["id"]
        ))
        .await,
        1
    );

    // Resolved and reopened: `resolved_at` follows.
    let resolved = format!(
        "SELECT COUNT(*) FROM maintenances WHERE id = {} AND resolved_at IS NOT NULL",
        v["id"]
    );
    admin.patch(&path, json!({"status": 4})).await;
    assert_eq!(app.scalar_i64(&resolved).await, 1);
    admin.patch(&path, json!({"status": 1})).await;
    assert_eq!(app.scalar_i64(&resolved).await, 0);

    let r = admin
        .patch("manutencoes/999", json!({"descricao": "x"}))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body, r#"{"detail":"manutenção 999 não encontrada."}"#);
    app.stop().await;
}

#[tokio::test]
async fn delete_removes_the_maintenance_and_what_it_covers() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    assert_eq!(access(&app, "2001").await.0, 9);
    let r = admin.delete("manutencoes/1").await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(r.body, "");
    assert_eq!(admin.ids("").await, vec![2, 3]);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM maintenance_pops WHERE maintenance_id = 1")
            .await,
        0
    );
    // 2001's POP is no longer under maintenance.
    assert_ne!(access(&app, "2001").await.0, 9);

    let before = snapshot(&app).await;
    for path in ["manutencoes/1", "manutencoes/999"] {
        let r = admin.delete(path).await;
        assert_eq!(r.status, 404, "{path}");
        let id = path.trim_start_matches("manutencoes/");
        assert_eq!(
            r.body,
            format!(r#"{{"detail":"manutenção {id} não encontrada."}}"#)
        );
        assert_eq!(admin.get(path).await.status, 404);
    }
    assert_eq!(admin.delete("manutencoes/um").await.status, 404);
    assert_eq!(snapshot(&app).await, before, "nothing changed");
    app.stop().await;
}

#[tokio::test]
async fn every_bad_field_is_named_and_nothing_changes() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let v = admin
        .create(json!({
            "descricao": "Janela",
            "data_inicial": "2030-04-01 08:00:00",
            "data_final": "2030-04-01 10:00:00",
            "pops": [1],
        }))
        .await;
    let path = format!("manutencoes/{}", v["id"]);
    let before = snapshot(&app).await;
    let d = |mut body: Value| {
        body["descricao"] = json!("Teste");
        body
    };
    let create_cases: Vec<(Value, &str)> = vec![
        (json!({}), "descricao: obrigatório."),
        (json!({"descricao": "   "}), "descricao: obrigatório."),
        (json!({"descricao": null}), "descricao: obrigatório."),
        (
            json!({"mensagem_ura": "x", "severidade": 9}),
            "descricao: obrigatório.",
        ),
        (json!({"descricao": 5}), "descricao: informe um texto."),
        (d(json!({"pop": [1]})), "pop: campo desconhecido."),
        (d(json!({"id": 50})), "id: campo somente leitura."),
        (
            d(json!({"mensagem_ura": ["x"]})),
            "mensagem_ura: informe um texto.",
        ),
        (
            d(json!({"severidade": 5})),
            "severidade: use um número de 0 a 4.",
        ),
        (
            d(json!({"severidade": -1})),
            "severidade: use um número de 0 a 4.",
        ),
        (
            d(json!({"severidade": "alta"})),
            "severidade: informe um número inteiro.",
        ),
        (
            d(json!({"severidade": null})),
            "severidade: informe um número inteiro.",
        ),
        (d(json!({"status": 7})), "status: use um número de 0 a 4."),
        (
            d(json!({"status": 1.5})),
            "status: informe um número inteiro.",
        ),
        (
            d(json!({"status": true})),
            "status: informe um número inteiro.",
        ),
        (
            d(json!({"data_inicial": "29/11/2030 08:00"})),
            "data_inicial: use o formato AAAA-MM-DD HH:MM:SS.",
        ),
        (
            d(json!({"data_inicial": "2030-02-30 08:00:00"})),
            "data_inicial: use o formato AAAA-MM-DD HH:MM:SS.",
        ),
        (
            d(json!({"data_inicial": null})),
            "data_inicial: use o formato AAAA-MM-DD HH:MM:SS.",
        ),
        (
            d(json!({"data_final": "amanhã"})),
            "data_final: use o formato AAAA-MM-DD HH:MM:SS.",
        ),
        (
            d(json!({"data_final": 20301129})),
            "data_final: use o formato AAAA-MM-DD HH:MM:SS.",
        ),
        (
            d(json!({
                "data_inicial": "2030-11-29 10:00:00",
                "data_final": "2030-11-29 09:59:59",
            })),
            "data_final: não pode ser anterior a data_inicial.",
        ),
        (
            d(json!({"data_final": "2020-01-01 00:00:00"})),
            "data_final: não pode ser anterior a data_inicial.",
        ),
        (
            d(json!({"pops": [1, "x"]})),
            "pops: informe uma lista de números inteiros.",
        ),
        (
            d(json!({"pops": 1})),
            "pops: informe uma lista de números inteiros.",
        ),
        (
            d(json!({"pops": [{"id": 1}]})),
            "pops: informe uma lista de números inteiros.",
        ),
        (d(json!({"pops": [1, 99]})), "pops: POP 99 não existe."),
        (
            d(json!({"elementos": [1, 77]})),
            "elementos: elemento de rede 77 não existe.",
        ),
        (d(json!({"nas": [2, 3]})), "nas: NAS 3 não existe."),
        (
            d(json!({"pops": [1], "nas": [-1]})),
            "nas: NAS -1 não existe.",
        ),
    ];
    for (body, expected) in create_cases {
        let r = admin.post("manutencoes", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.body, json!({ "detail": expected }).to_string(), "{body}");
    }
    let update_cases: Vec<(Value, &str)> = vec![
        (json!({"descricao": ""}), "descricao: obrigatório."),
        (json!({"descricao": null}), "descricao: obrigatório."),
        (json!({"status": 5}), "status: use um número de 0 a 4."),
        (json!({"id": 7}), "id: campo somente leitura."),
        (json!({"criada_em": "x"}), "criada_em: campo desconhecido."),
        (
            json!({"data_final": "2030-04-01 07:59:59"}),
            "data_final: não pode ser anterior a data_inicial.",
        ),
        (
            json!({"data_inicial": "2030-04-01 10:00:01"}),
            "data_inicial: não pode ser posterior a data_final.",
        ),
        (
            json!({"descricao": "Nova", "pops": [1, 42]}),
            "pops: POP 42 não existe.",
        ),
        (
            json!({"elementos": ["a"]}),
            "elementos: informe uma lista de números inteiros.",
        ),
    ];
    for (body, expected) in update_cases {
        for method in [reqwest::Method::PATCH, reqwest::Method::PUT] {
            let r = admin.send(method.clone(), &path, Some(body.clone())).await;
            assert_eq!(r.status, 400, "{method} {body}: {}", r.body);
            assert_eq!(r.body, json!({ "detail": expected }).to_string(), "{body}");
        }
    }
    // A bad field is a 400 even for an id that does not exist (the body first).
    let r = admin
        .patch("manutencoes/999", json!({"severidade": 8}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(detail(&r), "severidade: use um número de 0 a 4.");

    // Bodies that are not JSON objects.
    for (body, expected) in [
        ("[1]", "O corpo deve ser um objeto JSON."),
        ("\"x\"", "O corpo deve ser um objeto JSON."),
    ] {
        for request in [
            app.client.post(admin.url("manutencoes")),
            app.client.patch(admin.url(&path)),
        ] {
            let r = app
                .send(
                    request
                        .bearer_auth(&admin.token)
                        .header("content-type", "application/json")
                        .body(body),
                )
                .await;
            assert_eq!(r.status, 400, "{body}");
            assert_eq!(detail(&r), expected);
        }
    }
    let r = app
        .send(
            app.client
                .post(admin.url("manutencoes"))
                .bearer_auth(&admin.token)
                .header("content-type", "application/json")
                .body("{nope"),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(detail(&r).starts_with("JSON inválido: "), "{}", r.body);

    assert_eq!(snapshot(&app).await, before, "nothing changed");
    // Moving both ends together is fine.
    let r = admin
        .patch(
            &path,
            json!({
                "data_inicial": "2030-04-02 08:00:00",
                "data_final": "2030-04-02 08:00:00",
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["data_final"], "2030-04-02 08:00:00");
    app.stop().await;
}

#[tokio::test]
async fn a_maintenance_created_here_drives_verificaacesso_until_resolved() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    // 6001 (POP 1, NAS 1, element 1) has no open session: "Serviço Offline".
    assert_eq!(access(&app, "6001").await, (2, "Serviço Offline".into()));
    let now = Utc::now();
    let v = admin
        .create(json!({
            "descricao": "Poste caído na Rua Desligada",
            "mensagem_ura": "Estamos trocando um poste na sua rua",
            "data_inicial": local(&app, now - TimeDelta::minutes(5)),
            "data_final": local(&app, now + TimeDelta::hours(2)),
            "pops": [1],
        }))
        .await;
    let id = v["id"].as_i64().unwrap();
    let path = format!("manutencoes/{id}");
    let r = app
        .call(
            "verificaacesso",
            &[("contrato", "6001"), ("uracontato", "84999990001")],
        )
        .await;
    assert_eq!(r.json["status"], 9, "{}", r.body);
    assert_eq!(r.json["msg"], "Estamos trocando um poste na sua rua");
    assert!(
        r.json["tempo"] == "2h" || r.json["tempo"] == "1h59m",
        "{}",
        r.body
    );
    assert!(admin.ids("ativas=true").await.contains(&id));
    // The URA's own list agrees.
    let r = app.call("manutencao/list", &[("ativas", "1")]).await;
    assert!(ids(&r.json).contains(&id), "{}", r.body);

    // Resolved: no longer in force.
    let r = admin.patch(&path, json!({"status": 4})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], 4);
    assert_eq!(access(&app, "6001").await, (2, "Serviço Offline".into()));
    assert!(!admin.ids("ativas=true").await.contains(&id));

    // Reopened (now through the NAS only): in force again, status 8.
    let r = admin
        .patch(&path, json!({"status": 2, "pops": [], "nas": [1]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(access(&app, "6001").await.0, 8);

    // Removed: gone.
    assert_eq!(admin.delete(&path).await.status, 204);
    assert_eq!(access(&app, "6001").await.0, 2);
    app.stop().await;
}
