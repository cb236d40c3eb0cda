//! The JSON answers of the URA functions (CONTRACT.md §2 and §3), one type per shape. The
//! field order of each type is the order on the wire; optional fields that the contract
//! leaves out are skipped, those it shows as `null` are not. The OpenAPI document is derived
//! from these types, so their doc comments are the integrators' documentation: pt-BR.

use serde::{Serialize, Serializer};
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::{document, money};
use crate::http::error::ApiError;
use crate::store::contracts::Contract;

/// The answer as the handler returns it (the audit trail reads its fields).
pub fn to_value<T: Serialize>(answer: T) -> Result<Value, ApiError> {
    serde_json::to_value(answer).map_err(|e| {
        tracing::error!(error = %e, "resposta não serializável");
        ApiError::internal()
    })
}

/// Valor em reais: inteiro quando não há centavos (`50`), senão com até duas casas (`49.9`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
#[schema(value_type = f64)]
pub struct Reais(pub i64);

impl Serialize for Reais {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // One rule for every amount on the wire: `money::reais`.
        money::reais(self.0).serialize(serializer)
    }
}

// ---- Parts shared by the answers about a contract ----

/// Início das respostas sobre um contrato.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContractHead {
    /// Resultado da função (ver cada função).
    pub status: i64,
    /// Nome do cliente.
    #[serde(rename = "razaoSocial")]
    pub razao_social: String,
    /// CPF/CNPJ mascarado.
    #[serde(rename = "cpfCnpj")]
    pub cpf_cnpj: String,
}

impl ContractHead {
    pub fn new(status: i64, contract: &Contract) -> ContractHead {
        ContractHead {
            status,
            razao_social: contract.customer_name.clone(),
            cpf_cnpj: document::mask_str(&contract.document),
        }
    }
}

/// Fim das respostas sobre um contrato.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContractTail {
    /// Mensagem para a URA.
    pub msg: String,
    /// Id do contrato.
    #[serde(rename = "contratoId")]
    pub contrato_id: i64,
    /// O `uracontato` recebido, devolvido como veio (ausente se não foi enviado).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub uracontato: Option<String>,
}

/// Contrato inexistente (ou de outro CPF/CNPJ): `status` 0.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContractNotFound {
    /// Sempre 0.
    pub status: i64,
    /// `Contrato não localizado`.
    pub msg: &'static str,
    /// O id pedido.
    #[serde(rename = "contratoId")]
    pub contrato_id: i64,
    /// O `uracontato` recebido, devolvido como veio.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub uracontato: Option<String>,
}

/// Cliente não localizado pelo CPF/CNPJ: `status` 0.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerNotFound {
    /// Sempre 0.
    pub status: i64,
    /// `Cliente não localizado`.
    pub msg: &'static str,
    /// O `uracontato` recebido, devolvido como veio.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub uracontato: Option<String>,
}

/// Resposta sobre um contrato com, quando houve registro, o protocolo.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContractOutcome {
    #[serde(flatten)]
    pub head: ContractHead,
    #[serde(flatten)]
    pub tail: ContractTail,
    /// Protocolo do atendimento registrado.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub protocolo: Option<String>,
}

pub use crate::domain::paging::Paginacao;

// ---- consultacliente ----

/// Contratos localizados; nenhum: só `contratos` vazio.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsultaCliente {
    /// `Contrato(s) Localizado(s)` quando há contratos.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub msg: Option<&'static str>,
    pub contratos: Vec<ContractSummary>,
}

