"""HTML to PDF with WeasyPrint, from Jinja templates under templates/pdf/.

WeasyPrint may read only files under static/ and templates/ and data: URIs;
anything else (http, other paths) is refused, so a template can never pull
in a remote resource or a file from elsewhere on the server.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML, URLFetcher

from core.config import PROJECT_ROOT

logger = logging.getLogger("orderdesk.pdf")

ALLOWED_ROOTS = (PROJECT_ROOT / "static", PROJECT_ROOT / "templates")


class RestrictedFetcher(URLFetcher):
    def __init__(self) -> None:
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)

    def fetch(self, url: str, headers=None):  # noqa: ANN001, ANN201
        if url.startswith("file:"):
            path = Path(unquote(urlsplit(url).path)).resolve()
            if not any(path.is_relative_to(root) for root in ALLOWED_ROOTS):
                raise ValueError(f"PDF rendering may not read {path}")
        return super().fetch(url, headers)


def html_to_pdf(html: str, *, identifier: str, created: datetime) -> bytes:
    """Render `html`; the same input gives the same bytes (fixed identifier and dates)."""
    document = HTML(string=html, base_url=str(PROJECT_ROOT / "templates" / "pdf") + "/",
                    url_fetcher=RestrictedFetcher())
    return document.write_pdf(pdf_identifier=identifier.encode("ascii")[:32], custom_metadata=False)
