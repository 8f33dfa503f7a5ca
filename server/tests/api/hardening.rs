//! Input refused the same way on every store: identifiers, attribute sizes,
//! duplicate attributes, money bounds; campaign faults recorded; every error
//! problem+json.

use rust_decimal::Decimal;

use super::*;

const HARD: &str = r#"campaign: hard
name: Hard
state: open
window: { from: 2026-01-01, zone: UTC }
allowance: 1000
inputs:
  user: { tags: list<string>, spent: decimal }
  events: { payment: { amount: decimal } }
awards:
  points: { kind: credits, amount: 5 }
  share: { kind: credits, amount: "round(100 / user.spent, 2)" }
pool:
  - { award: points, rate: 1 }
before:
  - when: '"vip" in user.tags'
    give: share
skus:
  pack: { draws: 1, price: 1 }
rebates:
  - id: cashback
    on: payment
    give: [ { credits: "round(event.amount * 5%, 2)" } ]
"#;

/// The app on memory, on a fresh SQLite file and, when configured, on a fresh
/// PostgreSQL database, each with the `hard` campaign deployed.
async fn every_store() -> Vec<(String, AppState)> {
    let sqlite = std::env::temp_dir().join(format!(
        "{}.db",
        tombola_engine::test_support::unique("tombola-hard")
    ));
    let mut urls = vec![
        "memory:".to_string(),
        format!("sqlite://{}", sqlite.display()),
    ];
    urls.extend(tombola_engine::test_support::postgres_url().await);
    let mut stores = Vec::new();
    for url in urls {
        let state = state_on(&url).await;
        let (status, _, body) = send(&state, "PUT", "/v1/campaigns/hard", HARD).await;
        assert_eq!(status, StatusCode::CREATED, "{url}: {body}");
        let store = url.split(':').next().unwrap().to_string();
        stores.push((store, state));
    }
    stores
}

/// Asserts a 422 `invalid-input` naming `field`.
#[track_caller]
fn refused(store: &str, (status, content_type, body): (StatusCode, String, Value), field: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{store}: {body}");
    assert_eq!(content_type, "application/problem+json", "{store}");
    assert_eq!(
        body["type"],
        format!("{PROBLEM}invalid-input"),
        "{store}: {body}"
    );
    assert_eq!(body["field"], field, "{store}: {body}");
}

const PROBLEM: &str = "https://tombola.dev/problems/";

fn draw_body(user: &str, request_id: &str) -> Value {
    json!({ "user": user, "request_id": request_id, "attributes": { "tags": [], "spent": "1" } })
}

