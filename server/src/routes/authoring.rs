//! Language analysis over HTTP, behind the admin token, for the console's
//! editor: a file's diagnostics with its rule graph and declared inputs,
//! completion and hover, all from `tombola_dsl::analysis` (what `tombola lsp`
//! answers), with positions as UTF-16 offsets.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tombola_dsl::analysis;
use tombola_dsl::graph::{Graph, GraphEdge, GraphNode};

use super::Answer;
use crate::auth::Admin;
use crate::extract::AppJson;
use crate::{ApiError, utf16};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourceBody {
    /// A campaign file, or any text.
    source: String,
}

/// A file's findings, its rule graph and the inputs its draws take.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Analysis {
    valid: bool,
    errors: usize,
    warnings: usize,
    /// What `POST /v1/campaigns/validate` answers, each with `from` and `to`,
    /// its span in UTF-16 offsets, and a `fix`'s too.
    #[schema(value_type = Vec<Object>)]
    diagnostics: Vec<Value>,
    /// Findings counted in `errors` and `warnings` but not listed: those past
    /// the first 500, which no editor shows and which would make the answer
    /// many times the file's size.
    omitted: usize,
    /// The chain, the pool and the trees; `null` while the file has errors.
    graph: Option<GraphAnswer>,
    /// The user attributes the file declares (`inputs.user`), for a draw.
    inputs: Vec<InputAnswer>,
}

