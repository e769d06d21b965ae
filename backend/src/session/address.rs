//! Where a connection comes from, and the limits kept per address before
//! sign-in: how many WebSockets one address may hold open without having
//! signed in ([`Unsigned`]), and (in [`super::rate_limit::Limits`]) how many
//! accounts it may register.
//!
//! The address is the TCP peer's, or — when the peer is a configured trusted
//! proxy (nginx in front of the nodes) — the nearest untrusted address in
//! its `X-Forwarded-For`. An IPv6 address counts by its /64, the block one
//! subscriber is usually given.

use axum::http::HeaderMap;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

/// The TCP peer of an HTTP request, as the listener accepted it (a request
/// extension set by [`crate::http::serve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

/// A proxy, or a network of them, whose `X-Forwarded-For` is believed:
/// `10.0.0.2`, or `172.16.0.0/12` (the networks Docker gives containers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy {
    network: IpAddr,
    prefix: u8,
}

impl TrustedProxy {
    /// Whether `ip` is this proxy or on this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let prefix = u32::from(self.prefix);
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for TrustedProxy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (ip, prefix) = text.split_once('/').unwrap_or((text, ""));
        let network: IpAddr = ip
            .trim()
            .parse()
            .map_err(|_| format!("{text}: not an IP address or network"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            "" => bits,
            p => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("{text}: the prefix length is 0 to {bits}"))?,
        };
        Ok(Self { network, prefix })
    }
}

/// The address limits count by: an IPv4 address or an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressKey(IpAddr);

impl AddressKey {
    /// The key of `ip`: IPv4 (also when mapped into IPv6) as is, IPv6 cut
    /// to its /64.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    Self(IpAddr::V6(Ipv6Addr::from(prefix)))
                }
            },
        }
    }

    /// The key of a request from `peer` (none known: one shared key) with
    /// `headers`, believing `X-Forwarded-For` only from `trusted` proxies.
    pub fn of_request(peer: Option<Peer>, headers: &HeaderMap, trusted: &[TrustedProxy]) -> Self {
        let trusted_ip = |ip: IpAddr| trusted.iter().any(|proxy| proxy.contains(ip));
        let Some(Peer(peer)) = peer else {
            return Self::of(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        };
        let mut client = peer.ip();
        if trusted_ip(client) {
            // Each proxy appends the address it heard from: read from the
            // right, past our own proxies, to the first one we do not run.
            let hops = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .map(str::trim)
                .collect::<Vec<_>>();
            for hop in hops.into_iter().rev() {
                let Ok(ip) = hop.parse::<IpAddr>() else {
                    break;
                };
                client = ip;
                if !trusted_ip(ip) {
                    break;
                }
            }
        }
        Self::of(client)
    }
}

/// How many WebSockets each address holds open without having signed in.
#[derive(Debug)]
pub struct Unsigned {
    max: u32,
    open: Mutex<HashMap<AddressKey, u32>>,
}

impl Unsigned {
    /// No connection yet; at most `max` per address.
    pub fn shared(max: u32) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            open: Mutex::new(HashMap::new()),
        })
    }

    /// Counts one more connection of `address` until the guard is dropped
    /// (at sign-in or close); `None` if it already holds the most.
    pub fn admit(self: &Arc<Self>, address: AddressKey) -> Option<UnsignedGuard> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(address).or_default();
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(UnsignedGuard {
            count: self.clone(),
            address,
        })
    }

    fn release(&self, address: AddressKey) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&address);
            }
        }
    }
}

/// One connection not yet signed in, counted against its address.
#[derive(Debug)]
pub struct UnsignedGuard {
    count: Arc<Unsigned>,
    address: AddressKey,
}

impl Drop for UnsignedGuard {
    fn drop(&mut self) {
        self.count.release(self.address);
    }
}

/// A connection's address and, until it signs in, its place in the count.
#[derive(Debug)]
pub struct Client {
    /// Where it comes from.
    pub address: AddressKey,
    /// Its place among its address's connections that have not signed in.
    pub unsigned: Option<UnsignedGuard>,
}

#[cfg(test)]
mod tests {
    use super::{AddressKey, Peer, TrustedProxy, Unsigned};
    use axum::http::HeaderMap;
    use std::net::IpAddr;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn key_of(peer: &str, forwarded: &[&str], trusted: &[&str]) -> AddressKey {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().expect("a header"));
        }
        let trusted: Vec<TrustedProxy> =
            trusted.iter().map(|t| t.parse().expect("valid")).collect();
        let peer = Peer(std::net::SocketAddr::new(ip(peer), 4242));
        AddressKey::of_request(Some(peer), &headers, &trusted)
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let client = AddressKey::of(ip("203.0.113.7"));
        // Straight from a client: its header is ignored.
        assert_eq!(
            key_of("198.51.100.1", &["203.0.113.7"], &[]),
            AddressKey::of(ip("198.51.100.1"))
        );
        // Through our proxy: the address it heard from, not what the client wrote.
        assert_eq!(
            key_of("10.0.0.2", &["1.2.3.4, 203.0.113.7"], &["10.0.0.2"]),
            client
        );
        // Through two of our proxies.
        assert_eq!(
            key_of(
                "10.0.0.2",
                &["203.0.113.7", "10.0.0.3"],
                &["10.0.0.2", "10.0.0.3"]
            ),
            client
        );
        // A trusted proxy without a usable header: the proxy itself.
        assert_eq!(
            key_of("10.0.0.2", &["junk"], &["10.0.0.2"]),
            AddressKey::of(ip("10.0.0.2"))
        );
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let docker: TrustedProxy = "172.16.0.0/12".parse().expect("valid");
        assert!(docker.contains(ip("172.18.0.5")));
        assert!(!docker.contains(ip("172.32.0.1")));
        assert!(!docker.contains(ip("::1")));
        let one: TrustedProxy = "::1".parse().expect("valid");
        assert!(one.contains(ip("::1")) && !one.contains(ip("::2")));
        let all: TrustedProxy = "0.0.0.0/0".parse().expect("valid");
        assert!(all.contains(ip("203.0.113.7")));
        for bad in ["nginx", "10.0.0.0/33", "10.0.0.0/x", ""] {
            assert!(bad.parse::<TrustedProxy>().is_err(), "{bad}");
        }
        assert_eq!(
            key_of("172.18.0.5", &["203.0.113.7"], &["172.16.0.0/12"]),
            AddressKey::of(ip("203.0.113.7"))
        );
    }

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            AddressKey::of(ip("2001:db8:1:2:aaaa::1")),
            AddressKey::of(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            AddressKey::of(ip("2001:db8:1:2::1")),
            AddressKey::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            AddressKey::of(ip("::ffff:192.0.2.1")),
            AddressKey::of(ip("192.0.2.1"))
        );
    }

    #[test]
    fn an_address_holds_at_most_max_unsigned_connections() {
        let unsigned = Unsigned::shared(2);
        let here = AddressKey::of(ip("192.0.2.1"));
        let there = AddressKey::of(ip("192.0.2.2"));
        let first = unsigned.admit(here).expect("first");
        let _second = unsigned.admit(here).expect("second");
        assert!(unsigned.admit(here).is_none());
        assert!(unsigned.admit(there).is_some(), "other addresses are apart");
        drop(first);
        assert!(
            unsigned.admit(here).is_some(),
            "a slot freed by a sign-in or close"
        );
    }
}
