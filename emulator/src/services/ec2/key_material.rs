//! Key material for EC2 key pairs: reading the public keys ImportKeyPair accepts, making the keys
//! CreateKeyPair returns, and AWS's fingerprints of both.
//!
//! ImportKeyPair takes RSA keys as OpenSSH public keys (`ssh-rsa AAAA… comment`), RFC 4716 files
//! (`---- BEGIN SSH2 PUBLIC KEY ----`) and base64 DER (SubjectPublicKeyInfo or PKCS#1, with or
//! without PEM armour), and ED25519 keys as OpenSSH or RFC 4716 public keys; anything else (DSA,
//! ECDSA, a private key, garbage) is AWS's `InvalidKey.Format`. Fingerprints are AWS's, which are
//! not OpenSSH's: an imported RSA key's is the MD5 of its DER SubjectPublicKeyInfo, a created RSA
//! key's the SHA-1 of its DER PKCS#8 private key (both hex, colon-separated), an ED25519 key's the
//! base64 SHA-256 of its SSH wire blob, with `=` padding (EC2 user guide, "Verify the fingerprint
//! of your key pair").
//!
//! Created keys are real (a 2048-bit RSA key or an ED25519 key) and deterministic: their
//! randomness is a SHA-256 stream from 32 bytes the emulator's seeded id generator gives, so a run
//! with the same seed and the same calls makes the same keys.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::Md5;
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::protocol::{AwsError, AwsResult};

/// The two key types EC2 has (`KeyType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Rsa,
    Ed25519,
}

impl KeyType {
    /// The API's name (`rsa`, `ed25519`).
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Rsa => "rsa",
            KeyType::Ed25519 => "ed25519",
        }
    }

    /// The SSH algorithm name (`ssh-rsa`, `ssh-ed25519`).
    pub fn ssh_name(self) -> &'static str {
        match self {
            KeyType::Rsa => "ssh-rsa",
            KeyType::Ed25519 => "ssh-ed25519",
        }
    }
}

/// A public key as EC2 keeps it.
#[derive(Debug, Clone)]
pub struct PublicKey {
    pub key_type: KeyType,
    /// The SSH wire blob (RFC 4253 §6.6): what `openssh()` and IMDS serve.
    pub blob: Vec<u8>,
}

impl PublicKey {
    /// The OpenSSH one-line form without a comment: `ssh-rsa AAAA…`.
    pub fn openssh(&self) -> String {
        format!("{} {}", self.key_type.ssh_name(), B64.encode(&self.blob))
    }
}

/// What CreateKeyPair makes: the public key, the private key in the asked format, the fingerprint.
#[derive(Debug, Clone)]
pub struct Created {
    pub public: PublicKey,
    pub material: String,
    pub fingerprint: String,
}

/// `pem` (PKCS#1 for RSA, OpenSSH's format for ED25519) or `ppk` (PuTTY's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pem,
    Ppk,
}

/// The bits of an imported RSA key EC2 takes: 1024 at least (the user guide lists 1024, 2048 and
/// 4096; OpenSSH's default 3072 imports too), at most 16384.
const RSA_BITS: (usize, usize) = (1024, 16384);

/// AWS's answer to material it cannot read as a public key.
pub fn invalid_format() -> AwsError {
    AwsError::bad_request(
        "InvalidKey.Format",
        "Key is not in valid OpenSSH public key format",
    )
}

/// Reads the material of an ImportKeyPair (already base64-decoded from the wire).
pub fn parse_public(material: &[u8]) -> AwsResult<PublicKey> {
    let text = std::str::from_utf8(material).map(str::trim);
    let key = match text {
        Ok(t) if t.starts_with("---- BEGIN SSH2 PUBLIC KEY ----") => rfc4716(t),
        Ok(t) if t.starts_with("ssh-") => openssh(t),
        Ok(t) => der_text(t),
        // Raw DER, as a client that skips the base64 layer sends it.
        Err(_) => rsa_from_der(material),
    };
    let key = key.ok_or_else(invalid_format)?;
    if key.key_type == KeyType::Rsa {
        let (_, n) = rsa_parts(&key.blob).ok_or_else(invalid_format)?;
        let bits = n.bits();
        if bits < RSA_BITS.0 || bits > RSA_BITS.1 {
            return Err(invalid_format());
        }
    }
    Ok(key)
}

