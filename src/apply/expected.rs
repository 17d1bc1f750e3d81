//! The end state a plan leads to, serialized while the steps run.
//!
//! Apply verifies its end state by its fingerprint, the sha256 of the
//! catalog's canonical JSON, and stores that JSON in the history row. For a
//! big catalog the JSON takes a while to write (~0.12 s at 5,000 tables),
//! and while the server runs the steps the client has nothing to do. When
//! the caller has the desired catalog (a plan made in the same run), a
//! thread of its own writes the desired catalog's JSON meanwhile; once the
//! end state is read, an end state *equal* to the desired catalog has that
//! same canonical JSON, so its fingerprint and JSON are the ones written
//! ahead, and only the comparison (~0.01 s) is left to do. An end state
//! that is not equal, or JSON whose fingerprint is not the plan's, gets its
//! own JSON written as before: this is a shortcut to the same answer, never
//! another answer.

use crate::catalog::{Catalog, Fingerprint};
use crate::timings;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::oneshot;

/// The desired catalog, and its fingerprint and canonical JSON being
/// written on another thread.
pub(super) struct Expected {
    desired: Arc<Catalog>,
    written: oneshot::Receiver<(Fingerprint, String)>,
}

impl Expected {
    /// Starts writing `desired`'s canonical JSON on a thread of its own.
    /// None when no thread can be started: the end state is then serialized
    /// after it is read.
    pub(super) fn start(desired: Arc<Catalog>) -> Option<Expected> {
        let (send, written) = oneshot::channel();
        let shared = Arc::clone(&desired);
        let writing = move || {
            let started = Instant::now();
            let end_state = super::end_state(&shared);
            timings::record("apply: the desired catalog's JSON (while the steps run)", started);
            // Nobody waits for it if the apply failed first.
            let _ = send.send(end_state);
        };
        std::thread::Builder::new().spawn(writing).ok()?;
        Some(Expected { desired, written })
    }

    /// The fingerprint and canonical JSON of `after`, when they are the
    /// desired catalog's: `after` equals it and its fingerprint is
    /// `expected`. Else None (the caller serializes `after` itself).
    pub(super) async fn of(self, after: &Catalog, expected: &Fingerprint) -> Option<(Fingerprint, String)> {
        let started = Instant::now();
        let equal = *after == *self.desired;
        timings::record("apply: the end state compared with the desired catalog", started);
        if !equal {
            return None;
        }
        let (fingerprint, json) = self.written.await.ok()?;
        (fingerprint == *expected).then_some((fingerprint, json))
    }
}
