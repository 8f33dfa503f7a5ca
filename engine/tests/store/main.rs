//! The shared behavioural suite: every behaviour is a test per store — memory,
//! SQLite and PostgreSQL — named `<file>::<behaviour>::<store>`.

mod helpers;

mod batches;
mod chain;
mod coupons;
mod credits;
mod daily_allowance;
mod deploys;
mod draws;
mod dry_runs;
mod edited_dry_runs;
mod first_form;
mod imports;
mod migrations;
mod outbox;
mod rebates;
mod round_trips;
mod simulated;
mod slices;
mod trees;
mod versions;
mod views;
