//! The one request envelope of every mutating call (draw, grant, exchange,
//! event, credit adjustment): claim the request id, replay or refuse a
//! conflict, run, store the answer, commit — written once.
//!
//! A request's body is hashed one canonical way ([`Body`]); its answer is kept
//! in a versioned form ([`Answer`]). Requests stored by the first release carry
//! that release's hash (one per call) and its answer (the API's JSON of the
//! day), so a retry of one still replays instead of meeting a conflict.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tombola_grammar::Value;

use crate::engine::{Engine, Failure, micros, sha256_hex};
use crate::store::{DebitAhead, Ran, RequestKey, StoreError, Tx};

/// The form answers are stored in now; the first release's have no marker.
const FORM: &str = "2;";
/// The form a recorded campaign fault is stored in, instead of an answer.
const FAULT: &str = "2!";
/// The prefix of hashes of the canonical body; the first release's have none.
const HASH: &str = "2:";

/// A mutating call's identity: where its request ids live, its id, its body.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    /// `draw/<campaign>`, `grant/<campaign>`, …: request ids are unique per scope.
    pub(crate) scope: String,
    /// The campaign the call runs in, whose row the claim may read with it.
    pub(crate) campaign: Option<&'a str>,
    /// A draw's debit, for the store to make with the claim if it can.
    pub(crate) debit: Option<DebitAhead<'a>>,
    pub(crate) id: &'a str,
    pub(crate) body: Body,
    /// The first release's hash of the same body, so its stored requests replay.
    pub(crate) first_hash: String,
    pub(crate) now: DateTime<Utc>,
    /// The call picks at random (a draw, an event's rebates), so a refusal met
    /// after the pick is recorded rather than open to a retry.
    pub(crate) picks: bool,
}

/// A request body as named fields, hashed canonically: fields sorted by name,
/// each written with its length, so no two bodies share a hash by accident of
/// punctuation, and the order a caller lists attributes in does not matter.
#[derive(Debug, Default)]
pub(crate) struct Body {
    fields: Vec<(String, String)>,
}

impl Body {
    pub(crate) fn field(mut self, name: &str, value: impl std::fmt::Display) -> Body {
        self.fields.push((name.to_string(), value.to_string()));
        self
    }

    /// Attributes as fields `<prefix>.<name>`, their values in a typed canonical form.
    pub(crate) fn attributes(mut self, prefix: &str, attributes: &[(String, Value)]) -> Body {
        for (name, value) in attributes {
            self.fields
                .push((format!("{prefix}.{name}"), canonical_value(value)));
        }
        self
    }

    fn hash(&self) -> String {
        let mut fields: Vec<&(String, String)> = self.fields.iter().collect();
        fields.sort();
        let mut text = String::new();
        for (name, value) in fields {
            let _ = write!(text, "{}:{name}={}:{value};", name.len(), value.len());
        }
        format!("{HASH}{}", sha256_hex(text.as_bytes()))
    }
}

/// A value as the body hash sees it: its type and its exact content.
fn canonical_value(value: &Value) -> String {
    match value {
        Value::Int(v) => format!("int {v}"),
        Value::Decimal(v) => format!("decimal {}", v.normalize()),
        Value::Bool(v) => format!("bool {v}"),
        Value::Str(v) => format!("string {}:{v}", v.len()),
        Value::Date(v) => format!("date {v}"),
        Value::DateTime(v) => format!("datetime {}", v.timestamp_micros()),
        Value::Duration(v) => format!("duration {v}"),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(canonical_value).collect();
            format!("list {}[{}]", items.len(), items.join(","))
        }
    }
}

/// An answer the engine stores under a request id and replays.
pub(crate) trait Answer: Serialize + DeserializeOwned {
    /// Reads an answer stored by the first release (the API's JSON of the day).
    fn from_first_form(json: &str) -> Result<Self, String>;

    /// The answer marked as replayed from the store, where it says so.
    fn replayed(self) -> Self {
        self
    }
}

fn encode<T: Answer>(answer: &T) -> Result<String, Failure> {
    let json = serde_json::to_string(answer).map_err(|e| corrupt(e.to_string()))?;
    Ok(format!("{FORM}{json}"))
}

/// A failure recorded as a request's answer, as it is stored.
#[derive(Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
enum Recorded {
    CampaignFault {
        campaign: String,
        version: i64,
        detail: String,
    },
    BalanceLimit {
        amount: rust_decimal::Decimal,
    },
}

