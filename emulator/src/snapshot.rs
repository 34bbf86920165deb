//! Snapshots: the whole emulator as one value — every service's resources in every region in use,
//! the id generator's place, the virtual clock, the IAM entities and temporary credentials, the
//! faults in force with their counts and buckets, and the audit — so that a world can outlive its
//! process (`serve --state-file`) or be built once and forked for every test
//! ([`crate::Emulator::snapshot`], [`crate::EmulatorBuilder::from_snapshot`],
//! `POST /_awsemu/snapshots`). A restored emulator answers what the original would have answered
//! from that point on: the same ids next, the same clock.
//!
//! This module owns the file format. A file is one header line, then the body:
//!
//! ```text
//! {"format":"awsemu-state","version":1,"body_bytes":123456,"checksum":"8c1f0e0d6a2b4c5d"}
//! {"account_id":"123456789012","clock_ms":…,"world":{…},"identities":{…},"faults":{…},"audit":[…]}
//! ```
//!
//! JSON because the models already speak it (the state dump is the same serialization), a damaged
//! file says where, and `scripts/bench-snapshot` shows it fast enough (tens of milliseconds for
//! 20,000 resources). The header's version is checked before the body is read; its length tells a
//! truncated body from a complete one, and its checksum a damaged one. Files are written whole to a temporary file in the same
//! folder, synced, renamed over the old one and the folder synced, so a crash at any moment
//! leaves either the old file or the new one.
//!
//! What is not kept: ECR layer uploads in progress (the running SHA-256 of a part-uploaded layer
//! cannot be written out; after a file restore such an upload answers `UploadNotFoundException`)
//! and the call log. Configuration (timing, limits, principals and their keys) comes from the
//! restoring emulator's own configuration.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::audit::AuthCheck;
use crate::auth::identities::IdentitiesState;
use crate::faults::FaultsState;
use crate::state::WorldState;

/// The header's `format`.
pub const FORMAT: &str = "awsemu-state";
/// The version of the body's shape. Bump it whenever a model's serialized form changes: a file of
/// another version is refused rather than misread.
pub const VERSION: u32 = 1;

/// The first line of a state file.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    /// (Optional when reading, so that a file of another version with other header fields still
    /// gets the version message.)
    #[serde(default)]
    body_bytes: u64,
    #[serde(default)]
    /// [`checksum`] of the body: a byte changed anywhere is caught, even inside a string where
    /// the JSON would still parse.
    checksum: String,
}

/// FNV-1a over the body's 64-bit words (and its last bytes), as 16 hex digits. Not a defence
/// against anyone: it catches damage, and at several GB/s costs nothing next to the encoding. A
/// change in any one word always changes it (each step is a bijection of the running value).
pub fn checksum(bytes: &[u8]) -> String {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        h = (h ^ u64::from_le_bytes(word)).wrapping_mul(PRIME);
    }
    for b in words.remainder() {
        h = (h ^ u64::from(*b)).wrapping_mul(PRIME);
    }
    format!("{h:016x}")
}

/// Everything a snapshot holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Picture {
    /// A snapshot restores only into an emulator of the same account (ARNs name it).
    pub account_id: String,
    /// The virtual clock, ms since the epoch.
    pub clock_ms: i64,
    /// Whether the clock was a manual one: an emulator started from the snapshot gets one too.
    pub manual_clock: bool,
    pub world: WorldState,
    pub identities: IdentitiesState,
    pub faults: FaultsState,
    /// The audit's `(caller ARN, check, count)`.
    pub audit: Vec<(String, AuthCheck, u64)>,
}

/// A whole emulator at one moment. Cheap to clone (shared); restoring copies it, so any number of
/// emulators started from one snapshot never see each other's changes.
#[derive(Clone)]
pub struct Snapshot(Arc<Picture>);

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (instances, volumes) = self.counts();
        f.debug_struct("Snapshot")
            .field("account_id", &self.0.account_id)
            .field("clock_ms", &self.0.clock_ms)
            .field("instances", &instances)
            .field("volumes", &volumes)
            .finish()
    }
}

impl Snapshot {
    pub fn new(picture: Picture) -> Snapshot {
        Snapshot(Arc::new(picture))
    }

    pub fn picture(&self) -> &Picture {
        &self.0
    }

    pub fn account_id(&self) -> &str {
        &self.0.account_id
    }

    /// The virtual time it was taken at, ms.
    pub fn clock_ms(&self) -> i64 {
        self.0.clock_ms
    }

    /// EC2 instances and volumes in it, over all regions (for listings).
    pub fn counts(&self) -> (usize, usize) {
        let ec2 = self.0.world.ec2.values();
        ec2.fold((0, 0), |(i, v), r| {
            (i + r.instances.len(), v + r.volumes.len())
        })
    }

