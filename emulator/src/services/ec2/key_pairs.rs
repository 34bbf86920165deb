//! Key pairs: ImportKeyPair, CreateKeyPair, DescribeKeyPairs, DeleteKeyPair. A key pair is known
//! by its name (unique in the region) and by its id (`key-` and 17 hex digits); RunInstances'
//! `KeyName` must name one, and the instance keeps its public key for IMDS' `public-keys/` even
//! after the pair is deleted, as in AWS. Key material: [`super::key_material`].

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::protocol::{AwsError, AwsResult, Output};
use crate::services::action::{Action, On, TagsIn};
use crate::services::Call;
use crate::state::filters::{self, Filter};
use crate::state::tags::{self, TAG_FILTERS};
use crate::state::{read, write};

use super::common;
use super::key_material::{self, Format, KeyType};
use super::kind::{Kind, NotFound, TagsOf};
use super::model::{Ec2Region, KeyPair};

/// The actions of this family. The creates are authorized on `key-pair/NAME`, the resource they
/// make (the Service Authorization Reference's `key-pair` type, named by its name), and so is
/// DeleteKeyPair by name; by id, on `key-pair/key-…`.
pub const ACTIONS: &[Action] = &[
    Action::new("ImportKeyPair", import_key_pair)
        .on(&[On::Name(&KEY_PAIR_NAME, "KeyName")])
        .tags(TagsIn::Specifications),
    Action::new("CreateKeyPair", create_key_pair)
        .on(&[On::Name(&KEY_PAIR_NAME, "KeyName")])
        .tags(TagsIn::Specifications),
    Action::new("DescribeKeyPairs", describe_key_pairs),
    Action::new("DeleteKeyPair", delete_key_pair)
        .on(&[On::Name(&KEY_PAIR_NAME, "KeyName"), On::Id("KeyPairId")]),
];

/// Key pairs, by id.
pub const KEY_PAIR: Kind = Kind {
    prefix: "key",
    arn_type: "key-pair",
    not_found: Some(NotFound {
        code: "InvalidKeyPair.NotFound",
        message: "The key pair '{id}' does not exist",
    }),
    tags: Some(TagsOf {
        get: |r, id| r.key_pairs.get(id).map(|k| &k.tags),
        get_mut: |r, id| r.key_pairs.get_mut(id).map(|k| &mut k.tags),
    }),
    ..Kind::BASE
};

/// A key pair by name, as RunInstances' `KeyName` and the creates are authorized: `key-pair/NAME`.
pub const KEY_PAIR_NAME: crate::services::action::Named = crate::services::action::Named {
    service: "ec2",
    regional: true,
    resource: "key-pair",
};

/// AWS's answer for a key pair name (or id) the region does not have.
pub fn not_found(name: &str) -> AwsError {
    KEY_PAIR.not_found(name)
}

/// The key pair named `name`.
pub fn by_name<'r>(region: &'r Ec2Region, name: &str) -> Option<&'r KeyPair> {
    region.key_pairs.values().find(|k| k.name == name)
}

/// The public key line an instance launched with this pair serves (and DescribeKeyPairs'
/// `PublicKey`): the key and the pair's name as its comment.
pub fn public_key_line(k: &KeyPair) -> String {
    format!("{} {}", k.public_key, k.name)
}

/// "Up to 255 ASCII characters", and not empty.
fn check_name(name: &str) -> AwsResult<()> {
    if name.is_empty() {
        return Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter KeyName",
        ));
    }
    if name.len() > 255 || !name.is_ascii() {
        return Err(AwsError::invalid_value(format!(
            "Value ({name}) for parameter keyName is invalid. Key names are limited to 255 ASCII characters."
        )));
    }
    Ok(())
}

fn duplicate(name: &str) -> AwsError {
    AwsError::bad_request(
        "InvalidKeyPair.Duplicate",
        format!("The keypair '{name}' already exists."),
    )
}

/// Stores a new pair and writes the members ImportKeyPair and CreateKeyPair both answer.
fn insert(
    call: &Call<'_>,
    region: &mut Ec2Region,
    pair: KeyPair,
    material: Option<&str>,
) -> AwsResult<Output> {
    let mut w = call.writer();
    w.str("KeyFingerprint", &pair.fingerprint);
    if let Some(m) = material {
        w.str("KeyMaterial", m);
    }
    w.str("KeyName", &pair.name).str("KeyPairId", &pair.id);
    common::write_tags(&mut w, &pair.tags);
    call.created(&pair.id);
    region.key_pairs.insert(pair.id.clone(), pair);
    w.finish()
}

fn import_key_pair(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("KeyName")?;
    let material = p.required("PublicKeyMaterial")?;
    let mut specs = tags::from_specifications(&p, &[KEY_PAIR.arn_type])?;
    call.params()?.finish()?;
    check_name(name)?;
    // A blob travels base64-encoded; what it carries is the key file's text (or DER).
    let raw = B64
        .decode(material.trim())
        .map_err(|_| key_material::invalid_format())?;
    let key = key_material::parse_public(&raw)?;
    let fingerprint = key_material::imported_fingerprint(&key)?;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    if by_name(&region, name).is_some() {
        return Err(duplicate(name));
    }
    let pair = KeyPair {
        id: call.world.ids.resource_id(KEY_PAIR.prefix),
        name: name.to_string(),
        key_type: key.key_type.name().to_string(),
        fingerprint,
        public_key: key.openssh(),
        create_ms: call.now_ms,
        tags: specs.remove(KEY_PAIR.arn_type).unwrap_or_default(),
    };
    insert(call, &mut region, pair, None)
}

