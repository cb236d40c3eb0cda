//! Customers and their contacts. Columns:
//! `id,nome,cpfcnpj,nascimento,emails,celulares,telefones`; several e-mails or phones in one
//! cell are separated by `;`. The contacts of a line replace the customer's contacts.

use super::fields::{self, LineError, err};
use super::source::Row;
use super::{Ctx, Summary, check_rows, classify};
use crate::store::Conn;
use crate::store::import::{self as sql, Customer};

/// Contacts in stored order: e-mails, then mobiles, then phones, each as in the file.
type Contacts = Vec<(String, String)>;

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

pub async fn batch(
    conn: &mut Conn,
    ctx: &mut Ctx<'_>,
    rows: &[Row<'_>],
    out: &mut Summary,
) -> Result<(), sqlx::Error> {
    let records = check_rows(rows, ctx, out, check, |c| c.id);
    let ids: Vec<i64> = records.iter().map(|(_, c)| c.id).collect();
    let mut stored = sql::customers(conn, &ids).await?;
    for customer in stored.values_mut() {
        customer.contacts = in_order(std::mem::take(&mut customer.contacts));
    }
    let write = classify(records, &mut stored, |c| (c.id, c.clone()), out);
    let customers: Vec<&Customer> = write.iter().map(|(c, _)| c).collect();
    sql::upsert_customers(conn, &customers, &ctx.now).await?;
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
    sql::delete_contacts(conn, &replaced).await?;
    sql::insert_contacts(conn, &rewrite).await
}
