//! Deploys: a campaign's versions, where each came from (the watched folder,
//! the console, the API) and who may deploy over it, rollbacks, and what the
//! store keeps of each version.

use chrono::{DateTime, Utc};
use std::sync::Arc;

use tombola_ir::{Campaign, LoadError};

use crate::engine::{Engine, Failure, micros, sha256_hex};
use crate::store::prelude::*;
use crate::store::{CampaignState, Origin, StoreError, StoredVersion, VersionRow};

/// Why a deploy was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// The loader refused the source; its error says why (the compiler's diagnostics).
    #[error("the campaign does not compile: {0}")]
    Invalid(LoadError),
    #[error("the file says campaign `{found}`, not `{expected}`")]
    IdMismatch { expected: String, found: String },
    /// A rollback to a campaign that was never deployed.
    #[error("unknown campaign `{0}`")]
    UnknownCampaign(String),
    /// A rollback to a version the campaign does not have.
    #[error("campaign `{campaign}` has no version {version}")]
    UnknownVersion { campaign: String, version: i64 },
    /// An API or console deploy over a campaign of the watched folder: its
    /// file is the truth, so it is changed there.
    #[error("campaign `{campaign}` belongs to the campaigns folder ({}): change the file, not the store", path.as_deref().unwrap_or("its file"))]
    OwnedByFolder {
        campaign: String,
        path: Option<String>,
    },
    /// A folder file whose campaign was deployed through the API or the
    /// console: the store is its truth, and a file cannot take it over.
    #[error("campaign `{campaign}` was deployed through the {}; a folder file cannot take it over: rename its `campaign:` or remove the file", origin.as_str())]
    OwnedByApi { campaign: String, origin: Origin },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The compile was cancelled: only a runtime shutting down does that.
    #[error("the deploy was cancelled: the server is shutting down")]
    Cancelled,
}

/// What a deploy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub campaign: String,
    pub version: i64,
    /// `false` when the content was unchanged and nothing was written.
    pub changed: bool,
    /// What the deploy did not do that the file may have meant.
    pub notices: Vec<DeployNotice>,
}

/// Something a deploy could not do as the file says, worth telling its author.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeployNotice {
    /// The file's `state:` differs from the campaign's: the file sets the state
    /// only at the first deploy; after it, the open and close calls own it.
    StateKept {
        file: CampaignState,
        store: CampaignState,
    },
}

/// Where a deploy comes from, and what it says of itself: kept with the version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub origin: Origin,
    /// The folder file's path, for [`Origin::Folder`].
    pub path: Option<String>,
    pub note: Option<String>,
}

impl Provenance {
    /// An API deploy without a note.
    pub fn api() -> Provenance {
        Provenance {
            origin: Origin::Api,
            path: None,
            note: None,
        }
    }

    /// A deploy of the watched folder's file at `path`.
    pub fn folder(path: impl Into<String>) -> Provenance {
        Provenance {
            origin: Origin::Folder,
            path: Some(path.into()),
            note: None,
        }
    }
}

/// A campaign's versions, newest first, and which one is live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versions {
    pub live: i64,
    pub versions: Vec<VersionRow>,
}

/// Refuses a deploy from one side over a campaign of the other: the folder's
/// campaigns are deployed from their files, the others through the API and
/// the console. Every version of a campaign comes from one side, so the
/// latest says which.
fn check_owner(latest: &StoredVersion, from: &Provenance) -> Result<(), DeployError> {
    match (latest.origin, from.origin) {
        (Origin::Folder, Origin::Folder)
        | (Origin::Api | Origin::Console, Origin::Api | Origin::Console) => Ok(()),
        (Origin::Folder, _) => Err(DeployError::OwnedByFolder {
            campaign: latest.campaign.clone(),
            path: latest.path.clone(),
        }),
        (origin, _) => Err(DeployError::OwnedByApi {
            campaign: latest.campaign.clone(),
            origin,
        }),
    }
}

