//! The checks and the compiler: resolves every reference, checks probabilities,
//! trees, time, caps and expressions, and builds the IR when nothing is wrong.
//! All diagnostics of a file come out of one run.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Days, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use tombola_grammar::{CheckErrorKind, Program, Scope, Span, Type, did_you_mean};

use crate::decode::Decoded;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::*;
use tombola_ir as ir;
use tombola_ir::draw_table::DrawTable;

/// Finest rate precision: weights are `rate · 10^18`, which fits in a u64.
const MAX_RATE_SCALE: u32 = 18;
/// Credits carry at most two fractional digits.
const CREDIT_SCALE: u32 = 2;
/// The route target that issues the drawn award.
pub const ISSUE: &str = "award";

/// Checks a decoded file and compiles it. The IR is `Some` only when no error was found.
pub fn compile(decoded: &Decoded) -> (Option<ir::Campaign>, Vec<Diagnostic>) {
    let mut compiler = Compiler::new(decoded);
    let campaign = compiler.campaign();
    let has_errors = compiler.diagnostics.iter().any(Diagnostic::is_error);
    (campaign.filter(|_| !has_errors), compiler.diagnostics)
}

/// What an expression's position requires of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Bool,
    Int,
    /// Credits: a number, kept as an exact decimal with at most two digits.
    Credits,
}

struct Compiler<'a> {
    d: &'a Decoded,
    f: &'a CampaignFile,
    diagnostics: Vec<Diagnostic>,
    zone: Tz,
    user_attributes: Vec<(String, Type)>,
    /// Inputs declared with a type that was reported unknown: reading them is
    /// not reported again as an unknown name.
    untyped_inputs: HashSet<String>,
    events: Vec<ir::EventDecl>,
    award_index: HashMap<&'a str, u32>,
    /// Awards whose supply is limited (pool stock or coupon codes).
    limited: HashMap<&'a str, &'static str>,
    entry_of_award: HashMap<&'a str, u32>,
    used_awards: HashSet<&'a str>,
    used_trees: HashSet<&'a str>,
    pool_scale: u32,
    pool_weights: Vec<u64>,
}

/// A tree compiled from the file, with the spans its diagnostics need.
struct TreeDraft {
    nodes: Vec<ir::Node>,
    spans: Vec<Span>,
    /// Whether the graph passed the structural checks (no cycle, all reachable).
    valid: bool,
}

