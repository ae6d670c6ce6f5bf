// Renders a scheme as HTML through the extension's TextMate grammar (vscode-textmate with
// the Oniguruma engine VS Code uses), with diagnostics from `kpidsl check --format json`
// underlined and shown under their line, as an editor shows them. Used for the screenshot
// in docs/editors.md:
//   node render-html.js SCHEME.kpi DIAGNOSTICS.json > page.html
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const COLOURS = [ // a light theme, first matching scope prefix wins
  ["comment", "#6a737d", "italic"],
  ["string", "#0a7d32"],
  ["storage.type", "#a626a4", "bold"],
  ["entity.name", "#005cc5", "bold"],
  ["keyword.other", "#a626a4"],
  ["keyword.operator", "#383a42"],
  ["constant.numeric", "#b35900"],
  ["constant.other.date", "#b35900"],
  ["support.constant.currency", "#0184bc"],
  ["support.type.unit", "#0184bc"],
  ["support.function", "#4078f2"],
  ["constant.language", "#986801"],
];

function style(scopes) {
  for (const scope of [...scopes].reverse()) {
    for (const [prefix, colour, extra] of COLOURS) {
      if (scope.startsWith(prefix)) {
        const weight = extra === "bold" ? "font-weight:600;" : "";
        const italic = extra === "italic" ? "font-style:italic;" : "";
        return `color:${colour};${weight}${italic}`;
      }
    }
  }
  return "";
}

const escape = (text) => text.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]);

async function main() {
  const [schemePath, diagnosticsPath] = process.argv.slice(2);
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async () => vsctm.parseRawGrammar(
      fs.readFileSync(path.join(__dirname, "syntaxes", "kpi.tmLanguage.json"), "utf8"),
      "kpi.tmLanguage.json"),
  });
  const grammar = await registry.loadGrammar("source.kpi");
  const text = fs.readFileSync(schemePath, "utf8").replace(/\n$/, "");
  let found = diagnosticsPath ? JSON.parse(fs.readFileSync(diagnosticsPath, "utf8")) : [];
  found = Array.isArray(found) ? found : found.diagnostics || [];
  let state = vsctm.INITIAL;
  const rows = [];
  text.split("\n").forEach((line, index) => {
    const result = grammar.tokenizeLine(line, state);
    state = result.ruleStack;
    const here = found.filter((d) => d.line === index + 1);
    let html = "";
    for (const token of result.tokens) {
      const piece = line.slice(token.startIndex, token.endIndex);
      let span = `<span style="${style(token.scopes)}">${escape(piece)}</span>`;
      for (const d of here) {
        const start = d.column - 1;
        const end = start + (d.length || 1);
        if (token.startIndex < end && token.endIndex > start && piece.trim()) {
          span = `<span class="${d.severity}">${span}</span>`;
        }
      }
      html += span;
    }
    rows.push(`<div class="line"><span class="gutter">${index + 1}</span>${html || " "}</div>`);
    for (const d of here) {
      const hint = d.hint ? `<div class="hint">hint: ${escape(d.hint)}</div>` : "";
      rows.push(`<div class="message ${d.severity}-box"><b>${d.code}</b> ${escape(d.message)}${hint}</div>`);
    }
  });
  process.stdout.write(`<!DOCTYPE html><html><head><meta charset="utf-8"><style>
  body { margin: 0; background: #fafafa; font: 14px/1.45 "DejaVu Sans Mono", monospace; color: #383a42; }
  .title { font: 13px sans-serif; background: #e8e8e8; padding: 6px 12px; border-bottom: 1px solid #ccc; }
  .code { padding: 8px 0; }
  .line { white-space: pre; }
  .gutter { display: inline-block; width: 3.5em; padding-right: 1em; text-align: right; color: #9d9d9f; }
  .error { text-decoration: underline wavy #e51400; text-underline-offset: 3px; }
  .warning { text-decoration: underline wavy #bf8803; text-underline-offset: 3px; }
  .message { margin: 2px 0 4px 4.5em; padding: 4px 10px; font: 13px sans-serif; border-left: 3px solid; width: fit-content; }
  .error-box { background: #fde8e8; border-color: #e51400; }
  .warning-box { background: #fdf5e0; border-color: #bf8803; }
  .hint { color: #555; }
</style></head><body><div class="title">${escape(path.basename(schemePath))}</div>
<div class="code">${rows.join("\n")}</div></body></html>\n`);
}

main().catch((error) => { console.error(error); process.exit(1); });
