//! A campaign's versions: each keeps where it came from, its file's path and
//! its note; a campaign belongs to the folder or to the API and console,
//! whichever deployed it first, and the other side is refused; a rollback
//! deploys an earlier source as a new version.

use tombola_engine::store::{Origin, Store};
use tombola_engine::{DeployError, Provenance};

use crate::helpers::{self, NOW, at, engine, per_store, stock_of, stocked};

fn from(origin: Origin, note: Option<&str>) -> Provenance {
    Provenance {
        origin,
        path: None,
        note: note.map(str::to_string),
    }
}

per_store!(
    versions_keep_their_origin_path_and_note_newest_first,
    worker_threads = 2
);
async fn versions_keep_their_origin_path_and_note_newest_first(name: &str, store: Store) {
    let restart = store.clone();
    let engine = engine(store).await;
    let console = from(Origin::Console, Some("spring prices"));
    engine
        .deploy_from(&stocked(10, 5), Some("t"), &console, at(NOW))
        .await
        .unwrap();
    engine
        .deploy_from(
            &stocked(8, 5),
            None,
            &Provenance::api(),
            at("2026-03-05T08:00:00Z"),
        )
        .await
        .unwrap();
    // A restart reads what the store kept.
    let engine = helpers::engine(restart).await;
    let found = engine.versions("t").await.unwrap();
    assert_eq!(found.live, 2, "{name}");
    let listed: Vec<_> = found
        .versions
        .iter()
        .map(|v| {
            (
                v.version,
                v.origin,
                v.path.as_deref(),
                v.note.as_deref(),
                v.deployed_at,
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (
                2,
                Origin::Api,
                None,
                None,
                at("2026-03-05T08:00:00Z").timestamp_micros()
            ),
            (
                1,
                Origin::Console,
                None,
                Some("spring prices"),
                at(NOW).timestamp_micros()
            ),
        ],
        "{name}"
    );
    let (live, first) = engine.stored_version("t", 1).await.unwrap();
    let first = first.unwrap();
    assert_eq!(
        (live, first.source.as_str()),
        (2, stocked(10, 5).as_str()),
        "{name}"
    );
    assert_eq!(first.sha256, found.versions[1].sha256, "{name}");
    assert_eq!(
        engine.stored_version("t", 3).await.unwrap().1,
        None,
        "{name}"
    );
    let (summary, _) = engine.campaign_detail("t").await.unwrap();
    assert_eq!(
        (summary.origin, summary.path),
        (Origin::Api, None),
        "{name}"
    );
}

per_store!(
    a_folder_campaign_refuses_the_api_and_an_api_campaign_the_folder,
    worker_threads = 2
);
async fn a_folder_campaign_refuses_the_api_and_an_api_campaign_the_folder(
    name: &str,
    store: Store,
) {
    let engine = engine(store).await;
    let file = Provenance::folder("campaigns/t.yaml");
    engine
        .deploy_from(&stocked(10, 5), None, &file, at(NOW))
        .await
        .unwrap();
    for origin in [Origin::Api, Origin::Console] {
        // Even the same content: the file is the truth.
        for source in [stocked(10, 5), stocked(9, 5)] {
            let refused = engine
                .deploy_from(&source, Some("t"), &from(origin, None), at(NOW))
                .await;
            assert!(
                matches!(&refused, Err(DeployError::OwnedByFolder { campaign, path })
                    if campaign == "t" && path.as_deref() == Some("campaigns/t.yaml")),
                "{name}: {origin:?} {refused:?}"
            );
        }
    }
    let refused = engine.rollback("t", 1, &Provenance::api(), at(NOW)).await;
    assert!(
        matches!(refused, Err(DeployError::OwnedByFolder { .. })),
        "{name}: {refused:?}"
    );
    // The file moved: same content, so the same version, at its new path.
    let moved = Provenance::folder("elsewhere/t.yaml");
    let again = engine
        .deploy_from(&stocked(10, 5), None, &moved, at(NOW))
        .await
        .unwrap();
    assert_eq!((again.version, again.changed), (1, false), "{name}");
    let summaries = engine.campaigns().await.unwrap();
    assert_eq!(
        (summaries[0].origin, summaries[0].path.as_deref()),
        (Origin::Folder, Some("elsewhere/t.yaml")),
        "{name}"
    );

    // A campaign the API deployed first stays the API's.
    let api_campaign = stocked(10, 5).replace("campaign: t", "campaign: u");
    engine.deploy(&api_campaign, None, at(NOW)).await.unwrap();
    let taken = engine
        .deploy_from(
            &api_campaign,
            None,
            &Provenance::folder("campaigns/u.yaml"),
            at(NOW),
        )
        .await;
    assert!(
        matches!(&taken, Err(DeployError::OwnedByApi { campaign, origin: Origin::Api }) if campaign == "u"),
        "{name}: {taken:?}"
    );
    assert_eq!(
        engine.versions("u").await.unwrap().versions.len(),
        1,
        "{name}"
    );
}

per_store!(
    a_rollback_deploys_the_earlier_source_as_a_new_version,
    worker_threads = 2
);
async fn a_rollback_deploys_the_earlier_source_as_a_new_version(name: &str, store: Store) {
    let engine = engine(store).await;
    engine.deploy(&stocked(10, 5), None, at(NOW)).await.unwrap();
    helpers::draw(&engine, "ann", "r1").await.unwrap();
    engine.deploy(&stocked(4, 5), None, at(NOW)).await.unwrap();
    assert_eq!(stock_of(&engine, "prize").await, Some((3, 1)), "{name}");

    let note = from(Origin::Console, Some("back to 10"));
    let rolled = engine.rollback("t", 1, &note, at(NOW)).await.unwrap();
    assert_eq!((rolled.version, rolled.changed), (3, true), "{name}");
    assert_eq!(engine.campaign("t").unwrap().version, 3, "{name}");
    // Version 1's rules, with what was issued kept: 10 declared, 1 issued.
    assert_eq!(stock_of(&engine, "prize").await, Some((9, 1)), "{name}");
    let found = engine.versions("t").await.unwrap();
    let newest = &found.versions[0];
    assert_eq!(
        (newest.version, newest.origin, newest.note.as_deref()),
        (3, Origin::Console, Some("back to 10")),
        "{name}"
    );
    assert_eq!(
        newest.sha256, found.versions[2].sha256,
        "{name}: version 1's source"
    );

    // Rolling back to what is live already changes nothing.
    let same = engine
        .rollback("t", 1, &Provenance::api(), at(NOW))
        .await
        .unwrap();
    assert_eq!((same.version, same.changed), (3, false), "{name}");
    assert!(
        matches!(
            engine.rollback("t", 9, &Provenance::api(), at(NOW)).await,
            Err(DeployError::UnknownVersion { version: 9, .. })
        ),
        "{name}"
    );
    assert!(
        matches!(
            engine.rollback("nope", 1, &Provenance::api(), at(NOW)).await,
            Err(DeployError::UnknownCampaign(id)) if id == "nope"
        ),
        "{name}"
    );
}
