//! API keys and the audit log, in memory.

use super::{MemoryTx, limit};
use crate::store::rows::{ApiKeyRow, AuditRow};
use crate::store::{Keys, StoreError};

impl Keys for MemoryTx {
    async fn insert_api_key(&mut self, key: &ApiKeyRow) -> Result<(), StoreError> {
        self.push(|s| &mut s.api_keys, key.clone());
        Ok(())
    }

    async fn api_keys(&mut self) -> Result<Vec<ApiKeyRow>, StoreError> {
        Ok(self.state.api_keys.clone())
    }

    async fn api_key_by_hash(&mut self, sha256: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        Ok(self
            .state
            .api_keys
            .iter()
            .find(|k| k.sha256 == sha256)
            .cloned())
    }

    async fn revoke_api_key(&mut self, id: &str, at: i64) -> Result<bool, StoreError> {
        let Some(ix) = self.state.api_keys.iter().position(|k| k.id == id) else {
            return Ok(false);
        };
        if self.state.api_keys[ix].revoked_at.is_none() {
            self.change(|s| &mut s.api_keys, ix, |k| k.revoked_at = Some(at));
        }
        Ok(true)
    }

    async fn audit(
        &mut self,
        at: i64,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let row = AuditRow {
            id: self.state.audit.len() as i64 + 1,
            at,
            actor: actor.to_string(),
            action: action.to_string(),
            target: target.to_string(),
            detail: detail.to_string(),
        };
        self.push(|s| &mut s.audit, row);
        Ok(())
    }

    async fn audit_log(
        &mut self,
        before: Option<i64>,
        most: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        Ok(self
            .state
            .audit
            .iter()
            .rev()
            .filter(|a| before.is_none_or(|b| a.id < b))
            .take(limit(most))
            .cloned()
            .collect())
    }
}