impl<'a> Compiler<'a> {
    fn new(d: &'a Decoded) -> Self {
        Compiler {
            d,
            f: &d.file,
            diagnostics: Vec::new(),
            zone: Tz::UTC,
            user_attributes: Vec::new(),
            untyped_inputs: HashSet::new(),
            events: Vec::new(),
            award_index: HashMap::new(),
            limited: HashMap::new(),
            entry_of_award: HashMap::new(),
            used_awards: HashSet::new(),
            used_trees: HashSet::new(),
            pool_scale: 0,
            pool_weights: Vec::new(),
        }
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn campaign(&mut self) -> Option<ir::Campaign> {
        let f = self.f;
        let window = self.window();
        let quota = self.quota();
        self.inputs();
        let delivery = self.delivery();
        for (index, (id, _)) in f.awards.iter().enumerate() {
            self.award_index.insert(id.value.as_str(), index as u32);
        }
        for (id, award) in f.awards.iter() {
            if award.value.kind.value == AwardKind::Coupon {
                self.limited.insert(
                    id.value.as_str(),
                    "is a coupon, and its code pool can run dry",
                );
            }
        }
        for entry in &f.pool {
            if entry.value.stock.is_some() {
                self.limited.insert(
                    entry.value.award.value.as_str(),
                    "has limited stock in the pool",
                );
            }
        }
        let awards = self.awards(delivery.is_some());
        let trees = self.trees();
        let (pool, table, extra_trees) = self.pool(&trees);
        let chain = self.chain();
        let skus = self.skus();
        let rebates = self.rebates();
        self.unused();

        let mut ir_trees = Vec::new();
        for ((id, _), draft) in f.trees.iter().zip(trees) {
            ir_trees.push((id.value.clone(), draft));
        }
        let mut built = Vec::new();
        for (id, draft) in ir_trees.into_iter().chain(extra_trees) {
            if !draft.valid {
                return None;
            }
            let entry = if draft.nodes.is_empty() {
                ir::Target::Issue
            } else {
                ir::Target::Node(0)
            };
            match ir::Tree::try_new(id, draft.nodes, entry) {
                Ok(tree) => built.push(tree),
                Err(error) => {
                    self.push(Diagnostic::new(
                        Code::TreeCycle,
                        f.campaign.span,
                        format!("internal: {error}"),
                    ));
                    return None;
                }
            }
        }
        Some(ir::Campaign {
            id: f.campaign.value.clone(),
            name: f.name.value.clone(),
            description: f.description.as_ref().map(|d| d.value.clone()),
            initial_state: match f.state.as_ref().map(|s| s.value) {
                Some(InitialState::Open) => ir::State::Open,
                Some(InitialState::Closed) => ir::State::Closed,
                Some(InitialState::Draft) | None => ir::State::Draft,
            },
            window: window?,
            allowance: f.allowance.as_ref().map_or(0, |a| a.value),
            quota,
            inputs: ir::Inputs {
                user: self.user_attributes.clone(),
                events: self.events.clone(),
            },
            delivery,
            awards: awards?,
            pool,
            table: table?,
            chain: chain?,
            trees: built,
            skus: skus?,
            rebates: rebates?,
        })
    }

    // ---- expressions ---------------------------------------------------------------

    fn program(
        &mut self,
        expr: &ExprText,
        scope: &Scope,
        want: Want,
        what: &str,
    ) -> Option<Program> {
        let parsed = match tombola_grammar::parse(&expr.text) {
            Ok(parsed) => parsed,
            Err(error) => {
                let code = if error.message.contains("limit") || error.message.contains("deeper") {
                    Code::ExprLimits
                } else {
                    Code::ExprSyntax
                };
                // The parser only sees the text end early ("expected an operator");
                // the mistake a person fixes is the bracket left open.
                if let (Code::ExprSyntax, Some((at, open))) = (code, unclosed_bracket(&expr.text)) {
                    let close = if open == '(' { ')' } else { ']' };
                    self.push(
                        Diagnostic::new(
                            Code::ExprSyntax,
                            expr.file_span(Span::new(at, at + 1)),
                            format!("{what}: `{open}` is never closed"),
                        )
                        .label(format!("opened here, no `{close}` follows"))
                        .help(format!("add the missing `{close}`")),
                    );
                    return None;
                }
                self.push(
                    Diagnostic::new(
                        code,
                        expr.file_span(error.span),
                        format!("{what}: {}", error.message),
                    )
                    .label("here")
                    .maybe_help(error.help),
                );
                return None;
            }
        };
        let program = match tombola_grammar::check(&parsed, scope, self.zone) {
            Ok(program) => program,
            Err(errors) => {
                for error in errors {
                    let name = expr.text.get(error.span.start..error.span.end);
                    if error.kind == CheckErrorKind::UnknownName
                        && name.is_some_and(|name| self.untyped_inputs.contains(name))
                    {
                        continue;
                    }
                    let code = match error.kind {
                        CheckErrorKind::UnknownName => Code::UnknownName,
                        CheckErrorKind::TypeMismatch => Code::TypeMismatch,
                        CheckErrorKind::Arity => Code::Arity,
                        CheckErrorKind::EmptyRange => Code::EmptyRandom,
                        CheckErrorKind::NonConstantList => Code::NonConstantList,
                        _ => Code::AlwaysFails,
                    };
                    self.push(
                        Diagnostic::new(
                            code,
                            expr.file_span(error.span),
                            format!("{what}: {}", error.message),
                        )
                        .label(error.label)
                        .maybe_help(error.help),
                    );
                }
                return None;
            }
        };
        let ty = program.ty().clone();
        let fits = match want {
            Want::Bool => ty == Type::Bool,
            Want::Int => ty == Type::Int,
            Want::Credits => ty.is_numeric(),
        };
        if !fits {
            let (wanted, help) = match want {
                Want::Bool => (
                    "true or false (bool)",
                    "compare or test the value, e.g. `user.draws.total >= 10` or `user.vip`",
                ),
                Want::Int => (
                    "a whole number (int)",
                    "use a whole number, e.g. `5`, `random(1, 3)` or `user.draws.total`",
                ),
                Want::Credits => (
                    "a number",
                    "use a number, e.g. `10`, `random(1, 100)` or `event.amount * 5%`",
                ),
            };
            self.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    expr.text_span(),
                    format!("{what} must be {wanted}, found {ty}"),
                )
                .label(format!("this is {ty}"))
                .help(help),
            );
            return None;
        }
        if matches!(want, Want::Credits | Want::Int)
            && let Some(low) = program.lower_bound()
            && low.is_sign_negative()
            && !low.is_zero()
        {
            self.push(
                Diagnostic::new(
                    Code::NegativeAmount,
                    expr.text_span(),
                    format!("{what} can be negative: its lowest value is {low}"),
                )
                .label("may go below zero")
                .help("amounts are zero or more: raise the lower bound to 0 or above"),
            );
            return None;
        }
        if want == Want::Credits
            && let Some(value) = program.constant()
            && let Some(value) = value.as_val().to_decimal()
            && value.normalize().scale() > CREDIT_SCALE
        {
            self.push(
                Diagnostic::new(
                    Code::CreditPrecision,
                    expr.text_span(),
                    format!("{what}: {value} has more than 2 fractional digits"),
                )
                .label("too precise")
                .help(format!(
                    "credits are counted in hundredths: write {}",
                    value.round_dp_with_strategy(
                        CREDIT_SCALE,
                        rust_decimal::RoundingStrategy::MidpointAwayFromZero
                    )
                )),
            );
            return None;
        }
        Some(program)
    }

    fn draw_scope(&self) -> Scope {
        Scope::draw(self.user_attributes.clone())
    }

    // ---- references ---------------------------------------------------------------

    /// Resolves an award reference, reporting an unknown id with a suggestion.
    fn award_ref(&mut self, id: &'a Id, what: &str) -> Option<u32> {
        if let Some(index) = self.award_index.get(id.value.as_str()) {
            self.used_awards.insert(id.value.as_str());
            return Some(*index);
        }
        if self.d.broken_ids.contains(&id.value) || self.d.unreadable.contains("awards") {
            return None;
        }
        let f = self.f;
        let suggestion = did_you_mean(&id.value, f.awards.ids());
        // The award the typo meant is used; "never given" on it would only mislead.
        if let Some(meant) = suggestion {
            self.used_awards.insert(meant);
        }
        self.push(
            Diagnostic::new(
                Code::UnknownAward,
                id.span,
                format!("{what} names award `{}`, which is not defined", id.value),
            )
            .label("unknown award")
            .help(match suggestion {
                Some(name) => format!("did you mean `{name}`?"),
                None => format!(
                    "define it under `awards`, or use one of: {}",
                    f.awards.ids().collect::<Vec<_>>().join(", ")
                ),
            }),
        );
        None
    }

    /// An award given outright (blacklist, `when` rule, fallback, rebate) must not run out.
    fn unlimited_award(&mut self, id: &'a Id, what: &str) -> Option<u32> {
        let index = self.award_ref(id, what)?;
        if let Some(reason) = self.limited.get(id.value.as_str()) {
            self.push(
                Diagnostic::new(Code::FallbackRunsOut, id.span, format!("{what} gives `{}`, which {reason}", id.value))
                    .label("can run out")
                    .help("give an award that cannot run out (credits, draws, an unstocked item) or an explicit `none` award"),
            );
            return None;
        }
        Some(index)
    }

    fn duplicate(&mut self, what: &str, second: Span, first: Span, id: &str) {
        self.push(
            Diagnostic::new(
                Code::DuplicateId,
                second,
                format!("{what} `{id}` is defined twice"),
            )
            .label("second definition")
            .with(first, "first definition"),
        );
    }

    // ---- window, quota, inputs, delivery ------------------------------------------

    fn window(&mut self) -> Option<ir::Window> {
        let window = &self.f.window.value;
        let zone = match window.zone.value.parse::<Tz>() {
            Ok(zone) => zone,
            Err(_) => {
                let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
                let suggestion = did_you_mean(&window.zone.value, names);
                self.push(
                    Diagnostic::new(
                        Code::UnknownZone,
                        window.zone.span,
                        format!("`{}` is not a known time zone", window.zone.value),
                    )
                    .label("unknown zone")
                    .help(match suggestion {
                        Some(name) => format!("did you mean `{name}`?"),
                        None => {
                            "use an IANA zone name such as `Europe/Paris`, `Asia/Shanghai` or `UTC`"
                                .into()
                        }
                    }),
                );
                return None;
            }
        };
        self.zone = zone;
        let from = self.instant(&window.from, false)?;
        let until = match &window.to {
            Some(to) => Some((self.instant(to, true)?, to.span)),
            None => None,
        };
        if let Some((until, span)) = until
            && until <= from
        {
            self.push(
                Diagnostic::new(Code::WindowOrder, span, "the window ends before it starts")
                    .label("end")
                    .with(window.from.span, "start")
                    .help("`to` must be after `from`; a date-only `to` includes that whole day"),
            );
            return None;
        }
        Some(ir::Window {
            from,
            until: until.map(|(u, _)| u),
            zone,
        })
    }

    /// A window bound in UTC. A date-only end includes its whole day.
    fn instant(&mut self, at: &Sp<When>, end: bool) -> Option<DateTime<Utc>> {
        let local: NaiveDateTime = match &at.value {
            When::Date(date) => {
                let day = if end {
                    date.checked_add_days(Days::new(1))?
                } else {
                    *date
                };
                day.and_hms_opt(0, 0, 0)?
            }
            When::DateTime(naive, Some(offset)) => {
                return offset
                    .from_local_datetime(naive)
                    .single()
                    .map(|t| t.with_timezone(&Utc));
            }
            When::DateTime(naive, None) => *naive,
        };
        match self.zone.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
            LocalResult::None if matches!(at.value, When::Date(_)) => {
                // Midnight skipped by a clock change: the day starts at the first valid instant.
                (1..=4)
                    .find_map(|h| {
                        self.zone
                            .from_local_datetime(&(local + chrono::TimeDelta::hours(h)))
                            .earliest()
                    })
                    .map(|t| t.with_timezone(&Utc))
            }
            LocalResult::None => {
                self.push(
                    Diagnostic::new(
                        Code::BadTime,
                        at.span,
                        format!(
                            "{local} does not exist in {}: the clocks skip it",
                            self.zone
                        ),
                    )
                    .label("skipped by a clock change")
                    .help("pick a time outside the change, or give an offset"),
                );
                None
            }
        }
    }

    fn quota(&mut self) -> ir::Quota {
        let Some(quota) = &self.f.quota else {
            return ir::Quota::default();
        };
        let q = &quota.value;
        let mut zero = false;
        for cap in [&q.total, &q.per_day, &q.per_month].into_iter().flatten() {
            if cap.value == 0 {
                zero = true;
                self.push(
                    Diagnostic::new(Code::InvalidValue, cap.span, "a cap of 0 allows no draws")
                        .label("zero")
                        .help("remove the cap for no limit, or close the campaign"),
                );
            }
        }
        // Every other cap is "above" a zero cap; saying so again would only repeat the error.
        if !zero
            && let (Some(day), Some(month)) = (&q.per_day, &q.per_month)
            && day.value > month.value
        {
            self.push(
                Diagnostic::new(
                    Code::DayAboveMonth,
                    day.span,
                    format!(
                        "the per-day cap ({}) is above the per-month cap ({})",
                        day.value, month.value
                    ),
                )
                .label("per day")
                .with(month.span, "per month")
                .help("a month holds every day's draws; lower `per_day` or raise `per_month`"),
            );
        }
        if !zero && let Some(total) = &q.total {
            for (cap, name) in [(&q.per_month, "per-month"), (&q.per_day, "per-day")] {
                if let Some(cap) = cap
                    && cap.value > total.value
                {
                    self.push(
                        Diagnostic::new(
                            Code::MonthAboveTotal,
                            cap.span,
                            format!(
                                "the {name} cap ({}) is above the total cap ({})",
                                cap.value, total.value
                            ),
                        )
                        .label(name.to_string())
                        .with(total.span, "total")
                        .help(
                            "the total holds every period's draws; lower this cap or raise `total`",
                        ),
                    );
                    break;
                }
            }
        }
        ir::Quota {
            total: q.total.as_ref().map(|c| c.value),
            per_day: q.per_day.as_ref().map(|c| c.value),
            per_month: q.per_month.as_ref().map(|c| c.value),
        }
    }

    fn input_type(&mut self, declared: &Sp<String>) -> Option<Type> {
        match Type::parse(&declared.value) {
            Some(ty) => Some(ty),
            None => {
                // Names other languages use for the same types are too far apart to be typos.
                let alias = match declared.value.as_str() {
                    "boolean" => Some("bool"),
                    "integer" | "number" | "long" => Some("int"),
                    "float" | "double" | "money" => Some("decimal"),
                    "str" | "text" => Some("string"),
                    "timestamp" => Some("datetime"),
                    _ => None,
                };
                let suggestion =
                    alias.or_else(|| did_you_mean(&declared.value, Type::NAMES.iter().copied()));
                self.push(
                    Diagnostic::new(
                        Code::UnknownType,
                        declared.span,
                        format!("`{}` is not a type", declared.value),
                    )
                    .label("unknown type")
                    .help(match suggestion {
                        Some(name) => format!("did you mean `{name}`?"),
                        None => format!("types: {}", Type::NAMES.join(", ")),
                    }),
                );
                None
            }
        }
    }

    fn inputs(&mut self) {
        let Some(inputs) = &self.f.inputs else { return };
        let reserved: Vec<&str> = tombola_grammar::USER_BUILTINS
            .iter()
            .map(|b| b.0)
            .chain(["draws"])
            .collect();
        for (name, declared) in inputs.value.user.iter() {
            if reserved.contains(&name.value.as_str()) {
                self.push(
                    Diagnostic::new(
                        Code::ReservedName,
                        name.span,
                        format!(
                            "`user.{}` is built in; an attribute cannot take its name",
                            name.value
                        ),
                    )
                    .label("reserved")
                    .help(format!(
                        "expressions read `user.{}` without declaring it; rename the attribute if it means something else (built-in names: {})",
                        name.value,
                        reserved.join(", ")
                    )),
                );
                continue;
            }
            match self.input_type(declared) {
                Some(ty) => self.user_attributes.push((name.value.clone(), ty)),
                None => {
                    self.untyped_inputs.insert(name.value.clone());
                }
            }
        }
        for (event, attributes) in inputs.value.events.iter() {
            let mut decl = ir::EventDecl {
                name: event.value.clone(),
                attributes: Vec::new(),
            };
            for (name, declared) in attributes.value.iter() {
                match self.input_type(declared) {
                    Some(ty) => decl.attributes.push((name.value.clone(), ty)),
                    None => {
                        self.untyped_inputs.insert(name.value.clone());
                    }
                }
            }
            self.events.push(decl);
        }
    }

    fn delivery(&mut self) -> Option<ir::Delivery> {
        let delivery = &self.f.delivery.as_ref()?.value;
        let url = delivery.webhook.value.trim();
        let valid_url = ["https://", "http://"].iter().any(|scheme| {
            url.strip_prefix(scheme).is_some_and(|rest| {
                let host = rest.split(['/', '?', '#']).next().unwrap_or("");
                !host.is_empty() && !host.contains(char::is_whitespace)
            })
        });
        if !valid_url {
            self.push(
                Diagnostic::new(
                    Code::BadWebhook,
                    delivery.webhook.span,
                    format!("`{url}` is not an http(s) URL"),
                )
                .label("not a URL")
                .help("write the receiver's full address, e.g. `https://rewards.example.com/hook`"),
            );
        }
        let env = &delivery.secret_env;
        let is_env_name = !env.value.is_empty()
            && env.value.len() <= 128
            && env
                .value
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
            && env
                .value
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !is_env_name {
            self.push(
                Diagnostic::new(Code::SecretInFile, env.span, "`secret_env` holds something that is not an environment variable name — is it the secret itself?")
                    .label("expected a name like WEBHOOK_SECRET")
                    .help("never write the secret in the file: store it in an environment variable and put that variable's NAME here (uppercase letters, digits, `_`); if this was a real secret, rotate it"),
            );
        }
        Some(ir::Delivery {
            webhook: url.to_string(),
            secret_env: env.value.clone(),
        })
    }

    // ---- awards ------------------------------------------------------------------

    fn awards(&mut self, has_delivery: bool) -> Option<Vec<ir::Award>> {
        let f = self.f;
        let scope = self.draw_scope();
        let mut out = Vec::new();
        let mut ok = true;
        for (id, award) in f.awards.iter() {
            let a = &award.value;
            let kind = a.kind.value;
            let what = format!("the amount of award `{}`", id.value);
            let amount = match (kind, &a.amount) {
                (AwardKind::Credits, Some(e)) => {
                    self.program(e, &scope, Want::Credits, &what).map(Some)
                }
                (AwardKind::Draws, Some(e)) => self.program(e, &scope, Want::Int, &what).map(Some),
                (AwardKind::Credits | AwardKind::Draws, None) => {
                    let noun = if kind == AwardKind::Credits {
                        "credits"
                    } else {
                        "draws"
                    };
                    self.push(
                        Diagnostic::new(
                            Code::MissingKey,
                            a.kind.span,
                            format!(
                                "award `{}` gives {noun} but does not say how many",
                                id.value
                            ),
                        )
                        .label("needs an `amount`")
                        .help("add `amount: 10` or an expression such as `amount: random(1, 100)`"),
                    );
                    None
                }
                (_, Some(e)) => {
                    self.push(
                        Diagnostic::new(
                            Code::AmountNotAllowed,
                            e.span,
                            format!(
                                "award `{}` is of kind `{}`, which has no amount",
                                id.value,
                                kind_name(kind)
                            ),
                        )
                        .label("not used")
                        .help("only `credits` and `draws` awards take an amount"),
                    );
                    None
                }
                (_, None) => Some(None),
            };
            if let Some(cost) = &a.cost
                && cost.value.0.is_sign_negative()
                && !cost.value.0.is_zero()
            {
                self.push(
                    Diagnostic::new(Code::NegativeAmount, cost.span, "a cost cannot be negative")
                        .label("negative")
                        .help(
                            "a cost is what one issue of the award costs the business: zero or more",
                        ),
                );
            }
            if ir::AwardKind::from(kind).is_external() && !has_delivery {
                self.push(
                    Diagnostic::new(Code::NoDelivery, a.kind.span, format!("award `{}` is delivered by webhook, but the campaign has no `delivery`", id.value))
                        .label("external award")
                        .help("add `delivery: { webhook: https://…, secret_env: MY_WEBHOOK_SECRET }`"),
                );
            }
            match amount {
                Some(amount) => out.push(ir::Award {
                    id: id.value.clone(),
                    kind: kind.into(),
                    amount,
                    title: a.title.as_ref().map(|t| t.value.clone()),
                    cost: a.cost.as_ref().map(|c| c.value.0),
                }),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    // ---- trees --------------------------------------------------------------------

    fn trees(&mut self) -> Vec<TreeDraft> {
        let f = self.f;
        f.trees
            .iter()
            .map(|(id, nodes)| self.tree(id, &nodes.value))
            .collect()
    }

    fn tree(&mut self, tree_id: &'a Id, nodes: &'a [Sp<TreeNode>]) -> TreeDraft {
        let mut draft = TreeDraft {
            nodes: Vec::new(),
            spans: Vec::new(),
            valid: true,
        };
        let mut index: HashMap<&str, (usize, Span)> = HashMap::new();
        for (i, node) in nodes.iter().enumerate() {
            let id = &node.value.id;
            if id.value == ISSUE {
                self.push(
                    Diagnostic::new(
                        Code::ReservedName,
                        id.span,
                        format!("`{ISSUE}` names the drawn award in routes; a node cannot take it"),
                    )
                    .label("reserved")
                    .help("rename the node"),
                );
                draft.valid = false;
            }
            if let Some((_, first)) = index.get(id.value.as_str()) {
                let first = *first;
                self.duplicate("node", id.span, first, &id.value);
                draft.valid = false;
            } else {
                index.insert(id.value.as_str(), (i, id.span));
            }
        }
        let kinds: Vec<Option<&'static str>> = nodes
            .iter()
            .map(|n| node_kind(&n.value.body.value))
            .collect();
        let scope = self.draw_scope();
        let mut route_spans: Vec<Vec<Option<Span>>> = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            let TreeNode { id, body } = &node.value;
            let b = &body.value;
            let present = node_kinds_present(b);
            let Some(kind) = kinds[i] else {
                let message = if present.is_empty() {
                    format!("node `{}` does not say what it does", id.value)
                } else {
                    format!(
                        "node `{}` says two things: {}",
                        id.value,
                        present.join(" and ")
                    )
                };
                self.push(
                    Diagnostic::new(Code::NodeKind, id.span, message)
                        .label("which kind?")
                        .help("a node's kind comes from its keys, not its id: give it exactly one of `after: N` (lock), `exhausted: <route>` (stock), `if: <condition>` (condition) or `fallback: <award>`"),
                );
                draft.valid = false;
                route_spans.push(Vec::new());
                draft.nodes.push(ir::Node {
                    id: id.value.clone(),
                    kind: ir::NodeKind::Stock {
                        taken: ir::Target::Issue,
                        exhausted: ir::Target::Issue,
                    },
                });
                draft.spans.push(id.span);
                continue;
            };
            // Keys that belong to another kind of node.
            let allowed: &[&str] = match kind {
                "lock" => &["after", "per", "locked", "then"],
                "stock" => &["exhausted", "then"],
                "condition" => &["if", "else", "then"],
                _ => &["fallback", "amount"],
            };
            for (key, span) in body_keys(b) {
                if !allowed.contains(&key) {
                    self.push(
                        Diagnostic::new(
                            Code::ConflictingKeys,
                            span,
                            format!("`{key}` does not apply to a {kind} node"),
                        )
                        .label("not for this kind")
                        .help(format!("a {kind} node takes: {}", allowed.join(", "))),
                    );
                    draft.valid = false;
                }
            }
            // The passing outcome goes to the next node unless that is a fallback.
            let default_then = match kinds.get(i + 1) {
                Some(Some(next)) if *next != "fallback" => ir::Target::Node(i as u32 + 1),
                _ => ir::Target::Issue,
            };
            let resolve = |this: &mut Self,
                           route: &Option<Id>,
                           outcome: &str,
                           required: bool|
             -> Option<ir::Target> {
                match route {
                    Some(route) if route.value == ISSUE => Some(ir::Target::Issue),
                    Some(route) => match index.get(route.value.as_str()) {
                        Some((target, _)) => Some(ir::Target::Node(*target as u32)),
                        None => {
                            let suggestion = did_you_mean(
                                &route.value,
                                nodes
                                    .iter()
                                    .map(|n| n.value.id.value.as_str())
                                    .chain([ISSUE]),
                            );
                            this.push(
                                Diagnostic::new(Code::UnknownNode, route.span, format!("tree `{}` has no node `{}`", tree_id.value, route.value))
                                    .label("unknown node")
                                    .help(match suggestion {
                                        Some(name) => format!("did you mean `{name}`?"),
                                        None => format!("route to a node of this tree or to `{ISSUE}` (the drawn award)"),
                                    }),
                            );
                            None
                        }
                    },
                    None if required => {
                        this.push(
                            Diagnostic::new(Code::UnroutedOutcome, id.span, format!("outcome `{outcome}` of node `{}` is not routed: a draw ending there would get no award", id.value))
                                .label(format!("`{outcome}` goes nowhere"))
                                .help(format!("add `{}: <node>` (a fallback node, or `{ISSUE}` for the drawn award)", outcome_key(outcome))),
                        );
                        None
                    }
                    None => Some(default_then),
                }
            };
            let then = resolve(self, &b.then, "pass", false);
            let then_span = b.then.as_ref().map(|t| t.span);
            let kind_ir = match kind {
                "lock" => {
                    let locked = resolve(self, &b.locked, "locked", true);
                    route_spans.push(vec![then_span, b.locked.as_ref().map(|t| t.span)]);
                    match (then, locked) {
                        (Some(unlocked), Some(locked)) => Some(ir::NodeKind::Lock {
                            after: b.after.as_ref().map_or(0, |a| a.value),
                            per: b.per.as_ref().map_or(LockPeriod::Total, |p| p.value).into(),
                            unlocked,
                            locked,
                        }),
                        _ => None,
                    }
                }
                "stock" => {
                    let exhausted = resolve(self, &b.exhausted, "exhausted", true);
                    route_spans.push(vec![then_span, b.exhausted.as_ref().map(|t| t.span)]);
                    match (then, exhausted) {
                        (Some(taken), Some(exhausted)) => {
                            Some(ir::NodeKind::Stock { taken, exhausted })
                        }
                        _ => None,
                    }
                }
                "condition" => {
                    let otherwise = resolve(self, &b.otherwise, "false", true);
                    route_spans.push(vec![then_span, b.otherwise.as_ref().map(|t| t.span)]);
                    let condition = b.condition.as_ref().and_then(|c| {
                        self.program(
                            c,
                            &scope,
                            Want::Bool,
                            &format!("the condition of node `{}`", id.value),
                        )
                    });
                    match (then, otherwise, condition) {
                        (Some(then), Some(otherwise), Some(condition)) => {
                            Some(ir::NodeKind::Condition {
                                condition,
                                then,
                                otherwise,
                            })
                        }
                        _ => None,
                    }
                }
                _ => {
                    route_spans.push(Vec::new());
                    let award_id = b.fallback.as_ref().expect("a fallback node has `fallback`");
                    let award = self.unlimited_award(award_id, &format!("fallback `{}`", id.value));
                    let amount = match (&b.amount, award) {
                        (Some(e), Some(award)) => {
                            let kind = self.f.awards.0[award as usize].1.value.kind.value;
                            let what = format!("the amount of fallback `{}`", id.value);
                            match kind {
                                AwardKind::Credits => {
                                    self.program(e, &scope, Want::Credits, &what).map(Some)
                                }
                                AwardKind::Draws => {
                                    self.program(e, &scope, Want::Int, &what).map(Some)
                                }
                                other => {
                                    self.push(
                                        Diagnostic::new(Code::AmountNotAllowed, e.span, format!("fallback `{}` gives a `{}` award, which has no amount", id.value, kind_name(other)))
                                            .label("not used")
                                            .help("only `credits` and `draws` awards take an amount"),
                                    );
                                    None
                                }
                            }
                        }
                        (None, Some(_)) => Some(None),
                        _ => None,
                    };
                    match (award, amount) {
                        (Some(award), Some(amount)) => {
                            Some(ir::NodeKind::Fallback { award, amount })
                        }
                        _ => None,
                    }
                }
            };
            match kind_ir {
                Some(kind) => draft.nodes.push(ir::Node {
                    id: id.value.clone(),
                    kind,
                }),
                None => {
                    draft.valid = false;
                    draft.nodes.push(ir::Node {
                        id: id.value.clone(),
                        kind: ir::NodeKind::Stock {
                            taken: ir::Target::Issue,
                            exhausted: ir::Target::Issue,
                        },
                    });
                }
            }
            draft.spans.push(id.span);
        }
        if draft.valid {
            draft.valid = self.tree_shape(tree_id, &draft, &route_spans);
        }
        draft
    }

    /// Cycles and unreachable nodes.
    fn tree_shape(
        &mut self,
        tree_id: &Id,
        draft: &TreeDraft,
        route_spans: &[Vec<Option<Span>>],
    ) -> bool {
        let n = draft.nodes.len();
        if n == 0 {
            return true;
        }
        let mut colour = vec![0u8; n];
        let mut path: Vec<usize> = Vec::new();
        let mut ok = true;
        // Iterative DFS keeping the current path, so a cycle can be printed.
        fn visit(
            at: usize,
            draft: &TreeDraft,
            colour: &mut [u8],
            path: &mut Vec<usize>,
            cycles: &mut Vec<(usize, usize, usize)>,
        ) {
            colour[at] = 1;
            path.push(at);
            for (route, (_, target)) in draft.nodes[at].kind.routes().into_iter().enumerate() {
                if let ir::Target::Node(next) = target {
                    let next = next as usize;
                    match colour[next] {
                        0 => visit(next, draft, colour, path, cycles),
                        1 => cycles.push((at, route, next)),
                        _ => {}
                    }
                }
            }
            path.pop();
            colour[at] = 2;
        }
        let mut cycles = Vec::new();
        visit(0, draft, &mut colour, &mut path, &mut cycles);
        for (from, route, to) in cycles {
            ok = false;
            let span = route_spans[from]
                .get(route)
                .copied()
                .flatten()
                .unwrap_or(draft.spans[from]);
            self.push(
                Diagnostic::new(Code::TreeCycle, span, format!("tree `{}` loops: `{}` routes back to `{}`", tree_id.value, draft.nodes[from].id, draft.nodes[to].id))
                    .label("routes back")
                    .with(draft.spans[to], "loop starts here")
                    .help("routes must lead forward to an award; route this outcome to a fallback node or to `award`"),
            );
        }
        for (at, c) in colour.iter().enumerate() {
            if *c == 0 {
                ok = false;
                // An unreachable stock node is the dangerous case: the award is issued unchecked.
                let label = match draft.nodes[at].kind {
                    ir::NodeKind::Stock { .. } => "unreachable: stock is never checked",
                    _ => "unreachable",
                };
                self.push(
                    Diagnostic::new(Code::UnreachableNode, draft.spans[at], format!("node `{}` of tree `{}` can never be reached", draft.nodes[at].id, tree_id.value))
                        .label(label)
                        .help("no route leads here: route an earlier node's outcome to it, or remove it (a fallback is only entered through a route)"),
                );
            }
        }
        ok
    }

    // ---- pool ---------------------------------------------------------------------

    #[allow(clippy::type_complexity)]
    fn pool(
        &mut self,
        trees: &[TreeDraft],
    ) -> (
        Vec<ir::PoolEntry>,
        Option<DrawTable>,
        Vec<(String, TreeDraft)>,
    ) {
        let f = self.f;
        let mut entries = Vec::new();
        let mut extra = Vec::new();
        let mut ok = true;
        if f.pool.is_empty() && !self.d.incomplete.contains("pool") {
            let span = self.d.pool_key.unwrap_or(f.campaign.span);
            self.push(
                Diagnostic::new(Code::EmptyPool, span, "the pool has no awards")
                    .label("no entries")
                    .help("add entries under `pool:`, e.g. `- { award: points, rate: 100% }`"),
            );
            return (entries, None, extra);
        }
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut sum = Decimal::ZERO;
        let mut scale = 0;
        for entry in &f.pool {
            let e = &entry.value;
            if let Some(first) = seen.get(e.award.value.as_str()) {
                let first = *first;
                self.push(
                    Diagnostic::new(
                        Code::DuplicateId,
                        e.award.span,
                        format!("award `{}` is in the pool twice", e.award.value),
                    )
                    .label("second entry")
                    .with(first, "first entry")
                    .help("one entry per award: merge the two rates into one entry"),
                );
                ok = false;
                continue;
            }
            seen.insert(e.award.value.as_str(), e.award.span);
            let rate = e.rate.value.0;
            if rate <= Decimal::ZERO || rate > Decimal::ONE {
                self.push(
                    Diagnostic::new(
                        Code::RateRange,
                        e.rate.span,
                        format!(
                            "a rate must be above 0 and at most 1, found {}",
                            rate.normalize()
                        ),
                    )
                    .label("out of range")
                    .help(if rate > Decimal::ONE {
                        "a rate is the share of all draws: at most 1, or `100%`"
                    } else {
                        "to leave an award out, remove its entry"
                    }),
                );
                ok = false;
            }
            if rate.normalize().scale() > MAX_RATE_SCALE {
                self.push(
                    Diagnostic::new(
                        Code::RatePrecision,
                        e.rate.span,
                        format!(
                            "the rate {rate} has {} fractional digits; draws are exact to {MAX_RATE_SCALE}",
                            rate.normalize().scale()
                        ),
                    )
                    .label("too precise")
                    .help("round the rate to 18 digits: that is one draw in a quintillion"),
                );
                ok = false;
            }
            sum += rate;
            scale = scale.max(rate.normalize().scale());
            let award = self.award_ref(&e.award, "the pool");
            let tree = match &e.tree {
                Some(tree) => match f.trees.0.iter().position(|(id, _)| id.value == tree.value) {
                    Some(index) => {
                        self.used_trees.insert(tree.value.as_str());
                        Some(index)
                    }
                    None => {
                        if !self.d.broken_ids.contains(&tree.value)
                            && !self.d.unreadable.contains("trees")
                        {
                            let suggestion = did_you_mean(&tree.value, f.trees.ids());
                            if let Some(meant) = suggestion {
                                self.used_trees.insert(meant);
                            }
                            self.push(
                                Diagnostic::new(
                                    Code::UnknownTree,
                                    tree.span,
                                    format!("tree `{}` is not defined", tree.value),
                                )
                                .label("unknown tree")
                                .help(match suggestion {
                                    Some(name) => format!("did you mean `{name}`?"),
                                    None => "define it under `trees`".into(),
                                }),
                            );
                        }
                        ok = false;
                        continue;
                    }
                },
                None => None,
            };
            let Some(award) = award else {
                ok = false;
                continue;
            };
            self.entry_of_award
                .insert(e.award.value.as_str(), entries.len() as u32);
            let tree_ix = self.entry_stock(entry, tree, trees, &mut extra);
            if tree.is_some() && tree_ix.is_none() {
                ok = false;
            }
            entries.push(ir::PoolEntry {
                award,
                rate,
                stock: e.stock.as_ref().map(|s| s.value),
                tree: tree_ix.flatten(),
            });
        }
        if !self.d.incomplete.contains("pool") && sum != Decimal::ONE && ok {
            let span = self.d.pool_key.unwrap_or(f.campaign.span);
            let mut diagnostic = Diagnostic::new(Code::RatesSum, span, format!("the pool's rates sum to {}, not 1", sum.normalize()))
                .label(format!("these rates sum to {}", sum.normalize()))
                .help(if sum < Decimal::ONE {
                    format!("{} of the draws would have no award: add it to an award, or add an explicit `none` award with that rate", (Decimal::ONE - sum).normalize())
                } else {
                    format!("lower the rates by {} in total", (sum - Decimal::ONE).normalize())
                });
            for entry in &f.pool {
                diagnostic = diagnostic.with(
                    entry.value.rate.span,
                    format!("{}", entry.value.rate.value.0.normalize()),
                );
            }
            self.push(diagnostic);
            ok = false;
        }
        if !ok {
            return (entries, None, extra);
        }
        self.pool_scale = scale;
        self.pool_weights = entries.iter().map(|e| weight(e.rate, scale)).collect();
        let pairs: Vec<(u32, u64)> = self
            .pool_weights
            .iter()
            .enumerate()
            .map(|(i, w)| (i as u32, *w))
            .collect();
        let table = DrawTable::new(&pairs).ok();
        (entries, table, extra)
    }

    /// Stock rules for one pool entry; returns the tree index the entry runs
    /// (an inserted tree when the compiler adds the stock node), or `None` on error.
    fn entry_stock(
        &mut self,
        entry: &'a Sp<PoolEntry>,
        tree: Option<usize>,
        trees: &[TreeDraft],
        extra: &mut Vec<(String, TreeDraft)>,
    ) -> Option<Option<u32>> {
        let f = self.f;
        let e = &entry.value;
        let draft = tree.map(|t| &trees[t]);
        if draft.is_some_and(|d| !d.valid) {
            return None;
        }
        let has_stock_node = draft.is_some_and(|d| {
            d.nodes
                .iter()
                .any(|n| matches!(n.kind, ir::NodeKind::Stock { .. }))
        });
        let unchecked = match draft {
            Some(d) => path_without_stock(d),
            None => Some(Vec::new()),
        };
        match (&e.stock, &e.exhausted) {
            (None, Some(exhausted)) if !self.is_coupon(&e.award.value) => {
                self.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        exhausted.span,
                        "`exhausted` needs `stock`: an award without stock never runs out",
                    )
                    .label("no stock to exhaust")
                    .help("add `stock: N`, or remove `exhausted`"),
                );
                None
            }
            (None, None) if self.is_coupon(&e.award.value) => self.checked_issue(
                e,
                e.award.span,
                "is a coupon (its codes can run out)",
                unchecked,
                tree,
            ),
            (None, None) => {
                if has_stock_node {
                    let tree_id = &f.trees.0[tree.expect("has a tree")].0;
                    self.push(
                        Diagnostic::new(Code::StockWithoutStock, e.award.span, format!("tree `{}` checks stock, but award `{}` has no stock here: it never runs out", tree_id.value, e.award.value))
                            .label("no stock")
                            .with(tree_id.span, "tree with a stock node")
                            .help("add `stock: N` to the pool entry, or use a tree without a stock node"),
                    );
                }
                Some(tree.map(|t| t as u32))
            }
            (_, Some(exhausted)) if has_stock_node => {
                self.push(
                    Diagnostic::new(Code::ConflictingKeys, exhausted.span, "the tree has its own stock node; `exhausted` is for entries whose tree has none")
                        .label("route the stock node instead")
                        .help("remove `exhausted` and route the tree's stock node"),
                );
                None
            }
            (_, Some(exhausted)) => {
                let fallback = self.unlimited_award(exhausted, "`exhausted`")?;
                // Insert a stock node before every issue of the drawn award.
                let mut nodes = draft.map(|d| d.nodes.clone()).unwrap_or_default();
                let stock_at = nodes.len() as u32;
                for node in &mut nodes {
                    retarget(
                        &mut node.kind,
                        ir::Target::Issue,
                        ir::Target::Node(stock_at),
                    );
                }
                nodes.push(ir::Node {
                    id: "stock".into(),
                    kind: ir::NodeKind::Stock {
                        taken: ir::Target::Issue,
                        exhausted: ir::Target::Node(stock_at + 1),
                    },
                });
                nodes.push(ir::Node {
                    id: "exhausted".into(),
                    kind: ir::NodeKind::Fallback {
                        award: fallback,
                        amount: None,
                    },
                });
                // With no tree of its own, `nodes` was empty: the inserted stock node is the entry.
                let name = match tree {
                    Some(t) => format!("{}+stock:{}", f.trees.0[t].0.value, e.award.value),
                    None => format!("stock:{}", e.award.value),
                };
                let spans = vec![entry.span; nodes.len()];
                extra.push((
                    name,
                    TreeDraft {
                        nodes,
                        spans,
                        valid: true,
                    },
                ));
                Some(Some((f.trees.len() + extra.len() - 1) as u32))
            }
            (Some(stock), None) => self.checked_issue(e, stock.span, "has stock", unchecked, tree),
        }
    }

    fn is_coupon(&self, award: &str) -> bool {
        // Through the index: a linear `IdMap::get` per pool entry is quadratic on big pools.
        self.award_index
            .get(award)
            .is_some_and(|&i| self.f.awards.0[i as usize].1.value.kind.value == AwardKind::Coupon)
    }

    /// A limited award must pass a stock node on every path that issues it.
    fn checked_issue(
        &mut self,
        e: &PoolEntry,
        span: Span,
        why: &str,
        unchecked: Option<Vec<String>>,
        tree: Option<usize>,
    ) -> Option<Option<u32>> {
        let Some(path) = unchecked else {
            return Some(tree.map(|t| t as u32));
        };
        let via = if path.is_empty() {
            "directly".to_string()
        } else {
            let path: Vec<String> = path.iter().map(|id| format!("`{id}`")).collect();
            format!("via {}", path.join(" → "))
        };
        self.push(
            Diagnostic::new(Code::UncheckedStock, span, format!("award `{}` {why} but is issued {via} without a stock node", e.award.value))
                .label("stock never checked on that path")
                .help("add a node `- stock: { exhausted: <fallback node> }` to its tree, or add `exhausted: <award>` to this entry so the compiler inserts one"),
        );
        None
    }

    // ---- chain --------------------------------------------------------------------

    fn sub_pool_table(&mut self, pool: &'a Sp<SubPool>, what: &str) -> Option<DrawTable> {
        let mut pairs = Vec::new();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut ok = true;
        let ids: Vec<&'a Id> = match &pool.value {
            SubPool::Awards(ids) => ids.iter().collect(),
            SubPool::Rated(rated) => rated.iter().map(|(id, _)| id).collect(),
        };
        if ids.is_empty() {
            self.push(
                Diagnostic::new(
                    Code::EmptyPool,
                    pool.span,
                    format!("{what} draws from no awards"),
                )
                .label("empty")
                .help("list at least one award of the pool"),
            );
            return None;
        }
        for id in &ids {
            if let Some(first) = seen.get(id.value.as_str()) {
                let first = *first;
                self.push(
                    Diagnostic::new(
                        Code::DuplicateId,
                        id.span,
                        format!("{what} lists `{}` twice", id.value),
                    )
                    .label("again")
                    .with(first, "first here")
                    .help("list each award once"),
                );
                ok = false;
            }
            seen.insert(id.value.as_str(), id.span);
            if self.award_ref(id, what).is_none() {
                ok = false;
                continue;
            }
            if !self.entry_of_award.contains_key(id.value.as_str()) {
                self.push(
                    Diagnostic::new(Code::TierAwardNotInPool, id.span, format!("{what} draws `{}`, which is not in the pool", id.value))
                        .label("not in the pool")
                        .help("tiers and `draw` rules pick from the pool's awards; add it to `pool`, or use `give` for a fixed award"),
                );
                ok = false;
            }
        }
        if !ok || self.pool_weights.is_empty() {
            return None;
        }
        match &pool.value {
            SubPool::Awards(ids) => {
                for id in ids {
                    let entry = self.entry_of_award[id.value.as_str()];
                    pairs.push((entry, self.pool_weights[entry as usize]));
                }
            }
            SubPool::Rated(rated) => {
                let mut sum = Decimal::ZERO;
                let scale = rated
                    .iter()
                    .map(|(_, r)| r.value.0.normalize().scale())
                    .max()
                    .unwrap_or(0);
                for (id, rate) in rated {
                    let r = rate.value.0;
                    if r <= Decimal::ZERO || r > Decimal::ONE {
                        self.push(
                            Diagnostic::new(
                                Code::RateRange,
                                rate.span,
                                format!(
                                    "a rate must be above 0 and at most 1, found {}",
                                    r.normalize()
                                ),
                            )
                            .label("out of range"),
                        );
                        ok = false;
                    }
                    if scale > MAX_RATE_SCALE {
                        self.push(
                            Diagnostic::new(
                                Code::RatePrecision,
                                rate.span,
                                format!("{r} has more than {MAX_RATE_SCALE} fractional digits"),
                            )
                            .label("too precise"),
                        );
                        return None;
                    }
                    sum += r;
                    pairs.push((self.entry_of_award[id.value.as_str()], weight(r, scale)));
                }
                if ok && sum != Decimal::ONE {
                    self.push(
                        Diagnostic::new(Code::TierRatesSum, pool.span, format!("{what} states its own rates, and they sum to {}, not 1", sum.normalize()))
                            .label(format!("these sum to {}", sum.normalize()))
                            .help("make them sum to 1, or list the awards without rates to keep their pool rates, renormalised"),
                    );
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        DrawTable::new(&pairs).ok()
    }

    fn chain(&mut self) -> Option<Vec<ir::ChainRule>> {
        let f = self.f;
        let scope = self.draw_scope();
        let mut rules = Vec::new();
        let mut ids: HashMap<String, Span> = HashMap::new();
        let mut ok = true;
        for (position, rule) in f.before.iter().enumerate() {
            let r = &rule.value;
            let (default_id, id_span) = match (&r.blacklist, &r.weight) {
                (Some(b), _) => ("blacklist".to_string(), b.span),
                (_, Some(w)) => ("weight".to_string(), w.span),
                _ => (
                    format!("rule-{}", position + 1),
                    r.when.as_ref().map_or(rule.span, |w| w.span),
                ),
            };
            let (id, id_span) = match &r.id {
                Some(id) => (id.value.clone(), id.span),
                None => (default_id, id_span),
            };
            if let Some(first) = ids.get(&id) {
                let first = *first;
                self.push(
                    Diagnostic::new(
                        Code::DuplicateId,
                        id_span,
                        format!("two rules in `before` are both called `{id}`"),
                    )
                    .label("second rule")
                    .with(first, "first rule")
                    .help("give one of them an `id:`"),
                );
                ok = false;
            }
            ids.insert(id.clone(), id_span);
            let kind = if let Some(b) = &r.blacklist {
                self.blacklist(b, &scope)
            } else if let Some(w) = &r.weight {
                self.weight(w, &scope)
            } else if let Some(condition) = &r.when {
                let condition = self.program(
                    condition,
                    &scope,
                    Want::Bool,
                    &format!("the condition of rule `{id}`"),
                );
                let outcome = match (&r.give, &r.draw) {
                    (Some(award), _) => self
                        .unlimited_award(award, &format!("rule `{id}`"))
                        .map(ir::RuleOutcome::Give),
                    (_, Some(pool)) => self
                        .sub_pool_table(pool, &format!("rule `{id}`"))
                        .map(ir::RuleOutcome::Draw),
                    _ => None,
                };
                match (condition, outcome) {
                    (Some(condition), Some(outcome)) => {
                        Some(ir::ChainKind::When { condition, outcome })
                    }
                    _ => None,
                }
            } else {
                None
            };
            match kind {
                Some(kind) => rules.push(ir::ChainRule { id, kind }),
                None => ok = false,
            }
        }
        ok.then_some(rules)
    }

    fn blacklist(&mut self, b: &'a Sp<Blacklist>, scope: &Scope) -> Option<ir::ChainKind> {
        let bl = &b.value;
        if bl.users.is_empty() && bl.when.is_none() {
            self.push(
                Diagnostic::new(
                    Code::MissingKey,
                    b.span,
                    "a blacklist needs `users`, `when`, or both",
                )
                .label("lists no one")
                .help("write `users: [user001]` or `when: \"user.tags contains 'fraud'\"`"),
            );
        }
        let mut users = BTreeSet::new();
        for user in &bl.users {
            if !users.insert(user.value.clone()) {
                self.push(
                    Diagnostic::new(
                        Code::DuplicateId,
                        user.span,
                        format!("user `{}` is listed twice", user.value),
                    )
                    .label("again"),
                );
            }
        }
        let condition = match &bl.when {
            Some(e) => Some(self.program(e, scope, Want::Bool, "the blacklist's `when`")?),
            None => None,
        };
        let award = self.unlimited_award(&bl.give, "the blacklist")?;
        Some(ir::ChainKind::Blacklist {
            users,
            condition,
            award,
        })
    }

    fn weight(&mut self, w: &'a Sp<Weight>, scope: &Scope) -> Option<ir::ChainKind> {
        let wt = &w.value;
        let score = match &wt.score {
            Some(e) => self.program(e, scope, Want::Int, "the weight score"),
            None => {
                let default =
                    tombola_grammar::parse("user.draws.total").expect("the default score parses");
                tombola_grammar::check(&default, scope, self.zone).ok()
            }
        };
        let mut tiers = Vec::new();
        let mut previous: Option<&Sp<i64>> = None;
        let mut ok = true;
        if wt.tiers.value.0.is_empty() {
            self.push(
                Diagnostic::new(Code::EmptyPool, wt.tiers.span, "`tiers` lists no tier")
                    .label("empty")
                    .help("write `tiers: { 10: [gpt4], 50: [uses_100] }`"),
            );
            ok = false;
        }
        for (threshold, pool) in &wt.tiers.value.0 {
            if let Some(previous) = previous
                && threshold.value <= previous.value
            {
                self.push(
                    Diagnostic::new(
                        Code::ThresholdOrder,
                        threshold.span,
                        if threshold.value == previous.value {
                            format!("tier threshold {} appears twice", threshold.value)
                        } else {
                            format!(
                                "tier threshold {} does not come after {}",
                                threshold.value, previous.value
                            )
                        },
                    )
                    .label("not increasing")
                    .with(previous.span, "previous threshold")
                    .help("list tiers with strictly increasing thresholds"),
                );
                ok = false;
            }
            previous = Some(threshold);
            match self.sub_pool_table(pool, &format!("tier {}", threshold.value)) {
                Some(table) => tiers.push(ir::Tier {
                    threshold: threshold.value,
                    table,
                }),
                None => ok = false,
            }
        }
        let mode = wt.mode.as_ref().map_or(WeightMode::AtLeast, |m| m.value);
        match (score, ok) {
            (Some(score), true) => Some(ir::ChainKind::Weight {
                score,
                mode: mode.into(),
                tiers,
            }),
            _ => None,
        }
    }

    // ---- SKUs and rebates --------------------------------------------------------

    fn skus(&mut self) -> Option<Vec<ir::Sku>> {
        let f = self.f;
        let mut out = Vec::new();
        let mut ok = true;
        for (id, sku) in f.skus.iter() {
            let s = &sku.value;
            if s.draws.value == 0 {
                self.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        s.draws.span,
                        format!("SKU `{}` grants no draws", id.value),
                    )
                    .label("zero")
                    .help("a SKU grants at least 1 draw"),
                );
                ok = false;
            }
            if let Some(price) = &s.price {
                let p = price.value.0;
                if p.is_sign_negative() && !p.is_zero() {
                    self.push(
                        Diagnostic::new(
                            Code::NegativeAmount,
                            price.span,
                            format!("SKU `{}` has a negative price", id.value),
                        )
                        .label("negative")
                        .help("a price is zero or more credits"),
                    );
                    ok = false;
                } else if p.normalize().scale() > CREDIT_SCALE {
                    self.push(
                        Diagnostic::new(
                            Code::CreditPrecision,
                            price.span,
                            format!("the price {p} has more than 2 fractional digits"),
                        )
                        .label("too precise")
                        .help(format!(
                            "credits are counted in hundredths: write {}",
                            p.round_dp_with_strategy(
                                CREDIT_SCALE,
                                rust_decimal::RoundingStrategy::MidpointAwayFromZero
                            )
                        )),
                    );
                    ok = false;
                }
            }
            out.push(ir::Sku {
                id: id.value.clone(),
                draws: s.draws.value,
                stock: s.stock.as_ref().map(|s| s.value),
                price: s.price.as_ref().map(|p| p.value.0.normalize()),
            });
        }
        ok.then_some(out)
    }

    fn rebates(&mut self) -> Option<Vec<ir::Rebate>> {
        let f = self.f;
        let mut out = Vec::new();
        let mut ids: HashMap<String, Span> = HashMap::new();
        let mut ok = true;
        for (position, rebate) in f.rebates.iter().enumerate() {
            let r = &rebate.value;
            let id = r.id.as_ref().map_or_else(
                || format!("{}-{}", r.on.value, position + 1),
                |id| id.value.clone(),
            );
            let id_span = r.id.as_ref().map_or(r.on.span, |id| id.span);
            if let Some(first) = ids.get(&id) {
                let first = *first;
                self.duplicate("rebate flow", id_span, first, &id);
                ok = false;
            }
            ids.insert(id.clone(), id_span);
            let Some(event) = self.events.iter().position(|e| e.name == r.on.value) else {
                ok = false;
                // A declaration with an error was reported where it is written.
                if self.d.broken_ids.contains(&r.on.value)
                    || self.d.unreadable.contains("events")
                    || self.d.unreadable.contains("inputs")
                {
                    continue;
                }
                let declared: Vec<&str> = self.events.iter().map(|e| e.name.as_str()).collect();
                let suggestion = did_you_mean(&r.on.value, declared.iter().copied());
                self.push(
                    Diagnostic::new(
                        Code::UnknownEvent,
                        r.on.span,
                        format!("event `{}` is not declared", r.on.value),
                    )
                    .label("unknown event")
                    .help(match suggestion {
                        Some(name) => format!("did you mean `{name}`?"),
                        None => format!(
                            "declare it under `inputs.events`, e.g. `{}: {{}}`",
                            r.on.value
                        ),
                    }),
                );
                continue;
            };
            let decl = &self.events[event];
            let scope = Scope::rebate(
                self.user_attributes.clone(),
                decl.name.clone(),
                decl.attributes.clone(),
            );
            let condition = match &r.when {
                Some(e) => match self.program(
                    e,
                    &scope,
                    Want::Bool,
                    &format!("the condition of rebate `{id}`"),
                ) {
                    Some(p) => Some(p),
                    None => {
                        ok = false;
                        None
                    }
                },
                None => None,
            };
            let mut actions = Vec::new();
            for action in &r.give {
                let a = &action.value;
                let compiled = if let Some(sku) = &a.sku {
                    match f.skus.0.iter().position(|(s, _)| s.value == sku.value) {
                        Some(index) => Some(ir::Action::Sku(index as u32)),
                        None => {
                            if !self.d.broken_ids.contains(&sku.value)
                                && !self.d.unreadable.contains("skus")
                            {
                                let suggestion = did_you_mean(&sku.value, f.skus.ids());
                                self.push(
                                    Diagnostic::new(
                                        Code::UnknownSku,
                                        sku.span,
                                        format!("SKU `{}` is not defined", sku.value),
                                    )
                                    .label("unknown SKU")
                                    .help(match suggestion {
                                        Some(name) => format!("did you mean `{name}`?"),
                                        None if f.skus.is_empty() => {
                                            "define it under `skus`".into()
                                        }
                                        None => format!(
                                            "define it under `skus`, or use one of: {}",
                                            f.skus.ids().collect::<Vec<_>>().join(", ")
                                        ),
                                    }),
                                );
                            }
                            None
                        }
                    }
                } else if let Some(credits) = &a.credits {
                    self.program(
                        credits,
                        &scope,
                        Want::Credits,
                        &format!("the credits of rebate `{id}`"),
                    )
                    .map(ir::Action::Credits)
                } else if let Some(award) = &a.award {
                    self.unlimited_award(award, &format!("rebate `{id}`"))
                        .map(ir::Action::Award)
                } else {
                    None
                };
                match compiled {
                    Some(action) => actions.push(action),
                    None => ok = false,
                }
            }
            out.push(ir::Rebate {
                id,
                event: event as u32,
                condition,
                once: r.once.as_ref().map(|o| o.value.into()),
                actions,
            });
        }
        ok.then_some(out)
    }

    fn unused(&mut self) {
        let f = self.f;
        // A dropped entry may have been the one that gives the award or runs the
        // tree; an empty pool is reported on its own.
        let incomplete = |section| self.d.incomplete.contains(section);
        let awards_known = !f.pool.is_empty()
            && !["pool", "before", "trees", "rebates"]
                .into_iter()
                .any(incomplete);
        let trees_known = !incomplete("pool");
        for (id, _) in f.awards.iter() {
            if awards_known && !self.used_awards.contains(id.value.as_str()) {
                self.push(
                    Diagnostic::new(
                        Code::UnusedAward,
                        id.span,
                        format!("award `{}` is never given", id.value),
                    )
                    .label("unused")
                    .help("add it to the pool, a rule, a fallback or a rebate, or remove it"),
                );
            }
        }
        for (id, _) in f.trees.iter() {
            if trees_known
                && !self.used_trees.contains(id.value.as_str())
                && !self.d.broken_ids.contains(&id.value)
            {
                self.push(
                    Diagnostic::new(
                        Code::UnusedTree,
                        id.span,
                        format!("tree `{}` is not used by any pool entry", id.value),
                    )
                    .label("unused")
                    .help("name it in a pool entry's `tree:`, or remove it"),
                );
            }
        }
    }
}