#[tokio::test]
async fn identifiers_follow_one_rule_on_every_store() {
    let long = "é".repeat(257);
    let longest = "é".repeat(256);
    for (store, state) in every_store().await {
        let draw = async |body: Value| post(&state, "/v1/campaigns/hard/draws", body).await;
        for bad in ["a\0b", "", " \u{200d}", "\u{202e}ann", long.as_str()] {
            refused(&store, draw(draw_body(bad, "r-1")).await, "user");
            refused(&store, draw(draw_body("ann", bad)).await, "request_id");
        }
        let (status, _, body) = draw(draw_body(&longest, "r-1")).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{store}: 256 scalars are an id: {body}"
        );
        let (status, _, body) = draw(draw_body(" ann", "r-2")).await;
        assert_eq!(status, StatusCode::OK, "{store}: never trimmed: {body}");
        assert_eq!(body["user"], " ann", "{store}");

        refused(
            &store,
            fetch(&state, "/v1/campaigns/hard/users//awards").await,
            "user",
        );
        refused(
            &store,
            fetch(&state, "/v1/campaigns/hard/users/a%00b").await,
            "user",
        );
        refused(
            &store,
            fetch(&state, &format!("/v1/users/{}/credits", "u".repeat(60_000))).await,
            "user",
        );
        let (status, content_type, body) = fetch(&state, "/v1/campaigns/hard/users/%FF%FE").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{store}: {body}");
        assert_eq!(content_type, "application/problem+json", "{store}");
        assert_eq!(body["type"], format!("{PROBLEM}malformed-path"), "{store}");

        let exchange = json!({ "user": "ann", "sku": "pa\0ck", "request_id": "x-1" });
        refused(
            &store,
            post(&state, "/v1/campaigns/hard/exchanges", exchange).await,
            "sku",
        );
        let event = json!({ "user": "ann", "event": "pay\0", "request_id": "e-1" });
        refused(
            &store,
            post(&state, "/v1/campaigns/hard/events", event).await,
            "event",
        );
        let key = json!({ "name": "ci\0" });
        refused(&store, post(&state, "/v1/keys", key).await, "name");
        let adjust = |reason: &str, request_id: &str| json!({ "amount": "1", "reason": reason, "request_id": request_id });
        let uri = "/v1/users/ann/credits/adjustments";
        refused(
            &store,
            post(&state, uri, adjust("oops\0", "a-1")).await,
            "reason",
        );
        refused(
            &store,
            post(&state, uri, adjust(&"x".repeat(1_001), "a-1")).await,
            "reason",
        );
        refused(
            &store,
            post(&state, uri, adjust("ok", "a\u{0}")).await,
            "request_id",
        );
        let (status, _, body) = post(&state, uri, adjust("refund\nticket 42", "a-1")).await;
        assert_eq!(status, StatusCode::OK, "{store}: a newline is text: {body}");
    }
}

#[tokio::test]
async fn coupon_codes_follow_the_identifier_rule() {
    let state = state().await;
    let source = "campaign: c\nname: C\nstate: open\nwindow: { from: 2026-01-01, zone: UTC }\nallowance: 5\ndelivery: { webhook: \"http://127.0.0.1:9/hook\", secret_env: C_SECRET }\nawards:\n  off: { kind: coupon }\n  luck: { kind: credits, amount: 1 }\npool:\n  - { award: off, rate: 1, tree: t }\ntrees:\n  t:\n    - codes: { exhausted: luck }\n    - luck: { fallback: luck }\n";
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/c", source).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, _, prizes) = fetch(&state, "/v1/campaigns/c/users/ann/awards").await;
    assert_eq!(
        prizes["awards"][0]["state"], "sold_out",
        "no codes uploaded is none left, as a draw finds: {prizes}"
    );
    let codes = json!({ "codes": ["GOOD-1", "BAD\u{0}2"] });
    let answer = post(&state, "/v1/campaigns/c/awards/off/codes", codes).await;
    refused("memory", answer, "codes[1]");
    let codes = json!({ "codes": ["GOOD-1"] });
    let (status, _, _) = post(&state, "/v1/campaigns/c/awards/off/codes", codes).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, prizes) = fetch(&state, "/v1/campaigns/c/users/ann/awards").await;
    assert_eq!(prizes["awards"][0]["state"], "available", "{prizes}");
}

#[tokio::test]
async fn attributes_are_capped_and_named_once() {
    let state = deployed_hard().await;
    let with =
        |attributes: Value| json!({ "user": "ann", "request_id": "r-1", "attributes": attributes });
    let uri = "/v1/campaigns/hard/draws";
    let many: Vec<String> = (0..1_001).map(|i| i.to_string()).collect();
    refused(
        "memory",
        post(&state, uri, with(json!({ "tags": many, "spent": "1" }))).await,
        "attributes.tags",
    );
    let long = "t".repeat(1_001);
    refused(
        "memory",
        post(&state, uri, with(json!({ "tags": [long], "spent": "1" }))).await,
        "attributes.tags",
    );
    let most: Vec<String> = (0..1_000).map(|i| format!("{i:0>1000}")).collect();
    let (status, _, body) = post(&state, uri, with(json!({ "tags": most, "spent": "1" }))).await;
    assert_eq!(status, StatusCode::OK, "at the caps: {body}");
    let recorded = body["steps"][0]["inputs"][0][1].as_str().unwrap();
    assert!(
        recorded.chars().count() <= 201 && recorded.ends_with('…'),
        "the explanation records a cut value: {} characters",
        recorded.chars().count()
    );

    let twice =
        r#"{"user":"ann","request_id":"r-2","attributes":{"spent":"1","tags":[],"spent":"2"}}"#;
    let (status, content_type, body) = call(&state, "POST", uri, Body::from(twice), true).await;
    assert_eq!(content_type, "application/problem+json");
    refused("memory", (status, content_type, body), "attributes.spent");
}

