//! A PostgreSQL transaction that spends as few round trips as its statements
//! allow: writes whose outcome nothing reads wait and travel with a later
//! statement as data-modifying `WITH` clauses, and the claim of a request reads
//! its campaign's row, and debits its draw, in the same statement.
//!
//! Every statement is one round trip through sqlx (PostgreSQL's extended
//! protocol, awaited in turn), so on a draw the round trips, not the work,
//! are most of the time spent.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::postgres::{PgArguments, Postgres};
use sqlx::{Arguments, Transaction};

use super::Arg;
use crate::counts::{Limits, UserCounts};
use crate::period::Periods;
use crate::store::rows::CampaignRow;
use crate::store::{StoreError, Stored};

/// A bound argument a deferred write owns until it is sent.
#[derive(Debug, Clone)]
pub(super) enum Owned {
    Int(i64),
    Text(String),
    NullInt,
    NullText,
}

impl From<&Arg<'_>> for Owned {
    fn from(arg: &Arg<'_>) -> Owned {
        match *arg {
            Arg::Int(v) => Owned::Int(v),
            Arg::Text(v) => Owned::Text(v.to_string()),
            Arg::NullInt => Owned::NullInt,
            Arg::NullText => Owned::NullText,
        }
    }
}

impl Owned {
    fn as_arg(&self) -> Arg<'_> {
        match self {
            Owned::Int(v) => Arg::Int(*v),
            Owned::Text(v) => Arg::Text(v),
            Owned::NullInt => Arg::NullInt,
            Owned::NullText => Arg::NullText,
        }
    }
}

/// A write held back until the transaction's next statement.
#[derive(Debug)]
struct Deferred {
    /// The one table it writes: two writes of one table never share a statement,
    /// since the clauses of one statement do not see each other's rows.
    table: &'static str,
    sql: &'static str,
    args: Vec<Owned>,
}

/// A transaction on PostgreSQL, with its writes held back and its campaign row read ahead.
#[derive(Debug)]
pub struct PgTx {
    tx: Transaction<'static, Postgres>,
    /// The store's count of round trips, this transaction's added as they go.
    trips: Arc<AtomicU64>,
    deferred: Vec<Deferred>,
    /// The row of the campaign the claim read, for the draw that follows it.
    read_ahead: Option<(String, Option<CampaignRow>)>,
    /// The debit the claim made, for the draw to take.
    debited_ahead: Option<DebitedAhead>,
}

/// A draw's debit made with its claim: for whom, under which limits and
/// periods, and the counts it left (`None`: the limits refused it).
#[derive(Debug)]
pub(super) struct DebitedAhead {
    pub(super) campaign: String,
    pub(super) user: String,
    pub(super) limits: Limits,
    pub(super) periods: Periods,
    pub(super) counts: Option<UserCounts>,
}

impl PgTx {
    /// A transaction just begun (one round trip: its `BEGIN`).
    pub(super) fn new(tx: Transaction<'static, Postgres>, trips: Arc<AtomicU64>) -> PgTx {
        trips.fetch_add(1, Ordering::Relaxed);
        PgTx {
            tx,
            trips,
            deferred: Vec::new(),
            read_ahead: None,
            debited_ahead: None,
        }
    }

    /// Holds back `sql`, a write to `table` whose outcome nothing reads, to be
    /// sent with the next statement; a write to a table already held back
    /// sends what is held first.
    pub(super) async fn defer(
        &mut self,
        table: &'static str,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Stored<()> {
        if self.deferred.iter().any(|d| d.table == table) {
            self.flush().await?;
        }
        self.deferred.push(Deferred {
            table,
            sql,
            args: args.iter().map(Owned::from).collect(),
        });
        Ok(())
    }

    /// Sends what is held back on its own, before a statement that may read it.
    pub(super) async fn flush(&mut self) -> Stored<()> {
        if !self.deferred.is_empty() {
            self.execute_carrying("SELECT 1", &[]).await?;
        }
        Ok(())
    }

