//! Request ids and stored answers, in SQL: a unique key per (scope, id).

use super::pg::PgTx;
use super::{Arg, SqlTx};
use crate::store::rows::{CampaignRow, Claim, RequestKey};
use crate::store::{Requests, StoreError, Stored};

const CLAIM: &str = "INSERT INTO requests (scope, request_id, body_hash, response, created_at) VALUES ($1, $2, $3, '', 0) \
     ON CONFLICT (scope, request_id) DO NOTHING";

/// The claim and, in the same round trip, the row of the campaign the request
/// runs in, kept for the draw's read of it: how many rows the claim inserted.
async fn claim_reading_campaign(
    tx: &mut PgTx,
    key: &RequestKey<'_>,
    campaign: &str,
) -> Stored<u64> {
    let (claimed, state, version): (i64, Option<String>, Option<i64>) = sqlx::query_as(
        "WITH claimed AS (INSERT INTO requests (scope, request_id, body_hash, response, created_at) \
         VALUES ($1, $2, $3, '', 0) ON CONFLICT (scope, request_id) DO NOTHING RETURNING 1) \
         SELECT (SELECT COUNT(*) FROM claimed) AS claimed, c.state, c.current_version \
         FROM (SELECT 1) AS one LEFT JOIN campaigns c ON c.id = $4",
    )
    .bind(key.scope)
    .bind(key.id)
    .bind(key.body_hash)
    .bind(campaign)
    .fetch_one(tx.conn().await?)
    .await?;
    let row = match (state, version) {
        (Some(state), Some(version)) => Some(CampaignRow {
            state: state.parse()?,
            version,
        }),
        _ => None,
    };
    tx.keep_read_ahead(campaign, row);
    Ok(claimed as u64)
}

impl Requests for SqlTx {
    async fn claim(&mut self, key: &RequestKey<'_>) -> Stored<Claim> {
        let (scope, request_id, body_hash, first_hash) =
            (key.scope, key.id, key.body_hash, key.first_hash);
        // The unique key does the work: a concurrent duplicate blocks here until
        // the first commits, then finds its row and replays it.
        let inserted = match (&mut *self, key.campaign) {
            (SqlTx::Postgres(tx), Some(campaign)) => {
                claim_reading_campaign(tx, key, campaign).await?
            }
            _ => {
                self.execute(
                    CLAIM,
                    &[
                        Arg::Text(scope),
                        Arg::Text(request_id),
                        Arg::Text(body_hash),
                    ],
                )
                .await?
            }
        };
        if inserted == 1 {
            return Ok(Claim::New);
        }
        let (hash, response): (String, String) = self
            .fetch_optional(
                "SELECT body_hash, response FROM requests WHERE scope = $1 AND request_id = $2",
                &[Arg::Text(scope), Arg::Text(request_id)],
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("a claimed request vanished".into()))?;
        Ok(if hash != body_hash && hash != first_hash {
            Claim::Conflict
        } else {
            Claim::Replay(response)
        })
    }

    async fn stored_answer(&mut self, scope: &str, request_id: &str) -> Stored<Option<String>> {
        let row: Option<(String,)> = self
            .fetch_optional(
                "SELECT response FROM requests WHERE scope = $1 AND request_id = $2 AND response <> ''",
                &[Arg::Text(scope), Arg::Text(request_id)],
            )
            .await?;
        Ok(row.map(|(response,)| response))
    }

    async fn answer(&mut self, key: &RequestKey<'_>, response: &str) -> Stored<()> {
        let (scope, request_id, body_hash, at) = (key.scope, key.id, key.body_hash, key.at);
        // The last statement of a request: the writes held back travel with it.
        self.execute_carrying(
            "UPDATE requests SET response = $4, created_at = $5 WHERE scope = $1 AND request_id = $2 AND body_hash = $3",
            &[Arg::Text(scope), Arg::Text(request_id), Arg::Text(body_hash), Arg::Text(response), Arg::Int(at)],
        )
        .await?;
        Ok(())
    }

    async fn purge_requests(&mut self, before: i64) -> Stored<u64> {
        self.execute(
            "DELETE FROM requests WHERE created_at < $1",
            &[Arg::Int(before)],
        )
        .await
    }
}
