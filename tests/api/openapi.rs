//! The OpenAPI document: every route the router serves is in it (routes read from the source
//! and from the URA path table), every path and method in it is served, every schema it
//! refers to is in it, and the documentation page works without the internet.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::*;

/// Route patterns written as string literals in `.route("...")` calls under src/.
fn routes_in_source() -> BTreeSet<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut sources = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut sources,
    );
    let mut routes = BTreeSet::new();
    for text in sources {
        let mut rest = text.as_str();
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + ".route(".len()..];
            let trimmed = rest.trim_start();
            if let Some(literal) = trimmed.strip_prefix('"') {
                let end = literal.find('"').unwrap();
                routes.insert(literal[..end].to_string());
            }
        }
    }
    routes
}

async fn document(app: &TestApp) -> serde_json::Value {
    let r = app.get(&app.url("/openapi.json")).await;
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("application/json"));
    r.json
}

#[tokio::test]
async fn every_route_the_router_serves_is_documented() {
    let app = spawn().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    // It reads back as an OpenAPI document.
    let _: utoipa::openapi::OpenApi = serde_json::from_value(doc.clone()).expect("valid document");
    let paths: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();

    let mut expected = BTreeSet::new();
    for route in routes_in_source() {
        if route.contains("{recurso}") {
            for r in ura::store::resources::ALL {
                expected.insert(route.replace("{recurso}", r.path));
            }
        } else {
            expected.insert(route);
        }
    }
    for (_, path, _) in ura::http::openapi::ura_paths() {
        expected.insert(format!("{path}/"));
        expected.insert(path);
    }
    assert!(expected.len() > 60, "{expected:?}");
    let missing: Vec<&String> = expected.iter().filter(|p| !paths.contains(*p)).collect();
    assert!(
        missing.is_empty(),
        "routes not in openapi.json: {missing:?}"
    );
    // Nothing documented that the router does not serve either (with or without the slash).
    let extra: Vec<&String> = paths
        .iter()
        .filter(|p| !expected.contains(*p) && !expected.contains(p.trim_end_matches('/')))
        .collect();
    assert!(extra.is_empty(), "paths not served: {extra:?}");
    // The URA functions carry their parameters.
    let post = &doc["paths"]["/ws/ura/liberacaopromessa/"]["post"];
    let form = &post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
    assert!(form["properties"]["data_promessa"].is_object(), "{post}");
    assert_eq!(form["required"], serde_json::json!(["contrato"]));
    // ... and their answers, with the fields of each shape.
    let schemas = &doc["components"]["schemas"];
    for (path, schema) in [
        ("/api/ura/liberacaopromessa", "LiberacaoPromessa"),
        ("/ws/ura/consultacliente/", "ConsultaCliente"),
        ("/api/ura/titulos/", "Titulos"),
    ] {
        let ok = &doc["paths"][path]["post"]["responses"]["200"]["content"]["application/json"];
        assert_eq!(
            ok["schema"]["$ref"],
            format!("#/components/schemas/{schema}"),
            "{path}"
        );
    }
    let summary = &schemas["ContractSummary"]["properties"];
    assert_eq!(
        summary["contratoValorAberto"]["$ref"],
        "#/components/schemas/Reais"
    );
    assert_eq!(
        summary["popId"]["type"],
        serde_json::json!(["integer", "null"])
    );
    let error = &doc["paths"]["/ws/ura/chamado"]["get"]["responses"]["403"]["content"];
    assert_eq!(
        error["application/json"]["schema"]["$ref"],
        "#/components/schemas/Erro"
    );
    assert_eq!(schemas["Erro"]["required"], serde_json::json!(["detail"]));
    // Every reference resolves.
    fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(|r| r.as_str()) {
                    out.push(r.to_string());
                }
                map.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(list) => list.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 100, "{}", all.len());
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").expect("a schema");
        assert!(schemas[name].is_object(), "{r} is not in the document");
    }
    // Admin schemas come from the resource descriptions; secrets are write-only.
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["servicos_escrita"]["properties"]["senha"].is_object());
    assert!(schemas["servicos"]["properties"].get("senha").is_none());
    assert_eq!(
        schemas["faturas"]["properties"]["status"]["enum"],
        serde_json::json!(["aberto", "pago", "cancelado"])
    );
    app.stop().await;
}

#[tokio::test]
async fn every_documented_path_is_served() {
    let app = spawn_with(|s| s.base_path = "/provedorx".into()).await;
    let doc = document(&app).await;
    assert_eq!(doc["servers"][0]["url"], "/provedorx");
    // A real signed link to an invoice's PDF (a wrong one is a 404 like no route).
    let second_copy = app.call("fatura2via", &[("contrato", "1001")]).await;
    let link = second_copy.json["link"]
        .as_str()
        .expect("a PDF link")
        .to_string();
    let pdf_path = link[link.find("/fatura/").unwrap()..].to_string();
    // Every documented method; removals last, so that they remove nothing another call
    // still needs.
    let mut calls = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                calls.push((method, path.clone()));
            }
        }
    }
    calls.sort_by_key(|(method, _)| *method == "delete");
    // What a route without the method answers: axum's bare 405 (the check below can fail).
    let r = app.send(app.client.put(app.url("/healthz"))).await;
    assert!(
        r.status == 405 && r.body.is_empty(),
        "{} {}",
        r.status,
        r.body
    );
    for (method, path) in &calls {
        let concrete = if path == "/fatura/{id}/{token}" {
            pdf_path.clone()
        } else {
            path.replace("{fatura}", "10011")
                .replace("{id}", "1")
                .replace("{acao}", "pagar")
        };
        let url = app.url(&concrete);
        let request = match *method {
            "get" => app.client.get(url),
            "post" => app.client.post(url).form(&[("x", "1")]),
            "put" => app.client.put(url).json(&serde_json::json!({})),
            "patch" => app.client.patch(url).json(&serde_json::json!({})),
            _ => app.client.delete(url),
        };
        let r = app.send(request).await;
        // The router's own 404 (no route) answers exactly this; a route that is there may
        // still answer 404 for a record it does not have.
        assert!(
            !(r.status == 404 && r.body == r#"{"detail":"Não encontrado."}"#),
            "{method} {path} is documented but not served"
        );
        assert!(
            !(r.status == 405 && r.body.is_empty()),
            "{method} {path} is documented but the route does not take it"
        );
    }
    let calls = calls.len();
    assert!(calls > 150, "{calls}");
    app.stop().await;
}

#[tokio::test]
async fn the_documentation_page_needs_nothing_from_the_internet() {
    let app = spawn().await;
    let r = app.get(&app.url("/docs/")).await;
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("text/html"));
    assert!(r.body.contains("docs.js") && r.body.contains("openapi.json"));
    assert!(
        !r.body.contains("http://") && !r.body.contains("https://"),
        "no CDN"
    );
    let js = app.get(&app.url("/docs/docs.js")).await;
    assert_eq!(js.status, 200);
    assert!(!js.body.contains("http://") && !js.body.contains("https://"));
    assert!(
        !js.body.contains("innerHTML"),
        "text only, never markup from the document"
    );
    assert_eq!(app.get(&app.url("/docs")).await.status, 308);
    app.stop().await;
}
