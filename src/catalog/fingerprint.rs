//! The catalog's fingerprint: sha256 of its canonical serialization.
//!
//! Two catalogs that converge considers equal have the same fingerprint; it is
//! what a plan records as "the state this plan was made against" and what the
//! history table stores before and after each apply.

use super::Catalog;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(pub String);

impl Fingerprint {
    /// The sha256 of any bytes, as lowercase hex.
    pub fn of_bytes(bytes: &[u8]) -> Fingerprint {
        Fingerprint(hex::encode(Sha256::digest(bytes)))
    }

    /// `of_bytes` of the parts one after the other, without joining them.
    pub fn of_parts<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Fingerprint {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        Fingerprint(hex::encode(hasher.finalize()))
    }

    /// The sha256 of the catalog's canonical JSON, hashed as it is written
    /// (a catalog of thousands of tables is megabytes of JSON).
    pub fn of_catalog(catalog: &Catalog) -> Fingerprint {
        let mut hasher = HashWriter(Sha256::new());
        {
            let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut hasher);
            // Serializing plain data with string keys into a hasher cannot fail.
            let _ = super::canonical::write_json(catalog, &mut buffered);
            let _ = std::io::Write::flush(&mut buffered);
        }
        Fingerprint(hex::encode(hasher.0.finalize()))
    }

    /// The first 12 hex digits, for messages.
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(12)]
    }
}

/// Feeds whatever is written to it into the hash.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_fingerprinted_as_the_bytes_they_make_together() {
        let parts: [&[u8]; 4] = [b"schema.sql", b"\0", b"", b"create table t ();"];
        assert_eq!(Fingerprint::of_parts(parts), Fingerprint::of_bytes(&parts.concat()));
        assert_ne!(Fingerprint::of_parts(parts), Fingerprint::of_bytes(b"schema.sql"));
    }

    #[test]
    fn the_fingerprint_is_the_sha256_of_the_canonical_json() {
        let catalog = super::super::canonical::unordered_catalog();
        let json = serde_json::to_vec(&catalog.canonical()).unwrap();
        assert_eq!(Fingerprint::of_catalog(&catalog), Fingerprint::of_bytes(&json));
        // What apply stores in the history row and hashes as its end state.
        let mut written = Vec::new();
        super::super::canonical::write_json(&catalog, &mut written).unwrap();
        assert_eq!(written, json);
        // Column order is not part of it.
        let mut reordered = catalog.clone();
        reordered.tables.values_mut().for_each(|t| t.columns.reverse());
        assert_eq!(Fingerprint::of_catalog(&catalog), Fingerprint::of_catalog(&reordered));
    }
}