/// `ssh-rsa AAAA… comment`.
fn openssh(line: &str) -> Option<PublicKey> {
    let mut parts = line.split_whitespace();
    let algorithm = parts.next()?;
    let blob = B64.decode(parts.next()?).ok()?;
    let key = from_blob(blob)?;
    (key.key_type.ssh_name() == algorithm).then_some(key)
}

/// An RFC 4716 file: header lines (`Comment: "…"`, continued with a trailing `\`), then the blob
/// in base64 lines, between the BEGIN and END markers.
fn rfc4716(text: &str) -> Option<PublicKey> {
    let mut lines = text.lines().map(str::trim);
    lines.next()?;
    let mut body = String::new();
    let mut continued = false;
    let mut ended = false;
    for line in lines {
        if line == "---- END SSH2 PUBLIC KEY ----" {
            ended = true;
            break;
        }
        if continued {
            continued = line.ends_with('\\');
            continue;
        }
        if line.contains(':') {
            continued = line.ends_with('\\');
            continue;
        }
        body.push_str(line);
    }
    if !ended {
        return None;
    }
    from_blob(B64.decode(body).ok()?)
}

/// Base64 DER, optionally inside `-----BEGIN PUBLIC KEY-----` or `-----BEGIN RSA PUBLIC KEY-----`.
fn der_text(text: &str) -> Option<PublicKey> {
    let body: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .collect();
    rsa_from_der(&B64.decode(body).ok()?)
}

/// An RSA public key in DER: SubjectPublicKeyInfo, else PKCS#1 RSAPublicKey.
fn rsa_from_der(der: &[u8]) -> Option<PublicKey> {
    let key = RsaPublicKey::from_public_key_der(der)
        .or_else(|_| RsaPublicKey::from_pkcs1_der(der))
        .ok()?;
    Some(rsa_public(key.e(), key.n()))
}

/// A public key from its SSH wire blob: `ssh-rsa` (e, n) or `ssh-ed25519` (32 bytes), nothing
/// after them.
fn from_blob(blob: Vec<u8>) -> Option<PublicKey> {
    let mut r = Reader(&blob);
    let key_type = match r.string()? {
        b"ssh-rsa" => {
            let e = r.string()?;
            let n = r.string()?;
            // Positive mpints: no sign bit set, an odd exponent above 1.
            if e.first().is_none_or(|b| b & 0x80 != 0) || n.first().is_none_or(|b| b & 0x80 != 0) {
                return None;
            }
            let e = BigUint::from_bytes_be(e);
            if e <= BigUint::from(1u8)
                || e.bits() > 64
                || e.to_bytes_be().last().is_none_or(|b| b & 1 == 0)
            {
                return None;
            }
            KeyType::Rsa
        }
        b"ssh-ed25519" => {
            if r.string()?.len() != 32 {
                return None;
            }
            KeyType::Ed25519
        }
        _ => return None,
    };
    r.0.is_empty().then_some(PublicKey { key_type, blob })
}

/// (e, n) of an `ssh-rsa` blob.
fn rsa_parts(blob: &[u8]) -> Option<(BigUint, BigUint)> {
    let mut r = Reader(blob);
    r.string()?;
    let e = BigUint::from_bytes_be(r.string()?);
    let n = BigUint::from_bytes_be(r.string()?);
    Some((e, n))
}

fn rsa_public(e: &BigUint, n: &BigUint) -> PublicKey {
    let mut blob = Vec::new();
    put_string(&mut blob, b"ssh-rsa");
    put_mpint(&mut blob, e);
    put_mpint(&mut blob, n);
    PublicKey {
        key_type: KeyType::Rsa,
        blob,
    }
}

/// The fingerprint AWS shows for an imported key.
pub fn imported_fingerprint(key: &PublicKey) -> AwsResult<String> {
    match key.key_type {
        KeyType::Ed25519 => Ok(ed25519_fingerprint(&key.blob)),
        KeyType::Rsa => {
            let (e, n) = rsa_parts(&key.blob).ok_or_else(AwsError::internal)?;
            let spki = RsaPublicKey::new(n, e)
                .ok()
                .and_then(|k| k.to_public_key_der().ok())
                .ok_or_else(invalid_format)?;
            Ok(colon_hex(&Md5::digest(spki.as_bytes())))
        }
    }
}

