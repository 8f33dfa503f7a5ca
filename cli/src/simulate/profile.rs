//! Simulation profiles: who the simulated users are (segments with their
//! shares, attributes, draws a day, sign-ins, credits and exchanges) and the
//! coupon codes on hand, read from `--profile FILE` or made of the flags.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, anyhow, bail};
use rand_chacha::ChaCha8Rng;
use rand_core::Rng;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;
use tombola_grammar::{Type, Value};
use tombola_ir::Campaign;

use super::Flags;
use crate::{files, scenario};

/// A uniform number in [0, 1) from 53 random bits.
pub(crate) fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A simulation profile (`tombola simulate --profile FILE`): the users a
/// simulation draws with, in segments, and the coupon codes on hand.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfileFile {
    /// Simulated users in all, shared out among the segments by their shares;
    /// `--users` overrides it. Default 1000.
    pub(crate) users: Option<u32>,
    /// Days to simulate; `--days` overrides it. Default: the campaign's
    /// window (30 days if it has no end).
    pub(crate) days: Option<u32>,
    /// Who the users are: each segment's share of them and how they behave.
    /// The shares sum to 1.
    #[schemars(with = "Vec<Segment>", length(min = 1))]
    pub(crate) segments: Vec<Spanned<Segment>>,
    /// Coupon codes on hand at the start, by coupon award: how many (the
    /// simulation makes them up). A coupon without codes is never issued.
    #[schemars(with = "Option<BTreeMap<String, u32>>")]
    pub(crate) codes: Option<Spanned<BTreeMap<String, u32>>>,
}

/// One kind of user.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Segment {
    /// The segment's name, as the report shows it.
    pub(crate) name: String,
    /// Its share of the users, between 0 and 1 (`0.1` for a tenth).
    pub(crate) share: f64,
    /// Declared user attributes (`inputs.user`) its draws send, e.g.
    /// `{ vip: true }`; the others are sent as false, 0 or empty.
    #[serde(default)]
    pub(crate) attributes: serde_json::Map<String, serde_json::Value>,
    /// Draws each user tries a day: a number, `{ poisson: MEAN }` or
    /// `{ uniform: [MIN, MAX] }`. A refused draw ends the user's day.
    #[serde(default = "three")]
    pub(crate) draws_per_day: DrawsPerDay,
    /// The chance a user signs in on a day (if the campaign declares `sign_in`).
    #[serde(default = "half")]
    pub(crate) sign_in: f64,
    /// Credits each user starts with.
    #[serde(default)]
    #[schemars(with = "f64", extend("default" = 0))]
    pub(crate) credits: Decimal,
    /// A SKU the users buy with credits when they have no draws left.
    pub(crate) exchange: Option<String>,
}

fn three() -> DrawsPerDay {
    DrawsPerDay::Fixed(3)
}

fn half() -> f64 {
    0.5
}

/// How many draws a user tries on a day.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "`draws_per_day` is a number of draws (`3`), `{ poisson: MEAN }` or `{ uniform: [MIN, MAX] }`"
)]
pub(crate) enum DrawsPerDay {
    /// The same number every day.
    Fixed(u32),
    Random(Spread),
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Spread {
    /// Poisson with this mean (at most 100): most days near it, a few far.
    Poisson(f64),
    /// Any number from MIN to MAX, both included, equally likely.
    Uniform([u32; 2]),
}

impl DrawsPerDay {
    /// Today's number, from the simulation's behaviour stream. A fixed number
    /// reads nothing from it, so the flags' runs stay what they were.
    pub(crate) fn sample(self, rng: &mut ChaCha8Rng) -> u32 {
        match self {
            DrawsPerDay::Fixed(n) => n,
            DrawsPerDay::Random(Spread::Uniform([low, high])) => {
                let span = u64::from(high - low) + 1;
                low + (unit(rng) * span as f64) as u32
            }
            // Knuth's product of uniforms: exact, and quick for the small means of a day.
            DrawsPerDay::Random(Spread::Poisson(mean)) => {
                let limit = (-mean).exp();
                let (mut k, mut p) = (0, unit(rng));
                while p > limit {
                    k += 1;
                    p *= unit(rng);
                }
                k
            }
        }
    }

