// Runs the server the extension would start, with the binary `TOMBOLA` names,
// and talks to it as the language client does: JSON-RPC framed by
// Content-Length headers on stdin and stdout. Without `TOMBOLA` it is skipped,
// unless CI is set: CI builds the binary, so there the test must run.
"use strict";

const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const test = require("node:test");
const { loadWith, vscodeWith } = require("./load.js");

const tombola = process.env.TOMBOLA;
const showcase = path.join(__dirname, "..", "..", "..", "campaigns", "showcase.yaml");

class Connection {
  constructor(child) {
    this.child = child;
    this.buffer = Buffer.alloc(0);
    this.waiting = [];
    this.messages = [];
    this.nextId = 1;
    child.stdout.on("data", (chunk) => this.read(chunk));
  }

  read(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString())[1]);
      if (this.buffer.length < end + 4 + length) return;
      const message = JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString());
      this.buffer = this.buffer.subarray(end + 4 + length);
      this.messages.push(message);
      this.waiting = this.waiting.filter(({ matches, resolve }) => !(matches(message) && (resolve(message), true)));
    }
  }

  send(message) {
    const body = JSON.stringify({ jsonrpc: "2.0", ...message });
    this.child.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  next(matches) {
    const seen = this.messages.find(matches);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiting.push({ matches, resolve }));
  }

  request(method, params) {
    const id = this.nextId++;
    this.send({ id, method, params });
    return this.next((message) => message.id === id);
  }

  notify(method, params) {
    this.send({ method, params });
  }
}

test("the server the extension starts publishes check's diagnostic and completes award ids", {
  skip: !tombola && !process.env.CI && "set TOMBOLA to a tombola binary to run it",
  timeout: 20000,
}, async (t) => {
  const options = loadWith({ vscode: vscodeWith({}) }).extension.serverOptions(tombola);
  const child = spawn(options.command, options.args, { stdio: ["pipe", "pipe", "inherit"] });
  // A failed assertion must not leave the server holding the test's pipes open.
  t.after(() => child.kill());
  const connection = new Connection(child);
  const uri = "file:///project/campaigns/showcase.yaml";
  const text = fs.readFileSync(showcase, "utf8").replace("      give: nothing\n", "      give: nothng\n");
  assert.notEqual(text, fs.readFileSync(showcase, "utf8"), "the misspelling went in");

  const initialized = await connection.request("initialize", { processId: process.pid, rootUri: null, capabilities: {} });
  assert.ok(initialized.result.capabilities.completionProvider);
  connection.notify("initialized", {});
  connection.notify("textDocument/didOpen", { textDocument: { uri, languageId: "yaml", version: 1, text } });

  const published = await connection.next((message) => message.method === "textDocument/publishDiagnostics");
  assert.equal(published.params.uri, uri);
  assert.deepEqual(
    published.params.diagnostics.map((d) => [d.code, d.range.start.line, d.message]),
    [["T0201", text.split("\n").indexOf("      give: nothng"), "the blacklist names award `nothng`, which is not defined\nhelp: did you mean `nothing`?"]],
  );

  const line = text.split("\n").indexOf("    draw: [points, bonus_draws]");
  const completion = await connection.request("textDocument/completion", {
    textDocument: { uri },
    position: { line, character: "    draw: [points, ".length },
  });
  const items = Array.isArray(completion.result) ? completion.result : completion.result.items;
  assert.deepEqual(
    items.map((item) => item.label).sort(),
    ["bonus_draws", "coupon_10", "few_points", "headphones", "nothing", "points"],
  );

  await connection.request("shutdown", null);
  connection.notify("exit", null);
  const code = await new Promise((resolve) => child.on("exit", resolve));
  assert.equal(code, 0);
});
