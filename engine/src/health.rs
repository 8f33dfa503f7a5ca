//! Whether the store is in trouble (full, unreachable), as the requests last
//! found it: readiness reports it, and it is logged once per change of state
//! rather than once per failed request.

use std::sync::{Arc, Mutex};

use crate::store::{StoreError, Trouble};

/// The store's trouble as the last request found it; `None` when it answered.
#[derive(Debug, Clone, Default)]
pub(crate) struct StoreHealth(Arc<Mutex<Option<Trouble>>>);

impl StoreHealth {
    pub(crate) fn get(&self) -> Option<Trouble> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records what a call of the store found: it answered, or it failed. An
    /// error that is no trouble of the store's is a bug, logged where it is
    /// answered, and leaves the state as it was.
    pub(crate) fn record(&self, result: Result<(), &StoreError>) {
        match result {
            Ok(()) => self.set(None, None),
            Err(error) => {
                if let Some(trouble) = error.trouble() {
                    self.set(Some(trouble), Some(error));
                }
            }
        }
    }

    /// Records a state, logging a change of it.
    fn set(&self, now: Option<Trouble>, error: Option<&StoreError>) {
        let before = std::mem::replace(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()), now);
        if before == now {
            return;
        }
        match (now, error) {
            (Some(Trouble::Full), Some(error)) => {
                tracing::error!(%error, "the store is full: writes are refused until space is freed");
            }
            (Some(Trouble::Unavailable), Some(error)) => {
                tracing::error!(%error, "the store is unavailable: calls are refused until it answers");
            }
            _ => tracing::info!(was = ?before, "the store answers again"),
        }
    }
}
