//! A dry run of an edited file (`source`) and from starting counts and a
//! balance (`counts`, `credits`): admin only, dry runs only, nothing written.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{ADMIN, APP_KEY, AppState, CAMPAIGN, deployed, fetch, post_as, state};

const DRAWS: &str = "/v1/campaigns/demo/draws";

fn body(extra: Value) -> Value {
    let mut body = json!({ "user": "ann", "request_id": "d", "attributes": { "vip": false } });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

/// The demo campaign where a rich user gets the gift instead of a VIP.
fn rich_gets_the_gift() -> String {
    CAMPAIGN.replace("when: user.vip", "when: user.credits >= 100")
}

async fn shown(state: &AppState, id: &str) -> (Value, Value) {
    let (_, _, standing) = fetch(state, &format!("/v1/campaigns/{id}/users/ann")).await;
    let (_, _, campaigns) = fetch(state, "/v1/campaigns").await;
    (standing, campaigns)
}

fn award(told: &Value) -> &Value {
    if told["draw"].is_null() {
        &told["refused"]["type"]
    } else {
        &told["draw"]["award"]["id"]
    }
}

#[tokio::test]
async fn a_dry_run_runs_the_edited_file_from_the_counts_and_credits_given() {
    let state = deployed().await;
    let before = shown(&state, "demo").await;
    let edited = CAMPAIGN.replace("amount: 5 }", "amount: 7 }");
    let (status, told) = post_as(
        &state,
        ADMIN,
        DRAWS,
        body(json!({ "dry_run": true, "source": edited })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{told}");
    assert_eq!(told["draw"]["award"]["amount"], "7", "{told}");
    assert_eq!(told["draw"]["version"], 1, "{told}");
    let problem = |slug: &str| json!(format!("https://tombola.dev/problems/{slug}"));
    let cases = [
        (json!({}), json!("points")),
        (json!({ "source": rich_gets_the_gift() }), json!("points")),
        (
            json!({ "source": rich_gets_the_gift(), "credits": "100" }),
            json!("gift"),
        ),
        (json!({ "credits": "100.00" }), json!("points")),
        (
            json!({ "counts": { "total": 2 } }),
            problem("no-draws-left"),
        ),
        (
            json!({ "counts": { "today": 5, "granted": 3 } }),
            problem("daily-cap-reached"),
        ),
        (
            json!({ "counts": { "today": 4, "granted": 3 } }),
            json!("points"),
        ),
    ];
    for (extra, expected) in cases {
        let mut extra = extra;
        extra["dry_run"] = json!(true);
        let (status, told) = post_as(&state, ADMIN, DRAWS, body(extra.clone())).await;
        assert_eq!(status, StatusCode::OK, "{extra}: {told}");
        assert_eq!(award(&told), &expected, "{extra}: {told}");
    }
    assert_eq!(
        shown(&state, "demo").await,
        before,
        "a dry run wrote something"
    );
}

#[tokio::test]
async fn a_dry_run_of_a_campaign_never_deployed_reads_an_empty_store() {
    let state = state().await;
    let fresh = CAMPAIGN.replace("campaign: demo", "campaign: fresh");
    let uri = "/v1/campaigns/fresh/draws";
    let (status, told) = post_as(
        &state,
        ADMIN,
        uri,
        body(json!({ "dry_run": true, "source": fresh })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{told}");
    assert_eq!(
        (&told["draw"]["award"]["id"], &told["draw"]["version"]),
        (&json!("points"), &json!(0)),
        "{told}"
    );
    let (status, _, _) = fetch(&state, "/v1/campaigns/fresh").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a dry run deployed it");
    // Without a source there is nothing to run.
    let (status, problem) = post_as(&state, ADMIN, uri, body(json!({ "dry_run": true }))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
}

#[tokio::test]
async fn an_edited_file_with_errors_or_another_id_is_refused() {
    let state = deployed().await;
    let other = CAMPAIGN.replace("campaign: demo", "campaign: other");
    let (status, problem) = post_as(
        &state,
        ADMIN,
        DRAWS,
        body(json!({ "dry_run": true, "source": other })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(
        problem["type"], "https://tombola.dev/problems/campaign-id-mismatch",
        "{problem}"
    );
    let broken = CAMPAIGN.replace("give: gift", "give: gfit");
    let (status, problem) = post_as(
        &state,
        ADMIN,
        DRAWS,
        body(json!({ "dry_run": true, "source": broken })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(
        problem["type"], "https://tombola.dev/problems/invalid-campaign",
        "{problem}"
    );
    let diagnostics = problem["diagnostics"].as_array().expect("diagnostics");
    assert!(
        diagnostics
            .iter()
            .any(|d| d["message"].as_str().is_some_and(|m| m.contains("gfit"))),
        "{problem}"
    );
}

#[tokio::test]
async fn the_new_fields_are_for_dry_runs_and_the_admin_token_only() {
    let state = deployed().await;
    let fields = [
        json!({ "source": CAMPAIGN }),
        json!({ "counts": { "today": 1 } }),
        json!({ "credits": "5" }),
    ];
    for extra in &fields {
        let field = extra.as_object().unwrap().keys().next().unwrap().clone();
        for token in [ADMIN, APP_KEY] {
            let (status, problem) = post_as(&state, token, DRAWS, body(extra.clone())).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{extra}: {problem}"
            );
            assert_eq!(problem["field"], field.as_str(), "{extra}: {problem}");
        }
        let mut dry = extra.clone();
        dry["dry_run"] = json!(true);
        let (status, problem) = post_as(&state, APP_KEY, DRAWS, body(dry)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{extra}: {problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("`{field}` needs the admin token")),
            "{problem}"
        );
    }
    let bad = [
        (json!({ "credits": "ten" }), "credits"),
        (json!({ "credits": "-1" }), "credits"),
        (json!({ "credits": "1.234" }), "credits"),
        (json!({ "counts": { "today": -1 } }), "counts.today"),
        (json!({ "counts": { "granted": -2 } }), "counts.granted"),
    ];
    for (extra, field) in bad {
        let mut extra = extra;
        extra["dry_run"] = json!(true);
        let (status, problem) = post_as(&state, ADMIN, DRAWS, body(extra.clone())).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{extra}: {problem}"
        );
        assert_eq!(problem["field"], field, "{extra}: {problem}");
    }
    // Counts that cannot all be true: more today than this month.
    let (status, problem) = post_as(
        &state,
        ADMIN,
        DRAWS,
        body(json!({ "dry_run": true, "counts": { "today": 3, "month": 1 } })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("counts"),
        "{problem}"
    );
}
