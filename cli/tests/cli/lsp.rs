//! `tombola lsp` end to end: the real binary spoken to over JSON-RPC with
//! Content-Length framing on its stdin and stdout, its answers snapshotted.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

/// A campaign with non-ASCII text before the value it gets wrong (`itme`) on
/// the same line (line 8 from 0): "é" is 2 bytes and 1 UTF-16 unit, "🎁" 4
/// bytes and 2 units.
const CAMPAIGN: &str = r#"campaign: cafe
name: Café
window: { from: 2026-03-01, zone: Europe/Paris }
inputs:
  user: { vip: bool, level: int }
awards:
  points: { kind: credits, amount: "random(1, 100)" }
  gpt4: { kind: item, title: GPT-4 }
  gift: { title: Café 🎁, kind: itme }
pool:
  - { award: points, rate: 80% }
  - { award: gpt4, rate: 19%, stock: 100, tree: unlock }
  - { award: gift, rate: 1% }
before:
  - id: vip
    when: user.vip and user.level > 2
    give: points
trees:
  unlock:
    - lock: { after: 3, locked: consolation }
    - stock: { exhausted: consolation }
    - consolation: { fallback: points }
delivery: { webhook: "https://example.com/hook", secret_env: HOOK_SECRET }
"#;

const URI: &str = "file:///work/campaign.yaml";

/// A running `tombola lsp` and what it has said.
struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    /// Notifications read while waiting for a response.
    notifications: Vec<Value>,
    next_id: i64,
}

impl Client {
    /// Starts the server and initializes it, offering UTF-8 positions or not.
    fn start(offer_utf8: bool) -> (Client, Value) {
        let mut client = Client::spawn();
        let encodings = if offer_utf8 {
            json!(["utf-8", "utf-16"])
        } else {
            json!(["utf-16"])
        };
        let result = client.request(
            "initialize",
            json!({ "processId": null, "rootUri": null, "capabilities": { "general": { "positionEncodings": encodings } } }),
        );
        client.notify("initialized", json!({}));
        (client, result)
    }

    /// Starts the server, not yet initialized.
    fn spawn() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tombola"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Client {
            child,
            stdin,
            messages,
            notifications: Vec::new(),
            next_id: 1,
        }
    }

    fn send(&mut self, message: &Value) {
        let body = serde_json::to_string(message).unwrap();
        self.send_raw(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    }

    /// Bytes as they are, framed or not.
    fn send_raw(&mut self, bytes: &str) {
        self.stdin.write_all(bytes.as_bytes()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn next(&mut self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(20))
            .expect("the server answers within 20 s")
    }

    /// The whole response to a request: `result` or `error`.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.next();
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
            self.notifications.push(message);
        }
    }

    /// A request's result; an error fails the test.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.call(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "yaml", "version": 1, "text": text } }),
        );
    }

    fn change(&mut self, uri: &str, version: i32, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }

    /// The next diagnostics published for `uri` of `version`.
    fn diagnostics(&mut self, uri: &str, version: i32) -> Value {
        let wanted = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        };
        if let Some(at) = self.notifications.iter().position(wanted) {
            return self.notifications.remove(at)["params"]["diagnostics"].clone();
        }
        loop {
            let message = self.next();
            if wanted(&message) {
                return message["params"]["diagnostics"].clone();
            }
            self.notifications.push(message);
        }
    }

    /// `shutdown`, then `exit`: the server's exit status.
    fn shutdown(mut self) -> ExitStatus {
        let result = self.request("shutdown", Value::Null);
        assert_eq!(result, Value::Null);
        self.notify("exit", Value::Null);
        wait(&mut self.child)
    }
}

fn wait(child: &mut Child) -> ExitStatus {
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("the server did not exit within 10 s");
}

