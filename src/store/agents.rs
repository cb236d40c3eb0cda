//! Agents of the console: accounts (argon2 password hashes), their queues, sign-in
//! throttling and sessions.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, TimeDelta, Utc};
use rand::RngCore;

use super::apps::hash_token;
use super::{Store, parse_ts, ts};

/// Wrong passwords in a row before sign-in to that login is refused for a while.
pub const FREE_FAILURES: i64 = 5;
/// The shortest and longest such pause; it doubles with each further failure.
const FIRST_LOCK_SECS: i64 = 30;
const MAX_LOCK_SECS: i64 = 15 * 60;
pub const MIN_PASSWORD_CHARS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("já existe um agente com o login {0:?}")]
    Exists(String),
    #[error("agente {0:?} não encontrado")]
    NotFound(String),
    #[error("login inválido: use de 1 a 64 letras, dígitos, '.', '-', '_' ou '@'")]
    BadLogin,
    #[error("a senha deve ter ao menos {MIN_PASSWORD_CHARS} caracteres")]
    WeakPassword,
    #[error("fila inválida: {0:?}")]
    BadQueue(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("falha ao calcular o hash da senha: {0}")]
    Hash(String),
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Agent {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub queues: Option<String>,
    pub enabled: i64,
    pub last_login_at: Option<String>,
    pub created_at: String,
}

impl Agent {
    /// The queues watched; empty: every queue.
    pub fn queue_list(&self) -> Vec<String> {
        split_queues(self.queues.as_deref())
    }

    /// Whether a call sent to `queue` (the IVR's `uraagente`) is for this agent. A call
    /// without a queue is for everyone.
    pub fn watches(&self, queue: Option<&str>) -> bool {
        let list = self.queue_list();
        match queue.map(str::trim).filter(|q| !q.is_empty()) {
            None => true,
            Some(q) => list.is_empty() || list.iter().any(|w| w.eq_ignore_ascii_case(q)),
        }
    }
}

pub fn split_queues(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("")
        .split(',')
        .map(|q| q.trim().to_string())
        .filter(|q| !q.is_empty())
        .collect()
}

/// `suporte, financeiro` → normalized list; `todas`/empty → None (every queue).
pub fn parse_queues(text: &str) -> Result<Option<Vec<String>>, AgentError> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("todas") {
        return Ok(None);
    }
    let mut list: Vec<String> = Vec::new();
    for q in split_queues(Some(trimmed)) {
        if q.len() > 64 || q.chars().any(|c| c.is_control()) {
            return Err(AgentError::BadQueue(q));
        }
        if !list.iter().any(|w| w.eq_ignore_ascii_case(&q)) {
            list.push(q);
        }
    }
    Ok(if list.is_empty() { None } else { Some(list) })
}

fn valid_login(login: &str) -> bool {
    !login.is_empty()
        && login.len() <= 64
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
}

pub fn hash_password(password: &str) -> Result<String, AgentError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AgentError::WeakPassword);
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AgentError::Hash(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AgentError::Hash(e.to_string()))
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of nothing anyone knows, checked when the login does not exist, so that an unknown
/// login takes as long to refuse as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        hash_password(&format!("{:x}", rand::rng().next_u64()) as &str)
            .unwrap_or_else(|_| String::from("$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
    })
}

const AGENT_COLUMNS: &str = "id, login, name, queues, enabled, last_login_at, created_at";

pub async fn create(
    store: &Store,
    login: &str,
    name: &str,
    password: &str,
    queues: Option<&[String]>,
) -> Result<i64, AgentError> {
    let login = login.trim();
    if !valid_login(login) {
        return Err(AgentError::BadLogin);
    }
    let hash = hash_password(password)?;
    let name = if name.trim().is_empty() {
        login
    } else {
        name.trim()
    };
    let mut tx = store.write().await?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM agents WHERE login = $1")
        .bind(login)
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_some() {
        return Err(AgentError::Exists(login.into()));
    }
    let id = sqlx::query_scalar(
        "INSERT INTO agents (login, name, password_hash, queues, enabled, created_at) \
         VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
    )
    .bind(login)
    .bind(name)
    .bind(hash)
    .bind(queues.map(|q| q.join(",")))
    .bind(ts(Utc::now()))
    .fetch_one(&mut **tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn list(store: &Store) -> Result<Vec<Agent>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {AGENT_COLUMNS} FROM agents ORDER BY login"
    )))
    .fetch_all(&store.pool)
    .await
}

