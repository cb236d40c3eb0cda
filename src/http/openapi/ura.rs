//! The URA part of the document, derived from the code: one `#[utoipa::path]` per function
//! (or sub-route) at its `/ws/` path, with its parameter groups (`ura::requests`) and its
//! answer type (`ura::answers`). The router serves each at several paths (`ws`/`api`, with
//! and without the trailing slash, GET and POST): each alias gets a copy of the operation, and
//! POST takes in its body what GET takes in the query string.

use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::ObjectBuilder;
use utoipa::openapi::{ContentBuilder, OpenApi, Required, Schema};
use utoipa::{IntoResponses, OpenApi as _, ToSchema};

use crate::http::ura::Function;
use crate::http::ura::answers::*;
use crate::http::ura::requests::*;

// The body of every error answer (`ApiError`), in every part of the API.
/// Resposta de erro.
#[derive(ToSchema)]
#[schema(as = Erro)]
#[allow(dead_code)] // only described: `ApiError` writes this body
pub struct ErrorBody {
    /// Mensagem em português.
    detail: String,
}

/// The failures every URA function may answer, in the contract's order of checks.
#[derive(IntoResponses)]
#[allow(dead_code)] // only described: `ApiError` answers these
pub enum Failures {
    /// Corpo ilegível, parâmetro ausente ou inválido, ou `Idempotency-Key` malformada.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Credenciais inválidas, app fora das redes permitidas ou sem permissão para a função.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// A mesma `Idempotency-Key` com outros parâmetros, ou ainda em andamento.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// Corpo grande demais.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// Tipo de corpo não suportado (use formulário, multipart ou JSON).
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// Chamadas demais deste endereço ou app; ou pausa após credenciais erradas (`Retry-After`).
    #[response(status = 429)]
    TooMany(ErrorBody),
    /// Serviço temporariamente indisponível (banco fora ou tempo esgotado).
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// What a documented operation documents: the function and the sub-route it is called with.
type Route = (Function, Option<&'static str>);

#[utoipa::path(get, path = "/ws/ura/consultacliente", tag = "URA",
    summary = "Contratos do cliente por CPF/CNPJ ou por contrato",
    params(ContractOrDocumentParams),
    responses((status = 200, description = "Contratos localizados (nenhum: lista vazia)", body = ConsultaCliente), Failures),
    security(("token" = [])))]
fn consultacliente() -> Route {
    (Function::ConsultaCliente, None)
}

#[utoipa::path(get, path = "/ws/ura/liberacaopromessa", tag = "URA",
    summary = "Desbloqueio por promessa de pagamento",
    params(ContractParams, PromiseParams, CallParams),
    responses((status = 200, description = "Decisão sobre a promessa, ou contrato não localizado", body = LiberacaoPromessa), Failures),
    security(("token" = [])))]
fn liberacaopromessa() -> Route {
    (Function::LiberacaoPromessa, None)
}

#[utoipa::path(get, path = "/ws/ura/enviafatura", tag = "URA",
    summary = "Segunda via das faturas em aberto por e-mail ou SMS",
    params(ContractParams, SendInvoiceParams, CallParams),
    responses((status = 200, description = "Resultado do envio, ou contrato não localizado", body = EnviaFatura), Failures),
    security(("token" = [])))]
fn enviafatura() -> Route {
    (Function::EnviaFatura, None)
}

#[utoipa::path(get, path = "/ws/ura/verificaacesso", tag = "URA",
    summary = "Por que o acesso está fora: manutenção, NAS, contrato ou equipamento",
    params(ContractParams, CallParams),
    responses((status = 200, description = "Situação do acesso, ou contrato não localizado", body = VerificaAcesso), Failures),
    security(("token" = [])))]
fn verificaacesso() -> Route {
    (Function::VerificaAcesso, None)
}

#[utoipa::path(get, path = "/ws/ura/notificacaosistema", tag = "URA",
    summary = "Transfere a ligação: o cartão do cliente aparece no painel dos atendentes",
    params(ContractOrDocumentParams, NotificationParams, CallParams),
    responses((status = 200, description = "Notificação criada, ou contrato/cliente não localizado", body = NotificacaoSistema), Failures),
    security(("token" = [])))]
