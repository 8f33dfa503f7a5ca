//! Campaigns and their versions, in memory.

use super::MemoryTx;
use crate::store::rows::{CampaignRow, CampaignState, StoredVersion};
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

    async fn add_version(
        &mut self,
        version: &StoredVersion,
        state: CampaignState,
        _at: i64,
    ) -> Stored<()> {
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
