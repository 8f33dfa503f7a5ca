//! API keys and the audit log, in memory.

use super::{MemoryTx, limit};
use crate::store::rows::{ApiKeyRow, AuditRecord, AuditRow};
use crate::store::{Keys, Stored};

impl Keys for MemoryTx {
    async fn insert_api_key(&mut self, key: &ApiKeyRow) -> Stored<()> {
        self.push(|s| &mut s.api_keys, key.clone());
        Ok(())
    }

    async fn api_keys(&mut self) -> Stored<Vec<ApiKeyRow>> {
        Ok(self.state.api_keys.clone())
    }

    async fn api_key_by_hash(&mut self, sha256: &str) -> Stored<Option<ApiKeyRow>> {
        Ok(self
            .state
            .api_keys
            .iter()
            .find(|k| k.sha256 == sha256)
            .cloned())
    }

    async fn revoke_api_key(&mut self, id: &str, at: i64) -> Stored<bool> {
        let Some(ix) = self.state.api_keys.iter().position(|k| k.id == id) else {
            return Ok(false);
        };
        if self.state.api_keys[ix].revoked_at.is_none() {
            self.change(|s| &mut s.api_keys, ix, |k| k.revoked_at = Some(at));
        }
        Ok(true)
    }

    async fn audit(&mut self, entry: &AuditRecord<'_>) -> Stored<()> {
        let row = AuditRow {
            id: self.state.audit.len() as i64 + 1,
            at: entry.at,
            actor: entry.actor.to_string(),
            action: entry.action.to_string(),
            target: entry.target.to_string(),
            detail: entry.detail.to_string(),
        };
        self.push(|s| &mut s.audit, row);
        Ok(())
    }

    async fn audit_log(&mut self, before: Option<i64>, most: i64) -> Stored<Vec<AuditRow>> {
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