fn notificacaosistema() -> Route {
    (Function::NotificacaoSistema, None)
}

#[utoipa::path(get, path = "/ws/ura/chamado", tag = "URA",
    summary = "Abre um chamado com ordem de serviço e protocolo",
    params(ContractParams, TicketParams, CallParams),
    responses((status = 200, description = "Chamado aberto ou recusado, ou contrato não localizado", body = Chamado), Failures),
    security(("token" = [])))]
fn chamado() -> Route {
    (Function::Chamado, None)
}

#[utoipa::path(get, path = "/ws/ura/fatura2via", tag = "URA",
    summary = "Faturas em aberto com valores corrigidos e links do PDF",
    params(ContractOrDocumentParams, CallParams),
    responses((status = 200, description = "As faturas em aberto, nenhuma, ou contrato/cliente não localizado", body = Fatura2Via), Failures),
    security(("token" = [])))]
fn fatura2via() -> Route {
    (Function::Fatura2Via, None)
}

#[utoipa::path(get, path = "/ws/ura/titulos", tag = "URA",
    summary = "Títulos do cliente, paginados",
    params(ContractOrDocumentParams, BillFilterParams, PagingParams),
    responses((status = 200, description = "Uma página de títulos (contrato ou cliente não localizado: vazia)", body = Titulos), Failures),
    security(("token" = [])))]
fn titulos() -> Route {
    (Function::Titulos, None)
}

#[utoipa::path(get, path = "/ws/ura/pagamento/pix/{fatura}", tag = "URA",
    summary = "O PIX de uma fatura em aberto",
    params(("fatura" = i64, Path, description = "Id da fatura"), PixParams),
    responses((status = 200, description = "O PIX, ou por que não há", body = PagamentoPix), Failures),
    security(("token" = [])))]
fn pagamento_pix() -> Route {
    (Function::PagamentoPix, None)
}

#[utoipa::path(get, path = "/ws/ura/clientes", tag = "URA",
    summary = "Busca de clientes por documento, contrato ou início do nome",
    params(CustomerSearchParams, PagingParams),
    responses((status = 200, description = "Uma página de clientes com seus contratos", body = Clientes), Failures),
    security(("token" = [])))]
fn clientes() -> Route {
    (Function::Clientes, None)
}

#[utoipa::path(get, path = "/ws/ura/manutencao/list", tag = "URA",
    summary = "Manutenções",
    params(MaintenanceListParams),
    responses((status = 200, description = "As manutenções", body = Vec<Maintenance>), Failures),
    security(("token" = [])))]
fn manutencao_list() -> Route {
    (Function::Manutencao, Some("list"))
}

#[utoipa::path(get, path = "/ws/ura/manutencao/add", tag = "URA",
    summary = "Cria uma manutenção",
    params(NewMaintenanceParams, MaintenanceFieldsParams),
    responses((status = 200, description = "A manutenção criada", body = Maintenance), Failures),
    security(("token" = [])))]
fn manutencao_add() -> Route {
    (Function::Manutencao, Some("add"))
}

#[utoipa::path(get, path = "/ws/ura/manutencao/edit", tag = "URA",
    summary = "Altera uma manutenção: só os campos dados",
    params(MaintenanceIdParams, MaintenanceDescriptionParams, MaintenanceFieldsParams),
    responses((status = 200, description = "A manutenção alterada, ou não localizada", body = MaintenanceEdited), Failures),
    security(("token" = [])))]
fn manutencao_edit() -> Route {
    (Function::Manutencao, Some("edit"))
}

#[utoipa::path(get, path = "/ws/ura/manutencao/delete", tag = "URA",
    summary = "Remove uma manutenção",
    params(MaintenanceIdParams),
    responses((status = 200, description = "Removida (`status` 1) ou não localizada (0)", body = MaintenanceStatus), Failures),
    security(("token" = [])))]
