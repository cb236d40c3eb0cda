//! RFC 5176 / RFC 5997 reply decoding as the CoA client does it, in the pure codec
//! (`network::coa::codec::decode_reply`): structure, Response Authenticator,
//! Message-Authenticator, reply code. It must never panic, whatever a NAS (or anyone able to
//! send it UDP) answers.
//!
//! Input: `[request][flags][secret length][secret][request authenticator: 16][datagram]`.
//! `request` picks the request answered (0 Disconnect, 1 CoA, 2 Status-Server, else the byte
//! itself as the code). The mutated datagram would almost never carry valid authenticators,
//! which would leave the later checks unreached: flag bit 0 re-signs the Message-Authenticator
//! (when there is one) and bit 1 the Response Authenticator before decoding, and then those
//! checks must pass.

#![no_main]

use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use md5::{Digest, Md5};
use ura::network::coa::codec::{self, Outcome};

const HEADER_LEN: usize = 20;
const MESSAGE_AUTHENTICATOR: u8 = 80;
const ERROR_CAUSE: u8 = 101;

/// The attributes of the first `Length` octets as `(type, value offset, value length)`, or
/// `None` unless they are well formed.
fn attributes(pkt: &[u8]) -> Option<Vec<(u8, usize, usize)>> {
    let len = usize::from(u16::from_be_bytes([*pkt.get(2)?, *pkt.get(3)?]));
    if !(HEADER_LEN..=4096).contains(&len) || pkt.len() < len {
        return None;
    }
    let mut attrs = Vec::new();
    let mut i = HEADER_LEN;
    while i < len {
        let typ = *pkt.get(i)?;
        let alen = usize::from(*pkt.get(i + 1)?);
        if alen < 2 || i + alen > len {
            return None;
        }
        attrs.push((typ, i + 2, alen - 2));
        i += alen;
    }
    Some(attrs)
}

fuzz_target!(|data: &[u8]| {
    let [request, flags, secret_len, rest @ ..] = data else {
        return;
    };
    let Some((secret, rest)) = rest.split_at_checked(usize::from(secret_len % 64)) else {
        return;
    };
    let Some((auth, datagram)) = rest.split_at_checked(16) else {
        return;
    };
    let request_auth: [u8; 16] = auth.try_into().expect("16 octets");
    let request_code = match request {
        0 => 40,
        1 => 43,
        2 => 12,
        other => *other,
    };
    let mut pkt = datagram.to_vec();
    let attrs = attributes(&pkt);
    let mut message_authenticator_signed = false;
    let mut response_authenticator_signed = false;
    if let Some(attrs) = &attrs {
        let len = usize::from(u16::from_be_bytes([pkt[2], pkt[3]]));
        let mas: Vec<_> = attrs
            .iter()
            .filter(|(typ, _, _)| *typ == MESSAGE_AUTHENTICATOR)
            .collect();
        if flags & 1 != 0
            && let [(_, at, 16)] = mas.as_slice()
        {
            let mut copy = pkt[..len].to_vec();
            copy[4..HEADER_LEN].copy_from_slice(&request_auth);
            copy[*at..at + 16].fill(0);
            let mut mac = <Hmac<Md5> as KeyInit>::new_from_slice(secret).expect("any key");
            mac.update(&copy);
            pkt[*at..at + 16].copy_from_slice(&mac.finalize().into_bytes());
            message_authenticator_signed = true;
        }
        if flags & 2 != 0 && (mas.is_empty() || message_authenticator_signed) {
            let mut h = Md5::new();
            h.update(&pkt[..4]);
            h.update(request_auth);
            h.update(&pkt[HEADER_LEN..len]);
            h.update(secret);
            let digest: [u8; 16] = h.finalize().into();
            pkt[4..HEADER_LEN].copy_from_slice(&digest);
            response_authenticator_signed = true;
        }
    }

    let result = codec::decode_reply(&pkt, request_code, &request_auth, secret);
    if let Ok(outcome) = &result {
        let _ = outcome.describe();
        let _ = outcome.session_not_found();
        assert!(attrs.is_some(), "a malformed packet was accepted");
        assert!(matches!(outcome, Outcome::Ack | Outcome::Nak { .. }));
        let expected = match (request_code, pkt[0]) {
            (40, 41) | (43, 44) | (12, _) => Outcome::Ack,
            (40, 42) | (43, 45) => Outcome::Nak {
                error_cause: attrs.as_ref().and_then(|attrs| {
                    attrs
                        .iter()
                        .filter(|(typ, _, len)| *typ == ERROR_CAUSE && *len == 4)
                        .map(|(_, at, _)| {
                            u32::from_be_bytes(pkt[*at..at + 4].try_into().expect("4 octets"))
                        })
                        .next()
                }),
            },
            (req, code) => panic!("reply code {code} accepted for request {req}"),
        };
        assert_eq!(outcome, &expected);
    }
    if response_authenticator_signed && [40, 43, 12].contains(&request_code) {
        // Both authenticators are right: only the reply code may be refused.
        assert!(
            matches!(result, Ok(_) | Err("código de resposta inesperado")),
            "{result:?}"
        );
    }
});
