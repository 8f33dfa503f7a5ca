// Starts `tombola lsp` for campaign and scenario files. Plain JavaScript, so
// the folder runs as it is checked out: no build step.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

// YAML is everywhere in a workspace; only these files are tombola's, the same
// ones the Neovim snippet (editors/nvim/tombola.lua) picks.
const documentSelector = [
  { scheme: "file", language: "yaml", pattern: "**/campaigns/*.yaml" },
  { scheme: "file", language: "yaml", pattern: "**/*.test.yaml" },
];

/** How to run the server: `<path> lsp`, speaking JSON-RPC on stdin and stdout. */
function serverOptions(path) {
  return { command: path, args: ["lsp"], transport: TransportKind.stdio };
}

let client;

async function activate(context) {
  const path = vscode.workspace.getConfiguration("tombola").get("path", "tombola");
  client = new LanguageClient("tombola", "tombola", serverOptions(path), { documentSelector });
  context.subscriptions.push(client);
  await client.start();
}

function deactivate() {
  return client === undefined ? undefined : client.stop();
}

module.exports = { activate, deactivate, serverOptions, documentSelector };
