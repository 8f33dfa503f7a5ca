//! Request ids and stored answers, in SQL: a unique key per (scope, id).

use super::counts::{debit_args, debit_existing};
use super::pg::{DebitedAhead, PgTx};
use super::{Arg, SqlTx, bind_all};
use crate::counts::UserCounts;
use crate::store::rows::{CampaignRow, CampaignState, Claim, RequestKey};
use crate::store::{Requests, StoreError, Stored};

const CLAIM: &str = "INSERT INTO requests (scope, request_id, body_hash, response, created_at) VALUES ($1, $2, $3, '', 0) \
     ON CONFLICT (scope, request_id) DO NOTHING";

/// The claim and, in the same round trip, the row of the campaign the request
/// runs in and the draw's debit if the campaign is open at the version the
/// debit was made for (`$13`; null: no debit), each kept for the draw's own
/// read and debit: how many rows the claim inserted.
async fn claim_reading_campaign(
    tx: &mut PgTx,
    key: &RequestKey<'_>,
    campaign: &str,
) -> Stored<u64> {
    type Read = (
        i64,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let (scope, request_id, body_hash) = (key.scope, key.id, key.body_hash);
    let mut args: Vec<Arg<'_>> = match key.debit {
        Some(d) => debit_args(campaign, d.user, &d.limits, &d.periods).to_vec(),
        None => {
            let mut none = vec![Arg::NullText; 4];
            none[0] = Arg::Text(campaign);
            none.extend([Arg::NullInt; 5]);
            none
        }
    };
    args.extend([
        Arg::Text(scope),
        Arg::Text(request_id),
        Arg::Text(body_hash),
    ]);
    args.push(Arg::opt_int(key.debit.map(|d| d.version)));
    let read: Read = bind_all!(
        sqlx::query_as(concat!(
            "WITH claimed AS (INSERT INTO requests (scope, request_id, body_hash, response, created_at) \
             VALUES ($10, $11, $12, '', 0) ON CONFLICT (scope, request_id) DO NOTHING RETURNING 1), \
             ahead AS (SELECT state, current_version FROM campaigns WHERE id = $1), \
             debited AS (INSERT INTO user_counters (campaign_id, user_id, made, day_key, day_count, month_key, month_count) \
             SELECT $1, $2, 1, $3, 1, $4, 1 FROM ahead \
             WHERE ahead.state = 'open' AND ahead.current_version = $13 AND EXISTS (SELECT 1 FROM claimed) ",
            debit_existing!(),
            ") SELECT (SELECT COUNT(*) FROM claimed) AS claimed, ahead.state, ahead.current_version, \
             debited.total, debited.month, debited.today, debited.granted, debited.granted_used \
             FROM (SELECT 1) AS one LEFT JOIN ahead ON true LEFT JOIN debited ON true"
        )),
        &args
    )
    .fetch_one(tx.conn().await?)
    .await?;
    let (claimed, state, version, total, month, today, granted, granted_used) = read;
    let row = match (state, version) {
        (Some(state), Some(version)) => Some(CampaignRow {
            state: state.parse()?,
            version,
        }),
        _ => None,
    };
    // The debit ran exactly when the claim is new and the campaign is open at its version.
    if let Some(d) = key.debit
        && claimed == 1
        && row
            .as_ref()
            .is_some_and(|r| r.state == CampaignState::Open && r.version == d.version)
    {
        let counts = match (total, month, today, granted, granted_used) {
            (Some(total), Some(month), Some(today), Some(granted), Some(granted_used)) => {
                Some(UserCounts {
                    total,
                    month,
                    today,
                    granted,
                    granted_used,
                })
            }
            _ => None,
        };
        tx.keep_debit(DebitedAhead {
            campaign: campaign.to_string(),
            user: d.user.to_string(),
            limits: d.limits,
            periods: d.periods.clone(),
            counts,
        });
    }
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