async fn id_of(store: &Store, login: &str) -> Result<i64, AgentError> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM agents WHERE login = $1")
        .bind(login.trim())
        .fetch_optional(&store.pool)
        .await?;
    id.ok_or_else(|| AgentError::NotFound(login.into()))
}

/// Disabling signs the agent out everywhere at once; enabling lifts a sign-in lock.
pub async fn set_enabled(store: &Store, login: &str, enabled: bool) -> Result<(), AgentError> {
    let id = id_of(store, login).await?;
    let sql = if enabled {
        "UPDATE agents SET enabled = 1, failed_logins = 0, locked_until = NULL WHERE id = $1"
    } else {
        "UPDATE agents SET enabled = 0 WHERE id = $1"
    };
    sqlx::query(sql).bind(id).execute(&store.pool).await?;
    end_sessions_of(store, id).await
}

/// A new password ends every session of the agent and lifts a sign-in lock.
pub async fn set_password(store: &Store, login: &str, password: &str) -> Result<(), AgentError> {
    let hash = hash_password(password)?;
    let id = id_of(store, login).await?;
    sqlx::query(
        "UPDATE agents SET password_hash = $1, failed_logins = 0, locked_until = NULL \
         WHERE id = $2",
    )
    .bind(hash)
    .bind(id)
    .execute(&store.pool)
    .await?;
    end_sessions_of(store, id).await
}

pub async fn set_queues(
    store: &Store,
    login: &str,
    queues: Option<&[String]>,
) -> Result<(), AgentError> {
    let id = id_of(store, login).await?;
    Ok(set_queues_by_id(store, id, queues).await?)
}

pub async fn set_queues_by_id(
    store: &Store,
    id: i64,
    queues: Option<&[String]>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE agents SET queues = $1 WHERE id = $2")
        .bind(queues.map(|q| q.join(",")))
        .bind(id)
        .execute(&store.pool)
        .await?;
    Ok(())
}

async fn end_sessions_of(store: &Store, agent_id: i64) -> Result<(), AgentError> {
    sqlx::query("DELETE FROM agent_sessions WHERE agent_id = $1")
        .bind(agent_id)
        .execute(&store.pool)
        .await?;
    Ok(())
}

pub enum SignIn {
    Ok(Agent),
    /// Wrong login or password (not told apart).
    Refused,
    /// Too many wrong passwords: try again after this many seconds.
    Locked(i64),
}

/// Checks a login and password, counting wrong passwords against the login (in the database,
/// so the lock holds across processes).
pub async fn sign_in(
    store: &Store,
    login: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<SignIn, sqlx::Error> {
    let row: Option<(i64, String, i64, i64, Option<String>)> = sqlx::query_as(
        "SELECT id, password_hash, enabled, failed_logins, locked_until FROM agents \
         WHERE login = $1",
    )
    .bind(login.trim())
    .fetch_optional(&store.pool)
    .await?;
    let Some((id, hash, enabled, failures, locked_until)) = row else {
        let _ = verify_password(decoy_hash(), password);
        return Ok(SignIn::Refused);
    };
    if let Some(until) = locked_until.as_deref().and_then(parse_ts)
        && until > now
    {
        return Ok(SignIn::Locked((until - now).num_seconds().max(1)));
    }
    let hash_owned = hash;
    let password_owned = password.to_string();
    // Argon2 is deliberately slow: off the async workers.
    let good = tokio::task::spawn_blocking(move || verify_password(&hash_owned, &password_owned))
        .await
        .unwrap_or(false);
    if good && enabled != 0 {
        sqlx::query(
            "UPDATE agents SET failed_logins = 0, locked_until = NULL, last_login_at = $1 \
             WHERE id = $2",
        )
        .bind(ts(now))
        .bind(id)
        .execute(&store.pool)
        .await?;
        let agent = by_id(store, id).await?;
        return Ok(agent.map(SignIn::Ok).unwrap_or(SignIn::Refused));
    }
    if !good {
        let failures = failures + 1;
        let lock = (failures >= FREE_FAILURES).then(|| {
            let doublings = (failures - FREE_FAILURES).min(10) as u32;
            let secs = (FIRST_LOCK_SECS << doublings).min(MAX_LOCK_SECS);
            ts(now + TimeDelta::seconds(secs))
        });
        sqlx::query("UPDATE agents SET failed_logins = $1, locked_until = $2 WHERE id = $3")
            .bind(failures)
            .bind(lock)
            .bind(id)
            .execute(&store.pool)
            .await?;
    }
    Ok(SignIn::Refused)
}

pub async fn by_id(store: &Store, id: i64) -> Result<Option<Agent>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&store.pool)
    .await
}

