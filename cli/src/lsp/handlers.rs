//! One handler per request: each turns the protocol's positions into byte
//! offsets, asks `tombola_dsl::analysis`, and turns the answer back.

use std::collections::HashMap;

use lsp_server::{ErrorCode, Request};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, GotoDefinition, HoverRequest,
    PrepareRenameRequest, References, Rename, Request as _,
};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CompletionItem,
    CompletionItemKind, CompletionParams, CompletionResponse, CompletionTextEdit, DocumentSymbol,
    DocumentSymbolParams, DocumentSymbolResponse, Documentation, GotoDefinitionParams,
    GotoDefinitionResponse, Hover, HoverContents, HoverParams, Location, MarkupContent, MarkupKind,
    PrepareRenameResponse, ReferenceParams, RenameParams, SymbolKind, TextDocumentPositionParams,
    TextEdit, WorkspaceEdit,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tombola_dsl::analysis;

use super::documents::{Document, Documents};
use super::{Failure, diagnostics};

/// Answers `request`, or says why it cannot: an unknown method, parameters
/// that do not fit it, a document that is not open, a rename refused.
pub(crate) fn dispatch(
    documents: &Documents,
    request: Request,
) -> Result<serde_json::Value, Failure> {
    let d = documents;
    match request.method.as_str() {
        Completion::METHOD => run(request, |p| completion(d, p)),
        HoverRequest::METHOD => run(request, |p| hover(d, p)),
        GotoDefinition::METHOD => run(request, |p| definition(d, p)),
        References::METHOD => run(request, |p| references(d, p)),
        PrepareRenameRequest::METHOD => run(request, |p| prepare_rename(d, p)),
        Rename::METHOD => run(request, |p| rename(d, p)),
        DocumentSymbolRequest::METHOD => run(request, |p| symbols(d, p)),
        CodeActionRequest::METHOD => run(request, |p| code_actions(d, p)),
        method => Err(Failure::new(
            ErrorCode::MethodNotFound,
            format!("tombola lsp does not handle `{method}`"),
        )),
    }
}

fn run<P: DeserializeOwned, R: Serialize>(
    request: Request,
    handler: impl FnOnce(P) -> Result<R, Failure>,
) -> Result<serde_json::Value, Failure> {
    let params: P = serde_json::from_value(request.params).map_err(|e| {
        Failure::new(
            ErrorCode::InvalidParams,
            format!("invalid parameters for `{}`: {e}", request.method),
        )
    })?;
    let result = handler(params)?;
    serde_json::to_value(result).map_err(|e| Failure::new(ErrorCode::InternalError, e.to_string()))
}

/// The document and the byte offset a position request points at.
fn located<'d>(
    documents: &'d Documents,
    at: &TextDocumentPositionParams,
) -> Result<(&'d Document, usize), Failure> {
    let document = documents.get(&at.text_document.uri)?;
    Ok((document, document.offset(at.position, documents.encoding)))
}

fn completion(d: &Documents, params: CompletionParams) -> Result<CompletionResponse, Failure> {
    let (document, offset) = located(d, &params.text_document_position)?;
    let found = if document.is_scenario() {
        analysis::completion_in(&document.text, offset, &crate::scenario::json_schema())
    } else {
        analysis::completion(&document.text, offset)
    };
    let items = found
        .into_iter()
        .map(|c| CompletionItem {
            kind: Some(item_kind(c.kind)),
            detail: c.detail,
            documentation: c.documentation.map(markdown_doc),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(
                document.range(c.span, d.encoding),
                c.insert,
            ))),
            label: c.label,
            ..CompletionItem::default()
        })
        .collect();
    Ok(CompletionResponse::Array(items))
}

fn item_kind(kind: analysis::CompletionKind) -> CompletionItemKind {
    use analysis::CompletionKind as K;
    match kind {
        K::Key => CompletionItemKind::PROPERTY,
        K::Value => CompletionItemKind::ENUM_MEMBER,
        K::Award | K::Sku => CompletionItemKind::CONSTANT,
        K::Tree | K::Node => CompletionItemKind::MODULE,
        K::Event => CompletionItemKind::EVENT,
        K::Field => CompletionItemKind::FIELD,
        K::Function => CompletionItemKind::FUNCTION,
        _ => CompletionItemKind::TEXT,
    }
}

fn markdown_doc(value: String) -> Documentation {
    Documentation::MarkupContent(MarkupContent {
        kind: MarkupKind::Markdown,
        value,
    })
}

