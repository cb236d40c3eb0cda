//! `ura`: the SGP-compatible WebService URA server for Brazilian internet providers.

pub mod admin;
pub mod app;
pub mod cli;
pub mod demo;
pub mod doctor;
pub mod domain;
pub mod r#gen;
pub mod http;
pub mod import;
pub mod jobs;
pub mod network;
pub mod notify;
pub mod observe;
pub mod painel;
pub mod services;
pub mod settings;
pub mod store;
