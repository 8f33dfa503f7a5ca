//! Embedding the engine as a library: deploy a campaign into the in-memory
//! store and draw.
//!
//! Run with `cargo run -p tombola-engine --example embed`.

use chrono::Utc;
use tombola_engine::{DrawRequest, Engine, Seeds, store};
use tombola_grammar::Value;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../campaigns/showcase.yaml"
    ))?;
    // `sqlite://tombola.db` or `postgres://…` work the same way. The store keeps
    // each campaign's source; the engine is handed the compiler to read it.
    let engine = Engine::open(
        store::open("memory:").await?,
        Seeds::Fixed(2026),
        std::sync::Arc::new(tombola_dsl::Loader),
    )
    .await?;
    let now = Utc::now();
    let deployment = engine.deploy(&source, Some("showcase"), now).await?;
    println!(
        "deployed {} version {}",
        deployment.campaign, deployment.version
    );
    // The showcase declares `vip: bool` and `tags: list<string>`; its rules read both.
    let attributes = [
        ("vip".to_string(), Value::Bool(false)),
        (
            "tags".to_string(),
            Value::List(vec![Value::Str("new".into())].into()),
        ),
    ];
    for i in 1..=4 {
        let request_id = format!("example-{i}");
        let request = DrawRequest {
            campaign: "showcase",
            user: "ada",
            request_id: &request_id,
            attributes: &attributes,
        };
        match engine.draw(&request, now).await {
            Ok(draw) => {
                let steps: Vec<String> = draw
                    .steps
                    .iter()
                    .map(|s| format!("{} → {}", s.at, s.outcome))
                    .collect();
                println!(
                    "draw {i}: {} ({} draws left)\n  {}",
                    draw.award.id,
                    draw.left.draws,
                    steps.join("\n  ")
                );
            }
            Err(refused) => println!("draw {i}: refused: {refused}"),
        }
    }
    Ok(())
}
