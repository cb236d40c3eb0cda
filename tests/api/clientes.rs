//! `clientes` (CONTRACT.md §3): customers by document, contract or a case- and
//! accent-insensitive prefix of the name, paginated, each with its contracts.

use crate::common::*;

use serde_json::{Value, json};
use ura::store::customers::{self, Filter};

const NOTHING: &str =
    r#"{"paginacao":{"offset":0,"limit":100,"parcial":0,"total":0},"clientes":[]}"#;
const MARIA: &str = r#"{"paginacao":{"offset":0,"limit":100,"parcial":1,"total":1},"clientes":[{"id":1,"nome":"MARIA DE TESTE SILVA","cpfcnpj":"529.982.247-25","contratos":[{"id":1001,"status":1,"statusDisplay":"Ativo"},{"id":1002,"status":4,"statusDisplay":"Suspenso"}]}]}"#;

async fn clientes(app: &TestApp, params: &[(&str, &str)]) -> Resp {
    let r = app.call("clientes", params).await;
    assert_eq!(r.content_type, "application/json", "{}", r.body);
    r
}

async fn ok(app: &TestApp, params: &[(&str, &str)]) -> Value {
    let r = clientes(app, params).await;
    assert_eq!(r.status, 200, "{params:?}: {}", r.body);
    r.json
}

fn ids(v: &Value) -> Vec<i64> {
    v["clientes"]
        .as_array()
        .unwrap_or_else(|| panic!("no clientes: {v}"))
        .iter()
        .map(|c| c["id"].as_i64().expect("id"))
        .collect()
}

fn names(v: &Value) -> Vec<String> {
    v["clientes"]
        .as_array()
        .unwrap_or_else(|| panic!("no clientes: {v}"))
        .iter()
        .map(|c| c["nome"].as_str().expect("nome").to_string())
        .collect()
}

/// Inserts a customer straight into the database, as an import or the operator's own SQL
/// would (the folded name is kept by the database); returns its id.
async fn add_customer(app: &TestApp, name: &str, document: &str) -> i64 {
    app.exec(&format!(
        "INSERT INTO customers (name, document, created_at) \
         VALUES ('{}', '{document}', '2026-01-01T00:00:00.000000Z')",
        name.replace('\'', "''")
    ))
    .await;
    app.scalar_i64("SELECT MAX(id) FROM customers").await
}

async fn customers_count(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT COUNT(*) FROM customers").await
}

#[tokio::test]
async fn by_document_exact_answer_whatever_the_punctuation() {
    let app = spawn().await;
    for doc in [
        "529.982.247-25",
        "52998224725",
        " 529 982 247 25 ",
        "CPF 52998224725",
    ] {
        let r = clientes(&app, &[("cpfcnpj", doc)]).await;
        assert_eq!(r.status, 200, "{doc}");
        assert_eq!(r.body, MARIA, "{doc}");
    }
    // An alphanumeric CNPJ, formatted in the answer.
    let v = ok(&app, &[("cpfcnpj", "12abc34501de35")]).await;
    assert_eq!(
        v,
        json!({
            "paginacao": {"offset": 0, "limit": 100, "parcial": 1, "total": 1},
            "clientes": [{
                "id": 2,
                "nome": "PROVEDOR EXEMPLO LTDA",
                "cpfcnpj": "12.ABC.345/01DE-35",
                "contratos": [{"id": 2001, "status": 1, "statusDisplay": "Ativo"}],
            }],
        })
    );
    app.stop().await;
}

#[tokio::test]
async fn by_contract_the_owner_with_all_its_contracts() {
    let app = spawn().await;
    let v = ok(&app, &[("contrato", "5001")]).await;
    assert_eq!(
        v,
        json!({
            "paginacao": {"offset": 0, "limit": 100, "parcial": 1, "total": 1},
            "clientes": [{
                "id": 3,
                "nome": "JOSE SEM CONTATO",
                "cpfcnpj": "111.444.777-35",
                "contratos": [
                    {"id": 3001, "status": 4, "statusDisplay": "Suspenso"},
                    {"id": 5001, "status": 1, "statusDisplay": "Ativo"},
                ],
            }],
        })
    );
    let v = ok(&app, &[("contrato", " 4001 ")]).await;
    assert_eq!(v["clientes"][0]["nome"], "EMPRESA ANTIGA LTDA");
    assert_eq!(
        v["clientes"][0]["contratos"],
        json!([{"id": 4001, "status": 3, "statusDisplay": "Cancelado"}])
    );
    // Both given: they must agree.
    let r = clientes(&app, &[("contrato", "1002"), ("cpfcnpj", "529.982.247-25")]).await;
    assert_eq!(r.body, MARIA);
    let r = clientes(&app, &[("contrato", "5001"), ("cpfcnpj", "529.982.247-25")]).await;
    assert_eq!(r.body, NOTHING);
    app.stop().await;
}

