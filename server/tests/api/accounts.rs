//! Rebate events, exchanges and credits through the API.

use super::*;

const SHOP: &str = "campaign: shop\nname: Shop\nstate: open\nwindow: { from: 2026-01-01, zone: Europe/Paris }\nallowance: 0\ninputs:\n  events:\n    sign_in: {}\n    payment: { amount: decimal }\nawards:\n  points: { kind: credits, amount: 1 }\npool:\n  - { award: points, rate: 1 }\nskus:\n  draw_1: { draws: 1 }\n  draw_5: { draws: 5, price: 20 credits }\nrebates:\n  - id: daily\n    on: sign_in\n    once: per_day\n    give: [ { sku: draw_1 }, { credits: 10 } ]\n  - id: spender\n    on: payment\n    when: event.amount >= 50\n    give: [ { credits: \"round(event.amount * 5%, 2)\" } ]\n";

async fn shop() -> AppState {
    let state = state().await;
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/shop", SHOP).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    state
}

async fn get(state: &AppState, uri: &str) -> Value {
    fetch(state, uri).await.2
}

#[tokio::test]
async fn events_run_rebate_flows_once_per_period() {
    let state = shop().await;
    let sign_in = json!({ "user": "ann", "event": "sign_in", "request_id": "e1" });
    let (status, _, first) = post(&state, "/v1/campaigns/shop/events", sign_in.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["rebates"][0]["outcome"], "applied");
    let (_, _, replay) = post(&state, "/v1/campaigns/shop/events", sign_in).await;
    assert_eq!(replay, first);
    let again = json!({ "user": "ann", "event": "sign_in", "request_id": "e2" });
    let (_, _, second) = post(&state, "/v1/campaigns/shop/events", again).await;
    assert_eq!(second["rebates"][0]["outcome"], "already_done", "{second}");
    let done = get(&state, "/v1/campaigns/shop/users/ann/events/sign_in").await;
    assert_eq!(done["done"], true, "{done}");
    let not_done = get(
        &state,
        "/v1/campaigns/shop/users/bob/events/sign_in?period=week",
    )
    .await;
    assert_eq!(not_done["done"], false, "{not_done}");
    let (status, _, bad_period) = fetch(
        &state,
        "/v1/campaigns/shop/users/ann/events/sign_in?period=year",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_period["field"], "period");

    let payment = json!({ "user": "bob", "event": "payment", "request_id": "p1", "attributes": { "amount": "80.10" } });
    let (_, _, paid) = post(&state, "/v1/campaigns/shop/events", payment).await;
    assert_eq!(paid["rebates"][0]["actions"][0]["amount"], "4.01", "{paid}");
    let mistyped = json!({ "user": "bob", "event": "payment", "request_id": "p2", "attributes": { "amount": true } });
    let (status, _, body) = post(&state, "/v1/campaigns/shop/events", mistyped).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "attributes.amount");
    let unknown = json!({ "user": "bob", "event": "dance", "request_id": "p3" });
    let (status, _, body) = post(&state, "/v1/campaigns/shop/events", unknown).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["type"], "https://tombola.dev/problems/unknown-event");
}

#[tokio::test]
async fn exchanges_debit_credits_or_change_nothing() {
    let state = shop().await;
    let exchange =
        |n: u32, sku: &str| json!({ "user": "ann", "sku": sku, "request_id": format!("x{n}") });
    let (status, _, broke) = post(
        &state,
        "/v1/campaigns/shop/exchanges",
        exchange(0, "draw_5"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{broke}");
    assert_eq!(
        broke["type"],
        "https://tombola.dev/problems/insufficient-credits"
    );
    let (status, _, body) = post(
        &state,
        "/v1/campaigns/shop/exchanges",
        exchange(1, "draw_1"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["type"],
        "https://tombola.dev/problems/sku-not-for-sale"
    );

    let adjustment = json!({ "amount": "30", "reason": "goodwill", "request_id": "a1" });
    let (status, _, adjusted) = post(&state, "/v1/users/ann/credits/adjustments", adjustment).await;
    assert_eq!(status, StatusCode::OK, "{adjusted}");
    assert_eq!(adjusted["balance"], "30");
    let (status, _, bought) = post(
        &state,
        "/v1/campaigns/shop/exchanges",
        exchange(2, "draw_5"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{bought}");
    assert_eq!(
        (bought["price"].clone(), bought["balance"].clone()),
        (json!("20"), json!("10"))
    );
    let (status, _, _) = post(
        &state,
        "/v1/campaigns/shop/exchanges",
        exchange(3, "draw_5"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "10 credits left");
    let standing = get(&state, "/v1/campaigns/shop/users/ann").await;
    assert_eq!(standing["draws_left"], 5, "{standing}");

    let credits = get(&state, "/v1/users/ann/credits").await;
    assert_eq!(credits["balance"], "10", "{credits}");
    assert_eq!(credits["entries"][0]["delta"], "-20");
    assert_eq!(credits["entries"][0]["reason"], "exchange");
    assert_eq!(credits["entries"][1]["reason"], "adjustment: goodwill");
    let overdraw = json!({ "amount": "-11", "reason": "oops", "request_id": "a2" });
    let (status, _, body) = post(&state, "/v1/users/ann/credits/adjustments", overdraw).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let bad = json!({ "amount": "1.234", "reason": "x", "request_id": "a3" });
    let (status, _, body) = post(&state, "/v1/users/ann/credits/adjustments", bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}
