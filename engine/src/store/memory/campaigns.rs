//! Campaigns and their versions, in memory.

use super::MemoryTx;
use crate::store::rows::{CampaignRow, CampaignState, StoredVersion, VersionRow};
use crate::store::{Campaigns, Stored};

impl Campaigns for MemoryTx {
    async fn campaign(&mut self, id: &str) -> Stored<Option<CampaignRow>> {
        Ok(self.state.campaigns.get(id).cloned())
    }

    async fn lock_deploys(&mut self, _id: &str) -> Stored<()> {
        // A memory transaction holds the whole store until it ends.
        Ok(())
    }

    async fn latest_version(&mut self, id: &str) -> Stored<Option<StoredVersion>> {
        Ok(self.state.versions.get(id).and_then(|v| v.last().cloned()))
    }

    async fn version(&mut self, id: &str, version: i64) -> Stored<Option<StoredVersion>> {
        Ok(self
            .state
            .versions
            .get(id)
            .and_then(|v| v.iter().find(|s| s.version == version).cloned()))
    }

    async fn versions(&mut self, id: &str) -> Stored<Vec<VersionRow>> {
        Ok(self.state.versions.get(id).map_or_else(Vec::new, |v| {
            v.iter()
                .rev()
                .map(|s| VersionRow {
                    version: s.version,
                    sha256: s.sha256.clone(),
                    origin: s.origin,
                    path: s.path.clone(),
                    note: s.note.clone(),
                    deployed_at: s.deployed_at,
                })
                .collect()
        }))
    }

    async fn set_version_path(&mut self, id: &str, version: i64, path: &str) -> Stored<()> {
        let Some(stored) = self
            .state
            .versions
            .get_mut(id)
            .and_then(|v| v.iter_mut().find(|s| s.version == version))
        else {
            return Ok(());
        };
        let old = stored.path.replace(path.to_string());
        let id = id.to_string();
        self.on_rollback(move |s| {
            if let Some(stored) = s
                .versions
                .get_mut(&id)
                .and_then(|v| v.iter_mut().find(|s| s.version == version))
            {
                stored.path = old;
            }
        });
        Ok(())
    }

    async fn add_version(&mut self, version: &StoredVersion, state: CampaignState) -> Stored<()> {
        let id = version.campaign.clone();
        let row = CampaignRow {
            state: self.state.campaigns.get(&id).map_or(state, |o| o.state),
            version: version.version,
        };
        self.put(|s| &mut s.campaigns, id.clone(), row);
        self.state
            .versions
            .entry(id.clone())
            .or_default()
            .push(version.clone());
        self.on_rollback(move |s| {
            if let Some(versions) = s.versions.get_mut(&id) {
                versions.pop();
            }
        });
        Ok(())
    }

    async fn set_state(&mut self, id: &str, state: CampaignState) -> Stored<bool> {
        let Some(old) = self.state.campaigns.get(id).cloned() else {
            return Ok(false);
        };
        self.put(
            |s| &mut s.campaigns,
            id.to_string(),
            CampaignRow { state, ..old },
        );
        Ok(true)
    }
}
