//! How the states of `domain::states` are bound and read, through sqlx's `Any` driver and
//! through rusqlite (the hot reads): always by their one mapping (`as_str`/`parse`,
//! `code`/`from_code`), so that rows decode straight into the enums and a query binds the
//! enum, never a literal. A stored value that names no state fails the read.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use sqlx::any::AnyTypeInfo;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Any, Database, Decode, Encode, Type};

use crate::domain::states::{
    ContractStatus, InvoiceStatus, MessageStatus, NotificationState, PromiseState, StatusReason,
    TicketStatus,
};

/// States stored as text.
macro_rules! stored_as_text {
    ($($state:ty),+ $(,)?) => {$(
        impl Type<Any> for $state {
            fn type_info() -> AnyTypeInfo {
                <str as Type<Any>>::type_info()
            }

            fn compatible(ty: &AnyTypeInfo) -> bool {
                <str as Type<Any>>::compatible(ty)
            }
        }

        impl<'q> Encode<'q, Any> for $state {
            fn encode_by_ref(
                &self,
                buf: &mut <Any as Database>::ArgumentBuffer,
            ) -> Result<IsNull, BoxDynError> {
                <&str as Encode<'q, Any>>::encode(self.as_str(), buf)
            }
        }

        impl<'r> Decode<'r, Any> for $state {
            fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<'r, Any>>::decode(value)?;
                Ok(<$state>::parse(text)?)
            }
        }

        impl ToSql for $state {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $state {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                <$state>::parse(value.as_str()?).map_err(|e| FromSqlError::Other(Box::new(e)))
            }
        }
    )+};
}

stored_as_text!(
    InvoiceStatus,
    TicketStatus,
    PromiseState,
    MessageStatus,
    NotificationState,
    StatusReason,
);

// The contract status is stored as its number.

impl Type<Any> for ContractStatus {
    fn type_info() -> AnyTypeInfo {
        <i64 as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <i64 as Type<Any>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Any> for ContractStatus {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, Any>>::encode(self.code(), buf)
    }
}

impl<'r> Decode<'r, Any> for ContractStatus {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let code = <i64 as Decode<'r, Any>>::decode(value)?;
        Ok(ContractStatus::from_code(code)?)
    }
}

impl ToSql for ContractStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.code()))
    }
}

impl FromSql for ContractStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        ContractStatus::from_code(value.as_i64()?).map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each state is written and read back through both drivers; an unknown stored value
    /// fails the read (with the value in the message) instead of panicking.
    #[tokio::test]
    async fn states_round_trip_through_sqlx_and_rusqlite() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("states.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE t (word TEXT, code INTEGER)")
            .execute(&pool)
            .await
            .unwrap();

        async fn through<T>(pool: &sqlx::AnyPool, value: T) -> T
        where
            T: for<'q> Encode<'q, Any> + for<'r> Decode<'r, Any> + Type<Any> + Send + Unpin,
        {
            sqlx::query_scalar("SELECT $1")
                .bind(value)
                .fetch_one(pool)
                .await
                .unwrap()
        }
        for &s in InvoiceStatus::ALL {
            assert_eq!(through(&pool, s).await, s);
        }
        for &s in PromiseState::ALL {
            assert_eq!(through(&pool, s).await, s);
        }
        for &s in MessageStatus::ALL {
            assert_eq!(through(&pool, s).await, s);
        }
        for &s in NotificationState::ALL {
            assert_eq!(through(&pool, s).await, s);
        }
        for &s in TicketStatus::ALL {
            assert_eq!(through(&pool, s).await, s);
        }
        for &s in ContractStatus::ALL {
            assert_eq!(through(&pool, s).await, s);
        }

        // Stored as the words and numbers the schema knows.
        sqlx::query("INSERT INTO t (word, code) VALUES ($1, $2)")
            .bind(InvoiceStatus::Cancelled)
            .bind(ContractStatus::ReducedSpeed)
            .execute(&pool)
            .await
            .unwrap();
        let raw: (String, i64) = sqlx::query_as("SELECT word, code FROM t")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(raw, ("cancelled".to_string(), 7));

        sqlx::query("INSERT INTO t (word, code) VALUES ('closed', 9)")
            .execute(&pool)
            .await
            .unwrap();
        let word: Result<Vec<InvoiceStatus>, _> = sqlx::query_scalar("SELECT word FROM t")
            .fetch_all(&pool)
            .await;
        let e = word.unwrap_err().to_string();
        assert!(
            e.contains("status de título desconhecido no banco: closed"),
            "{e}"
        );
        let code: Result<Vec<ContractStatus>, _> = sqlx::query_scalar("SELECT code FROM t")
            .fetch_all(&pool)
            .await;
        let e = code.unwrap_err().to_string();
        assert!(
            e.contains("status de contrato desconhecido no banco: 9"),
            "{e}"
        );
        pool.close().await;

        let conn = rusqlite::Connection::open(&path).unwrap();
        let read: (InvoiceStatus, ContractStatus) = conn
            .query_row(
                "SELECT word, code FROM t WHERE word = ?1 AND code = ?2",
                (InvoiceStatus::Cancelled, ContractStatus::ReducedSpeed),
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            read,
            (InvoiceStatus::Cancelled, ContractStatus::ReducedSpeed)
        );
        let bad = conn.query_row("SELECT word FROM t WHERE code = 9", [], |r| {
            r.get::<_, PromiseState>(0)
        });
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("estado de promessa desconhecido no banco: closed")
        );
        let bad = conn.query_row("SELECT code FROM t WHERE code = 9", [], |r| {
            r.get::<_, ContractStatus>(0)
        });
        assert!(bad.is_err());
    }
}
