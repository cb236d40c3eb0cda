//! Unguessable links to an invoice's PDF: `/fatura/<id>/<expiry>-<signature>.pdf`, where the
//! signature is an HMAC-SHA256 of the id and expiry under a key shared by every process
//! (from the settings, else made once and kept in the database). No login is needed: the
//! link itself is the credential, and it stops working at its expiry.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::store::Store;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
}

impl LinkSigner {
    pub fn new(key: Vec<u8>) -> LinkSigner {
        LinkSigner { key }
    }

    /// The key from the settings, else the one kept in the database (made on first use).
    pub async fn load(store: &Store, configured: Option<&str>) -> Result<LinkSigner, sqlx::Error> {
        if let Some(key) = configured.filter(|k| !k.trim().is_empty()) {
            return Ok(LinkSigner::new(key.as_bytes().to_vec()));
        }
        // `Store::open` made it.
        let key = store.meta("link_key").await?.unwrap_or_default();
        Ok(LinkSigner::new(key.into_bytes()))
    }

    fn signature(&self, invoice_id: i64, expires: i64) -> String {
        let mut mac = match HmacSha256::new_from_slice(&self.key) {
            Ok(mac) => mac,
            // HMAC takes keys of any length; this branch cannot be reached.
            Err(_) => return String::new(),
        };
        mac.update(format!("fatura:{invoice_id}:{expires}").as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The path (after the base path) of the invoice's PDF, valid until `expires`.
    pub fn path(&self, invoice_id: i64, expires: DateTime<Utc>) -> String {
        let exp = expires.timestamp();
        format!(
            "/fatura/{invoice_id}/{exp}-{}.pdf",
            self.signature(invoice_id, exp)
        )
    }

    /// Checks the `<expiry>-<signature>.pdf` segment of a link for the invoice.
    pub fn verify(&self, invoice_id: i64, segment: &str, now: DateTime<Utc>) -> bool {
        let Some(token) = segment.strip_suffix(".pdf") else {
            return false;
        };
        let Some((exp, sig)) = token.split_once('-') else {
            return false;
        };
        let Ok(exp) = exp.parse::<i64>() else {
            return false;
        };
        if exp < now.timestamp() {
            return false;
        }
        let expected = self.signature(invoice_id, exp);
        !expected.is_empty()
            && bool::from(subtle::ConstantTimeEq::ct_eq(
                expected.as_bytes(),
                sig.as_bytes(),
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_links_verify_and_expire() {
        let signer = LinkSigner::new(b"chave".to_vec());
        let now = Utc::now();
        let path = signer.path(42, now + chrono::TimeDelta::days(1));
        let segment = path.rsplit('/').next().unwrap();
        assert!(signer.verify(42, segment, now));
        assert!(!signer.verify(43, segment, now), "another invoice");
        assert!(
            !signer.verify(42, segment, now + chrono::TimeDelta::days(2)),
            "expired"
        );
        let other = LinkSigner::new(b"outra".to_vec());
        assert!(!other.verify(42, segment, now), "another key");
        let tampered = segment.replacen('-', "9-", 1);
        assert!(!signer.verify(42, &tampered, now));
        assert!(!signer.verify(42, "nada", now));
        assert!(!signer.verify(42, "1-.pdf", now));
    }
}