fn manutencao_delete() -> Route {
    (Function::Manutencao, Some("delete"))
}

#[utoipa::path(get, path = "/ws/os/ocorrencia/tipo/list", tag = "URA",
    summary = "Catálogo: tipos de ocorrência (`ocorrenciatipo` de `chamado`)",
    responses((status = 200, description = "Os tipos, ativos e inativos", body = Vec<CatalogEntry>), Failures),
    security(("token" = [])))]
fn catalogo_ocorrenciatipo() -> Route {
    (Function::Catalogos, Some("ocorrenciatipo"))
}

#[utoipa::path(get, path = "/ws/ura/motivoos/list", tag = "URA",
    summary = "Catálogo: motivos de ordem de serviço (`motivoos` de `chamado`)",
    responses((status = 200, description = "Os motivos, ativos e inativos", body = Vec<CatalogEntry>), Failures),
    security(("token" = [])))]
fn catalogo_motivoos() -> Route {
    (Function::Catalogos, Some("motivoos"))
}

#[utoipa::path(get, path = "/ws/ura/setor/list", tag = "URA",
    summary = "Catálogo: setores (`setor` de `chamado`)",
    responses((status = 200, description = "Os setores, ativos e inativos", body = Vec<CatalogEntry>), Failures),
    security(("token" = [])))]
fn catalogo_setor() -> Route {
    (Function::Catalogos, Some("setor"))
}

/// The derived document and, for each of its operations, the route it documents (by the
/// operation's id, which is the function's name).
macro_rules! documented {
    ($($operation:ident),* $(,)?) => {
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($operation),*), components(schemas(ErrorBody)))]
        struct Derived;

        const DOCUMENTED: &[(&str, fn() -> Route)] = &[$((stringify!($operation), $operation)),*];
    };
}

documented!(
    consultacliente,
    liberacaopromessa,
    enviafatura,
    verificaacesso,
    notificacaosistema,
    chamado,
    fatura2via,
    titulos,
    pagamento_pix,
    clientes,
    manutencao_list,
    manutencao_add,
    manutencao_edit,
    manutencao_delete,
    catalogo_ocorrenciatipo,
    catalogo_motivoos,
    catalogo_setor,
);

/// Every URA path the router serves, with the function and sub-route it calls: the one
/// table both are built from.
pub fn ura_paths() -> Vec<(Function, String, Option<&'static str>)> {
    let mut out = Vec::new();
    for function in Function::ALL {
        for family in ["ws", "api"] {
            if let Some(paths) = function.sub_routes(family) {
                for (path, arg) in paths {
                    out.push((function, path, Some(arg)));
                }
                continue;
            }
            let path = match function {
                Function::PagamentoPix => format!("/{family}/ura/pagamento/pix/{{fatura}}"),
                _ => format!("/{family}/ura/{}", function.name()),
            };
            out.push((function, path, None));
        }
    }
    out
}

/// The derived operation (GET) of a route, if one documents it.
fn operation_of(derived: &OpenApi, route: Route) -> Option<&Operation> {
    let (name, _) = DOCUMENTED.iter().find(|(_, of)| of() == route)?;
    derived
        .paths
        .paths
        .values()
        .filter_map(|item| item.get.as_ref())
        .find(|op| op.operation_id.as_deref() == Some(*name))
}

/// The POST twin of a GET operation: the query parameters become the body's fields (form,
/// multipart or JSON), the path parameters stay.
fn as_post(get: &Operation) -> Operation {
    let mut post = get.clone();
    let (query, path): (Vec<_>, Vec<_>) = get
        .parameters
        .iter()
        .flatten()
        .cloned()
        .partition(|p| p.parameter_in == ParameterIn::Query);
    post.parameters = (!path.is_empty()).then_some(path);
    if !query.is_empty() {
        let mut body = ObjectBuilder::new();
        for p in &query {
            let mut schema = p.schema.clone().unwrap_or_default();
            if let (utoipa::openapi::RefOr::T(Schema::Object(object)), Some(text)) =
                (&mut schema, &p.description)
            {
                object.description = Some(text.clone());
            }
            body = body.property(p.name.clone(), schema);
            if p.required == Required::True {
                body = body.required(p.name.clone());
            }
        }
        let content = ContentBuilder::new()
            .schema(Some(Schema::Object(body.build())))
            .build();
        post.request_body = Some(
            RequestBodyBuilder::new()
                .content("application/x-www-form-urlencoded", content.clone())
                .content("multipart/form-data", content.clone())
                .content("application/json", content)
                .build(),
        );
    }
    post
}

