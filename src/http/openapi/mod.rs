//! The OpenAPI 3.1 document of every route (`{base}/openapi.json`) and the page that renders it
//! (`{base}/docs/`, nothing from the internet). The URA part is derived from `http::ura`'s
//! types (`ura.rs`); the admin, console and operation parts are built here from their tables.
//! May import `http::ura` and `store::resource(s)`; only the router imports this.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref,
    RefOr, Required, ResponseBuilder, Schema, ServerBuilder,
};

use super::state::UraState;
use crate::store::resource::{Field, Kind, Resource};
use crate::store::resources;

mod pix;
mod retornos;
mod ura;

pub use ura::ura_paths;

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn error_ref() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name("Erro"))
}

fn json_response(description: &str, schema: RefOr<Schema>) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .build()
}

fn any_object() -> RefOr<Schema> {
    RefOr::T(Schema::Object(ObjectBuilder::new().build()))
}

fn field_schema(f: &Field) -> ObjectBuilder {
    let b = match f.kind {
        Kind::Text { .. } | Kind::Secret { .. } => string(),
        Kind::Int { min, max } => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(min as f64))
            .maximum((max < i64::MAX).then_some(max as f64)),
        Kind::Ref { .. } => ObjectBuilder::new().schema_type(Type::Integer),
        Kind::Money => ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some("reais")),
        Kind::Date => string().description(Some("AAAA-MM-DD")),
        Kind::Bool => ObjectBuilder::new().schema_type(Type::Boolean),
        Kind::Enum(options) => string().enum_values(Some(options.iter().map(|(w, _)| *w))),
        Kind::Document => string().description(Some("CPF ou CNPJ")),
        Kind::Timestamp => string().description(Some("UTC, RFC 3339")),
    };
    match f.kind {
        Kind::Ref { label, .. } => b.description(Some(format!("id de {label}"))),
        Kind::Secret { .. } => b.description(Some("somente escrita: nunca é devolvido")),
        _ => b,
    }
}

/// A resource's row as read (secrets left out) and as written.
fn resource_schemas(r: &Resource) -> (Schema, Schema) {
    let mut read = ObjectBuilder::new();
    let mut write = ObjectBuilder::new();
    for f in r.fields {
        if !matches!(f.kind, Kind::Secret { .. }) {
            read = read.property(f.json, field_schema(f));
        }
        if f.writable || f.json == "id" {
            write = write.property(f.json, field_schema(f));
            if f.required {
                write = write.required(f.json);
            }
        }
    }
    if std::ptr::eq(r, &resources::CUSTOMERS) {
        let contacts = || {
            utoipa::openapi::schema::ArrayBuilder::new().items(
                ObjectBuilder::new()
                    .property(
                        "tipo",
                        string().enum_values(Some(["email", "celular", "telefone"])),
                    )
                    .property("valor", string()),
            )
        };
        read = read.property("contatos", contacts());
        write = write.property("contatos", contacts());
    }
    (Schema::Object(read.build()), Schema::Object(write.build()))
}

fn admin_op(summary: String, id: &str) -> OperationBuilder {
    OperationBuilder::new()
        .tag("Administração")
        .summary(Some(summary))
        .operation_id(Some(id.to_string()))
        .securities(Some([utoipa::openapi::security::SecurityRequirement::new(
            "admin",
            Vec::<String>::new(),
        )]))
        .response(
            "400",
            json_response("Campo inválido: a mensagem o nomeia", error_ref()),
        )
        .response(
            "401",
            json_response("Token de administração ausente ou inválido", error_ref()),
        )
}

fn path_id() -> ParameterBuilder {
    ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
}

fn query(name: &str, description: &str) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(string()))
}

fn page_of(schema_name: &str) -> RefOr<Schema> {
    RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .property("paginacao", Ref::from_schema_name("Paginacao"))
            .property(
                "registros",
                utoipa::openapi::schema::ArrayBuilder::new()
                    .items(Ref::from_schema_name(schema_name)),
            )
            .build(),
    ))
}

/// A maintenance, as the admin API and the URA's `manutencao/*` routes show it.
fn maintenance_schema() -> ObjectBuilder {
    let integer = || ObjectBuilder::new().schema_type(Type::Integer);
    let ids = || utoipa::openapi::schema::ArrayBuilder::new().items(integer());
    ObjectBuilder::new()
        .property("id", integer())
        .property("descricao", string())
        .property(
            "mensagem_ura",
            string().description(Some("o que a URA diz a quem liga")),
        )
        .property("severidade", integer().description(Some("0 a 4")))
        .property(
            "status",
            integer().description(Some("0 a 4 (4: resolvida)")),
        )
        .property(
            "data_inicial",
            string().description(Some("AAAA-MM-DD HH:MM:SS, hora local")),
        )
        .property(
            "data_final",
            string().description(Some("previsão de término; null: sem previsão")),
        )
        .property("pops", ids())
        .property("elementos", ids())
        .property("nas", ids())
        .required("descricao")
}