    /// The file form: header line and body.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let body = serde_json::to_vec(&*self.0).map_err(|e| format!("cannot encode: {e}"))?;
        let header = Header {
            format: FORMAT.to_string(),
            version: VERSION,
            body_bytes: body.len() as u64,
            checksum: checksum(&body),
        };
        let mut out = serde_json::to_vec(&header).map_err(|e| format!("cannot encode: {e}"))?;
        out.push(b'\n');
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Reads the file form back, refusing another format version or a damaged file with a
    /// message that names the problem.
    pub fn from_bytes(bytes: &[u8]) -> Result<Snapshot, String> {
        let not_ours = || {
            format!("not an awsemu state file (it does not start with the {FORMAT} header line)")
        };
        let Some(newline) = bytes.iter().take(4096).position(|b| *b == b'\n') else {
            return Err(not_ours());
        };
        let header: Header = serde_json::from_slice(&bytes[..newline]).map_err(|_| not_ours())?;
        if header.format != FORMAT {
            return Err(not_ours());
        }
        if header.version != VERSION {
            return Err(format!(
                "state format version {} is not the version this awsemu {} reads ({VERSION}); \
                 start without the file, or with the awsemu that wrote it",
                header.version,
                env!("CARGO_PKG_VERSION")
            ));
        }
        let body = &bytes[newline + 1..];
        if body.len() as u64 != header.body_bytes {
            return Err(format!(
                "damaged: the header announces {} bytes of state, the file holds {}",
                header.body_bytes,
                body.len()
            ));
        }
        if checksum(body) != header.checksum {
            return Err(format!(
                "damaged: the state's checksum is {}, the header says {}",
                checksum(body),
                header.checksum
            ));
        }
        let picture: Picture = serde_json::from_slice(body).map_err(|e| format!("damaged: {e}"))?;
        Ok(Snapshot::new(picture))
    }

    /// Reads a state file.
    pub fn read_file(path: &Path) -> Result<Snapshot, String> {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("state file {}: cannot read: {e}", path.display()))?;
        Self::from_bytes(&bytes).map_err(|e| format!("state file {}: {e}", path.display()))
    }

    /// Writes a state file atomically (see the module documentation); returns its size.
    pub fn write_file(&self, path: &Path) -> Result<u64, String> {
        let bytes = self.to_bytes()?;
        write_atomically(path, &bytes)
            .map_err(|e| format!("state file {}: cannot write: {e}", path.display()))?;
        Ok(bytes.len() as u64)
    }
}

/// Temporary file names of one process are distinct even when two writes overlap.
static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// `bytes` replace `path` whole or not at all: a temporary file in the same folder (a rename
/// across file systems would not be atomic), synced, renamed over `path`, then the folder synced
/// so the rename itself survives a power cut.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| std::io::Error::other("the path names no file"))?;
    let temp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        TEMP_SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
        return written;
    }
    #[cfg(unix)]
    std::fs::File::open(&dir)?.sync_all()?;
    Ok(())
}

/// Removes the temporary files that writes of `path` cut short by a crash left behind (those of
/// processes no longer running; another live server's write in progress is left alone). Only
/// where `/proc` tells which processes run; elsewhere they stay, harmless.
pub fn remove_stale_temporaries(path: &Path) {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = file.strip_prefix(&prefix).and_then(|r| r.split('-').next()) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !proc.join(pid).exists() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The snapshots `POST /_awsemu/snapshots` took, by id (`snap-1`, `snap-2`, … in order, so a run
/// repeats), and the lock that keeps two writes of the state file from interleaving.
#[derive(Debug, Default)]
pub struct Store {
    taken: Mutex<Vec<(String, Snapshot)>>,
    next: AtomicU64,
    file: Mutex<()>,
}

impl Store {
    /// Keeps `snapshot` and answers its id.
    pub fn keep(&self, snapshot: Snapshot) -> String {
        let id = format!("snap-{}", self.next.fetch_add(1, Ordering::Relaxed) + 1);
        let mut taken = self.taken.lock().unwrap_or_else(|p| p.into_inner());
        taken.push((id.clone(), snapshot));
        id
    }

    pub fn get(&self, id: &str) -> Option<Snapshot> {
        let taken = self.taken.lock().unwrap_or_else(|p| p.into_inner());
        taken.iter().find(|(i, _)| i == id).map(|(_, s)| s.clone())
    }

    /// Drops a kept snapshot (its memory); false when there is none of that id. Ids are not
    /// reused.
    pub fn forget(&self, id: &str) -> bool {
        let mut taken = self.taken.lock().unwrap_or_else(|p| p.into_inner());
        let before = taken.len();
        taken.retain(|(i, _)| i != id);
        taken.len() != before
    }

    /// Every kept snapshot, oldest first.
    pub fn list(&self) -> Vec<(String, Snapshot)> {
        self.taken.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Writes `snapshot` to `path`, one write at a time.
    pub fn write_file(&self, snapshot: &Snapshot, path: &Path) -> Result<u64, String> {
        let _one_at_a_time = self.file.lock().unwrap_or_else(|p| p.into_inner());
        snapshot.write_file(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_file_whole_and_leaves_nothing_behind() {
        let dir = std::env::temp_dir().join(format!("awsemu-atomic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        write_atomically(&path, b"old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        // A write a dead process (pid 0 is never one) left, and a live one's, beside it.
        let dead = dir.join(".state.json.tmp-0-1");
        let live = dir.join(format!(".state.json.tmp-{}-9", std::process::id()));
        std::fs::write(&dead, b"x").unwrap();
        std::fs::write(&live, b"x").unwrap();
        remove_stale_temporaries(&path);
        assert!(!dead.exists() && live.exists());
        std::fs::remove_file(&live).unwrap();
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_checksum_sees_any_one_byte_changed() {
        let body = br#"{"volumes":["vol-0123456789abcdef0","vol-0123456789abcdef1"],"n":1}"#;
        let sum = checksum(body);
        for i in 0..body.len() {
            let mut changed = body.to_vec();
            changed[i] ^= 0x20;
            assert_ne!(checksum(&changed), sum, "byte {i}");
        }
    }
}