/// The URA part of the document: every path of `ura_paths()` (and its trailing-slash twin),
/// and the schemas of the answers and of the error body.
pub fn document() -> OpenApi {
    let derived = Derived::openapi();
    let mut out = OpenApi::new(derived.info.clone(), utoipa::openapi::Paths::new());
    out.components = derived.components.clone();
    for (function, path, arg) in ura_paths() {
        let Some(get) = operation_of(&derived, (function, arg)) else {
            tracing::error!(path, "rota URA sem documentação derivada");
            continue;
        };
        let family = path.split('/').nth(1).unwrap_or("ws");
        for (alias, slash) in [(path.clone(), ""), (format!("{path}/"), "_barra")] {
            let name = get.operation_id.as_deref().unwrap_or(function.name());
            let mut get = get.clone();
            get.operation_id = Some(format!("{name}_{family}{slash}_get"));
            let mut post = as_post(&get);
            post.operation_id = Some(format!("{name}_{family}{slash}_post"));
            let mut item = PathItem::new(utoipa::openapi::HttpMethod::Get, get);
            item.post = Some(post);
            out.paths.paths.insert(alias, item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_of_the_table_is_documented_and_every_operation_used() {
        let derived = Derived::openapi();
        let table = ura_paths();
        for (function, path, arg) in &table {
            assert!(
                operation_of(&derived, (*function, *arg)).is_some(),
                "{path} has no #[utoipa::path]"
            );
        }
        for (name, route) in DOCUMENTED {
            let (function, arg) = route();
            assert!(
                table.iter().any(|(f, _, a)| *f == function && *a == arg),
                "{name} documents a route the router does not serve"
            );
            // Its own path is one the router serves.
            let item = derived
                .paths
                .paths
                .iter()
                .find(|(_, i)| {
                    i.get.as_ref().and_then(|o| o.operation_id.as_deref()) == Some(*name)
                })
                .map(|(p, _)| p.clone());
            assert!(
                item.is_some_and(|p| table.iter().any(|(_, t, _)| *t == p)),
                "{name}: its path is not the router's"
            );
        }
    }

    #[test]
    fn post_takes_in_its_body_what_get_takes_in_the_query() {
        let doc = document();
        let item = &doc.paths.paths["/api/ura/liberacaopromessa/"];
        let get = item.get.as_ref().unwrap();
        let post = item.post.as_ref().unwrap();
        assert_eq!(
            get.operation_id.as_deref(),
            Some("liberacaopromessa_api_barra_get")
        );
        let names: Vec<&str> = get
            .parameters
            .iter()
            .flatten()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "contrato",
                "cpfcnpj",
                "data_promessa",
                "uracontato",
                "protocolo"
            ]
        );
        assert!(post.parameters.is_none());
        let body = serde_json::to_value(post.request_body.as_ref().unwrap()).unwrap();
        let form = &body["content"]["application/x-www-form-urlencoded"]["schema"];
        assert_eq!(form["required"], serde_json::json!(["contrato"]));
        assert_eq!(form["properties"]["contrato"]["type"], "integer");
        // The path parameter stays a path parameter.
        let pix = doc.paths.paths["/ws/ura/pagamento/pix/{fatura}"]
            .post
            .as_ref()
            .unwrap();
        let params: Vec<_> = pix.parameters.iter().flatten().collect();
        assert_eq!(params.len(), 1);
        assert!(params[0].parameter_in == ParameterIn::Path);
    }
}