impl Engine {
    /// Checks and deploys `source` as a new version, from the API without a
    /// note; unchanged content is a no-op.
    pub async fn deploy(
        &self,
        source: &str,
        expected_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Deployment, DeployError> {
        self.deploy_from(source, expected_id, &Provenance::api(), now)
            .await
    }

    /// `source` compiled off the threads that answer draws, since a large
    /// file takes a while to check.
    async fn compiled(&self, source: &str) -> Result<Campaign, DeployError> {
        let loader = Arc::clone(self.loader());
        let source = source.to_owned();
        match tokio::task::spawn_blocking(move || loader.load(&source)).await {
            Ok(loaded) => loaded.map_err(DeployError::Invalid),
            Err(join) => match join.try_into_panic() {
                // The compiler panicked: go on as if it had on this thread.
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(_) => Err(DeployError::Cancelled),
            },
        }
    }

    /// Checks and deploys `source` as a new version that came `from` there;
    /// unchanged content is a no-op. A deploy over a campaign of the other
    /// side (folder, or API and console) is refused.
    pub async fn deploy_from(
        &self,
        source: &str,
        expected_id: Option<&str>,
        from: &Provenance,
        now: DateTime<Utc>,
    ) -> Result<Deployment, DeployError> {
        let campaign = self.compiled(source).await?;
        if let Some(expected) = expected_id.filter(|e| *e != campaign.id) {
            return Err(DeployError::IdMismatch {
                expected: expected.to_string(),
                found: campaign.id.clone(),
            });
        }
        let sha256 = sha256_hex(source.as_bytes());
        let mut tx = self.store().begin().await?;
        tx.lock_deploys(&campaign.id).await?;
        let latest = tx.latest_version(&campaign.id).await?;
        if let Some(latest) = &latest {
            check_owner(latest, from)?;
        }
        let file_state = crate::engine::file_state(&campaign);
        let notices: Vec<DeployNotice> = tx
            .campaign(&campaign.id)
            .await?
            .filter(|row| row.state != file_state)
            .map(|row| DeployNotice::StateKept {
                file: file_state,
                store: row.state,
            })
            .into_iter()
            .collect();
        if let Some(latest) = latest.as_ref().filter(|l| l.sha256 == sha256) {
            let version = latest.version;
            match from
                .path
                .as_deref()
                .filter(|p| latest.path.as_deref() != Some(*p))
            {
                // The same file moved (or kept from before paths were): where it is now.
                Some(path) if from.origin == Origin::Folder => {
                    tx.set_version_path(&campaign.id, version, path).await?;
                    tx.commit().await?;
                }
                _ => drop(tx),
            }
            if self
                .campaign(&campaign.id)
                .is_none_or(|d| d.version != version)
            {
                self.install(campaign.id.clone(), version, campaign.clone());
            }
            return Ok(Deployment {
                campaign: campaign.id,
                version,
                changed: false,
                notices,
            });
        }
        let version = latest.map_or(1, |l| l.version + 1);
        let stored = StoredVersion {
            campaign: campaign.id.clone(),
            version,
            source: source.to_string(),
            sha256,
            origin: from.origin,
            path: from.path.clone(),
            note: from.note.clone(),
            deployed_at: micros(now),
        };
        tx.add_version(&stored, file_state).await?;
        for entry in &campaign.pool {
            if let Some(stock) = entry.stock {
                let award = &campaign.awards[entry.award as usize].id;
                tx.declare_award_stock(
                    &campaign.id,
                    award,
                    i64::try_from(stock).unwrap_or(i64::MAX),
                )
                .await?;
            }
        }
        for sku in &campaign.skus {
            if let Some(stock) = sku.stock {
                tx.declare_sku_stock(
                    &campaign.id,
                    &sku.id,
                    i64::try_from(stock).unwrap_or(i64::MAX),
                )
                .await?;
            }
        }
        tx.commit().await?;
        let id = campaign.id.clone();
        self.install(id.clone(), version, campaign);
        Ok(Deployment {
            campaign: id,
            version,
            changed: true,
            notices,
        })
    }

    /// Deploys version `version`'s source of campaign `id` again, as a new
    /// version that came `from` there: the earlier rules, with the stock and
    /// counts as they stand. Refused, as a deploy is, over a folder's campaign.
    pub async fn rollback(
        &self,
        id: &str,
        version: i64,
        from: &Provenance,
        now: DateTime<Utc>,
    ) -> Result<Deployment, DeployError> {
        let stored = match self.stored_version(id, version).await {
            Ok((_, Some(stored))) => stored,
            Ok((_, None)) => {
                return Err(DeployError::UnknownVersion {
                    campaign: id.to_string(),
                    version,
                });
            }
            Err(Failure::UnknownCampaign(id)) => return Err(DeployError::UnknownCampaign(id)),
            Err(Failure::Store(error)) => return Err(error.into()),
            Err(other) => return Err(StoreError::Corrupt(other.to_string()).into()),
        };
        self.deploy_from(&stored.source, Some(id), from, now).await
    }

    /// Campaign `id`'s versions, newest first, and the live one.
    pub async fn versions(&self, id: &str) -> Result<Versions, Failure> {
        let mut tx = self.store().read().await?;
        let row = tx
            .campaign(id)
            .await?
            .ok_or_else(|| Failure::UnknownCampaign(id.to_string()))?;
        Ok(Versions {
            live: row.version,
            versions: tx.versions(id).await?,
        })
    }

    /// The live version of campaign `id`, and its version `version` as
    /// stored, source included (`None` when it has no such version).
    pub async fn stored_version(
        &self,
        id: &str,
        version: i64,
    ) -> Result<(i64, Option<StoredVersion>), Failure> {
        let mut tx = self.store().read().await?;
        let row = tx
            .campaign(id)
            .await?
            .ok_or_else(|| Failure::UnknownCampaign(id.to_string()))?;
        Ok((row.version, tx.version(id, version).await?))
    }
}
