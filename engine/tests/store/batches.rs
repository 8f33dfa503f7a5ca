//! Group commit on SQLite: writes that wait for the writer commit together,
//! each in a savepoint of its own, and none answers before its batch commits.
//! A commit delay holds the first draw on the writer while the others queue,
//! so they all land in the batch it opened.

use std::time::Duration;

use tombola_engine::store::{Store, StoreError, Trouble};
use tombola_engine::{DrawOutcome, Engine, Failure};
use tombola_grammar::Value;

use crate::helpers::{deployed, draw, draw_with, sqlite, sqlite_file, tallies};

/// Three draws each; `vip` users get a gift from a rule that reads the attribute.
const CAMPAIGN: &str = "allowance: 3\ninputs: { user: { vip: bool } }\nawards:\n  gift: { kind: credits, amount: 5 }\n  nothing: { kind: none }\npool:\n  - { award: nothing, rate: 1 }\nbefore:\n  - when: user.vip\n    give: gift\n";

fn sql(engine: &Engine) -> &tombola_engine::store::SqlStore {
    match engine.store_for_tests() {
        Store::Sql(sql) => sql,
        Store::Memory(_) => unreachable!("these tests run on SQLite"),
    }
}

async fn vip_draw(engine: &Engine, user: &str, request: &str) -> Result<DrawOutcome, Failure> {
    draw_with(
        engine,
        user,
        request,
        &[("vip".to_string(), Value::Bool(true))],
    )
    .await
}

