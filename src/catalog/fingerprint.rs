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

    pub fn of_catalog(catalog: &Catalog) -> Fingerprint {
        let canonical = catalog.canonical();
        // Serializing plain data with string keys cannot fail.
        let json = serde_json::to_vec(&canonical).unwrap_or_default();
        Fingerprint::of_bytes(&json)
    }

    /// The first 12 hex digits, for messages.
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(12)]
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