/// Um contrato do cliente.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContractSummary {
    #[serde(rename = "contratoId")]
    pub contrato_id: i64,
    #[serde(rename = "razaoSocial")]
    pub razao_social: String,
    /// CPF/CNPJ formatado.
    #[serde(rename = "cpfCnpj")]
    pub cpf_cnpj: String,
    /// 1 ativo, 2 inativo, 3 cancelado, 4 suspenso, 5 inviabilidade técnica, 6 novo,
    /// 7 ativo com velocidade reduzida.
    #[serde(rename = "contratoStatus")]
    pub contrato_status: i64,
    #[serde(rename = "contratoStatusDisplay")]
    pub contrato_status_display: String,
    /// Como o status foi definido: 1 automaticamente (regra de cobrança), 2 manualmente.
    #[serde(rename = "contratoStatusModo")]
    pub contrato_status_modo: i64,
    /// Soma das faturas em aberto.
    #[serde(rename = "contratoValorAberto")]
    pub contrato_valor_aberto: Reais,
    /// Promessas de pagamento no mês corrente.
    #[serde(rename = "promessasPagamentoMes")]
    pub promessas_pagamento_mes: i64,
    /// Quantas faturas em aberto.
    #[serde(rename = "contratoTitulosAReceber")]
    pub contrato_titulos_a_receber: i64,
    #[serde(rename = "clienteId")]
    pub cliente_id: i64,
    /// Login do primeiro serviço (`""` sem serviço).
    pub servico_login: String,
    /// Plano do primeiro serviço (`""` sem serviço).
    pub servico_plano: String,
    #[serde(rename = "popId")]
    pub pop_id: Option<i64>,
    #[serde(rename = "popNome")]
    pub pop_nome: Option<String>,
    /// Dia de vencimento.
    #[serde(rename = "cobVencimento")]
    pub cob_vencimento: i64,
}

// ---- liberacaopromessa ----

/// Resposta de `liberacaopromessa`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LiberacaoPromessa {
    NotFound(ContractNotFound),
    Decided(Unlock),
}

/// Decisão sobre a promessa: `status` 1 liberado, 2 promessa do mês já usada, 0 recusada.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Unlock {
    #[serde(flatten)]
    pub head: ContractHead,
    pub liberado: bool,
    /// Dias de liberação (só quando liberado).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub liberado_dias: Option<u32>,
    /// AAAA-MM-DD prometido (só quando liberado).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub data_promessa: Option<String>,
    #[serde(flatten)]
    pub tail: ContractTail,
    /// Protocolo (só quando liberado).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub protocolo: Option<String>,
}

// ---- enviafatura, chamado ----

/// Resposta de `enviafatura`: `status` 1 enviada, 0 sem faturas em aberto, 2 sem contato,
/// 9 erro no envio (fica na fila).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum EnviaFatura {
    NotFound(ContractNotFound),
    Outcome(ContractOutcome),
}

/// Resposta de `chamado`: `status` 1 aberto (com protocolo), 0 recusado (catálogo inválido).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Chamado {
    NotFound(ContractNotFound),
    Outcome(ContractOutcome),
}

// ---- verificaacesso ----

/// Resposta de `verificaacesso`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum VerificaAcesso {
    NotFound(ContractNotFound),
    Checked(Access),
}

/// `status` 1 online, 2 offline, 3 contrato fora de serviço, 8 NAS (manutenção ou offline),
/// 9 manutenção na região.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Access {
    #[serde(flatten)]
    pub head: ContractHead,
    #[serde(flatten)]
    pub tail: ContractTail,
    /// Previsão de término da manutenção (`indefinido` sem previsão); só em manutenção.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub tempo: Option<String>,
    /// Protocolo do contato registrado; só em manutenção.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub protocolo: Option<String>,
    /// Login do serviço verificado.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub login: Option<String>,
    /// Id do serviço verificado.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub servico_id: Option<i64>,
}

// ---- notificacaosistema ----

/// Resposta de `notificacaosistema`; cada forma devolve `uraagent` quando foi enviado.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum NotificacaoSistema {
    ContractNotFound(WithAgent<ContractNotFound>),
    CustomerNotFound(WithAgent<CustomerNotFound>),
    Created(WithAgent<ContractOutcome>),
}

// An answer followed by the `uraagent` given (no description of its own: the documentation
// shows the inner answer's).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WithAgent<T> {
    #[serde(flatten)]
    pub answer: T,
    /// Fila ou ramal recebido em `uraagente` (ou `uraagent`), devolvido como veio.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub uraagent: Option<String>,
}

// ---- fatura2via ----

