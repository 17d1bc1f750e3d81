//! The desired-catalog cache: the snapshot a shadow database gave for a set
//! of desired files, with the files' `SourceMap`, kept under
//! `.converge/cache/` so that planning the same files again (or against
//! another environment) skips parsing them and the shadow load.
//!
//! An entry is keyed by everything the snapshot depends on: the sha256 of the
//! desired files (paths and text), the major version of the server that
//! normalized them, the role that loaded them (it owns what they create) and
//! converge's own version. The entry's first line is a JSON header holding
//! that key and the sha256 of the rest of the file (the snapshot and source
//! map in postcard's compact binary form: a 1,000-table catalog is read back
//! several times faster than from JSON). An entry is used only when its header is readable, its key
//! equals the one asked for field by field, its checksum matches its body
//! and its source map was made from the files of the key; anything else
//! is a miss, never an error, and the shadow is loaded as if there were no
//! cache. It never holds a connection or talks to a database.
//!
//! Next to the entries, `statements.bin` holds what the last parse found
//! each statement text to be (`source::KnownStatements`), for one build of
//! converge, so that a miss after a small edit parses only the statements
//! that changed.

use crate::catalog::{Fingerprint, Snapshot};
use crate::source::{KnownStatements, SourceMap};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where the cache lives, relative to the working directory (the project's
/// `.converge/`, as for the embedded server).
pub const DEFAULT_DIR: &str = ".converge/cache";

/// `CONVERGE_CACHE`: another directory for the cache, or `off` for none.
pub const ENV_CACHE: &str = "CONVERGE_CACHE";

/// Version of the entry layout; entries of another layout are misses. (3:
/// postcard body; 4: indexes and key constraints record their partitions'
/// attached indexes; 5: those fields always written, as postcard needs; 6:
/// the catalog holds aggregates and tables their inheritance parents; 7:
/// a compact source map; 8: boxed identities, storage as a keyword; 9:
/// dependencies as a list of objects and edges between their positions.)
///
/// postcard is not self-describing: every field of every type must be
/// written, so catalog types must not use `skip_serializing_if` (an entry
/// would not read back). The fixtures test round-trips every fixture's
/// desired catalog through the cache to hold that.
const FORMAT: u32 = 9;

/// What a cached snapshot depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// sha256 of the desired files (`Sources::fingerprint`).
    pub desired_files: Fingerprint,
    /// The major version of the shadow server (`server_version_num / 10000`).
    pub server_major: i32,
    /// The role the shadow database was loaded as.
    pub role: String,
    pub converge_version: String,
}

impl CacheKey {
    /// The key for this build of converge.
    pub fn new(desired_files: Fingerprint, server_version_num: i32, role: &str) -> CacheKey {
        CacheKey {
            desired_files,
            server_major: server_version_num / 10000,
            role: role.to_string(),
            converge_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// The entry's file name: sha256 over every field.
    fn file_name(&self) -> String {
        let text = format!(
            "{}\0{}\0{}\0{}",
            self.desired_files, self.server_major, self.role, self.converge_version
        );
        format!("desired-{}.bin", Fingerprint::of_bytes(text.as_bytes()))
    }
}

/// What an entry holds: everything a plan needs from the desired files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedDesired {
    pub snapshot: Snapshot,
    pub source_map: SourceMap,
}

/// A `CachedDesired` of borrowed parts: it serializes to the same bytes.
#[derive(Serialize)]
struct CachedDesiredRef<'a> {
    snapshot: &'a Snapshot,
    source_map: &'a SourceMap,
}

impl CachedDesired {
    /// The body of the entry of these parts, encoded from them where they
    /// are (a plan goes on with the snapshot while its entry is written:
    /// copying a 5,000-table snapshot for the writer cost more than this).
    pub fn encode(snapshot: &Snapshot, source_map: &SourceMap) -> std::io::Result<Vec<u8>> {
        postcard::to_stdvec(&CachedDesiredRef { snapshot, source_map }).map_err(std::io::Error::other)
    }
}

