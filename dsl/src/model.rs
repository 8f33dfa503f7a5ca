//! The campaign file as written: serde-free document types that keep the span
//! of every value, and derive the JSON Schema that editors use. The decoder
//! (`decode.rs`) fills them; the checks read them; the compiler turns them into IR.

use std::borrow::Cow;

use rust_decimal::Decimal;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use tombola_grammar::Span;

/// A value and the byte span of its text in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Sp<T> {
    pub fn new(value: T, span: Span) -> Self {
        Sp { value, span }
    }
}

impl<T: JsonSchema> JsonSchema for Sp<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// An id: lowercase letters, digits, `_` and `-`, starting with a letter or digit.
pub type Id = Sp<String>;

/// Entries keyed by id, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct IdMap<T>(pub Vec<(Id, T)>);

impl<T> Default for IdMap<T> {
    fn default() -> Self {
        IdMap(Vec::new())
    }
}

impl<T> IdMap<T> {
    pub fn get(&self, id: &str) -> Option<&T> {
        self.0
            .iter()
            .find(|(key, _)| key.value == id)
            .map(|(_, value)| value)
    }
    pub fn iter(&self) -> impl Iterator<Item = &(Id, T)> {
        self.0.iter()
    }
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(key, _)| key.value.as_str())
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

pub const ID_PATTERN: &str = "^[a-z0-9][a-z0-9_-]{0,63}$";

impl<T: JsonSchema> JsonSchema for IdMap<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("IdMap_{}", T::schema_name()).into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let values = generator.subschema_for::<T>();
        json_schema!({
            "type": "object",
            "propertyNames": { "pattern": ID_PATTERN },
            "additionalProperties": values,
        })
    }
}

/// An expression of the tombola language, as written in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct ExprText {
    pub text: String,
    /// Span of the whole YAML value.
    pub span: Span,
    /// File offset of the expression's first byte, when the text maps 1:1 onto
    /// the file (plain and simple quoted scalars); otherwise spans point at the value.
    pub base: Option<usize>,
}

impl ExprText {
    /// The expression's own text in the file: the value without its quotes.
    pub fn text_span(&self) -> Span {
        match self.base {
            Some(base) => Span::new(base, base + self.text.len()),
            None => self.span,
        }
    }

    /// Maps a span inside the expression onto the file.
    pub fn file_span(&self, inner: Span) -> Span {
        match self.base {
            Some(base) => Span::new(base + inner.start, base + inner.end),
            None => self.span,
        }
    }
}

impl JsonSchema for ExprText {
    fn schema_name() -> Cow<'static, str> {
        "Expression".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An expression, e.g. `random(1, 100)`, `user.draws.total >= 3 and user.vip`, `event.amount * 5%`. See docs/language.md.",
            "type": ["string", "number", "boolean"],
        })
    }
}

/// An exact rate: a decimal in (0, 1] or a percentage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate(pub Decimal);

impl JsonSchema for Rate {
    fn schema_name() -> Cow<'static, str> {
        "Rate".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An exact rate above 0 and at most 1: `0.3` or `30%`.",
            "anyOf": [
                { "type": "number", "exclusiveMinimum": 0, "maximum": 1 },
                { "type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?%$" }
            ]
        })
    }
}

/// An exact decimal amount (credits, money), never a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Amount(pub Decimal);

impl JsonSchema for Amount {
    fn schema_name() -> Cow<'static, str> {
        "Amount".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An exact decimal, e.g. `2.50`; a credit price may be written `100 credits`.",
            "anyOf": [
                { "type": "number", "minimum": 0 },
                { "type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?( credits)?$" }
            ]
        })
    }
}

/// A date (`2026-03-01`) or a date and time (`2026-03-01T09:00`, optionally with an offset).
#[derive(Debug, Clone, PartialEq)]
pub enum When {
    Date(chrono::NaiveDate),
    DateTime(chrono::NaiveDateTime, Option<chrono::FixedOffset>),
}

impl JsonSchema for When {
    fn schema_name() -> Cow<'static, str> {
        "DateOrTime".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A date `YYYY-MM-DD` or a date and time `YYYY-MM-DDTHH:MM[:SS]`, optionally followed by `Z` or `+HH:MM`; without an offset it is read in the window's zone.",
            "type": "string",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
        })
    }
}

