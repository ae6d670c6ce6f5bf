"""A small synchronous LSP client over a `kpidsl lsp` subprocess, for the protocol tests."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class Client:
    """Sends requests and notifications; collects what the server sends back."""

    def __init__(self, debounce: float = 0.0, encodings: list[str] | None = None) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kpidsl", "lsp"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.responses: dict[int, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.next_id = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        general = {"positionEncodings": encodings} if encodings else {}
        self.initialize = self.request("initialize", {
            "processId": os.getpid(), "rootUri": None,
            "capabilities": {"general": general},
            "initializationOptions": {"debounce": debounce}})
        self.notify("initialized", {})
        self.versions: dict[str, int] = {}

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            headers = {}
            while True:
                line = stream.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                key, _, value = line.decode("ascii").partition(":")
                headers[key.strip().lower()] = value.strip()
            body = stream.read(int(headers["content-length"]))
            self.messages.put(json.loads(body))

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body)
        self.process.stdin.flush()

    def _pump(self, timeout: float) -> None:
        message = self.messages.get(timeout=timeout)
        if "id" in message and "method" not in message:
            self.responses[message["id"]] = message
        elif "method" in message:
            self.notifications.append(message)
            if "id" in message:  # a request from the server (e.g. a registration): accept it
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})

    def request(self, method: str, params: Any, timeout: float = 60) -> Any:
        """The result; an error response is returned as {'error': ...}."""
        self.next_id += 1
        ident = self.next_id
        self._send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while ident not in self.responses:
            self._pump(max(0.01, deadline - time.monotonic()))
        response = self.responses.pop(ident)
        return {"error": response["error"]} if "error" in response else response.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def open(self, uri: str, text: str) -> None:
        self.versions[uri] = 1
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "kpi", "version": 1, "text": text}})

    def change(self, uri: str, changes: list[dict[str, Any]]) -> None:
        self.versions[uri] += 1
        self.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": self.versions[uri]},
            "contentChanges": changes})

    def diagnostics(self, uri: str, timeout: float = 60) -> list[dict[str, Any]]:
        """The diagnostics published for the document's current version (waits for them)."""
        deadline = time.monotonic() + timeout
        while True:
            for message in reversed(self.notifications):
                params = message.get("params", {})
                if message["method"] == "textDocument/publishDiagnostics" and \
                        params.get("uri") == uri and params.get("version") == self.versions[uri]:
                    return list(params["diagnostics"])
            self._pump(max(0.01, deadline - time.monotonic()))

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            self.process.wait(timeout=10)
        except Exception:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