fn kind_name(kind: AwardKind) -> &'static str {
    ir::AwardKind::from(kind).name()
}

/// The first bracket of `text` left open at its end, outside string literals,
/// with its byte offset.
fn unclosed_bracket(text: &str) -> Option<(usize, char)> {
    let mut open: Vec<(usize, char)> = Vec::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' => open.push((at, c)),
            // A stray closer is a different mistake; leave it to the parser.
            ')' | ']' => {
                open.pop()?;
            }
            _ => {}
        }
    }
    open.first().copied()
}

/// `rate · 10^scale` as an integer: exact, since the rate has at most `scale` digits.
fn weight(rate: Decimal, scale: u32) -> u64 {
    let mut scaled = rate.normalize();
    scaled.rescale(scale);
    u64::try_from(scaled.mantissa()).unwrap_or(0)
}

fn node_kinds_present(b: &NodeBody) -> Vec<&'static str> {
    let mut present = Vec::new();
    if b.after.is_some() {
        present.push("`after` (lock)");
    }
    if b.exhausted.is_some() {
        present.push("`exhausted` (stock)");
    }
    if b.condition.is_some() {
        present.push("`if` (condition)");
    }
    if b.fallback.is_some() {
        present.push("`fallback`");
    }
    present
}

fn node_kind(b: &NodeBody) -> Option<&'static str> {
    let kinds = [
        (b.after.is_some(), "lock"),
        (b.exhausted.is_some(), "stock"),
        (b.condition.is_some(), "condition"),
        (b.fallback.is_some(), "fallback"),
    ];
    let mut present = kinds.iter().filter(|(p, _)| *p).map(|(_, k)| *k);
    match (present.next(), present.next()) {
        (Some(kind), None) => Some(kind),
        _ => None,
    }
}

