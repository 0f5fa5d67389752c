"""E-mail copies of order news: queued with their cause, sent over SMTP with the outbox's retries."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlmodel import select

from core.config import ConfigError, load_settings
from core.email import ConsoleEmail, SmtpEmail, get_email_provider
from core.email.address import normalize_email
from core.email.console import read_outbox
from core.errors import InvalidInput
from core.models import Customer, OutboxMessage
from core.services.actors import Actor
from core.services.channels import ingest, ingest_batch
from core.services.channels.ingest import IncomingOrder
from core.services.messaging import delivery
from core.services.orders.address_change import change_address
from core.services.orders.lifecycle import NewLine, NewOrder
from core.sms import SmsReceipt
from tests.factories import add_event, address, make_order, ship

MAIL = "zhang.san@example.com"

SYSTEM = Actor.system(via="test")


class Mailbox:
    """An SMTP server's handler: answers DATA with `refusals` 451s first, then takes the mail."""

    def __init__(self, refusals: int = 0, refuse_rcpt: str = "") -> None:
        self.refusals, self.refuse_rcpt, self.received, self.logins = refusals, refuse_rcpt, [], []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, N802
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        if self.refusals > 0:
            self.refusals -= 1
            return "451 4.3.0 try again later"
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                              message_from_bytes(envelope.content, policy=default_policy)))
        return "250 2.0.0 queued"

    def authenticate(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"s3cret")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    started = []

    def start(mailbox: Mailbox) -> SmtpEmail:
        controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), authenticator=mailbox.authenticate,
                                auth_require_tls=False)
        controller.start()
        started.append(controller)
        return SmtpEmail(host="127.0.0.1", port=controller.port, sender="订单服务台 <orders@shop.example>",
                         username="orders", password="s3cret", starttls=False, timeout=5)

    yield start
    for controller in started:
        controller.stop()


class NoSms:
    name = "none"

    def send(self, to, text):  # noqa: ANN001
        return SmsReceipt(provider="none", message_id="sms")


def outbox(db, channel: str | None = None) -> list[OutboxMessage]:  # noqa: ANN001
    with db.read() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if channel:
            query = query.where(OutboxMessage.channel == channel)
        return list(session.exec(query).all())


def test_payment_queues_an_email_copy_beside_the_text_in_the_same_transaction(db):
    order = make_order(db, paid=True, customer_email=MAIL)
    queued = outbox(db)
    assert [(m.channel, m.event) for m in queued] == [("sms", "order_confirmed"), ("email", "order_confirmed")]
    sms, email = queued
    assert email.recipient == MAIL and email.body == sms.body and order.ref in email.body
    assert email.dedupe_key == f"email:confirmed:{order.id}" and email.status == "pending"


def test_a_customer_without_an_email_address_gets_no_email(db):
    make_order(db, paid=True)
    assert [m.channel for m in outbox(db)] == ["sms"]


def test_only_receipt_events_get_an_email_copy(db):
    order = make_order(db, paid=True, customer_email=MAIL)
    change_address(db, SYSTEM, order.ref, {"recipient": "王五", "phone": "13700000000", "province": "浙江省",
                                   "city": "杭州市", "district": "上城区", "street": "解放路 1 号 101 室"})
    shipment = ship(db, order.ref)
    for tag, text in (("out_for_delivery", "派送中"), ("delivered", "已签收")):
        add_event(db, shipment.id, occurred_at=datetime.now(UTC), raw_text=text, tag=tag)
    ship_again = make_order(db, paid=True, phone="13900139000")  # another customer, no address on file
    ship(db, ship_again.ref)
    assert [m.event for m in outbox(db, "sms")] == ["order_confirmed", "address_changed", "shipped",
                                                    "out_for_delivery", "delivered", "order_confirmed", "shipped"]
    assert [(m.event, m.order_id) for m in outbox(db, "email")] == [("order_confirmed", order.id),
                                                                    ("shipped", order.id), ("delivered", order.id)]


def test_a_failed_change_queues_no_email(db):
    order = make_order(db, customer_email=MAIL)
    with pytest.raises(RuntimeError), db.write() as session:
        from core.services.orders import lifecycle as order_service

        locked = order_service.lock_order(session, order.ref)
        order_service.apply_payment(session, locked, paid_minor=locked.total_minor, at=datetime.now(UTC),
                                    actor="t", via="test", reserve_stock=False, notify=True)
        session.flush()
        raise RuntimeError("the payment's transaction fails after the message was queued")
    assert outbox(db) == []


def test_the_email_goes_out_over_smtp_with_a_subject_per_event(db, smtp_server):
    mailbox = Mailbox()
    provider = smtp_server(mailbox)
    order = make_order(db, paid=True, customer_email=MAIL)
    result = delivery.deliver_due(db, NoSms(), email=provider)
    assert (result.sent, result.retried, result.dead) == (2, 0, 0)
    [(sender, recipients, mail)] = mailbox.received
    assert sender == "orders@shop.example" and recipients == [MAIL]
    assert mailbox.logins == [("orders", "s3cret")]
    assert mail["Subject"] == f"订单 {order.ref} 已付款成功"
    assert f"您的订单 {order.ref} 已付款成功" in mail.get_content()
    email = outbox(db, "email")[0]
    assert email.status == "sent" and email.provider_message_id == mail["Message-ID"]


