// The extension's entry, its settings and the client it starts, with a stub
// for `vscode` (see load.js).
"use strict";

const assert = require("node:assert/strict");
const test = require("node:test");
const { loadWith, vscodeWith } = require("./load.js");

test("the entry loads with the real client library and runs `tombola lsp` on stdio", () => {
  const { extension, library } = loadWith({ vscode: vscodeWith({}) });
  const { TransportKind } = library;
  assert.equal(typeof library.LanguageClient, "function");
  assert.equal(typeof extension.activate, "function");
  assert.equal(typeof extension.deactivate, "function");
  assert.deepEqual(extension.serverOptions("tombola"), {
    command: "tombola",
    args: ["lsp"],
    transport: TransportKind.stdio,
  });
});

test("activate starts a client for campaign and scenario files with the `tombola.path` setting", async () => {
  const started = [];
  class LanguageClient {
    constructor(id, name, server, client) {
      Object.assign(this, { id, name, server, client });
    }
    async start() {
      started.push(this);
    }
    async stop() {}
  }
  const real = loadWith({ vscode: vscodeWith({}) }).library;
  const { extension } = loadWith({
    vscode: vscodeWith({ "tombola.path": "/opt/tombola/bin/tombola" }),
    "vscode-languageclient/node": { LanguageClient, TransportKind: real.TransportKind },
  });
  const context = { subscriptions: [] };
  await extension.activate(context);

  assert.equal(started.length, 1);
  const [client] = started;
  assert.equal(client.id, "tombola");
  assert.deepEqual(client.server, {
    command: "/opt/tombola/bin/tombola",
    args: ["lsp"],
    transport: real.TransportKind.stdio,
  });
  assert.deepEqual(client.client.documentSelector, [
    { scheme: "file", language: "yaml", pattern: "**/campaigns/*.yaml" },
    { scheme: "file", language: "yaml", pattern: "**/*.test.yaml" },
  ]);
  assert.deepEqual(context.subscriptions, [client]);
});

test("the manifest activates on YAML and declares `tombola.path`, default `tombola`", () => {
  const manifest = require("../package.json");
  assert.ok(manifest.engines.vscode);
  assert.deepEqual(manifest.activationEvents, ["onLanguage:yaml"]);
  assert.equal(manifest.contributes.configuration.properties["tombola.path"].default, "tombola");
});