async fn deployed_hard() -> AppState {
    let state = state().await;
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/hard", HARD).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    state
}

const MAX: &str = "1000000000000";

#[tokio::test]
async fn amounts_and_balances_stay_within_the_limit_on_every_store() {
    for (store, state) in every_store().await {
        let adjust = async |amount: &str, request_id: &str| {
            let body = json!({ "amount": amount, "reason": "test", "request_id": request_id });
            post(&state, "/v1/users/ann/credits/adjustments", body).await
        };
        let (status, _, body) = adjust("92233720368547758.07", "a-0").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{store}: {body}");
        assert_eq!(body["type"], format!("{PROBLEM}invalid-input"), "{store}");
        let (status, _, body) = adjust("999999999999.99", "a-1").await;
        assert_eq!(status, StatusCode::OK, "{store}: {body}");
        let (status, _, body) = adjust("0.02", "a-2").await;
        assert_eq!(status, StatusCode::CONFLICT, "{store}: {body}");
        assert_eq!(body["type"], format!("{PROBLEM}balance-limit"), "{store}");
        let (status, _, body) = adjust("0.01", "a-3").await;
        assert_eq!(status, StatusCode::OK, "{store}: exactly the limit: {body}");
        assert_eq!(body["balance"], MAX, "{store}");

        // A draw whose credits award would cross the limit writes nothing.
        let (_, _, before) = fetch(&state, "/v1/campaigns/hard/users/ann").await;
        let (status, _, body) =
            post(&state, "/v1/campaigns/hard/draws", draw_body("ann", "d-1")).await;
        assert_eq!(status, StatusCode::CONFLICT, "{store}: {body}");
        assert_eq!(body["type"], format!("{PROBLEM}balance-limit"), "{store}");
        let (_, _, after) = fetch(&state, "/v1/campaigns/hard/users/ann").await;
        assert_eq!(before, after, "{store}: no draw was spent");
        // The refusal came after the pick, so it is the request's answer: a
        // retry cannot pick again until an award fits under the limit.
        let (status, _, again) =
            post(&state, "/v1/campaigns/hard/draws", draw_body("ann", "d-1")).await;
        assert_eq!((status, again), (StatusCode::CONFLICT, body), "{store}");
        // So does a rebate on a payment.
        let event = json!({ "user": "ann", "event": "payment", "request_id": "e-1", "attributes": { "amount": "100" } });
        let (status, _, body) = post(&state, "/v1/campaigns/hard/events", event).await;
        assert_eq!(status, StatusCode::CONFLICT, "{store}: {body}");
        assert_eq!(body["type"], format!("{PROBLEM}balance-limit"), "{store}");
        let (status, _, credits) = fetch(&state, "/v1/users/ann/credits").await;
        assert_eq!(status, StatusCode::OK, "{store}: {credits}");
        assert_eq!(credits["balance"], MAX, "{store}");
        // A payment whose rebate alone is beyond the limit is the same refusal,
        // not a fault of the campaign.
        let event = json!({ "user": "bob", "event": "payment", "request_id": "e-2", "attributes": { "amount": "30000000000000" } });
        let (status, _, body) = post(&state, "/v1/campaigns/hard/events", event).await;
        assert_eq!(status, StatusCode::CONFLICT, "{store}: {body}");
        assert_eq!(body["type"], format!("{PROBLEM}balance-limit"), "{store}");
    }
}