def test_smtp_failure_is_retried_with_backoff_then_sent(db, smtp_server):
    mailbox = Mailbox(refusals=2)
    provider = smtp_server(mailbox)
    make_order(db, paid=True, customer_email=MAIL)
    now = datetime.now(UTC)
    delivery.deliver_due(db, NoSms(), email=provider, now=now)
    first = outbox(db, "email")[0]
    assert (first.status, first.attempts) == ("pending", 1) and "451" in first.last_error
    assert first.next_attempt_at == now + timedelta(seconds=30)
    assert delivery.deliver_due(db, NoSms(), email=provider, now=now + timedelta(seconds=10)).retried == 0
    assert delivery.deliver_due(db, NoSms(), email=provider, now=now + timedelta(seconds=31)).retried == 1
    assert outbox(db, "email")[0].next_attempt_at == now + timedelta(seconds=31 + 60)
    assert delivery.deliver_due(db, NoSms(), email=provider, now=now + timedelta(seconds=95)).sent == 1
    done = outbox(db, "email")[0]
    assert (done.status, done.attempts) == ("sent", 3) and len(mailbox.received) == 1


def test_an_email_is_dead_after_the_last_try(db, smtp_server):
    provider = smtp_server(Mailbox(refusals=100))
    make_order(db, paid=True, customer_email=MAIL)
    now = datetime.now(UTC)
    for _ in range(delivery.MAX_ATTEMPTS):
        delivery.deliver_due(db, NoSms(), email=provider, now=now)
        now += timedelta(hours=2)
    dead = outbox(db, "email")[0]
    assert (dead.status, dead.attempts) == ("dead", delivery.MAX_ATTEMPTS) and "451" in dead.last_error
    assert delivery.deliver_due(db, NoSms(), email=provider, now=now).dead == 0


def test_an_address_the_server_refuses_for_good_is_dead_at_once(db, smtp_server):
    provider = smtp_server(Mailbox(refuse_rcpt="550 5.1.1 no such user"))
    make_order(db, paid=True, customer_email=MAIL)
    assert delivery.deliver_due(db, NoSms(), email=provider).dead == 1
    assert outbox(db, "email")[0].status == "dead"


def test_the_console_provider_writes_the_email_to_a_file(db, tmp_path):
    order = make_order(db, paid=True, customer_email=MAIL)
    provider = ConsoleEmail(tmp_path / "email-outbox.jsonl", sender="orders@shop.example")
    assert delivery.deliver_due(db, NoSms(), email=provider).sent == 2
    [written] = read_outbox(tmp_path / "email-outbox.jsonl")
    assert written["to"] == MAIL and written["subject"] == f"订单 {order.ref} 已付款成功"


def incoming(no: str, phone: str, email: str | None) -> IncomingOrder:
    new = NewOrder(channel="shopify", channel_order_no=no, customer_phone=phone, customer_name="张三",
                   customer_email=email, address=address(phone=phone),
                   lines=[NewLine(sku="TEA-1", name="龙井", quantity=1, unit_price_minor=1990)])
    now = datetime.now(UTC)
    return IncomingOrder(order=new, status="paid", status_at=now, paid_at=now)


def test_the_bulk_ingest_path_stores_the_address_and_queues_the_email_too(db):
    make_order(db, phone="13700000000")  # a known customer without an address on file
    batch = [ingest.check_incoming(incoming("#1", "13800138000", " Li.Si@Example.COM ")),
             ingest.check_incoming(incoming("#2", "13700000000", MAIL)),
             ingest.check_incoming(incoming("#3", "13600000000", None))]
    with db.write() as session:
        results = ingest_batch.upsert_orders(session, batch, via="import", actor="t")
    assert [r.outcome for r in results] == ["new", "new", "new"]
    with db.read() as session:
        emails = dict(session.exec(select(Customer.phone, Customer.email)).all())
    assert emails == {"+8613800138000": "Li.Si@example.com", "+8613700000000": MAIL, "+8613600000000": None}
    mails = outbox(db, "email")
    assert sorted(m.recipient for m in mails) == ["Li.Si@example.com", MAIL]
    assert all(m.event == "order_confirmed" and m.dedupe_key == f"email:confirmed:{m.order_id}" for m in mails)
    assert len(outbox(db, "sms")) == 3


def test_bulk_and_one_by_one_queue_the_same_email(db):
    with db.write() as session:
        one = ingest.upsert_order(session, incoming("#1", "13800138000", MAIL), via="import", actor="t")
        [bulk] = ingest_batch.upsert_orders(session, [ingest.check_incoming(incoming("#2", "13700000000", MAIL))],
                                            via="import", actor="t")
    first, second = outbox(db, "email")
    # The same text up to the order's own signed link.
    assert first.body.replace(one.ref, "REF").split("查看订单")[0] == second.body.replace(bulk.ref, "REF").split("查看订单")[0]
    assert (first.recipient, first.event) == (second.recipient, second.event) == (MAIL, "order_confirmed")