/// The first line of an entry.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: u32,
    key: CacheKey,
    /// sha256 of the body (everything after the first line).
    checksum: Fingerprint,
}

/// The file of the statements classified by the last parse made with this
/// cache (`source::KnownStatements`): after an edit, only the statements
/// whose text changed are parsed again.
const STATEMENTS_FILE: &str = "statements.bin";

/// Layout of that file, and of what it holds (2: with each statement's
/// token range; 3: with where each file was cut).
const STATEMENTS_FORMAT: u32 = 3;

/// The first line of the statements file. What a statement is found to be
/// depends on converge's code, so the entry is for one build: the version,
/// and the modification time of the running executable (development builds
/// share a version).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct StatementsHeader {
    format: u32,
    converge_version: String,
    build: String,
    checksum: Fingerprint,
}

impl StatementsHeader {
    fn for_this_build(checksum: Fingerprint) -> Option<StatementsHeader> {
        Some(StatementsHeader {
            format: STATEMENTS_FORMAT,
            converge_version: env!("CARGO_PKG_VERSION").to_string(),
            build: this_build()?,
            checksum,
        })
    }
}

/// This build of converge, beside its version: the modification time of
/// the running executable (development builds share a version; every
/// cache file names the version already).
fn this_build() -> Option<String> {
    let modified = std::env::current_exe()
        .and_then(std::fs::metadata)
        .and_then(|m| m.modified())
        .ok()?;
    let since = modified.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(since.as_nanos().to_string())
}

/// Beside an entry (`<entry>.fingerprints`, JSON): the fingerprint of the
/// entry's catalog as plans normalized it, per normalization (the objects
/// the project manages, whether owners are), so that a plan from the cache
/// need not hash the desired catalog again (tens of MB of canonical JSON at
/// thousands of tables). Only used for the entry whose body has `checksum`,
/// by the build that wrote it: normalizing is converge's code.
#[derive(Debug, Serialize, Deserialize)]
struct DesiredFingerprints {
    build: String,
    checksum: Fingerprint,
    by_normalization: std::collections::BTreeMap<String, Fingerprint>,
}

/// A directory of cached desired snapshots.
#[derive(Debug, Clone)]
pub struct DesiredCache {
    dir: PathBuf,
}

impl DesiredCache {
    pub fn new(dir: impl Into<PathBuf>) -> DesiredCache {
        DesiredCache { dir: dir.into() }
    }

