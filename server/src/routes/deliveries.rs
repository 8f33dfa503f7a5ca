//! The outbox and the audit log, behind the admin token: deliveries, retries
//! of dead letters, and who did what.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::{Answer, audit};
use crate::auth::Admin;
use crate::extract::{AppPath, AppQuery};
use crate::listings::{AuditEntry, Delivery, DeliverySummary};
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveryQuery {
    /// `pending`, `sending`, `delivered` or `dead` (the dead letters); all when absent.
    state: Option<String>,
    /// At most this many, newest first (default 50, at most 500).
    limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DeliveryList {
    deliveries: Vec<Delivery>,
    summary: DeliverySummary,
}

/// Outbox tasks (external awards on their way to the webhook), e.g. `?state=dead` for the dead letters.
#[utoipa::path(get, path = "/v1/deliveries", tag = "admin",
    params(DeliveryQuery),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = DeliveryList),
        (status = 422, description = "`invalid-input`: an unknown state", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_deliveries(
    _: Admin,
    State(state): State<AppState>,
    AppQuery(query): AppQuery<DeliveryQuery>,
) -> Answer<DeliveryList> {
    if let Some(s) = &query.state
        && !["pending", "sending", "delivered", "dead"].contains(&s.as_str())
    {
        return Err(ApiError::BadInput {
            field: "state".into(),
            message: "must be pending, sending, delivered or dead".into(),
        });
    }
    Ok(Json(DeliveryList {
        deliveries: state
            .engine
            .deliveries(query.state.as_deref(), query.limit.unwrap_or(50))
            .await?
            .into_iter()
            .map(Delivery::from)
            .collect(),
        summary: state.engine.delivery_summary(state.now()).await?.into(),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Retried {
    id: i64,
    state: String,
}

/// Puts a dead-lettered delivery back in line, due now.
#[utoipa::path(post, path = "/v1/deliveries/{delivery_id}/retry", tag = "admin",
    params(("delivery_id" = i64, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = Retried),
        (status = 404, description = "`unknown-delivery`: no dead delivery has this id", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn retry_delivery(
    _: Admin,
    State(state): State<AppState>,
    AppPath(delivery_id): AppPath<i64>,
) -> Answer<Retried> {
    if !state
        .engine
        .retry_delivery(delivery_id, state.now())
        .await?
    {
        return Err(ApiError::UnknownDelivery(delivery_id));
    }
    audit(&state, "retry_delivery", &delivery_id.to_string(), "").await;
    Ok(Json(Retried {
        id: delivery_id,
        state: "pending".into(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Entries with ids below this (the last id of the previous page).
    before: Option<i64>,
    /// At most this many, newest first (default 50, at most 500).
    limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AuditLog {
    entries: Vec<AuditEntry>,
}

/// The audit log of admin actions — deploys, state changes, credit adjustments, key changes, retries: who, what, when.
#[utoipa::path(get, path = "/v1/audit", tag = "admin",
    params(AuditQuery),
    security(("admin_token" = [])),
    responses((status = 200, body = AuditLog)))]
pub(crate) async fn audit_log(
    _: Admin,
    State(state): State<AppState>,
    AppQuery(query): AppQuery<AuditQuery>,
) -> Answer<AuditLog> {
    Ok(Json(AuditLog {
        entries: state
            .engine
            .audit_log(query.before, query.limit.unwrap_or(50))
            .await?
            .into_iter()
            .map(AuditEntry::from)
            .collect(),
    }))
}
