//! Imported draw counts: they feed the caps and the standing, and are checked.

use tombola_engine::Failure;
use tombola_engine::store::Store;

use crate::helpers::{NOW, at, campaign, draw, engine, per_store};

per_store!(
    imported_draw_counts_feed_the_caps_and_the_standing,
    worker_threads = 4
);
async fn imported_draw_counts_feed_the_caps_and_the_standing(name: &str, store: Store) {
    use tombola_engine::UserCounts;
    let engine = engine(store).await;
    let source = campaign(
        "allowance: 10\nquota: { per_day: 3, per_month: 5 }\nawards:\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\n",
    );
    engine.deploy(&source, None, at(NOW)).await.unwrap();
    let counts = UserCounts {
        total: 12,
        month: 4,
        today: 2,
        granted: 5,
        granted_used: 0,
    };
    engine
        .import_draw_counts("t", "ann", counts, at(NOW))
        .await
        .unwrap();
    let status = engine.user_status("t", "ann", at(NOW)).await.unwrap();
    assert_eq!(
        (
            status.draws_made,
            status.made_this_month,
            status.made_today,
            status.draws_left
        ),
        (12, 4, 2, 3),
        "{name}"
    );
    // One more today reaches the monthly cap (5) before the daily one (3).
    let first = draw(&engine, "ann", "a").await.unwrap();
    assert_eq!((first.left.draws, first.left.month), (2, Some(0)), "{name}");
    let second = draw(&engine, "ann", "b").await;
    assert!(
        matches!(second, Err(Failure::MonthlyCap)),
        "{name}: {second:?}"
    );
    // The counts are as of `now`'s day in the campaign's zone: the next month starts afresh.
    let next = engine
        .user_status("t", "ann", at("2026-04-01T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        (next.made_today, next.made_this_month, next.draws_made),
        (0, 0, 13),
        "{name}"
    );

    // Importing again replaces the counts rather than adding to them.
    engine
        .import_draw_counts("t", "ann", UserCounts::default(), at(NOW))
        .await
        .unwrap();
    let reset = engine.user_status("t", "ann", at(NOW)).await.unwrap();
    assert_eq!((reset.draws_made, reset.draws_left), (0, 10), "{name}");

    for (bad, says) in [
        (
            UserCounts {
                total: 3,
                month: 4,
                today: 0,
                granted: 0,
                granted_used: 0,
            },
            "in all",
        ),
        (
            UserCounts {
                total: 9,
                month: 1,
                today: 2,
                granted: 0,
                granted_used: 0,
            },
            "this month",
        ),
        (
            UserCounts {
                total: 1,
                month: 0,
                today: 0,
                granted: -1,
                granted_used: 0,
            },
            "`granted`",
        ),
        (
            UserCounts {
                total: 4,
                month: 4,
                today: 4,
                granted: 1,
                granted_used: 2,
            },
            "2 granted draws used",
        ),
    ] {
        let refused = engine.import_draw_counts("t", "bob", bad, at(NOW)).await;
        match refused {
            Err(Failure::BadInput(message)) => {
                assert!(message.contains(says), "{name}: {message}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    let untouched = engine.user_status("t", "bob", at(NOW)).await.unwrap();
    assert_eq!(untouched.draws_made, 0, "{name}");
    assert!(matches!(
        engine
            .import_draw_counts("nope", "bob", UserCounts::default(), at(NOW))
            .await,
        Err(Failure::UnknownCampaign(_))
    ));
}
