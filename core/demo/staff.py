"""The demo's staff: one account per role, with passwords generated when the demo is seeded."""

from __future__ import annotations

import os
import secrets

from sqlmodel import func, select

from core.db import Database
from core.models import Staff, Warehouse
from core.services.actors import Actor
from core.services.identity.staff import create_staff

DEMO_STAFF = [
    ("admin@orderdesk.local", "admin", None),
    ("supervisor@orderdesk.local", "supervisor", None),
    ("support@orderdesk.local", "support", None),
    ("warehouse.hz@orderdesk.local", "warehouse", "HZ"),
    ("compliance@orderdesk.local", "compliance", None),
]


def seed_demo_staff(db: Database, logins_file) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """One account per role with a password generated now (never a shared default),
    written to var/demo-logins.txt for the person running the demo."""
    with db.read() as session:
        if session.exec(select(func.count()).select_from(Staff)).one():
            return []
        warehouses = {w.code: w.id for w in session.exec(select(Warehouse)).all()}
    created = []
    for email, role, warehouse in DEMO_STAFF:
        password = secrets.token_urlsafe(9)
        create_staff(db, Actor.system(via="demo"), email=email, role=role, password=password + "-demo", name=role,
                     warehouse_id=warehouses.get(warehouse) if warehouse else None)
        created.append((email, role, password + "-demo"))
    logins_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(logins_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for email, role, password in created:
            fh.write(f"{role:<11} {email:<30} {password}\n")
    return created
