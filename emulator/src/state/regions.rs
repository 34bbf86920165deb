//! The commercial AWS regions and their availability zones, as a new account sees them.
//!
//! Zone letters and zone ids follow one fixed mapping (AWS shuffles letters per account; a fixed map
//! keeps runs repeatable). Regions marked opt-in are disabled until the config enables them: calls
//! to a disabled region fail authentication, as in AWS.

/// One region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub name: &'static str,
    /// Prefix of zone ids: `use1` -> `use1-az1`.
    pub zone_id_prefix: &'static str,
    /// The zone letters, in order; zone `n` of the list has id `…-az{n+1}`.
    pub zone_letters: &'static str,
    /// Regions launched since 2019 must be enabled per account.
    pub opt_in: bool,
    pub description: &'static str,
}

macro_rules! r {
    ($name:literal, $zid:literal, $letters:literal, $opt:literal, $desc:literal) => {
        Region {
            name: $name,
            zone_id_prefix: $zid,
            zone_letters: $letters,
            opt_in: $opt,
            description: $desc,
        }
    };
}

/// Every commercial region, sorted by name.
pub const REGIONS: &[Region] = &[
    r!("af-south-1", "afs1", "abc", true, "Africa (Cape Town)"),
    r!("ap-east-1", "ape1", "abc", true, "Asia Pacific (Hong Kong)"),
    r!("ap-east-2", "ape2", "abc", true, "Asia Pacific (Taipei)"),
    r!(
        "ap-northeast-1",
        "apne1",
        "acd",
        false,
        "Asia Pacific (Tokyo)"
    ),
    r!(
        "ap-northeast-2",
        "apne2",
        "abcd",
        false,
        "Asia Pacific (Seoul)"
    ),
    r!(
        "ap-northeast-3",
        "apne3",
        "abc",
        false,
        "Asia Pacific (Osaka)"
    ),
    r!("ap-south-1", "aps1", "abc", false, "Asia Pacific (Mumbai)"),
    r!(
        "ap-south-2",
        "aps2",
        "abc",
        true,
        "Asia Pacific (Hyderabad)"
    ),
    r!(
        "ap-southeast-1",
        "apse1",
        "abc",
        false,
        "Asia Pacific (Singapore)"
    ),
    r!(
        "ap-southeast-2",
        "apse2",
        "abc",
        false,
        "Asia Pacific (Sydney)"
    ),
    r!(
        "ap-southeast-3",
        "apse3",
        "abc",
        true,
        "Asia Pacific (Jakarta)"
    ),
    r!(
        "ap-southeast-4",
        "apse4",
        "abc",
        true,
        "Asia Pacific (Melbourne)"
    ),
    r!(
        "ap-southeast-5",
        "apse5",
        "abc",
        true,
        "Asia Pacific (Malaysia)"
    ),
    r!(
        "ap-southeast-6",
        "apse6",
        "abc",
        true,
        "Asia Pacific (New Zealand)"
    ),
    r!(
        "ap-southeast-7",
        "apse7",
        "abc",
        true,
        "Asia Pacific (Thailand)"
    ),
    r!("ca-central-1", "cac1", "abd", false, "Canada (Central)"),
    r!("ca-west-1", "caw1", "abc", true, "Canada West (Calgary)"),
    r!("eu-central-1", "euc1", "abc", false, "Europe (Frankfurt)"),
    r!("eu-central-2", "euc2", "abc", true, "Europe (Zurich)"),
    r!("eu-north-1", "eun1", "abc", false, "Europe (Stockholm)"),
    r!("eu-south-1", "eus1", "abc", true, "Europe (Milan)"),
    r!("eu-south-2", "eus2", "abc", true, "Europe (Spain)"),
    r!("eu-west-1", "euw1", "abc", false, "Europe (Ireland)"),
    r!("eu-west-2", "euw2", "abc", false, "Europe (London)"),
    r!("eu-west-3", "euw3", "abc", false, "Europe (Paris)"),
    r!("il-central-1", "ilc1", "abc", true, "Israel (Tel Aviv)"),
    r!("me-central-1", "mec1", "abc", true, "Middle East (UAE)"),
    r!("me-south-1", "mes1", "abc", true, "Middle East (Bahrain)"),
    r!("mx-central-1", "mxc1", "abc", true, "Mexico (Central)"),
    r!(
        "sa-east-1",
        "sae1",
        "abc",
        false,
        "South America (Sao Paulo)"
    ),
    r!(
        "us-east-1",
        "use1",
        "abcdef",
        false,
        "US East (N. Virginia)"
    ),
    r!("us-east-2", "use2", "abc", false, "US East (Ohio)"),
    r!("us-west-1", "usw1", "ac", false, "US West (N. California)"),
    r!("us-west-2", "usw2", "abcd", false, "US West (Oregon)"),
];

/// One availability zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    pub id: String,
    pub region: &'static str,
}

/// A placeholder region for a value read back before its real region is set (snapshots key EC2
/// regions by name and set it right after).
pub fn first() -> &'static Region {
    &REGIONS[0]
}

pub fn region(name: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.name == name)
}

impl Region {
    pub fn zones(&self) -> Vec<Zone> {
        self.zone_letters
            .chars()
            .enumerate()
            .map(|(i, l)| Zone {
                name: format!("{}{l}", self.name),
                id: format!("{}-az{}", self.zone_id_prefix, i + 1),
                region: self.name,
            })
            .collect()
    }

    pub fn zone(&self, name: &str) -> Option<Zone> {
        self.zones().into_iter().find(|z| z.name == name)
    }

    pub fn ec2_endpoint(&self) -> String {
        format!("ec2.{}.amazonaws.com", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_zones_are_named_after_their_region() {
        assert!(REGIONS.windows(2).all(|w| w[0].name < w[1].name));
        let use1 = region("us-east-1").unwrap();
        let zones = use1.zones();
        assert_eq!(zones.len(), 6);
        assert_eq!(
            zones[0],
            Zone {
                name: "us-east-1a".into(),
                id: "use1-az1".into(),
                region: "us-east-1"
            }
        );
        assert!(region("us-west-1").unwrap().zone("us-west-1b").is_none());
        assert!(region("moon-1").is_none());
    }
}
