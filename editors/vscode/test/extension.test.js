// Loads the extension as VS Code would, by package.json's `main`, with the
// `vscode` module (which only exists inside the editor) replaced by a stub.
"use strict";

const assert = require("node:assert/strict");
const Module = require("node:module");
const path = require("node:path");
const test = require("node:test");

const root = path.join(__dirname, "..");
const main = path.join(root, require("../package.json").main);

// Any member of the stub is the stub again, callable and extendable, so the
// client library can load (it subclasses vscode's classes as it loads).
const anything = new Proxy(function () {}, {
  get: (target, key) => (key === "prototype" ? target.prototype : key === Symbol.toPrimitive ? undefined : anything),
  apply: () => anything,
  construct: () => anything,
});

/** The extension and the client library it sees, both loaded with `stubs` for those modules. */
function loadWith(stubs) {
  const load = Module._load;
  Module._load = function (request, ...rest) {
    return Object.hasOwn(stubs, request) ? stubs[request] : load.call(this, request, ...rest);
  };
  try {
    for (const key of Object.keys(require.cache)) {
      delete require.cache[key];
    }
    const library = require(require.resolve("vscode-languageclient/node", { paths: [root] }));
    return { extension: require(main), library };
  } finally {
    Module._load = load;
  }
}

function vscodeWith(settings) {
  return new Proxy(
    {
      workspace: {
        getConfiguration: (section) => ({
          get: (key, fallback) => settings[`${section}.${key}`] ?? fallback,
        }),
      },
    },
    { get: (target, key) => (key in target ? target[key] : anything) },
  );
}

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