impl Recorded {
    /// `failure` if it is recorded rather than rolled back with the claim: a
    /// fault of the campaign always; a balance limit met after a random pick
    /// (`picks`), since a retry would otherwise pick again until it got past.
    fn of(failure: &Failure, picks: bool) -> Option<Recorded> {
        match failure {
            Failure::CampaignFault {
                campaign,
                version,
                detail,
            } => Some(Recorded::CampaignFault {
                campaign: campaign.clone(),
                version: *version,
                detail: detail.clone(),
            }),
            Failure::BalanceLimit { amount } if picks => {
                Some(Recorded::BalanceLimit { amount: *amount })
            }
            _ => None,
        }
    }

    fn failure(self) -> Failure {
        match self {
            Recorded::CampaignFault {
                campaign,
                version,
                detail,
            } => Failure::CampaignFault {
                campaign,
                version,
                detail,
            },
            Recorded::BalanceLimit { amount } => Failure::BalanceLimit { amount },
        }
    }
}

/// A stored answer, whichever form it was stored in; a recorded failure
/// answers as the failure again.
pub(crate) fn decode<T: Answer>(stored: &str) -> Result<T, Failure> {
    if let Some(json) = stored.strip_prefix(FAULT) {
        let recorded: Recorded = serde_json::from_str(json).map_err(|e| corrupt(e.to_string()))?;
        return Err(recorded.failure());
    }
    match stored.strip_prefix(FORM) {
        Some(json) => serde_json::from_str(json).map_err(|e| corrupt(e.to_string())),
        None => T::from_first_form(stored).map_err(corrupt),
    }
}

fn corrupt(why: String) -> Failure {
    Failure::Store(StoreError::Corrupt(format!("a stored answer: {why}")))
}

impl Engine {
    /// Runs `run` once per request id in one transaction: a retry with the same
    /// body replays the stored answer, one with another body is a conflict, and a
    /// concurrent duplicate waits on the claim and then replays. A failure rolls
    /// everything back, the claim included, so a corrected retry runs again —
    /// except a fault of the campaign itself, or a balance limit met after a
    /// random pick: it is then recorded as the answer (in a transaction of its
    /// own, after the rollback), so a retry cannot re-roll the draw until it
    /// lands on an award that does not fail.
    pub(crate) async fn once<T, F>(&self, request: Request<'_>, run: F) -> Result<T, Failure>
    where
        T: Answer,
        F: AsyncFnOnce(&mut Tx) -> Result<T, Failure>,
    {
        let hash = request.body.hash();
        let key = RequestKey {
            scope: &request.scope,
            campaign: request.campaign,
            id: request.id,
            body_hash: &hash,
            first_hash: &request.first_hash,
            at: micros(request.now),
            debit: request.debit.as_ref(),
        };
        let ran = self
            .store()
            .once(key, async |tx: &mut Tx| {
                let answer = run(tx).await?;
                let stored = encode(&answer)?;
                self.hold_before_commit().await;
                Ok::<_, Failure>((answer, stored))
            })
            .await;
        self.note(&ran);
        let ran = match ran {
            Err(failure) => match Recorded::of(&failure, request.picks) {
                Some(recorded) => {
                    let stored = format!(
                        "{FAULT}{}",
                        serde_json::to_string(&recorded).map_err(|e| corrupt(e.to_string()))?
                    );
                    // Only the answer: this transaction debits nothing.
                    let key = RequestKey { debit: None, ..key };
                    match self
                        .store()
                        .once(key, async |_: &mut Tx| Ok::<_, Failure>(((), stored)))
                        .await?
                    {
                        Ran::Ran(()) => return Err(failure),
                        // A duplicate recorded its answer between the two transactions.
                        Ran::Replay(stored) => Ran::Replay(stored),
                        Ran::Conflict => Ran::Conflict,
                    }
                }
                None => return Err(failure),
            },
            Ok(ran) => ran,
        };
        match ran {
            Ran::Ran(answer) => Ok(answer),
            Ran::Replay(stored) => decode(&stored).map(T::replayed),
            Ran::Conflict => Err(Failure::RequestConflict(request.id.to_string())),
        }
    }

    /// Runs `run` in one transaction for a request whose id the caller never
    /// repeats (a simulation's): nothing is claimed, hashed or kept to replay.
    /// A failure rolls everything back, as in [`Engine::once`].
    pub(crate) async fn unrepeated<T, F>(&self, run: F) -> Result<T, Failure>
    where
        F: AsyncFnOnce(&mut Tx) -> Result<T, Failure>,
    {
        let mut tx = self.store().begin().await?;
        let result = match run(&mut tx).await {
            Ok(done) => tx.commit().await.map(|()| done).map_err(Failure::from),
            Err(failure) => tx.abandon().await.map_err(Failure::from).and(Err(failure)),
        };
        self.note(&result);
        result
    }
}