/// A signed-in agent and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub agent: Agent,
    pub csrf: String,
}

/// Starts a session; returns the cookie's token (only its hash is stored).
pub async fn start_session(
    store: &Store,
    agent_id: i64,
    now: DateTime<Utc>,
    lifetime: TimeDelta,
) -> Result<String, sqlx::Error> {
    let token = random_token();
    // Sessions that ended long ago are swept by whoever signs in next.
    sqlx::query("DELETE FROM agent_sessions WHERE expires_at < $1")
        .bind(ts(now))
        .execute(&store.pool)
        .await?;
    sqlx::query(
        "INSERT INTO agent_sessions (token_hash, agent_id, csrf, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash_token(&token))
    .bind(agent_id)
    .bind(random_token())
    .bind(ts(now))
    .bind(ts(now + lifetime))
    .execute(&store.pool)
    .await?;
    Ok(token)
}

/// The session a cookie's token names, when it is current and its agent enabled.
pub async fn session(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Session>, sqlx::Error> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT s.agent_id, s.csrf FROM agent_sessions s JOIN agents a ON a.id = s.agent_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.enabled = 1",
    )
    .bind(hash_token(token))
    .bind(ts(now))
    .fetch_optional(&store.pool)
    .await?;
    let Some((agent_id, csrf)) = row else {
        return Ok(None);
    };
    Ok(by_id(store, agent_id)
        .await?
        .map(|agent| Session { agent, csrf }))
}

/// A cheap summary of the sessions that let someone in (count and sum of their agents):
/// when it changes, an agent signed out, was disabled or signed in, and the live streams
/// look at their own session again.
pub async fn sessions_summary(store: &Store) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(s.agent_id), 0) AS BIGINT) FROM agent_sessions s \
         JOIN agents a ON a.id = s.agent_id WHERE a.enabled = 1",
    )
    .fetch_one(&store.pool)
    .await
}

pub async fn end_session(store: &Store, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM agent_sessions WHERE token_hash = $1")
        .bind(hash_token(token))
        .execute(&store.pool)
        .await?;
    Ok(())
}

/// 256 random bits, URL-safe.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("senha-forte-123").unwrap();
        assert!(hash.starts_with("$argon2"));
        assert!(verify_password(&hash, "senha-forte-123"));
        assert!(!verify_password(&hash, "senha-forte-124"));
        assert!(!verify_password("lixo", "senha-forte-123"));
        assert!(matches!(
            hash_password("curta"),
            Err(AgentError::WeakPassword)
        ));
    }

    #[test]
    fn queues_parse_and_match() {
        assert_eq!(parse_queues("todas").unwrap(), None);
        assert_eq!(parse_queues(" ").unwrap(), None);
        assert_eq!(
            parse_queues("suporte, Financeiro,SUPORTE").unwrap(),
            Some(vec!["suporte".to_string(), "Financeiro".to_string()])
        );
        let agent = Agent {
            id: 1,
            login: "a".into(),
            name: "A".into(),
            queues: Some("suporte,financeiro".into()),
            enabled: 1,
            last_login_at: None,
            created_at: String::new(),
        };
        assert!(agent.watches(Some("Suporte")));
        assert!(agent.watches(None));
        assert!(!agent.watches(Some("vendas")));
        let all = Agent {
            queues: None,
            ..agent
        };
        assert!(all.watches(Some("vendas")));
    }
}
