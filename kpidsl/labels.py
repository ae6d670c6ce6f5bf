"""Labels in the reader's language: a scheme may write `"Revenue" ru "Выручка"`."""

from __future__ import annotations

from . import ast


def label_in(node: ast.Decl | ast.Header, lang: str) -> str:
    """The label in `lang` if the scheme gives one, else its main label, else its name."""
    for language, text in node.translations:
        if language == lang:
            return text
    return node.label or node.name
