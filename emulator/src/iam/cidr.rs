//! IPv4/IPv6 prefixes for the `IpAddress` and `NotIpAddress` condition operators.
//!
//! Hand-written over `std::net` because a prefix match is a shift and a compare.

use std::net::IpAddr;

/// An address block: `10.0.0.0/8`, `2001:db8::/32`, or a single address (`/32`, `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `addr` or `addr/len`. Host bits set below the prefix are allowed (AWS accepts
    /// `10.1.2.3/8`); they are ignored when matching.
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 3 {
                    return None;
                }
                (a, Some(p.parse::<u8>().ok()?))
            }
            None => (text, None),
        };
        let network: IpAddr = addr.parse().ok()?;
        let max = match network {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Cidr { network, prefix })
    }

    /// Is `addr` inside this block? Addresses of the other family never are.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, addr) {
            (IpAddr::V4(n), IpAddr::V4(a)) => same_prefix(
                u128::from(u32::from(n)) << 96,
                u128::from(u32::from(a)) << 96,
                self.prefix,
            ),
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                same_prefix(u128::from(n), u128::from(a), self.prefix)
            }
            _ => false,
        }
    }
}

/// Do the top `prefix` bits (of 128) agree?
fn same_prefix(a: u128, b: u128, prefix: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = 128 - u32::from(prefix.min(128));
    (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_blocks() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains(ip("10.255.1.2")));
        assert!(!c.contains(ip("11.0.0.1")));
        let host = Cidr::parse("192.168.1.7").unwrap();
        assert!(host.contains(ip("192.168.1.7")));
        assert!(!host.contains(ip("192.168.1.8")));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains(ip("203.0.113.9")));
        assert!(Cidr::parse("10.1.2.3/8").unwrap().contains(ip("10.9.9.9")));
        let odd = Cidr::parse("192.168.1.128/25").unwrap();
        assert!(odd.contains(ip("192.168.1.200")));
        assert!(!odd.contains(ip("192.168.1.100")));
    }

    #[test]
    fn ipv6_blocks() {
        let c = Cidr::parse("2001:db8::/32").unwrap();
        assert!(c.contains(ip("2001:db8:1::5")));
        assert!(!c.contains(ip("2001:db9::1")));
        assert!(Cidr::parse("::1").unwrap().contains(ip("::1")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("fe80::1")));
    }

    #[test]
    fn families_do_not_mix() {
        assert!(!Cidr::parse("0.0.0.0/0").unwrap().contains(ip("::1")));
        assert!(!Cidr::parse("::/0").unwrap().contains(ip("10.0.0.1")));
    }

    #[test]
    fn rejects_bad_blocks() {
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0/8",
            "10.0.0.0/+8",
            "x",
            "",
            "10.0.0.0/8/8",
            "10.0.0.0/0008",
        ] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
    }
}