fn maintenance_paths() -> (PathItem, PathItem) {
    let schema = || -> RefOr<Schema> { Ref::from_schema_name("manutencao").into() };
    let body = || {
        RequestBodyBuilder::new()
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(schema())).build(),
            )
            .build()
    };
    let mut list = admin_op("Lista de manutenções".into(), "manutencoes_lista").response(
        "200",
        json_response("Página da lista", page_of("manutencao")),
    );
    for (name, description) in [
        ("ativas", "true: só as em vigor"),
        ("status", "0 a 4"),
        ("pop_id", "cobre este POP"),
        ("nas_id", "cobre este NAS"),
        ("elemento_id", "cobre este elemento"),
        ("offset", "primeiro registro"),
        ("limit", "até 1000"),
    ] {
        list = list.parameter(query(name, description));
    }
    let mut collection = PathItem::new(HttpMethod::Get, list.build());
    collection.post = Some(
        admin_op("Cria uma manutenção".into(), "manutencoes_criar")
            .request_body(Some(body()))
            .response("201", json_response("Criada", schema()))
            .build(),
    );
    let mut item = PathItem::new(
        HttpMethod::Get,
        admin_op("Uma manutenção".into(), "manutencoes_ler")
            .parameter(path_id())
            .response("200", json_response("A manutenção", schema()))
            .response("404", json_response("Não encontrada", error_ref()))
            .build(),
    );
    let update = |id: &str| {
        admin_op("Altera os campos dados de uma manutenção".into(), id)
            .parameter(path_id())
            .request_body(Some(body()))
            .response("200", json_response("Alterada", schema()))
            .response("404", json_response("Não encontrada", error_ref()))
            .build()
    };
    item.patch = Some(update("manutencoes_alterar"));
    item.put = Some(update("manutencoes_substituir"));
    item.delete = Some(
        admin_op("Remove uma manutenção".into(), "manutencoes_remover")
            .parameter(path_id())
            .response(
                "204",
                ResponseBuilder::new().description("Removida").build(),
            )
            .response("404", json_response("Não encontrada", error_ref()))
            .build(),
    );
    (collection, item)
}

fn simple(method: HttpMethod, tag: &str, summary: &str, id: &str, content_type: &str) -> PathItem {
    PathItem::new(
        method,
        OperationBuilder::new()
            .tag(tag)
            .summary(Some(summary))
            .operation_id(Some(id))
            .response(
                "200",
                ResponseBuilder::new()
                    .description(summary)
                    .content(content_type, ContentBuilder::new().build())
                    .build(),
            )
            .build(),
    )
}

