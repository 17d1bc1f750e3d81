//! Statements classified before: what each statement text that a previous
//! parse accepted was found to be, so that after a small edit of big desired
//! files only the statements whose text changed are parsed and classified
//! again (parsing is most of the time of a plan whose desired-catalog cache
//! misses, and the kept shadow makes the rest small).
//!
//! An entry is keyed by the sha256 of the exact text of one piece of a file
//! (one statement as the splitter cut it, comments included) and holds what
//! `classify` and `definitions` made of it: both depend on nothing but that
//! text, for one converge version (the caller keeps the set per version),
//! and where in it the statement's first token starts and its last ends (so
//! a file whose pieces are all known need not be scanned). Only pieces that
//! are exactly one accepted statement are kept.

use super::StatementInfo;
use super::cuts::Cuts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::ops::Range;

/// The classification of statement texts seen before, and where each file
/// was cut into statements.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KnownStatements {
    by_text: HashMap<[u8; 32], Known>,
    cuts: HashMap<String, Cuts>,
}

/// What one statement text was found to be.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Known {
    info: StatementInfo,
    /// From the statement's first token to the end of its last, in the text
    /// (comments around it left out).
    tokens: Range<usize>,
}

impl KnownStatements {
    fn key(text: &str) -> [u8; 32] {
        Sha256::digest(text.as_bytes()).into()
    }

    /// What the statement `text` (a whole piece) was found to be, and where
    /// its tokens are in it.
    pub fn get(&self, text: &str) -> Option<(&StatementInfo, Range<usize>)> {
        if self.by_text.is_empty() {
            return None;
        }
        self.by_text
            .get(&Self::key(text))
            .map(|known| (&known.info, known.tokens.clone()))
    }

    pub fn insert(&mut self, text: &str, info: StatementInfo, tokens: Range<usize>) {
        self.by_text.insert(Self::key(text), Known { info, tokens });
    }

    /// Where the file at `path` was cut when it was last parsed.
    pub fn cuts(&self, path: &str) -> Option<&Cuts> {
        self.cuts.get(path)
    }

    pub fn set_cuts(&mut self, path: &str, cuts: Cuts) {
        self.cuts.insert(path.to_string(), cuts);
    }

    pub fn len(&self) -> usize {
        self.by_text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_text.is_empty()
    }
}
