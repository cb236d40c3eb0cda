//! Black-box tests: the real server over HTTP (see common.rs).

mod acesso;
mod chamado;
mod common;
mod concurrency;
mod consulta;
mod expiry;
mod fatura;
mod faturas;
mod import;
mod liberacao;
mod network;
mod notificacao;
mod painel;
mod painel_browser;
mod pgfault;
mod process;
mod radius;
mod scaleout;
mod smoke;
mod transport;
