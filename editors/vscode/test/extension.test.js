// The extension's own code, run by Node with a stand-in for the `vscode` module (the real
// one exists only inside VS Code) and for the language client (which needs the real one):
// activation must start a client on `kpidsl lsp` for .kpi documents, register the preview
// command that package.json contributes, and the preview must ask the server for the plan
// document and refresh it when the scheme is saved.  Run: node --test test/
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const Module = require("node:module");
const path = require("node:path");

const manifest = require("../package.json");

function stubs(settings = {}) {
  const calls = { clients: [], commands: {}, onSave: [], panels: [], requests: [] };
  const vscode = {
    ViewColumn: { Beside: -2 },
    workspace: {
      getConfiguration: (section) => ({
        get: (key, fallback) => {
          calls.configSection = section;
          return key in settings ? settings[key] : fallback;
        },
      }),
      onDidSaveTextDocument: (listener) => {
        calls.onSave.push(listener);
        return { dispose() {} };
      },
    },
    commands: {
      registerCommand: (name, callback) => {
        calls.commands[name] = callback;
        return { dispose() {} };
      },
    },
    window: {
      activeTextEditor: undefined,
      createWebviewPanel: (viewType, title, showOptions, options) => {
        const panel = {
          viewType, title, showOptions, options, webview: { html: "" }, revealed: 0,
          reveal() { this.revealed += 1; },
          onDidDispose(listener) { this.dispose = listener; },
        };
        calls.panels.push(panel);
        return panel;
      },
    },
  };
  class LanguageClient {
    constructor(id, name, serverOptions, clientOptions) {
      Object.assign(this, { id, name, serverOptions, clientOptions, started: false });
      calls.clients.push(this);
    }
    start() { this.started = true; return Promise.resolve(); }
    stop() { this.stopped = true; return Promise.resolve(); }
    sendRequest(method, params) {
      calls.requests.push({ method, params });
      return Promise.resolve(calls.answer);
    }
  }
  const client = { LanguageClient, TransportKind: { stdio: 0, ipc: 1, pipe: 2, socket: 3 } };
  return { calls, modules: { vscode, "vscode-languageclient/node": client } };
}

// The extension as VS Code loads it: `main` of package.json, with `require` answered by
// the stand-ins for the two modules above.
function load(modules) {
  const entry = require.resolve(path.join(__dirname, "..", manifest.main));
  delete require.cache[entry];
  const original = Module._load;
  Module._load = function (request, parent, isMain) {
    if (Object.prototype.hasOwnProperty.call(modules, request)) {
      return modules[request];
    }
    return original.call(this, request, parent, isMain);
  };
  try {
    return require(entry);
  } finally {
    Module._load = original;
  }
}

const context = () => ({ subscriptions: [] });
const kpiDocument = (file) => ({
  languageId: "kpi",
  uri: { path: `/work/${file}`, toString: () => `file:///work/${file}` },
});

test("activation starts the client on `kpidsl lsp` for kpi documents", () => {
  const { calls, modules } = stubs();
  const extension = load(modules);
  const ctx = context();
  extension.activate(ctx);
  assert.equal(calls.configSection, "kpidsl");
  assert.equal(calls.clients.length, 1);
  const client = calls.clients[0];
  assert.equal(client.id, "kpidsl");
  assert.deepEqual(client.serverOptions, { command: "kpidsl", args: ["lsp"], transport: 0 });
  assert.deepEqual(client.clientOptions.documentSelector, [{ language: "kpi" }]);
  assert.equal(client.started, true);
  // the language the client serves is the one package.json gives .kpi files
  const language = manifest.contributes.languages.find((l) => l.extensions.includes(".kpi"));
  assert.equal(language.id, "kpi");
  // every command the extension registers is contributed, and the other way round
  assert.deepEqual(Object.keys(calls.commands).sort(),
    manifest.contributes.commands.map((c) => c.command).sort());
  assert.equal(ctx.subscriptions.length, 2); // the command and the on-save listener
  assert.equal(calls.onSave.length, 1);
});

test("the settings choose the server's command and arguments", () => {
  const { calls, modules } = stubs({
    "server.command": "/opt/venv/bin/kpidsl", "server.args": ["lsp", "--verbose"],
  });
  load(modules).activate(context());
  const { command, args } = calls.clients[0].serverOptions;
  assert.equal(command, "/opt/venv/bin/kpidsl");
  assert.deepEqual(args, ["lsp", "--verbose"]);
  const properties = manifest.contributes.configuration.properties;
  assert.equal(properties["kpidsl.server.command"].default, "kpidsl");
  assert.deepEqual(properties["kpidsl.server.args"].default, ["lsp"]);
});

test("the preview asks the server for the plan document and refreshes on save", async () => {
  const { calls, modules } = stubs();
  const extension = load(modules);
  extension.activate(context());
  calls.answer = { en: "<html>R&amp;D bonus</html>", ru: "<html>Оклад</html>" };
  const document = kpiDocument("b2b.kpi");
  modules.vscode.window.activeTextEditor = { document };
  calls.commands["kpidsl.showPlanPreview"]();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(calls.panels.length, 1);
  const panel = calls.panels[0];
  assert.equal(panel.title, "Plan: b2b.kpi");
  assert.equal(panel.options.enableScripts, false);
  assert.deepEqual(calls.requests, [{ method: "workspace/executeCommand", params: {
    command: "kpidsl.planDocument", arguments: ["file:///work/b2b.kpi"] } }]);
  // both documents, escaped once more into the attributes of sandboxed frames
  assert.match(panel.webview.html, /<iframe sandbox="" srcdoc="&lt;html&gt;R&amp;amp;D bonus/);
  assert.match(panel.webview.html, /srcdoc="&lt;html&gt;Оклад&lt;\/html&gt;"/);

  calls.answer = { error: "b2b.kpi:3:1: error KPI101: unknown name <x>" };
  calls.onSave[0](document);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(calls.requests.length, 2);
  assert.match(panel.webview.html, /The scheme has errors/);
  assert.match(panel.webview.html, /unknown name &lt;x&gt;/);

  calls.onSave[0](kpiDocument("other.kpi")); // no preview open for it: nothing asked
  calls.commands["kpidsl.showPlanPreview"](); // the same scheme again: the panel is reused
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(calls.panels.length, 1);
  assert.equal(panel.revealed, 1);
  assert.equal(calls.requests.length, 3);
});

test("a document of another language gets no preview; deactivation stops the client", async () => {
  const { calls, modules } = stubs();
  const extension = load(modules);
  extension.activate(context());
  modules.vscode.window.activeTextEditor = { document: { languageId: "python" } };
  calls.commands["kpidsl.showPlanPreview"]();
  assert.equal(calls.panels.length, 0);
  await extension.deactivate();
  assert.equal(calls.clients[0].stopped, true);
});

test("the names the extension takes from vscode-languageclient exist in the pinned version", (t) => {
  let real;
  try {
    real = require("vscode-languageclient/package.json");
  } catch {
    t.skip("node_modules not installed (editors/vscode/build.sh runs npm ci)");
    return;
  }
  assert.equal(real.version, manifest.dependencies["vscode-languageclient"]);
  // its `node` entry needs the real `vscode` module, so its source is read, not loaded
  const fs = require("node:fs");
  const main = require.resolve("vscode-languageclient/lib/node/main.js");
  const source = fs.readFileSync(main, "utf8");
  assert.match(source, /class LanguageClient\b/);
  assert.match(source, /TransportKind\[TransportKind\["stdio"\] = 0\]/);
});
