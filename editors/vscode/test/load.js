// Loads the extension as VS Code would, by package.json's `main`, with the
// `vscode` module (which only exists inside the editor) replaced by a stub.
"use strict";

const Module = require("node:module");
const path = require("node:path");

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

module.exports = { loadWith, vscodeWith };
