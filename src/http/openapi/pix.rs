//! The PSP's PIX webhook, the admin API's list of notices and the console's page.

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::{ComponentsBuilder, ContentBuilder, PathsBuilder, Ref, Required};

use super::{admin_op, any_object, error_ref, json_response, page_of, query, simple, string};

fn valor() -> ObjectBuilder {
    string()
        .pattern(Some(r"^\d{1,10}\.\d{2}$"))
        .description(Some("reais com ponto e dois decimais, ex.: 123.45"))
}

fn instant() -> ObjectBuilder {
    string().description(Some("data e hora RFC 3339 com fuso"))
}

/// The body of the BACEN API Pix webhook (version 2.8.2).
fn notice_body() -> ObjectBuilder {
    let refund = ObjectBuilder::new()
        .property("id", string())
        .property("rtrId", string())
        .property("valor", valor())
        .property(
            "horario",
            ObjectBuilder::new()
                .property("solicitacao", instant())
                .property("liquidacao", instant()),
        )
        .property(
            "status",
            string().enum_values(Some(["EM_PROCESSAMENTO", "DEVOLVIDO", "NAO_REALIZADO"])),
        )
        .required("id")
        .required("valor")
        .required("status");
    let entry = ObjectBuilder::new()
        .property("endToEndId", string())
        .property(
            "txid",
            string().description(Some("txid da cobrança (o pix_txid da fatura)")),
        )
        .property("valor", valor())
        .property("horario", instant())
        .property("infoPagador", string())
        .property("devolucoes", ArrayBuilder::new().items(refund))
        .required("endToEndId")
        .required("valor")
        .required("horario");
    ObjectBuilder::new()
        .property("pix", ArrayBuilder::new().items(entry))
        .required("pix")
        .description(Some(
            "Corpo do webhook da API Pix do Banco Central (versão 2.8.2); campos a mais são \
             guardados e ignorados.",
        ))
}

fn answer() -> ObjectBuilder {
    ObjectBuilder::new()
        .property("recebidas", ObjectBuilder::new().schema_type(Type::Integer))
        .property(
            "resultados",
            ArrayBuilder::new().items(
                ObjectBuilder::new()
                    .property("endToEndId", string())
                    .property(
                        "resultado",
                        string().enum_values(Some([
                            "pago",
                            "ja_pago",
                            "desconhecido",
                            "recusado",
                            "repetida",
                        ])),
                    )
                    .property("fatura", ObjectBuilder::new().schema_type(Type::Integer))
                    .property(
                        "devolucoes_registradas",
                        ObjectBuilder::new().schema_type(Type::Integer),
                    )
                    .property("reaberta", ObjectBuilder::new().schema_type(Type::Boolean)),
            ),
        )
}

fn webhook(with_secret: bool, suffix: bool) -> PathItem {
    let mut op = OperationBuilder::new()
        .tag("Webhooks")
        .summary(Some("Notificação PIX do PSP (webhook da API Pix)"))
        .description(Some(
            "Cada pagamento paga a fatura cujo pix_txid é o txid, pelo valor e na data local \
             de horario; repetido (mesmo endToEndId) não paga de novo. Autenticação: o segredo \
             pix.webhook_segredo em ?hmac=, no caminho, ou um HMAC-SHA256 do corpo no \
             cabeçalho pix.cabecalho_hmac. Sem segredo configurado: 404.",
        ))
        .parameter(query("hmac", "o segredo pix.webhook_segredo"))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("PixNotificacao")))
                        .build(),
                )
                .build(),
        ))
        .response(
            "200",
            json_response(
                "Tudo guardado: o resultado de cada pagamento",
                Ref::from_schema_name("PixRecebida").into(),
            ),
        )
        .response(
            "400",
            json_response(
                "Corpo inválido (nada guardado): a mensagem nomeia o campo",
                error_ref(),
            ),
        )
        .response(
            "401",
            json_response(
                "Sem o segredo, assinatura errada ou endereço não permitido",
                error_ref(),
            ),
        )
        .response(
            "404",
            json_response("Webhook desligado (sem segredo)", error_ref()),
        )
        .response("413", json_response("Maior que pix.corpo_max", error_ref()));
    // Operation ids are unique per document.
    let id = match (with_secret, suffix) {
        (false, false) => "webhook_pix",
        (false, true) => "webhook_pix_sufixo",
        (true, false) => "webhook_pix_segredo",
        (true, true) => "webhook_pix_segredo_sufixo",
    };
    if with_secret {
        op = op.parameter(
            ParameterBuilder::new()
                .name("segredo")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(string())),
        );
    }
    PathItem::new(HttpMethod::Post, op.operation_id(Some(id)).build())
}

/// Adds the paths and their schemas.
pub(super) fn add(
    mut paths: PathsBuilder,
    components: ComponentsBuilder,
) -> (PathsBuilder, ComponentsBuilder) {
    for (path, with_secret, suffix) in [
        ("/webhooks/pix", false, false),
        ("/webhooks/pix/pix", false, true),
        ("/webhooks/pix/{segredo}", true, false),
        ("/webhooks/pix/{segredo}/pix", true, true),
    ] {
        paths = paths.path(path, webhook(with_secret, suffix));
    }
    let list = admin_op("Notificações PIX recebidas".into(), "pix_lista")
        .parameter(query(
            "resultado",
            "pago, ja_pago, desconhecido ou recusado",
        ))
        .parameter(query("txid", "txid"))
        .parameter(query("endToEndId", "endToEndId"))
        .parameter(query("fatura", "id da fatura"))
        .parameter(query(
            "desde",
            "recebidas desde: AAAA-MM-DD, AAAA-MM-DDTHH:MM:SS (local) ou RFC 3339",
        ))
        .parameter(query("ate", "idem, exclusivo"))
        .parameter(query(
            "ordem",
            "recentes (padrão) ou pendentes_primeiro (as que não pagaram nada antes)",
        ))
        .parameter(query("offset", "primeiro registro"))
        .parameter(query("limit", "até 1000"))
        .response(
            "200",
            json_response("Página de notificações", page_of("pix_notificacao")),
        )
        .build();
    let mut painel = simple(
        HttpMethod::Get,
        "Painel",
        "Painel: PIX recebidos (os sem fatura paga primeiro)",
        "painel_pix",
        "text/html",
    );
    if let Some(get) = painel.get.as_mut() {
        get.parameters = Some(vec![query("pagina", "página, a partir de 1").build()]);
    }
    paths = paths
        .path("/admin/api/v1/pix", PathItem::new(HttpMethod::Get, list))
        .path("/painel/pix", painel);
    let components = components
        .schema("PixNotificacao", notice_body())
        .schema("PixRecebida", answer())
        .schema("pix_notificacao", stored_notice());
    (paths, components)
}

/// A stored notice, as the admin API lists it.
fn stored_notice() -> ObjectBuilder {
    ObjectBuilder::new()
        .property("id", ObjectBuilder::new().schema_type(Type::Integer))
        .property("endToEndId", string())
        .property("txid", string())
        .property(
            "valor",
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .description(Some("reais")),
        )
        .property("horario", string().description(Some("como o PSP escreveu")))
        .property("horario_utc", string())
        .property("info_pagador", string())
        .property("fatura_id", ObjectBuilder::new().schema_type(Type::Integer))
        .property(
            "resultado",
            string().enum_values(Some(["pago", "ja_pago", "desconhecido", "recusado"])),
        )
        .property("motivo", string())
        .property("reaberta_em", string())
        .property("recebida_em", string())
        .property("devolucoes", ArrayBuilder::new().items(any_object()))
}