/// The rule graph. A node's id is the name a draw's step has there
/// (`rule:<id>`, `draw:<award>`, `tree:<tree>/<node>`, `issue:<award>`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct GraphAnswer {
    nodes: Vec<NodeAnswer>,
    edges: Vec<EdgeAnswer>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct NodeAnswer {
    id: String,
    /// `start`, `rule`, `table`, `pool`, `draw`, `lock`, `stock`, `condition`, `fallback` or `issue`.
    kind: String,
    label: String,
    /// Where the file defines it, in UTF-16 offsets; both 0 for a node with no place of its own.
    from: usize,
    to: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EdgeAnswer {
    from: String,
    to: String,
    label: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct InputAnswer {
    name: String,
    /// `int`, `decimal`, `bool`, `string`, `date`, `datetime`, `duration` or
    /// `list<T>`; as written when it names no type.
    r#type: String,
}

/// Checks a campaign file as the editor types it: the diagnostics of
/// `tombola check` with their spans in UTF-16 offsets, the rule graph and the
/// declared draw inputs. Nothing is deployed.
#[utoipa::path(post, path = "/v1/authoring/analyze", tag = "admin",
    request_body = SourceBody,
    security(("admin_token" = [])),
    responses(
        (status = 200, body = Analysis),
        (status = 422, description = "`invalid-body`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn analyze(_: Admin, AppJson(body): AppJson<SourceBody>) -> Answer<Analysis> {
    // Checking a large broken file takes a while: off the threads that answer draws.
    super::off_request_threads(move || analysis_of(&body.source))
        .await
        .map(Json)
}

/// How many findings [`analyze`] lists; the rest are counted.
const MAX_LISTED: usize = 500;

/// [`analyze`]'s answer for `source`.
fn analysis_of(source: &str) -> Analysis {
    let report = tombola_dsl::check_source(source);
    let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
    let lines = tombola_dsl::render::Lines::new(source);
    let offsets = utf16::Offsets::new(source);
    let diagnostics = (listed(&report.diagnostics).into_iter())
        .map(|d| located(&lines, &offsets, d))
        .collect();
    let graph =
        (report.campaign.as_ref()).map(|c| graph(&offsets, tombola_dsl::graph::data(c, source)));
    let inputs = analysis::draw_inputs(source)
        .into_iter()
        .map(|input| InputAnswer {
            name: input.name,
            r#type: input.ty,
        })
        .collect();
    Analysis {
        valid: errors == 0,
        errors,
        warnings: report.diagnostics.len() - errors,
        omitted: report.diagnostics.len().saturating_sub(MAX_LISTED),
        diagnostics,
        graph,
        inputs,
    }
}

/// The findings [`analyze`] lists, in the report's order: all of them, or
/// past [`MAX_LISTED`] the errors first, so the ones that block a deploy
/// are never the ones left out.
fn listed(diagnostics: &[tombola_dsl::Diagnostic]) -> Vec<&tombola_dsl::Diagnostic> {
    let mut kept: Vec<(usize, &tombola_dsl::Diagnostic)> = diagnostics.iter().enumerate().collect();
    if kept.len() > MAX_LISTED {
        kept.sort_by_key(|(at, d)| (!d.is_error(), *at));
        kept.truncate(MAX_LISTED);
        kept.sort_by_key(|(at, _)| *at);
    }
    kept.into_iter().map(|(_, d)| d).collect()
}

/// A diagnostic as `validate` gives it, with UTF-16 spans added.
fn located(
    lines: &tombola_dsl::render::Lines<'_>,
    offsets: &utf16::Offsets<'_>,
    diagnostic: &tombola_dsl::Diagnostic,
) -> Value {
    let located = tombola_dsl::render::locate("campaign.yaml", lines, diagnostic);
    let mut value = serde_json::to_value(located).unwrap_or_default();
    let (from, to) = offsets.span(diagnostic.span);
    value["from"] = from.into();
    value["to"] = to.into();
    if let Some(fix) = &diagnostic.fix {
        let (from, to) = offsets.span(fix.span);
        value["fix"]["from"] = from.into();
        value["fix"]["to"] = to.into();
    }
    value
}

fn graph(offsets: &utf16::Offsets<'_>, graph: Graph) -> GraphAnswer {
    let node = |node: GraphNode| {
        let (from, to) = offsets.span(node.span);
        let kind = serde_json::to_value(node.kind).unwrap_or_default();
        NodeAnswer {
            id: node.id,
            kind: kind.as_str().unwrap_or_default().to_string(),
            label: node.label,
            from,
            to,
        }
    };
    let edge = |edge: GraphEdge| EdgeAnswer {
        from: edge.from,
        to: edge.to,
        label: edge.label,
    };
    GraphAnswer {
        nodes: graph.nodes.into_iter().map(node).collect(),
        edges: graph.edges.into_iter().map(edge).collect(),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CursorBody {
    source: String,
    /// The cursor, in UTF-16 code units from the start of `source`; one
    /// past the end is the end.
    #[serde(deserialize_with = "crate::input::whole")]
    #[schema(format = Int64, minimum = 0, maximum = 4_294_967_295_u64)]
    offset: u32,
}

impl CursorBody {
    /// The cursor as a byte offset into `source`; past the end is the end.
    fn byte_offset(&self) -> usize {
        utf16::to_byte(
            &self.source,
            usize::try_from(self.offset).unwrap_or(usize::MAX),
        )
    }
}

/// What to type at the cursor.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Completions {
    /// What a completion replaces: the word typed so far, in UTF-16 offsets.
    from: usize,
    to: usize,
    items: Vec<CompletionAnswer>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CompletionAnswer {
    label: String,
    /// `key`, `value`, `award`, `tree`, `node`, `sku`, `event`, `field` or `function`.
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    /// Markdown.
    #[serde(skip_serializing_if = "Option::is_none")]
    documentation: Option<String>,
    /// The text written in place of `from`..`to`.
    insert: String,
}

/// The completions `tombola lsp` offers at the cursor.
#[utoipa::path(post, path = "/v1/authoring/complete", tag = "admin",
    request_body = CursorBody,
    security(("admin_token" = [])),
    responses(
        (status = 200, body = Completions),
        (status = 422, description = "`invalid-body`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn complete(_: Admin, AppJson(body): AppJson<CursorBody>) -> Answer<Completions> {
    let source = &body.source;
    let offset = body.byte_offset();
    let found = analysis::completion(source, offset);
    let at = tombola_grammar::Span::new(offset, offset);
    let (from, to) = utf16::span(source, found.first().map_or(at, |c| c.span));
    let items = found
        .into_iter()
        .map(|c| CompletionAnswer {
            label: c.label,
            kind: serde_json::to_value(c.kind)
                .ok()
                .and_then(|k| k.as_str().map(str::to_string))
                .unwrap_or_default(),
            detail: c.detail,
            documentation: c.documentation,
            insert: c.insert,
        })
        .collect();
    Ok(Json(Completions { from, to, items }))
}

/// What the editor shows over the cursor.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct HoverAnswer {
    markdown: String,
    /// What the text is about, in UTF-16 offsets.
    from: usize,
    to: usize,
}

/// The hover `tombola lsp` shows at the cursor; 204 where there is nothing to show.
#[utoipa::path(post, path = "/v1/authoring/hover", tag = "admin",
    request_body = CursorBody,
    security(("admin_token" = [])),
    responses(
        (status = 200, body = HoverAnswer),
        (status = 204, description = "Nothing to show there"),
        (status = 422, description = "`invalid-body`", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn hover(
    _: Admin,
    AppJson(body): AppJson<CursorBody>,
) -> Result<Response, ApiError> {
    let source = &body.source;
    let offset = body.byte_offset();
    Ok(match analysis::hover(source, offset) {
        Some(hover) => {
            let (from, to) = utf16::span(source, hover.span);
            let markdown = hover.markdown;
            Json(HoverAnswer { markdown, from, to }).into_response()
        }
        None => StatusCode::NO_CONTENT.into_response(),
    })
}
