//! A campaign's history over the API: versions with their origin and note,
//! one version's source, the export, rollbacks (audited, refused over a
//! folder's campaign), and the semantic diff of an edit or of two versions.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tombola_engine::Provenance;
use tombola_server::{AppState, app};
use tower::ServiceExt;

use super::{ADMIN, CAMPAIGN, deployed, fetch, post, send, state};

/// An admin call with `headers`, answered with its status, headers and body text.
async fn raw(
    state: &AppState,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {ADMIN}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app(state.clone())
        .oneshot(request.body(body.into()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

fn slug(body: &Value) -> &str {
    body["type"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("https://tombola.dev/problems/")
}

/// The demo campaign with its pack's stock at `stock`.
fn with_stock(stock: u32) -> String {
    CAMPAIGN.replace("stock: 1 }", &format!("stock: {stock} }}"))
}

#[tokio::test]
async fn versions_are_listed_newest_first_with_origin_note_and_the_live_one() {
    let state = deployed().await;
    let (status, _, text) = raw(
        &state,
        "PUT",
        "/v1/campaigns/demo?note=more%20packs",
        &[("tombola-client", "console")],
        with_stock(5),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let (status, _, list) = fetch(&state, "/v1/campaigns/demo/versions").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let versions = list["versions"].as_array().unwrap();
    let brief: Vec<_> = versions
        .iter()
        .map(|v| {
            json!([
                v["version"],
                v["origin"],
                v["path"],
                v["note"],
                v["live"],
                v["deployed_at"]
            ])
        })
        .collect();
    assert_eq!(
        brief,
        [
            json!([
                2,
                "console",
                null,
                "more packs",
                true,
                "2026-03-04T10:00:00Z"
            ]),
            json!([1, "api", null, null, false, "2026-03-04T10:00:00Z"]),
        ]
    );
    let sha = versions[1]["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    assert!(sha.bytes().all(|b| b.is_ascii_hexdigit()));

    let (status, _, one) = fetch(&state, "/v1/campaigns/demo/versions/1").await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["source"], CAMPAIGN);
    assert_eq!(
        (&one["sha256"], &one["live"]),
        (&versions[1]["sha256"], &json!(false))
    );

    let (_, _, summary) = fetch(&state, "/v1/campaigns/demo").await;
    assert_eq!(
        (&summary["origin"], &summary["path"]),
        (&json!("console"), &Value::Null)
    );
}

#[tokio::test]
async fn unknown_campaigns_versions_and_bad_input_are_problems_naming_what() {
    let state = deployed().await;
    let (status, _, body) = fetch(&state, "/v1/campaigns/demo/versions/7").await;
    assert_eq!(
        (status, slug(&body)),
        (StatusCode::NOT_FOUND, "unknown-version")
    );
    assert!(
        body["detail"].as_str().unwrap().contains("no version 7"),
        "{body}"
    );
    let (status, _, body) = fetch(&state, "/v1/campaigns/nope/versions").await;
    assert_eq!(
        (status, slug(&body)),
        (StatusCode::NOT_FOUND, "unknown-campaign")
    );
    // A version is written one way: `01` and `+1` are not version 1.
    for path in ["latest", "01", "+1", "1/diff/02", "-1", "0", "1/diff/0"] {
        let (status, _, body) = fetch(&state, &format!("/v1/campaigns/demo/versions/{path}")).await;
        assert_eq!(
            (status, slug(&body)),
            (StatusCode::BAD_REQUEST, "malformed-path"),
            "{path}: {body}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains("version"),
            "{body}"
        );
    }
    let (status, _, body) = fetch(&state, "/v1/campaigns/demo/versions/1/diff/9").await;
    assert_eq!(
        (status, slug(&body)),
        (StatusCode::NOT_FOUND, "unknown-version")
    );

    let long = "n".repeat(1_001);
    let (status, _, body) = send(
        &state,
        "PUT",
        &format!("/v1/campaigns/demo?note={long}"),
        with_stock(2),
    )
    .await;
    assert_eq!(
        (status, slug(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid-input")
    );
    assert_eq!(body["field"], "note");
    // Bytes that are not UTF-8 are refused, not replaced.
    let (status, _, body) = send(
        &state,
        "PUT",
        "/v1/campaigns/demo?note=a%FFb",
        with_stock(2),
    )
    .await;
    assert_eq!(
        (status, slug(&body)),
        (StatusCode::BAD_REQUEST, "malformed-query"),
        "{body}"
    );
    let (status, _, body) = post(
        &state,
        "/v1/campaigns/demo/rollback",
        json!({ "version": 1, "note": long }),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("note"))
    );
    // Not a whole number: a string, a fraction, a float too large to be exact.
    for version in [json!("1"), json!(1.5), json!(1e300), json!(0), json!(-1)] {
        let (status, _, body) = post(
            &state,
            "/v1/campaigns/demo/rollback",
            json!({ "version": version }),
        )
        .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("version")),
            "{version}: {body}"
        );
    }
    let (status, _, body) = post(
        &state,
        "/v1/campaigns/demo/rollback",
        json!({ "version": 4 }),
    )
    .await;
    assert_eq!(
        (status, slug(&body)),
        (StatusCode::NOT_FOUND, "unknown-version")
    );
    // Nothing of those was deployed.
    let (_, _, list) = fetch(&state, "/v1/campaigns/demo/versions").await;
    assert_eq!(list["versions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_live_source_exports_as_a_yaml_download() {
    let state = deployed().await;
    let (status, headers, text) = raw(
        &state,
        "GET",
        "/v1/campaigns/demo/source",
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, CAMPAIGN);
    assert_eq!(headers["content-type"], "application/yaml");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"demo.yaml\"; filename*=UTF-8''demo.yaml"
    );
    let (status, _, text) = raw(
        &state,
        "GET",
        "/v1/campaigns/nope/source",
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{text}");
}

#[tokio::test]
async fn a_rollback_deploys_an_earlier_source_as_a_new_version_and_is_audited() {
    let state = deployed().await;
    send(&state, "PUT", "/v1/campaigns/demo", with_stock(9)).await;
    let (status, _, body) = post(
        &state,
        "/v1/campaigns/demo/rollback",
        json!({ "version": 1, "note": "the pack sold too fast" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body,
        json!({ "campaign": "demo", "version": 3, "changed": true, "warnings": [] })
    );
    let (_, _, detail) = fetch(&state, "/v1/campaigns/demo").await;
    assert_eq!(
        (&detail["version"], &detail["source"]),
        (&json!(3), &json!(CAMPAIGN))
    );
    let (_, _, three) = fetch(&state, "/v1/campaigns/demo/versions/3").await;
    assert_eq!(
        (&three["origin"], &three["note"]),
        (&json!("api"), &json!("the pack sold too fast"))
    );

    // Again: the live version has that source, so nothing is written. `1.0`
    // is the integer 1, as JSON Schema counts integers.
    let (status, _, body) = post(
        &state,
        "/v1/campaigns/demo/rollback",
        json!({ "version": 1.0 }),
    )
    .await;
    assert_eq!((status, &body["changed"]), (StatusCode::OK, &json!(false)));

    let (_, _, audit) = fetch(&state, "/v1/audit").await;
    let entries: Vec<_> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["action"], e["target"], e["detail"]]))
        .collect();
    assert_eq!(
        entries,
        [
            json!(["rollback", "demo", "version 3 from version 1"]),
            json!(["deploy", "demo", "version 2"]),
            json!(["deploy", "demo", "version 1"]),
        ]
    );
}

#[tokio::test]
async fn a_folder_campaign_refuses_api_deploys_and_rollbacks_with_409() {
    let state = state().await;
    state
        .engine
        .deploy_from(
            CAMPAIGN,
            None,
            &Provenance::folder("campaigns/demo.yaml"),
            state.now(),
        )
        .await
        .unwrap();
    let (_, _, list) = fetch(&state, "/v1/campaigns").await;
    assert_eq!(
        (
            &list["campaigns"][0]["origin"],
            &list["campaigns"][0]["path"]
        ),
        (&json!("folder"), &json!("campaigns/demo.yaml"))
    );
    let (status, _, body) = send(&state, "PUT", "/v1/campaigns/demo", with_stock(4)).await;
    assert_eq!(
        (status, slug(&body)),
        (StatusCode::CONFLICT, "campaign-owned-by-folder")
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("campaigns/demo.yaml"),
        "the detail names the file: {body}"
    );
    let (status, _, body) = post(
        &state,
        "/v1/campaigns/demo/rollback",
        json!({ "version": 1 }),
    )
    .await;
    assert_eq!(
        (status, slug(&body)),
        (StatusCode::CONFLICT, "campaign-owned-by-folder")
    );
    let (_, _, versions) = fetch(&state, "/v1/campaigns/demo/versions").await;
    assert_eq!(versions["versions"].as_array().unwrap().len(), 1);
    // Reading, exporting and diffing it are fine.
    let (status, _, _) = post(
        &state,
        "/v1/campaigns/demo/diff",
        json!({ "source": with_stock(4) }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_diff_is_tombola_diffs_json_against_the_live_version_or_between_two() {
    let state = deployed().await;
    let edited = with_stock(4).replace("amount: 50", "amount: 60");
    let (status, _, live) = post(
        &state,
        "/v1/campaigns/demo/diff",
        json!({ "source": edited }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{live}");
    let expected = json!({
        "campaign": "demo",
        "changes": [
            { "section": "Awards", "what": "`gift` amount: 60 (was 50)" },
            { "section": "SKUs", "what": "`pack`: 3 draws, stock 4, price none (was 3 draws, stock 1, price none)" },
        ],
        "credits_per_draw": ["5", "5"],
        "cost_per_draw": ["0", "0"],
    });
    assert_eq!(live, expected);
    // Deployed, the same change reads the same between the two versions.
    send(&state, "PUT", "/v1/campaigns/demo", edited.clone()).await;
    let (status, _, between) = fetch(&state, "/v1/campaigns/demo/versions/1/diff/2").await;
    assert_eq!((status, &between), (StatusCode::OK, &expected));
    let (_, _, back) = fetch(&state, "/v1/campaigns/demo/versions/2/diff/1").await;
    assert_eq!(
        back["changes"][1]["what"],
        "`pack`: 3 draws, stock 1, price none (was 3 draws, stock 4, price none)"
    );

    let (status, _, body) = post(
        &state,
        "/v1/campaigns/demo/diff",
        json!({ "source": "campaign: demo\n" }),
    )
    .await;
    assert_eq!(
        (status, slug(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid-campaign")
    );
    assert!(
        body["diagnostics"]
            .as_array()
            .is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    let other = CAMPAIGN.replace("campaign: demo", "campaign: other");
    let (status, _, body) = post(
        &state,
        "/v1/campaigns/demo/diff",
        json!({ "source": other }),
    )
    .await;
    assert_eq!(
        (status, slug(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "campaign-id-mismatch")
    );
    let (status, _, body) = post(&state, "/v1/campaigns/demo/diff", json!({ "sauce": "x" })).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("sauce"))
    );
    let (status, _, body) = post(
        &state,
        "/v1/campaigns/nope/diff",
        json!({ "source": CAMPAIGN }),
    )
    .await;
    assert_eq!(
        (status, slug(&body)),
        (StatusCode::NOT_FOUND, "unknown-campaign")
    );
}