/// A campaign: a raffle with its prize pool, the rules around each draw, the
/// quotas of each user, SKUs, rebate flows and delivery.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields, title = "tombola campaign")]
pub struct CampaignFile {
    /// The campaign's id: what the API and the store call it.
    #[schemars(regex(pattern = ID_PATTERN))]
    pub campaign: Id,
    /// A human name.
    pub name: Sp<String>,
    /// What the campaign is about.
    pub description: Option<Sp<String>>,
    /// The state at the first deploy (default `draft`); the API changes it after.
    pub state: Option<Sp<InitialState>>,
    /// When draws may happen, and the zone that defines days and months.
    pub window: Sp<Window>,
    /// Free draws every user holds (default 0): a number for the whole
    /// campaign, or `{ per_day: N }` for N each day.
    pub allowance: Option<Sp<Allowance>>,
    /// Caps on draws made, per user.
    pub quota: Option<Sp<Quota>>,
    /// What callers may pass with draws and events, with types.
    pub inputs: Option<Sp<Inputs>>,
    /// Where external awards (items, coupons) are delivered.
    pub delivery: Option<Sp<Delivery>>,
    /// The prizes, by id.
    pub awards: IdMap<Sp<Award>>,
    /// The prize pool: awards with their rates, stock and trees.
    pub pool: Vec<Sp<PoolEntry>>,
    /// Rules before the draw, in order; the first that takes over decides.
    #[schemars(default)]
    pub before: Vec<Sp<ChainRule>>,
    /// Rule trees after the draw, by id: lists of nodes.
    #[schemars(default)]
    pub trees: IdMap<Sp<Vec<Sp<TreeNode>>>>,
    /// Packages that grant draws, by id.
    #[schemars(default)]
    pub skus: IdMap<Sp<Sku>>,
    /// Behaviour events that reward users.
    #[schemars(default)]
    pub rebates: Vec<Sp<Rebate>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InitialState {
    Draft,
    Open,
    Closed,
}

/// The campaign's time window. `from` is included; a date-only `to` includes that whole day.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Window {
    pub from: Sp<When>,
    /// Omit for a campaign that stays open.
    pub to: Option<Sp<When>>,
    /// An IANA time zone, e.g. `Asia/Shanghai`, `Europe/Paris`, `UTC`.
    pub zone: Sp<String>,
}

/// Free draws: `N` for the whole campaign, or `{ per_day: N }` for N each
/// day in the campaign's zone, not carried over and used before granted draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowance {
    Campaign(u32),
    PerDay(u32),
}

impl JsonSchema for Allowance {
    fn schema_name() -> Cow<'static, str> {
        "Allowance".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Free draws every user holds: a number for the whole campaign, or `{ per_day: N }` for N free draws each day in the campaign's zone (not carried over, used before granted draws).",
            "anyOf": [
                { "type": "integer", "minimum": 0, "maximum": u32::MAX },
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["per_day"],
                    "properties": {
                        "per_day": { "type": "integer", "minimum": 1, "maximum": u32::MAX }
                    }
                }
            ]
        })
    }
}

/// Caps on draws made by one user, in the campaign's zone.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Quota {
    /// Most draws a user may make in the whole campaign.
    pub total: Option<Sp<u32>>,
    /// Most draws a user may make in one calendar day.
    pub per_day: Option<Sp<u32>>,
    /// Most draws a user may make in one calendar month.
    pub per_month: Option<Sp<u32>>,
}

/// Declared inputs. Types: int, decimal, bool, string, date, datetime, duration, list<T>.
#[derive(Debug, Clone, Default, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Inputs {
    /// User attributes passed with draws and events, e.g. `vip: bool`.
    #[schemars(default)]
    pub user: IdMap<Sp<String>>,
    /// Events and their attributes, e.g. `payment: { amount: decimal }`.
    #[schemars(default)]
    pub events: IdMap<Sp<IdMap<Sp<String>>>>,
}

/// Webhook delivery of external awards.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Delivery {
    /// The receiver's URL (http or https).
    pub webhook: Sp<String>,
    /// The *name* of the environment variable that holds the signing secret.
    #[schemars(regex(pattern = "^[A-Z_][A-Z0-9_]*$"))]
    pub secret_env: Sp<String>,
}

