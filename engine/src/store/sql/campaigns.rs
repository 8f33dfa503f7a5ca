//! Campaigns and their versions, in SQL.

use super::{Arg, SqlTx};
use crate::store::rows::{CampaignRow, CampaignState, StoredVersion, VersionRow};
use crate::store::{Campaigns, Stored};

/// A version's columns, source included.
const VERSION: &str = "SELECT campaign_id, version, source, sha256, origin, path, note, deployed_at FROM campaign_versions";

impl Campaigns for SqlTx {
    async fn campaign(&mut self, id: &str) -> Stored<Option<CampaignRow>> {
        if let SqlTx::Postgres(tx) = self
            && let Some(row) = tx.campaign_read_ahead(id)
        {
            return Ok(row);
        }
        self.fetch_optional(
            "SELECT state, current_version FROM campaigns WHERE id = $1",
            &[Arg::Text(id)],
        )
        .await
    }

    async fn lock_deploys(&mut self, id: &str) -> Stored<()> {
        // SQLite's write transactions begin IMMEDIATE, holding its one write
        // lock already; PostgreSQL needs a lock per campaign (7307: tombola's
        // class of advisory locks), released when the transaction ends.
        if self.postgres() {
            self.execute(
                "SELECT pg_advisory_xact_lock(7307, hashtext($1))::text",
                &[Arg::Text(id)],
            )
            .await?;
        }
        Ok(())
    }

    async fn latest_version(&mut self, id: &str) -> Stored<Option<StoredVersion>> {
        self.fetch_optional(
            &format!("{VERSION} WHERE campaign_id = $1 ORDER BY version DESC LIMIT 1"),
            &[Arg::Text(id)],
        )
        .await
    }

    async fn version(&mut self, id: &str, version: i64) -> Stored<Option<StoredVersion>> {
        self.fetch_optional(
            &format!("{VERSION} WHERE campaign_id = $1 AND version = $2"),
            &[Arg::Text(id), Arg::Int(version)],
        )
        .await
    }

    async fn versions(&mut self, id: &str) -> Stored<Vec<VersionRow>> {
        self.fetch_all(
            "SELECT version, sha256, origin, path, note, deployed_at FROM campaign_versions \
             WHERE campaign_id = $1 ORDER BY version DESC",
            &[Arg::Text(id)],
        )
        .await
    }

    async fn add_version(&mut self, version: &StoredVersion, state: CampaignState) -> Stored<()> {
        self.execute(
            "INSERT INTO campaigns (id, state, current_version, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET current_version = excluded.current_version",
            &[Arg::Text(&version.campaign), Arg::Text(state.as_str()), Arg::Int(version.version), Arg::Int(version.deployed_at)],
        )
        .await?;
        self.execute(
            "INSERT INTO campaign_versions (campaign_id, version, source, sha256, deployed_at, origin, path, note) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                Arg::Text(&version.campaign),
                Arg::Int(version.version),
                Arg::Text(&version.source),
                Arg::Text(&version.sha256),
                Arg::Int(version.deployed_at),
                Arg::Text(version.origin.as_str()),
                Arg::opt_text(version.path.as_deref()),
                Arg::opt_text(version.note.as_deref()),
            ],
        )
        .await?;
        Ok(())
    }

    async fn set_version_path(&mut self, id: &str, version: i64, path: &str) -> Stored<()> {
        self.execute(
            "UPDATE campaign_versions SET path = $3 WHERE campaign_id = $1 AND version = $2",
            &[Arg::Text(id), Arg::Int(version), Arg::Text(path)],
        )
        .await?;
        Ok(())
    }

    async fn set_state(&mut self, id: &str, state: CampaignState) -> Stored<bool> {
        let changed = self
            .execute(
                "UPDATE campaigns SET state = $2 WHERE id = $1",
                &[Arg::Text(id), Arg::Text(state.as_str())],
            )
            .await?;
        Ok(changed == 1)
    }
}
