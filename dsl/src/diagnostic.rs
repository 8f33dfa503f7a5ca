//! Diagnostics: a stable code, a severity, the exact span, a message, labels
//! and a help line. Shared by the CLI, the API and the tests.

use serde::Serialize;
use tombola_grammar::Span;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A secondary span with its own message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One finding about a campaign file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Byte range in the file.
    pub span: Span,
    /// What the primary span shows.
    pub label: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// A change that resolves the finding, which an editor may apply as it is
    /// (the name a did-you-mean suggests, an amount wrapped in `round`).
    /// Boxed: most diagnostics have none, and every `Result` carrying one stays small.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Box<Fix>>,
}

/// A machine-applicable edit: replace `span` with `text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// What applying it does, as an editor lists it: "replace with `points`".
    pub title: String,
    pub span: Span,
    pub text: String,
}

impl Fix {
    /// Replaces `span` with `text`, titled after the new text.
    pub fn replace(span: Span, text: impl Into<String>) -> Self {
        let text = text.into();
        Fix {
            title: format!("replace with `{text}`"),
            span,
            text,
        }
    }
}

impl Diagnostic {
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            span,
            label: String::new(),
            labels: Vec::new(),
            help: None,
            fix: None,
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    pub fn fix(mut self, fix: Fix) -> Self {
        self.fix = Some(Box::new(fix));
        self
    }

    pub fn maybe_fix(mut self, fix: Option<Fix>) -> Self {
        self.fix = fix.map(Box::new);
        self
    }

    pub fn with(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $name:ident = $code:literal, $severity:ident, $category:literal, $summary:literal; )*) => {
        /// A stable diagnostic code. Codes are allocated in ranges per category
        /// and never reused; see [`Code::ALL`] and docs/language.md.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $name, )*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$name,)*];

            /// The code as printed, e.g. `T0301`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$name => $code,)* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$name => Severity::$severity,)* }
            }

            /// The category of the code's range.
            pub fn category(self) -> &'static str {
                match self { $(Code::$name => $category,)* }
            }

            /// One line on what the code means.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$name => $summary,)* }
            }
        }
    };
}

codes! {
    YamlSyntax = "T0001", Error, "syntax", "the file is not valid YAML";
    Limits = "T0002", Error, "syntax", "the file is too large, too deep, or expands aliases too far";
    UnknownKey = "T0003", Error, "syntax", "a key the campaign format does not have";
    WrongType = "T0004", Error, "syntax", "a value of the wrong type (a list where a map belongs, text where a number belongs…)";
    MissingKey = "T0005", Error, "syntax", "a required key is missing";
    InvalidValue = "T0006", Error, "syntax", "a value outside what the key allows (a malformed id, an unknown option, a negative count…)";
    ConflictingKeys = "T0007", Error, "syntax", "keys that exclude each other appear together";
    NotUtf8 = "T0008", Error, "syntax", "the file is not UTF-8 text";
    ManyDocuments = "T0009", Error, "syntax", "the file holds more than one YAML document";
    ExprSyntax = "T0101", Error, "expression syntax", "an expression that does not parse";
    ExprLimits = "T0102", Error, "expression syntax", "an expression that is too long or nests too deeply";
    UnknownAward = "T0201", Error, "references", "a reference to an award that is not defined";
    UnknownTree = "T0202", Error, "references", "a reference to a tree that is not defined";
    UnknownNode = "T0203", Error, "references", "a route to a node that is not in the tree";
    UnknownSku = "T0204", Error, "references", "a reference to a SKU that is not defined";
    UnknownEvent = "T0205", Error, "references", "a rebate flow on an event that is not declared";
    DuplicateId = "T0206", Error, "references", "two things share one id";
    ReservedName = "T0207", Error, "references", "a name the language reserves";
    UnusedAward = "T0208", Warning, "references", "an award nothing can give";
    UnusedTree = "T0209", Warning, "references", "a tree no pool entry uses";
    RatesSum = "T0301", Error, "probabilities", "the pool's rates do not sum to exactly 1";
    RateRange = "T0302", Error, "probabilities", "a rate that is not above 0 and at most 1";
    TierRatesSum = "T0303", Error, "probabilities", "a tier that states its own rates does not sum them to exactly 1";
    TierAwardNotInPool = "T0304", Error, "probabilities", "a weight tier or `when` rule draws an award that is not in the pool";
    ThresholdOrder = "T0305", Error, "probabilities", "weight tier thresholds are not strictly increasing";
    EmptyPool = "T0306", Error, "probabilities", "a pool or tier with no awards";
    RatePrecision = "T0307", Error, "probabilities", "a rate with more fractional digits than draws can represent exactly (18)";
    TreeCycle = "T0401", Error, "trees", "routes in a tree form a cycle";
    UnreachableNode = "T0402", Error, "trees", "a tree node no path reaches";
    NodeKind = "T0403", Error, "trees", "a tree node that does not say what it does, or says two things";
    UnroutedOutcome = "T0404", Error, "trees", "an outcome with no route: draws ending there would get no award";
    UncheckedStock = "T0405", Error, "trees", "a stocked award issued on a path with no stock node";
    FallbackRunsOut = "T0406", Error, "trees", "a fallback award that can run out (stock or coupon codes)";
    StockWithoutStock = "T0407", Warning, "trees", "a stock node on a path whose award has no stock: it never runs out";
    AmountNotAllowed = "T0408", Error, "trees", "an amount on an award kind that has none";
    WindowOrder = "T0501", Error, "time and caps", "the window ends before it starts";
    UnknownZone = "T0502", Error, "time and caps", "an unknown time zone";
    DayAboveMonth = "T0503", Error, "time and caps", "the per-day cap is above the per-month cap";
    MonthAboveTotal = "T0504", Error, "time and caps", "the per-month (or per-day) cap is above the total cap";
    BadTime = "T0505", Error, "time and caps", "a date or time that is not valid";
    WindowEnded = "T0506", Warning, "time and caps", "the window has already ended (by the clock, or `check --now`)";
    AllowanceAboveCap = "T0507", Warning, "time and caps", "a daily allowance above the per-day cap: some free draws can never be made";
    UnknownName = "T0601", Error, "expressions", "an expression reads a name that is not in scope here";
    TypeMismatch = "T0602", Error, "expressions", "an expression or operand of the wrong type";
    Arity = "T0603", Error, "expressions", "a function called with the wrong number of arguments";
    EmptyRandom = "T0604", Error, "expressions", "`random(a, b)` with `a` above `b`";
    AlwaysFails = "T0605", Error, "expressions", "an expression that fails whenever it runs (division by zero, overflow)";
    NegativeAmount = "T0606", Error, "expressions", "a negative amount, price or cost";
    NonConstantList = "T0607", Error, "expressions", "a list literal whose elements are not constants";
    CreditPrecision = "T0608", Error, "expressions", "a credit amount with more than 2 fractional digits";
    CreditDigits = "T0609", Error, "expressions", "a credit expression that can have more than 2 fractional digits (a division or a fraction of a decimal, not rounded)";
    CreditLimit = "T0610", Error, "expressions", "a credit amount or price that can pass the balance limit of 10^12 credits";
    SecretInFile = "T0701", Error, "delivery and inputs", "a secret written in the file where an environment variable name belongs";
    BadWebhook = "T0702", Error, "delivery and inputs", "a webhook URL that is not http(s)";
    NoDelivery = "T0703", Error, "delivery and inputs", "external awards (items, coupons) without a delivery webhook";
    UnknownType = "T0704", Error, "delivery and inputs", "an input declared with an unknown type";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
