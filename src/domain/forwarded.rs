//! Who the client is behind trusted reverse proxies: `X-Forwarded-For` read from the right.
//!
//! Each proxy appends the address it received the request from, so only the entries written
//! by trusted proxies can be believed: the list is walked from the right (the entry the
//! nearest proxy wrote) and the walk stops at the first entry that is not a trusted proxy.
//! That entry is the client. An entry that cannot be read (`unknown`, garbage, an obfuscated
//! identifier) stops the walk too and makes the client unknown: skipping it would let a
//! caller put any address on its left and be believed.

use std::net::{IpAddr, SocketAddr};

/// The client of a request as far as the proxies let us know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// A readable address: the peer itself or the first untrusted forwarded entry.
    Known(IpAddr),
    /// The first untrusted entry could not be read: it matches no network allowlist.
    Unknown,
}

impl Client {
    pub fn ip(self) -> Option<IpAddr> {
        match self {
            Client::Known(ip) => Some(ip),
            Client::Unknown => None,
        }
    }
}

/// One `X-Forwarded-For` entry: `203.0.113.7`, `203.0.113.7:5555`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:5555`, with spaces around. None for anything else.
pub fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if entry.is_empty() {
        return None;
    }
    let ip = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
        // `[v6]` without a port; a zone (`%eth0`) is refused like any other oddity.
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse::<std::net::Ipv6Addr>().ok())
                .map(IpAddr::V6)
        })?;
    Some(ip.to_canonical())
}

/// The client of a request that came from `peer`, given the `X-Forwarded-For` values in the
/// order they appear (several headers are one list) and which addresses are trusted proxies.
pub fn client<'a>(
    peer: IpAddr,
    forwarded: impl IntoIterator<Item = &'a str>,
    trusted: impl Fn(IpAddr) -> bool,
) -> Client {
    // `::ffff:10.0.0.1` from a dual-stack socket is the IPv4 address the networks name.
    let peer = peer.to_canonical();
    if !trusted(peer) {
        return Client::Known(peer);
    }
    let entries: Vec<&str> = forwarded.into_iter().flat_map(|v| v.split(',')).collect();
    for entry in entries.into_iter().rev() {
        match parse_entry(entry) {
            Some(ip) if trusted(ip) => continue,
            Some(ip) => return Client::Known(ip),
            None => return Client::Unknown,
        }
    }
    // Every hop is a trusted proxy (or there is no header): the farthest one is the client.
    Client::Known(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn in_ten(ip: IpAddr) -> bool {
        matches!(ip, IpAddr::V4(v4) if v4.octets()[0] == 10)
    }

    #[test]
    fn entries_with_ports_and_brackets_are_read() {
        assert_eq!(parse_entry(" 203.0.113.7 "), Some(ip("203.0.113.7")));
        assert_eq!(parse_entry("203.0.113.7:5555"), Some(ip("203.0.113.7")));
        assert_eq!(parse_entry("2001:db8::1"), Some(ip("2001:db8::1")));
        assert_eq!(parse_entry("[2001:db8::1]"), Some(ip("2001:db8::1")));
        assert_eq!(parse_entry("[2001:db8::1]:5555"), Some(ip("2001:db8::1")));
        assert_eq!(parse_entry("::ffff:10.0.0.7"), Some(ip("10.0.0.7")));
        for bad in [
            "",
            "unknown",
            "_hidden",
            "203.0.113.7:",
            "203.0.113.7:99999",
            "[203.0.113.7]",
            "[2001:db8::1",
            "2001:db8::1]:5",
            "1.2.3.4.5",
            "[fe80::1%eth0]",
        ] {
            assert_eq!(parse_entry(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        assert_eq!(
            client(ip("203.0.113.9"), ["10.1.1.1"], in_ten),
            Client::Known(ip("203.0.113.9"))
        );
    }

    #[test]
    fn the_walk_stops_at_the_first_untrusted_entry_from_the_right() {
        let peer = ip("10.0.0.1");
        assert_eq!(
            client(peer, ["198.51.100.1, 203.0.113.7, 10.0.0.2"], in_ten),
            Client::Known(ip("203.0.113.7"))
        );
        // The probe's cases: a port, a bracketed IPv6, `unknown` on the right of a
        // client-written trusted-looking address.
        assert_eq!(
            client(peer, ["10.1.1.1, 203.0.113.7:5555"], in_ten),
            Client::Known(ip("203.0.113.7"))
        );
        assert_eq!(
            client(peer, ["10.1.1.1, [2001:db8::1]:5555"], in_ten),
            Client::Known(ip("2001:db8::1"))
        );
        assert_eq!(client(peer, ["10.1.1.1, unknown"], in_ten), Client::Unknown);
        assert_eq!(client(peer, ["10.1.1.1,"], in_ten), Client::Unknown);
        // Several headers are one list, in order.
        assert_eq!(
            client(peer, ["203.0.113.7", "10.0.0.3"], in_ten),
            Client::Known(ip("203.0.113.7"))
        );
        // Only proxies: the farthest is as far as we can see.
        assert_eq!(client(peer, ["10.0.0.3"], in_ten), Client::Known(peer));
        assert_eq!(client(peer, [], in_ten), Client::Known(peer));
    }

    fn entry() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(|o| std::net::Ipv4Addr::from(o).to_string()),
            (any::<[u8; 4]>(), any::<u16>())
                .prop_map(|(o, p)| format!("{}:{p}", std::net::Ipv4Addr::from(o))),
            (any::<[u16; 8]>(), any::<u16>())
                .prop_map(|(s, p)| format!("[{}]:{p}", std::net::Ipv6Addr::from(s))),
            Just("10.9.9.9".to_string()),
            Just("unknown".to_string()),
            "[ -~]{0,12}",
        ]
    }

    proptest! {
        /// Whatever the list, the answer is the peer, an address that appears in the list
        /// and is not trusted, or unknown; and no trusted-looking entry on the left of an
        /// untrusted or unreadable one is ever believed.
        #[test]
        fn only_entries_right_of_the_first_untrusted_one_are_believed(
            entries in proptest::collection::vec(entry(), 0..8),
            peer_trusted in any::<bool>(),
        ) {
            let peer = if peer_trusted { ip("10.0.0.1") } else { ip("192.0.2.1") };
            let header = entries.join(",");
            let got = client(peer, [header.as_str()], in_ten);
            if !peer_trusted {
                prop_assert_eq!(got, Client::Known(peer));
                return Ok(());
            }
            // The expected answer, by the rule read literally.
            let parts: Vec<&str> = header.split(',').collect();
            let mut expected = Client::Known(peer);
            for part in parts.iter().rev() {
                match parse_entry(part) {
                    Some(a) if in_ten(a) => continue,
                    Some(a) => { expected = Client::Known(a); break; }
                    None => { expected = Client::Unknown; break; }
                }
            }
            prop_assert_eq!(got, expected);
            if let Client::Known(found) = got {
                prop_assert!(found == peer || !in_ten(found));
            }
        }

        /// Reading an entry never panics, and a readable one reads back the same address
        /// with or without a port.
        #[test]
        fn entries_read_back(text in "\\PC{0,40}", v4 in any::<[u8; 4]>(), port in any::<u16>()) {
            let _ = parse_entry(&text);
            let a = std::net::Ipv4Addr::from(v4);
            prop_assert_eq!(parse_entry(&format!("{a}:{port}")), Some(IpAddr::V4(a)));
        }
    }
}
