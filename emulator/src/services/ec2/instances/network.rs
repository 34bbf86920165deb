//! The addressing of a new instance: its private IP from the subnet, AWS's private DNS name for
//! it, a MAC address, and the instance profile identity. Pure functions, tested alone.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use crate::state::ids::IdGen;

/// `10.0.1.0/24` as (network address, prefix length); `None` when it is not a CIDR block.
pub fn parse_cidr(cidr: &str) -> Option<(u32, u32)> {
    let (ip, len) = cidr.split_once('/')?;
    let ip: Ipv4Addr = ip.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some((u32::from(ip) & mask, len))
}

/// The addresses of `cidr` an instance may have: AWS reserves the first four (network, router,
/// DNS, future use) and the last (broadcast).
pub fn usable_range(cidr: &str) -> Option<(u32, u32)> {
    let (net, len) = parse_cidr(cidr)?;
    let size = 1u64 << (32 - len);
    if size < 8 {
        return None;
    }
    let last = net as u64 + size - 2;
    Some((net + 4, last as u32))
}

/// Whether `ip` is one of the subnet's usable addresses.
pub fn is_usable(cidr: &str, ip: Ipv4Addr) -> bool {
    usable_range(cidr).is_some_and(|(lo, hi)| (lo..=hi).contains(&u32::from(ip)))
}

/// The lowest usable address of `cidr` not in `used`: AWS hands out addresses from `.4` up.
pub fn next_free(cidr: &str, used: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    let (lo, hi) = usable_range(cidr)?;
    (lo..=hi).map(Ipv4Addr::from).find(|ip| !used.contains(ip))
}

/// How many usable addresses of `cidr` are not in `used`.
pub fn free_count(cidr: &str, used: &BTreeSet<Ipv4Addr>) -> u64 {
    let Some((lo, hi)) = usable_range(cidr) else {
        return 0;
    };
    let taken = used
        .iter()
        .filter(|ip| (lo..=hi).contains(&u32::from(**ip)))
        .count() as u64;
    (hi - lo + 1) as u64 - taken
}

/// AWS's IP-based private DNS name: `ip-10-0-1-5.ec2.internal` in us-east-1, which kept its
/// original domain, and `ip-10-0-1-5.REGION.compute.internal` everywhere else.
pub fn private_dns_name(region: &str, ip: &str) -> String {
    let host = format!("ip-{}", ip.replace('.', "-"));
    if region == "us-east-1" {
        format!("{host}.ec2.internal")
    } else {
        format!("{host}.{region}.compute.internal")
    }
}

/// A public IPv4 address for instance `id`, its `n`-th: derived from the id (so that it draws
/// nothing from the id generator and a seeded run keeps its ids), in `54.0.0.0/8` as many of
/// EC2's are, and unlike every address `taken`.
pub fn public_ip(id: &str, n: u32, taken: &BTreeSet<String>) -> String {
    use sha2::{Digest, Sha256};
    for attempt in 0u32.. {
        let h = Sha256::digest(format!("{id}/{n}/{attempt}"));
        let ip = format!("54.{}.{}.{}", h[0], h[1], 1 + h[2] % 254);
        if !taken.contains(&ip) {
            return ip;
        }
    }
    unreachable!("an unbounded search ends")
}

/// EC2's public DNS name of a public address: `ec2-54-1-2-3.compute-1.amazonaws.com` in
/// us-east-1, `ec2-….REGION.compute.amazonaws.com` elsewhere.
pub fn public_dns_name(region: &str, ip: &str) -> String {
    let host = format!("ec2-{}", ip.replace('.', "-"));
    if region == "us-east-1" {
        format!("{host}.compute-1.amazonaws.com")
    } else {
        format!("{host}.{region}.compute.amazonaws.com")
    }
}

/// Gives instance `id` a new public address if it takes one (launch, start).
pub fn assign_public_ip(region: &mut super::super::model::Ec2Region, id: &str) {
    let taken: BTreeSet<String> = region
        .instances
        .values()
        .filter_map(|i| i.public_ip.clone())
        .collect();
    if let Some(i) = region.instances.get_mut(id) {
        if i.public_ip_on_launch {
            i.public_ip = Some(public_ip(id, i.public_ip_count, &taken));
            i.public_ip_count += 1;
        }
    }
}

/// A MAC address as EC2 assigns them: locally administered, unicast (`0a:…`, `12:…`).
pub fn mac(ids: &IdGen) -> String {
    let bits = ids.next_u64().to_be_bytes();
    let first = (bits[0] & 0xfc) | 0x02;
    let mut parts = vec![format!("{first:02x}")];
    parts.extend(bits[1..6].iter().map(|b| format!("{b:02x}")));
    parts.join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(ips: &[&str]) -> BTreeSet<Ipv4Addr> {
        ips.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn allocation_skips_reserved_and_used_addresses() {
        assert_eq!(
            next_free("10.0.1.0/24", &used(&[])),
            Some("10.0.1.4".parse().unwrap())
        );
        assert_eq!(
            next_free("10.0.1.0/24", &used(&["10.0.1.4", "10.0.1.6"])),
            Some("10.0.1.5".parse().unwrap())
        );
        assert_eq!(
            next_free("172.31.16.0/20", &used(&[])),
            Some("172.31.16.4".parse().unwrap())
        );
        // A /28 has 16 addresses, 11 of them usable: .4 to .14.
        let all: Vec<String> = (4..=14).map(|i| format!("10.0.0.{i}")).collect();
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        assert_eq!(next_free("10.0.0.0/28", &used(&all)), None);
        assert_eq!(free_count("10.0.0.0/28", &used(&[])), 11);
        assert_eq!(
            free_count("10.0.0.0/28", &used(&["10.0.0.9", "10.9.9.9"])),
            10
        );
        assert!(is_usable("10.0.0.0/28", "10.0.0.14".parse().unwrap()));
        assert!(!is_usable("10.0.0.0/28", "10.0.0.15".parse().unwrap()));
        assert!(!is_usable("10.0.0.0/28", "10.0.0.3".parse().unwrap()));
        assert_eq!(parse_cidr("10.0.1.7/24"), Some((0x0a00_0100, 24)));
        assert_eq!(parse_cidr("nope"), None);
    }

    #[test]
    fn dns_names_follow_the_region() {
        assert_eq!(
            private_dns_name("us-east-1", "10.0.1.5"),
            "ip-10-0-1-5.ec2.internal"
        );
        assert_eq!(
            private_dns_name("eu-west-1", "10.0.1.5"),
            "ip-10-0-1-5.eu-west-1.compute.internal"
        );
    }

    #[test]
    fn macs() {
        let m = mac(&IdGen::new(3));
        assert_eq!(m.len(), 17);
        let first = u8::from_str_radix(&m[..2], 16).unwrap();
        assert_eq!(first & 0x03, 0x02, "{m}");
    }
}
