"""What reaches the log: one line per record whatever a stranger sends, no phone number, no
database parameters."""

from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy.exc import IntegrityError

from core.logs import PrivacyFormatter
from core.models import Customer
from tests.factories import ALICE_PHONE

STREET = "文三路 99 号 7 幢 702 室"


@pytest.fixture
def log_output():
    """Everything logged during the test, formatted as the server writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(PrivacyFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def test_a_line_break_in_a_requested_path_cannot_start_a_forged_log_line(client, log_output):
    client.get("/t/abc%0AINFO%20orderdesk.admin:%20staff%20admin@shop.test%20signed%20in")
    logging.getLogger("orderdesk.errors").error("unhandled error on %s %s", "GET",
                                                "/t/abc\nINFO orderdesk.admin: staff signed in")
    lines = log_output.getvalue().splitlines()
    assert lines and all(not line.startswith("INFO orderdesk.admin") for line in lines)
    assert any("abc\\nINFO orderdesk.admin" in line for line in lines)


def test_phone_numbers_are_masked_in_every_log_line(log_output):
    logging.getLogger("orderdesk.sms").warning("SMS to %s failed: %s", "+8613800138000", "gateway said 13912345678")
    written = log_output.getvalue()
    assert "13800138000" not in written and "13912345678" not in written
    assert "138****8000" in written and "139****5678" in written


def test_a_refused_insert_does_not_carry_the_customers_data_into_the_error(db, log_output):
    with db.write() as session:
        session.add(Customer(phone=f"+86{ALICE_PHONE}", name="李四"))
    with pytest.raises(IntegrityError) as refused, db.write() as session:
        session.add(Customer(phone=f"+86{ALICE_PHONE}", name=f"李四 {STREET}"))
    logging.getLogger("orderdesk.test").error("insert refused", exc_info=refused.value)
    written = log_output.getvalue()
    assert "insert refused" in written
    assert ALICE_PHONE not in written and STREET not in written and "李四" not in written
