//! The bank return files' part of the document: the admin API's `retornos` and an invoice's
//! history, and the console's "Retornos" pages.

use utoipa::openapi::path::{HttpMethod, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, PathsBuilder, Ref, RefOr, Required, Schema,
};

use super::{admin_op, error_ref, json_response, page_of, path_id, query, simple, string};
use crate::services::bank_returns::{FileReport, HistoryEvent, LineReport, Report};

/// Adds the paths and their schemas.
pub fn add(
    paths: PathsBuilder,
    components: ComponentsBuilder,
) -> (PathsBuilder, ComponentsBuilder) {
    let components = components
        .schema_from::<FileReport>()
        .schema_from::<LineReport>()
        .schema_from::<Report>()
        .schema_from::<HistoryEvent>()
        .schema(
            "retorno_recusado",
            ObjectBuilder::new()
                .property("detail", string())
                .property(
                    "linha",
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .description(Some("linha do arquivo (0: o arquivo todo)")),
                )
                .property("campo", string().description(Some("campo que falhou")))
                .required("detail")
                .required("linha")
                .required("campo"),
        );
    let report = || -> RefOr<Schema> { Ref::from_schema_name("retorno_relatorio").into() };
    let file_body = RequestBodyBuilder::new()
        .description(Some(
            "O arquivo de retorno como veio do banco: o corpo inteiro, ou o campo `arquivo` \
             de um multipart/form-data",
        ))
        .content(
            "application/octet-stream",
            ContentBuilder::new()
                .schema(Some(string().format(Some(
                    utoipa::openapi::schema::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Binary,
                    ),
                ))))
                .build(),
        )
        .content(
            "multipart/form-data",
            ContentBuilder::new()
                .schema(Some(ObjectBuilder::new().property(
                    "arquivo",
                    string().format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Binary,
                    ))),
                )))
                .build(),
        )
        .required(Some(Required::True))
        .build();
    let mut collection = PathItem::new(
        HttpMethod::Get,
        admin_op(
            "Arquivos de retorno importados, do mais recente ao mais antigo".into(),
            "retornos_lista",
        )
        .parameter(query("offset", "primeiro registro"))
        .parameter(query("limit", "até 1000"))
        .response(
            "200",
            json_response("Página da lista", page_of("retorno_arquivo")),
        )
        .build(),
    );
    collection.post = Some(
        admin_op(
            "Importa um arquivo de retorno (CNAB 240 ou 400): paga as faturas liquidadas e \
             registra as demais ocorrências; o mesmo arquivo de novo devolve o relatório \
             guardado (ja_importado)"
                .into(),
            "retornos_importar",
        )
        .parameter(query("nome", "nome do arquivo, quando enviado como corpo"))
        .request_body(Some(file_body))
        .response("200", json_response("O relatório da importação", report()))
        .response(
            "400",
            json_response(
                "Arquivo ilegível (nada foi importado): a linha e o campo que falharam",
                Ref::from_schema_name("retorno_recusado").into(),
            ),
        )
        .response(
            "413",
            json_response("Arquivo maior que retorno.tamanho_max", error_ref()),
        )
        .build(),
    );
    let item = PathItem::new(
        HttpMethod::Get,
        admin_op(
            "Um arquivo de retorno: contagens e linhas".into(),
            "retornos_ler",
        )
        .parameter(path_id())
        .response("200", json_response("O relatório", report()))
        .response("404", json_response("Não encontrado", error_ref()))
        .build(),
    );
    let history = PathItem::new(
        HttpMethod::Get,
        admin_op(
            "Histórico de uma fatura: ocorrências do banco, pagamentos parciais...".into(),
            "fatura_historico",
        )
        .parameter(path_id())
        .response(
            "200",
            json_response(
                "Os eventos, do mais antigo ao mais recente",
                RefOr::T(Schema::Object(
                    ObjectBuilder::new()
                        .property("fatura", ObjectBuilder::new().schema_type(Type::Integer))
                        .property(
                            "eventos",
                            ArrayBuilder::new().items(Ref::from_schema_name("fatura_evento")),
                        )
                        .build(),
                )),
            ),
        )
        .response("404", json_response("Fatura não encontrada", error_ref()))
        .build(),
    );
    let mut console = simple(
        HttpMethod::Get,
        "Painel",
        "Painel: arquivos de retorno importados e envio de um novo",
        "painel_retornos",
        "text/html",
    );
    if let Some(get) = console.get.as_mut() {
        get.parameters = Some(vec![
            query("pagina", "página da lista, de 1 em diante").build(),
        ]);
    }
    console.post = simple(
        HttpMethod::Post,
        "Painel",
        "Painel: importar um arquivo de retorno (multipart: csrf, arquivo)",
        "painel_retornos_post",
        "text/html",
    )
    .post;
    let console_item = simple(
        HttpMethod::Get,
        "Painel",
        "Painel: relatório de um arquivo de retorno",
        "painel_retorno",
        "text/html",
    );
    let paths = paths
        .path("/admin/api/v1/retornos", collection)
        .path("/admin/api/v1/retornos/{id}", item)
        .path("/admin/api/v1/faturas/{id}/historico", history)
        .path("/painel/retornos", console)
        .path("/painel/retornos/{id}", with_id(console_item));
    (paths, components)
}

/// The console page's `{id}` parameter.
fn with_id(mut item: PathItem) -> PathItem {
    if let Some(get) = item.get.as_mut() {
        get.parameters = Some(vec![
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                .build(),
        ]);
    }
    item
}
