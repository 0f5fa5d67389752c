"""The staff cast for admin tests: one account per role, created when a test signs in as it.

Warehouse staff belong to the HZ warehouse (the `hz` fixture); everyone signs in through a real
session cookie, and forms are posted with the CSRF token the page itself carries.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from core.models import Staff
from core.services.staff import create_staff, start_session
from tests.triage_factories import add_warehouse, install_rules


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


@pytest.fixture
def hz(db):
    install_rules(db)
    return add_warehouse(db, code="HZ", name="杭州仓")


@pytest.fixture
def sign_in(client, db, hz):
    """sign_in("support") -> the support agent, signed in on `client`."""
    made: dict[str, Staff] = {}

    def as_role(role: str) -> Staff:
        if role not in made:
            made[role] = create_staff(db, email=f"{role}@example.com", role=role, password="correct horse battery",
                                      warehouse_id=hz.id if role == "warehouse" else None)
        client.cookies.set("od_staff", start_session(db, made[role]))
        return made[role]

    return as_role


def form_post(client, page_url: str, action: str, data: dict[str, str], **kwargs):
    """Post like a browser: fetch the page, take the CSRF token from its form, submit."""
    token = soup(client.get(page_url)).select_one("input[name=_csrf_token]")["value"]
    return client.post(action, data={**data, "_csrf_token": token}, follow_redirects=False, **kwargs)
