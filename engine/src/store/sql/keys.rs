//! API keys and the audit log, in SQL.

use super::{Arg, SqlTx};
use crate::store::rows::{ApiKeyRow, AuditRecord, AuditRow};
use crate::store::{Keys, Stored};

impl Keys for SqlTx {
    async fn insert_api_key(&mut self, key: &ApiKeyRow) -> Stored<()> {
        self.execute(
            "INSERT INTO api_keys (id, name, sha256, created_at) VALUES ($1, $2, $3, $4)",
            &[
                Arg::Text(&key.id),
                Arg::Text(&key.name),
                Arg::Text(&key.sha256),
                Arg::Int(key.created_at),
            ],
        )
        .await?;
        Ok(())
    }

    async fn api_keys(&mut self) -> Stored<Vec<ApiKeyRow>> {
        self.fetch_all(
            "SELECT id, name, sha256, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
            &[],
        )
        .await
    }

    async fn api_key_by_hash(&mut self, sha256: &str) -> Stored<Option<ApiKeyRow>> {
        self.fetch_optional(
            "SELECT id, name, sha256, created_at, revoked_at FROM api_keys WHERE sha256 = $1",
            &[Arg::Text(sha256)],
        )
        .await
    }

    async fn revoke_api_key(&mut self, id: &str, at: i64) -> Stored<bool> {
        let found: Option<(String,)> = self
            .fetch_optional("SELECT id FROM api_keys WHERE id = $1", &[Arg::Text(id)])
            .await?;
        // Revoking twice keeps the first time.
        self.execute(
            "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[Arg::Text(id), Arg::Int(at)],
        )
        .await?;
        Ok(found.is_some())
    }

    async fn audit(&mut self, entry: &AuditRecord<'_>) -> Stored<()> {
        self.execute(
            "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
            &[
                Arg::Int(entry.at),
                Arg::Text(entry.actor),
                Arg::Text(entry.action),
                Arg::Text(entry.target),
                Arg::Text(entry.detail),
            ],
        )
        .await?;
        Ok(())
    }

    async fn audit_log(&mut self, before: Option<i64>, limit: i64) -> Stored<Vec<AuditRow>> {
        self.fetch_all(
            "SELECT id, at, actor, action, target, detail FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2",
            &[Arg::Int(before.unwrap_or(i64::MAX)), Arg::Int(limit)],
        )
        .await
    }
}
