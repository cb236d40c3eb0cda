//! `offset` and `limit` of the paginated read routes (CONTRACT.md §3), and the
//! `paginacao` object of their answers.

use super::answers::Paginacao;
use crate::http::error::ApiError;
use crate::http::params::Params;

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 250;

#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub offset: i64,
    pub limit: i64,
}

impl Paging {
    /// `offset` (default 0, not negative) and `limit` (default 100, at least 1, at most 250:
    /// a larger one is served as 250).
    pub fn from_params(params: &Params) -> Result<Paging, ApiError> {
        let offset = params.int("offset")?.unwrap_or(0);
        let limit = params.int("limit")?.unwrap_or(DEFAULT_LIMIT);
        if offset < 0 {
            return Err(ApiError::not_integer("offset"));
        }
        if limit < 1 {
            return Err(ApiError::not_integer("limit"));
        }
        Ok(Paging {
            offset,
            limit: limit.min(MAX_LIMIT),
        })
    }

    /// `{"offset":0,"limit":100,"parcial":N,"total":T}`.
    pub fn answer(&self, parcial: usize, total: i64) -> Paginacao {
        Paginacao {
            offset: self.offset,
            limit: self.limit,
            parcial,
            total,
        }
    }
}
