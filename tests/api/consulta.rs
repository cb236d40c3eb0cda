use serde_json::Value;

use crate::common::*;

const NONE_FOUND: &str = r#"{"contratos":[]}"#;

/// The body is exactly `expected` as JSON (field order free, no extra field) and as compact
/// as `expected` is (same length: no added whitespace).
fn assert_json_body(r: &Resp, expected: &str) {
    let want: Value = serde_json::from_str(expected).expect("expected JSON");
    assert_eq!(r.json, want, "body: {}", r.body);
    assert_eq!(r.body.len(), expected.len(), "body: {}", r.body);
}

fn ids(r: &Resp) -> Vec<i64> {
    r.json["contratos"]
        .as_array()
        .unwrap_or_else(|| panic!("no contratos array: {}", r.body))
        .iter()
        .map(|c| c["contratoId"].as_i64().expect("contratoId integer"))
        .collect()
}

/// The one contract of an answer by `contrato`.
async fn one(app: &TestApp, contrato: &str) -> Value {
    let r = app.call("consultacliente", &[("contrato", contrato)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["msg"], "Contrato(s) Localizado(s)");
    let list = r.json["contratos"].as_array().expect("contratos");
    assert_eq!(list.len(), 1, "{}", r.body);
    list[0].clone()
}

const MARIA_1001: &str = r#"{"contratoId":1001,"razaoSocial":"MARIA DE TESTE SILVA","cpfCnpj":"529.982.247-25","contratoStatus":1,"contratoStatusDisplay":" Ativo","contratoStatusModo":1,"contratoValorAberto":129.9,"promessasPagamentoMes":0,"contratoTitulosAReceber":1,"clienteId":1,"servico_login":"maria.silva","servico_plano":"FIBRA 600M","popId":1,"popNome":"POP Centro","cobVencimento":10}"#;
const MARIA_1002: &str = r#"{"contratoId":1002,"razaoSocial":"MARIA DE TESTE SILVA","cpfCnpj":"529.982.247-25","contratoStatus":4,"contratoStatusDisplay":" Suspenso","contratoStatusModo":1,"contratoValorAberto":149.8,"promessasPagamentoMes":0,"contratoTitulosAReceber":2,"clienteId":1,"servico_login":"maria.silva2","servico_plano":"FIBRA 300M","popId":1,"popNome":"POP Centro","cobVencimento":15}"#;

#[tokio::test]
async fn by_cpf_whole_body_is_exact() {
    let app = spawn().await;
    let r = app
        .call("consultacliente", &[("cpfcnpj", "529.982.247-25")])
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/json");
    let expected =
        format!(r#"{{"msg":"Contrato(s) Localizado(s)","contratos":[{MARIA_1001},{MARIA_1002}]}}"#);
    assert_json_body(&r, &expected);
    app.stop().await;
}

#[tokio::test]
async fn by_contrato_whole_body_is_exact() {
    let app = spawn().await;
    let r = app.call("consultacliente", &[("contrato", "1002")]).await;
    assert_eq!(r.status, 200);
    let expected = format!(r#"{{"msg":"Contrato(s) Localizado(s)","contratos":[{MARIA_1002}]}}"#);
    assert_json_body(&r, &expected);
    app.stop().await;
}

#[tokio::test]
async fn cpf_in_every_spelling_finds_the_same_customer() {
    let app = spawn().await;
    let reference = app
        .call("consultacliente", &[("cpfcnpj", "529.982.247-25")])
        .await;
    assert_eq!(ids(&reference), vec![1001, 1002]);
    for spelling in [
        "52998224725",
        " 529 982 247 25 ",
        "CPF 52998224725",
        "529.982.247/25",
    ] {
        let r = app.call("consultacliente", &[("cpfcnpj", spelling)]).await;
        assert_eq!(r.status, 200, "{spelling:?}: {}", r.body);
        assert_eq!(r.body, reference.body, "{spelling:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn alphanumeric_cnpj_in_every_spelling_is_found_and_formatted() {
    let app = spawn().await;
    for spelling in [
        "12.ABC.345/01DE-35",
        "12abc34501de35",
        "12ABC34501DE35",
        " 12.abc.345/01de-35 ",
    ] {
        let r = app.call("consultacliente", &[("cpfcnpj", spelling)]).await;
        assert_eq!(r.status, 200, "{spelling:?}: {}", r.body);
        assert_eq!(ids(&r), vec![2001], "{spelling:?}: {}", r.body);
        let c = &r.json["contratos"][0];
        assert_eq!(c["cpfCnpj"], "12.ABC.345/01DE-35");
        assert_eq!(c["razaoSocial"], "PROVEDOR EXEMPLO LTDA");
    }
    app.stop().await;
}

#[tokio::test]
async fn numeric_cnpj_is_found_and_formatted() {
    let app = spawn().await;
    let r = app
        .call("consultacliente", &[("cpfcnpj", "11222333000181")])
        .await;
    assert_eq!(ids(&r), vec![4001], "{}", r.body);
    assert_eq!(r.json["contratos"][0]["cpfCnpj"], "11.222.333/0001-81");
    app.stop().await;
}

#[tokio::test]
async fn by_contrato_answers_exactly_that_contract() {
    let app = spawn().await;
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(ids(&r), vec![1001]);
    app.stop().await;
}

#[tokio::test]
async fn both_given_and_matching_answers_the_contract() {
    let app = spawn().await;
    let r = app
        .call(
            "consultacliente",
            &[("contrato", "1002"), ("cpfcnpj", "529.982.247-25")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(ids(&r), vec![1002]);
    let r = app
        .call(
            "consultacliente",
            &[("contrato", "2001"), ("cpfcnpj", "12abc34501de35")],
        )
        .await;
    assert_eq!(ids(&r), vec![2001]);
    app.stop().await;
}

#[tokio::test]
async fn both_given_not_matching_finds_nothing() {
    let app = spawn().await;
    for (contrato, doc) in [
        ("2001", "529.982.247-25"),
        ("1001", "12.ABC.345/01DE-35"),
        ("1001", "529.982.247-26"),
        ("1001", "abc"),
        ("999", "529.982.247-25"),
    ] {
        let r = app
            .call(
                "consultacliente",
                &[("contrato", contrato), ("cpfcnpj", doc)],
            )
            .await;
        assert_eq!(r.status, 200, "{contrato} {doc}");
        assert_eq!(r.body, NONE_FOUND, "{contrato} {doc}");
    }
    app.stop().await;
}

#[tokio::test]
async fn wrong_check_digits_malformed_and_unknown_documents_find_nothing() {
    let app = spawn().await;
    for doc in [
        "529.982.247-26",
        "529.982.247-52",
        "12.ABC.345/01DE-36",
        "12ABC34501DE53",
        "123",
        "abc",
        "5299822472",
        "529982247250",
        "00000000000",
        "123.456.789-09",
        "11.444.777/0001-61",
        "-",
    ] {
        let r = app.call("consultacliente", &[("cpfcnpj", doc)]).await;
        assert_eq!(r.status, 200, "{doc:?}: {}", r.body);
        assert_eq!(r.content_type, "application/json");
        assert_eq!(r.body, NONE_FOUND, "{doc:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn unknown_contract_finds_nothing() {
    let app = spawn().await;
    for contrato in ["999", "0", "-1", "9223372036854775807"] {
        let r = app.call("consultacliente", &[("contrato", contrato)]).await;
        assert_eq!(r.status, 200, "{contrato}: {}", r.body);
        assert_eq!(r.body, NONE_FOUND, "{contrato}");
    }
    app.stop().await;
}

#[tokio::test]
async fn neither_document_nor_contract_is_400() {
    let app = spawn().await;
    let expected = r#"{"detail":"Informe cpfcnpj ou contrato."}"#;
    let r = app.call("consultacliente", &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.content_type, "application/json");
    assert_eq!(r.body, expected);
    // Empty values are absent.
    let r = app
        .call("consultacliente", &[("cpfcnpj", ""), ("contrato", "")])
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body, expected);
    // Unknown parameters and wrong case do not count.
    let r = app
        .call(
            "consultacliente",
            &[("CPFCNPJ", "52998224725"), ("Contrato", "1001")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body, expected);
    app.stop().await;
}

#[tokio::test]
async fn suspended_contract_fields() {
    let app = spawn().await;
    let c = one(&app, "1002").await;
    assert_eq!(c["contratoId"], 1002);
    assert_eq!(c["razaoSocial"], "MARIA DE TESTE SILVA");
    assert_eq!(c["cpfCnpj"], "529.982.247-25");
    assert_eq!(c["contratoStatus"], 4);
    assert_eq!(c["contratoStatusDisplay"], " Suspenso");
    assert_eq!(c["contratoStatusModo"], 1);
    assert!(c["contratoValorAberto"].is_number());
    assert_eq!(c["contratoValorAberto"].as_f64(), Some(149.8));
    assert_eq!(c["promessasPagamentoMes"], 0);
    assert_eq!(c["contratoTitulosAReceber"], 2);
    assert_eq!(c["clienteId"], 1);
    assert_eq!(c["servico_login"], "maria.silva2");
    assert_eq!(c["servico_plano"], "FIBRA 300M");
    assert_eq!(c["popId"], 1);
    assert_eq!(c["popNome"], "POP Centro");
    assert_eq!(c["cobVencimento"], 15);
    app.stop().await;
}

#[tokio::test]
async fn company_contract_fields() {
    let app = spawn().await;
    let c = one(&app, "2001").await;
    assert_eq!(c["razaoSocial"], "PROVEDOR EXEMPLO LTDA");
    assert_eq!(c["cpfCnpj"], "12.ABC.345/01DE-35");
    assert_eq!(c["contratoStatus"], 1);
    assert_eq!(c["contratoStatusDisplay"], " Ativo");
    assert_eq!(c["contratoValorAberto"], 499);
    assert_eq!(c["contratoTitulosAReceber"], 1);
    assert_eq!(c["clienteId"], 2);
    assert_eq!(c["servico_login"], "provedor.exemplo");
    assert_eq!(c["servico_plano"], "EMPRESA 1G");
    assert_eq!(c["popId"], 2);
    assert_eq!(c["popNome"], "POP Zona Norte");
    assert_eq!(c["cobVencimento"], 5);
    app.stop().await;
}

#[tokio::test]
async fn revoked_promise_still_counts_this_month() {
    let app = spawn().await;
    let c = one(&app, "3001").await;
    assert_eq!(c["promessasPagamentoMes"], 1);
    assert_eq!(c["contratoStatus"], 4);
    assert_eq!(c["contratoStatusDisplay"], " Suspenso");
    assert_eq!(c["contratoValorAberto"].as_f64(), Some(79.9));
    assert_eq!(c["contratoTitulosAReceber"], 1);
    // The same customer's other contract has none.
    let c = one(&app, "5001").await;
    assert_eq!(c["promessasPagamentoMes"], 0);
    app.stop().await;
}

#[tokio::test]
async fn promise_of_another_month_does_not_count() {
    let app = spawn().await;
    app.exec("UPDATE promises SET local_month = '2000-01', created_at = '2000-01-15T12:00:00Z' WHERE contract_id = 3001")
        .await;
    let c = one(&app, "3001").await;
    assert_eq!(c["promessasPagamentoMes"], 0);
    app.stop().await;
}

#[tokio::test]
async fn cancelled_contract_counts_no_cancelled_or_paid_invoice() {
    let app = spawn().await;
    let c = one(&app, "4001").await;
    assert_eq!(c["contratoStatus"], 3);
    assert_eq!(c["contratoStatusDisplay"], " Cancelado");
    assert_eq!(c["contratoValorAberto"], 0);
    assert!(c["contratoValorAberto"].is_u64(), "{c}");
    assert_eq!(c["contratoTitulosAReceber"], 0);
    // 6001 has only a paid invoice.
    let c = one(&app, "6001").await;
    assert_eq!(c["contratoValorAberto"], 0);
    assert_eq!(c["contratoTitulosAReceber"], 0);
    app.stop().await;
}

#[tokio::test]
async fn every_status_has_its_display_with_one_leading_space() {
    let app = spawn().await;
    for (status, display) in [
        (1, " Ativo"),
        (2, " Inativo"),
        (3, " Cancelado"),
        (4, " Suspenso"),
        (5, " Inviabilidade Técnica"),
        (6, " Novo"),
        (7, " Ativo V. Reduzida"),
    ] {
        app.exec(&format!(
            "UPDATE contracts SET status = {status}, status_mode = 2 WHERE id = 6001"
        ))
        .await;
        let c = one(&app, "6001").await;
        assert_eq!(c["contratoStatus"], status);
        assert_eq!(c["contratoStatusDisplay"], display);
        assert_eq!(c["contratoStatusModo"], 2);
    }
    app.stop().await;
}

#[tokio::test]
async fn contract_without_pop_has_null_pop() {
    let app = spawn().await;
    app.exec("UPDATE contracts SET pop_id = NULL WHERE id = 6001")
        .await;
    let r = app.call("consultacliente", &[("contrato", "6001")]).await;
    assert_eq!(r.status, 200);
    let c = &r.json["contratos"][0];
    assert!(c.get("popId").is_some_and(Value::is_null), "{}", r.body);
    assert!(c.get("popNome").is_some_and(Value::is_null), "{}", r.body);
    assert!(r.body.contains(r#""popId":null"#), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn contract_without_service_has_empty_login_and_plan() {
    let app = spawn().await;
    app.exec("DELETE FROM internet_services WHERE contract_id = 4001")
        .await;
    let c = one(&app, "4001").await;
    assert_eq!(c["servico_login"], "");
    assert_eq!(c["servico_plano"], "");
    app.stop().await;
}

#[tokio::test]
async fn first_internet_service_is_the_lowest_id() {
    let app = spawn().await;
    app.exec(
        "INSERT INTO internet_services (id, contract_id, login, password, plan_id, nas_id, \
         element_id, enabled) VALUES (99, 6001, 'ana.segunda', 'x', 1, 1, 1, 1)",
    )
    .await;
    let c = one(&app, "6001").await;
    assert_eq!(c["servico_login"], "ana.segunda");
    assert_eq!(c["servico_plano"], "FIBRA 300M");
    app.stop().await;
}

#[tokio::test]
async fn contracts_are_ordered_by_id() {
    let app = spawn().await;
    let r = app
        .call("consultacliente", &[("cpfcnpj", "111.444.777-35")])
        .await;
    assert_eq!(ids(&r), vec![3001, 5001]);
    // A contract created later with a lower id still comes first.
    app.exec(
        "INSERT INTO contracts (id, customer_id, status, status_mode, pop_id, due_day, created_at) \
         VALUES (900, 3, 1, 1, 1, 7, '2026-01-01T00:00:00Z')",
    )
    .await;
    let r = app
        .call("consultacliente", &[("cpfcnpj", "11144477735")])
        .await;
    assert_eq!(ids(&r), vec![900, 3001, 5001]);
    let c = &r.json["contratos"][0];
    assert_eq!(c["servico_login"], "");
    assert_eq!(c["contratoValorAberto"], 0);
    assert_eq!(c["cobVencimento"], 7);
    app.stop().await;
}

#[tokio::test]
async fn money_has_at_most_two_decimals_and_whole_values_are_integers() {
    let app = spawn().await;
    app.exec(
        "UPDATE invoices SET amount_cents = 70930 WHERE contract_id = 1001 AND status = 'open'",
    )
    .await;
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    assert!(
        r.body.contains(r#""contratoValorAberto":709.3,"#)
            || r.body.contains(r#""contratoValorAberto":709.3}"#),
        "{}",
        r.body
    );
    assert_eq!(
        r.json["contratos"][0]["contratoValorAberto"].as_f64(),
        Some(709.3)
    );

    app.exec(
        "UPDATE invoices SET amount_cents = 10000 WHERE contract_id = 1001 AND status = 'open'",
    )
    .await;
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    let v = &r.json["contratos"][0]["contratoValorAberto"];
    assert!(v.is_u64(), "{}", r.body);
    assert_eq!(v, 100);
    assert!(
        r.body.contains(r#""contratoValorAberto":100"#),
        "{}",
        r.body
    );
    assert!(!r.body.contains("100.0"), "{}", r.body);

    app.exec(
        "UPDATE invoices SET amount_cents = 123456 WHERE contract_id = 1001 AND status = 'open'",
    )
    .await;
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    assert!(
        r.body.contains(r#""contratoValorAberto":1234.56"#),
        "{}",
        r.body
    );

    app.exec("UPDATE invoices SET amount_cents = 1 WHERE contract_id = 1001 AND status = 'open'")
        .await;
    let r = app.call("consultacliente", &[("contrato", "1001")]).await;
    assert!(
        r.body.contains(r#""contratoValorAberto":0.01"#),
        "{}",
        r.body
    );

    // Two invoices whose float sum would not be exact: 0.1 + 0.2.
    app.exec(
        "UPDATE invoices SET amount_cents = 10 WHERE contract_id = 1002 AND amount_cents = 4990",
    )
    .await;
    app.exec(
        "UPDATE invoices SET amount_cents = 20 WHERE contract_id = 1002 AND amount_cents = 9990",
    )
    .await;
    let r = app.call("consultacliente", &[("contrato", "1002")]).await;
    assert!(
        r.body.contains(r#""contratoValorAberto":0.3,"#),
        "{}",
        r.body
    );
    app.stop().await;
}

#[tokio::test]
async fn paying_or_cancelling_an_invoice_changes_the_open_amount() {
    let app = spawn().await;
    app.exec("UPDATE invoices SET status = 'paid', paid_on = '2026-01-01', paid_cents = 4990 WHERE contract_id = 1002 AND amount_cents = 4990")
        .await;
    let c = one(&app, "1002").await;
    assert_eq!(c["contratoValorAberto"].as_f64(), Some(99.9));
    assert_eq!(c["contratoTitulosAReceber"], 1);
    app.exec(
        "UPDATE invoices SET status = 'cancelled', cancelled_on = '2026-01-01' WHERE contract_id = 1002 AND amount_cents = 9990",
    )
    .await;
    let c = one(&app, "1002").await;
    assert_eq!(c["contratoValorAberto"], 0);
    assert_eq!(c["contratoTitulosAReceber"], 0);
    app.stop().await;
}

#[tokio::test]
async fn every_contract_of_the_demo_is_found_by_its_document() {
    let app = spawn().await;
    for (doc, want) in [
        ("529.982.247-25", vec![1001, 1002]),
        ("12.ABC.345/01DE-35", vec![2001]),
        ("111.444.777-35", vec![3001, 5001]),
        ("11.222.333/0001-81", vec![4001]),
        ("390.533.447-05", vec![6001]),
    ] {
        let r = app.call("consultacliente", &[("cpfcnpj", doc)]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json["msg"], "Contrato(s) Localizado(s)", "{doc}");
        assert_eq!(ids(&r), want, "{doc}");
    }
    app.stop().await;
}

#[tokio::test]
async fn document_and_contract_answers_agree() {
    let app = spawn().await;
    let by_doc = app
        .call("consultacliente", &[("cpfcnpj", "52998224725")])
        .await;
    for (i, id) in ["1001", "1002"].iter().enumerate() {
        let c = one(&app, id).await;
        assert_eq!(c, by_doc.json["contratos"][i], "{id}");
    }
    app.stop().await;
}

#[tokio::test]
async fn by_document_sqlite_reads_the_customer_contracts_and_services_from_indexes_alone() {
    let app = spawn().await;
    let Some(plan) = ura::store::contracts::explain_summaries_by_document(&app.store)
        .await
        .unwrap()
    else {
        return; // PostgreSQL runs a query of its own (LATERAL).
    };
    for (table, index) in [
        ("cu", "customers_document"),
        ("c", "contracts_customer"),
        ("s", "internet_services_contract"),
    ] {
        let step = format!("SEARCH {table} USING COVERING INDEX {index} ");
        assert!(
            plan.iter().any(|line| line.starts_with(&step)),
            "{step}: {plan:#?}"
        );
    }
}
