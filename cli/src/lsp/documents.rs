//! The documents the client has open, by URI, with their text as of the last
//! change (full sync: each change sends the whole text).

use std::collections::HashMap;
use std::path::PathBuf;

use lsp_server::{ErrorCode, Notification};
use lsp_types::Uri;
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
};
use tombola_grammar::Span;

use super::Failure;
use super::position::{self, Encoding};

#[derive(Debug)]
pub(crate) struct Document {
    pub(crate) uri: Uri,
    pub(crate) text: String,
    pub(crate) version: i32,
}

impl Document {
    /// A scenario file (`*.test.yaml`), not a campaign.
    pub(crate) fn is_scenario(&self) -> bool {
        // Named as a file is, whatever the URI's scheme (`file:`, `untitled:`…).
        crate::files::is_scenario(std::path::Path::new(self.uri.as_str()))
    }

    /// The file behind a `file:` URI.
    pub(crate) fn path(&self) -> Option<PathBuf> {
        let rest = self.uri.as_str().strip_prefix("file://")?;
        Some(PathBuf::from(percent_decoded(rest)))
    }

    /// The byte offset of a position in the document.
    pub(crate) fn offset(&self, at: lsp_types::Position, encoding: Encoding) -> usize {
        position::offset(&self.text, at, encoding)
    }

    pub(crate) fn range(&self, span: Span, encoding: Encoding) -> lsp_types::Range {
        position::range(&self.text, span, encoding)
    }
}

/// `%20` and the like back to the bytes they stand for.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = text
            .get(at + 1..at + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[at], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                at += 3;
            }
            (byte, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Debug)]
pub(crate) struct Documents {
    pub(crate) encoding: Encoding,
    open: HashMap<String, Document>,
    /// The document the last notification changed, until the loop takes it.
    changed: Option<String>,
}

impl Documents {
    pub(crate) fn new(encoding: Encoding) -> Self {
        Documents {
            encoding,
            open: HashMap::new(),
            changed: None,
        }
    }

    /// Applies an open, change or close; returns the URI a close removed.
    /// Other notifications (and malformed ones) change nothing.
    pub(crate) fn apply(&mut self, notification: Notification) -> Option<String> {
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let params: lsp_types::DidOpenTextDocumentParams =
                    serde_json::from_value(notification.params).ok()?;
                let document = params.text_document;
                self.insert(document.uri, document.text, document.version);
                None
            }
            DidChangeTextDocument::METHOD => {
                let params: lsp_types::DidChangeTextDocumentParams =
                    serde_json::from_value(notification.params).ok()?;
                // Full sync: the last change holds the whole text.
                let text = params.content_changes.into_iter().last()?.text;
                let document = params.text_document;
                self.insert(document.uri, text, document.version);
                None
            }
            DidCloseTextDocument::METHOD => {
                let params: lsp_types::DidCloseTextDocumentParams =
                    serde_json::from_value(notification.params).ok()?;
                let key = params.text_document.uri.as_str().to_string();
                self.open.remove(&key);
                Some(key)
            }
            _ => None,
        }
    }

    fn insert(&mut self, uri: Uri, text: String, version: i32) {
        let key = uri.as_str().to_string();
        self.open
            .insert(key.clone(), Document { uri, text, version });
        self.changed = Some(key);
    }

    pub(crate) fn take_changed(&mut self) -> Option<String> {
        self.changed.take()
    }

    /// The open document `uri`, if it is open.
    pub(crate) fn opened(&self, uri: &str) -> Option<&Document> {
        self.open.get(uri)
    }

    pub(crate) fn get(&self, uri: &Uri) -> Result<&Document, Failure> {
        self.open.get(uri.as_str()).ok_or_else(|| {
            Failure::new(
                ErrorCode::InvalidParams,
                format!("{} is not open", uri.as_str()),
            )
        })
    }

    /// The text of the open document at `path`, if one is.
    pub(crate) fn text_at(&self, path: &std::path::Path) -> Option<&str> {
        self.open
            .values()
            .find(|d| d.path().as_deref() == Some(path))
            .map(|d| d.text.as_str())
    }
}
