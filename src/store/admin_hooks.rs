//! What the admin API writes and reads beyond a resource's own columns: a customer's
//! contacts, the contracts a service or plan touches in FreeRADIUS, a service's login, an
//! invoice's stored payment codes and matching keys (nosso número, PIX txid).

use super::Conn;
use crate::domain::cnab::our_number;

/// The customer's contacts as stored: (kind, value), in the order they were given.
pub async fn contacts(
    conn: &mut Conn,
    customer_id: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT kind, value FROM customer_contacts WHERE customer_id = $1 ORDER BY id")
        .bind(customer_id)
        .fetch_all(conn)
        .await
}

/// Replaces the customer's contacts.
pub async fn replace_contacts(
    conn: &mut Conn,
    customer_id: i64,
    contacts: &[(&'static str, String)],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM customer_contacts WHERE customer_id = $1")
        .bind(customer_id)
        .execute(&mut *conn)
        .await?;
    for (kind, value) in contacts {
        sqlx::query("INSERT INTO customer_contacts (customer_id, kind, value) VALUES ($1, $2, $3)")
            .bind(customer_id)
            .bind(*kind)
            .bind(value)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The contract of an internet service.
pub async fn service_contract(conn: &mut Conn, service_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT contract_id FROM internet_services WHERE id = $1")
        .bind(service_id)
        .fetch_one(conn)
        .await
}

/// The contracts with a service on the plan.
pub async fn contracts_on_plan(conn: &mut Conn, plan_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT contract_id FROM internet_services WHERE plan_id = $1")
        .bind(plan_id)
        .fetch_all(conn)
        .await
}

/// The service that holds a login.
pub async fn service_by_login(conn: &mut Conn, login: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM internet_services WHERE login = $1")
        .bind(login)
        .fetch_optional(conn)
        .await
}

/// A service's login.
pub async fn service_login(conn: &mut Conn, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT login FROM internet_services WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// An invoice's barcode, linha digitável and PIX code as stored.
pub async fn payment_codes(
    conn: &mut Conn,
    invoice_id: i64,
) -> Result<Option<(Option<String>, Option<String>, Option<String>)>, sqlx::Error> {
    sqlx::query_as("SELECT barcode, digitable_line, pix_payload FROM invoices WHERE id = $1")
        .bind(invoice_id)
        .fetch_optional(conn)
        .await
}

/// The invoice whose PIX txid this is.
pub async fn invoice_with_txid(conn: &mut Conn, txid: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM invoices WHERE pix_txid = $1")
        .bind(txid)
        .fetch_optional(conn)
        .await
}

/// Rewrites the invoice's matching key from its nosso número and bank.
pub async fn refresh_our_number_key(conn: &mut Conn, invoice_id: i64) -> Result<(), sqlx::Error> {
    let row: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT our_number, bank_code FROM invoices WHERE id = $1")
            .bind(invoice_id)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some((our_number, bank)) = row {
        sqlx::query("UPDATE invoices SET our_number_key = $1 WHERE id = $2")
            .bind(our_number::key(bank.as_deref(), &our_number))
            .bind(invoice_id)
            .execute(conn)
            .await?;
    }
    Ok(())
}
