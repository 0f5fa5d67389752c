"""The staff casts for admin tests.

`cast`/`as_staff`: one account per role, each with a TestClient of its own (warehouse staff in HZ).
`hz`/`sign_in`: roles created on demand and signed in on the shared `client` (triage tests).
"""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlmodel import select

from core.models import Staff, Warehouse
from core.services.actors import Actor
from core.services.identity import staff as staff_service
from core.services.identity.permissions import Role
from core.services.identity.staff import create_staff, start_session
from tests.triage_factories import add_warehouse, install_rules

PASSWORD = "correct horse battery staple"


@pytest.fixture
def warehouses(db):
    with db.write() as session:
        session.add_all([Warehouse(code="HZ", name="杭州仓", province="浙江省", city="杭州市"),
                         Warehouse(code="GZ", name="广州仓", province="广东省", city="广州市")])
    with db.read() as session:
        return {w.code: w for w in session.exec(select(Warehouse)).all()}


@pytest.fixture
def cast(db, warehouses):
    """admin, supervisor, support, warehouse (Hangzhou), compliance."""
    members = {}
    for role in Role:
        members[role.value] = staff_service.create_staff(
            db, Actor.system(via="test"), email=f"{role.value}@shop.test", role=role.value, password=PASSWORD,
            warehouse_id=warehouses["HZ"].id if role == Role.WAREHOUSE else None)
    return members


@pytest.fixture
def as_staff(db, cast):
    """as_staff("support") -> a TestClient signed in as that role, with a CSRF token at hand.
    Each gets an app of its own: one app's lifespan is entered once."""
    from app import create_app
    from core.config import get_settings

    clients = []

    def sign_in(role: str) -> TestClient:
        client = TestClient(app=create_app(get_settings(), db), base_url="http://127.0.0.1")
        client.__enter__()
        clients.append(client)
        token = staff_service.start_session(db, cast[role])
        client.cookies.set("od_staff", token)
        page = client.get("/admin/login")
        client.csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
        return client

    yield sign_in
    for client in reversed(clients):
        client.__exit__(None, None, None)


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
            made[role] = create_staff(db, Actor.system(via="test"), email=f"{role}@example.com", role=role,
                                      password="correct horse battery", warehouse_id=hz.id if role == "warehouse" else None)
        client.cookies.set("od_staff", start_session(db, made[role]))
        return made[role]

    return as_role


def form_post(client, page_url: str, action: str, data: dict[str, str], **kwargs):
    """Post like a browser: fetch the page, take the CSRF token from its form, submit."""
    token = soup(client.get(page_url)).select_one("input[name=_csrf_token]")["value"]
    return client.post(action, data={**data, "_csrf_token": token}, follow_redirects=False, **kwargs)
