//! The client behind trusted proxies (`domain::forwarded`): the input is an `X-Forwarded-For`
//! value (and, from its first byte, whether the peer is a trusted proxy). Nothing may panic,
//! and the answer must follow the rule: the peer when it is not trusted; else the first entry
//! from the right that is not a trusted proxy (unknown when it cannot be read), never an entry
//! on its left; the peer when every entry is a trusted proxy.

#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use ura::domain::forwarded::{self, Client};

/// Trusted proxies of the target: 10.0.0.0/8 and the IPv6 loopback.
fn trusted(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets()[0] == 10,
        IpAddr::V6(v6) => v6.is_loopback(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let header = String::from_utf8_lossy(rest);
    let peer = if first & 1 == 0 {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))
    } else {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))
    };
    let got = forwarded::client(peer, [header.as_ref()], trusted);

    for entry in header.split(',') {
        let _ = forwarded::parse_entry(entry);
    }
    if !trusted(peer) {
        assert_eq!(got, Client::Known(peer));
        return;
    }
    let entries: Vec<&str> = header.split(',').collect();
    let first_untrusted = entries
        .iter()
        .rposition(|e| !forwarded::parse_entry(e).is_some_and(trusted));
    match first_untrusted {
        None => assert_eq!(got, Client::Known(peer)),
        Some(i) => match forwarded::parse_entry(entries[i]) {
            Some(ip) => {
                assert_eq!(got, Client::Known(ip));
                assert!(!trusted(ip));
            }
            None => assert_eq!(got, Client::Unknown),
        },
    }
});
