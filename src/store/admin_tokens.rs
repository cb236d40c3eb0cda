//! Tokens of the admin API: separate from the URA apps' tokens, stored as SHA-256 only.

use chrono::Utc;

use super::apps::{hash_token, new_token};
use super::{Store, ts};

#[derive(Debug, thiserror::Error)]
pub enum AdminTokenError {
    #[error("já existe um token de administração chamado {0:?}")]
    Exists(String),
    #[error("token de administração {0:?} não encontrado")]
    NotFound(String),
    #[error("nome inválido: use de 1 a 64 letras, dígitos, '.', '-' ou '_'")]
    BadName,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

#[derive(Debug, sqlx::FromRow)]
pub struct AdminTokenRow {
    pub name: String,
    pub enabled: i64,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Creates a token and returns it (shown once).
pub async fn create(store: &Store, name: &str) -> Result<String, AdminTokenError> {
    if !valid_name(name) {
        return Err(AdminTokenError::BadName);
    }
    let token = new_token();
    let mut tx = store.write().await?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM admin_tokens WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_some() {
        return Err(AdminTokenError::Exists(name.into()));
    }
    sqlx::query(
        "INSERT INTO admin_tokens (name, token_hash, enabled, created_at) VALUES ($1, $2, 1, $3)",
    )
    .bind(name)
    .bind(hash_token(&token))
    .bind(ts(Utc::now()))
    .execute(&mut **tx)
    .await?;
    tx.commit().await?;
    Ok(token)
}

pub async fn list(store: &Store) -> Result<Vec<AdminTokenRow>, sqlx::Error> {
    sqlx::query_as("SELECT name, enabled, created_at, last_used_at FROM admin_tokens ORDER BY name")
        .fetch_all(&store.pool)
        .await
}

/// Revokes a token at once.
pub async fn revoke(store: &Store, name: &str) -> Result<(), AdminTokenError> {
    let done = sqlx::query("UPDATE admin_tokens SET enabled = 0 WHERE name = $1")
        .bind(name)
        .execute(&store.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AdminTokenError::NotFound(name.into()));
    }
    Ok(())
}

/// The name of the enabled token, if `token` is one.
pub async fn authenticate(store: &Store, token: &str) -> Result<Option<String>, sqlx::Error> {
    let name: Option<String> =
        sqlx::query_scalar("SELECT name FROM admin_tokens WHERE token_hash = $1 AND enabled = 1")
            .bind(hash_token(token.trim()))
            .fetch_optional(&store.pool)
            .await?;
    if name.is_some() {
        sqlx::query("UPDATE admin_tokens SET last_used_at = $1 WHERE token_hash = $2")
            .bind(ts(Utc::now()))
            .bind(hash_token(token.trim()))
            .execute(&store.pool)
            .await?;
    }
    Ok(name)
}