fn body_keys(b: &NodeBody) -> Vec<(&'static str, Span)> {
    let mut keys = Vec::new();
    let mut add = |key: &'static str, span: Option<Span>| {
        if let Some(span) = span {
            keys.push((key, span));
        }
    };
    add("after", b.after.as_ref().map(|v| v.span));
    add("per", b.per.as_ref().map(|v| v.span));
    add("locked", b.locked.as_ref().map(|v| v.span));
    add("exhausted", b.exhausted.as_ref().map(|v| v.span));
    add("if", b.condition.as_ref().map(|v| v.span));
    add("else", b.otherwise.as_ref().map(|v| v.span));
    add("fallback", b.fallback.as_ref().map(|v| v.span));
    add("amount", b.amount.as_ref().map(|v| v.span));
    add("then", b.then.as_ref().map(|v| v.span));
    keys
}

fn outcome_key(outcome: &str) -> &str {
    match outcome {
        "false" => "else",
        other => other,
    }
}

fn retarget(kind: &mut ir::NodeKind, from: ir::Target, to: ir::Target) {
    let swap = |t: &mut ir::Target| {
        if *t == from {
            *t = to;
        }
    };
    match kind {
        ir::NodeKind::Lock {
            unlocked, locked, ..
        } => {
            swap(unlocked);
            swap(locked);
        }
        ir::NodeKind::Stock { taken, exhausted } => {
            swap(taken);
            swap(exhausted);
        }
        ir::NodeKind::Condition {
            then, otherwise, ..
        } => {
            swap(then);
            swap(otherwise);
        }
        ir::NodeKind::Fallback { .. } => {}
    }
}

