//! The catalogs (CONTRACT.md §3): `api/os/ocorrencia/tipo/list/`, `api/ura/motivoos/list/`,
//! `api/ura/setor/list/`; inactive entries are listed with `"ativo":false`.

use crate::common::*;
use crate::process::run;

use serde_json::json;

const TIPOS: &str = "/api/os/ocorrencia/tipo/list/";
const MOTIVOS: &str = "/api/ura/motivoos/list/";
const SETORES: &str = "/api/ura/setor/list/";

const SETORES_BODY: &str = r#"[{"id":1,"descricao":"Suporte","ativo":true},{"id":2,"descricao":"Financeiro","ativo":true},{"id":3,"descricao":"Comercial","ativo":true}]"#;

async fn list(app: &TestApp, path: &str) -> Resp {
    let r = app
        .post_form(&app.url(path), &[("app", APP), ("token", &app.token)])
        .await;
    assert_eq!(r.content_type, "application/json", "{path}: {}", r.body);
    r
}

#[tokio::test]
async fn ticket_types_exact_answer() {
    let app = spawn().await;
    let r = list(&app, TIPOS).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let entry = |id: i64, d: &str| json!({"id": id, "descricao": d, "ativo": true});
    assert_eq!(
        r.json,
        json!([
            entry(1, "Suporte - Sem Acesso"),
            entry(2, "Suporte - Alterar MAC Placa de Rede"),
            entry(3, "Suporte - Acesso Lento"),
            entry(4, "Suporte - Problemas com páginas"),
            entry(5, "Suporte - Outros"),
            entry(20, "Financeiro - Alteração de Valor"),
            entry(21, "Financeiro - Bloqueio"),
            entry(22, "Financeiro - Reclamação Fatura"),
            entry(23, "Financeiro - Mudança de Plano"),
            entry(24, "Financeiro - Cancelamento Cobrança"),
            entry(25, "Financeiro - Cancelamento Serviço"),
            entry(26, "Financeiro - Outros"),
            entry(27, "Financeiro - Cancelamento Contrato"),
            entry(28, "Financeiro - Ativação de Contrato"),
            entry(29, "Cobrança - Título em atraso"),
            entry(30, "Cobrança - Lembrança de Pagamento"),
        ])
    );
    assert!(
        r.body
            .starts_with(r#"[{"id":1,"descricao":"Suporte - Sem Acesso","ativo":true},"#),
        "compact: {}",
        r.body
    );
    assert!(r.body.contains("páginas"), "raw UTF-8: {}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn work_order_reasons_and_sectors_exact_answers() {
    let app = spawn().await;
    let r = list(&app, MOTIVOS).await;
    assert_eq!(
        r.body,
        r#"[{"id":10,"descricao":"Instalação de KIT","ativo":true},{"id":20,"descricao":"Remoção de KIT","ativo":true},{"id":30,"descricao":"Preventiva","ativo":true},{"id":40,"descricao":"Corretiva","ativo":true},{"id":50,"descricao":"Financeiro","ativo":true},{"id":60,"descricao":"Mudança Endereço","ativo":true}]"#
    );
    let r = list(&app, SETORES).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, SETORES_BODY);
    app.stop().await;
}

#[tokio::test]
async fn inactive_entries_are_listed_as_inactive_and_edits_show_at_once() {
    let app = spawn().await;
    app.exec("UPDATE ticket_types SET active = 0 WHERE id = 2")
        .await;
    app.exec("UPDATE work_order_reasons SET active = 0 WHERE id = 60")
        .await;
    app.exec("UPDATE sectors SET active = 0 WHERE id = 3").await;
    app.exec("INSERT INTO sectors (id, name) VALUES (4, 'Técnico de Campo')")
        .await;
    let r = list(&app, TIPOS).await;
    assert_eq!(
        r.json[1],
        json!({"id": 2, "descricao": "Suporte - Alterar MAC Placa de Rede", "ativo": false})
    );
    assert_eq!(r.json.as_array().map(Vec::len), Some(16));
    let r = list(&app, MOTIVOS).await;
    assert_eq!(
        r.json[5],
        json!({"id": 60, "descricao": "Mudança Endereço", "ativo": false})
    );
    let r = list(&app, SETORES).await;
    assert_eq!(
        r.json,
        json!([
            {"id": 1, "descricao": "Suporte", "ativo": true},
            {"id": 2, "descricao": "Financeiro", "ativo": true},
            {"id": 3, "descricao": "Comercial", "ativo": false},
            {"id": 4, "descricao": "Técnico de Campo", "ativo": true},
        ])
    );
    // What the list says inactive, `chamado` refuses.
    let r = app
        .call("chamado", &[("contrato", "1001"), ("ocorrenciatipo", "2")])
        .await;
    assert_eq!(r.json["status"], 0, "{}", r.body);
    assert_eq!(r.json["msg"], "Tipo de ocorrência inválido");
    app.stop().await;
}

#[tokio::test]
async fn every_path_method_body_kind_and_base_path() {
    let app = spawn_with(|s| s.base_path = "/provedorx".into()).await;
    let paths = [
        ("/api/os/ocorrencia/tipo/list", 16),
        ("/ws/os/ocorrencia/tipo/list", 16),
        ("/api/ura/motivoos/list", 6),
        ("/ws/ura/motivoos/list", 6),
        ("/api/ura/setor/list", 3),
        ("/ws/ura/setor/list", 3),
    ];
    for (path, n) in paths {
        for path in [path.to_string(), format!("{path}/")] {
            let url = app.url(&path);
            let form = app
                .post_form(&url, &[("app", APP), ("token", &app.token)])
                .await;
            assert_eq!(form.status, 200, "{path}: {}", form.body);
            assert_eq!(form.json.as_array().map(Vec::len), Some(n), "{path}");
            let get = app
                .get(&format!("{url}?app={APP}&token={}", app.token))
                .await;
            assert_eq!(get.body, form.body, "{path} GET");
            let json = app
                .post_json(&url, &json!({"app": APP, "token": app.token}))
                .await;
            assert_eq!(json.body, form.body, "{path} JSON");
            let multipart = reqwest::multipart::Form::new()
                .text("app", APP)
                .text("token", app.token.clone());
            let r = app.send(app.client.post(&url).multipart(multipart)).await;
            assert_eq!(r.body, form.body, "{path} multipart");
            let headers = app
                .send(
                    app.client
                        .post(&url)
                        .header("Authorization", format!("Token {}", app.token))
                        .header("App", APP),
                )
                .await;
            assert_eq!(headers.body, form.body, "{path} headers");
            let put = app
                .send(
                    app.client
                        .put(&url)
                        .header("Authorization", format!("Token {}", app.token))
                        .header("App", APP),
                )
                .await;
            assert_eq!(put.status, 405, "{path}");
            assert_eq!(put.body, r#"{"detail":"Método \"PUT\" não é permitido."}"#);
        }
    }
    // Not outside the base path, and no other catalog.
    let root = app.base.trim_end_matches("/provedorx").to_string();
    let r = app
        .post_form(
            &format!("{root}{SETORES}"),
            &[("app", APP), ("token", &app.token)],
        )
        .await;
    assert_eq!(r.status, 404);
    let r = app
        .post_form(
            &app.url("/api/ura/catalogos/"),
            &[("app", APP), ("token", &app.token)],
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body, r#"{"detail":"Não encontrado."}"#);
    app.stop().await;
}

#[tokio::test]
async fn credentials_and_permissions() {
    let app = spawn().await;
    for path in [TIPOS, MOTIVOS, SETORES] {
        let r = app.post_form(&app.url(path), &[]).await;
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(
            r.body,
            r#"{"detail":"As credenciais de autenticação não foram fornecidas."}"#
        );
        let r = app
            .post_form(&app.url(path), &[("app", APP), ("token", "errado")])
            .await;
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(
            r.body,
            r#"{"detail":"Credenciais de autenticação incorretas."}"#
        );
        let r = app
            .post_form(
                &app.url(path),
                &[("app", &APP.to_uppercase()), ("token", &app.token)],
            )
            .await;
        assert_eq!(r.status, 403, "{path}: the app's name in another case");
    }
    app.exec(&format!(
        "UPDATE apps SET allowed_functions = 'chamado,clientes' WHERE name = '{APP}'"
    ))
    .await;
    for path in [TIPOS, MOTIVOS, SETORES] {
        let r = list(&app, path).await;
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(
            r.body,
            r#"{"detail":"Você não tem permissão para executar essa ação."}"#
        );
    }
    app.exec(&format!(
        "UPDATE apps SET allowed_functions = 'chamado,catalogos' WHERE name = '{APP}'"
    ))
    .await;
    assert_eq!(list(&app, SETORES).await.body, SETORES_BODY);
    app.stop().await;
}

#[tokio::test]
async fn the_command_line_knows_the_new_function_names() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = format!("sqlite://{}", dir.join("c.db").display());
    let add = run(
        dir,
        &[
            "app",
            "add",
            "bot",
            "--allow",
            "clientes,manutencao,catalogos",
            "--database",
            &db,
        ],
    )
    .await;
    assert_eq!(add.code, Some(0), "{}", add.stderr);
    let list = run(dir, &["app", "list", "--database", &db]).await;
    assert!(
        list.stdout.contains("clientes,manutencao,catalogos"),
        "{}",
        list.stdout
    );
    let bad = run(
        dir,
        &["app", "allow", "bot", "manutencao/list", "--database", &db],
    )
    .await;
    assert_ne!(bad.code, Some(0), "routes are not function names");
    assert!(bad.stderr.contains("função desconhecida"), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("clientes, manutencao, catalogos"),
        "the names are listed: {}",
        bad.stderr
    );
}
