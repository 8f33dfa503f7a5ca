//! Whether the store is in trouble (full, unreachable), as the requests last
//! found it: readiness reports it, and it is logged once per change of state
//! rather than once per failed request.

use std::sync::{Arc, Mutex};

use crate::engine::{Engine, Failure};
use crate::store::{StoreError, Trouble};

/// The store's trouble as the last request found it; `None` when it answered.
#[derive(Debug, Clone, Default)]
pub(crate) struct StoreHealth(Arc<Mutex<Option<Trouble>>>);

impl StoreHealth {
    fn get(&self) -> Option<Trouble> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records what a request found, logging a change of state.
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

impl Engine {
    /// Notes what a request's run of the store found.
    pub(crate) fn note<T>(&self, result: &Result<T, Failure>) {
        match result {
            Err(Failure::Store(error)) => self.note_store(Err(error)),
            _ => self.note_store(Ok(())),
        }
    }

    fn note_store(&self, result: Result<(), &StoreError>) {
        match result {
            Ok(()) => self.health().set(None, None),
            // An error that is no trouble of the store's is a bug, logged where it is answered.
            Err(error) => {
                if let Some(trouble) = error.trouble() {
                    self.health().set(Some(trouble), Some(error));
                }
            }
        }
    }

    /// Whether the store answers: a read transaction opens and ends. While the
    /// last request found it full, it must also take a write of some pages
    /// again, so readiness comes back when space does, not before.
    pub async fn ready(&self) -> Result<(), StoreError> {
        let result = match self.health().get() {
            Some(Trouble::Full) => self.store().probe_write().await,
            _ => self.store().read().await.map(drop),
        };
        self.note_store(result.as_ref().map(|_| ()));
        result
    }
}
