//! Operator commands against a store prepared through the engine.

use tombola_engine::{DrawRequest, Engine, Seeds};

use super::{stdout, tombola};
use crate::serve::sqlite_url;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_list_deliveries_credits_and_the_audit_log() {
    let url = sqlite_url();
    let engine = Engine::open(
        tombola_engine::store::open(&url).await.unwrap(),
        Seeds::Fixed(1),
        std::sync::Arc::new(tombola_dsl::Loader),
    )
    .await
    .unwrap();
    let now = chrono::Utc::now();
    let source = "campaign: ops\nname: Ops\nstate: open\nwindow: { from: 2026-01-01, zone: UTC }\nallowance: 2\ndelivery: { webhook: \"https://example.com/hook\", secret_env: S }\nawards:\n  mug: { kind: item }\npool:\n  - { award: mug, rate: 1 }\n";
    engine.deploy(source, Some("ops"), now).await.unwrap();
    engine
        .draw(
            &DrawRequest {
                campaign: "ops",
                user: "ann",
                request_id: "r1",
                attributes: &[],
            },
            now,
        )
        .await
        .unwrap();
    engine
        .adjust_credits("ann", "12.5".parse().unwrap(), "goodwill", "a1", now)
        .await
        .unwrap();
    engine
        .audit("admin", "deploy", "ops", "version 1", now)
        .await
        .unwrap();

    let list = tombola(&["deliveries", "list", "--database-url", &url]);
    assert_eq!(list.status.code(), Some(0), "{list:?}");
    let text = stdout(&list);
    assert!(text.contains("outbox: pending 1"), "{text}");
    assert!(
        text.contains("ops/r1") && text.contains("award mug"),
        "{text}"
    );
    let json = tombola(&[
        "deliveries",
        "list",
        "--state",
        "pending",
        "--json",
        "--database-url",
        &url,
    ]);
    let parsed: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(parsed["deliveries"][0]["request_id"], "r1");
    let bad = tombola(&[
        "deliveries",
        "list",
        "--state",
        "lost",
        "--database-url",
        &url,
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let retry = tombola(&["deliveries", "retry", "1", "--database-url", &url]);
    assert_eq!(
        retry.status.code(),
        Some(2),
        "only dead letters are retried"
    );
    assert!(String::from_utf8_lossy(&retry.stderr).contains("no dead-lettered delivery has id 1"));

    let credits = tombola(&["credits", "ann", "--database-url", &url]);
    let text = stdout(&credits);
    assert!(text.starts_with("ann: 12.5 credits"), "{text}");
    assert!(text.contains("adjustment: goodwill"), "{text}");

    let audit = tombola(&["audit", "--database-url", &url]);
    assert!(stdout(&audit).contains("deploy"), "{}", stdout(&audit));
}
