//! The JSON of the admin listings — deployments, campaigns, API keys, outbox
//! deliveries and the audit log — and their OpenAPI schemas, built from the
//! engine's typed records.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tombola_engine as engine;

/// What a deploy did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Deployment {
    pub campaign: String,
    pub version: i64,
    /// `false` when the content was unchanged and nothing was written.
    pub changed: bool,
    /// What the deploy could not do as the file says; the deploy stands.
    pub warnings: Vec<DeployWarning>,
}

/// A deploy's warning: `state-kept` (the file's `state:` is not the
/// campaign's, which the open and close calls own after the first deploy) or
/// `secret-missing` (`delivery.secret_env` names a variable the server does
/// not have, so every webhook delivery would fail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeployWarning {
    pub code: String,
    pub message: String,
}

impl From<engine::Deployment> for Deployment {
    fn from(deployment: engine::Deployment) -> Self {
        let id = deployment.campaign.clone();
        Deployment {
            campaign: deployment.campaign,
            version: deployment.version,
            changed: deployment.changed,
            warnings: deployment
                .notices
                .iter()
                .map(|notice| DeployWarning::from_notice(&id, notice))
                .collect(),
        }
    }
}

impl DeployWarning {
    fn from_notice(campaign: &str, notice: &engine::DeployNotice) -> Self {
        match notice {
            engine::DeployNotice::StateKept { file, store } => DeployWarning {
                code: "state-kept".into(),
                message: format!(
                    "the file says `state: {}` but the campaign is {}: the file sets the state only at the first deploy; \
                     use POST /v1/campaigns/{campaign}/open or /close to change it",
                    file.as_str(),
                    store.as_str()
                ),
            },
            _ => DeployWarning {
                code: "notice".into(),
                message: format!("{notice:?}"),
            },
        }
    }

    /// The warning for a webhook secret the server cannot read, if it cannot.
    pub fn secret_missing(deployed: &engine::Deployed) -> Option<Self> {
        let variable = &deployed.campaign.delivery.as_ref()?.secret_env;
        std::env::var_os(variable).is_none().then(|| DeployWarning {
            code: "secret-missing".into(),
            message: format!(
                "`delivery.secret_env` names `{variable}`, which is not set where the server runs: \
                 every webhook delivery would fail until it is"
            ),
        })
    }
}

/// A campaign's state in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    Draft,
    Open,
    Closed,
}

impl From<engine::store::CampaignState> for CampaignState {
    fn from(state: engine::store::CampaignState) -> Self {
        match state {
            engine::store::CampaignState::Draft => CampaignState::Draft,
            engine::store::CampaignState::Open => CampaignState::Open,
            engine::store::CampaignState::Closed => CampaignState::Closed,
        }
    }
}

/// Where a version was deployed from: the watched campaigns folder (its file
/// is the truth, and the API refuses to deploy over it), the console, or the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Folder,
    Console,
    Api,
}

impl From<engine::store::Origin> for Origin {
    fn from(origin: engine::store::Origin) -> Self {
        match origin {
            engine::store::Origin::Folder => Origin::Folder,
            engine::store::Origin::Console => Origin::Console,
            engine::store::Origin::Api => Origin::Api,
        }
    }
}

/// A deployed campaign, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CampaignSummary {
    pub id: String,
    pub name: String,
    pub version: i64,
    pub state: CampaignState,
    /// Where the live version came from.
    pub origin: Origin,
    /// The folder file the live version was deployed from, for `folder`.
    pub path: Option<String>,
}

impl From<engine::CampaignSummary> for CampaignSummary {
    fn from(summary: engine::CampaignSummary) -> Self {
        CampaignSummary {
            id: summary.id,
            name: summary.name,
            version: summary.version,
            state: summary.state.into(),
            origin: summary.origin.into(),
            path: summary.path,
        }
    }
}

/// A deployed version of a campaign, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VersionEntry {
    pub version: i64,
    pub deployed_at: DateTime<Utc>,
    /// The SHA-256 of the version's source, lowercase hex.
    pub sha256: String,
    pub origin: Origin,
    /// The folder file it was deployed from, for `folder`.
    pub path: Option<String>,
    /// The note given at deploy (`PUT …?note=`, a rollback's `note`).
    pub note: Option<String>,
    /// Whether this is the version draws run.
    pub live: bool,
}

impl VersionEntry {
    pub fn new(row: engine::store::VersionRow, live: i64) -> Self {
        VersionEntry {
            version: row.version,
            deployed_at: DateTime::from_timestamp_micros(row.deployed_at).unwrap_or_default(),
            sha256: row.sha256,
            origin: row.origin.into(),
            path: row.path,
            note: row.note,
            live: row.version == live,
        }
    }
}

/// One version with its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VersionDetail {
    #[serde(flatten)]
    pub entry: VersionEntry,
    /// The campaign file as deployed.
    pub source: String,
}

impl VersionDetail {
    pub fn new(stored: engine::store::StoredVersion, live: i64) -> Self {
        let row = engine::store::VersionRow {
            version: stored.version,
            sha256: stored.sha256,
            origin: stored.origin,
            path: stored.path,
            note: stored.note,
            deployed_at: stored.deployed_at,
        };
        VersionDetail {
            entry: VersionEntry::new(row, live),
            source: stored.source,
        }
    }
}

/// An API key as listed: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ApiKeyInfo {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<engine::ApiKeyInfo> for ApiKeyInfo {
    fn from(info: engine::ApiKeyInfo) -> Self {
        ApiKeyInfo {
            id: info.id,
            name: info.name,
            created_at: info.created_at,
            revoked_at: info.revoked_at,
        }
    }
}

/// A key just created: the only time `key` is ever shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NewApiKey {
    #[serde(flatten)]
    pub info: ApiKeyInfo,
    pub key: String,
}

impl From<engine::NewApiKey> for NewApiKey {
    fn from(key: engine::NewApiKey) -> Self {
        NewApiKey {
            info: key.info.into(),
            key: key.key,
        }
    }
}

/// An outbox task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub campaign: String,
    pub request_id: String,
    pub user: String,
    pub award: String,
    /// `pending`, `sending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: i64,
    /// When it is next due (for `sending`, when its lease ends).
    pub next_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<engine::Delivery> for Delivery {
    fn from(task: engine::Delivery) -> Self {
        Delivery {
            id: task.id,
            campaign: task.campaign,
            request_id: task.request_id,
            user: task.user,
            award: task.award,
            state: task.state,
            attempts: task.attempts,
            next_at: task.next_at,
            created_at: task.created_at,
            last_error: task.last_error,
            delivered_at: task.delivered_at,
        }
    }
}

/// Tasks per state and the age of the oldest undelivered one.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeliverySummary {
    pub states: BTreeMap<String, i64>,
    /// Seconds since the oldest pending task was written; 0 when none waits.
    pub lag_seconds: f64,
}

impl From<engine::DeliverySummary> for DeliverySummary {
    fn from(summary: engine::DeliverySummary) -> Self {
        DeliverySummary {
            states: summary.states,
            lag_seconds: summary.lag_seconds,
        }
    }
}

/// An admin action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

impl From<engine::AuditEntry> for AuditEntry {
    fn from(entry: engine::AuditEntry) -> Self {
        AuditEntry {
            id: entry.id,
            at: entry.at,
            actor: entry.actor,
            action: entry.action,
            target: entry.target,
            detail: entry.detail,
        }
    }
}
