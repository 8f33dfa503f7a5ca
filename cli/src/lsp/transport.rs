//! The frames on stdin and stdout: JSON-RPC messages behind `Content-Length`
//! headers, read with limits. A frame that is not a message is answered with
//! the protocol's error and skipped, so one bad frame never ends the session
//! or makes the server allocate what a header claims.

use std::io::{self, BufRead, Read, Write};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use lsp_server::{Connection, ErrorCode, Message};
use serde_json::{Value, json};

/// The largest message read: a document at the campaign files' limit, with
/// room for the escaping JSON adds to it.
const MAX_MESSAGE: u64 = 3 * tombola_dsl::MAX_FILE_BYTES as u64;

/// The longest header line read; real ones are a few dozen bytes.
const MAX_HEADER_LINE: u64 = 1024;

/// The threads that move frames; joined once the loop is done.
pub(crate) struct Threads {
    reader: JoinHandle<()>,
    writer: JoinHandle<io::Result<()>>,
}

impl Threads {
    /// Waits for the writer to flush what the loop sent. The reader is left
    /// to end with the process: it may be blocked on a client that never closes stdin.
    pub(crate) fn join(self) -> io::Result<()> {
        drop(self.reader);
        self.writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writer panicked")))
    }
}

/// A connection over this process's stdin and stdout.
pub(crate) fn stdio() -> (Connection, Threads) {
    let out = Arc::new(Mutex::new(io::stdout()));
    let (to_client, outgoing) = crossbeam_channel::bounded::<Message>(0);
    let (incoming, from_client) = crossbeam_channel::bounded::<Message>(0);
    let writer = {
        let out = Arc::clone(&out);
        std::thread::spawn(move || write_all(&outgoing, &out))
    };
    let reader = std::thread::spawn(move || read_all(&mut io::stdin().lock(), &incoming, &out));
    let connection = Connection {
        sender: to_client,
        receiver: from_client,
    };
    (connection, Threads { reader, writer })
}

fn write_all(outgoing: &Receiver<Message>, out: &Mutex<io::Stdout>) -> io::Result<()> {
    for message in outgoing {
        let mut out = out.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        message.write(&mut *out)?;
    }
    Ok(())
}

/// Reads frames until stdin ends, handing each message to the loop and
/// answering each bad frame itself.
fn read_all(input: &mut impl BufRead, incoming: &Sender<Message>, out: &Mutex<io::Stdout>) {
    loop {
        let answer = match read_frame(input) {
            Ok(Frame::End) => return,
            Ok(Frame::Message(message)) => {
                if incoming.send(message).is_err() {
                    return;
                }
                continue;
            }
            Ok(Frame::Bad(answer)) => answer,
            Ok(Frame::TooLarge(length)) => {
                // Answered before it is skipped: the client may wait for
                // the answer before sending the rest.
                let answer = too_large(length);
                let mut out = out.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if write_raw(&mut *out, &answer).is_err() {
                    return;
                }
                drop(out);
                if skip(input, length).is_err() {
                    return;
                }
                continue;
            }
            Err(error) => {
                eprintln!("tombola lsp: cannot read from the client: {error}");
                return;
            }
        };
        let mut out = out.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if write_raw(&mut *out, &answer).is_err() {
            return;
        }
    }
}

/// What one frame held.
#[derive(Debug)]
pub(crate) enum Frame {
    End,
    Message(Message),
    /// Not a message: the error response to send back.
    Bad(Value),
    /// A body over the limit, of this many bytes, not yet read: answered,
    /// then skipped unread so the next frame is found where it starts.
    TooLarge(u64),
}

fn too_large(length: u64) -> Value {
    let why = format!("a message of {length} bytes is over the limit of {MAX_MESSAGE} bytes");
    error(None, ErrorCode::InvalidRequest, why)
}

/// Reads past `length` bytes without keeping them.
fn skip(input: &mut impl BufRead, length: u64) -> io::Result<u64> {
    io::copy(&mut input.take(length), &mut io::sink())
}

/// Reads one frame. Only a failure of stdin itself is an error.
pub(crate) fn read_frame(input: &mut impl BufRead) -> io::Result<Frame> {
    let length = match read_headers(input)? {
        Headers::End => return Ok(Frame::End),
        Headers::Malformed(why) => return Ok(Frame::Bad(error(None, ErrorCode::ParseError, why))),
        Headers::Length(length) => length,
    };
    if length > MAX_MESSAGE {
        return Ok(Frame::TooLarge(length));
    }
    let mut body = Vec::with_capacity(length as usize);
    input.take(length).read_to_end(&mut body)?;
    if (body.len() as u64) < length {
        return Ok(Frame::End);
    }
    Ok(parse(&body))
}