    fn problem(self) -> Option<String> {
        match self {
            DrawsPerDay::Random(Spread::Poisson(mean)) if !(0.0..=100.0).contains(&mean) => {
                Some(format!("`poisson: {mean}`: the mean is between 0 and 100"))
            }
            DrawsPerDay::Random(Spread::Uniform([low, high])) if low > high => Some(format!(
                "`uniform: [{low}, {high}]`: the first bound is the lower"
            )),
            _ => None,
        }
    }
}

/// A segment as the simulation runs it: its attributes typed by the campaign's declarations.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) name: String,
    pub(crate) share: f64,
    /// Every declared attribute, as this segment's draws send it.
    pub(crate) attributes: Vec<(String, Value)>,
    pub(crate) draws_per_day: DrawsPerDay,
    pub(crate) sign_in: f64,
    pub(crate) credits: Decimal,
    pub(crate) exchange: Option<String>,
}

/// Coupon codes to upload before the first day, and where the profile asks for them.
#[derive(Debug, Clone)]
pub(crate) struct Codes {
    pub(crate) award: String,
    pub(crate) count: u32,
    /// `file:line:col` of the `codes` map, for an error the engine finds.
    pub(crate) at: String,
}

/// Everything a simulation needs to know about its users.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    pub(crate) users: u32,
    pub(crate) days: Option<u32>,
    pub(crate) seed: u64,
    pub(crate) runs: u32,
    pub(crate) store: String,
    pub(crate) segments: Vec<Plan>,
    pub(crate) codes: Vec<Codes>,
}

/// The JSON Schema of profile files.
pub(crate) fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ProfileFile)).unwrap_or_default()
}

/// The profile the flags describe: one segment, every user alike, sending
/// each declared attribute as false, 0 or empty.
pub(crate) fn from_flags(flags: &Flags, campaign: &Campaign) -> Result<Profile> {
    let segment = Segment {
        name: "all".into(),
        share: 1.0,
        attributes: serde_json::Map::new(),
        draws_per_day: DrawsPerDay::Fixed(flags.draws_per_day),
        sign_in: flags.sign_in,
        credits: flags.credits,
        exchange: flags.exchange.clone(),
    };
    let flag = |key: &str| format!("--{}", key.replace('_', "-"));
    let plan = plan(&segment, campaign, &flag).map_err(|problem| anyhow!(problem))?;
    common(flags, None, None, vec![plan], Vec::new())
}

/// The profile of `path`, checked against the campaign; a problem names the
/// file, line and column it is at.
pub(crate) fn load(path: &Path, flags: &Flags, campaign: &Campaign) -> Result<Profile> {
    let name = path.display().to_string();
    let (text, file): (String, ProfileFile) = files::decoded(path)?;
    let at = |spot: &serde_saphyr::Location| files::position(&name, spot);
    let mut segments = Vec::new();
    for segment in &file.segments {
        let plan =
            plan(&segment.value, campaign, &|key| format!("`{key}`")).map_err(|problem| {
                anyhow!(
                    "{}: segment `{}`: {problem}",
                    at(&segment.referenced),
                    segment.value.name
                )
            })?;
        if segments.iter().any(|s: &Plan| s.name == plan.name) {
            bail!(
                "{}: a second segment named `{}`",
                at(&segment.referenced),
                plan.name
            );
        }
        segments.push(plan);
    }
    let total: f64 = segments.iter().map(|s| s.share).sum();
    if let (Some(first), false) = (file.segments.first(), (total - 1.0).abs() < 1e-9) {
        let line = files::line_of(&text, first.referenced.line()).trim_start_matches("- ");
        bail!(
            "{}: segments: the shares sum to {}; they must sum to 1 (`{line}` is the first)",
            at(&first.referenced),
            // Sums of decimals in binary show their error (0.8999999999999999): not the reader's.
            (total * 1e9).round() / 1e9
        );
    }
    if file.segments.is_empty() {
        bail!("{name}: `segments` lists no segment; a profile needs at least one");
    }
    let codes = file.codes.map_or_else(Vec::new, |codes| {
        let at = at(&codes.referenced);
        codes
            .value
            .into_iter()
            .map(|(award, count)| Codes {
                award,
                count,
                at: at.clone(),
            })
            .collect()
    });
    common(flags, file.users, file.days, segments, codes)
}

/// The counts every profile holds to, flags or file, and the run's options.
fn common(
    flags: &Flags,
    users: Option<u32>,
    days: Option<u32>,
    segments: Vec<Plan>,
    codes: Vec<Codes>,
) -> Result<Profile> {
    let users = flags.users.or(users).unwrap_or(1000);
    let days = flags.days.or(days);
    if users == 0 {
        bail!("--users: a simulation needs at least 1 user");
    }
    if days == Some(0) {
        bail!("--days: a simulation needs at least 1 day");
    }
    if flags.runs == 0 {
        bail!("--runs: a simulation needs at least 1 run");
    }
    if flags.runs > 1 && !matches!(flags.store.as_str(), "memory:" | "memory") {
        bail!("--store keeps one run: give --runs 1 with it");
    }
    Ok(Profile {
        users,
        days,
        seed: flags.seed,
        runs: flags.runs,
        store: flags.store.clone(),
        segments,
        codes,
    })
}

