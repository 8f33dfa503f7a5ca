//! Language analysis over HTTP: a file's diagnostics with UTF-16 spans, its
//! rule graph (whose node ids are the steps' names) and its draw inputs;
//! completion and hover.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{ADMIN, APP_KEY, CAMPAIGN, post_as, state};

async fn analyze(state: &super::AppState, source: &str) -> Value {
    let (status, analysis) = post_as(
        state,
        ADMIN,
        "/v1/authoring/analyze",
        json!({ "source": source }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{analysis}");
    analysis
}

/// The shipped campaigns, by file name.
fn shipped() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../campaigns");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.ends_with(".yaml") && !name.ends_with(".test.yaml")
        })
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    files
}

#[tokio::test]
async fn analysis_gives_diagnostics_with_utf16_spans_and_no_graph_while_broken() {
    let state = state().await;
    // "é𝄞" is 6 bytes and 3 UTF-16 units before the typo.
    let source = CAMPAIGN
        .replace("name: Demo", "name: é𝄞")
        .replace("give: gift", "give: gfit");
    let analysis = analyze(&state, &source).await;
    assert_eq!(
        (&analysis["valid"], &analysis["graph"]),
        (&json!(false), &Value::Null),
        "{analysis}"
    );
    let typo = (analysis["diagnostics"].as_array().unwrap().iter())
        .find(|d| d["message"].as_str().unwrap().contains("gfit"))
        .unwrap_or_else(|| panic!("{analysis}"));
    let at = source.find("gfit").unwrap();
    let units = source[..at].encode_utf16().count();
    assert_eq!(units, at - 3, "the test's text");
    assert_eq!(
        (&typo["from"], &typo["to"]),
        (&json!(units), &json!(units + 4)),
        "{typo}"
    );
    assert_eq!(typo["start"]["line"], 15, "{typo}");
    // The did-you-mean's fix replaces the same span with `gift`.
    assert_eq!(
        (&typo["fix"]["from"], &typo["fix"]["text"]),
        (&json!(units), &json!("gift")),
        "{typo}"
    );
    assert_eq!(
        analysis["inputs"],
        json!([{ "name": "vip", "type": "bool" }, { "name": "spent", "type": "decimal" }]),
        "the inputs of a file with errors"
    );
}

#[tokio::test]
async fn the_graph_of_every_shipped_campaign_names_every_step_a_dry_run_takes() {
    let state = state().await;
    for (name, source) in shipped() {
        let analysis = analyze(&state, &source).await;
        assert_eq!(analysis["valid"], true, "{name}: {analysis}");
        let graph = &analysis["graph"];
        let ids: BTreeSet<&str> = (graph["nodes"].as_array().unwrap().iter())
            .map(|n| n["id"].as_str().unwrap())
            .collect();
        for edge in graph["edges"].as_array().unwrap() {
            for end in ["from", "to"] {
                let id = edge[end].as_str().unwrap();
                assert!(ids.contains(id), "{name}: edge to {id} without a node");
            }
        }
        let id = source
            .lines()
            .find_map(|line| line.strip_prefix("campaign: "))
            .unwrap()
            .trim();
        let awards: Vec<&str> = (ids.iter())
            .filter_map(|id| id.strip_prefix("draw:"))
            .collect();
        assert!(!awards.is_empty(), "{name}: {graph}");
        let mut seen = BTreeSet::new();
        // Each pool award, for users with and without the attributes, from
        // no draws and from many, at several seeds: the routes the file has.
        for (n, lands_on) in awards.iter().enumerate() {
            for vip in [false, true] {
                for total in [0, 3, 40] {
                    let body = json!({
                        "user": format!("u{n}"),
                        "request_id": "graph",
                        "attributes": { "vip": vip, "tags": if vip { json!(["vip", "new"]) } else { json!([]) } },
                        "dry_run": true,
                        "source": source,
                        "seed": (total * 7 + n).to_string(),
                        "lands_on": lands_on,
                        "counts": { "today": 0, "month": total, "total": total, "granted": 5 },
                    });
                    let mut body = body;
                    if !source.contains("vip: bool") {
                        body.as_object_mut().unwrap().remove("attributes");
                    }
                    let uri = format!("/v1/campaigns/{id}/draws");
                    let (status, told) = post_as(&state, ADMIN, &uri, body).await;
                    assert_eq!(status, StatusCode::OK, "{name}: {told}");
                    for step in told["draw"]["steps"].as_array().into_iter().flatten() {
                        seen.insert(step["at"].as_str().unwrap().to_string());
                    }
                }
            }
        }
        assert!(
            seen.iter().any(|s| s.starts_with("issue:")),
            "{name}: {seen:?}"
        );
        for step in &seen {
            assert!(
                ids.contains(step.as_str()),
                "{name}: step {step} is no node of {ids:?}"
            );
        }
        // A node points at its place in the file.
        let rule = (graph["nodes"].as_array().unwrap().iter()).find(|n| n["kind"] == "draw");
        let rule = rule.unwrap();
        let from = rule["from"].as_u64().unwrap() as usize;
        let units: Vec<u16> = source.encode_utf16().collect();
        let text = String::from_utf16(&units[from..rule["to"].as_u64().unwrap() as usize]).unwrap();
        assert!(text.contains("award"), "{name}: {rule} at {text:?}");
    }
}