/// A path from the tree's entry to issuing the drawn award that passes no
/// stock node's `taken` outcome, as node ids; `None` if every issue is stock-checked.
fn path_without_stock(draft: &TreeDraft) -> Option<Vec<String>> {
    fn walk(
        draft: &TreeDraft,
        target: ir::Target,
        path: &mut Vec<String>,
        seen: &mut [bool],
    ) -> bool {
        let ir::Target::Node(at) = target else {
            return true;
        };
        let at = at as usize;
        if seen[at] {
            return false;
        }
        seen[at] = true;
        path.push(draft.nodes[at].id.clone());
        let found = match &draft.nodes[at].kind {
            // Past a successful decrement the award is checked; only `exhausted` goes on unchecked.
            ir::NodeKind::Stock { exhausted, .. } => walk(draft, *exhausted, path, seen),
            ir::NodeKind::Fallback { .. } => false,
            other => other
                .routes()
                .into_iter()
                .any(|(_, t)| walk(draft, t, path, seen)),
        };
        if !found {
            path.pop();
        }
        found
    }
    let mut path = Vec::new();
    let mut seen = vec![false; draft.nodes.len()];
    let entry = if draft.nodes.is_empty() {
        ir::Target::Issue
    } else {
        ir::Target::Node(0)
    };
    walk(draft, entry, &mut path, &mut seen).then_some(path)
}