fn hover(d: &Documents, params: HoverParams) -> Result<Option<Hover>, Failure> {
    let (document, offset) = located(d, &params.text_document_position_params)?;
    let found = if document.is_scenario() {
        analysis::hover_in(&document.text, offset, &crate::scenario::json_schema())
    } else {
        analysis::hover(&document.text, offset)
    };
    Ok(found.map(|h| Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: h.markdown,
        }),
        range: Some(document.range(h.span, d.encoding)),
    }))
}

fn definition(
    d: &Documents,
    params: GotoDefinitionParams,
) -> Result<Option<GotoDefinitionResponse>, Failure> {
    let (document, offset) = located(d, &params.text_document_position_params)?;
    let span = analysis::definition(&document.text, offset);
    Ok(span.map(|span| {
        let range = document.range(span, d.encoding);
        GotoDefinitionResponse::Scalar(Location::new(document.uri.clone(), range))
    }))
}

fn references(d: &Documents, params: ReferenceParams) -> Result<Vec<Location>, Failure> {
    let (document, offset) = located(d, &params.text_document_position)?;
    let mut spans = analysis::references(&document.text, offset);
    if !params.context.include_declaration && analysis::definition(&document.text, offset).is_some()
    {
        // The definition comes first.
        spans.remove(0);
    }
    Ok(spans
        .into_iter()
        .map(|span| Location::new(document.uri.clone(), document.range(span, d.encoding)))
        .collect())
}

fn prepare_rename(
    d: &Documents,
    params: TextDocumentPositionParams,
) -> Result<Option<PrepareRenameResponse>, Failure> {
    let (document, offset) = located(d, &params)?;
    let span = analysis::rename_target(&document.text, offset)
        .map_err(|why| Failure::new(ErrorCode::RequestFailed, why))?;
    Ok(Some(PrepareRenameResponse::RangeWithPlaceholder {
        range: document.range(span, d.encoding),
        placeholder: document.text[span.start..span.end].to_string(),
    }))
}

fn rename(d: &Documents, params: RenameParams) -> Result<Option<WorkspaceEdit>, Failure> {
    let (document, offset) = located(d, &params.text_document_position)?;
    let edits = analysis::rename(&document.text, offset, &params.new_name)
        .map_err(|why| Failure::new(ErrorCode::RequestFailed, why))?;
    let edits = edits
        .into_iter()
        .map(|(span, text)| TextEdit::new(document.range(span, d.encoding), text))
        .collect();
    Ok(Some(WorkspaceEdit {
        changes: Some(HashMap::from([(document.uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    }))
}

fn symbols(d: &Documents, params: DocumentSymbolParams) -> Result<DocumentSymbolResponse, Failure> {
    let document = d.get(&params.text_document.uri)?;
    let found = if document.is_scenario() {
        Vec::new()
    } else {
        analysis::symbols(&document.text)
    };
    Ok(DocumentSymbolResponse::Nested(
        found.into_iter().map(|s| symbol(d, document, s)).collect(),
    ))
}

#[allow(deprecated)] // `deprecated` is a field every DocumentSymbol must fill.
fn symbol(d: &Documents, document: &Document, s: analysis::Symbol) -> DocumentSymbol {
    use analysis::SymbolKind as K;
    let kind = match s.kind {
        K::Award | K::Sku => SymbolKind::CONSTANT,
        K::Tree => SymbolKind::CLASS,
        K::Node => SymbolKind::METHOD,
        K::Rule | K::Rebate => SymbolKind::FUNCTION,
        K::Event => SymbolKind::EVENT,
        _ => SymbolKind::OBJECT,
    };
    let children: Vec<DocumentSymbol> = s
        .children
        .into_iter()
        .map(|c| symbol(d, document, c))
        .collect();
    DocumentSymbol {
        name: s.name,
        detail: s.detail,
        kind,
        tags: None,
        deprecated: None,
        range: document.range(s.span, d.encoding),
        selection_range: document.range(s.name_span, d.encoding),
        children: (!children.is_empty()).then_some(children),
    }
}

fn code_actions(
    d: &Documents,
    params: CodeActionParams,
) -> Result<Vec<CodeActionOrCommand>, Failure> {
    let document = d.get(&params.text_document.uri)?;
    if document.is_scenario() {
        return Ok(Vec::new());
    }
    let range = super::position::span(&document.text, params.range, d.encoding);
    Ok(analysis::fixes(&document.text, range)
        .into_iter()
        .filter_map(|diagnostic| {
            let fix = *diagnostic.fix.clone()?;
            let edit = TextEdit::new(document.range(fix.span, d.encoding), fix.text);
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title: fix.title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostics::convert(d, document, &diagnostic)]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(document.uri.clone(), vec![edit])])),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(true),
                ..CodeAction::default()
            }))
        })
        .collect())
}