/// No sequence of calls, admin or app, leaves an account that errors: every
/// call is answered without a 5xx and the balance stays readable and in bounds.
#[tokio::test]
async fn no_sequence_of_calls_leaves_an_account_that_errors() {
    let amounts = [
        "999999999999.99",
        "-999999999999.99",
        "1000000000000",
        "-1000000000000",
        "1000000000000.01",
        "0.01",
        "-0.01",
        "92233720368547758.07",
        "-5",
        "123.45",
    ];
    let payments = [
        "0",
        "0.01",
        "99999999999999",
        "1000000000000",
        "79228162514264337593543950335",
        "80.10",
    ];
    for (store, state) in every_store().await {
        let mut seed: u64 = 7;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        for call in 0..120 {
            let id = format!("c-{call}");
            let (status, _, body) = match next(4) {
                0 => {
                    let body = json!({ "amount": amounts[next(amounts.len())], "reason": "fuzz", "request_id": id });
                    post(&state, "/v1/users/ann/credits/adjustments", body).await
                }
                1 => post(&state, "/v1/campaigns/hard/draws", draw_body("ann", &id)).await,
                2 => {
                    let attributes = json!({ "amount": payments[next(payments.len())] });
                    let body = json!({ "user": "ann", "event": "payment", "request_id": id, "attributes": attributes });
                    post(&state, "/v1/campaigns/hard/events", body).await
                }
                _ => {
                    let body = json!({ "user": "ann", "sku": "pack", "request_id": id });
                    post(&state, "/v1/campaigns/hard/exchanges", body).await
                }
            };
            assert!(!status.is_server_error(), "{store}: call {call}: {body}");
            let (status, _, credits) = fetch(&state, "/v1/users/ann/credits").await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{store}: after call {call}: {credits}"
            );
            let balance: Decimal = credits["balance"].as_str().unwrap().parse().unwrap();
            assert!(
                balance >= Decimal::ZERO && balance <= MAX.parse().unwrap(),
                "{store}: {balance}"
            );
        }
    }
}

#[tokio::test]
async fn a_campaign_fault_is_recorded_and_replayed_not_re_rolled() {
    for (store, state) in every_store().await {
        let vip = json!({ "user": "ann", "request_id": "f-1", "attributes": { "tags": ["vip"], "spent": "0" } });
        let (status, content_type, body) =
            post(&state, "/v1/campaigns/hard/draws", vip.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{store}: {body}");
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(
            body["type"],
            format!("{PROBLEM}campaign-fault"),
            "{store}: {body}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains("version 1"),
            "{store}: names the version: {body}"
        );
        let (_, _, user) = fetch(&state, "/v1/campaigns/hard/users/ann").await;
        assert_eq!(user["draws_made"], 0, "{store}: nothing debited: {user}");
        let (status, _, again) = post(&state, "/v1/campaigns/hard/draws", vip).await;
        assert_eq!(
            (status, &again),
            (StatusCode::UNPROCESSABLE_ENTITY, &body),
            "{store}: the same answer"
        );
        let (status, _, stored) = fetch(&state, "/v1/campaigns/hard/draws/f-1").await;
        assert_eq!(
            (status, stored),
            (StatusCode::UNPROCESSABLE_ENTITY, body),
            "{store}"
        );

        // A missing attribute is the caller's to fix: refused, recorded nothing.
        let missing = json!({ "user": "ann", "request_id": "f-2", "attributes": { "spent": "1" } });
        refused(
            &store,
            post(&state, "/v1/campaigns/hard/draws", missing).await,
            "attributes.tags",
        );
        let fixed = json!({ "user": "ann", "request_id": "f-2", "attributes": { "spent": "1", "tags": [] } });
        let (status, _, body) = post(&state, "/v1/campaigns/hard/draws", fixed).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{store}: the corrected retry runs: {body}"
        );
    }
}