/// A frame's body as a message, or the error that says why it is not one.
fn parse(body: &[u8]) -> Frame {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(why) => {
            let why = format!("the message is not JSON: {why}");
            return Frame::Bad(error(None, ErrorCode::ParseError, why));
        }
    };
    let id = value
        .get("id")
        .filter(|id| id.is_string() || id.is_number())
        .cloned();
    match serde_json::from_value::<Message>(value) {
        Ok(message) => Frame::Message(message),
        Err(_) => Frame::Bad(error(
            id,
            ErrorCode::InvalidRequest,
            "the message is not a JSON-RPC request, response or notification".into(),
        )),
    }
}

enum Headers {
    End,
    Length(u64),
    Malformed(String),
}

/// Reads a header block up to its blank line; the block is consumed even
/// when it is malformed, so reading goes on at the next frame.
fn read_headers(input: &mut impl BufRead) -> io::Result<Headers> {
    let mut length: Option<Result<u64, String>> = None;
    let mut malformed: Option<String> = None;
    let mut first = true;
    loop {
        let mut line = Vec::new();
        input.take(MAX_HEADER_LINE).read_until(b'\n', &mut line)?;
        if line.is_empty() {
            return Ok(Headers::End);
        }
        let blank = line == b"\n" || line == b"\r\n";
        if blank && first {
            // Blank lines between frames are tolerated.
            continue;
        }
        if blank {
            break;
        }
        first = false;
        if !line.ends_with(b"\n") {
            // Over-long: skip the rest of the line.
            input.skip_until(b'\n')?;
            malformed.get_or_insert_with(|| "a header line is over 1024 bytes".into());
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                let value = value.trim();
                length =
                    Some(value.parse::<u64>().map_err(|_| {
                        format!("the Content-Length `{value}` is not a number of bytes")
                    }));
            }
            Some(_) => {}
            None => {
                malformed.get_or_insert_with(|| format!("`{text}` is not a header"));
            }
        }
    }
    Ok(match (malformed, length) {
        (Some(why), _) | (None, Some(Err(why))) => Headers::Malformed(why),
        (None, None) => Headers::Malformed("a frame without a Content-Length header".into()),
        (None, Some(Ok(length))) => Headers::Length(length),
    })
}

fn error(id: Option<Value>, code: ErrorCode, message: String) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id.unwrap_or(Value::Null),
        "error": { "code": code as i32, "message": message },
    })
}

fn write_raw(out: &mut impl Write, value: &Value) -> io::Result<()> {
    let text = value.to_string();
    write!(out, "Content-Length: {}\r\n\r\n{text}", text.len())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &str) -> Vec<Frame> {
        let mut input = io::Cursor::new(input.as_bytes().to_vec());
        let mut found = Vec::new();
        loop {
            match read_frame(&mut input).unwrap() {
                Frame::End => return found,
                Frame::TooLarge(length) => {
                    skip(&mut input, length).unwrap();
                    found.push(Frame::Bad(too_large(length)));
                }
                frame => found.push(frame),
            }
        }
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    fn code(frame: &Frame) -> i64 {
        match frame {
            Frame::Bad(value) => value["error"]["code"].as_i64().unwrap(),
            other => panic!("expected a bad frame, got {other:?}"),
        }
    }

    const PING: &str = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;

    #[test]
    fn a_bad_frame_is_answered_and_the_next_one_read() {
        let input = [
            frame("{not json"),
            frame(r#"{"jsonrpc":"2.0","id":7,"params":1}"#),
            "Content-Length: 99999999999\r\n\r\nshort".to_string(),
        ]
        .concat();
        let found = frames(&input);
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(code(&found[0]), ErrorCode::ParseError as i64);
        assert_eq!(code(&found[1]), ErrorCode::InvalidRequest as i64);
        let Frame::Bad(second) = &found[1] else {
            unreachable!()
        };
        assert_eq!(second["id"], 7);
        assert_eq!(code(&found[2]), ErrorCode::InvalidRequest as i64);
    }

    #[test]
    fn malformed_headers_are_skipped_to_the_next_frame() {
        let input = [
            "garbage\r\n\r\n".to_string(),
            "Content-Length: ten\r\n\r\n".to_string(),
            format!("X-Other: 1\r\n{}", frame(PING)),
            format!("{}\r\n\r\n", "y".repeat(5000)),
            frame(PING),
        ]
        .concat();
        let found = frames(&input);
        assert_eq!(found.len(), 5, "{found:?}");
        assert_eq!(code(&found[0]), ErrorCode::ParseError as i64);
        assert_eq!(code(&found[1]), ErrorCode::ParseError as i64);
        assert!(matches!(found[2], Frame::Message(_)));
        assert_eq!(code(&found[3]), ErrorCode::ParseError as i64);
        assert!(matches!(found[4], Frame::Message(_)));
    }
}
