//! Statements classified before: what each statement text that a previous
//! parse accepted was found to be, so that after a small edit of big desired
//! files only the statements whose text changed are parsed and classified
//! again (parsing is most of the time of a plan whose desired-catalog cache
//! misses, and the kept shadow makes the rest small).
//!
//! An entry is keyed by the sha256 of the exact text of one piece of a file
//! (one statement as the splitter cut it, comments included) and holds what
//! `classify` and `definitions` made of it: both depend on nothing but that
//! text, for one converge version (the caller keeps the set per version).
//! Only pieces that are exactly one accepted statement are kept.

use super::StatementInfo;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The classification of statement texts seen before.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KnownStatements {
    by_text: HashMap<[u8; 32], StatementInfo>,
}

impl KnownStatements {
    fn key(text: &str) -> [u8; 32] {
        Sha256::digest(text.as_bytes()).into()
    }

    /// What the statement `text` (a whole piece) was found to be.
    pub fn get(&self, text: &str) -> Option<&StatementInfo> {
        if self.by_text.is_empty() {
            return None;
        }
        self.by_text.get(&Self::key(text))
    }

    pub fn insert(&mut self, text: &str, info: StatementInfo) {
        self.by_text.insert(Self::key(text), info);
    }

    pub fn len(&self) -> usize {
        self.by_text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_text.is_empty()
    }
}
