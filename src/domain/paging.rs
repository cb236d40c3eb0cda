//! The paging block every listing answers with (URA `clientes`, `titulos`; the admin API).

use serde::Serialize;
use utoipa::ToSchema;

/// `offset`, `limit`, quantos vieram nesta página (`parcial`) e quantos há (`total`).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Paginacao {
    pub offset: i64,
    pub limit: i64,
    pub parcial: usize,
    pub total: i64,
}

/// A page of a listing: where it is, and its records.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub paginacao: Paginacao,
    pub registros: Vec<T>,
}

impl<T> Page<T> {
    pub fn new(offset: i64, limit: i64, total: i64, registros: Vec<T>) -> Page<T> {
        Page {
            paginacao: Paginacao {
                offset,
                limit,
                parcial: registros.len(),
                total,
            },
            registros,
        }
    }
}
