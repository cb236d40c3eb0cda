//! Customers and their contacts. Columns:
//! `id,nome,cpfcnpj,nascimento,emails,celulares,telefones`; several e-mails or phones in one
//! cell are separated by `;`. The contacts of a line replace the customer's contacts.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;

use super::fields::{self, LineError, err};
use super::source::Row;
use super::sql::{self, ROWS_PER_STATEMENT};
use super::{Ctx, Summary, check_rows, classify};
use crate::store::Conn;

/// Contacts in stored order: e-mails, then mobiles, then phones, each as in the file.
type Contacts = Vec<(String, String)>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub document: String,
    pub birth_date: Option<String>,
    pub contacts: Contacts,
}

/// What is compared with the stored customer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stored {
    name: String,
    document: String,
    birth_date: Option<String>,
    contacts: Contacts,
}

pub fn check(row: &Row<'_>) -> Result<Customer, LineError> {
    let line = row.line;
    let id = fields::id(row, "id")?;
    let name = fields::clean(fields::required(row, "nome")?);
    let document = fields::document(row, "cpfcnpj")?;
    let birth_date = match fields::date(row, "nascimento")? {
        Some(d) if d > chrono::Utc::now().date_naive() => {
            return Err(err(line, "nascimento", "data no futuro"));
        }
        Some(d) if chrono::Datelike::year(&d) < 1900 => {
            return Err(err(line, "nascimento", "data anterior a 1900"));
        }
        d => d.map(|d| d.to_string()),
    };
    let mut contacts: Contacts = Vec::new();
    let mut add = |kind: &str, value: String| {
        if !contacts.iter().any(|(k, v)| k == kind && *v == value) {
            contacts.push((kind.to_string(), value));
        }
    };
    for email in fields::list(row, "emails") {
        if !fields::is_email(email) {
            return Err(err(
                line,
                "emails",
                format!("e-mail inválido: {email:?} (use nome@dominio.com.br)"),
            ));
        }
        add("email", email.to_string());
    }
    for (field, kind, mobile, example) in [
        ("celulares", "mobile", true, "(84) 99138-0000"),
        ("telefones", "phone", false, "(84) 3211-0000"),
    ] {
        for number in fields::list(row, field) {
            let digits = fields::phone(number, mobile).ok_or_else(|| {
                err(
                    line,
                    field,
                    format!("número inválido: {number:?} (use DDD e número, ex.: {example})"),
                )
            })?;
            add(kind, digits);
        }
    }
    Ok(Customer {
        id,
        name,
        document,
        birth_date,
        contacts,
    })
}

/// Groups stored contacts by kind in the order of `Contacts`.
fn in_order(mut rows: Vec<(String, String)>) -> Contacts {
    let rank = |k: &str| match k {
        "email" => 0,
        "mobile" => 1,
        _ => 2,
    };
    // Stable: each kind keeps its stored order.
    rows.sort_by_key(|(k, _)| rank(k));
    rows
}

async fn stored(conn: &mut Conn, ids: &[i64]) -> Result<HashMap<i64, Stored>, sqlx::Error> {
    let rows: Vec<(i64, String, String, Option<String>)> = sql::fetch_in(
        conn,
        "SELECT id, name, document, birth_date FROM customers WHERE id IN ({in})",
        ids,
    )
    .await?;
    let contacts: Vec<(i64, String, String)> = sql::fetch_in(
        conn,
        "SELECT customer_id, kind, value FROM customer_contacts WHERE customer_id IN ({in}) \
         ORDER BY id",
        ids,
    )
    .await?;
    let mut by_customer: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    for (customer, kind, value) in contacts {
        by_customer.entry(customer).or_default().push((kind, value));
    }
    Ok(rows
        .into_iter()
        .map(|(id, name, document, birth_date)| {
            let contacts = in_order(by_customer.remove(&id).unwrap_or_default());
            (
                id,
                Stored {
                    name,
                    document,
                    birth_date,
                    contacts,
                },
            )
        })
        .collect())
}

pub async fn batch(
    conn: &mut Conn,
    ctx: &mut Ctx<'_>,
    rows: &[Row<'_>],
    out: &mut Summary,
) -> Result<(), sqlx::Error> {
    let records = check_rows(rows, ctx, out, check, |c| c.id);
    let ids: Vec<i64> = records.iter().map(|(_, c)| c.id).collect();
    let mut stored = stored(conn, &ids).await?;
    let write = classify(
        records,
        &mut stored,
        |c| {
            (
                c.id,
                Stored {
                    name: c.name.clone(),
                    document: c.document.clone(),
                    birth_date: c.birth_date.clone(),
                    contacts: c.contacts.clone(),
                },
            )
        },
        out,
    );
    for chunk in write.chunks(ROWS_PER_STATEMENT) {
        upsert(conn, ctx, chunk).await?;
    }
    // Contacts are rewritten only where they differ.
    let rewrite: Vec<&Customer> = write
        .iter()
        .filter(|(c, old)| old.as_ref().is_none_or(|o| o.contacts != c.contacts))
        .map(|(c, _)| c)
        .collect();
    let replaced: Vec<i64> = write
        .iter()
        .filter(|(c, old)| old.as_ref().is_some_and(|o| o.contacts != c.contacts))
        .map(|(c, _)| c.id)
        .collect();
    for chunk in replaced.chunks(ROWS_PER_STATEMENT) {
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM customer_contacts WHERE customer_id IN ({})",
            sql::params(1, chunk.len())
        )));
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut *conn).await?;
    }
    let contacts: Vec<(i64, &str, &str)> = rewrite
        .iter()
        .flat_map(|c| {
            c.contacts
                .iter()
                .map(|(k, v)| (c.id, k.as_str(), v.as_str()))
        })
        .collect();
    for chunk in contacts.chunks(ROWS_PER_STATEMENT) {
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO customer_contacts (customer_id, kind, value) VALUES {}",
            sql::tuples(chunk.len(), 3)
        )));
        for (id, kind, value) in chunk {
            query = query.bind(*id).bind(*kind).bind(*value);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn upsert(
    conn: &mut Conn,
    ctx: &Ctx<'_>,
    chunk: &[(Customer, Option<Stored>)],
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO customers (id, name, document, birth_date, created_at) VALUES {} \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, document = excluded.document, \
         birth_date = excluded.birth_date",
        sql::tuples(chunk.len(), 5)
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for (c, _) in chunk {
        query = query
            .bind(c.id)
            .bind(&c.name)
            .bind(&c.document)
            .bind(&c.birth_date)
            .bind(&ctx.now);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}
