// The kpidsl extension: the language client that starts `kpidsl lsp`, and a preview of the
// plan document (English and Russian side by side) that refreshes when the scheme is saved.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;
const previews = new Map(); // document URI → webview panel

function activate(context) {
  const config = vscode.workspace.getConfiguration("kpidsl");
  const server = {
    command: config.get("server.command", "kpidsl"),
    args: config.get("server.args", ["lsp"]),
    transport: TransportKind.stdio,
  };
  client = new LanguageClient("kpidsl", "kpidsl", server, {
    documentSelector: [{ language: "kpi" }],
  });
  client.start();

  context.subscriptions.push(
    vscode.commands.registerCommand("kpidsl.showPlanPreview", () => {
      const editor = vscode.window.activeTextEditor;
      if (editor && editor.document.languageId === "kpi") {
        showPreview(editor.document);
      }
    }),
    vscode.workspace.onDidSaveTextDocument((document) => {
      if (previews.has(document.uri.toString())) {
        refresh(document);
      }
    })
  );
}

function showPreview(document) {
  const key = document.uri.toString();
  let panel = previews.get(key);
  if (panel) {
    panel.reveal(vscode.ViewColumn.Beside, true);
  } else {
    panel = vscode.window.createWebviewPanel(
      "kpidslPlan",
      `Plan: ${document.uri.path.split("/").pop()}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: false }
    );
    panel.onDidDispose(() => previews.delete(key));
    previews.set(key, panel);
  }
  refresh(document);
}

async function refresh(document) {
  const panel = previews.get(document.uri.toString());
  if (!panel) {
    return;
  }
  let result;
  try {
    result = await client.sendRequest("workspace/executeCommand", {
      command: "kpidsl.planDocument",
      arguments: [document.uri.toString()],
    });
  } catch (error) {
    result = { error: String(error && error.message ? error.message : error) };
  }
  panel.webview.html = page(result || {});
}

function escape(text) {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

// Both documents in sandboxed frames: each is a complete HTML page with its own styles.
function page(result) {
  const csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src data:;";
  const head = `<meta http-equiv="Content-Security-Policy" content="${csp}">`;
  if (result.error) {
    return `<!DOCTYPE html><html><head>${head}</head><body><h3>The scheme has errors</h3>` +
      `<pre>${escape(result.error)}</pre></body></html>`;
  }
  const frame = (html) =>
    `<iframe sandbox="" srcdoc="${escape(html)}"></iframe>`;
  return `<!DOCTYPE html><html><head>${head}<style>
    body { margin: 0; display: flex; height: 100vh; }
    iframe { flex: 1; border: none; border-left: 1px solid #8884; background: white; }
  </style></head><body>${frame(result.en || "")}${frame(result.ru || "")}</body></html>`;
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