#[tokio::test]
async fn completion_offers_the_award_ids_where_an_award_goes() {
    let state = state().await;
    let source = CAMPAIGN.replace("give: gift", "give: gi");
    let at = source.find("give: gi").unwrap() + "give: gi".len();
    let offset = source[..at].encode_utf16().count();
    let (status, found) = post_as(
        &state,
        ADMIN,
        "/v1/authoring/complete",
        json!({ "source": source, "offset": offset }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    // Only the award the word typed so far begins.
    let labels: Vec<(&Value, &Value)> = (found["items"].as_array().unwrap().iter())
        .map(|i| (&i["label"], &i["kind"]))
        .collect();
    assert_eq!(labels, [(&json!("gift"), &json!("award"))], "{found}");
    assert_eq!(
        (&found["from"], &found["to"]),
        (&json!(offset - 2), &json!(offset)),
        "{found}"
    );
}

#[tokio::test]
async fn hover_tells_of_the_key_under_the_cursor_or_answers_204() {
    let state = state().await;
    let offset = CAMPAIGN.find("allowance").unwrap() + 2;
    let (status, shown) = post_as(
        &state,
        ADMIN,
        "/v1/authoring/hover",
        json!({ "source": CAMPAIGN, "offset": offset }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert!(
        shown["markdown"].as_str().unwrap().contains("allowance"),
        "{shown}"
    );
    let start = CAMPAIGN.find("allowance").unwrap();
    assert_eq!(
        (&shown["from"], &shown["to"]),
        (&json!(start), &json!(start + 9)),
        "{shown}"
    );
    let (status, nothing) = post_as(
        &state,
        ADMIN,
        "/v1/authoring/hover",
        json!({ "source": "\n\n\n", "offset": 1 }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{nothing}");

    // A whole float is the same cursor; a fraction names the field.
    let body = json!({ "source": CAMPAIGN, "offset": offset as f64 });
    let (status, again) = post_as(&state, ADMIN, "/v1/authoring/hover", body).await;
    assert_eq!((status, &again), (StatusCode::OK, &shown));
    // A fraction, or past the 2^32 - 1 the document allows, names the field.
    for offset in [json!(2.5), json!(4_294_967_296_u64)] {
        let body = json!({ "source": CAMPAIGN, "offset": offset });
        let (status, problem) = post_as(&state, ADMIN, "/v1/authoring/hover", body).await;
        assert_eq!(
            (status, &problem["field"]),
            (StatusCode::UNPROCESSABLE_ENTITY, &json!("offset")),
            "{offset}: {problem}"
        );
    }
}

#[tokio::test]
async fn authoring_needs_the_admin_token_and_a_well_formed_body() {
    let state = state().await;
    for path in ["analyze", "complete", "hover"] {
        let uri = format!("/v1/authoring/{path}");
        let (status, _) =
            post_as(&state, APP_KEY, &uri, json!({ "source": "", "offset": 0 })).await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED,
            "{path}: {status}"
        );
        let (status, problem) = post_as(&state, ADMIN, &uri, json!({ "text": "" })).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {problem}"
        );
    }
}

#[tokio::test]
async fn analysis_lists_the_first_500_findings_and_counts_them_all() {
    let state = state().await;
    // Each rule names an attribute the file does not declare: one error each.
    let rules: String = (0..600)
        .map(|n| format!("  - when: user.vip{n}\n    give: gift\n"))
        .collect();
    let source = CAMPAIGN.replace("before:\n", &format!("before:\n{rules}"));
    let analysis = analyze(&state, &source).await;
    let listed = analysis["diagnostics"].as_array().unwrap().len();
    let counted = analysis["errors"].as_u64().unwrap() + analysis["warnings"].as_u64().unwrap();
    assert!(counted >= 600, "{counted} findings");
    assert_eq!(
        (listed, analysis["omitted"].as_u64().unwrap()),
        (500, counted - 500)
    );
    // A clean file omits nothing.
    assert_eq!(analyze(&state, CAMPAIGN).await["omitted"], 0);

    // 600 warnings (awards that give nothing), then one error: the error is
    // listed, the warnings after the first 499 are not.
    let awards: String = (0..600)
        .map(|n| format!("  w{n}: {{ kind: none }}\n"))
        .collect();
    let source = CAMPAIGN.replace(
        "awards:\n",
        &format!("awards:\n{awards}  zbad: {{ kind: bogus }}\n"),
    );
    let analysis = analyze(&state, &source).await;
    let listed = analysis["diagnostics"].as_array().unwrap();
    assert!(
        analysis["warnings"].as_u64().unwrap() >= 600,
        "{}",
        analysis["warnings"]
    );
    assert_eq!((listed.len(), analysis["errors"].as_u64()), (500, Some(1)));
    assert!(
        listed.iter().any(|d| d["severity"] == "error"),
        "the one error is listed"
    );
}