/// One framed message, or `None` at the end of the stream.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// The position of the `within`-th byte of the first `needle`, in UTF-8 columns
/// (the tests below that use it stay on ASCII lines, where both encodings agree).
fn position(needle: &str, within: usize) -> Value {
    let offset = CAMPAIGN
        .find(needle)
        .expect("the needle is in the campaign")
        + within;
    let line = CAMPAIGN[..offset].matches('\n').count();
    let column = offset - CAMPAIGN[..offset].rfind('\n').map_or(0, |at| at + 1);
    json!({ "line": line, "character": column })
}

fn at(needle: &str, within: usize) -> Value {
    json!({ "textDocument": { "uri": URI }, "position": position(needle, within) })
}

/// A client with the campaign open and its first diagnostics read.
fn opened(offer_utf8: bool) -> (Client, Value) {
    let (mut client, _) = Client::start(offer_utf8);
    client.open(URI, CAMPAIGN);
    let diagnostics = client.diagnostics(URI, 1);
    (client, diagnostics)
}

#[test]
fn lsp_initialize_offers_utf8_only_to_clients_that_do() {
    let (client, mut result) = Client::start(true);
    result["serverInfo"]["version"] = json!("[version]");
    insta::assert_json_snapshot!("lsp_initialize", result);
    assert_eq!(client.shutdown().code(), Some(0));
    let (client, result) = Client::start(false);
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn lsp_diagnostics_count_columns_in_the_negotiated_encoding() {
    let (client, utf8) = opened(true);
    insta::assert_json_snapshot!("lsp_diagnostics", utf8);
    // `  gift: { title: Café 🎁, kind: ` is 31 characters, 35 bytes, 32 UTF-16 units.
    let range = |d: &Value| d[0]["range"].clone();
    assert_eq!(
        range(&utf8),
        json!({ "start": { "line": 8, "character": 35 }, "end": { "line": 8, "character": 39 } })
    );
    client.shutdown();
    let (client, utf16) = opened(false);
    assert_eq!(
        range(&utf16),
        json!({ "start": { "line": 8, "character": 32 }, "end": { "line": 8, "character": 36 } })
    );
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn lsp_completes_keys_ids_fields_and_functions() {
    let (mut client, _) = opened(true);
    let labels = |result: &Value| -> Vec<String> {
        result
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["label"].as_str().unwrap().to_string())
            .collect()
    };
    let key = client.request("textDocument/completion", at("window: {", 9));
    assert_eq!(labels(&key), vec!["to"]);
    insta::assert_json_snapshot!("lsp_completion_key", key);
    let award = client.request("textDocument/completion", at("award: points", 7));
    assert_eq!(labels(&award), vec!["points", "gpt4", "gift"]);
    insta::assert_json_snapshot!("lsp_completion_award", award);
    let fields = client.request("textDocument/completion", at("user.level", 5));
    assert_eq!(
        labels(&fields),
        vec!["id", "credits", "draws", "vip", "level"]
    );
    insta::assert_json_snapshot!("lsp_completion_user", fields);
    let functions = client.request("textDocument/completion", at("random(1, 100)", 1));
    assert_eq!(labels(&functions), vec!["random", "round"]);
    insta::assert_json_snapshot!("lsp_completion_function", functions);
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn lsp_hovers_definitions_references_and_symbols() {
    let (mut client, _) = opened(true);
    let award = client.request("textDocument/hover", at("award: gpt4", 8));
    insta::assert_json_snapshot!("lsp_hover_award", award);
    let function = client.request("textDocument/hover", at("random(1, 100)", 1));
    insta::assert_json_snapshot!("lsp_hover_function", function);
    let field = client.request("textDocument/hover", at("user.level", 6));
    assert!(
        field["contents"]["value"]
            .as_str()
            .unwrap()
            .starts_with("`user.level`: int")
    );
    let definition = client.request("textDocument/definition", at("give: points", 7));
    assert_eq!(
        definition,
        json!({ "uri": URI, "range": { "start": position("points: {", 0), "end": position("points: {", 6) } })
    );
    let references = client.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": URI }, "position": position("fallback: points", 11), "context": { "includeDeclaration": true } }),
    );
    insta::assert_json_snapshot!("lsp_references", references);
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": URI } }),
    );
    insta::assert_json_snapshot!("lsp_symbols", symbols);
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn lsp_renames_an_id_and_refuses_a_taken_name() {
    let (mut client, _) = opened(true);
    let prepared = client.request("textDocument/prepareRename", at("tree: unlock", 7));
    assert_eq!(prepared["placeholder"], "unlock");
    let mut params = at("tree: unlock", 7);
    params["newName"] = json!("gate");
    let edit = client.request("textDocument/rename", params.clone());
    insta::assert_json_snapshot!("lsp_rename", edit);
    let mut taken = at("award: gpt4", 8);
    taken["newName"] = json!("points");
    let refused = client.call("textDocument/rename", taken);
    assert_eq!(refused["error"]["message"], "award `points` already exists");
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn lsp_offers_the_did_you_mean_as_a_quick_fix() {
    let (mut client, diagnostics) = opened(true);
    let params = json!({
        "textDocument": { "uri": URI },
        "range": diagnostics[0]["range"],
        "context": { "diagnostics": diagnostics },
    });
    let actions = client.request("textDocument/codeAction", params);
    insta::assert_json_snapshot!("lsp_code_action", actions);
    assert_eq!(actions[0]["edit"]["changes"][URI][0]["newText"], "item");
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn lsp_keeps_working_on_a_half_typed_document() {
    let (mut client, _) = opened(true);
    let broken = CAMPAIGN.replace(
        "  - { award: gpt4, rate: 19%, stock: 100, tree: unlock }",
        "  - { award: gp",
    );
    client.change(URI, 2, &broken);
    let diagnostics = client.diagnostics(URI, 2);
    assert_eq!(diagnostics[0]["code"], "T0001", "{diagnostics}");
    let line = broken.lines().position(|l| l == "  - { award: gp").unwrap();
    let found = client.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": 15 } }),
    );
    assert_eq!(found[0]["label"], "gpt4", "{found}");
    assert_eq!(
        found[0]["textEdit"]["range"],
        json!({ "start": { "line": line, "character": 13 }, "end": { "line": line, "character": 15 } })
    );
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn lsp_answers_a_malformed_request_with_an_error_and_goes_on() {
    let (mut client, _) = opened(true);
    let malformed = client.call("textDocument/hover", json!({ "nope": 1 }));
    assert_eq!(malformed["error"]["code"], -32602, "{malformed}");
    let unknown = client.call("tombola/nothing", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let not_open = client.call(
        "textDocument/hover",
        json!({ "textDocument": { "uri": "file:///nowhere.yaml" }, "position": { "line": 0, "character": 0 } }),
    );
    assert_eq!(not_open["error"]["code"], -32602, "{not_open}");
    let still = client.request("textDocument/hover", at("random(1, 100)", 1));
    assert!(
        still["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("random(a, b)")
    );
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn lsp_answers_a_frame_that_is_not_a_message_and_goes_on() {
    let (mut client, _) = opened(true);
    client.send_raw("Content-Length: 5\r\n\r\n{nope");
    let not_json = client.next();
    assert_eq!(not_json["error"]["code"], -32700, "{not_json}");
    assert_eq!(not_json["id"], Value::Null, "{not_json}");
    client.send_raw("Content-Type: text/plain\r\n\r\n");
    let no_length = client.next();
    assert_eq!(no_length["error"]["code"], -32700, "{no_length}");
    let body = r#"{"jsonrpc":"2.0","id":41,"params":{}}"#;
    client.send_raw(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let no_method = client.next();
    assert_eq!(no_method["error"]["code"], -32600, "{no_method}");
    assert_eq!(no_method["id"], 41, "{no_method}");
    let still = client.request("textDocument/hover", at("random(1, 100)", 1));
    assert!(still["contents"]["value"].is_string(), "{still}");
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn lsp_skips_a_frame_over_the_limit_without_reading_it_into_memory() {
    let mut client = Client::spawn();
    // What the header claims is never allocated: the server answers and
    // then finds the stream ends inside the frame.
    client.send_raw("Content-Length: 99999999999999\r\n\r\n{}");
    let over = client.next();
    assert_eq!(over["error"]["code"], -32600, "{over}");
    assert!(
        over["error"]["message"]
            .as_str()
            .unwrap()
            .contains("over the limit"),
        "{over}"
    );
    drop(client.stdin);
    let status = wait(&mut client.child);
    assert_eq!(
        status.code(),
        Some(1),
        "ends as a client that left: {status:?}"
    );
}

#[test]
fn lsp_refuses_requests_before_initialize_and_after_shutdown() {
    let mut client = Client::spawn();
    let early = client.call("textDocument/hover", json!({}));
    assert_eq!(early["error"]["code"], -32002, "{early}");
    let message = early["error"]["message"].as_str().unwrap();
    assert_eq!(
        message,
        "`textDocument/hover` before `initialize`: initialize first"
    );
    let bad = client.call("initialize", json!({ "capabilities": 3 }));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    client.request("initialize", json!({ "capabilities": {} }));
    client.notify("initialized", json!({}));
    assert_eq!(client.request("shutdown", Value::Null), Value::Null);
    let late = client.call("textDocument/hover", json!({}));
    assert_eq!(late["error"]["code"], -32600, "{late}");
    client.notify("exit", Value::Null);
    assert_eq!(wait(&mut client.child).code(), Some(0));
}

#[test]
fn lsp_checks_scenario_files_and_completes_their_keys() {
    let dir = super::scratch("lsp-scenario");
    let campaign = std::fs::read_to_string(super::root().join("campaigns/showcase.yaml")).unwrap();
    std::fs::write(dir.join("showcase.yaml"), campaign).unwrap();
    let text = "campaign: showcase.yaml\nscenarios:\n  - name: a typo\n    at: 2026-03-04T10:00:00Z\n    steps:\n      - draw: { user: ann, lands_on: pointz }\n";
    let uri = format!("file://{}", dir.join("showcase.test.yaml").display());
    let (mut client, _) = Client::start(true);
    client.open(&uri, text);
    let diagnostics = client.diagnostics(&uri, 1);
    assert_eq!(diagnostics.as_array().unwrap().len(), 1, "{diagnostics}");
    assert_eq!(
        diagnostics[0]["range"]["start"],
        json!({ "line": 2, "character": 0 })
    );
    let message = diagnostics[0]["message"].as_str().unwrap();
    assert!(
        message.contains("scenario `a typo`") && message.contains("pointz"),
        "{message}"
    );
    let broken = format!("{text}  - name: more\n    se");
    client.change(&uri, 2, &broken);
    let undecoded = client.diagnostics(&uri, 2);
    assert_eq!(undecoded[0]["source"], "tombola test", "{undecoded}");
    let keys = client.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 7, "character": 6 } }),
    );
    assert_eq!(keys[0]["label"], "seed", "{keys}");
    let doc = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 3 } }),
    );
    assert_eq!(
        doc["contents"]["value"],
        "**`campaign`**\n\nThe campaign file, relative to this file."
    );
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn lsp_debounces_a_burst_of_changes_into_one_publish() {
    let (mut client, _) = opened(true);
    let fixed = CAMPAIGN.replace("kind: itme", "kind: item");
    client.change(URI, 2, CAMPAIGN);
    client.change(URI, 3, &CAMPAIGN.replace("kind: itme", "kind: itm"));
    client.change(URI, 4, &fixed);
    assert_eq!(client.diagnostics(URI, 4), json!([]));
    // A request answered after the publish: anything the server had to say is read by now.
    client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": URI } }),
    );
    let earlier: Vec<&Value> = client
        .notifications
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics")
        .collect();
    assert!(
        earlier.is_empty(),
        "published for versions 2 and 3 too: {earlier:?}"
    );
    assert_eq!(client.shutdown().code(), Some(0));
}