/// The document (the same for every request: cached).
pub fn document(base_path: &str) -> OpenApi {
    // The URA part first, derived from the code; `Erro` and `Paginacao` come with it.
    let ura = ura::document();
    let mut paths = PathsBuilder::new();
    for (path, item) in ura.paths.paths {
        paths = paths.path(path, item);
    }
    let mut components = ComponentsBuilder::new()
        .schemas_from_iter(ura.components.map(|c| c.schemas).unwrap_or_default())
        .security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Token <token>` com o cabeçalho `App: <app>`, ou os parâmetros `app` e `token`",
            ))),
        )
        .security_scheme(
            "admin",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("token de `ura admin-token add NOME`"))
                    .build(),
            ),
        );

    for r in resources::ALL {
        let name = r.path.replace('-', "_");
        let (read, write) = resource_schemas(r);
        components = components
            .schema(name.clone(), read)
            .schema(format!("{name}_escrita"), write);
        let mut list = admin_op(format!("Lista de {}", r.path), &format!("{name}_lista"))
            .parameter(query("offset", "primeiro registro (padrão 0)"))
            .parameter(query(
                "limit",
                "registros por página (padrão 100, no máximo 1000)",
            ))
            .response("200", json_response("Página da lista", page_of(&name)));
        for f in r.fields.iter().filter(|f| f.filter) {
            list = list.parameter(query(f.json, "filtro: valor igual"));
        }
        let mut collection = PathItem::new(HttpMethod::Get, list.build());
        let mut item = PathItem::new(
            HttpMethod::Get,
            admin_op(format!("Lê {} pelo id", r.label), &format!("{name}_ler"))
                .parameter(path_id())
                .response(
                    "200",
                    json_response("O registro", Ref::from_schema_name(&name).into()),
                )
                .response("404", json_response("Não encontrado", error_ref()))
                .build(),
        );
        if r.writable {
            let body = RequestBodyBuilder::new()
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(format!("{name}_escrita"))))
                        .build(),
                )
                .build();
            collection.post = Some(
                admin_op(format!("Cria {}", r.label), &format!("{name}_criar"))
                    .request_body(Some(body.clone()))
                    .response(
                        "201",
                        json_response("Criado", Ref::from_schema_name(&name).into()),
                    )
                    .build(),
            );
            let update = |id: String| {
                admin_op(format!("Altera {}: só os campos dados", r.label), &id)
                    .parameter(path_id())
                    .request_body(Some(body.clone()))
                    .response(
                        "200",
                        json_response("Alterado", Ref::from_schema_name(&name).into()),
                    )
                    .response("404", json_response("Não encontrado", error_ref()))
                    .build()
            };
            item.patch = Some(update(format!("{name}_alterar")));
            item.put = Some(update(format!("{name}_substituir")));
        }
        paths = paths
            .path(format!("/admin/api/v1/{}", r.path), collection)
            .path(format!("/admin/api/v1/{}/{{id}}", r.path), item);
    }
    let (maintenance_collection, maintenance_item) = maintenance_paths();
    components = components
        .schema("manutencao", maintenance_schema())
        .schema_from::<crate::services::dunning::RunReport>()
        .schema_from::<crate::services::dunning::Line>();
    paths = paths
        .path("/admin/api/v1/manutencoes", maintenance_collection)
        .path("/admin/api/v1/manutencoes/{id}", maintenance_item)
        .path(
            "/admin/api/v1/faturas/{id}/{acao}",
            PathItem::new(
                HttpMethod::Post,
                admin_op(
                    "Paga (pagar) ou cancela (cancelar) uma fatura em aberto".into(),
                    "fatura_acao",
                )
                .parameter(path_id())
                .parameter(
                    ParameterBuilder::new()
                        .name("acao")
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .schema(Some(string().enum_values(Some(["pagar", "cancelar"])))),
                )
                .response(
                    "200",
                    json_response("A fatura", Ref::from_schema_name("faturas").into()),
                )
                .build(),
            ),
        )
        .path(
            "/admin/api/v1/cobranca/executar",
            PathItem::new(
                HttpMethod::Post,
                admin_op(
                    "Executa a regra de cobrança uma vez (simular: nada muda)".into(),
                    "cobranca_executar",
                )
                .request_body(Some(
                    RequestBodyBuilder::new()
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(ObjectBuilder::new().property(
                                    "simular",
                                    ObjectBuilder::new().schema_type(Type::Boolean),
                                )))
                                .build(),
                        )
                        .build(),
                ))
                .response(
                    "200",
                    json_response(
                        "O que a regra fez (ou faria) a cada contrato",
                        Ref::from_schema_name("cobranca_execucao").into(),
                    ),
                )
                .response(
                    "409",
                    json_response("Cobrança automática desligada", error_ref()),
                )
                .build(),
            ),
        )
        .path(
            "/admin/api/v1/auditoria",
            PathItem::new(
                HttpMethod::Get,
                admin_op("Trilha de auditoria das chamadas URA".into(), "auditoria")
                    .parameter(query(
                        "desde",
                        "AAAA-MM-DD, AAAA-MM-DDTHH:MM:SS (local) ou RFC 3339",
                    ))
                    .parameter(query("ate", "idem, exclusivo"))
                    .parameter(query("app", "nome do app"))
                    .parameter(query("rota", "nome da função"))
                    .parameter(query("contrato", "id do contrato"))
                    .parameter(query("protocolo", "protocolo"))
                    .parameter(query("status", "status HTTP"))
                    .parameter(query("offset", "primeiro registro"))
                    .parameter(query("limit", "até 1000"))
                    .response("200", json_response("Página da trilha", any_object()))
                    .build(),
            ),
        );
    for (path, summary, id, content_type) in [
        ("/healthz", "Processo vivo", "healthz", "application/json"),
        (
            "/readyz",
            "Pronto: banco respondendo",
            "readyz",
            "application/json",
        ),
        (
            "/metrics",
            "Métricas Prometheus",
            "metrics",
            "application/openmetrics-text",
        ),
        (
            "/openapi.json",
            "Este documento",
            "openapi",
            "application/json",
        ),
        (
            "/docs",
            "Documentação (redireciona para /docs/)",
            "docs_redirect",
            "text/html",
        ),
        (
            "/docs/",
            "Documentação navegável, sem internet",
            "docs",
            "text/html",
        ),
        (
            "/docs/docs.js",
            "Script da documentação",
            "docs_js",
            "text/javascript",
        ),
        (
            "/fatura/{id}/{token}",
            "PDF da segunda via por link assinado",
            "fatura_pdf",
            "application/pdf",
        ),
        (
            "/painel",
            "Painel: redireciona para /painel/",
            "painel_redirect",
            "text/html",
        ),
        (
            "/painel/",
            "Painel de atendimento: chamadas ao vivo",
            "painel",
            "text/html",
        ),
        (
            "/painel/historico",
            "Painel: histórico de chamadas",
            "painel_historico",
            "text/html",
        ),
        (
            "/painel/eventos",
            "Painel: eventos ao vivo (SSE)",
            "painel_eventos",
            "text/event-stream",
        ),
        (
            "/painel/chamadas/{id}",
            "Painel: uma chamada",
            "painel_chamada",
            "text/html",
        ),
        (
            "/painel/static/painel.js",
            "Painel: script",
            "painel_js",
            "text/javascript",
        ),
        (
            "/painel/static/painel.css",
            "Painel: estilo",
            "painel_css",
            "text/css",
        ),
    ] {
        let tag = if path.starts_with("/painel") {
            "Painel"
        } else {
            "Operação"
        };
        paths = paths.path(
            path,
            simple(HttpMethod::Get, tag, summary, id, content_type),
        );
    }
    let mut entrar = simple(
        HttpMethod::Get,
        "Painel",
        "Painel: entrar",
        "painel_entrar",
        "text/html",
    );
    entrar.post = simple(
        HttpMethod::Post,
        "Painel",
        "Painel: entrar (formulário)",
        "painel_entrar_post",
        "text/html",
    )
    .post;
    let mut filas = simple(
        HttpMethod::Get,
        "Painel",
        "Painel: filas do atendente",
        "painel_filas",
        "text/html",
    );
    filas.post = simple(
        HttpMethod::Post,
        "Painel",
        "Painel: salvar filas",
        "painel_filas_post",
        "text/html",
    )
    .post;
    let mut cobranca = simple(
        HttpMethod::Get,
        "Painel",
        "Painel: cobrança do dia (bloqueados por débito, restabelecidos por pagamento)",
        "painel_cobranca",
        "text/html",
    );
    if let Some(get) = cobranca.get.as_mut() {
        get.parameters = Some(vec![
            query("dia", "AAAA-MM-DD, dia local do operador; padrão: hoje").build(),
        ]);
    }
    paths = paths
        .path("/painel/entrar", entrar)
        .path("/painel/filas", filas)
        .path("/painel/cobranca", cobranca)
        .path(
            "/painel/sair",
            simple(
                HttpMethod::Post,
                "Painel",
                "Painel: sair",
                "painel_sair",
                "text/html",
            ),
        );
    for action in ["atender", "chamado", "encerrar"] {
        paths = paths.path(
            format!("/painel/chamadas/{{id}}/{action}"),
            simple(
                HttpMethod::Post,
                "Painel",
                &format!("Painel: {action}"),
                &format!("painel_{action}"),
                "application/json",
            ),
        );
    }
    let (paths, components) = retornos::add(paths, components);

    let (paths, components) = pix::add(paths, components);
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("ura: WebService URA")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "API URA compatível com o WebService URA do SGP, API de administração, painel \
                     de atendimento e rotas de operação. Mensagens em português.",
                ))
                .build(),
        )
        .servers(Some([ServerBuilder::new()
            .url(if base_path.is_empty() { "/" } else { base_path })
            .build()]))
        .tags(Some(
            ["URA", "Administração", "Painel", "Operação", "Webhooks"]
                .map(|t| TagBuilder::new().name(t).build()),
        ))
        .paths(paths.build())
        .components(Some(components.build()))
        .build()
}

/// `GET {base}/openapi.json` (built per request: a few milliseconds, and the base path is
/// the server's own).
pub async fn serve(State(state): State<Arc<UraState>>) -> Response {
    let body = document(&state.settings.base_path)
        .to_json()
        .unwrap_or_else(|_| json!({"detail": "documento indisponível"}).to_string());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// `GET {base}/docs/`: a page that reads `openapi.json` and lists every route.
pub async fn docs_page() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'",
                ),
            ),
        ],
        include_str!("../../../assets/docs/index.html"),
    )
        .into_response()
}

pub async fn docs_script() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        )],
        include_str!("../../../assets/docs/docs.js"),
    )
        .into_response()
}
