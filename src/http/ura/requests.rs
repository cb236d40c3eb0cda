//! The parameters of the URA functions as the OpenAPI document shows them. Requests are
//! read by `http::params` (query string, form, multipart or JSON, every value a string), in
//! the contract's order; these types describe them, one group per concern, and each
//! function's `#[utoipa::path]` lists the groups it takes. Their doc comments are the
//! integrators' documentation: pt-BR.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Functions about one contract.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractParams {
    /// Id do contrato.
    pub contrato: i64,
    /// Se dado, o contrato deve ser deste CPF/CNPJ (qualquer pontuação); senão: não localizado.
    pub cpfcnpj: Option<String>,
}

/// Functions that find the customer by contract or by document (one of them is required).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractOrDocumentParams {
    /// Id do contrato (ou `cpfcnpj`).
    pub contrato: Option<i64>,
    /// CPF/CNPJ em qualquer pontuação (ou `contrato`).
    pub cpfcnpj: Option<String>,
}

/// Functions that record the call (protocol and ticket).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallParams {
    /// Número de quem liga, devolvido como veio.
    pub uracontato: Option<String>,
    /// Protocolo anterior do mesmo contrato, do mesmo dia, para registrar sob ele.
    pub protocolo: Option<String>,
}

/// `liberacaopromessa`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PromiseParams {
    /// AAAA-MM-DD, até `promessa.dias` à frente (padrão: o último dia da liberação).
    pub data_promessa: Option<String>,
}

/// `enviafatura`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SendInvoiceParams {
    /// Por onde enviar.
    #[param(inline)]
    pub tipo: Channel,
}

/// `email` (também `e-mail`) ou `sms`, sem diferenciar maiúsculas.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Sms,
}

/// `notificacaosistema`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationParams {
    /// Fila ou ramal dos atendentes (também `uraagent`), devolvido como veio.
    pub uraagente: Option<String>,
}

/// `chamado`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketParams {
    /// Id do tipo de ocorrência (padrão 5); ver `os/ocorrencia/tipo/list`.
    pub ocorrenciatipo: Option<i64>,
    /// Id do motivo da OS (padrão 40); ver `ura/motivoos/list`.
    pub motivoos: Option<i64>,
    /// Id ou nome do setor; ver `ura/setor/list`.
    pub setor: Option<String>,
    /// Texto do chamado (padrão: `Chamado aberto via URA`).
    pub conteudo: Option<String>,
}

/// `titulos`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BillFilterParams {
    /// Só os deste status (padrão: todos).
    #[param(inline)]
    pub status: Option<BillStatus>,
}

/// Status de título, no plural.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BillStatus {
    Abertos,
    Pagos,
    Cancelados,
}

/// The paginated read routes.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PagingParams {
    /// Primeiro registro (padrão 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// Registros por página (padrão 100, no máximo 250: um maior vale 250).
    #[param(minimum = 1)]
    pub limit: Option<i64>,
}

/// `clientes`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerSearchParams {
    /// Id de um contrato do cliente.
    pub contrato: Option<i64>,
    /// CPF/CNPJ em qualquer pontuação.
    pub cpfcnpj: Option<String>,
    /// Início do nome, sem diferenciar maiúsculas e acentos.
    pub nome: Option<String>,
}

/// `pagamento/pix/{fatura}`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PixParams {
    /// Se dado, a fatura deve ser deste CPF/CNPJ; senão: não localizada.
    pub cpfcnpj: Option<String>,
}

/// `manutencao/list/`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MaintenanceListParams {
    /// `1` (ou `true`): só as em vigor; `0` (ou `false`, o padrão): todas.
    pub ativas: Option<String>,
}

/// `manutencao/edit/` and `manutencao/delete/`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MaintenanceIdParams {
    /// Id da manutenção.
    pub id: i64,
}

/// `manutencao/add/`: the description is required.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NewMaintenanceParams {
    /// Descrição.
    pub descricao: String,
}

/// `manutencao/edit/`: only the fields given change.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MaintenanceDescriptionParams {
    /// Descrição.
    pub descricao: Option<String>,
}

/// The other fields of a maintenance (empty values count as absent).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MaintenanceFieldsParams {
    /// O que a URA diz a quem liga.
    pub mensagem_ura: Option<String>,
    /// 0 a 4.
    #[param(minimum = 0, maximum = 4)]
    pub severidade: Option<i64>,
    /// 0 a 4 (4: resolvida).
    #[param(minimum = 0, maximum = 4)]
    pub status: Option<i64>,
    /// AAAA-MM-DD HH:MM:SS, hora local.
    pub data_inicial: Option<String>,
    /// Previsão de término, AAAA-MM-DD HH:MM:SS; `indefinido` para nenhuma.
    pub data_final: Option<String>,
    /// Ids de POPs, separados por vírgula (ou uma lista JSON).
    pub pops: Option<String>,
    /// Ids de elementos de rede, separados por vírgula (ou uma lista JSON).
    pub elementos: Option<String>,
    /// Ids de NAS, separados por vírgula (ou uma lista JSON).
    pub nas: Option<String>,
}
