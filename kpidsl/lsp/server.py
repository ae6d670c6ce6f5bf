"""The protocol side: pygls handlers over analysis.py, speaking LSP over stdio.

Diagnostics are published when a scheme is opened and, while it is edited, once the text
has been quiet for `debounce` seconds (0.05 by default; the client may pass
`initializationOptions: {"debounce": 0}`), computed in a worker thread on the unsaved text.
Edits that arrive while a version is being analysed are analysed together, as the newest
text, once it is done. A request (hover, completion ...) on a text newer than the last
analysis analyses it first. While a statement does not parse, its syntax errors are
published with the other statements' diagnostics from the last version that parsed.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from dataclasses import dataclass, field
from typing import Any, cast

from cattrs import Converter
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import default_converter
from pygls.uris import to_fs_path

from .. import __version__
from ..diagnostics import Diagnostic, Severity, sort_key
from .analysis import INCREMENTAL_FROM, Analysis, ParseCache, Place, Symbol, kept_diagnostics
from .completion import complete, diagnostic_place, fix_for
from .positions import from_client, to_client

# Keystrokes closer than this are analysed once; an analysis of 5 000 KPIs after an edit
# takes ~0.1 s, so a longer wait would be most of the latency.
DEBOUNCE = 0.05
PLAN_DOCUMENT = "kpidsl.planDocument"

_SYMBOL_KINDS = {
    "fact": lsp.SymbolKind.Field, "constant": lsp.SymbolKind.Constant,
    "curve": lsp.SymbolKind.Function, "kpi": lsp.SymbolKind.Property,
    "pay": lsp.SymbolKind.Method, "budget": lsp.SymbolKind.Struct,
    "example": lsp.SymbolKind.Event, "grade": lsp.SymbolKind.Namespace,
}
_COMPLETION_KINDS = {
    "keyword": lsp.CompletionItemKind.Keyword, "word": lsp.CompletionItemKind.EnumMember,
    "unit": lsp.CompletionItemKind.Unit, "currency": lsp.CompletionItemKind.Constant,
    "fact": lsp.CompletionItemKind.Field, "constant": lsp.CompletionItemKind.Constant,
    "curve": lsp.CompletionItemKind.Function, "kpi": lsp.CompletionItemKind.Property,
    "pay": lsp.CompletionItemKind.Method, "budget": lsp.CompletionItemKind.Struct,
    "grade": lsp.CompletionItemKind.Module, "example": lsp.CompletionItemKind.Event,
}


@dataclass
class _Document:
    cache: ParseCache = field(default_factory=ParseCache)
    analysis: Analysis | None = None
    pending: asyncio.Task[None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    basis: Analysis | None = None  # the last version published that parsed
    # each diagnostic published, as the JSON sent: most are the same from one edit to the
    # next (500 pool warnings on 5 000 KPIs took ~30 ms to build and serialise every time)
    published: dict[Diagnostic, dict[str, Any]] = field(default_factory=dict)


def _converter() -> Converter:
    """pygls's converter, but diagnostics already made JSON (`_Document.published`) are sent
    as they are."""
    converter = default_converter()

    def published(params: lsp.PublishDiagnosticsParams) -> dict[str, Any]:
        out: dict[str, Any] = {"uri": params.uri, "diagnostics": [
            d if isinstance(d, dict) else converter.unstructure(d, lsp.Diagnostic)
            for d in params.diagnostics]}
        if params.version is not None:
            out["version"] = params.version
        return out

    converter.register_unstructure_hook(lsp.PublishDiagnosticsParams, published)
    return converter


class KpiLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("kpidsl", __version__, converter_factory=_converter)
        self.json = default_converter()  # a diagnostic to the JSON sent
        self.documents: dict[str, _Document] = {}
        self.debounce = DEBOUNCE

    @property
    def encoding(self) -> str:
        kind = self.workspace.position_encoding
        return str(getattr(kind, "value", kind) or "utf-16")

    def analysis(self, uri: str) -> Analysis:
        """The analysis of the document's current text (made now when it is out of date).
        The text is read once the lock is held: edits made while another version was being
        analysed are analysed at once, as the newest text."""
        document = self.documents.setdefault(uri, _Document())
        with document.lock:
            text = self.workspace.get_text_document(uri).source
            if document.analysis is None or document.analysis.text != text:
                document.analysis = Analysis(text, to_fs_path(uri) or uri, document.cache)
            return document.analysis

    # ---- conversions
    def position(self, analysis: Analysis, position: lsp.Position) -> tuple[int, int]:
        line = analysis.source.line_text(position.line + 1)
        return position.line, from_client(line, position.character, self.encoding)

    def range(self, analysis: Analysis, place: Place) -> lsp.Range:
        line = analysis.source.line_text(place.line + 1)
        return lsp.Range(
            lsp.Position(place.line, to_client(line, place.start, self.encoding)),
            lsp.Position(place.line, to_client(line, place.end, self.encoding)))

    def location(self, uri: str, analysis: Analysis, place: Place) -> lsp.Location:
        return lsp.Location(uri, self.range(analysis, place))

    def diagnostic(self, analysis: Analysis, d: Diagnostic) -> lsp.Diagnostic:
        severity = (lsp.DiagnosticSeverity.Error if d.severity is Severity.ERROR
                    else lsp.DiagnosticSeverity.Warning)
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        return lsp.Diagnostic(self.range(analysis, diagnostic_place(d)), message,
                              severity=severity, code=d.code, source="kpidsl",
                              data={"hint": d.hint} if d.hint else None)

    def publish(self, uri: str, analysis: Analysis, version: int | None) -> None:
        document = self.documents.setdefault(uri, _Document())
        shown = analysis.diagnostics
        if not analysis.parses and document.basis is not None:
            shown = sorted([*shown, *kept_diagnostics(document.basis, analysis)], key=sort_key)
        elif analysis.parses:
            document.basis = analysis
        made = document.published
        sent = {d: made.get(d) or self.json.unstructure(self.diagnostic(analysis, d))
                for d in shown}
        document.published = sent
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri, cast(list[lsp.Diagnostic], [sent[d] for d in shown]), version))

    async def refresh(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        analysis = await asyncio.to_thread(self.analysis, uri)
        document = self.workspace.get_text_document(uri)
        if document.source == analysis.text:
            self.publish(uri, analysis, document.version)
        if len(analysis.text) >= INCREMENTAL_FROM:
            # A 5 000-KPI scheme is millions of objects, kept from one version to the next;
            # the collector walking them all took some 100 ms of an edit's 300. Frozen, it
            # walks only what later versions add (what they drop is freed by reference count).
            gc.freeze()


server = KpiLanguageServer()


@server.feature(lsp.INITIALIZE)
def initialize(ls: KpiLanguageServer, params: lsp.InitializeParams) -> None:
    options = params.initialization_options
    if isinstance(options, dict) and isinstance(options.get("debounce"), int | float):
        ls.debounce = max(0.0, float(options["debounce"]))


def _schedule(ls: KpiLanguageServer, uri: str, delay: float) -> None:
    document = ls.documents.setdefault(uri, _Document())
    if document.pending is not None and not document.pending.done():
        document.pending.cancel()
    document.pending = asyncio.get_running_loop().create_task(ls.refresh(uri, delay))


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: KpiLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
    _schedule(ls, params.text_document.uri, 0)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: KpiLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
    _schedule(ls, params.text_document.uri, ls.debounce)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: KpiLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
    document = ls.documents.pop(params.text_document.uri, None)
    if document is not None and document.pending is not None:
        document.pending.cancel()
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
        params.text_document.uri, []))


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: KpiLanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
    analysis = ls.analysis(params.text_document.uri)
    found = analysis.hover(*ls.position(analysis, params.position))
    if found is None:
        return None
    text, place = found
    return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text),
                     ls.range(analysis, place))


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def definition(ls: KpiLanguageServer, params: lsp.DefinitionParams) -> list[lsp.Location]:
    uri = params.text_document.uri
    analysis = ls.analysis(uri)
    occurrence = analysis.occurrence_at(*ls.position(analysis, params.position))
    if occurrence is None:
        return []
    return [ls.location(uri, analysis, s.place) for s in analysis.declarations(occurrence)]


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
def references(ls: KpiLanguageServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    uri = params.text_document.uri
    analysis = ls.analysis(uri)
    occurrence = analysis.occurrence_at(*ls.position(analysis, params.position))
    if occurrence is None:
        return []
    places = analysis.uses(occurrence, params.context.include_declaration)
    return [ls.location(uri, analysis, place) for place in places]


@server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
def prepare_rename(ls: KpiLanguageServer, params: lsp.PrepareRenameParams) -> lsp.Range | None:
    analysis = ls.analysis(params.text_document.uri)
    occurrence = analysis.occurrence_at(*ls.position(analysis, params.position))
    return None if occurrence is None else ls.range(analysis, occurrence.place)


@server.feature(lsp.TEXT_DOCUMENT_RENAME)
def rename(ls: KpiLanguageServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit:
    uri = params.text_document.uri
    analysis = ls.analysis(uri)
    try:
        places = analysis.rename(*ls.position(analysis, params.position), params.new_name)
    except ValueError as exc:
        raise JsonRpcInvalidParams(str(exc)) from None
    edits = [lsp.TextEdit(ls.range(analysis, place), params.new_name) for place in places]
    return lsp.WorkspaceEdit(changes={uri: edits})


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                lsp.CompletionOptions(trigger_characters=[" ", "("]))
def completion(ls: KpiLanguageServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    analysis = ls.analysis(params.text_document.uri)
    items = [lsp.CompletionItem(item.label, kind=_COMPLETION_KINDS.get(item.kind),
                                detail=item.detail or item.kind)
             for item in complete(analysis, *ls.position(analysis, params.position))]
    return lsp.CompletionList(is_incomplete=False, items=items)


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: KpiLanguageServer, params: lsp.DocumentFormattingParams
               ) -> list[lsp.TextEdit] | None:
    from ..diagnostics import KpiError
    from ..formatter import format_source

    analysis = ls.analysis(params.text_document.uri)
    try:
        formatted = format_source(analysis.text, analysis.source.name)
    except KpiError:
        return None  # a scheme with syntax errors is left as it is; the diagnostics say why
    if formatted == analysis.text:
        return []
    lines = analysis.text.split("\n")
    end = lsp.Position(len(lines) - 1, to_client(lines[-1], len(lines[-1]), ls.encoding))
    return [lsp.TextEdit(lsp.Range(lsp.Position(0, 0), end), formatted)]


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbols(ls: KpiLanguageServer, params: lsp.DocumentSymbolParams
                     ) -> list[lsp.DocumentSymbol]:
    analysis = ls.analysis(params.text_document.uri)

    def symbol(s: Symbol, whole: Place, children: list[lsp.DocumentSymbol]) -> lsp.DocumentSymbol:
        last = analysis.source.line_text(whole.end + 1)
        full = lsp.Range(lsp.Position(whole.line, 0),
                         lsp.Position(whole.end, to_client(last, len(last), ls.encoding)))
        selection = ls.range(analysis, s.place)
        return lsp.DocumentSymbol(s.name, _SYMBOL_KINDS[s.kind], full, selection,
                                  detail=f"{s.kind} — {s.node.label}" if s.node.label else s.kind,
                                  children=children or None)

    return [symbol(s, whole, [symbol(c, w, []) for c, w in children])
            for s, whole, children in analysis.outline()]


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
def code_actions(ls: KpiLanguageServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    analysis = ls.analysis(uri)
    first, last = params.range.start.line, params.range.end.line
    out = []
    for d in analysis.diagnostics:
        if not (d.line and first <= d.line - 1 <= last):
            continue
        fix = fix_for(analysis, d)
        if fix is None:
            continue
        edit = lsp.TextEdit(ls.range(analysis, fix.place), fix.new_text)
        out.append(lsp.CodeAction(fix.title, kind=lsp.CodeActionKind.QuickFix,
                                  diagnostics=[ls.diagnostic(analysis, d)], is_preferred=True,
                                  edit=lsp.WorkspaceEdit(changes={uri: [edit]})))
    return out


@server.command(PLAN_DOCUMENT)
def plan_document(ls: KpiLanguageServer, *args: Any) -> dict[str, str]:
    """The plan document of a scheme as HTML in English and Russian (for the preview)."""
    from ..api import loads
    from ..diagnostics import KpiError, render_all
    from ..docs import render_plan

    if not args or not isinstance(args[0], str):
        raise JsonRpcInvalidParams("kpidsl.planDocument takes the document's URI")
    analysis = ls.analysis(args[0])
    started = time.perf_counter()
    try:
        ruleset = loads(analysis.text, analysis.source.name)
    except KpiError as exc:
        return {"error": render_all(exc.diagnostics)}
    out = {lang: render_plan(ruleset, None, lang, "html") for lang in ("en", "ru")}
    out["ms"] = f"{(time.perf_counter() - started) * 1000:.0f}"
    return out


def run() -> None:
    server.start_io()
