//! Seedable id generation, so a run with the same seed and the same calls gets the same ids.
//!
//! Each id is `splitmix64(seed, n)` for the n-th draw: no lock, and the sequence depends only on the
//! seed and the order of draws.

use std::sync::atomic::{AtomicU64, Ordering};

/// The id source of one emulator.
#[derive(Debug)]
pub struct IdGen {
    seed: u64,
    counter: AtomicU64,
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl IdGen {
    pub fn new(seed: u64) -> IdGen {
        IdGen {
            seed,
            counter: AtomicU64::new(0),
        }
    }

    /// A generator that goes on from where one with `seed` stood after `drawn` draws (a restored
    /// snapshot: the ids that come next are those the original would have given).
    pub fn resumed(seed: u64, drawn: u64) -> IdGen {
        IdGen {
            seed,
            counter: AtomicU64::new(drawn),
        }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// How many draws were made so far.
    pub fn drawn(&self) -> u64 {
        self.counter.load(Ordering::Relaxed)
    }

    /// An independent generator for a named part of the world (a region's account shape), so its
    /// ids do not depend on the order parts are first used in.
    pub fn fork(&self, name: &str) -> IdGen {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        IdGen::new(splitmix64(self.seed ^ h))
    }

    /// The next 64 random bits.
    pub fn next_u64(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        splitmix64(self.seed ^ splitmix64(n))
    }

    /// `n` lower-case hex digits (AWS resource ids use 17: `i-0123456789abcdef0`).
    pub fn hex(&self, n: usize) -> String {
        let mut s = String::with_capacity(n + 16);
        while s.len() < n {
            s.push_str(&format!("{:016x}", self.next_u64()));
        }
        s.truncate(n);
        s
    }

    /// An AWS resource id: `prefix-` and 17 hex digits.
    pub fn resource_id(&self, prefix: &str) -> String {
        format!("{prefix}-{}", self.hex(17))
    }

    /// A request id in AWS's UUID form.
    pub fn request_id(&self) -> String {
        let hi = self.next_u64().to_be_bytes();
        let lo = self.next_u64().to_be_bytes();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&hi);
        bytes[8..].copy_from_slice(&lo);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_ids() {
        let a = IdGen::new(7);
        let b = IdGen::new(7);
        for _ in 0..100 {
            assert_eq!(a.resource_id("vol"), b.resource_id("vol"));
        }
        assert_ne!(
            IdGen::new(8).resource_id("i"),
            IdGen::new(7).resource_id("i")
        );
        let id = a.resource_id("i");
        assert_eq!(id.len(), 19);
        assert!(id[2..].bytes().all(|b| b.is_ascii_hexdigit()));
        let r = a.request_id();
        assert_eq!(uuid::Uuid::parse_str(&r).unwrap().get_version_num(), 4);
    }
}
