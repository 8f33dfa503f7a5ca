//! In-memory evaluation of one draw — chain, weighted draw, tree — with no store.
//! Run with `cargo bench -p tombola-engine --bench evaluate`.

use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use rust_decimal::Decimal;
use tombola_engine::{Context, DrawInput, SeededRandom, UserCounts, draw_in_memory};
use tombola_grammar::Value;
use tombola_ir::Campaign;

fn shipped(name: &str) -> Campaign {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../campaigns")
        .join(name);
    let report = tombola_dsl::check_source(&std::fs::read_to_string(path).unwrap());
    report.campaign.expect("shipped campaigns compile")
}

fn bench(c: &mut Criterion) {
    let now: DateTime<Utc> = "2026-03-04T10:00:00Z".parse().unwrap();
    let cases: [(&str, &str, UserCounts, Vec<Option<Value>>); 3] = [
        (
            "showcase",
            "showcase.yaml",
            UserCounts {
                granted: 0,
                granted_used: 0,
                today: 2,
                month: 20,
                total: 60,
            },
            vec![
                Some(Value::Bool(true)),
                Some(Value::List(vec![Value::Str("new".into())].into())),
            ],
        ),
        (
            "big_market_raffle_tier",
            "big-market-raffle.yaml",
            UserCounts {
                granted: 0,
                granted_used: 0,
                today: 3,
                month: 45,
                total: 45,
            },
            vec![],
        ),
        (
            "big_market_unlock",
            "big-market-unlock.yaml",
            UserCounts {
                granted: 0,
                granted_used: 0,
                today: 4,
                month: 4,
                total: 4,
            },
            vec![],
        ),
    ];
    let mut group = c.benchmark_group("evaluate_draw");
    for (name, file, counts, attributes) in cases {
        let campaign = shipped(file);
        // Stock large enough never to run out during the measurement.
        let mut stock: Vec<Option<u64>> = campaign
            .pool
            .iter()
            .map(|e| e.stock.map(|_| u64::MAX))
            .collect();
        let mut random = SeededRandom::new(1);
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut cx = Context {
                    now,
                    random: &mut random,
                    force: None,
                };
                let input = DrawInput {
                    user: "user-42",
                    counts,
                    draws_left: 5,
                    credits: Decimal::from(120),
                    attributes: &attributes,
                };
                black_box(draw_in_memory(&campaign, &input, &mut stock, &mut cx).unwrap())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