    /// Runs `sql` with every held-back write in front of it, in one round trip;
    /// the rows `sql` itself changed. `sql` must not touch a table held back.
    pub(super) async fn execute_carrying(&mut self, sql: &str, args: &[Arg<'_>]) -> Stored<u64> {
        let deferred = std::mem::take(&mut self.deferred);
        debug_assert!(
            deferred.iter().all(|d| !mentions(sql, d.table)),
            "a statement carries a write to a table it reads"
        );
        let (text, arguments) = carrying(&deferred, sql, args)?;
        self.trips.fetch_add(1, Ordering::Relaxed);
        Ok(sqlx::query_with(&text, arguments)
            .execute(&mut *self.tx)
            .await?
            .rows_affected())
    }

    /// The connection, with every held-back write sent, for one statement
    /// (which may read what they wrote).
    pub(super) async fn conn(&mut self) -> Stored<&mut sqlx::PgConnection> {
        self.flush().await?;
        self.trips.fetch_add(1, Ordering::Relaxed);
        Ok(&mut self.tx)
    }

    /// Keeps campaign `id`'s row, as the claim read it, for [`PgTx::campaign_read_ahead`].
    pub(super) fn keep_read_ahead(&mut self, id: &str, row: Option<CampaignRow>) {
        self.read_ahead = Some((id.to_string(), row));
    }

    /// Campaign `id`'s row if the claim read it (once: a later read asks again).
    pub(super) fn campaign_read_ahead(&mut self, id: &str) -> Option<Option<CampaignRow>> {
        match self.read_ahead.take() {
            Some((kept, row)) if kept == id => Some(row),
            _ => None,
        }
    }

    /// Keeps the debit the claim made, for [`PgTx::take_debit`].
    pub(super) fn keep_debit(&mut self, debited: DebitedAhead) {
        self.debited_ahead = Some(debited);
    }

    /// The debit the claim made for this draw, if it made one: the counts it
    /// left, or `None` if the limits refused it. A debit made for other limits
    /// or periods than the draw's is an error, which rolls the draw back.
    pub(super) fn take_debit(
        &mut self,
        campaign: &str,
        user: &str,
        limits: &Limits,
        periods: &Periods,
    ) -> Stored<Option<Option<UserCounts>>> {
        let Some(debited) = self.debited_ahead.take() else {
            return Ok(None);
        };
        if (
            debited.campaign.as_str(),
            debited.user.as_str(),
            &debited.limits,
            &debited.periods,
        ) != (campaign, user, limits, periods)
        {
            return Err(StoreError::Corrupt(format!(
                "a draw of `{user}` in `{campaign}` met a debit made ahead for another draw"
            )));
        }
        Ok(Some(debited.counts))
    }

    pub(super) async fn commit(mut self) -> Stored<()> {
        // A debit made ahead that no draw took would count a draw never made.
        if self
            .debited_ahead
            .as_ref()
            .is_some_and(|d| d.counts.is_some())
        {
            return Err(StoreError::Corrupt(
                "a debit made with a request's claim was never taken by its draw".into(),
            ));
        }
        self.flush().await?;
        self.trips.fetch_add(1, Ordering::Relaxed);
        self.tx.commit().await?;
        Ok(())
    }
}

/// The statement that sends `deferred` as `WITH` clauses before `sql`, its
/// placeholders renumbered after theirs, and the arguments in that order.
fn carrying(deferred: &[Deferred], sql: &str, args: &[Arg<'_>]) -> Stored<(String, PgArguments)> {
    let mut text = String::new();
    let mut arguments = PgArguments::default();
    let mut bound = 0;
    for (i, write) in deferred.iter().enumerate() {
        text.push_str(if i == 0 { "WITH " } else { ", " });
        text.push_str(&format!("held{i} AS ("));
        text.push_str(&renumbered(write.sql, bound));
        text.push(')');
        for arg in &write.args {
            add(&mut arguments, arg.as_arg())?;
        }
        bound += write.args.len();
    }
    let sql = renumbered(sql, bound);
    match (deferred.is_empty(), sql.strip_prefix("WITH ")) {
        (true, _) => text.push_str(&sql),
        // A statement of its own `WITH` clauses continues the list.
        (false, Some(clauses)) => {
            text.push_str(", ");
            text.push_str(clauses);
        }
        (false, None) => {
            text.push(' ');
            text.push_str(&sql);
        }
    }
    for arg in args {
        add(&mut arguments, *arg)?;
    }
    Ok((text, arguments))
}

fn add(arguments: &mut PgArguments, arg: Arg<'_>) -> Stored<()> {
    let added = match arg {
        Arg::Int(v) => arguments.add(v),
        Arg::Text(v) => arguments.add(v),
        Arg::NullInt => arguments.add(None::<i64>),
        Arg::NullText => arguments.add(None::<&str>),
    };
    added.map_err(|e| sqlx::Error::Encode(e).into())
}

/// `sql` with each placeholder `$N` written `$(N + by)`. tombola's statements
/// hold no `$` but their placeholders.
fn renumbered(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// Whether `sql` names `table` as a word.
fn mentions(sql: &str, table: &str) -> bool {
    sql.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| word == table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_move_past_the_held_writes() {
        assert_eq!(
            renumbered("UPDATE t SET a = $2 WHERE b = $1 AND c = $10", 3),
            "UPDATE t SET a = $5 WHERE b = $4 AND c = $13"
        );
        assert_eq!(renumbered("SELECT $1", 0), "SELECT $1");
    }

    #[test]
    fn held_writes_go_in_front_in_order() {
        let deferred = [
            Deferred {
                table: "draws",
                sql: "INSERT INTO draws (a, b) VALUES ($1, $2)",
                args: vec![Owned::Int(1), Owned::Text("x".into())],
            },
            Deferred {
                table: "user_counters",
                sql: "UPDATE user_counters SET g = $1",
                args: vec![Owned::Int(2)],
            },
        ];
        let (text, _) = carrying(&deferred, "UPDATE requests SET r = $1", &[Arg::Int(3)]).unwrap();
        assert_eq!(
            text,
            "WITH held0 AS (INSERT INTO draws (a, b) VALUES ($1, $2)), \
             held1 AS (UPDATE user_counters SET g = $3) UPDATE requests SET r = $4"
        );
    }

    #[test]
    fn a_statement_with_its_own_clauses_continues_the_list() {
        let deferred = [Deferred {
            table: "draws",
            sql: "INSERT INTO draws (a) VALUES ($1)",
            args: vec![Owned::Int(1)],
        }];
        let (text, _) = carrying(
            &deferred,
            "WITH c AS (SELECT $1) SELECT * FROM c",
            &[Arg::Int(2)],
        )
        .unwrap();
        assert_eq!(
            text,
            "WITH held0 AS (INSERT INTO draws (a) VALUES ($1)), c AS (SELECT $2) SELECT * FROM c"
        );
    }

    #[test]
    fn a_table_is_named_only_as_a_word() {
        assert!(mentions("UPDATE requests SET r = 1", "requests"));
        assert!(!mentions("UPDATE requests_old SET r = 1", "requests"));
    }
}
