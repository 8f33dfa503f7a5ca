//! Who owns a campaign, end to end: one deployed through the API (as the
//! console does) survives a restart, with a folder file of the same id
//! refused; one from the watched folder refuses the API's deploys.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::root;
use super::serve::{Server, campaigns_folder, send, sqlite_url};

const ADMIN: &str = "Bearer dev-admin";

/// A small campaign `id` whose one award gives `amount` credits.
fn campaign(id: &str, amount: u32) -> String {
    format!(
        "campaign: {id}\nname: Owned\nstate: open\nwindow: {{ from: 2026-01-01, zone: UTC }}\nallowance: 3\nawards:\n  points: {{ kind: credits, amount: {amount} }}\npool:\n  - {{ award: points, rate: 1 }}\n"
    )
}

async fn get(http: &Client, server: &Server, path: &str) -> (StatusCode, Value) {
    send(
        http,
        reqwest::Method::GET,
        &server.url(path),
        Some(ADMIN),
        None,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_deploy_stays_live_across_a_restart_and_a_folder_file_cannot_take_it_over() {
    let showcase = std::fs::read_to_string(root().join("campaigns/showcase.yaml")).unwrap();
    let folder = campaigns_folder(&[("showcase.yaml", &showcase)]);
    let folder_arg = folder.display().to_string();
    let database = sqlite_url();
    let args = [
        "--dev",
        "--database-url",
        &database,
        "--campaigns",
        &folder_arg,
    ];
    let http = Client::new();

    let server = Server::start(&args);
    let response = http
        .put(server.url("/v1/campaigns/owned?note=first%20try"))
        .header("authorization", ADMIN)
        .header("tombola-client", "console")
        .body(campaign("owned", 7))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(server.terminate().success());

    // The folder now holds a file claiming the same campaign.
    std::fs::write(folder.join("owned.yaml"), campaign("owned", 99)).unwrap();
    let server = Server::start(&args);
    let (status, detail) = get(&http, &server, "/v1/campaigns/owned").await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(
        (&detail["version"], &detail["origin"], &detail["source"]),
        (&json!(1), &json!("console"), &json!(campaign("owned", 7))),
        "the console's version is live: {}",
        server.log()
    );
    let log = server.log();
    assert!(
        log.contains("not deployed")
            && log.contains("owned.yaml")
            && log.contains("cannot take it over"),
        "the refused file is logged: {log}"
    );
    let (_, versions) = get(&http, &server, "/v1/campaigns/owned/versions").await;
    assert_eq!(
        versions["versions"],
        json!([{
            "version": 1,
            "deployed_at": versions["versions"][0]["deployed_at"],
            "sha256": versions["versions"][0]["sha256"],
            "origin": "console",
            "path": null,
            "note": "first try",
            "live": true,
        }])
    );
    // And a draw runs the console's rules.
    let (status, drawn) = send(
        &http,
        reqwest::Method::POST,
        &server.url("/v1/campaigns/owned/draws"),
        Some("Bearer tbk_dev"),
        Some(json!({ "user": "ann", "request_id": "r1" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{drawn}");
    assert_eq!(drawn["award"]["amount"], "7", "{drawn}");
    assert!(server.terminate().success());
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_campaign_refuses_an_api_deploy_with_409_naming_its_file() {
    let folder = campaigns_folder(&[("mine.yaml", &campaign("mine", 5))]);
    let folder_arg = folder.display().to_string();
    let server = Server::start(&[
        "--dev",
        "--database-url",
        &sqlite_url(),
        "--campaigns",
        &folder_arg,
    ]);
    let http = Client::new();
    let (_, detail) = get(&http, &server, "/v1/campaigns/mine").await;
    let file = folder.join("mine.yaml").display().to_string();
    assert_eq!(
        (&detail["origin"], &detail["path"]),
        (&json!("folder"), &json!(file))
    );
    let response = http
        .put(server.url("/v1/campaigns/mine"))
        .header("authorization", ADMIN)
        .body(campaign("mine", 6))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(
        problem["type"],
        "https://tombola.dev/problems/campaign-owned-by-folder"
    );
    assert!(
        problem["detail"].as_str().unwrap().contains(&file),
        "{problem}"
    );
    let (_, detail) = get(&http, &server, "/v1/campaigns/mine").await;
    assert_eq!(detail["version"], 1, "nothing was deployed");
    assert!(server.terminate().success());
    let _ = std::fs::remove_dir_all(folder);
}