/// What an award gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AwardKind {
    /// Credit points into the user's ledger (internal).
    Credits,
    /// Extra draws (internal).
    Draws,
    /// A physical or digital item, delivered by webhook.
    Item,
    /// A coupon code from an uploaded pool, delivered by webhook.
    Coupon,
    /// Explicitly nothing.
    None,
}

/// A prize.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Award {
    pub kind: Sp<AwardKind>,
    /// Credits or draws given: an expression such as `10` or `random(1, 100)`.
    pub amount: Option<ExprText>,
    /// What the user is told they won.
    pub title: Option<Sp<String>>,
    /// What one issue costs the business (money), for simulation and diff.
    pub cost: Option<Sp<Amount>>,
}

/// An award in the pool.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PoolEntry {
    /// The award drawn, by id.
    pub award: Id,
    pub rate: Sp<Rate>,
    /// Limited stock across all users; omit for unlimited.
    pub stock: Option<Sp<u64>>,
    /// The tree that runs after this award is drawn.
    pub tree: Option<Id>,
    /// With `stock` and no stock node in the tree: the compiler inserts one that
    /// gives this award when the stock is exhausted.
    pub exhausted: Option<Id>,
}

/// A rule before the draw: exactly one of `blacklist`, `weight`, `when`.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ChainRule {
    /// Names the rule in explanations (defaults: `blacklist`, `weight`, `rule-N`).
    #[schemars(regex(pattern = ID_PATTERN))]
    pub id: Option<Id>,
    pub blacklist: Option<Sp<Blacklist>>,
    pub weight: Option<Sp<Weight>>,
    /// A condition; when true, `give` an award or `draw` from a sub-pool.
    pub when: Option<ExprText>,
    /// With `when`: the award to give (it must not be able to run out).
    pub give: Option<Id>,
    /// With `when`: the sub-pool to draw from instead of the pool.
    pub draw: Option<Sp<SubPool>>,
}

/// Listed users (or users matching `when`) get a fixed award; they still spend a draw.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Blacklist {
    /// The user ids that are blacklisted.
    #[schemars(default)]
    pub users: Vec<Sp<String>>,
    pub when: Option<ExprText>,
    /// The award blacklisted users get (it must not be able to run out).
    pub give: Id,
}

/// Weight tiers: a score picks a sub-pool.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Weight {
    /// The score (default `user.draws.total`).
    pub score: Option<ExprText>,
    /// `at_least` (default): the highest threshold ≤ score; `exactly`: only at a threshold.
    pub mode: Option<Sp<WeightMode>>,
    /// Threshold → awards (keeping their pool rates, renormalised) or awards with their own rates.
    pub tiers: Sp<Tiers>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightMode {
    AtLeast,
    Exactly,
}

/// Tiers by threshold, in increasing order.
#[derive(Debug, Clone, PartialEq)]
pub struct Tiers(pub Vec<(Sp<i64>, Sp<SubPool>)>);

impl JsonSchema for Tiers {
    fn schema_name() -> Cow<'static, str> {
        "Tiers".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let sub = generator.subschema_for::<SubPool>();
        json_schema!({
            "type": "object",
            "propertyNames": { "pattern": "^[0-9]+$" },
            "additionalProperties": sub,
        })
    }
}

/// A sub-pool: a list of pool awards (their pool rates renormalised) or awards with rates summing to 1.
#[derive(Debug, Clone, PartialEq)]
pub enum SubPool {
    Awards(Vec<Id>),
    Rated(Vec<(Id, Sp<Rate>)>),
}

impl JsonSchema for SubPool {
    fn schema_name() -> Cow<'static, str> {
        "SubPool".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let rate = generator.subschema_for::<Rate>();
        json_schema!({
            "anyOf": [
                { "type": "array", "items": { "type": "string", "pattern": ID_PATTERN } },
                { "type": "object", "additionalProperties": rate }
            ]
        })
    }
}

/// A node of a rule tree: `<node id>: { … }`. Its kind is named by the key it
/// carries: `after` (lock), `exhausted` (stock), `if` (condition) or `fallback`.
#[derive(Debug, Clone)]
pub struct TreeNode {
    pub id: Id,
    pub body: Sp<NodeBody>,
}

impl JsonSchema for TreeNode {
    fn schema_name() -> Cow<'static, str> {
        "TreeNode".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let body = generator.subschema_for::<NodeBody>();
        json_schema!({
            "description": "A node: `- <node id>: { … }`.",
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "propertyNames": { "pattern": ID_PATTERN },
            "additionalProperties": body,
        })
    }
}