fn ed25519_fingerprint(blob: &[u8]) -> String {
    B64.encode(Sha256::digest(blob))
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Makes a key pair of `key_type` from 32 seed bytes, its private key in `format`, `comment`
/// naming it inside formats that carry one.
pub fn create(
    key_type: KeyType,
    format: Format,
    seed: [u8; 32],
    comment: &str,
) -> AwsResult<Created> {
    match key_type {
        KeyType::Rsa => create_rsa(format, seed, comment),
        KeyType::Ed25519 => Ok(create_ed25519(format, seed, comment)),
    }
}

fn create_rsa(format: Format, seed: [u8; 32], comment: &str) -> AwsResult<Created> {
    let key =
        RsaPrivateKey::new(&mut SeededRng::new(seed), 2048).map_err(|_| AwsError::internal())?;
    let public = rsa_public(key.e(), key.n());
    let pkcs8 = key.to_pkcs8_der().map_err(|_| AwsError::internal())?;
    let fingerprint = colon_hex(&Sha1::digest(pkcs8.as_bytes()));
    let material = match format {
        Format::Pem => {
            let der = key.to_pkcs1_der().map_err(|_| AwsError::internal())?;
            pem("RSA PRIVATE KEY", der.as_bytes(), 64)
        }
        Format::Ppk => {
            let [p, q] = key.primes() else {
                return Err(AwsError::internal());
            };
            let iqmp = key.crt_coefficient().ok_or_else(AwsError::internal)?;
            let mut private = Vec::new();
            put_mpint(&mut private, key.d());
            put_mpint(&mut private, p);
            put_mpint(&mut private, q);
            put_mpint(&mut private, &iqmp);
            ppk(&public, &private, comment)
        }
    };
    Ok(Created {
        public,
        material,
        fingerprint,
    })
}

fn create_ed25519(format: Format, seed: [u8; 32], comment: &str) -> Created {
    let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::from(seed));
    let mut blob = Vec::new();
    put_string(&mut blob, b"ssh-ed25519");
    put_string(&mut blob, &pair.pk[..]);
    let public = PublicKey {
        key_type: KeyType::Ed25519,
        blob,
    };
    let material = match format {
        Format::Pem => openssh_private(&public, &pair.pk[..], &pair.sk[..], seed, comment),
        Format::Ppk => {
            let mut private = Vec::new();
            put_string(&mut private, &seed);
            ppk(&public, &private, comment)
        }
    };
    Created {
        fingerprint: ed25519_fingerprint(&public.blob),
        public,
        material,
    }
}

/// OpenSSH's private key file (PROTOCOL.key), unencrypted: what AWS returns for an ED25519 pem.
fn openssh_private(
    public: &PublicKey,
    pk: &[u8],
    sk: &[u8],
    seed: [u8; 32],
    comment: &str,
) -> String {
    let mut private = Vec::new();
    // The check integer, twice; any value does, so it comes from the seed too.
    let check = Sha256::digest(seed);
    private.extend_from_slice(&check[..4]);
    private.extend_from_slice(&check[..4]);
    put_string(&mut private, b"ssh-ed25519");
    put_string(&mut private, pk);
    put_string(&mut private, sk);
    put_string(&mut private, comment.as_bytes());
    let mut pad = 1u8;
    while private.len() % 8 != 0 {
        private.push(pad);
        pad += 1;
    }
    let mut file = b"openssh-key-v1\0".to_vec();
    put_string(&mut file, b"none");
    put_string(&mut file, b"none");
    put_string(&mut file, b"");
    file.extend_from_slice(&1u32.to_be_bytes());
    put_string(&mut file, &public.blob);
    put_string(&mut file, &private);
    pem("OPENSSH PRIVATE KEY", &file, 70)
}

