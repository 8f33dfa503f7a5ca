//! `tombola lsp`: a Language Server Protocol server over stdio for campaign
//! and scenario files. The answers come from `tombola_dsl::analysis`; this
//! module speaks the protocol: the handshake and its position encoding, the
//! loop with its debounced diagnostics, and a JSON-RPC error, never a crash,
//! for a request it cannot answer.

mod diagnostics;
mod documents;
mod handlers;
mod position;
mod transport;

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use crossbeam_channel::select;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::{Initialize, Request as _, Shutdown};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, CompletionOptions,
    HoverProviderCapability, InitializeParams, InitializeResult, OneOf, RenameOptions,
    ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind,
    WorkDoneProgressOptions,
};

use documents::Documents;
use position::Encoding;

/// How long the server waits after a change before checking the document
/// again: typing stays fluid, and a pause shows the findings.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// Serves one client on stdin and stdout until it says `exit`.
pub(crate) fn run() -> Result<ExitCode> {
    let (connection, threads) = transport::stdio();
    let Some((id, params)) = initialize_request(&connection)? else {
        return Ok(ExitCode::from(1));
    };
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|general| general.position_encodings.as_deref());
    let encoding = Encoding::negotiate(offered);
    let result = InitializeResult {
        capabilities: capabilities(encoding),
        server_info: Some(ServerInfo {
            name: "tombola".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    connection
        .sender
        .send(Response::new_ok(id, result).into())
        .context("the client went away during the handshake")?;
    let code = serve(&connection, encoding)?;
    drop(connection);
    threads
        .join()
        .context("the connection to the client broke")?;
    Ok(code)
}

/// Waits for `initialize`, answering what comes before it as the protocol
/// says: a request with `ServerNotInitialized`, a notification not at all.
/// `None` when the client ends first (stdin closes, or `exit`).
fn initialize_request(connection: &Connection) -> Result<Option<(RequestId, InitializeParams)>> {
    for message in &connection.receiver {
        match message {
            Message::Request(request) if request.method == Initialize::METHOD => {
                match serde_json::from_value::<InitializeParams>(request.params) {
                    Ok(params) => return Ok(Some((request.id, params))),
                    Err(why) => refuse(
                        connection,
                        request.id,
                        ErrorCode::InvalidParams,
                        format!("the initialize request's params are malformed: {why}"),
                    )?,
                }
            }
            Message::Request(request) => refuse(
                connection,
                request.id,
                ErrorCode::ServerNotInitialized,
                format!("`{}` before `initialize`: initialize first", request.method),
            )?,
            Message::Notification(notification)
                if notification.method == lsp_types::notification::Exit::METHOD =>
            {
                return Ok(None);
            }
            Message::Notification(_) | Message::Response(_) => {}
        }
    }
    Ok(None)
}

fn refuse(connection: &Connection, id: RequestId, code: ErrorCode, message: String) -> Result<()> {
    connection
        .sender
        .send(Response::new_err(id, code as i32, message).into())?;
    Ok(())
}

fn capabilities(encoding: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(encoding.kind()),
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        completion_provider: Some(CompletionOptions {
            // `.` opens `user.`, a space or `:` starts a value or an operand.
            trigger_characters: Some(vec![".".into(), " ".into(), ":".into()]),
            ..CompletionOptions::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        document_symbol_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        ..ServerCapabilities::default()
    }
}

/// The loop: requests are answered at once; a changed document is checked
/// once the client has been quiet for [`DEBOUNCE`].
fn serve(connection: &Connection, encoding: Encoding) -> Result<ExitCode> {
    let mut documents = Documents::new(encoding);
    let mut pending: BTreeSet<String> = BTreeSet::new();
    let mut deadline: Option<Instant> = None;
    let mut shut_down = false;
    loop {
        let timer = match deadline {
            Some(at) => crossbeam_channel::at(at),
            None => crossbeam_channel::never(),
        };
        select! {
            recv(connection.receiver) -> message => {
                let Ok(message) = message else {
                    // The client went away without `exit`.
                    return Ok(ExitCode::from(1));
                };
                match message {
                    Message::Request(request) if shut_down => refuse(
                        connection,
                        request.id,
                        ErrorCode::InvalidRequest,
                        format!("`{}` after `shutdown`: only `exit` is left", request.method),
                    )?,
                    Message::Request(request) if request.method == Shutdown::METHOD => {
                        shut_down = true;
                        connection.sender.send(Response::new_ok(request.id, ()).into())?;
                    }
                    Message::Request(request) => {
                        let response = answer(&documents, request);
                        connection.sender.send(Message::Response(response))?;
                    }
                    Message::Notification(notification) => {
                        if notification.method == lsp_types::notification::Exit::METHOD {
                            // `exit` without `shutdown` first: the protocol asks for code 1.
                            return Ok(if shut_down { ExitCode::SUCCESS } else { ExitCode::from(1) });
                        }
                        let closed = documents.apply(notification);
                        if let Some(uri) = closed {
                            pending.remove(&uri);
                            publish(connection, &documents, &uri)?;
                        }
                        if let Some(uri) = documents.take_changed() {
                            pending.insert(uri);
                            deadline = Some(Instant::now() + DEBOUNCE);
                        }
                    }
                    Message::Response(_) => {}
                }
            }
            recv(timer) -> _ => {
                deadline = None;
                for uri in std::mem::take(&mut pending) {
                    publish(connection, &documents, &uri)?;
                }
            }
        }
    }
}

/// The findings of one document (none once it is closed), as a notification.
fn publish(connection: &Connection, documents: &Documents, uri: &str) -> Result<()> {
    let params = diagnostics::publish(documents, uri);
    let notification = Notification::new(
        lsp_types::notification::PublishDiagnostics::METHOD.into(),
        params,
    );
    connection
        .sender
        .send(Message::Notification(notification))?;
    Ok(())
}

/// Answers a request; a handler that fails or panics answers with an error.
fn answer(documents: &Documents, request: Request) -> Response {
    let id = request.id.clone();
    let method = request.method.clone();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        handlers::dispatch(documents, request)
    }));
    match outcome {
        Ok(Ok(value)) => Response::new_ok(id, value),
        Ok(Err(failure)) => Response::new_err(id, failure.code as i32, failure.message),
        Err(_) => Response::new_err(
            id,
            ErrorCode::InternalError as i32,
            format!("tombola lsp failed to answer `{method}`"),
        ),
    }
}

/// Why a request got no answer.
#[derive(Debug)]
pub(crate) struct Failure {
    code: ErrorCode,
    message: String,
}

impl Failure {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
}
