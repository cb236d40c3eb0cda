//! PIX BR Code (`domain::pix`): `parse_tlv` and `validate` on any text, and `build` on any
//! payload. Nothing may panic; what `parse_tlv` accepts must re-serialize to the same text,
//! what `validate` accepts must have the BR Code frame, and what `build` makes must validate.
//!
//! Input: the whole text is the code; its lines are also a payload for `build`: key, name,
//! city, txid, amount in cents.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ura::domain::pix;

fuzz_target!(|data: &[u8]| {
    let code = String::from_utf8_lossy(data);
    let code = code.as_ref();

    let _ = pix::crc16(data);
    let fields = pix::parse_tlv(code);
    if let Some(fields) = &fields {
        let again: String = fields
            .iter()
            .map(|(id, value)| format!("{id}{:02}{value}", value.chars().count()))
            .collect();
        assert_eq!(again, code);
    }
    if pix::validate(code) {
        let fields = fields.expect("a valid code is well formed");
        assert_eq!(
            fields.first().map(|(id, v)| (id.as_str(), v.as_str())),
            Some(("00", "01"))
        );
        assert_eq!(fields.last().map(|(id, _)| id.as_str()), Some("63"));
        assert!(code.is_ascii());
    }

    let mut lines = code.split('\n');
    let mut next = || lines.next().unwrap_or_default().to_owned();
    let payload = pix::PixPayload {
        key: next(),
        merchant_name: next(),
        merchant_city: next(),
        txid: next(),
        amount_cents: next().trim().parse().ok(),
    };
    let built = pix::build(&payload);
    assert!(pix::validate(&built), "{payload:?} built {built:?}");
});
