//! The target's snapshot, held as bytes while a plan waits for its desired
//! state.
//!
//! A cold plan reads the target in a second or two, then waits many more
//! while the desired files are loaded into the shadow database and read. The
//! target's catalog (~70 MB in memory at 5,000 tables) was held all that
//! time, beside the shadow's catalog being built, and that made the cold
//! plan's peak memory. Encoded in postcard's compact form (as the
//! desired-catalog cache stores a catalog) it takes ~11 MB, and it is decoded
//! once the desired state is there (~0.2 s to encode and free, ~0.08 s to
//! decode at 5,000 tables). A plan whose desired state follows soon
//! after the target (a warm plan; most updates of a kept shadow) keeps the
//! snapshot as it is and pays nothing.

use crate::catalog::{QualifiedName, Snapshot, TableStats};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a target's snapshot is held as it is, waiting for the desired
/// state, before it is encoded: encoding and decoding 5,000 tables costs
/// ~0.3 s of CPU, worth it only when the wait is longer than that.
pub const HELD_FOR: Duration = Duration::from_millis(500);

/// A snapshot, as it was read or encoded.
pub enum Parked {
    Held(Box<Snapshot>),
    Encoded {
        body: Vec<u8>,
        /// Not serialized with the catalog (see `Snapshot::stats`).
        stats: BTreeMap<QualifiedName, TableStats>,
    },
}

impl Parked {
    /// `snapshot` encoded, and freed; held as it is if it cannot be encoded
    /// (it always can: plain data with string keys).
    pub fn park(mut snapshot: Snapshot) -> Parked {
        let stats = std::mem::take(&mut snapshot.stats);
        match postcard::to_stdvec(&snapshot) {
            Ok(mut body) => {
                // Grown by doubling while written: up to twice its size.
                body.shrink_to_fit();
                Parked::Encoded { body, stats }
            }
            Err(_) => {
                snapshot.stats = stats;
                Parked::Held(Box::new(snapshot))
            }
        }
    }

    /// The snapshot as it was parked, or why it cannot be decoded (a fault
    /// in converge: the caller reads the target again).
    pub fn unpark(self) -> Result<Snapshot, String> {
        match self {
            Parked::Held(snapshot) => Ok(*snapshot),
            Parked::Encoded { body, stats } => {
                let mut snapshot: Snapshot = postcard::from_bytes(&body).map_err(|e| e.to_string())?;
                snapshot.stats = stats;
                Ok(snapshot)
            }
        }
    }
}
