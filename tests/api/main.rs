//! Black-box tests: the real server over HTTP (see common.rs).

mod acesso;
mod admin;
mod admin_manutencoes;
mod catalogos;
mod chamado;
mod clientes;
mod cobranca;
mod cobranca_crash;
mod common;
mod concurrency;
mod consulta;
mod crash;
mod diskfull;
mod expiry;
mod fatura;
mod faturas;
mod first_run;
mod r#gen;
mod hardening;
mod import;
mod liberacao;
mod manutencao;
mod network;
mod notificacao;
mod observe;
mod openapi;
mod painel;
mod painel_browser;
mod pgfault;
mod process;
mod radius;
mod scaleout;
#[path = "../skip.rs"]
mod skip;
mod smoke;
mod transport;
