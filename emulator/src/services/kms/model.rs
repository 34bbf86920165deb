//! The KMS state of one region: keys and aliases, and the rules that follow from the clock (a
//! key whose deletion window has run out is gone, with every alias that pointed at it).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The key states awsemu models (AWS has more: PendingImport, Creating, … for imported,
/// multi-Region and custom-key-store keys, which are not emulated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
}

impl KeyState {
    pub fn name(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
        }
    }
}

/// Who manages a key: the account (`CreateKey`) or an AWS service (`alias/aws/<service>`, made on
/// first use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyManager {
    Customer,
    Aws,
}

impl KeyManager {
    pub fn name(self) -> &'static str {
        match self {
            KeyManager::Customer => "CUSTOMER",
            KeyManager::Aws => "AWS",
        }
    }
}

/// A KMS key (its metadata; no key material is kept, since no cryptographic operation is emulated).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Key {
    /// A UUID, or `mrk-` and 32 hex digits for a multi-Region key.
    pub id: String,
    pub arn: String,
    pub account: String,
    pub created_ms: i64,
    pub description: String,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY`, `GENERATE_VERIFY_MAC` or `KEY_AGREEMENT`.
    pub usage: String,
    /// `SYMMETRIC_DEFAULT`, `RSA_2048`, `ECC_NIST_P256`, `HMAC_256`, …
    pub spec: String,
    pub manager: KeyManager,
    pub state: KeyState,
    /// When a key pending deletion is deleted (ms).
    pub deletion_ms: Option<i64>,
    pub multi_region: bool,
    /// The key policy document as given (or AWS's default key policy).
    pub policy: String,
    pub tags: Vec<(String, String)>,
}

impl Key {
    /// Whether EBS (or any service encrypting with it) can use the key now: enabled, symmetric,
    /// for encryption. Anything else makes a volume creation fail, as AWS does.
    pub fn usable_for_encryption(&self) -> bool {
        self.state == KeyState::Enabled
            && self.spec == "SYMMETRIC_DEFAULT"
            && self.usage == "ENCRYPT_DECRYPT"
    }
}

/// An alias: a name for a key in this account and region.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alias {
    /// `alias/<name>`.
    pub name: String,
    pub target_key_id: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// All KMS resources of one region. Maps are ordered, so lists come in a stable order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KmsRegion {
    pub keys: BTreeMap<String, Key>,
    /// By alias name (`alias/…`).
    pub aliases: BTreeMap<String, Alias>,
}

impl KmsRegion {
    /// Deletes the keys whose waiting period has ended, and their aliases (AWS deletes "all KMS
    /// data associated with it, including all aliases that refer to it"). Every handler calls this
    /// first, so no one observes a key past its deletion date.
    pub fn settle(&mut self, now_ms: i64) {
        let gone: Vec<String> = self
            .keys
            .values()
            .filter(|k| k.deletion_ms.is_some_and(|at| now_ms >= at))
            .map(|k| k.id.clone())
            .collect();
        if gone.is_empty() {
            return;
        }
        for id in &gone {
            self.keys.remove(id);
        }
        self.aliases.retain(|_, a| !gone.contains(&a.target_key_id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, deletion_ms: Option<i64>) -> Key {
        Key {
            id: id.into(),
            arn: format!("arn:aws:kms:us-east-1:123456789012:key/{id}"),
            account: "123456789012".into(),
            created_ms: 0,
            description: String::new(),
            usage: "ENCRYPT_DECRYPT".into(),
            spec: "SYMMETRIC_DEFAULT".into(),
            manager: KeyManager::Customer,
            state: if deletion_ms.is_some() {
                KeyState::PendingDeletion
            } else {
                KeyState::Enabled
            },
            deletion_ms,
            multi_region: false,
            policy: String::new(),
            tags: Vec::new(),
        }
    }

    #[test]
    fn keys_past_their_deletion_date_go_with_their_aliases() {
        let mut r = KmsRegion::default();
        r.keys.insert("a".into(), key("a", Some(100)));
        r.keys.insert("b".into(), key("b", None));
        for (name, target) in [("alias/a", "a"), ("alias/b", "b")] {
            r.aliases.insert(
                name.into(),
                Alias {
                    name: name.into(),
                    target_key_id: target.into(),
                    created_ms: 0,
                    updated_ms: 0,
                },
            );
        }
        r.settle(99);
        assert_eq!(r.keys.len(), 2);
        r.settle(100);
        assert_eq!(r.keys.keys().collect::<Vec<_>>(), vec!["b"]);
        assert_eq!(r.aliases.keys().collect::<Vec<_>>(), vec!["alias/b"]);
        assert!(r.keys["b"].usable_for_encryption());
    }
}