/// A PuTTY private key file, version 2, unencrypted (readable by every PuTTY release): the MAC is
/// HMAC-SHA-1 keyed with SHA-1 of `putty-private-key-file-mac-key` (no passphrase). Lines end in
/// `\n`, which PuTTY reads as well as `\r\n` and which survives XML (a parser turns `\r\n` into `\n`).
fn ppk(public: &PublicKey, private: &[u8], comment: &str) -> String {
    let algorithm = public.key_type.ssh_name();
    let mut macdata = Vec::new();
    put_string(&mut macdata, algorithm.as_bytes());
    put_string(&mut macdata, b"none");
    put_string(&mut macdata, comment.as_bytes());
    put_string(&mut macdata, &public.blob);
    put_string(&mut macdata, private);
    let key = Sha1::digest(b"putty-private-key-file-mac-key");
    let mac = match Hmac::<Sha1>::new_from_slice(&key) {
        Ok(mut m) => {
            m.update(&macdata);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    };
    let lines = |bytes: &[u8]| -> Vec<String> { wrap(&B64.encode(bytes), 64) };
    let public_lines = lines(&public.blob);
    let private_lines = lines(private);
    let mut out = format!(
        "PuTTY-User-Key-File-2: {algorithm}\nEncryption: none\nComment: {comment}\nPublic-Lines: {}\n",
        public_lines.len()
    );
    for l in &public_lines {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str(&format!("Private-Lines: {}\n", private_lines.len()));
    for l in &private_lines {
        out.push_str(l);
        out.push('\n');
    }
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    out.push_str(&format!("Private-MAC: {hex}\n"));
    out
}

/// PEM armour: base64 in lines of `width`.
fn pem(label: &str, der: &[u8], width: usize) -> String {
    let mut out = format!("-----BEGIN {label}-----\n");
    for l in wrap(&B64.encode(der), width) {
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----"));
    out
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    text.as_bytes()
        .chunks(width)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// An SSH mpint: big-endian, a leading zero byte when the top bit is set.
fn put_mpint(out: &mut Vec<u8>, n: &BigUint) {
    let mut bytes = n.to_bytes_be();
    if bytes == [0] {
        bytes.clear();
    }
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    put_string(out, &bytes);
}

/// Reads SSH wire strings.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn string(&mut self) -> Option<&'a [u8]> {
        let len = u32::from_be_bytes(self.0.get(..4)?.try_into().ok()?) as usize;
        let s = self.0.get(4..4usize.checked_add(len)?)?;
        self.0 = &self.0[4 + len..];
        Some(s)
    }
}

/// Deterministic randomness for key generation: SHA-256 of the seed and a block counter. Keys
/// made from it are as good as their seed, which is all an emulator's keys need.
struct SeededRng {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl SeededRng {
    fn new(seed: [u8; 32]) -> Self {
        SeededRng {
            seed,
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }
}

impl rsa::rand_core::RngCore for SeededRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for d in dest {
            if self.used == self.block.len() {
                let mut h = Sha256::new();
                h.update(self.seed);
                h.update(self.counter.to_le_bytes());
                self.block = h.finalize().into();
                self.counter += 1;
                self.used = 0;
            }
            *d = self.block[self.used];
            self.used += 1;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for SeededRng {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys made by `ssh-keygen`; the fingerprints are `ssh-keygen -l -E sha256` (ED25519) and
    /// `ssh-keygen -e -m PKCS8 | openssl pkey -pubin -outform DER | openssl md5 -c` (RSA), as the
    /// EC2 user guide computes them.
    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKesxsar1Q09OgImx30+GbatyqLH/zQHI8bFIPiJuUja test@awsemu";
    const ED25519_FINGERPRINT: &str = "7J/+rrave0z4U0tmVQL/PiGULP/wg0Ejdnd+MZZDy8g=";
    const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCnbKAWwrmcH6wc827CyBy8JKluQUe/TPPKJwfYCbIXoaws8K517wcidgzrlRJqSOvsh8gCFcEKB9GtHhRP/m1YYJpgugBMyRmfpf7f7v38vbzUiiBSiuLnRVA1FtuUTHU4QMhIbJd3gdwhZeNLQjGZGQQ/iiIDXdTuHNWjxXJ+KfLO5KPzK1XrrMbO7Bi7netoxsG+QzzhsvsTupWYaEfj0Wz6TpxFA0w8BBzLAKT9otwgjb9LySFPPLTUcX/yvuB1SnJ26tf8UVrNyTKUCnlIKVzs5/MmF9j+oYDK8uO+tYtjL9mUnEiBCKnT1JoeL1IaJdkgMKRmgUJeQft3i5hF rsa@awsemu";
    const RSA_SPKI_B64: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAp2ygFsK5nB+sHPNuwsgcvCSpbkFHv0zzyicH2AmyF6GsLPCude8HInYM65USakjr7IfIAhXBCgfRrR4UT/5tWGCaYLoATMkZn6X+3+79/L281IogUori50VQNRbblEx1OEDISGyXd4HcIWXjS0IxmRkEP4oiA13U7hzVo8VyfinyzuSj8ytV66zGzuwYu53raMbBvkM84bL7E7qVmGhH49Fs+k6cRQNMPAQcywCk/aLcII2/S8khTzy01HF/8r7gdUpydurX/FFazckylAp5SClc7OfzJhfY/qGAyvLjvrWLYy/ZlJxIgQip09SaHi9SGiXZIDCkZoFCXkH7d4uYRQIDAQAB";
    const RSA_FINGERPRINT: &str = "47:28:f8:05:72:7e:e5:21:71:89:b9:06:19:b1:22:ba";

    #[test]
    fn fingerprints_match_openssh_and_openssl() {
        let ed = parse_public(ED25519.as_bytes()).unwrap();
        assert_eq!(imported_fingerprint(&ed).unwrap(), ED25519_FINGERPRINT);
        let rsa = parse_public(RSA.as_bytes()).unwrap();
        assert_eq!(rsa.key_type, KeyType::Rsa);
        assert_eq!(imported_fingerprint(&rsa).unwrap(), RSA_FINGERPRINT);
        // The same key as base64 DER, bare and in PEM armour.
        let der = parse_public(RSA_SPKI_B64.as_bytes()).unwrap();
        assert_eq!(der.blob, rsa.blob);
        let armoured = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----\n",
            &RSA_SPKI_B64[..64],
            &RSA_SPKI_B64[64..]
        );
        assert_eq!(parse_public(armoured.as_bytes()).unwrap().blob, rsa.blob);
        let raw = B64.decode(RSA_SPKI_B64).unwrap();
        assert_eq!(parse_public(&raw).unwrap().blob, rsa.blob);
    }

    #[test]
    fn openssh_and_rfc4716_read_the_same_key() {
        let a = parse_public(ED25519.as_bytes()).unwrap();
        assert_eq!(a.key_type, KeyType::Ed25519);
        let body = ED25519.split_whitespace().nth(1).unwrap();
        let file = format!(
            "---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"a long \\\ncomment\"\n{}\n{}\n---- END SSH2 PUBLIC KEY ----\n",
            &body[..40],
            &body[40..]
        );
        let b = parse_public(file.as_bytes()).unwrap();
        assert_eq!(a.blob, b.blob);
        assert_eq!(a.openssh(), ED25519.rsplit_once(' ').unwrap().0);
    }

    #[test]
    fn refuses_what_aws_refuses() {
        for bad in [
            "",
            "ssh-dss AAAAB3NzaC1kc3MAAACBAP",
            "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY=",
            "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIKesxsar1Q09OgImx30+GbatyqLH/zQHI8bFIPiJuUja",
            "ssh-ed25519 not-base64",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----",
        ] {
            let e = parse_public(bad.as_bytes()).unwrap_err();
            assert_eq!(e.code, "InvalidKey.Format", "{bad}");
        }
        // A 512-bit RSA key is too short.
        let small = rsa_public(&BigUint::from(65537u32), &(BigUint::from(1u8) << 511));
        let line = small.openssh();
        assert_eq!(
            parse_public(line.as_bytes()).unwrap_err().code,
            "InvalidKey.Format"
        );
    }

    #[test]
    fn created_keys_are_real_deterministic_and_read_back() {
        let a = create(KeyType::Rsa, Format::Pem, [7; 32], "k").unwrap();
        let b = create(KeyType::Rsa, Format::Pem, [7; 32], "k").unwrap();
        assert_eq!(a.material, b.material);
        assert!(a.material.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        assert_eq!(a.fingerprint.len(), 59, "20 bytes, colon-separated");
        // Its public key imports, with the imported (MD5) fingerprint.
        let imported = parse_public(a.public.openssh().as_bytes()).unwrap();
        assert_eq!(imported.blob, a.public.blob);
        assert_eq!(imported_fingerprint(&imported).unwrap().len(), 47);
        let der = B64
            .decode(
                a.material
                    .lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect::<String>(),
            )
            .unwrap();
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let key = RsaPrivateKey::from_pkcs1_der(&der).unwrap();
        key.validate().unwrap();
        assert_eq!(key.size(), 256);

        let e = create(KeyType::Ed25519, Format::Pem, [9; 32], "k").unwrap();
        assert!(e
            .material
            .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
        assert!(e.fingerprint.ends_with('='));
        let ppk = create(KeyType::Ed25519, Format::Ppk, [9; 32], "k").unwrap();
        assert!(ppk
            .material
            .starts_with("PuTTY-User-Key-File-2: ssh-ed25519\n"));
        assert_eq!(ppk.public.blob, e.public.blob);
        let rsa_ppk = create(KeyType::Rsa, Format::Ppk, [7; 32], "k").unwrap();
        assert_eq!(rsa_ppk.public.blob, a.public.blob);
        assert!(rsa_ppk.material.contains("Private-MAC: "));
    }
}