/// What a node does, with its routes. A route names a node of the same tree or
/// `award` (issue the drawn award). A node's passing outcome goes to `then`,
/// by default the next node in the list (the drawn award if that is a fallback
/// or there is none).
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct NodeBody {
    /// Lock: the award unlocks after this many completed draws.
    pub after: Option<Sp<u32>>,
    /// Lock: which draws count — `total` (default), `day` or `month`.
    pub per: Option<Sp<LockPeriod>>,
    /// Lock: where a locked draw goes.
    pub locked: Option<Id>,
    /// Stock: where a draw goes when the drawn award's stock is exhausted.
    pub exhausted: Option<Id>,
    /// Condition: an expression.
    #[schemars(rename = "if")]
    pub condition: Option<ExprText>,
    /// Condition: where a draw goes when the condition is false.
    #[schemars(rename = "else")]
    pub otherwise: Option<Id>,
    /// Fallback: give this award instead (it must not be able to run out).
    pub fallback: Option<Id>,
    /// Fallback: the amount, overriding the award's.
    pub amount: Option<ExprText>,
    /// Where the passing outcome goes (default: the next node).
    pub then: Option<Id>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockPeriod {
    Total,
    Day,
    Month,
}

/// A package of draws.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Sku {
    /// Draws granted per unit.
    pub draws: Sp<u32>,
    /// Units available across all users; omit for unlimited.
    pub stock: Option<Sp<u64>>,
    /// Credit price, e.g. `100` or `100 credits`; omit if it cannot be bought with credits.
    pub price: Option<Sp<Amount>>,
}

/// A rebate flow: an event, conditions, actions.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Rebate {
    /// Names the flow (default `<event>-N`).
    #[schemars(regex(pattern = ID_PATTERN))]
    pub id: Option<Id>,
    /// The event, as declared under `inputs.events`.
    pub on: Id,
    /// A condition over `event.*` and `user.*`.
    pub when: Option<ExprText>,
    /// At most once per user per period (in the campaign's zone); omit for no limit.
    pub once: Option<Sp<Once>>,
    /// What the flow gives: SKUs, credits, awards.
    pub give: Vec<Sp<Action>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Once {
    PerDay,
    PerWeek,
    PerMonth,
    Ever,
}

/// One action of a rebate flow: exactly one key.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Action {
    /// Grant one unit of a SKU.
    pub sku: Option<Id>,
    /// Add credits: an expression, e.g. `10` or `event.amount * 5%`.
    pub credits: Option<ExprText>,
    /// Give an award.
    pub award: Option<Id>,
}

// The IR keeps its own enums, so the engine never sees the document model;
// these name each document enum's counterpart.

impl From<AwardKind> for tombola_ir::AwardKind {
    fn from(kind: AwardKind) -> Self {
        match kind {
            AwardKind::Credits => tombola_ir::AwardKind::Credits,
            AwardKind::Draws => tombola_ir::AwardKind::Draws,
            AwardKind::Item => tombola_ir::AwardKind::Item,
            AwardKind::Coupon => tombola_ir::AwardKind::Coupon,
            AwardKind::None => tombola_ir::AwardKind::None,
        }
    }
}

impl From<WeightMode> for tombola_ir::WeightMode {
    fn from(mode: WeightMode) -> Self {
        match mode {
            WeightMode::AtLeast => tombola_ir::WeightMode::AtLeast,
            WeightMode::Exactly => tombola_ir::WeightMode::Exactly,
        }
    }
}

impl From<LockPeriod> for tombola_ir::LockPeriod {
    fn from(per: LockPeriod) -> Self {
        match per {
            LockPeriod::Total => tombola_ir::LockPeriod::Total,
            LockPeriod::Day => tombola_ir::LockPeriod::Day,
            LockPeriod::Month => tombola_ir::LockPeriod::Month,
        }
    }
}

impl From<Once> for tombola_ir::Once {
    fn from(once: Once) -> Self {
        match once {
            Once::PerDay => tombola_ir::Once::PerDay,
            Once::PerWeek => tombola_ir::Once::PerWeek,
            Once::PerMonth => tombola_ir::Once::PerMonth,
            Once::Ever => tombola_ir::Once::Ever,
        }
    }
}
