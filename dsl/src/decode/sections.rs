//! The file's sections, one decoder each: the keys every section takes and
//! the document type it becomes. The primitives they share (maps, ids,
//! numbers, expressions, dates) are in the parent module.

use super::Decoder;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::*;
use crate::yaml::{Kind, Node};

impl Decoder<'_> {
    pub(super) fn campaign_file(&mut self, root: &Node) -> Option<CampaignFile> {
        if matches!(root.kind, Kind::Null) {
            self.push(
                Diagnostic::new(Code::MissingKey, root.span, "the file is empty")
                    .label("expected a campaign")
                    .help("a campaign starts with `campaign: <id>`, `name`, `window`, `awards` and `pool`"),
            );
            return None;
        }
        let mut m = self.map(root, "a campaign file")?;
        let campaign = m
            .required(self, "campaign")
            .and_then(|n| self.id(n, "`campaign`"));
        let name = m
            .required(self, "name")
            .and_then(|n| self.string(n, "`name`"));
        let description = m
            .take("description")
            .and_then(|n| self.string(n, "`description`"));
        let state = m.take("state").and_then(|n| {
            self.choice(
                n,
                "state",
                &[
                    ("draft", InitialState::Draft),
                    ("open", InitialState::Open),
                    ("closed", InitialState::Closed),
                ],
            )
        });
        let window = m.required(self, "window").and_then(|n| self.window(n));
        let allowance = m.take("allowance").and_then(|n| self.allowance(n));
        let quota = m.take("quota").and_then(|n| self.quota(n));
        let inputs = m.take("inputs").and_then(|n| {
            let inputs = self.inputs(n);
            if inputs.is_none() {
                self.unreadable.insert("inputs");
            }
            inputs
        });
        let delivery = m.take("delivery").and_then(|n| self.delivery(n));
        let awards = match m.required(self, "awards") {
            Some(n) => self.id_map(n, "`awards`", "awards", |d, id, body| d.award(id, body)),
            None => {
                self.unreadable.insert("awards");
                IdMap::default()
            }
        };
        let pool = match m.required(self, "pool") {
            Some(n) => self.list(n, "`pool`", "pool", Self::pool_entry),
            None => {
                // Already reported as missing; "the pool has no awards" would repeat it.
                self.incomplete.insert("pool");
                Vec::new()
            }
        };
        let before = match m.take("before") {
            Some(n) => self.list(n, "`before`", "before", Self::chain_rule),
            None => Vec::new(),
        };
        let trees = match m.take("trees") {
            Some(n) => self.id_map(n, "`trees`", "trees", |d, id, body| d.tree(id, body)),
            None => IdMap::default(),
        };
        let skus = match m.take("skus") {
            Some(n) => self.id_map(n, "`skus`", "skus", |d, id, body| d.sku(id, body)),
            None => IdMap::default(),
        };
        let rebates = match m.take("rebates") {
            Some(n) => self.list(n, "`rebates`", "rebates", Self::rebate),
            None => Vec::new(),
        };
        // Editors' schema comment and YAML anchors parked under `x-` keys are allowed.
        let extension_keys: Vec<usize> = m
            .entries
            .iter()
            .enumerate()
            .filter(|(_, (k, _))| matches!(&k.kind, Kind::Str(name) if name.starts_with("x-")))
            .map(|(i, _)| i)
            .collect();
        for i in extension_keys {
            m.used[i] = true;
        }
        m.finish(self);
        // A header key that is missing or broken was reported; the rest of the
        // file is still checked, so a stand-in takes its place.
        let head = self.head(root);
        let window = window.unwrap_or_else(|| {
            self.unreadable.insert("window");
            placeholder_window(head)
        });
        Some(CampaignFile {
            campaign: campaign.unwrap_or_else(|| Sp::new(String::new(), head)),
            name: name.unwrap_or_else(|| Sp::new(String::new(), head)),
            description,
            state,
            window,
            allowance,
            quota,
            inputs,
            delivery,
            awards,
            pool,
            before,
            trees,
            skus,
            rebates,
        })
    }

    fn list<T>(
        &mut self,
        node: &Node,
        what: &str,
        section: &'static str,
        item: fn(&mut Self, &Node) -> Option<T>,
    ) -> Vec<Sp<T>> {
        let Some(items) = self.seq(node, what) else {
            self.incomplete.insert(section);
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for node in items {
            let before = self.errors();
            match item(self, node).filter(|_| self.errors() == before) {
                Some(value) => out.push(Sp::new(value, node.span)),
                None => {
                    self.incomplete.insert(section);
                }
            }
        }
        out
    }

    fn window(&mut self, node: &Node) -> Option<Sp<Window>> {
        let mut m = self.map(node, "`window`")?;
        let from = m
            .required(self, "from")
            .and_then(|n| self.when(n, "`window.from`"));
        let to = m.take("to").and_then(|n| self.when(n, "`window.to`"));
        let zone = m
            .required(self, "zone")
            .and_then(|n| self.string(n, "`window.zone`"));
        m.finish(self);
        Some(Sp::new(
            Window {
                from: from?,
                to,
                zone: zone?,
            },
            node.span,
        ))
    }

    fn allowance(&mut self, node: &Node) -> Option<Sp<Allowance>> {
        // A whole number too large for 128 bits reads as a float.
        let whole = match node.kind {
            Kind::Int(_) => true,
            Kind::Float => super::is_whole_number(self.raw(node)),
            _ => false,
        };
        match node.kind {
            _ if whole => {
                let n = self.uint::<u32>(node, "`allowance`")?;
                Some(Sp::new(Allowance::Campaign(n.value), node.span))
            }
            Kind::Map(_) => {
                let mut m = self.map(node, "`allowance`")?;
                let per_day = m.required(self, "per_day");
                m.finish(self);
                let per_day = per_day?;
                if let Kind::Int(v @ ..=0) = per_day.kind {
                    self.invalid(
                        per_day,
                        format!("`allowance.per_day` must be at least 1, found {v}"),
                        Some("for no free draws, leave `allowance` out".into()),
                    );
                    return None;
                }
                let n = self.uint::<u32>(per_day, "`allowance.per_day`")?;
                Some(Sp::new(Allowance::PerDay(n.value), node.span))
            }
            _ => {
                self.wrong_type(node, "a whole number or `{ per_day: N }`", "`allowance`");
                None
            }
        }
    }

    fn quota(&mut self, node: &Node) -> Option<Sp<Quota>> {
        let mut m = self.map(node, "`quota`")?;
        let total = m.take("total").and_then(|n| self.uint(n, "`quota.total`"));
        let per_day = m
            .take("per_day")
            .and_then(|n| self.uint(n, "`quota.per_day`"));
        let per_month = m
            .take("per_month")
            .and_then(|n| self.uint(n, "`quota.per_month`"));
        m.finish(self);
        Some(Sp::new(
            Quota {
                total,
                per_day,
                per_month,
            },
            node.span,
        ))
    }

    fn type_decl(&mut self, _id: &Id, node: &Node) -> Option<Sp<String>> {
        self.string(node, "an input type")
    }

    fn inputs(&mut self, node: &Node) -> Option<Sp<Inputs>> {
        let mut m = self.map(node, "`inputs`")?;
        let user = match m.take("user") {
            Some(n) => self.id_map(n, "`inputs.user`", "inputs", Self::type_decl),
            None => IdMap::default(),
        };
        let events = match m.take("events") {
            Some(n) => self.id_map(n, "`inputs.events`", "events", |d, _, body| {
                Some(Sp::new(
                    d.id_map(body, "an event's attributes", "inputs", Self::type_decl),
                    body.span,
                ))
            }),
            None => IdMap::default(),
        };
        m.finish(self);
        Some(Sp::new(Inputs { user, events }, node.span))
    }

    fn delivery(&mut self, node: &Node) -> Option<Sp<Delivery>> {
        let mut m = self.map(node, "`delivery`")?;
        let webhook = m
            .required(self, "webhook")
            .and_then(|n| self.string(n, "`delivery.webhook`"));
        if let Some(secret) = m.take("secret") {
            self.push(
                Diagnostic::new(Code::SecretInFile, secret.span, "a signing secret is written in the campaign file")
                    .label("secrets do not belong in files")
                    .help("remove it, put it in an environment variable, and name that variable with `secret_env: MY_WEBHOOK_SECRET`"),
            );
        }
        let secret_env = m
            .required(self, "secret_env")
            .and_then(|n| self.string(n, "`delivery.secret_env`"));
        m.finish(self);
        Some(Sp::new(
            Delivery {
                webhook: webhook?,
                secret_env: secret_env?,
            },
            node.span,
        ))
    }

    fn award(&mut self, id: &Id, node: &Node) -> Option<Sp<Award>> {
        let what = format!("award `{}`", id.value);
        let mut m = self.map(node, &what)?;
        let kind = m.required(self, "kind").and_then(|n| {
            self.choice(
                n,
                "award kind",
                &[
                    ("credits", AwardKind::Credits),
                    ("draws", AwardKind::Draws),
                    ("item", AwardKind::Item),
                    ("coupon", AwardKind::Coupon),
                    ("none", AwardKind::None),
                ],
            )
        });
        let amount = m.take("amount").and_then(|n| self.expr(n, "`amount`"));
        let title = m.take("title").and_then(|n| self.string(n, "`title`"));
        let cost = m.take("cost").and_then(|n| self.amount(n, "`cost`", false));
        m.finish(self);
        Some(Sp::new(
            Award {
                kind: kind?,
                amount,
                title,
                cost,
            },
            node.span,
        ))
    }

    fn pool_entry(&mut self, node: &Node) -> Option<PoolEntry> {
        let mut m = self.map(node, "a pool entry")?;
        let award = m
            .required(self, "award")
            .and_then(|n| self.id(n, "`award`"));
        let rate = m.required(self, "rate").and_then(|n| self.rate(n));
        let stock = m.take("stock").and_then(|n| self.uint(n, "`stock`"));
        let tree = m.take("tree").and_then(|n| self.id(n, "`tree`"));
        let exhausted = m.take("exhausted").and_then(|n| self.id(n, "`exhausted`"));
        m.finish(self);
        Some(PoolEntry {
            award: award?,
            rate: rate?,
            stock,
            tree,
            exhausted,
        })
    }

    fn chain_rule(&mut self, node: &Node) -> Option<ChainRule> {
        let mut m = self.map(node, "a rule in `before`")?;
        let kinds: Vec<&str> = ["blacklist", "weight", "when"]
            .into_iter()
            .filter(|k| m.has(k))
            .collect();
        if kinds.len() != 1 {
            let message = if kinds.is_empty() {
                "a rule in `before` must be one of `blacklist`, `weight` or `when`".to_string()
            } else {
                format!(
                    "a rule in `before` must be one kind, found {}",
                    kinds.join(" and ")
                )
            };
            self.push(
                Diagnostic::new(
                    if kinds.is_empty() {
                        Code::MissingKey
                    } else {
                        Code::ConflictingKeys
                    },
                    self.head(node),
                    message,
                )
                .label("this rule")
                .help(if kinds.is_empty() {
                    "start the rule with `blacklist:`, `weight:` or `when:`"
                } else {
                    "split it into one rule per kind"
                }),
            );
        }
        let id = m.take("id").and_then(|n| self.id(n, "a rule id"));
        let blacklist = m.take("blacklist").and_then(|n| self.blacklist(n));
        let weight = m.take("weight").and_then(|n| self.weight(n));
        let when = m.take("when").and_then(|n| self.expr(n, "`when`"));
        let give = m.take("give").and_then(|n| self.id(n, "`give`"));
        let draw = m.take("draw").and_then(|n| self.sub_pool(n));
        // Judge by the keys written, not by what decoded: a malformed `give` was
        // reported already and is still a `give`.
        let has_when = kinds.contains(&"when");
        let (give_key, draw_key) = (m.key_span("give"), m.key_span("draw"));
        m.finish(self);
        match (give_key, draw_key) {
            (Some(give_key), Some(draw_key)) if has_when => {
                self.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        draw_key,
                        "a `when` rule either gives an award or draws from a sub-pool, not both",
                    )
                    .label("draws from a sub-pool")
                    .with(give_key, "gives an award")
                    .help("keep one of them; to do both, write two rules"),
                );
                return None;
            }
            (None, None) if has_when => {
                self.push(
                    Diagnostic::new(
                        Code::MissingKey,
                        self.head(node),
                        "a `when` rule needs `give` (an award) or `draw` (a sub-pool)",
                    )
                    .label("says when, not what")
                    .help("add `give: <award>` for a fixed award, or `draw: [<award>, …]` to draw from some of the pool's awards"),
                );
                return None;
            }
            // Without any kind the rule was reported above; a stray `give` adds nothing.
            (give_key, draw_key) if !has_when && !kinds.is_empty() => {
                if let Some(key) = draw_key.or(give_key) {
                    self.push(
                        Diagnostic::new(
                            Code::ConflictingKeys,
                            key,
                            "`give` and `draw` belong to `when` rules",
                        )
                        .label("needs a `when`")
                        .help("a blacklist names its award inside: `blacklist: { users: […], give: … }`"),
                    );
                    return None;
                }
            }
            _ => {}
        }
        if kinds.len() != 1 || (blacklist.is_none() && weight.is_none() && when.is_none()) {
            return None;
        }
        Some(ChainRule {
            id,
            blacklist,
            weight,
            when,
            give,
            draw,
        })
    }

    fn blacklist(&mut self, node: &Node) -> Option<Sp<Blacklist>> {
        let mut m = self.map(node, "`blacklist`")?;
        let users = match m.take("users") {
            Some(n) => {
                let items = self.seq(n, "`users`").unwrap_or(&[]);
                items
                    .iter()
                    .filter_map(|n| self.string_or_number(n, "a user id"))
                    .collect()
            }
            None => Vec::new(),
        };
        let when = m.take("when").and_then(|n| self.expr(n, "`when`"));
        let give = m.required(self, "give").and_then(|n| self.id(n, "`give`"));
        m.finish(self);
        Some(Sp::new(
            Blacklist {
                users,
                when,
                give: give?,
            },
            node.span,
        ))
    }

    fn string_or_number(&mut self, node: &Node, what: &str) -> Option<Sp<String>> {
        match self.scalar_text(node) {
            Some(text) => Some(Sp::new(text, node.span)),
            None => {
                self.wrong_type(node, "text", what);
                None
            }
        }
    }

    fn weight(&mut self, node: &Node) -> Option<Sp<Weight>> {
        let mut m = self.map(node, "`weight`")?;
        let score = m.take("score").and_then(|n| self.expr(n, "`score`"));
        let mode = m.take("mode").and_then(|n| {
            self.choice(
                n,
                "weight mode",
                &[
                    ("at_least", WeightMode::AtLeast),
                    ("exactly", WeightMode::Exactly),
                ],
            )
        });
        let tiers = m.required(self, "tiers").and_then(|n| self.tiers(n));
        m.finish(self);
        Some(Sp::new(
            Weight {
                score,
                mode,
                tiers: tiers?,
            },
            node.span,
        ))
    }

    fn tiers(&mut self, node: &Node) -> Option<Sp<Tiers>> {
        let Kind::Map(entries) = &node.kind else {
            self.wrong_type(node, "a map of thresholds to awards", "`tiers`");
            return None;
        };
        let mut tiers = Vec::new();
        let mut ok = true;
        for (key, value) in entries {
            let threshold = match &key.kind {
                Kind::Int(v) => i64::try_from(*v).ok(),
                Kind::Str(text) => text.trim().parse::<i64>().ok(),
                _ => None,
            };
            let Some(threshold) = threshold else {
                self.invalid(
                    key,
                    format!(
                        "a tier threshold must be a whole number, found `{}`",
                        self.raw(key)
                    ),
                    None,
                );
                ok = false;
                continue;
            };
            match self.sub_pool(value) {
                Some(pool) => tiers.push((Sp::new(threshold, key.span), pool)),
                None => ok = false,
            }
        }
        ok.then(|| Sp::new(Tiers(tiers), node.span))
    }

    fn sub_pool(&mut self, node: &Node) -> Option<Sp<SubPool>> {
        match &node.kind {
            Kind::Seq(items) => {
                let ids: Vec<Id> = items
                    .iter()
                    .filter_map(|n| self.id(n, "an award"))
                    .collect();
                (ids.len() == items.len()).then(|| Sp::new(SubPool::Awards(ids), node.span))
            }
            Kind::Map(entries) => {
                let mut rated = Vec::new();
                for (key, value) in entries {
                    if let (Some(id), Some(rate)) = (self.id(key, "an award"), self.rate(value)) {
                        rated.push((id, rate));
                    }
                }
                (rated.len() == entries.len()).then(|| Sp::new(SubPool::Rated(rated), node.span))
            }
            _ => {
                self.wrong_type(
                    node,
                    "a list of awards or a map of awards to rates",
                    "a sub-pool",
                );
                None
            }
        }
    }

    fn tree(&mut self, id: &Id, node: &Node) -> Option<Sp<Vec<Sp<TreeNode>>>> {
        let items = self.seq(node, &format!("tree `{}`", id.value))?;
        let mut nodes = Vec::new();
        let mut ok = true;
        for item in items {
            match self.tree_node(item) {
                Some(n) => nodes.push(Sp::new(n, item.span)),
                None => ok = false,
            }
        }
        ok.then(|| Sp::new(nodes, node.span))
    }

    fn tree_node(&mut self, node: &Node) -> Option<TreeNode> {
        let entries = match &node.kind {
            Kind::Map(entries) if entries.len() == 1 => entries,
            Kind::Map(entries) if entries.len() > 1 => {
                self.push(
                    Diagnostic::new(Code::WrongType, self.head(node), "a tree node is one key, its id, holding the node's body")
                        .label(format!("{} keys here", entries.len()))
                        .help("write `- <node id>: { after: 3, locked: <node> }`; indent the body under the id"),
                );
                return None;
            }
            _ => {
                self.wrong_type(node, "a map `<node id>: { … }`", "a tree node");
                return None;
            }
        };
        let (key, body) = &entries[0];
        let id = self.id(key, "a node id")?;
        let what = format!("node `{}`", id.value);
        let mut m = self.map(body, &what)?;
        let after = m.take("after").and_then(|n| self.uint(n, "`after`"));
        let per = m.take("per").and_then(|n| {
            self.choice(
                n,
                "lock period",
                &[
                    ("total", LockPeriod::Total),
                    ("day", LockPeriod::Day),
                    ("month", LockPeriod::Month),
                ],
            )
        });
        let locked = m.take("locked").and_then(|n| self.id(n, "`locked`"));
        let exhausted = m.take("exhausted").and_then(|n| self.id(n, "`exhausted`"));
        let condition = m.take("if").and_then(|n| self.expr(n, "`if`"));
        let otherwise = m.take("else").and_then(|n| self.id(n, "`else`"));
        let fallback = m.take("fallback").and_then(|n| self.id(n, "`fallback`"));
        let amount = m.take("amount").and_then(|n| self.expr(n, "`amount`"));
        let then = m.take("then").and_then(|n| self.id(n, "`then`"));
        m.finish(self);
        Some(TreeNode {
            id,
            body: Sp::new(
                NodeBody {
                    after,
                    per,
                    locked,
                    exhausted,
                    condition,
                    otherwise,
                    fallback,
                    amount,
                    then,
                },
                body.span,
            ),
        })
    }

    fn sku(&mut self, id: &Id, node: &Node) -> Option<Sp<Sku>> {
        let mut m = self.map(node, &format!("SKU `{}`", id.value))?;
        let draws = m
            .required(self, "draws")
            .and_then(|n| self.uint(n, "`draws`"));
        let stock = m.take("stock").and_then(|n| self.uint(n, "`stock`"));
        let price = m
            .take("price")
            .and_then(|n| self.amount(n, "`price`", true));
        m.finish(self);
        Some(Sp::new(
            Sku {
                draws: draws?,
                stock,
                price,
            },
            node.span,
        ))
    }

    fn rebate(&mut self, node: &Node) -> Option<Rebate> {
        let mut m = self.map(node, "a rebate flow")?;
        let id = m.take("id").and_then(|n| self.id(n, "a rebate id"));
        let on = m.required(self, "on").and_then(|n| self.id(n, "`on`"));
        let when = m.take("when").and_then(|n| self.expr(n, "`when`"));
        let once = m.take("once").and_then(|n| {
            self.choice(
                n,
                "period",
                &[
                    ("per_day", Once::PerDay),
                    ("per_week", Once::PerWeek),
                    ("per_month", Once::PerMonth),
                    ("ever", Once::Ever),
                ],
            )
        });
        let give = match m.required(self, "give") {
            Some(n) => {
                let mut actions = Vec::new();
                let items: Vec<Node> = match &n.kind {
                    Kind::Seq(items) if items.is_empty() => {
                        self.push(
                            Diagnostic::new(Code::MissingKey, n.span, "this rebate flow gives nothing")
                                .label("no actions")
                                .help("list what it gives: `[ { sku: … } ]`, `{ credits: … }` or `{ award: … }`"),
                        );
                        Vec::new()
                    }
                    Kind::Seq(items) => items.clone(),
                    Kind::Map(_) => vec![n.clone()],
                    _ => {
                        self.wrong_type(n, "a list of actions", "`give`");
                        Vec::new()
                    }
                };
                for item in &items {
                    if let Some(action) = self.action(item) {
                        actions.push(Sp::new(action, item.span));
                    }
                }
                if actions.len() != items.len() {
                    return None;
                }
                actions
            }
            None => Vec::new(),
        };
        m.finish(self);
        Some(Rebate {
            id,
            on: on?,
            when,
            once,
            give,
        })
    }

    fn action(&mut self, node: &Node) -> Option<Action> {
        let mut m = self.map(node, "a rebate action")?;
        let present = ["sku", "credits", "award"]
            .iter()
            .filter(|k| m.has(k))
            .count();
        let sku = m.take("sku").and_then(|n| self.id(n, "`sku`"));
        let credits = m.take("credits").and_then(|n| self.expr(n, "`credits`"));
        let award = m.take("award").and_then(|n| self.id(n, "`award`"));
        m.finish(self);
        if present != 1 {
            self.push(
                Diagnostic::new(
                    if present == 0 { Code::MissingKey } else { Code::ConflictingKeys },
                    self.head(node),
                    "an action is exactly one of `sku`, `credits` or `award`",
                )
                .label("this action")
                .help("list several actions as separate items: `give: [ { sku: draw_1 }, { credits: 10 } ]`"),
            );
            return None;
        }
        (sku.is_some() || credits.is_some() || award.is_some()).then_some(Action {
            sku,
            credits,
            award,
        })
    }
}

/// What stands in for a window that could not be read: never lowered, since
/// an error was reported, and never checked (the section is unreadable).
fn placeholder_window(span: tombola_grammar::Span) -> Sp<Window> {
    let epoch = chrono::NaiveDate::default();
    Sp::new(
        Window {
            from: Sp::new(When::Date(epoch), span),
            to: None,
            zone: Sp::new("UTC".to_string(), span),
        },
        span,
    )
}
