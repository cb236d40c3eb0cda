//! Applications allowed to call the URA API. Only the SHA-256 of each token is stored:
//! tokens are random and long, so a fast hash is right (a slow one is for passwords).

use chrono::Utc;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::app_credentials::{Lookup, Row};
use super::{Store, ts};

#[derive(Debug, Clone)]
pub struct App {
    pub id: i64,
    pub name: String,
    /// Functions this app may call; None means all.
    pub allowed_functions: Option<Vec<String>>,
    /// Networks the app may call from; empty means any.
    pub allowed_networks: Vec<ipnet::IpNet>,
}

impl App {
    pub fn may_call(&self, function: &str) -> bool {
        self.allowed_functions
            .as_ref()
            .is_none_or(|list| list.iter().any(|f| f == function))
    }
}

/// `"a, b"` → `["a", "b"]`; empty or absent → None (all functions).
fn parse_functions(text: Option<String>) -> Option<Vec<String>> {
    let list: Vec<String> = text?
        .split(',')
        .map(|f| f.trim().to_ascii_lowercase())
        .filter(|f| !f.is_empty())
        .collect();
    (!list.is_empty()).then_some(list)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppRow {
    pub id: i64,
    pub name: String,
    pub enabled: i64,
    pub allowed_functions: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("já existe um app chamado {0:?}")]
    Exists(String),
    #[error("nenhum app chamado {0:?}")]
    NotFound(String),
    #[error("nome de app inválido: use de 1 a 64 letras, dígitos, '-', '_' ou '.'")]
    BadName,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A new token: 122 random bits in the UUID shape the original system's tokens have, which
/// integrations may already validate.
pub fn new_token() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Creates an enabled app allowed to call every function; returns its token (shown once,
/// never stored).
pub async fn create(store: &Store, name: &str) -> Result<String, AppError> {
    create_limited(store, name, None).await
}

/// Creates an app limited to `functions` (None: all).
pub async fn create_limited(
    store: &Store,
    name: &str,
    functions: Option<&[String]>,
) -> Result<String, AppError> {
    if !valid_name(name) {
        return Err(AppError::BadName);
    }
    let token = new_token();
    let mut tx = store.write().await?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM apps WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_some() {
        return Err(AppError::Exists(name.into()));
    }
    sqlx::query(
        "INSERT INTO apps (name, token_hash, enabled, allowed_functions, created_at) \
         VALUES ($1, $2, 1, $3, $4)",
    )
    .bind(name)
    .bind(hash_token(&token))
    .bind(functions.map(|f| f.join(",")))
    .bind(ts(Utc::now()))
    .execute(&mut **tx)
    .await?;
    tx.commit().await?;
    store.credentials.changed();
    Ok(token)
}

/// Gives an existing app a new token (the old one stops working) and enables it.
pub async fn rotate(store: &Store, name: &str) -> Result<String, AppError> {
    let token = new_token();
    let done = sqlx::query("UPDATE apps SET token_hash = $1, enabled = 1 WHERE name = $2")
        .bind(hash_token(&token))
        .bind(name)
        .execute(&store.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound(name.into()));
    }
    store.credentials.changed();
    Ok(token)
}

/// Limits an app to `functions` (None: all functions).
pub async fn set_functions(
    store: &Store,
    name: &str,
    functions: Option<&[String]>,
) -> Result<(), AppError> {
    let done = sqlx::query("UPDATE apps SET allowed_functions = $1 WHERE name = $2")
        .bind(functions.map(|f| f.join(",")))
        .bind(name)
        .execute(&store.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound(name.into()));
    }
    store.credentials.changed();
    Ok(())
}

pub async fn set_enabled(store: &Store, name: &str, enabled: bool) -> Result<(), AppError> {
    let done = sqlx::query("UPDATE apps SET enabled = $1 WHERE name = $2")
        .bind(i64::from(enabled))
        .bind(name)
        .execute(&store.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound(name.into()));
    }
    store.credentials.changed();
    Ok(())
}

pub async fn list(store: &Store) -> Result<Vec<AppRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, enabled, allowed_functions, created_at, last_used_at \
         FROM apps ORDER BY name",
    )
    .fetch_all(&store.pool)
    .await
}

/// The enabled app with this exact name whose token matches, compared in constant time.
pub async fn authenticate(
    store: &Store,
    name: &str,
    token: &str,
) -> Result<Option<App>, sqlx::Error> {
    const SQL: &str = "SELECT id, name, token_hash, allowed_functions, allowed_networks \
         FROM apps WHERE name = $1 AND enabled = 1";
    let generation = match store.credentials.lookup(name) {
        Lookup::Kept(row) => return Ok(check(row, name, token)),
        Lookup::Read(generation) => generation,
    };
    let local = store.local.as_ref().and_then(|local| {
        local.read(|conn| {
            let mut stmt = conn.prepare_cached(SQL)?;
            let mut rows = stmt.query_map(rusqlite::named_params! { "$1": name }, |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            rows.next().transpose()
        })
    });
    let row: Option<Row> = match local {
        Some(row) => row,
        None => {
            sqlx::query_as(SQL)
                .bind(name)
                .fetch_optional(&store.pool)
                .await?
        }
    };
    Ok(row.and_then(|row| {
        store.credentials.keep(name, &row, generation);
        check(row, name, token)
    }))
}

/// The app of `row` if its name is exactly `name` and its token is `token`.
fn check(row: Row, name: &str, token: &str) -> Option<App> {
    let (id, stored_name, hash, functions, networks) = row;
    // SQLite's `=` is case-sensitive for TEXT, but check again: names must match exactly.
    if stored_name != name || !bool::from(hash_token(token).as_bytes().ct_eq(hash.as_bytes())) {
        return None;
    }
    Some(App {
        id,
        name: stored_name,
        allowed_functions: parse_functions(functions),
        // Stored after checking; anything unreadable allows nothing rather than all.
        allowed_networks: networks
            .as_deref()
            .map(|n| {
                n.split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| {
                        s.trim().parse().unwrap_or_else(|_| {
                            ipnet::IpNet::from(std::net::IpAddr::V6(
                                std::net::Ipv6Addr::UNSPECIFIED,
                            ))
                        })
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Limits an app to some networks (None: any).
pub async fn set_networks(
    store: &Store,
    name: &str,
    networks: Option<&[ipnet::IpNet]>,
) -> Result<(), AppError> {
    let list = networks.map(|n| {
        n.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    });
    let done = sqlx::query("UPDATE apps SET allowed_networks = $1 WHERE name = $2")
        .bind(list)
        .bind(name)
        .execute(&store.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound(name.into()));
    }
    store.credentials.changed();
    Ok(())
}

/// Records when an app was last seen (called at most once a minute per app).
pub async fn touch(store: &Store, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE apps SET last_used_at = $1 WHERE id = $2")
        .bind(ts(Utc::now()))
        .bind(id)
        .execute(&store.pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_uuid_shaped_and_distinct() {
        let a = new_token();
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert_ne!(a, new_token());
        assert_eq!(hash_token("x").len(), 64);
    }

    #[test]
    fn names() {
        assert!(valid_name("ura-asterisk_1.0"));
        assert!(!valid_name(""));
        assert!(!valid_name("com espaço"));
    }
}
