//! API keys through the admin API, and what a user holds: prize list, tiers,
//! history; a campaign's statistics.

use super::*;

async fn get(state: &AppState, uri: &str) -> (StatusCode, Value) {
    let (status, _, body) = fetch(state, uri).await;
    (status, body)
}

/// Sends `request` with `authorization` (or none) and returns the status and problem type.
async fn with_auth(
    state: &AppState,
    method: &str,
    uri: &str,
    authorization: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = app(state.clone())
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn stored_api_keys_are_created_shown_once_listed_and_revoked() {
    let state = deployed().await.with_dev_key(None);
    let (status, _, created) = post(&state, "/v1/keys", json!({ "name": "checkout" })).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(key.starts_with("tbk_"), "{key}");

    let draw = json!({ "user": "ann", "request_id": "k1", "attributes": { "vip": false } });
    let uri = "/v1/campaigns/demo/draws";
    let (status, body) = with_auth(
        &state,
        "POST",
        uri,
        Some(&format!("Bearer {key}")),
        draw.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = with_auth(&state, "POST", uri, None, draw.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["type"], "https://tombola.dev/problems/unauthenticated");
    let (status, body) =
        with_auth(&state, "POST", uri, Some("Bearer tbk_nope"), draw.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["type"], "https://tombola.dev/problems/forbidden");
    let (status, _) = with_auth(
        &state,
        "POST",
        uri,
        Some(&format!("Bearer {ADMIN}")),
        draw.clone(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the admin token is not an API key"
    );
    let (status, _) = with_auth(
        &state,
        "GET",
        "/v1/keys",
        Some(&format!("Bearer {key}")),
        Value::Null,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an API key is not the admin token"
    );

    let (status, list) = get(&state, "/v1/keys").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["keys"][0]["id"], id.as_str());
    assert_eq!(list["keys"][0]["name"], "checkout");
    assert!(
        !list.to_string().contains(&key),
        "a listing never shows a key"
    );

    let (status, _, revoked) =
        send(&state, "DELETE", &format!("/v1/keys/{id}"), Body::empty()).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    let (status, _) = with_auth(&state, "POST", uri, Some(&format!("Bearer {key}")), draw).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "revoked at once on this server"
    );
    let (status, _, missing) = send(&state, "DELETE", "/v1/keys/nope", Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["type"], "https://tombola.dev/problems/unknown-key");
    let (status, _, empty) = post(&state, "/v1/keys", json!({ "name": "" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty["field"], "name");
}

const LOCKED: &str = "campaign: locks\nname: Locks\nstate: open\nwindow: { from: 2026-01-01, zone: Europe/Paris }\nallowance: 10\nawards:\n  prize: { kind: credits, amount: 100 }\n  luck: { kind: credits, amount: 1 }\npool:\n  - { award: prize, rate: 0.5, stock: 3, tree: gate }\n  - { award: luck, rate: 0.5 }\nbefore:\n  - weight:\n      score: user.draws.total\n      tiers:\n        3: { prize: 90%, luck: 10% }\ntrees:\n  gate:\n    - lock: { after: 2, per: day, locked: consolation }\n    - stock: { exhausted: consolation }\n    - consolation: { fallback: luck }\n";

#[tokio::test]
async fn prize_lists_tiers_history_and_statistics() {
    let state = state().await;
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/locks", LOCKED).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, prizes) = get(&state, "/v1/campaigns/locks/users/ann/awards").await;
    assert_eq!(status, StatusCode::OK, "{prizes}");
    assert_eq!(prizes["awards"][0]["award"], "prize");
    assert_eq!(prizes["awards"][0]["state"], "locked");
    assert_eq!(prizes["awards"][0]["draws_to_unlock"], 2);
    assert_eq!(prizes["awards"][0]["remaining"], 3);
    assert_eq!(prizes["awards"][1]["state"], "available");

    for n in 0..3 {
        let (status, _, body) = post(
            &state,
            "/v1/campaigns/locks/draws",
            json!({ "user": "ann", "request_id": format!("h{n}") }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, prizes) = get(&state, "/v1/campaigns/locks/users/ann/awards").await;
    assert_eq!(prizes["made_today"], 3);
    assert_eq!(prizes["awards"][0]["draws_to_unlock"], 0, "{prizes}");
    assert_ne!(prizes["awards"][0]["state"], "locked");

    let (status, tiers) = get(&state, "/v1/campaigns/locks/users/ann/tiers").await;
    assert_eq!(status, StatusCode::OK);
    let rule = &tiers["rules"][0];
    assert_eq!(rule["score"], "user.draws.total");
    assert_eq!(
        (rule["value"].clone(), rule["current"].clone()),
        (json!(3), json!(3))
    );
    assert_eq!(rule["tiers"][0]["awards"]["prize"], "0.9");

    let (status, page) = get(&state, "/v1/campaigns/locks/users/ann/draws?limit=2").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["draws"].as_array().unwrap().len(), 2);
    assert_eq!(page["draws"][0]["request_id"], "h2", "newest first");
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, rest) = get(
        &state,
        &format!("/v1/campaigns/locks/users/ann/draws?limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(rest["draws"].as_array().unwrap().len(), 1);
    assert_eq!(rest["draws"][0]["request_id"], "h0");
    assert!(rest["next_cursor"].is_null());
    let (status, bad) = get(&state, "/v1/campaigns/locks/users/ann/draws?limit=many").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["type"], "https://tombola.dev/problems/malformed-query");
    // Not hex, then forged ones: a negative or padded time, a request id that is none.
    let forged = ["x", "2d352e71", "30352e71", "352e", "352e00", "352e71"];
    for cursor in forged {
        let uri = format!("/v1/campaigns/locks/users/ann/draws?cursor={cursor}");
        let (status, bad) = get(&state, &uri).await;
        if cursor == "352e71" {
            assert_eq!(status, StatusCode::OK, "`5.q` is a position: {bad}");
            continue;
        }
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{cursor}: {bad}");
        assert_eq!(bad["type"], "https://tombola.dev/problems/invalid-input");
        assert_eq!(bad["field"], "cursor", "{bad}");
    }

    let (status, stats) = get(&state, "/v1/campaigns/locks/stats").await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["draws"], 3);
    assert_eq!(stats["days"][0]["day"], "2026-03-04");
    assert_eq!(stats["days"][0]["draws"], 3);
    let issued: i64 = stats["awards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["issued"].as_i64().unwrap())
        .sum();
    assert_eq!(issued, 3);
    assert_eq!(stats["awards"][0]["stock"]["declared"], 3);

    for uri in [
        "/v1/campaigns/nope/users/ann/awards",
        "/v1/campaigns/nope/users/ann/tiers",
        "/v1/campaigns/nope/users/ann/draws",
        "/v1/campaigns/nope/stats",
    ] {
        let (status, body) = get(&state, uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(
            body["type"], "https://tombola.dev/problems/unknown-campaign",
            "{uri}"
        );
    }
}

#[tokio::test]
async fn a_draw_missing_an_attribute_the_rules_read_names_it_and_writes_nothing() {
    let state = deployed().await;
    let (status, _, body) = post(
        &state,
        "/v1/campaigns/demo/draws",
        json!({ "user": "ann", "request_id": "no-vip" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["type"], "https://tombola.dev/problems/invalid-input");
    assert_eq!(body["field"], "attributes.vip");
    let (_, standing) = get(&state, "/v1/campaigns/demo/users/ann").await;
    assert_eq!(standing["draws_made"], 0, "{standing}");
}
