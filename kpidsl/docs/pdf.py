"""PDF from the HTML documents, through WeasyPrint (the optional extra `kpidsl[pdf]`).

The HTML plan documents and statements are already laid out for A4 print (`@page`,
breaks kept off headings and table rows); WeasyPrint renders that CSS as it is, so the PDF
and the HTML cannot say different things. WeasyPrint needs Pango from the system (Debian:
`libpango-1.0-0`, `libpangoft2-1.0-0`).
"""

from __future__ import annotations

import warnings
from types import ModuleType


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or the Pango library under it) is not installed."""


def _weasyprint() -> ModuleType:
    """WeasyPrint, imported without the DeprecationWarning it gives where the system lacks
    HarfBuzz-Subset (it subsets fonts with fontTools then; the PDF is the same)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "HarfBuzz-Subset", DeprecationWarning)
        import weasyprint
    return weasyprint


def available() -> bool:
    try:
        _weasyprint()
    except (ImportError, OSError):
        return False
    return True


def html_to_pdf(html: str) -> bytes:
    """A self-contained HTML document → PDF bytes (no network: nothing external is fetched)."""
    try:
        weasyprint = _weasyprint()
    except (ImportError, OSError) as exc:  # OSError: the Python package without Pango
        raise PdfUnavailable("PDF needs WeasyPrint: pip install 'kpidsl[pdf]' (and Pango, "
                             f"e.g. apt-get install libpango-1.0-0): {exc}") from None

    def no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
        raise ValueError(f"documents are self-contained; not fetching {url}")

    data: bytes = weasyprint.HTML(string=html, url_fetcher=no_fetch).write_pdf()
    return data
