//! What the OpenAPI document states, the server enforces: page sizes within
//! their documented range, amounts of the documented shape, identifiers and
//! text held to the document's own patterns, and no request without its body.

use super::*;

const PROBLEM: &str = "https://tombola.dev/problems/";

/// A pattern of the served document's components, compiled.
async fn pattern(state: &AppState, schema: &str) -> regex::Regex {
    let (_, _, document) = fetch(state, "/openapi.json").await;
    let pattern = document["components"]["schemas"][schema]["pattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{schema} has no pattern"));
    regex::Regex::new(pattern).unwrap()
}

#[tokio::test]
async fn a_page_size_outside_its_documented_range_is_refused() {
    let state = deployed().await;
    for (uri, max) in [
        ("/v1/campaigns/demo/users/ann/draws", 100_u64),
        ("/v1/deliveries", 500),
        ("/v1/audit", 500),
    ] {
        for limit in [1, max] {
            let (status, _, body) = fetch(&state, &format!("{uri}?limit={limit}")).await;
            assert_eq!(status, StatusCode::OK, "{uri}?limit={limit}: {body}");
        }
        for limit in [0, max + 1, 2_147_483_648] {
            let (status, _, body) = fetch(&state, &format!("{uri}?limit={limit}")).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{uri}?limit={limit}: {body}"
            );
            assert_eq!(body["type"], format!("{PROBLEM}invalid-input"));
            assert_eq!(body["field"], "limit", "{body}");
        }
        // Not a number at all (or beyond the integer type) is the query's shape: 400.
        let (status, _, body) = fetch(&state, &format!("{uri}?limit=4294967296")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["type"], format!("{PROBLEM}malformed-query"));
    }
}

#[tokio::test]
async fn a_campaign_call_without_its_file_is_refused() {
    let state = state().await;
    for (method, uri) in [
        ("POST", "/v1/campaigns/validate"),
        ("PUT", "/v1/campaigns/demo"),
    ] {
        let (status, _, body) = send(&state, method, uri, "").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {uri}: {body}");
        assert_eq!(body["type"], format!("{PROBLEM}malformed-body"));
    }
    let (_, _, campaigns) = fetch(&state, "/v1/campaigns").await;
    assert_eq!(campaigns["campaigns"], json!([]), "nothing was deployed");
}

/// Each amount is taken exactly when the document's `Amount` pattern takes it.
#[tokio::test]
async fn an_amount_is_taken_exactly_when_the_documented_pattern_takes_it() {
    let state = state().await;
    let amount = pattern(&state, "Amount").await;
    let samples = [
        "25",
        "-10.50",
        "0.01",
        "-0.5",
        "999999999999.99",
        "1000000000000",
        "1000000000000.00",
        "-1000000000000.0",
        "0",
        "-0",
        "0.00",
        "+5",
        "05",
        "1e3",
        "1.",
        ".5",
        "1.234",
        "1_000",
        " 5",
        "1000000000000.01",
        "10000000000000",
        "abc",
        "",
    ];
    for (at, sample) in samples.iter().enumerate() {
        let body =
            json!({ "amount": sample, "reason": "contract", "request_id": format!("a-{at}") });
        let (status, _, answer) = post(&state, "/v1/users/ann/credits/adjustments", body).await;
        // A debit the balance does not cover, or a credit beyond the balance
        // limit, is 409: the amount itself was taken.
        let taken = status != StatusCode::UNPROCESSABLE_ENTITY;
        assert_eq!(
            taken,
            amount.is_match(sample),
            "{sample:?}: {status} {answer}"
        );
        if !taken {
            assert_eq!(
                answer["type"],
                format!("{PROBLEM}invalid-input"),
                "{sample:?}"
            );
        }
    }
    // A JSON number is not the documented string.
    let body = json!({ "amount": 5, "reason": "contract", "request_id": "a-number" });
    let (status, _, answer) = post(&state, "/v1/users/ann/credits/adjustments", body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["type"], format!("{PROBLEM}invalid-body"));
}

/// A key's name, a reason and a path segment are taken exactly when the
/// document's `Identifier` and `Text` patterns take them.
#[tokio::test]
async fn identifiers_and_text_are_taken_exactly_when_the_documented_patterns_take_them() {
    let state = state().await;
    let identifier = pattern(&state, "Identifier").await;
    let text = pattern(&state, "Text").await;
    let samples = [
        "ann".to_string(),
        " spaced ".into(),
        "a\u{0}b".into(),
        "a\u{85}".into(),
        "a\u{ad}".into(),
        "zero\u{200b}width".into(),
        "\u{202e}bidi".into(),
        "tag\u{e0041}".into(),
        "emoji 🎉".into(),
        "tab\there".into(),
        "line\nbreak".into(),
        "   ".into(),
        "\u{3000}".into(),
        String::new(),
        "é".repeat(256),
        "é".repeat(257),
    ];
    for (at, sample) in samples.iter().enumerate() {
        let (status, _, answer) = post(&state, "/v1/keys", json!({ "name": sample })).await;
        assert_eq!(
            status == StatusCode::CREATED,
            identifier.is_match(sample),
            "name {sample:?}: {status} {answer}"
        );
        let body = json!({ "amount": "1", "reason": sample, "request_id": format!("r-{at}") });
        let (status, _, answer) = post(&state, "/v1/users/ann/credits/adjustments", body).await;
        assert_eq!(
            status == StatusCode::OK,
            text.is_match(sample),
            "reason {sample:?}: {status} {answer}"
        );
    }
}