fn create_key_pair(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.required("KeyName")?;
    let key_type = match p.str("KeyType").unwrap_or("rsa") {
        "rsa" => KeyType::Rsa,
        "ed25519" => KeyType::Ed25519,
        other => {
            return Err(AwsError::invalid_value(format!(
                "Value ({other}) for parameter keyType is invalid. Valid values: rsa, ed25519"
            )))
        }
    };
    let format = match p.str("KeyFormat").unwrap_or("pem") {
        "pem" => Format::Pem,
        "ppk" => Format::Ppk,
        other => {
            return Err(AwsError::invalid_value(format!(
                "Value ({other}) for parameter keyFormat is invalid. Valid values: pem, ppk"
            )))
        }
    };
    let mut specs = tags::from_specifications(&p, &[KEY_PAIR.arn_type])?;
    call.params()?.finish()?;
    check_name(name)?;
    {
        let lock = common::region(call)?;
        if by_name(&read(&lock), name).is_some() {
            return Err(duplicate(name));
        }
    }
    // The key's randomness comes from the seeded generator; making it (tens of milliseconds for
    // RSA) happens outside the region's lock.
    let ids = &call.world.ids;
    let mut seed = [0u8; 32];
    for chunk in seed.chunks_mut(8) {
        chunk.copy_from_slice(&ids.next_u64().to_le_bytes());
    }
    let made = key_material::create(key_type, format, seed, name)?;
    let id = ids.resource_id(KEY_PAIR.prefix);
    let lock = common::region(call)?;
    let mut region = write(&lock);
    // Checked again: a concurrent create of the same name may have won meanwhile.
    if by_name(&region, name).is_some() {
        return Err(duplicate(name));
    }
    let pair = KeyPair {
        id,
        name: name.to_string(),
        key_type: key_type.name().to_string(),
        fingerprint: made.fingerprint,
        public_key: made.public.openssh(),
        create_ms: call.now_ms,
        tags: specs.remove(KEY_PAIR.arn_type).unwrap_or_default(),
    };
    insert(call, &mut region, pair, Some(&made.material))
}

/// The filters DescribeKeyPairs takes.
const KEY_PAIR_FILTERS: &[&str] = &[
    "key-pair-id",
    "key-name",
    "fingerprint",
    "key-type",
    TAG_FILTERS[0],
    TAG_FILTERS[1],
    TAG_FILTERS[2],
];

fn matches(f: &Filter, k: &KeyPair) -> bool {
    if let Some(m) = tags::filter_matches(f, &k.tags) {
        return m;
    }
    match f.name.as_str() {
        "key-pair-id" => f.matches(&k.id),
        "key-name" => f.matches(&k.name),
        "fingerprint" => f.matches(&k.fingerprint),
        "key-type" => f.matches(&k.key_type),
        _ => false,
    }
}

fn describe_key_pairs(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let names = p.strings("KeyName")?;
    let ids = p.strings("KeyPairId")?;
    let filters = filters::parse(&p, KEY_PAIR_FILTERS)?;
    let include_public = p.bool("IncludePublicKey")?.unwrap_or(false);
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let region = read(&lock);
    let unseen = common::unseen(call, &KEY_PAIR);
    for name in &names {
        match by_name(&region, name) {
            Some(k) if unseen.listed(&k.id) => {}
            _ => return Err(not_found(name)),
        }
    }
    for id in &ids {
        if !region.key_pairs.contains_key(*id) || !unseen.listed(id) {
            return Err(not_found(id));
        }
    }
    let mut found: Vec<&KeyPair> = region
        .key_pairs
        .values()
        .filter(|k| names.is_empty() || names.contains(&k.name.as_str()))
        .filter(|k| ids.is_empty() || ids.contains(&k.id.as_str()))
        .filter(|k| unseen.listed(&k.id))
        .filter(|k| filters.iter().all(|f| matches(f, k)))
        .collect();
    // AWS lists key pairs by name.
    found.sort_by(|a, b| a.name.cmp(&b.name));
    let mut w = call.writer();
    w.list("KeyPairs", found, |w, k| {
        w.str("KeyPairId", &k.id).str("KeyType", &k.key_type);
        common::write_tags(w, &k.tags);
        if include_public {
            w.str("PublicKey", public_key_line(k));
        }
        w.time("CreateTime", k.create_ms)
            .str("KeyName", &k.name)
            .str("KeyFingerprint", &k.fingerprint);
    });
    w.finish()
}

fn delete_key_pair(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let name = p.str("KeyName").filter(|n| !n.is_empty());
    let id = p.str("KeyPairId").filter(|n| !n.is_empty());
    call.params()?.finish()?;
    let lock = common::region(call)?;
    let mut region = write(&lock);
    let target = match (name, id) {
        (None, None) => {
            return Err(AwsError::bad_request(
                "MissingParameter",
                "The request must contain the parameter KeyName or KeyPairId",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(AwsError::invalid_combination(
                "The parameter KeyName cannot be used with the parameter KeyPairId",
            ))
        }
        // EC2 answers success for a name it does not have (nothing to delete).
        (Some(n), None) => by_name(&region, n).map(|k| k.id.clone()),
        (None, Some(i)) => match region.key_pairs.get(i) {
            Some(k) => Some(k.id.clone()),
            None => return Err(not_found(i)),
        },
    };
    let mut w = call.writer();
    w.bool("Return", true);
    if let Some(id) = target {
        region.key_pairs.remove(&id);
        w.str("KeyPairId", id);
    }
    w.finish()
}
