//! Prometheus metrics (served at `{base}/metrics` by `http::observe`): requests by route and
//! status, latency histograms, what the URA functions did (unlocks, tickets), and, read at
//! each scrape, the outbox depth, each NAS's health and whether the database answers.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::domain::states::MessageStatus;
use crate::store::{Store, messages, nas};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatus {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FunctionStatus {
    funcao: String,
    status: i64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Origin {
    origem: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LineChange {
    status: String,
    motivo: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PixOutcome {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NasLabel {
    nas: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutboxStatus {
    status: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RouteStatus, Counter>,
    latency: Family<Route, Histogram>,
    functions: Family<FunctionStatus, Counter>,
    unlocks: Counter,
    tickets: Family<Origin, Counter>,
    line_changes: Family<LineChange, Counter>,
    audit_dropped: Counter,
    pix_notices: Family<PixOutcome, Counter>,
    outbox: Family<OutboxStatus, Gauge>,
    nas_up: Family<NasLabel, Gauge>,
    db_up: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("ura");
        let requests = Family::<RouteStatus, Counter>::default();
        let latency = Family::<Route, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
        });
        let functions = Family::<FunctionStatus, Counter>::default();
        let unlocks = Counter::default();
        let tickets = Family::<Origin, Counter>::default();
        let line_changes = Family::<LineChange, Counter>::default();
        let audit_dropped = Counter::default();
        let pix_notices = Family::<PixOutcome, Counter>::default();
        let outbox = Family::<OutboxStatus, Gauge>::default();
        let nas_up = Family::<NasLabel, Gauge>::default();
        let db_up = Gauge::default();
        registry.register(
            "http_requests",
            "Requisições HTTP por rota e status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Tempo de resposta por rota",
            latency.clone(),
        );
        registry.register(
            "funcao_respostas",
            "Respostas das funções URA pelo campo status",
            functions.clone(),
        );
        registry.register(
            "desbloqueios",
            "Contratos desbloqueados por promessa de pagamento",
            unlocks.clone(),
        );
        registry.register(
            "chamados",
            "Chamados abertos, pela URA ou por atendentes",
            tickets.clone(),
        );
        registry.register(
            "contrato_mudancas",
            "Mudanças de status de contrato pela cobrança: bloqueios, reduções e \
             restabelecimentos, pelo status novo e pelo motivo",
            line_changes.clone(),
        );
        registry.register(
            "auditoria_descartada",
            "Registros de auditoria descartados por fila cheia",
            audit_dropped.clone(),
        );
        registry.register(
            "pix_notices",
            "Notificações PIX recebidas dos PSPs, pelo resultado (pago, ja_pago, desconhecido, \
             recusado; repetida quando o endToEndId já estava guardado)",
            pix_notices.clone(),
        );
        registry.register(
            "outbox_mensagens",
            "Mensagens de fatura por situação (fila de envio)",
            outbox.clone(),
        );
        registry.register(
            "nas_alcancavel",
            "1 quando o NAS respondeu à última verificação",
            nas_up.clone(),
        );
        registry.register(
            "banco_disponivel",
            "1 quando o banco de dados responde",
            db_up.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            functions,
            unlocks,
            tickets,
            line_changes,
            audit_dropped,
            pix_notices,
            outbox,
            nas_up,
            db_up,
        }
    }
}

impl Metrics {
    /// What a URA function answered (its `status` field).
    pub fn function_answered(&self, function: &str, status: i64) {
        self.functions
            .get_or_create(&FunctionStatus {
                funcao: function.to_string(),
                status,
            })
            .inc();
        if status == 1 {
            match function {
                "liberacaopromessa" => {
                    self.unlocks.inc();
                }
                "chamado" => self.ticket_opened("ura"),
                _ => {}
            }
        }
    }

    pub fn ticket_opened(&self, origin: &str) {
        self.tickets
            .get_or_create(&Origin {
                origem: origin.to_string(),
            })
            .inc();
    }

    /// A contract's status changed by the money loop (`status`: the new one's name).
    pub fn line_changed(&self, status: &str, reason: &str) {
        self.line_changes
            .get_or_create(&LineChange {
                status: status.to_string(),
                motivo: reason.to_string(),
            })
            .inc();
    }

    /// A PIX notice's entry was stored (`outcome`: pago, ja_pago, desconhecido, recusado) or
    /// was a replay (`repetida`).
    pub fn pix_notice(&self, outcome: &str) {
        self.pix_notices
            .get_or_create(&PixOutcome {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    pub fn audit_dropped(&self) {
        self.audit_dropped.inc();
    }

    pub fn observe(&self, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RouteStatus {
                route: route.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&Route {
                route: route.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }
}

/// Gauges that are the database's to know: every process reports the same values.
impl Metrics {
    /// Whether the database answered this scrape.
    pub fn set_db_up(&self, up: bool) {
        self.db_up.set(i64::from(up));
    }

    /// The metrics in Prometheus's text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    pub async fn refresh_from_database(&self, store: &Store) {
        let m = self;
        let outbox = messages::count_by_status(store).await;
        if let Ok(rows) = outbox {
            m.outbox.clear();
            for &status in MessageStatus::ALL {
                let n = rows
                    .iter()
                    .find(|(s, _)| *s == status)
                    .map(|(_, n)| *n)
                    .unwrap_or(0);
                m.outbox
                    .get_or_create(&OutboxStatus {
                        status: status.as_str().into(),
                    })
                    .set(n);
            }
        }
        let nas = nas::reachability(store).await;
        if let Ok(rows) = nas {
            m.nas_up.clear();
            for (name, reachable) in rows {
                // Not probed yet counts as reachable, as the URA functions treat it.
                m.nas_up
                    .get_or_create(&NasLabel { nas: name })
                    .set(i64::from(reachable != Some(0)));
            }
        }
    }
}