#[tokio::test]
async fn nothing_found_is_total_0_and_an_empty_list() {
    let app = spawn().await;
    for params in [
        vec![("cpfcnpj", "529.982.247-26")], // wrong check digit
        vec![("cpfcnpj", "123")],            // malformed
        vec![("cpfcnpj", "111.111.111-11")], // repeated digits
        vec![("cpfcnpj", "862.065.520-07")], // valid, nobody's
        vec![("contrato", "999999")],
        vec![("nome", "xyzw")],
        vec![("nome", "silva")], // a prefix, not a substring
    ] {
        let r = clientes(&app, &params).await;
        assert_eq!(r.status, 200, "{params:?}");
        assert_eq!(r.body, NOTHING, "{params:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn name_prefix_ignores_case_and_accents() {
    let app = spawn().await;
    let joao = add_customer(&app, "JOÃO DA SILVA", "86206552007").await;
    let joao_pedro = add_customer(&app, "João Pedro Araújo", "86206552007").await;
    let decomposed = add_customer(&app, "JOA\u{0303}O DECOMPOSTO", "86206552007").await;
    let joana = add_customer(&app, "JOANA D'ARC", "86206552007").await;
    let conceicao = add_customer(&app, "  Conceição Gonçalves", "86206552007").await;

    for query in ["joao", "JOAO", "João", "JOÃO", "  joão ", "Joa\u{0303}o"] {
        let v = ok(&app, &[("nome", query)]).await;
        assert_eq!(ids(&v), vec![joao, joao_pedro, decomposed], "{query:?}");
        assert_eq!(v["paginacao"]["total"], 3, "{query:?}");
    }
    let v = ok(&app, &[("nome", "joão p")]).await;
    assert_eq!(names(&v), vec!["João Pedro Araújo"]);
    let v = ok(&app, &[("nome", "jo")]).await;
    assert_eq!(
        ids(&v),
        vec![3, joao, joao_pedro, decomposed, joana],
        "JOSE SEM CONTATO too"
    );
    let v = ok(&app, &[("nome", "CONCEICAO GONC")]).await;
    assert_eq!(
        ids(&v),
        vec![conceicao],
        "leading spaces of a stored name are ignored"
    );
    // The whole answer for one of them: a customer without contracts has an empty list.
    let v = ok(&app, &[("nome", "joana")]).await;
    assert_eq!(
        v,
        json!({
            "paginacao": {"offset": 0, "limit": 100, "parcial": 1, "total": 1},
            "clientes": [{
                "id": joana,
                "nome": "JOANA D'ARC",
                "cpfcnpj": "862.065.520-07",
                "contratos": [],
            }],
        })
    );
    // With a document as well: both must hold.
    let v = ok(&app, &[("nome", "maria"), ("cpfcnpj", "52998224725")]).await;
    assert_eq!(ids(&v), vec![1]);
    let v = ok(&app, &[("nome", "joao"), ("cpfcnpj", "52998224725")]).await;
    assert_eq!(ids(&v), Vec::<i64>::new());
    app.stop().await;
}

#[tokio::test]
async fn every_accented_letter_folds_in_the_database_as_in_the_query() {
    let app = spawn().await;
    let upper = add_customer(&app, "ÀÁÂÃÄÅ ÈÉÊË ÌÍÎÏ ÒÓÔÕÖ ÙÚÛÜ Ç Ñ Ý Z", "86206552007").await;
    let lower = add_customer(&app, "àáâãäå èéêë ìíîï òóôõö ùúûü ç ñ ýÿ y", "86206552007").await;
    let v = ok(&app, &[("nome", "aaaaaa eeee iiii ooooo uuuu c n y")]).await;
    assert_eq!(ids(&v), vec![upper, lower]);
    let v = ok(&app, &[("nome", "aaaaaa eeee iiii ooooo uuuu c n yy")]).await;
    assert_eq!(ids(&v), vec![lower]);
    let v = ok(&app, &[("nome", "ÃÀÁÂÄÅ ÊÈÉË")]).await;
    assert_eq!(ids(&v), vec![upper, lower]);
    app.stop().await;
}

#[tokio::test]
async fn a_renamed_customer_is_found_by_the_new_name_only() {
    let app = spawn().await;
    app.exec("UPDATE customers SET name = 'ÂNGELA RENOMEADA' WHERE id = 5")
        .await;
    let v = ok(&app, &[("nome", "angela")]).await;
    assert_eq!(ids(&v), vec![5]);
    assert_eq!(names(&v), vec!["ÂNGELA RENOMEADA"]);
    let v = ok(&app, &[("nome", "ana off")]).await;
    assert_eq!(ids(&v), Vec::<i64>::new());
    app.stop().await;
}

#[tokio::test]
async fn paging_offset_limit_and_total() {
    let app = spawn().await;
    let mut made = Vec::new();
    for i in 1..=7 {
        made.push(add_customer(&app, &format!("PÁGINA {i:02}"), "86206552007").await);
    }
    let v = ok(&app, &[("nome", "pagina"), ("limit", "3")]).await;
    assert_eq!(
        v["paginacao"],
        json!({"offset": 0, "limit": 3, "parcial": 3, "total": 7})
    );
    assert_eq!(ids(&v), made[0..3].to_vec());
    let v = ok(&app, &[("nome", "pagina"), ("limit", "3"), ("offset", "3")]).await;
    assert_eq!(ids(&v), made[3..6].to_vec());
    let v = ok(&app, &[("nome", "pagina"), ("limit", "3"), ("offset", "6")]).await;
    assert_eq!(
        v["paginacao"],
        json!({"offset": 6, "limit": 3, "parcial": 1, "total": 7})
    );
    assert_eq!(ids(&v), made[6..].to_vec());
    let r = clientes(&app, &[("nome", "pagina"), ("offset", "50")]).await;
    assert_eq!(
        r.body,
        r#"{"paginacao":{"offset":50,"limit":100,"parcial":0,"total":7},"clientes":[]}"#
    );
    // At most 250.
    let v = ok(&app, &[("nome", "pagina"), ("limit", "1000")]).await;
    assert_eq!(
        v["paginacao"],
        json!({"offset": 0, "limit": 250, "parcial": 7, "total": 7})
    );
    // No criterion: every customer, by id.
    let v = ok(&app, &[]).await;
    let total = customers_count(&app).await;
    assert_eq!(v["paginacao"]["total"], total);
    assert_eq!(ids(&v)[..5], [1, 2, 3, 4, 5]);
    app.stop().await;
}

#[tokio::test]
async fn bad_integers_are_400() {
    let app = spawn().await;
    for (params, detail) in [
        (
            vec![("contrato", "abc")],
            r#"{"detail":"Parâmetro 'contrato' inválido: informe um número inteiro."}"#,
        ),
        (
            vec![("nome", "maria"), ("offset", "um")],
            r#"{"detail":"Parâmetro 'offset' inválido: informe um número inteiro."}"#,
        ),
        (
            vec![("nome", "maria"), ("offset", "-1")],
            r#"{"detail":"Parâmetro 'offset' inválido: informe um número inteiro."}"#,
        ),
        (
            vec![("nome", "maria"), ("limit", "0")],
            r#"{"detail":"Parâmetro 'limit' inválido: informe um número inteiro."}"#,
        ),
        (
            vec![("nome", "maria"), ("limit", "2.5")],
            r#"{"detail":"Parâmetro 'limit' inválido: informe um número inteiro."}"#,
        ),
    ] {
        let r = clientes(&app, &params).await;
        assert_eq!(r.status, 400, "{params:?}");
        assert_eq!(r.body, detail, "{params:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn every_path_method_and_body_kind() {
    let app = spawn_with(|s| s.base_path = "/provedorx".into()).await;
    for path in [
        "/ws/ura/clientes/",
        "/ws/ura/clientes",
        "/api/ura/clientes/",
        "/api/ura/clientes",
    ] {
        let url = app.url(path);
        let r = app
            .post_form(
                &url,
                &[
                    ("app", APP),
                    ("token", &app.token),
                    ("cpfcnpj", "52998224725"),
                ],
            )
            .await;
        assert_eq!(r.body, MARIA, "{path} form");
        let r = app
            .post_json(
                &url,
                &json!({"app": APP, "token": app.token, "contrato": 1001}),
            )
            .await;
        assert_eq!(r.body, MARIA, "{path} json");
        let r = app
            .get(&format!(
                "{url}?app={APP}&token={}&nome=MARIA%20DE%20TESTE",
                app.token
            ))
            .await;
        assert_eq!(r.body, MARIA, "{path} get");
        let form = reqwest::multipart::Form::new()
            .text("app", APP)
            .text("token", app.token.clone())
            .text("nome", "maria");
        let r = app.send(app.client.post(&url).multipart(form)).await;
        assert_eq!(r.body, MARIA, "{path} multipart");
        let r = app
            .send(
                app.client
                    .post(&url)
                    .header("Authorization", format!("Token {}", app.token))
                    .header("App", APP)
                    .form(&[("cpfcnpj", "529.982.247-25")]),
            )
            .await;
        assert_eq!(r.body, MARIA, "{path} headers");
    }
    let r = app
        .post_form(
            &format!(
                "{}/ws/ura/clientes/",
                app.base.trim_end_matches("/provedorx")
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, 404, "only under the base path");
    app.stop().await;
}

#[tokio::test]
async fn credentials_and_permissions() {
    let app = spawn().await;
    let url = app.fn_url("clientes");
    let r = app.post_form(&url, &[("cpfcnpj", "52998224725")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        r#"{"detail":"As credenciais de autenticação não foram fornecidas."}"#
    );
    let r = app
        .post_form(
            &url,
            &[("app", APP), ("token", "errado"), ("contrato", "abc")],
        )
        .await;
    assert_eq!(r.status, 403, "credentials before parameters");
    assert_eq!(
        r.body,
        r#"{"detail":"Credenciais de autenticação incorretas."}"#
    );

    app.exec(&format!(
        "UPDATE apps SET allowed_functions = 'consultacliente,manutencao' WHERE name = '{APP}'"
    ))
    .await;
    let r = clientes(&app, &[("cpfcnpj", "52998224725")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        r#"{"detail":"Você não tem permissão para executar essa ação."}"#
    );
    app.exec(&format!(
        "UPDATE apps SET allowed_functions = 'consultacliente,clientes' WHERE name = '{APP}'"
    ))
    .await;
    let r = clientes(&app, &[("cpfcnpj", "52998224725")]).await;
    assert_eq!(r.body, MARIA);
    app.stop().await;
}

/// Many customers, so that the planner has a reason to choose an index.
async fn many_customers(app: &TestApp, n: u32) {
    app.exec(&format!(
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {n}) \
         INSERT INTO customers (name, document, created_at) \
         SELECT 'CLIENTE NUMERO ' || n, 'D' || n, '2026-01-01T00:00:00.000000Z' FROM g"
    ))
    .await;
    app.exec("ANALYZE").await;
}

#[tokio::test]
async fn searches_use_an_index_not_a_full_scan() {
    let app = spawn().await;
    many_customers(&app, 20_000).await;
    add_customer(&app, "JOÃO DO ÍNDICE", "86206552007").await;
    let filters = [
        (
            "document",
            Filter {
                document: Some("52998224725".into()),
                ..Filter::default()
            },
            "customers_document",
        ),
        (
            "contract",
            Filter {
                contract_id: Some(1001),
                ..Filter::default()
            },
            "",
        ),
        (
            "name",
            Filter {
                name_prefix: Some("João do".into()),
                ..Filter::default()
            },
            "customers_name_folded",
        ),
    ];
    for (what, filter, index) in filters {
        let plan = customers::explain_page(&app.store, &filter, 0, 100)
            .await
            .expect("explain")
            .join("\n");
        if app.is_postgres() {
            assert!(!plan.contains("Seq Scan on customers"), "{what}:\n{plan}");
        } else {
            assert!(
                !plan.lines().any(|l| l.trim_start().starts_with("SCAN cu")),
                "{what}:\n{plan}"
            );
        }
        assert!(plan.contains(index), "{what}: {index} in\n{plan}");
    }
    let v = ok(&app, &[("nome", "joao do indice")]).await;
    assert_eq!(names(&v), vec!["JOÃO DO ÍNDICE"]);
    let v = ok(&app, &[("nome", "cliente numero 1999"), ("limit", "2")]).await;
    assert_eq!(
        v["paginacao"],
        json!({"offset": 0, "limit": 2, "parcial": 2, "total": 11}),
        "1999 and 19990..19999"
    );
    app.stop().await;
}
