//! Black-box tests: the real server over HTTP (see common.rs).

mod acesso;
mod chamado;
mod common;
mod concurrency;
mod consulta;
mod fatura;
mod liberacao;
mod notificacao;
mod process;
mod smoke;
mod transport;
