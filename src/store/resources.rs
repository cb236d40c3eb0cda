//! The provider's data as the admin API shows it: one description per resource.

use super::resource::{Field, Kind, Resource};
use crate::domain::states::InvoiceStatus;

const TEXT: Kind = Kind::Text { max: 200 };
const LONG_TEXT: Kind = Kind::Text { max: 4000 };
const ID: Kind = Kind::Int {
    min: 1,
    max: i64::MAX,
};
const FLAG: Kind = Kind::Bool;

const fn reference(table: &'static str, label: &'static str) -> Kind {
    Kind::Ref { table, label }
}

pub const INVOICE_STATUS: &[(&str, &str)] = &[
    invoice_status(InvoiceStatus::Open),
    invoice_status(InvoiceStatus::Paid),
    invoice_status(InvoiceStatus::Cancelled),
];

/// The console's word and the stored one.
const fn invoice_status(s: InvoiceStatus) -> (&'static str, &'static str) {
    (s.label(), s.as_str())
}

pub static CUSTOMERS: Resource = Resource {
    path: "clientes",
    table: "customers",
    label: "cliente",
    writable: true,
    fields: &[
        Field::new("id", "id", ID).read_only(),
        Field::new("nome", "name", TEXT).required(),
        Field::new("cpfcnpj", "document", Kind::Document)
            .required()
            .filter(),
        Field::new("data_nascimento", "birth_date", Kind::Date),
        Field::new("criado_em", "created_at", Kind::Timestamp).read_only(),
    ],
};

pub static CONTRACTS: Resource = Resource {
    path: "contratos",
    table: "contracts",
    label: "contrato",
    writable: true,
    fields: &[
        Field::new("id", "id", ID).read_only(),
        Field::new(
            "cliente_id",
            "customer_id",
            reference("customers", "cliente"),
        )
        .required()
        .filter(),
        Field::new("status", "status", Kind::Int { min: 1, max: 7 })
            .required()
            .filter(),
        Field::new("status_modo", "status_mode", Kind::Int { min: 1, max: 2 }),
        Field::new("pop_id", "pop_id", reference("pops", "POP")).filter(),
        Field::new("vencimento_dia", "due_day", Kind::Int { min: 1, max: 31 }),
        Field::new("endereco", "address", Kind::Text { max: 500 }),
        Field::new("isento_bloqueio", "block_exempt", Kind::Bool),
        Field::new("motivo_status", "status_reason", Kind::Enum(STATUS_REASON)).read_only(),
        Field::new("criado_em", "created_at", Kind::Timestamp).read_only(),
    ],
};

/// Why a contract is in its status (`contracts.status_reason`), as written by the server.
const STATUS_REASON: &[(&str, &str)] = &[
    ("debito", "debito"),
    ("promessa", "promessa"),
    ("manual", "manual"),
    ("pagamento", "pagamento"),
];

pub static SERVICES: Resource = Resource {
    path: "servicos",
    table: "internet_services",
    label: "serviço",
    writable: true,
    fields: &[
        Field::new("id", "id", ID).read_only(),
        Field::new(
            "contrato_id",
            "contract_id",
            reference("contracts", "contrato"),
        )
        .required()
        .filter(),
        Field::new("login", "login", Kind::Text { max: 64 })
            .required()
            .filter(),
        Field::new("senha", "password", Kind::Secret { max: 128 }).required(),
        Field::new("plano_id", "plan_id", reference("plans", "plano")).filter(),
        Field::new("nas_id", "nas_id", reference("nas", "NAS")).filter(),
        Field::new(
            "elemento_id",
            "element_id",
            reference("network_elements", "elemento de rede"),
        ),
        Field::new("mac", "mac", Kind::Text { max: 32 }),
        Field::new("habilitado", "enabled", FLAG),
    ],
};

pub static PLANS: Resource = Resource {
    path: "planos",
    table: "plans",
    label: "plano",
    writable: true,
    fields: &[
        Field::new("id", "id", ID).read_only(),
        Field::new("nome", "name", TEXT).required(),
        Field::new(
            "download_kbps",
            "download_kbps",
            Kind::Int {
                min: 1,
                max: 100_000_000,
            },
        )
        .required(),
        Field::new(
            "upload_kbps",
            "upload_kbps",
            Kind::Int {
                min: 1,
                max: 100_000_000,
            },
        )
        .required(),
        Field::new("preco", "price_cents", Kind::Money).required(),
        Field::new("grupo_radius", "radius_group", Kind::Text { max: 64 }).required(),
        Field::new(
            "dias_reducao",
            "reduce_after_days",
            Kind::Int { min: 0, max: 3650 },
        ),
        Field::new(
            "dias_bloqueio",
            "block_after_days",
            Kind::Int { min: 0, max: 3650 },
        ),
    ],
};

