"""Page numbers from a query string: whatever was asked, a page the database can be asked for."""

from __future__ import annotations

# Far beyond any real list (10 to 50 rows a page): past it a page is empty, as any page past the end is.
MAX_PAGE = 100_000


def clamp_page(page: int) -> int:
    """`?page=99999999999999999999` made an OFFSET that overflowed PostgreSQL's bigint: a 500."""
    return min(max(page, 1), MAX_PAGE)