/// A segment checked against the campaign; a problem names its key as `key`
/// writes it (`--sign-in` for the flags, `` `sign_in` `` in a file).
fn plan(
    segment: &Segment,
    campaign: &Campaign,
    key: &dyn Fn(&str) -> String,
) -> Result<Plan, String> {
    if !(segment.share > 0.0 && segment.share <= 1.0) {
        return Err(format!(
            "{} {}: a share is more than 0 and at most 1",
            key("share"),
            segment.share
        ));
    }
    if !(0.0..=1.0).contains(&segment.sign_in) {
        return Err(format!(
            "{} is a probability between 0 and 1",
            key("sign_in")
        ));
    }
    if segment.credits < Decimal::ZERO {
        return Err(format!(
            "{} {}: users cannot start with a negative balance",
            key("credits"),
            segment.credits
        ));
    }
    if let Some(problem) = segment.draws_per_day.problem() {
        return Err(format!("{} {problem}", key("draws_per_day")));
    }
    if let Some(sku) = &segment.exchange {
        exchangeable(campaign, sku)
            .map_err(|problem| format!("{} {sku}: {problem}", key("exchange")))?;
    }
    let given = scenario::typed(&campaign.inputs.user, &segment.attributes)
        .map_err(|e| format!("{}: {e}", key("attributes")))?;
    // Every declared attribute is sent, so a rule reading one never meets a missing input.
    let attributes = campaign
        .inputs
        .user
        .iter()
        .filter_map(|(name, ty)| {
            let value = given
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone());
            Some((name.clone(), value.or_else(|| neutral(ty))?))
        })
        .collect();
    Ok(Plan {
        name: segment.name.clone(),
        share: segment.share,
        attributes,
        draws_per_day: segment.draws_per_day,
        sign_in: segment.sign_in,
        credits: segment.credits,
        exchange: segment.exchange.clone(),
    })
}

/// Whether users can buy `sku` with credits; the problem if not.
fn exchangeable(campaign: &Campaign, sku: &str) -> Result<(), String> {
    match campaign.skus.iter().find(|s| s.id == sku) {
        None => {
            let declared: Vec<&str> = campaign.skus.iter().map(|s| s.id.as_str()).collect();
            Err(format!(
                "the campaign declares no such SKU (it declares: {})",
                if declared.is_empty() {
                    "none".to_string()
                } else {
                    declared.join(", ")
                }
            ))
        }
        Some(found) if found.price.is_none() => {
            Err("the SKU has no credit `price`, so it cannot be bought".into())
        }
        Some(_) => Ok(()),
    }
}

/// The value a user who says nothing of an attribute sends.
fn neutral(ty: &Type) -> Option<Value> {
    Some(match ty {
        Type::Bool => Value::Bool(false),
        Type::Int => Value::Int(0),
        Type::Decimal => Value::Decimal(Decimal::ZERO),
        Type::String => Value::Str("".into()),
        Type::List(_) => Value::List(Vec::new().into()),
        _ => return None,
    })
}

impl Profile {
    /// Users per segment, in segment order: the shares of `users`, rounded by
    /// largest remainder so they add up to `users` exactly.
    pub(crate) fn sizes(&self) -> Vec<u32> {
        let exact: Vec<f64> = self
            .segments
            .iter()
            .map(|s| s.share * f64::from(self.users))
            .collect();
        let mut sizes: Vec<u32> = exact.iter().map(|x| x.floor() as u32).collect();
        let mut order: Vec<usize> = (0..sizes.len()).collect();
        order.sort_by(|&a, &b| {
            (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor()))
        });
        let short = self.users.saturating_sub(sizes.iter().sum());
        for &ix in order.iter().cycle().take(short as usize) {
            sizes[ix] += 1;
        }
        sizes
    }
}

/// The users' segments, by user number: the sizes of [`Profile::sizes`],
/// shuffled with a stream of their own so the segments mix in each day's
/// order (the first users of a day meet the fullest stock) and the behaviour
/// stream is untouched.
pub(crate) fn assign(profile: &Profile, seed: u64) -> Vec<usize> {
    use rand_core::{Rng, SeedableRng};
    let mut users: Vec<usize> = profile
        .sizes()
        .iter()
        .enumerate()
        .flat_map(|(ix, &n)| std::iter::repeat_n(ix, n as usize))
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5e9_3e47);
    for i in (1..users.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        users.swap(i, j);
    }
    users
}
