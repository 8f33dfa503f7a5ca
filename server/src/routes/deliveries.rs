//! The outbox and the audit log, behind the admin token: deliveries, retries
//! of dead letters, and who did what.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::{Answer, audit};
use crate::auth::Admin;
use crate::extract::{AppPath, AppQuery};
use crate::listings::{AuditEntry, Delivery, DeliverySummary};
use crate::{ApiError, AppState, input};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveryQuery {
    /// Only the tasks in this state (`dead`: the dead letters); all when absent.
    #[param(value_type = Option<DeliveryStateName>)]
    state: Option<String>,
    /// At most this many, newest first; 50 when absent.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Where an outbox task is on its way to the webhook.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DeliveryStateName {
    Pending,
    Sending,
    Delivered,
    Dead,
}

impl DeliveryStateName {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryStateName::Pending => "pending",
            DeliveryStateName::Sending => "sending",
            DeliveryStateName::Delivered => "delivered",
            DeliveryStateName::Dead => "dead",
        }
    }
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
        (status = 422, description = "`invalid-input`: an unknown state, or a limit outside 1 to 500", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_deliveries(
    _: Admin,
    State(state): State<AppState>,
    AppQuery(query): AppQuery<DeliveryQuery>,
) -> Answer<DeliveryList> {
    let wanted = query
        .state
        .map(|s| {
            input::one_of::<DeliveryStateName>("state", &s, "pending, sending, delivered or dead")
        })
        .transpose()?;
    let limit = input::page_limit(query.limit, 50, 500)?;
    Ok(Json(DeliveryList {
        deliveries: state
            .engine
            .deliveries(wanted.map(DeliveryStateName::as_str), limit)
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
    /// At most this many, newest first; 50 when absent.
    #[param(minimum = 1, maximum = 500)]
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
    responses(
        (status = 200, body = AuditLog),
        (status = 422, description = "`invalid-input`: a limit outside 1 to 500", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn audit_log(
    _: Admin,
    State(state): State<AppState>,
    AppQuery(query): AppQuery<AuditQuery>,
) -> Answer<AuditLog> {
    Ok(Json(AuditLog {
        entries: state
            .engine
            .audit_log(query.before, input::page_limit(query.limit, 50, 500)?)
            .await?
            .into_iter()
            .map(AuditEntry::from)
            .collect(),
    }))
}