/// Runs `first` alone on the writer, held there by the commit delay, while
/// `rest` queue behind it, so all of them share the batch `first` opened; the
/// number of batches committed meanwhile, and every answer in order.
async fn in_one_batch(
    engine: &Engine,
    requests: &[(&'static str, &'static str, bool)],
) -> (u64, Vec<Result<DrawOutcome, Failure>>) {
    let commits = sql(engine).sqlite_commits();
    engine.inject_commit_delay(Duration::from_millis(150));
    let mut tasks = Vec::new();
    for (i, &(user, request, vip)) in requests.iter().enumerate() {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            if vip {
                vip_draw(&engine, user, request).await
            } else {
                draw(&engine, user, request).await
            }
        }));
        if i == 0 {
            // The first takes the writer; the others then wait for it.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    engine.inject_commit_delay(Duration::ZERO);
    (sql(engine).sqlite_commits() - commits, answers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_draw_rolls_back_alone_and_its_neighbours_commit() {
    let engine = deployed(sqlite().await, CAMPAIGN).await;
    // The middle draw passes no `vip`, which the rule reads: it fails after
    // its claim and debit were written, inside the batch.
    let (batches, answers) = in_one_batch(
        &engine,
        &[
            ("ann", "a1", true),
            ("bob", "b1", false),
            ("cy", "c1", true),
        ],
    )
    .await;
    assert_eq!(batches, 1, "one commit for the three: {answers:?}");
    assert_eq!(answers[0].as_ref().unwrap().award.id, "gift");
    assert!(
        matches!(&answers[1], Err(Failure::MissingAttribute { name, .. }) if name == "vip"),
        "{:?}",
        answers[1]
    );
    assert_eq!(answers[2].as_ref().unwrap().award.id, "gift");
    // Two draws and their two ledger entries; nothing of the failed one.
    assert_eq!(tallies(&engine).await, (2, 2, 0, 0));
    // Its claim rolled back too: the same id runs afresh, and bob still has all three draws.
    let again = vip_draw(&engine, "bob", "b1").await.unwrap();
    assert!(!again.replayed);
    assert_eq!(again.left.draws, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_whose_commit_fails_answers_none_and_stores_none() {
    let engine = deployed(sqlite().await, CAMPAIGN).await;
    for i in 0..3 {
        vip_draw(&engine, "spent", &format!("s{i}")).await.unwrap();
    }
    sql(&engine).fail_next_sqlite_commit();
    // The last is refused (no draws left) on what it read in the batch: that
    // refusal too answers only once the batch holds, and it does not.
    let (batches, answers) = in_one_batch(
        &engine,
        &[
            ("ann", "a1", true),
            ("bob", "b1", true),
            ("cy", "c1", true),
            ("spent", "s3", true),
        ],
    )
    .await;
    assert_eq!(batches, 0, "{answers:?}");
    for answer in &answers {
        assert!(
            matches!(answer, Err(Failure::Store(e @ StoreError::Lost(_))) if e.trouble() == Some(Trouble::Unavailable)),
            "every draw of the batch fails: {answer:?}"
        );
    }
    assert_eq!(tallies(&engine).await, (3, 3, 0, 0));
    assert!(matches!(
        vip_draw(&engine, "spent", "s3").await,
        Err(Failure::NoDrawsLeft)
    ));
    // Nothing was stored: each id runs afresh.
    for (user, request) in [("ann", "a1"), ("bob", "b1"), ("cy", "c1")] {
        let again = vip_draw(&engine, user, request).await.unwrap();
        assert!(!again.replayed, "{request}");
        assert_eq!(again.left.draws, 2, "{request}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_duplicate_in_the_same_batch_replays_only_what_committed() {
    let engine = deployed(sqlite().await, CAMPAIGN).await;
    let (batches, answers) =
        in_one_batch(&engine, &[("ann", "a1", true), ("ann", "a1", true)]).await;
    assert_eq!(batches, 1);
    let (first, second) = (answers[0].as_ref().unwrap(), answers[1].as_ref().unwrap());
    assert!(!first.replayed && second.replayed);
    assert_eq!(first.award, second.award);
    assert_eq!(tallies(&engine).await.0, 1);

    // The same, with the batch's commit failing: the duplicate read the first's
    // answer inside the batch, and must not hand out what was never committed.
    sql(&engine).fail_next_sqlite_commit();
    let (batches, answers) =
        in_one_batch(&engine, &[("bob", "b1", true), ("bob", "b1", true)]).await;
    assert_eq!(batches, 0);
    assert!(
        answers
            .iter()
            .all(|a| matches!(a, Err(Failure::Store(StoreError::Lost(_))))),
        "{answers:?}"
    );
    assert_eq!(tallies(&engine).await.0, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lone_write_commits_at_once() {
    let engine = deployed(sqlite().await, CAMPAIGN).await;
    let commits = sql(&engine).sqlite_commits();
    for i in 0..3 {
        vip_draw(&engine, "ann", &format!("r{i}")).await.unwrap();
    }
    // Each answered after a commit of its own: nobody was waiting to share one.
    assert_eq!(sql(&engine).sqlite_commits() - commits, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_is_checkpointed_into_the_file_beside_the_writer() {
    let (store, path) = sqlite_file().await;
    let engine = deployed(store, CAMPAIGN).await;
    let size = || std::fs::metadata(&path).unwrap().len();
    let before = size();
    for i in 0..200 {
        vip_draw(&engine, &format!("u{i}"), &format!("r{i}"))
            .await
            .unwrap();
    }
    // The writer never checkpoints; only the checkpoint thread moves pages
    // from the WAL into the file, so the file grows only if it runs.
    let mut grown = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if size() > before {
            grown = true;
            break;
        }
    }
    assert!(grown, "the database file stayed at {before} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stream_of_refused_writes_does_not_hold_a_batch_open() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let engine = deployed(sqlite().await, CAMPAIGN).await;
    for i in 0..3 {
        vip_draw(&engine, "spent", &format!("s{i}")).await.unwrap();
    }
    // Refused draws of a user with none left, back to back from many callers:
    // the writer's queue is never empty while they run.
    let stop = Arc::new(AtomicBool::new(false));
    let mut storm = Vec::new();
    for t in 0..16 {
        let (engine, stop) = (engine.clone(), stop.clone());
        storm.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let refused = vip_draw(&engine, "spent", &format!("x{t}-{n}")).await;
                assert!(matches!(refused, Err(Failure::NoDrawsLeft)), "{refused:?}");
                n += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A draw among them commits and answers while the storm goes on. (The
    // bound only tells a hang from an answer: it is no timing.)
    let answered = tokio::time::timeout(Duration::from_secs(20), async {
        for i in 0..5 {
            vip_draw(&engine, &format!("a{i}"), &format!("ok{i}"))
                .await
                .unwrap();
        }
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for task in storm {
        task.await.unwrap();
    }
    assert!(answered.is_ok(), "draws waited behind refused writes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_wal_starts_over_under_steady_writes() {
    let (store, path) = sqlite_file().await;
    let engine = deployed(store, "allowance: 1000000\nawards:\n  points: { kind: credits, amount: 1 }\npool:\n  - { award: points, rate: 1 }\n").await;
    // Eight callers drawing without pause: commits land while every
    // checkpoint runs, so only the writer's catch-up lets the WAL restart.
    let mut tasks = Vec::new();
    for t in 0..8 {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..600 {
                draw(&engine, &format!("u{t}-{}", n % 50), &format!("r{t}-{n}"))
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let wal = std::fs::metadata(format!("{}-wal", path.display()))
        .unwrap()
        .len();
    // Without restarts the WAL holds every page written: about 110 MiB here.
    // With them, 8 MiB plus what lands while the checkpoint thread copies
    // them: 15-21 MiB on an idle machine (a busy CI machine reached 56 MiB
    // when the catch-up waited for 16 MiB). A
    // restart cuts the file back to 64 MiB (`journal_size_limit`), so a WAL
    // under that has restarted every time it was long.
    assert!(wal < 64 << 20, "the WAL grew to {wal} bytes");
}