#[tokio::test]
async fn an_event_missing_an_attribute_names_it() {
    let state = deployed_hard().await;
    let event = json!({ "user": "ann", "event": "payment", "request_id": "e-1" });
    let answer = post(&state, "/v1/campaigns/hard/events", event).await;
    assert!(
        answer.2["detail"]
            .as_str()
            .unwrap()
            .contains("event.amount"),
        "{}",
        answer.2
    );
    refused("memory", answer, "attributes.amount");
}

#[tokio::test]
async fn grants_and_exchanges_sharing_a_request_id_conflict_on_every_store() {
    for (store, state) in every_store().await {
        let body = json!({ "user": "ann", "sku": "pack", "request_id": "o-1" });
        let (status, _, answer) = post(&state, "/v1/campaigns/hard/grants", body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{store}: {answer}");
        post(
            &state,
            "/v1/users/ann/credits/adjustments",
            json!({ "amount": "5", "reason": "r", "request_id": "a-1" }),
        )
        .await;
        let (status, _, answer) = post(&state, "/v1/campaigns/hard/exchanges", body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{store}: {answer}");
        assert_eq!(
            answer["type"],
            format!("{PROBLEM}request-id-reused"),
            "{store}"
        );
        let (_, _, credits) = fetch(&state, "/v1/users/ann/credits").await;
        assert_eq!(credits["balance"], "5", "{store}: nothing was debited");
    }
}

#[tokio::test]
async fn a_replayed_adjustment_writes_one_audit_entry() {
    let state = deployed_hard().await;
    let body = json!({ "amount": "5", "reason": "goodwill", "request_id": "a-1" });
    for _ in 0..3 {
        let (status, _, _) = post(&state, "/v1/users/ann/credits/adjustments", body.clone()).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, _, audit) = fetch(&state, "/v1/audit").await;
    let adjustments: Vec<&Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "adjust_credits")
        .collect();
    assert_eq!(adjustments.len(), 1, "{audit}");
    assert_eq!(adjustments[0]["detail"], "5 (goodwill)");
}

#[tokio::test]
async fn framework_rejections_are_problems_too() {
    let state = deployed_hard().await;
    let (status, content_type, body) = send(&state, "DELETE", "/v1/campaigns/hard/draws", "").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["type"], format!("{PROBLEM}method-not-allowed"));
    assert!(
        body["detail"].as_str().unwrap().contains("DELETE"),
        "{body}"
    );
    let request = Request::delete("/v1/campaigns/hard/draws")
        .body(Body::empty())
        .unwrap();
    let response = app(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    let (status, content_type, body) = send(&state, "POST", "/v1/deliveries/abc/retry", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["type"], format!("{PROBLEM}malformed-path"));
}

#[tokio::test]
async fn seeds_are_strings() {
    let state = deployed_hard().await;
    let (_, _, body) = post(&state, "/v1/campaigns/hard/draws", draw_body("ann", "s-1")).await;
    let seed = body["seed"].as_str().expect("a string seed");
    assert!(seed.parse::<u64>().is_ok(), "{seed}");
}

/// `HARD` with another name: different content, the same campaign.
fn hard_named(n: usize) -> String {
    HARD.replace("name: Hard", &format!("name: Hard {n}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deploys_of_one_campaign_never_fail_on_every_store() {
    for (store, state) in every_store().await {
        let mut puts = Vec::new();
        for n in 0..20 {
            let state = state.clone();
            puts.push(tokio::spawn(async move {
                send(&state, "PUT", "/v1/campaigns/hard", hard_named(n)).await
            }));
        }
        let mut versions = Vec::new();
        for put in puts {
            let (status, _, body) = put.await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{store}: {body}");
            versions.push(body["version"].as_i64().unwrap());
        }
        versions.sort();
        assert_eq!(
            versions,
            (2..=21).collect::<Vec<_>>(),
            "{store}: each a version of its own"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_file_put_to_two_servers_at_once_deploys_once() {
    let Some(url) = tombola_engine::test_support::postgres_url().await else {
        return;
    };
    let (one, two) = (state_on(&url).await, state_on(&url).await);
    for round in 0..10 {
        let source = hard_named(round);
        let (a, b) = tokio::join!(
            send(&one, "PUT", "/v1/campaigns/hard", source.clone()),
            send(&two, "PUT", "/v1/campaigns/hard", source),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CREATED],
            "round {round}: {} / {}",
            a.2,
            b.2
        );
        assert_eq!(a.2["version"], b.2["version"], "round {round}");
    }
}

#[tokio::test]
async fn a_deploy_warns_of_a_kept_state_and_a_missing_secret() {
    let state = deployed_hard().await;
    let (status, _, _) = send(&state, "POST", "/v1/campaigns/hard/close", "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/hard", hard_named(1)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["warnings"][0]["code"], "state-kept", "{body}");
    let message = body["warnings"][0]["message"].as_str().unwrap();
    assert!(message.contains("/v1/campaigns/hard/open"), "{message}");
    let (_, _, campaign) = fetch(&state, "/v1/campaigns/hard").await;
    assert_eq!(campaign["state"], "closed", "the store's state stands");

    let webhook = "state: closed\ndelivery: { webhook: \"https://example.com/hook\", secret_env: TOMBOLA_TEST_NEVER_SET }\n";
    let source = hard_named(2).replace("state: open\n", webhook);
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/hard", source).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["warnings"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["warnings"][0]["code"], "secret-missing", "{body}");
    assert!(
        body["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("TOMBOLA_TEST_NEVER_SET")
    );
}

#[tokio::test]
async fn a_replayed_draw_is_counted_once() {
    let state = deployed_hard().await;
    for _ in 0..3 {
        let (status, _, _) =
            post(&state, "/v1/campaigns/hard/draws", draw_body("ann", "m-1")).await;
        assert_eq!(status, StatusCode::OK);
    }
    let request = Request::get("/metrics").body(Body::empty()).unwrap();
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let metrics = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(
        metrics.contains(r#"tombola_draws_total{campaign="hard",award="points"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn decimals_are_written_one_exact_way() {
    let state = deployed_hard().await;
    let uri = "/v1/users/ann/credits/adjustments";
    for (n, amount) in [
        "1_0",
        "1e3",
        "+5",
        ".5",
        "5.",
        "007",
        "0",
        "0.001",
        "1000000000000.01",
        " 5",
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({ "amount": amount, "reason": "r", "request_id": format!("a-{n}") });
        refused("memory", post(&state, uri, body).await, "amount");
    }
    let body = json!({ "amount": "-0.50", "reason": "r", "request_id": "ok-0" });
    let (status, _, answer) = post(&state, uri, body).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a debit beyond the balance: {answer}"
    );
    let body = json!({ "amount": "10.50", "reason": "r", "request_id": "ok-1" });
    let (status, _, answer) = post(&state, uri, body).await;
    assert_eq!(
        (status, &answer["balance"]),
        (StatusCode::OK, &json!("10.5")),
        "{answer}"
    );

    // A number where the string goes: the body's shape is wrong, and the field is named.
    let body = json!({ "amount": 5, "reason": "r", "request_id": "n-1" });
    let (status, _, answer) = post(&state, uri, body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["type"], format!("{PROBLEM}invalid-body"));
    assert_eq!(answer["field"], "amount", "{answer}");
    let body = json!({ "reason": "r", "request_id": "n-2" });
    let (_, _, answer) = post(&state, uri, body).await;
    assert_eq!(
        answer["field"], "amount",
        "a missing field is named: {answer}"
    );

    let draw =
        json!({ "user": "ann", "request_id": "d-1", "attributes": { "tags": [], "spent": "5_0" } });
    refused(
        "memory",
        post(&state, "/v1/campaigns/hard/draws", draw).await,
        "attributes.spent",
    );
}
