//! API keys for the app endpoints: created with a random secret shown once,
//! stored as SHA-256 only, listed and revoked by id.

use chrono::{DateTime, Utc};

use crate::engine::{Engine, Failure};
use crate::store::prelude::*;
use crate::store::{ApiKeyRow, StoreError};

/// Every key starts with this, so a leaked one is easy to find in logs and code.
pub const KEY_PREFIX: &str = "tbk_";

/// An API key as listed: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key just created: the only time `key` is ever shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub info: ApiKeyInfo,
    pub key: String,
}

/// The SHA-256 of a key, hex. Keys carry 256 random bits, so a plain hash is
/// enough: there is nothing to brute-force that a slow hash would protect.
pub fn key_hash(key: &str) -> String {
    crate::engine::sha256_hex(key.as_bytes())
}

fn info(row: ApiKeyRow) -> ApiKeyInfo {
    ApiKeyInfo {
        id: row.id,
        name: row.name,
        created_at: DateTime::from_timestamp_micros(row.created_at).unwrap_or_default(),
        revoked_at: row.revoked_at.and_then(DateTime::from_timestamp_micros),
    }
}

fn random_hex(bytes: usize) -> Result<String, Failure> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| Failure::Store(StoreError::Corrupt(format!("no randomness: {e}"))))?;
    Ok(hex::encode(buf))
}

impl Engine {
    /// Creates a key named `name`; the answer holds the key, shown this once.
    pub async fn create_api_key(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<NewApiKey, Failure> {
        let id = random_hex(6)?;
        let key = format!("{KEY_PREFIX}{id}_{}", random_hex(32)?);
        self.insert_api_key(&id, name, &key, now).await
    }

    async fn insert_api_key(
        &self,
        id: &str,
        name: &str,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<NewApiKey, Failure> {
        let row = ApiKeyRow {
            id: id.to_string(),
            name: name.to_string(),
            sha256: key_hash(key),
            created_at: now.timestamp_micros(),
            revoked_at: None,
        };
        let mut tx = self.store().begin().await?;
        tx.insert_api_key(&row).await?;
        tx.commit().await?;
        Ok(NewApiKey {
            info: info(row),
            key: key.to_string(),
        })
    }

    /// Every key, oldest first, revoked ones included.
    pub async fn api_keys(&self) -> Result<Vec<ApiKeyInfo>, Failure> {
        let mut tx = self.store().read().await?;
        Ok(tx.api_keys().await?.into_iter().map(info).collect())
    }

    /// Revokes key `id`; `false` if there is no such key. Revoking twice is harmless.
    pub async fn revoke_api_key(&self, id: &str, now: DateTime<Utc>) -> Result<bool, Failure> {
        let mut tx = self.store().begin().await?;
        let found = tx.revoke_api_key(id, now.timestamp_micros()).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// The id of the live key `key`, if it is one.
    pub async fn verify_api_key(&self, key: &str) -> Result<Option<String>, Failure> {
        let mut tx = self.store().read().await?;
        let row = tx.api_key_by_hash(&key_hash(key)).await?;
        Ok(row.filter(|k| k.revoked_at.is_none()).map(|k| k.id))
    }
}
