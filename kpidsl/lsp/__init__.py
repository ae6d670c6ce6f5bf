"""`kpidsl lsp`: a language server for schemes, over stdio.

analysis.py knows a scheme (diagnostics from the same parse and check as `kpidsl check`,
symbols, occurrences, hover text, completion, fixes) and has no protocol in it; parsing is
cached statement by statement so a one-character edit re-parses one statement, and
incremental.py checks again only the statements the edit can affect.
positions.py converts between code points and the client's units (UTF-16 by default);
server.py wires both to the protocol with pygls (the `lsp` extra).
"""