pub static INVOICES: Resource = Resource {
    path: "faturas",
    table: "invoices",
    label: "fatura",
    writable: true,
    fields: &[
        Field::new("id", "id", ID).read_only(),
        Field::new(
            "contrato_id",
            "contract_id",
            reference("contracts", "contrato"),
        )
        .required()
        .filter(),
        Field::new(
            "numero_documento",
            "document_number",
            Kind::Text { max: 64 },
        )
        .required(),
        Field::new("nosso_numero", "our_number", Kind::Text { max: 64 }).required(),
        Field::new("valor", "amount_cents", Kind::Money).required(),
        Field::new("emissao", "issued_on", Kind::Date).required(),
        Field::new("vencimento", "due_on", Kind::Date).required(),
        Field::new("status", "status", Kind::Enum(INVOICE_STATUS))
            .read_only()
            .filter(),
        Field::new("data_pagamento", "paid_on", Kind::Date).read_only(),
        Field::new("valor_pago", "paid_cents", Kind::Money).read_only(),
        Field::new("data_cancelamento", "cancelled_on", Kind::Date).read_only(),
        Field::new("codigo_barras", "barcode", Kind::Text { max: 64 }),
        Field::new("linha_digitavel", "digitable_line", Kind::Text { max: 64 }),
        Field::new("codigo_pix", "pix_payload", Kind::Text { max: 512 }),
        // The bank the boleto was registered with (three-digit code) and its agreement:
        // a return file's line is matched on them and the nosso número.
        Field::new("banco", "bank_code", Kind::Text { max: 3 }).filter(),
        Field::new("convenio", "agreement", Kind::Text { max: 20 }),
        // The PIX txid a PSP's notice names; unique. Read from `codigo_pix` when not given.
        Field::new("pix_txid", "pix_txid", Kind::Text { max: 35 }).filter(),
    ],
};

pub static POPS: Resource = Resource {
    path: "pops",
    table: "pops",
    label: "POP",
    writable: true,
    fields: &[
        Field::new("id", "id", ID).read_only(),
        Field::new("nome", "name", TEXT).required(),
        Field::new("cidade", "city", TEXT),
    ],
};

pub static ELEMENTS: Resource = Resource {
    path: "elementos",
    table: "network_elements",
    label: "elemento de rede",
    writable: true,
    fields: &[
        Field::new("id", "id", ID).read_only(),
        Field::new("nome", "name", TEXT).required(),
        Field::new("tipo", "kind", Kind::Text { max: 32 }),
        Field::new("pop_id", "pop_id", reference("pops", "POP")).filter(),
    ],
};

pub const NAS_METHODS: &[(&str, &str)] = &[
    ("coa", "coa"),
    ("status-server", "status-server"),
    ("mikrotik-api", "mikrotik-api"),
    ("none", "none"),
];

pub static NAS: Resource = Resource {
    path: "nas",
    table: "nas",
    label: "NAS",
    writable: true,
    fields: &[
        Field::new("id", "id", ID).read_only(),
        Field::new("endereco", "nasname", Kind::Text { max: 128 })
            .required()
            .filter(),
        Field::new("nome", "shortname", Kind::Text { max: 64 }),
        Field::new("tipo", "type", Kind::Text { max: 32 }),
        Field::new("segredo", "secret", Kind::Secret { max: 128 }).required(),
        Field::new(
            "porta_coa",
            "coa_port",
            Kind::Int {
                min: 1,
                max: 65_535,
            },
        ),
        Field::new("pop_id", "pop_id", reference("pops", "POP")).filter(),
        Field::new("verificacao", "check_method", Kind::Enum(NAS_METHODS)),
        Field::new("descricao", "description", TEXT),
        Field::new("alcancavel", "reachable", FLAG).read_only(),
        Field::new("verificado_em", "checked_at", Kind::Timestamp).read_only(),
    ],
};

pub static TICKET_TYPES: Resource = Resource {
    path: "tipos-ocorrencia",
    table: "ticket_types",
    label: "tipo de ocorrência",
    writable: true,
    fields: &[
        Field::new("id", "id", ID).read_only(),
        Field::new("descricao", "description", TEXT).required(),
        Field::new("ativo", "active", FLAG).filter(),
    ],
};

