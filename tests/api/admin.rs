//! The admin API over HTTP: the provider's data created, read, updated and listed, every bad
//! field named and nothing changed, FreeRADIUS following contracts, services and plans.

use crate::common::*;

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
        crate::common::scan::secret(&token);
        Admin { app, token }
    }

    fn url(&self, path: &str) -> String {
        self.app.url(&format!("/admin/api/v1/{path}"))
    }

    async fn get(&self, path: &str) -> Resp {
        self.app
            .send(self.app.client.get(self.url(path)).bearer_auth(&self.token))
            .await
    }

    async fn post(&self, path: &str, body: Value) -> Resp {
        self.app
            .send(
                self.app
                    .client
                    .post(self.url(path))
                    .bearer_auth(&self.token)
                    .json(&body),
            )
            .await
    }

    async fn patch(&self, path: &str, body: Value) -> Resp {
        self.app
            .send(
                self.app
                    .client
                    .patch(self.url(path))
                    .bearer_auth(&self.token)
                    .json(&body),
            )
            .await
    }
}

fn detail(r: &Resp) -> &str {
    r.json["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", r.body))
}

#[tokio::test]
async fn admin_routes_need_an_admin_token() {
    let app = spawn().await;
    for path in ["clientes", "contratos/1001", "faturas", "auditoria"] {
        let r = app.get(&app.url(&format!("/admin/api/v1/{path}"))).await;
        assert_eq!(r.status, 401, "{path}");
        let r = app
            .send(
                app.client
                    .get(app.url(&format!("/admin/api/v1/{path}")))
                    .bearer_auth(&app.token),
            )
            .await;
        assert_eq!(r.status, 401, "{path} with the URA app's token");
    }
    let r = app
        .send(
            app.client
                .post(app.url("/admin/api/v1/pops"))
                .json(&json!({"nome": "POP Sul"})),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM pops").await, 2);
    app.stop().await;
}

#[tokio::test]
async fn customers_with_contacts_are_created_read_listed_and_updated() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let r = admin
        .post(
            "clientes",
            json!({
                "id": 900,
                "nome": "JOSÉ DA SILVA",
                "cpfcnpj": "270.431.650-32",
                "data_nascimento": "1990-05-01",
                "contatos": [
                    {"tipo": "email", "valor": "jose@exemplo.com.br"},
                    {"tipo": "celular", "valor": "(84) 99999-0000"}
                ]
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json["id"], 900);
    assert_eq!(r.json["cpfcnpj"], "270.431.650-32");
    assert_eq!(
        r.json["contatos"][1],
        json!({"tipo": "celular", "valor": "84999990000"})
    );
    assert!(r.json["criado_em"].as_str().is_some());
    assert_eq!(
        app.scalar_str("SELECT document FROM customers WHERE id = 900")
            .await
            .as_deref(),
        Some("27043165032")
    );

    // Without an id, the database gives the next one.
    let r = admin
        .post(
            "clientes",
            json!({"nome": "ANA", "cpfcnpj": "11.222.333/0001-81"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.json["id"].as_i64().unwrap() > 900);

    let r = admin.get("clientes?cpfcnpj=27043165032").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["paginacao"]["total"], 1);
    assert_eq!(r.json["registros"][0]["nome"], "JOSÉ DA SILVA");

    let r = admin
        .patch(
            "clientes/900",
            json!({"nome": "JOSÉ DA SILVA SANTOS", "contatos": [{"tipo": "telefone", "valor": "8432210000"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["nome"], "JOSÉ DA SILVA SANTOS");
    assert_eq!(r.json["cpfcnpj"], "270.431.650-32", "untouched");
    assert_eq!(r.json["contatos"].as_array().unwrap().len(), 1);
    assert_eq!(
        admin.get("clientes/900").await.json["nome"],
        "JOSÉ DA SILVA SANTOS"
    );
    assert_eq!(admin.get("clientes/99999").await.status, 404);
    assert_eq!(admin.get("clientes/abc").await.status, 404);

    let r = admin.get("clientes?limit=2&offset=1").await;
    assert_eq!(r.json["paginacao"]["parcial"], 2);
    assert!(r.json["paginacao"]["total"].as_i64().unwrap() >= 4);
    app.stop().await;
}

#[tokio::test]
async fn every_bad_field_is_named_and_changes_nothing() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let customers = app.scalar_i64("SELECT COUNT(*) FROM customers").await;
    let contacts = app
        .scalar_i64("SELECT COUNT(*) FROM customer_contacts")
        .await;
    let good = json!({"nome": "X", "cpfcnpj": "111.444.777-35"});
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    for (body, expected) in [
        (
            with("cpfcnpj", json!("111.444.777-36")),
            "cpfcnpj: CPF ou CNPJ inválido",
        ),
        (json!({"nome": "X"}), "cpfcnpj: obrigatório."),
        (with("nome", json!("   ")), "nome: obrigatório."),
        (with("nome", json!(12)), "nome: informe um texto."),
        (
            with("nome", json!("x".repeat(201))),
            "nome: até 200 caracteres.",
        ),
        (
            with("data_nascimento", json!("01/05/1990")),
            "data_nascimento: use a data",
        ),
        (with("apelido", json!("Zé")), "apelido: campo desconhecido."),
        (
            with("criado_em", json!("2020-01-01")),
            "criado_em: campo somente leitura.",
        ),
        (with("id", json!(1)), "id: já existe cliente com o id 1."),
        (with("id", json!(-3)), "id: de 1 a"),
        (
            with("contatos", json!([{"tipo": "fax", "valor": "1"}])),
            "contatos[0].tipo: use email, celular ou telefone.",
        ),
        (
            with(
                "contatos",
                json!([{"tipo": "email", "valor": "a@b.com"}, {"tipo": "email", "valor": "sem-arroba"}]),
            ),
            "contatos[1].valor: e-mail inválido.",
        ),
        (
            with("contatos", json!([{"tipo": "celular", "valor": "123"}])),
            "contatos[0].valor: telefone inválido",
        ),
    ] {
        let r = admin.post("clientes", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(detail(&r).starts_with(expected), "{body}: {}", r.body);
    }
    let r = admin
        .app
        .send(
            app.client
                .post(admin.url("clientes"))
                .bearer_auth(&admin.token)
                .header("content-type", "application/json")
                .body("{nome"),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(detail(&r).starts_with("JSON inválido"));
    let r = admin.post("clientes", json!([1, 2])).await;
    assert_eq!(detail(&r), "O corpo deve ser um objeto JSON.");
    // An update with one bad field changes none of the good ones.
    let r = admin
        .patch("clientes/1", json!({"nome": "NOVO NOME", "cpfcnpj": "123"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        app.scalar_str("SELECT name FROM customers WHERE id = 1")
            .await
            .as_deref(),
        Some("MARIA DE TESTE SILVA")
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM customers").await,
        customers
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM customer_contacts")
            .await,
        contacts
    );

    // References must exist; filters must be filters.
    let r = admin
        .post("contratos", json!({"cliente_id": 424242, "status": 1}))
        .await;
    assert_eq!(detail(&r), "cliente_id: cliente 424242 não existe.");
    let r = admin
        .post("contratos", json!({"cliente_id": 1, "status": 9}))
        .await;
    assert_eq!(detail(&r), "status: de 1 a 7.");
    let r = admin.get("clientes?nome=x").await;
    assert_eq!(
        (r.status, detail(&r)),
        (400, "nome: não é um filtro desta lista.")
    );
    let r = admin.get("clientes?limit=0").await;
    assert_eq!(r.status, 400);
    assert_eq!(admin.get("inexistente").await.status, 404);
    let r = admin.post("chamados", json!({"conteudo": "x"})).await;
    assert_eq!((r.status, detail(&r)), (405, "chamados: somente leitura."));
    app.stop().await;
}

async fn groups_of(app: &TestApp, login: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT groupname FROM radusergroup WHERE username = $1 ORDER BY groupname")
        .bind(login)
        .fetch_all(app.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn contracts_services_and_plans_keep_freeradius_in_step() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let r = admin
        .post(
            "contratos",
            json!({"id": 7001, "cliente_id": 1, "status": 4, "pop_id": 1, "vencimento_dia": 15}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json["status_modo"], 1);
    let r = admin
        .post(
            "servicos",
            json!({"contrato_id": 7001, "login": "novo.cliente", "senha": "s3nh4-pppoe", "plano_id": 1}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let service = r.json["id"].as_i64().unwrap();
    assert!(r.json.get("senha").is_none(), "a password is never shown");
    assert!(!r.body.contains("s3nh4-pppoe"));
    assert_eq!(groups_of(&app, "novo.cliente").await, vec!["bloqueado"]);
    assert_eq!(
        app.scalar_str(
            "SELECT value FROM radcheck WHERE username = 'novo.cliente' \
             AND attribute = 'Cleartext-Password'"
        )
        .await
        .as_deref(),
        Some("s3nh4-pppoe")
    );

    // The operator lifts the suspension: the service joins its plan's group, the status is
    // now a manual one.
    let r = admin.patch("contratos/7001", json!({"status": 1})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status_modo"], 2);
    let plan_group = app
        .scalar_str("SELECT radius_group FROM plans WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(
        groups_of(&app, "novo.cliente").await,
        vec![plan_group.clone()]
    );

    // A login taken by another service is refused; a new login replaces the old rows.
    let r = admin
        .patch(
            &format!("servicos/{service}"),
            json!({"login": "maria.silva"}),
        )
        .await;
    assert_eq!(
        (r.status, detail(&r)),
        (400, "login: já em uso por outro serviço.")
    );
    let r = admin
        .patch(
            &format!("servicos/{service}"),
            json!({"login": "novo.login"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(groups_of(&app, "novo.cliente").await.is_empty());
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM radcheck WHERE username = 'novo.cliente'")
            .await,
        0
    );
    assert_eq!(
        groups_of(&app, "novo.login").await,
        vec![plan_group.clone()]
    );

    // A plan's speeds are its group's rate limit.
    let r = admin
        .patch(
            "planos/1",
            json!({"download_kbps": 700000, "upload_kbps": 350000}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.scalar_str(&format!(
            "SELECT value FROM radgroupreply WHERE groupname = '{plan_group}' \
             AND attribute = 'Mikrotik-Rate-Limit'"
        ))
        .await
        .as_deref(),
        Some("350M/700M")
    );
    let r = admin
        .post(
            "planos",
            json!({"nome": "FIBRA 1G", "download_kbps": 1000000, "upload_kbps": 500000, "preco": "199,90", "grupo_radius": "plano-1g"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json["preco"], 199.9);
    app.stop().await;
}

#[tokio::test]
async fn invoices_are_checked_and_can_be_paid_or_cancelled() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let base = json!({
        "contrato_id": 1001, "numero_documento": "55", "nosso_numero": "000055",
        "valor": 99.9, "emissao": "2026-11-01", "vencimento": "2026-12-10"
    });
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let before = app.scalar_i64("SELECT COUNT(*) FROM invoices").await;
    for (body, expected) in [
        (
            with("codigo_barras", json!("1234")),
            "codigo_barras: codigo_barras inválido",
        ),
        (
            with("codigo_pix", json!("000201lixo")),
            "codigo_pix: codigo_pix inválido",
        ),
        (with("valor", json!(-1)), "valor: informe um valor em reais"),
        (
            with("valor", json!(10.555)),
            "valor: informe um valor em reais",
        ),
        (
            with("status", json!("pago")),
            "status: campo somente leitura.",
        ),
    ] {
        let r = admin.post("faturas", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(detail(&r).starts_with(expected), "{body}: {}", r.body);
    }
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM invoices").await,
        before
    );

    // A stored invoice's codes are copied onto a new one, valid.
    let barcode = app
        .scalar_str("SELECT barcode FROM invoices WHERE id = 10012")
        .await
        .unwrap();
    let r = admin
        .post("faturas", with("codigo_barras", json!(barcode)))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json["id"].as_i64().unwrap();
    assert_eq!(r.json["status"], "aberto");
    assert_eq!(
        r.json["linha_digitavel"].as_str().unwrap().len(),
        47,
        "derived"
    );
    assert_eq!(r.json["valor"], 99.9);

    let r = admin
        .post(
            &format!("faturas/{id}/pagar"),
            json!({"data": "2026-11-20", "valor": "99,90"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], "pago");
    assert_eq!(r.json["data_pagamento"], "2026-11-20");
    assert_eq!(r.json["valor_pago"], 99.9);
    let r = admin
        .post(&format!("faturas/{id}/cancelar"), json!({}))
        .await;
    assert_eq!(
        (r.status, detail(&r)),
        (400, "status: a fatura já está paga.")
    );
    let r = admin
        .post("faturas/10012/cancelar", json!({"motivo": "x"}))
        .await;
    assert_eq!(detail(&r), "motivo: campo desconhecido.");
    let r = admin.post("faturas/10012/cancelar", json!({})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], "cancelado");
    // Gone from what the IVR offers.
    let r = app.call("fatura2via", &[("contrato", "1001")]).await;
    assert!(!r.body.contains("10012"), "{}", r.body);
    let r = admin.get("faturas?contrato_id=1001&status=cancelado").await;
    assert_eq!(r.json["paginacao"]["total"], 1);
    let r = admin.post("faturas/999999/pagar", json!({})).await;
    assert_eq!(r.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn invoices_carry_their_bank_and_a_unique_pix_txid() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let base = json!({
        "contrato_id": 1001, "numero_documento": "56", "nosso_numero": "109/00012345-6",
        "valor": 49.9, "emissao": "2026-11-01", "vencimento": "2026-12-10"
    });
    let with = |pairs: &[(&str, Value)]| {
        let mut body = base.clone();
        for (k, v) in pairs {
            body[*k] = v.clone();
        }
        body
    };
    let before = app.scalar_i64("SELECT COUNT(*) FROM invoices").await;
    // The demo's invoice 10012 holds the txid FAT10012 (read from its PIX code).
    assert_eq!(
        app.scalar_str("SELECT pix_txid FROM invoices WHERE id = 10012")
            .await
            .as_deref(),
        Some("FAT10012")
    );
    for (body, expected) in [
        (with(&[("banco", json!("34"))]), "banco: informe o código"),
        (with(&[("banco", json!("ITA"))]), "banco: informe o código"),
        (
            with(&[("convenio", json!("12 34"))]),
            "convenio: use apenas",
        ),
        (
            with(&[("pix_txid", json!("não-ascii"))]),
            "pix_txid: use de 1 a 35",
        ),
        (
            with(&[("pix_txid", json!("FAT10012"))]),
            "pix_txid: já usado pela fatura 10012.",
        ),
    ] {
        let r = admin.post("faturas", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(detail(&r).starts_with(expected), "{body}: {}", r.body);
    }
    // Another invoice's PIX code carries its txid along: refused the same way.
    let pix = app
        .scalar_str("SELECT pix_payload FROM invoices WHERE id = 10012")
        .await
        .unwrap();
    let r = admin
        .post("faturas", with(&[("codigo_pix", json!(pix))]))
        .await;
    assert_eq!(
        (r.status, detail(&r)),
        (400, "pix_txid: já usado pela fatura 10012.")
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM invoices").await,
        before
    );

    let r = admin
        .post(
            "faturas",
            with(&[
                ("banco", json!("341")),
                ("convenio", json!("12345")),
                ("pix_txid", json!("FATURA56")),
            ]),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json["id"].as_i64().unwrap();
    assert_eq!(
        (&r.json["banco"], &r.json["convenio"], &r.json["pix_txid"]),
        (&json!("341"), &json!("12345"), &json!("FATURA56"))
    );
    // The matching key is the server's: the slip's punctuation and leading zeros are gone.
    let key = app
        .scalar_str(&format!(
            "SELECT our_number_key FROM invoices WHERE id = {id}"
        ))
        .await
        .unwrap();
    assert!(!key.contains('/') && !key.starts_with('0'), "{key}");
    let r = admin.get("faturas?banco=341").await;
    assert_eq!(r.json["paginacao"]["total"], 1, "{}", r.body);
    let r = admin.get("faturas?pix_txid=FATURA56").await;
    assert_eq!(r.json["registros"][0]["id"], id, "{}", r.body);
    // The number changes, and its key follows.
    let r = admin
        .patch(&format!("faturas/{id}"), json!({"nosso_numero": "77"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.scalar_str(&format!(
            "SELECT our_number_key FROM invoices WHERE id = {id}"
        ))
        .await
        .as_deref(),
        Some("77")
    );
    app.stop().await;
}

#[tokio::test]
async fn tickets_promises_and_notifications_are_read() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let ticket = app
        .call(
            "chamado",
            &[
                ("contrato", "1001"),
                ("ocorrenciatipo", "1"),
                ("conteudo", "Sem sinal"),
            ],
        )
        .await;
    let protocol = ticket.json["protocolo"].as_str().unwrap().to_string();
    app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    app.call(
        "notificacaosistema",
        &[("contrato", "1001"), ("uraagente", "suporte")],
    )
    .await;

    let r = admin.get(&format!("chamados?protocolo={protocol}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["paginacao"]["total"], 1);
    assert_eq!(r.json["registros"][0]["conteudo"], "Sem sinal");
    assert_eq!(r.json["registros"][0]["origem"], "ura");
    let r = admin.get("promessas?contrato_id=1002&estado=active").await;
    assert_eq!(r.json["paginacao"]["total"], 1);
    let r = admin.get("notificacoes?fila=suporte").await;
    assert_eq!(r.json["paginacao"]["total"], 1);
    let id = r.json["registros"][0]["id"].as_i64().unwrap();
    assert_eq!(
        admin.get(&format!("notificacoes/{id}")).await.json["contrato_id"],
        1001
    );
    let r = admin
        .patch(&format!("notificacoes/{id}"), json!({"fila": "x"}))
        .await;
    assert_eq!(r.status, 405);
    app.stop().await;
}

#[tokio::test]
async fn catalogs_pops_elements_and_nas_are_managed() {
    let app = spawn().await;
    let admin = Admin::new(&app).await;
    let r = admin
        .post("pops", json!({"nome": "POP Sul", "cidade": "Parnamirim"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let pop = r.json["id"].as_i64().unwrap();
    let r = admin
        .post(
            "elementos",
            json!({"nome": "OLT Sul 1", "tipo": "olt", "pop_id": pop}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = admin
        .post(
            "nas",
            json!({"endereco": "10.0.0.9", "segredo": "s3gr3d0", "pop_id": pop, "verificacao": "status-server"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(!r.body.contains("s3gr3d0"));
    assert_eq!(r.json["verificacao"], "status-server");
    assert_eq!(r.json["porta_coa"], 3799);
    let r = admin
        .post(
            "nas",
            json!({"endereco": "10.0.0.9", "segredo": "x", "verificacao": "ping"}),
        )
        .await;
    assert!(detail(&r).starts_with("verificacao: use um de: coa, status-server"));
    let r = admin
        .post("setores", json!({"nome": "Cobrança", "ativo": false}))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json["ativo"], false);
    let r = admin.get("setores?ativo=false").await;
    assert_eq!(r.json["paginacao"]["total"], 1);
    let r = admin
        .patch("tipos-ocorrencia/1", json!({"ativo": false}))
        .await;
    assert_eq!(r.status, 200);
    // An inactive ticket type is refused by `chamado` at once.
    let r = app
        .call("chamado", &[("contrato", "1001"), ("ocorrenciatipo", "1")])
        .await;
    assert_eq!(r.json["status"], 0, "{}", r.body);
    app.stop().await;
}