@pytest.mark.parametrize("raw, stored", [("a@example.com", "a@example.com"), (" Bob.Li+tea@Shop.CN ", "Bob.Li+tea@shop.cn"),
                                         ("张三@例子.中国", None), ("x@mail.co.uk", "x@mail.co.uk"),
                                         ("zhang@例子.中国", "zhang@xn--fsqu00a.xn--fiqs8s")])
def test_email_addresses_are_checked_and_their_domain_lowercased(raw, stored):
    if stored is None:
        with pytest.raises(InvalidInput):
            normalize_email(raw)
    else:
        assert normalize_email(raw) == stored


@pytest.mark.parametrize("raw", ["", "a", "a@b", "a@@b.cn", "a b@c.cn", "a@-b.cn", "a@b.c", ".a@b.cn", "a@b.123",
                                 "a@b_c.cn", "x" * 65 + "@b.cn"])
def test_what_is_not_an_email_address_is_refused(raw):
    with pytest.raises(InvalidInput):
        normalize_email(raw)


def test_email_settings_are_validated_and_production_refuses_the_console(tmp_path):
    base = {"ORDERDESK_VAR_DIR": str(tmp_path)}
    assert load_settings(base).email_provider == "console"
    smtp = load_settings({**base, "EMAIL_PROVIDER": "smtp", "SMTP_HOST": "mail.shop.example", "SMTP_PORT": "465",
                          "SMTP_USERNAME": "u", "SMTP_PASSWORD_FILE": str(_secret(tmp_path)),
                          "SMTP_STARTTLS": "false", "EMAIL_FROM": "orders@shop.example"})
    assert (smtp.smtp_host, smtp.smtp_port, smtp.smtp_password, smtp.smtp_starttls) == (
        "mail.shop.example", 465, "pw-from-file", False)
    assert isinstance(get_email_provider(smtp), SmtpEmail) and "pw-from-file" not in repr(smtp)
    with pytest.raises(ConfigError, match="SMTP_HOST is required"):
        load_settings({**base, "EMAIL_PROVIDER": "smtp", "EMAIL_FROM": "orders@shop.example"})
    with pytest.raises(ConfigError, match="EMAIL_PROVIDER must be"):
        load_settings({**base, "EMAIL_PROVIDER": "pigeon"})
    prod = {**base, "ORDERDESK_ENV": "prod", "SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://u@h/db",
            "SMS_PROVIDER": "http", "SMS_HTTP_URL": "https://sms.example", "SMS_HTTP_KEY": "k",
            "SMS_HTTP_SECRET": "s" * 32, "PUBLIC_BASE_URL": "https://shop.example"}
    with pytest.raises(ConfigError, match="EMAIL_PROVIDER=console"):
        load_settings({**prod, "EMAIL_PROVIDER": "console"})
    try:
        off = load_settings(prod)
    except ConfigError as exc:  # other production requirements are not this test's business
        assert "EMAIL_PROVIDER" not in str(exc)
    else:
        assert not off.email_enabled and get_email_provider(off) is None


def _secret(tmp_path):  # noqa: ANN001
    path = tmp_path / "smtp-password"
    path.write_text("pw-from-file\n", encoding="utf-8")
    return path


def localhost_certificate(tmp_path):  # noqa: ANN001
    """A self-signed certificate for 127.0.0.1: the server's, and the only one the client trusts."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
                   .not_valid_after(now + timedelta(hours=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_starttls_comes_before_the_login_and_the_servers_certificate_is_checked(db, tmp_path):
    import ssl

    cert_file, key_file = localhost_certificate(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert_file, key_file)
    mailbox = Mailbox()
    # The server refuses AUTH and mail before STARTTLS: a login in clear text would fail the test.
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), authenticator=mailbox.authenticate,
                            tls_context=server_tls, require_starttls=True, auth_require_tls=True)
    controller.start()
    try:
        make_order(db, paid=True, customer_email=MAIL)
        trusting = SmtpEmail(host="127.0.0.1", port=controller.port, sender="orders@shop.example",
                             username="orders", password="s3cret", starttls=True, timeout=5,
                             tls_context=ssl.create_default_context(cafile=str(cert_file)))
        assert delivery.deliver_due(db, NoSms(), email=trusting).sent == 2
        assert mailbox.logins == [("orders", "s3cret")] and len(mailbox.received) == 1

        make_order(db, paid=True, phone="13900139000", customer_email="li.si@example.com")
        default_trust = SmtpEmail(host="127.0.0.1", port=controller.port, sender="orders@shop.example",
                                  username="orders", password="s3cret", starttls=True, timeout=5)
        result = delivery.deliver_due(db, NoSms(), email=default_trust)
        assert (result.sent, result.retried) == (1, 1)  # the text went; the e-mail waits for a trusted server
        assert "CERTIFICATE_VERIFY_FAILED" in outbox(db, "email")[-1].last_error
        assert len(mailbox.received) == 1
    finally:
        controller.stop()