pub static REASONS: Resource = Resource {
    path: "motivos-os",
    table: "work_order_reasons",
    label: "motivo de OS",
    writable: true,
    fields: &[
        Field::new("id", "id", ID).read_only(),
        Field::new("descricao", "description", TEXT).required(),
        Field::new("ativo", "active", FLAG).filter(),
    ],
};

pub static SECTORS: Resource = Resource {
    path: "setores",
    table: "sectors",
    label: "setor",
    writable: true,
    fields: &[
        Field::new("id", "id", ID).read_only(),
        Field::new("nome", "name", TEXT).required(),
        Field::new("ativo", "active", FLAG).filter(),
    ],
};

pub static TICKETS: Resource = Resource {
    path: "chamados",
    table: "tickets",
    label: "chamado",
    writable: false,
    fields: &[
        Field::new("id", "id", ID).read_only(),
        Field::new("protocolo", "protocol", TEXT)
            .read_only()
            .filter(),
        Field::new("contrato_id", "contract_id", ID)
            .read_only()
            .filter(),
        Field::new("tipo_id", "type_id", ID).read_only(),
        Field::new("setor_id", "sector_id", ID).read_only(),
        Field::new("conteudo", "content", LONG_TEXT).read_only(),
        Field::new("origem", "origin", TEXT).read_only().filter(),
        Field::new("chamador", "caller", TEXT).read_only(),
        Field::new("app_id", "app_id", ID).read_only(),
        Field::new("agente_id", "agent_id", ID).read_only(),
        Field::new("status", "status", TEXT).read_only(),
        Field::new("criado_em", "created_at", Kind::Timestamp).read_only(),
    ],
};

pub static PROMISES: Resource = Resource {
    path: "promessas",
    table: "promises",
    label: "promessa",
    writable: false,
    fields: &[
        Field::new("id", "id", ID).read_only(),
        Field::new("contrato_id", "contract_id", ID)
            .read_only()
            .filter(),
        Field::new("mes", "local_month", TEXT).read_only().filter(),
        Field::new("criada_em", "created_at", Kind::Timestamp).read_only(),
        Field::new("data_promessa", "promised_date", Kind::Date).read_only(),
        Field::new("expira_em", "expires_at", Kind::Timestamp).read_only(),
        Field::new("protocolo", "protocol", TEXT)
            .read_only()
            .filter(),
        Field::new("estado", "state", TEXT).read_only().filter(),
        Field::new("resolvida_em", "resolved_at", Kind::Timestamp).read_only(),
        Field::new("desconexao", "disconnect_result", LONG_TEXT).read_only(),
        Field::new("chamador", "caller", TEXT).read_only(),
        Field::new("app_id", "app_id", ID).read_only(),
    ],
};

pub static NOTIFICATIONS: Resource = Resource {
    path: "notificacoes",
    table: "notifications",
    label: "notificação",
    writable: false,
    fields: &[
        Field::new("id", "id", ID).read_only(),
        Field::new("contrato_id", "contract_id", ID)
            .read_only()
            .filter(),
        Field::new("cliente_id", "customer_id", ID)
            .read_only()
            .filter(),
        Field::new("protocolo", "protocol", TEXT)
            .read_only()
            .filter(),
        Field::new("chamador", "caller", TEXT).read_only().filter(),
        Field::new("fila", "agent", TEXT).read_only().filter(),
        Field::new("estado", "state", TEXT).read_only().filter(),
        Field::new("criada_em", "created_at", Kind::Timestamp).read_only(),
        Field::new("atendida_por", "taken_by", ID).read_only(),
        Field::new("atendida_em", "taken_at", Kind::Timestamp).read_only(),
        Field::new("encerrada_por", "handled_by", ID).read_only(),
        Field::new("encerrada_em", "handled_at", Kind::Timestamp).read_only(),
    ],
};

pub static ALL: &[&Resource] = &[
    &CUSTOMERS,
    &CONTRACTS,
    &SERVICES,
    &PLANS,
    &INVOICES,
    &POPS,
    &ELEMENTS,
    &NAS,
    &TICKET_TYPES,
    &REASONS,
    &SECTORS,
    &TICKETS,
    &PROMISES,
    &NOTIFICATIONS,
];

pub fn by_path(path: &str) -> Option<&'static Resource> {
    ALL.iter().copied().find(|r| r.path == path)
}