/// Resposta de `fatura2via`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Fatura2Via {
    ContractNotFound(ContractNotFound),
    CustomerNotFound(CustomerNotFound),
    NoInvoices(NoOpenInvoices),
    Invoices(SecondCopies),
}

/// Nenhuma fatura em aberto: `status` 0, `links` vazio.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoOpenInvoices {
    pub status: i64,
    #[serde(rename = "razaoSocial")]
    pub razao_social: String,
    pub links: Vec<SecondCopy>,
}

/// As faturas em aberto: `status` 1, `link` é o da primeira.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecondCopies {
    #[serde(flatten)]
    pub head: ContractHead,
    #[serde(rename = "contratoId")]
    pub contrato_id: i64,
    pub link: Option<String>,
    pub links: Vec<SecondCopy>,
}

/// Uma fatura em aberto, com o valor corrigido para pagamento hoje.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecondCopy {
    pub id: i64,
    pub fatura: i64,
    /// Valor corrigido (multa e juros até hoje).
    pub valor: Reais,
    pub valor_original: Reais,
    /// DD/MM/AAAA; de uma fatura vencida, hoje.
    pub vencimento: String,
    /// DD/MM/AAAA.
    pub vencimento_original: String,
    pub juros: Reais,
    pub multa: Reais,
    pub linhadigitavel: String,
    pub codigopix: String,
    /// Link assinado do PDF.
    pub link: String,
}

// ---- titulos ----

/// Títulos do cliente, paginados.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Titulos {
    pub paginacao: Paginacao,
    pub titulos: Vec<Bill>,
}

/// Um título.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Bill {
    pub id: i64,
    #[serde(rename = "clienteNome")]
    pub cliente_nome: String,
    #[serde(rename = "clienteContrato")]
    pub cliente_contrato: i64,
    #[serde(rename = "numeroDocumento")]
    pub numero_documento: String,
    #[serde(rename = "nossoNumero")]
    pub nosso_numero: String,
    /// aberto, pago ou cancelado.
    pub status: &'static str,
    pub valor: Reais,
    /// Valor com multa e juros até hoje (de um título em aberto).
    #[serde(rename = "valorCorrigido")]
    pub valor_corrigido: Reais,
    #[serde(rename = "valorPago")]
    pub valor_pago: Option<Reais>,
    #[serde(rename = "linhaDigitavel")]
    pub linha_digitavel: Option<String>,
    #[serde(rename = "codigoBarras")]
    pub codigo_barras: Option<String>,
    #[serde(rename = "codigoPix")]
    pub codigo_pix: Option<String>,
    /// Link assinado do PDF.
    pub link: String,
    /// AAAA-MM-DD.
    #[serde(rename = "dataEmissao")]
    pub data_emissao: String,
    /// AAAA-MM-DD.
    #[serde(rename = "dataVencimento")]
    pub data_vencimento: String,
    #[serde(rename = "dataPagamento")]
    pub data_pagamento: Option<String>,
    #[serde(rename = "dataCancelamento")]
    pub data_cancelamento: Option<String>,
}

// ---- pagamento/pix ----

/// Resposta de `pagamento/pix/{fatura}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PagamentoPix {
    Refused(StatusMsg),
    Pix(Pix),
}

/// `status` e mensagem, sem mais nada.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusMsg {
    pub status: i64,
    pub msg: &'static str,
}

/// O PIX de uma fatura em aberto: `status` 1.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Pix {
    pub status: i64,
    pub fatura: i64,
    /// Valor corrigido para pagamento hoje.
    pub valor: Reais,
    /// AAAA-MM-DD.
    pub vencimento: String,
    /// PIX copia e cola.
    pub codigopix: String,
}

// ---- clientes ----

/// Clientes encontrados, paginados.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Clientes {
    pub paginacao: Paginacao,
    pub clientes: Vec<CustomerItem>,
}

/// Um cliente com seus contratos.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerItem {
    pub id: i64,
    pub nome: String,
    /// CPF/CNPJ formatado.
    pub cpfcnpj: String,
    pub contratos: Vec<CustomerContract>,
}