    /// The cache this process uses: `$CONVERGE_CACHE` when set (`off`
    /// disables it), else `.converge/cache/` in the working directory.
    pub fn from_env() -> Option<DesiredCache> {
        match std::env::var_os(ENV_CACHE) {
            Some(v) if v == "off" => None,
            Some(v) if !v.is_empty() => Some(DesiredCache::new(v)),
            _ => Some(DesiredCache::new(DEFAULT_DIR)),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What is cached under `key`, if there is a sound entry for it. An
    /// entry whose header and checksum match but whose body does not decode
    /// is converge's own fault (a catalog type that does not round-trip):
    /// still a miss, but said on stderr, so it is not silently slow.
    pub fn get(&self, key: &CacheKey) -> Option<CachedDesired> {
        self.get_checked(key).map(|(cached, _)| cached)
    }

    /// `get`, with the checksum of the entry's body (what names this entry
    /// in `desired_fingerprint`).
    pub fn get_checked(&self, key: &CacheKey) -> Option<(CachedDesired, Fingerprint)> {
        let bytes = std::fs::read(self.dir.join(key.file_name())).ok()?;
        let (header, body) = split_entry::<Header>(&bytes)?;
        if header.format != FORMAT || header.key != *key || header.checksum != Fingerprint::of_bytes(body) {
            return None;
        }
        let cached: CachedDesired = match postcard::from_bytes(body) {
            Ok(cached) => cached,
            Err(e) => {
                eprintln!(
                    "warning: the desired-catalog cache entry {} does not read back ({e}); \
                     loading the shadow database instead (please report this)",
                    self.dir.join(key.file_name()).display()
                );
                return None;
            }
        };
        (cached.source_map.fingerprint() == key.desired_files).then_some((cached, header.checksum))
    }

    /// The fingerprint of the catalog of the entry under `key` whose body
    /// has `checksum`, normalized as `normalization` names it, if this build
    /// recorded it.
    pub fn desired_fingerprint(
        &self,
        key: &CacheKey,
        checksum: &Fingerprint,
        normalization: &str,
    ) -> Option<Fingerprint> {
        let recorded = self.desired_fingerprints(key)?;
        if recorded.build != this_build()? || recorded.checksum != *checksum {
            return None;
        }
        recorded.by_normalization.get(normalization).cloned()
    }

    /// Records `fingerprint` for `desired_fingerprint`, keeping what this
    /// build recorded for other normalizations of the same entry.
    pub fn put_desired_fingerprint(
        &self,
        key: &CacheKey,
        checksum: &Fingerprint,
        normalization: &str,
        fingerprint: &Fingerprint,
    ) -> std::io::Result<()> {
        let build =
            this_build().ok_or_else(|| std::io::Error::other("the running executable has no modification time"))?;
        let mut recorded = self
            .desired_fingerprints(key)
            .filter(|r| r.build == build && r.checksum == *checksum)
            .unwrap_or_else(|| DesiredFingerprints {
                build,
                checksum: checksum.clone(),
                by_normalization: Default::default(),
            });
        recorded
            .by_normalization
            .insert(normalization.to_string(), fingerprint.clone());
        let bytes = serde_json::to_vec(&recorded).map_err(std::io::Error::other)?;
        self.write_file(&format!("{}.fingerprints", key.file_name()), &bytes)
    }

    fn desired_fingerprints(&self, key: &CacheKey) -> Option<DesiredFingerprints> {
        let bytes = std::fs::read(self.dir.join(format!("{}.fingerprints", key.file_name()))).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Stores `cached` under `key`, replacing any entry atomically (written
    /// to a temporary file in the same directory, then renamed).
    pub fn put(&self, key: &CacheKey, cached: &CachedDesired) -> std::io::Result<()> {
        let body = CachedDesired::encode(&cached.snapshot, &cached.source_map)?;
        let checksum = Fingerprint::of_bytes(&body);
        self.put_encoded(key, body, checksum)
    }

    /// `put`, with the entry encoded already (`CachedDesired::encode`), its
    /// checksum `Fingerprint::of_bytes(&body)`.
    pub fn put_encoded(&self, key: &CacheKey, body: Vec<u8>, checksum: Fingerprint) -> std::io::Result<()> {
        let header = Header {
            format: FORMAT,
            key: key.clone(),
            checksum,
        };
        self.write_entry(&key.file_name(), &header, &body)
    }

    /// The statements classified by the last parse made with this cache by
    /// this build of converge (none when there is no such file, or it is of
    /// another build or does not read back).
    pub fn known_statements(&self) -> KnownStatements {
        let read = || {
            let bytes = std::fs::read(self.dir.join(STATEMENTS_FILE)).ok()?;
            let (header, body) = split_entry::<StatementsHeader>(&bytes)?;
            if Some(&header) != StatementsHeader::for_this_build(Fingerprint::of_bytes(body)).as_ref() {
                return None;
            }
            postcard::from_bytes(body).ok()
        };
        read().unwrap_or_default()
    }

    /// Replaces the classified statements, atomically.
    /// `known` is a `KnownStatements`, or a `source::LearnedView` that
    /// serializes as one.
    pub fn put_known_statements(&self, known: &impl Serialize) -> std::io::Result<()> {
        let body = postcard::to_stdvec(known).map_err(std::io::Error::other)?;
        let header = StatementsHeader::for_this_build(Fingerprint::of_bytes(&body))
            .ok_or_else(|| std::io::Error::other("the running executable has no modification time"))?;
        self.write_entry(STATEMENTS_FILE, &header, &body)
    }

    /// Writes `header` as a JSON line then `body` to `name`, replacing any
    /// file atomically (a temporary file in the same directory, renamed).
    fn write_entry(&self, name: &str, header: &impl Serialize, body: &[u8]) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(header).map_err(std::io::Error::other)?;
        line.push(b'\n');
        // Written one after the other: the body (~12 MB at 5,000 tables)
        // is not copied behind the header first.
        self.write_parts(name, &[&line, body])
    }

    /// Writes `bytes` to `name`, replacing any file atomically.
    fn write_file(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.write_parts(name, &[bytes])
    }

    /// Writes `parts`, one after the other, to `name`, replacing any file
    /// atomically (a temporary file in the same directory, renamed).
    fn write_parts(&self, name: &str, parts: &[&[u8]]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        for part in parts {
            std::io::Write::write_all(&mut file, part)?;
        }
        file.persist(self.dir.join(name)).map_err(|e| e.error)?;
        Ok(())
    }
}

/// An entry's header (its first line, JSON) and body.
fn split_entry<H: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<(H, &[u8])> {
    let newline = bytes.iter().position(|b| *b == b'\n')?;
    let header = serde_json::from_slice(&bytes[..newline]).ok()?;
    Some((header, &bytes[newline + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{EnumType, QualifiedName};

    /// The files every entry of these tests was made from.
    fn desired() -> crate::source::Desired {
        crate::source::Desired::from_sources(crate::source::Sources::from_texts([(
            "a.sql".to_string(),
            "create type mood as enum ('happy', 'sad');".to_string(),
        )]))
        .unwrap()
    }

    fn entry() -> CachedDesired {
        CachedDesired {
            snapshot: snapshot(),
            source_map: SourceMap::of(&desired()),
        }
    }

    fn snapshot() -> Snapshot {
        let mut s = Snapshot {
            server_version: 150018,
            role: "postgres".into(),
            ..Default::default()
        };
        let name = QualifiedName::new("public", "mood");
        s.catalog.enums.insert(
            name.clone(),
            EnumType {
                name,
                labels: vec!["happy".into(), "sad".into()],
                owner: "postgres".into(),
                acl: Default::default(),
                comment: None,
            },
        );
        s
    }

    fn key() -> CacheKey {
        CacheKey::new(desired().fingerprint(), 150018, "postgres")
    }

    #[test]
    fn a_stored_snapshot_is_found_under_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DesiredCache::new(dir.path().join("cache"));
        assert_eq!(cache.get(&key()), None, "an empty cache has nothing");
        cache.put(&key(), &entry()).unwrap();
        assert_eq!(cache.get(&key()), Some(entry()));
        // Encoded from borrowed parts, an entry is the bytes of the entry itself.
        let e = entry();
        assert_eq!(
            CachedDesired::encode(&e.snapshot, &e.source_map).unwrap(),
            postcard::to_stdvec(&e).unwrap()
        );
        // Same major version, another minor: still a hit.
        let minor = CacheKey::new(key().desired_files, 150020, "postgres");
        assert_eq!(cache.get(&minor), Some(entry()));
    }

    #[test]
    fn a_recorded_fingerprint_is_found_for_its_entry_and_normalization_only() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DesiredCache::new(dir.path());
        cache.put(&key(), &entry()).unwrap();
        let (_, checksum) = cache.get_checked(&key()).unwrap();
        let e = entry();
        assert_eq!(
            checksum,
            Fingerprint::of_bytes(&CachedDesired::encode(&e.snapshot, &e.source_map).unwrap()),
            "the checksum names the entry's body"
        );
        assert_eq!(cache.desired_fingerprint(&key(), &checksum, "default"), None);
        let fp = Fingerprint::of_bytes(b"normalized");
        let other = Fingerprint::of_bytes(b"with owners");
        cache
            .put_desired_fingerprint(&key(), &checksum, "default", &fp)
            .unwrap();
        cache
            .put_desired_fingerprint(&key(), &checksum, "owners", &other)
            .unwrap();
        assert_eq!(
            cache.desired_fingerprint(&key(), &checksum, "default"),
            Some(fp.clone())
        );
        assert_eq!(cache.desired_fingerprint(&key(), &checksum, "owners"), Some(other));
        assert_eq!(cache.desired_fingerprint(&key(), &checksum, "filtered"), None);
        // Another body under the same key: nothing recorded for it, and
        // recording for it forgets the other body's.
        let changed = Fingerprint::of_bytes(b"another body");
        assert_eq!(cache.desired_fingerprint(&key(), &changed, "default"), None);
        cache.put_desired_fingerprint(&key(), &changed, "default", &fp).unwrap();
        assert_eq!(cache.desired_fingerprint(&key(), &checksum, "owners"), None);
        let minor = CacheKey::new(Fingerprint::of_bytes(b"other files"), 150018, "postgres");
        assert_eq!(
            cache.desired_fingerprint(&minor, &changed, "default"),
            None,
            "another entry"
        );
    }

    #[test]
    fn any_change_of_the_key_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DesiredCache::new(dir.path());
        cache.put(&key(), &entry()).unwrap();
        let changes = [
            CacheKey {
                desired_files: Fingerprint::of_bytes(b"create type mood ...;"),
                ..key()
            },
            CacheKey {
                server_major: 16,
                ..key()
            },
            CacheKey {
                role: "app".into(),
                ..key()
            },
            CacheKey {
                converge_version: "0.0.0-other".into(),
                ..key()
            },
        ];
        for other in changes {
            assert_eq!(
                cache.get(&other),
                None,
                "{other:?} must not find the entry of {:?}",
                key()
            );
        }
    }

    #[test]
    fn an_entry_made_from_other_files_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DesiredCache::new(dir.path());
        let other_files = crate::source::Desired::from_sources(crate::source::Sources::from_texts([(
            "b.sql".to_string(),
            "create type mood as enum ('happy', 'sad');".to_string(),
        )]))
        .unwrap();
        let wrong = CachedDesired {
            source_map: SourceMap::of(&other_files),
            ..entry()
        };
        cache.put(&key(), &wrong).unwrap();
        assert_eq!(cache.get(&key()), None, "a source map of other files must not be used");
    }

    #[test]
    fn an_entry_that_does_not_match_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DesiredCache::new(dir.path());
        let path = dir.path().join(key().file_name());
        cache.put(&key(), &entry()).unwrap();
        let good = std::fs::read(&path).unwrap();

        // A byte of the snapshot changed: the checksum no longer matches.
        let mut bad = good.clone();
        let at = bad.windows(5).position(|w| w == b"happy").unwrap();
        bad[at] = b'H';
        std::fs::write(&path, &bad).unwrap();
        assert_eq!(cache.get(&key()), None, "a corrupted body must be ignored");

        // Cut short.
        std::fs::write(&path, &good[..good.len() - 10]).unwrap();
        assert_eq!(cache.get(&key()), None, "a truncated entry must be ignored");

        // Another key's entry under this key's name (a renamed file).
        let other = CacheKey {
            server_major: 16,
            ..key()
        };
        cache.put(&other, &entry()).unwrap();
        std::fs::copy(dir.path().join(other.file_name()), &path).unwrap();
        assert_eq!(cache.get(&key()), None, "an entry for another key must be ignored");

        // Not an entry at all.
        std::fs::write(&path, b"garbage").unwrap();
        assert_eq!(cache.get(&key()), None);

        // Written again, it is found again.
        cache.put(&key(), &entry()).unwrap();
        assert_eq!(cache.get(&key()), Some(entry()));
    }
}