/// Um contrato de um cliente.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerContract {
    pub id: i64,
    pub status: i64,
    #[serde(rename = "statusDisplay")]
    pub status_display: &'static str,
}

// ---- manutencao/* ----

/// Uma manutenção: datas na hora local.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Maintenance {
    pub id: i64,
    pub descricao: String,
    /// O que a URA diz a quem liga (`""`: a mensagem padrão).
    pub mensagem_ura: String,
    /// 0 a 4.
    pub severidade: i64,
    /// 0 a 4 (4: resolvida).
    pub status: i64,
    /// AAAA-MM-DD HH:MM:SS, hora local.
    pub data_inicial: String,
    /// Previsão de término; null: sem previsão.
    pub data_final: Option<String>,
    /// Ids de POPs.
    pub pops: Vec<i64>,
    /// Ids de elementos de rede.
    pub elementos: Vec<i64>,
    /// Ids de NAS.
    pub nas: Vec<i64>,
}

impl Maintenance {
    pub fn new(m: &crate::domain::maintenance::Maintenance, tz: chrono_tz::Tz) -> Maintenance {
        use crate::domain::local_time;
        let f = &m.fields;
        Maintenance {
            id: m.id,
            descricao: f.description.clone(),
            mensagem_ura: f.ivr_message.clone().unwrap_or_default(),
            severidade: f.severity,
            status: f.status,
            data_inicial: local_time::format(f.starts_at, tz),
            data_final: f.expected_end.map(|t| local_time::format(t, tz)),
            pops: f.pops.clone(),
            elementos: f.elements.clone(),
            nas: f.nas.clone(),
        }
    }
}

/// Resposta de `manutencao/edit/`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum MaintenanceEdited {
    Changed(Maintenance),
    NotFound(MaintenanceStatus),
}

/// `status` 1 removida, 0 não localizada, com o id pedido.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MaintenanceStatus {
    pub status: i64,
    pub msg: &'static str,
    pub id: i64,
}

// ---- catálogos ----

/// Um item de catálogo; os inativos também vêm, com `ativo` false.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogEntry {
    pub id: i64,
    pub descricao: String,
    pub ativo: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_whole_or_with_cents() {
        assert_eq!(serde_json::to_string(&Reais(5000)).unwrap(), "50");
        assert_eq!(serde_json::to_string(&Reais(4990)).unwrap(), "49.9");
        assert_eq!(serde_json::to_string(&Reais(-1)).unwrap(), "-0.01");
    }

    #[test]
    fn flattened_parts_keep_the_wire_order() {
        let answer = ContractOutcome {
            head: ContractHead {
                status: 1,
                razao_social: "Ana".into(),
                cpf_cnpj: "***".into(),
            },
            tail: ContractTail {
                msg: String::new(),
                contrato_id: 7,
                uracontato: None,
            },
            protocolo: Some("P".into()),
        };
        assert_eq!(
            serde_json::to_string(&WithAgent {
                answer,
                uraagent: Some("fila".into()),
            })
            .unwrap(),
            r#"{"status":1,"razaoSocial":"Ana","cpfCnpj":"***","msg":"","contratoId":7,"protocolo":"P","uraagent":"fila"}"#
        );
    }

    #[test]
    fn a_maintenance_reads_as_the_admin_api_shows_it() {
        use crate::domain::maintenance::{Fields, Maintenance as Stored, to_json};
        let tz: chrono_tz::Tz = "America/Sao_Paulo".parse().unwrap();
        let start = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        for (message, end) in [(None, None), (Some("volta já"), Some(start))] {
            let m = Stored {
                id: 3,
                fields: Fields {
                    description: "Fibra".into(),
                    ivr_message: message.map(str::to_string),
                    severity: 2,
                    status: 1,
                    starts_at: start,
                    expected_end: end,
                    pops: vec![1, 2],
                    elements: vec![],
                    nas: vec![4],
                },
            };
            assert_eq!(
                serde_json::to_string(&Maintenance::new(&m, tz)).unwrap(),
                to_json(&m, tz).to_string()
            );
        }
    }
}
