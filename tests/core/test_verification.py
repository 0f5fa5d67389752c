"""One-time SMS codes: what is stored, how long a code lives, and every limit
that stops guessing and SMS pumping. Times are passed with `now=`."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.errors import InvalidInput
from core.models import LoginCode
from core.services.actors import Actor
from core.services.identity import phone_codes as verification
from core.services.identity.phone_codes import CodeRejected, CodeSent, RateLimited
from core.services.identity.shopper_sign_in import sign_in_with_code
from tests.factories import ALICE_PHONE, make_order
from tests.sms import RecordingSms

SECRET = "verification-test-secret-0123456789abcdef"
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
NO_ORDERS_PHONE = "13700137000"




@pytest.fixture
def sms() -> RecordingSms:
    return RecordingSms()


def ask(db, sms, phone: str = ALICE_PHONE, *, at: datetime = T0, ip: str = "203.0.113.7",  # noqa: ANN001
        countries: tuple[int, ...] = (86,)) -> CodeSent:
    return verification.request_code(db, sms, raw_phone=phone, client_ip=ip, secret=SECRET,
                                     allowed_country_codes=countries, now=at)


def check(db, sent: CodeSent, code: str, *, at: datetime) -> str:  # noqa: ANN001
    """Sign in with the code, as the portal does: as the shopper the challenge names."""
    phone = verification.pending_phone(db, challenge=sent.challenge, secret=SECRET)
    return sign_in_with_code(db, Actor.customer(phone or ""), challenge=sent.challenge, code=code, secret=SECRET,
                             now=at).phone


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_code_is_six_digits_and_only_its_hmac_is_stored(db, sms):
    codes = []
    for minute in range(5):
        sent = ask(db, sms, at=T0 + timedelta(minutes=minute))
        codes.append((sent, sms.code_for("+8613800138000")))
    assert all(re.fullmatch(r"\d{6}", code) for _, code in codes)
    with db.read() as session:
        rows = session.exec(select(LoginCode).order_by(LoginCode.created_at)).all()
    assert len(rows) == 5
    for row, (sent, code) in zip(rows, codes, strict=True):
        stored = [str(value) for value in row.model_dump().values()]
        plain_digests = {hashlib.sha256(code.encode()).hexdigest(), hashlib.md5(code.encode()).hexdigest()}  # noqa: S324
        assert code not in stored and not plain_digests & set(stored), "only a keyed hash of the code is kept"
        assert sent.challenge not in stored, "the browser's challenge is stored hashed too"
        assert re.fullmatch(r"[0-9a-f]{64}", row.code_hash)
    assert len({row.code_hash for row in rows}) == 5


def test_code_works_within_five_minutes(db, sms):
    sent = ask(db, sms)
    assert sent.expires_at == T0 + timedelta(minutes=5)
    code = sms.code_for("+8613800138000")
    assert check(db, sent, code, at=T0 + timedelta(minutes=4, seconds=59)) == "+8613800138000"


def test_code_expires_after_five_minutes(db, sms):
    sent = ask(db, sms)
    with pytest.raises(CodeRejected, match="expired"):
        check(db, sent, sms.code_for("+8613800138000"), at=T0 + timedelta(minutes=5))


def test_code_can_be_used_only_once(db, sms):
    sent = ask(db, sms)
    code = sms.code_for("+8613800138000")
    check(db, sent, code, at=T0 + timedelta(seconds=10))
    with pytest.raises(CodeRejected, match="already used"):
        check(db, sent, code, at=T0 + timedelta(seconds=20))


def test_five_wrong_tries_kill_the_code_even_if_the_sixth_is_right(db, sms):
    sent = ask(db, sms)
    code = sms.code_for("+8613800138000")
    messages = []
    for attempt in range(5):
        with pytest.raises(CodeRejected) as refused:
            check(db, sent, wrong(code), at=T0 + timedelta(seconds=10 + attempt))
        messages.append(str(refused.value))
    assert messages[:2] == ["That code is not right. 4 tries left.", "That code is not right. 3 tries left."]
    assert messages[-1] == "Too many wrong tries. Ask for a new code."
    with pytest.raises(CodeRejected, match="Too many wrong tries"):
        check(db, sent, code, at=T0 + timedelta(seconds=20))
    with db.read() as session:
        row = session.exec(select(LoginCode)).one()
    assert row.wrong_attempts == 5 and row.used_at is None


def test_malformed_code_is_refused_without_counting_a_try(db, sms):
    sent = ask(db, sms)
    for typed in ["", "12345", "1234567", "12a456"]:
        with pytest.raises(CodeRejected, match="6-digit"):
            check(db, sent, typed, at=T0 + timedelta(seconds=5))
    with db.read() as session:
        assert session.exec(select(LoginCode)).one().wrong_attempts == 0
    assert check(db, sent, " ".join(sms.code_for("+8613800138000")), at=T0 + timedelta(seconds=6))


def test_a_new_code_needs_a_sixty_second_gap(db, sms):
    ask(db, sms)
    with pytest.raises(RateLimited) as refused:
        ask(db, sms, at=T0 + timedelta(seconds=45))
    assert refused.value.retry_after == 15
    assert len(sms.sent) == 1
    ask(db, sms, at=T0 + timedelta(seconds=60))
    assert len(sms.sent) == 2


def test_at_most_five_codes_per_hour_per_phone(db, sms):
    for n in range(5):
        ask(db, sms, at=T0 + timedelta(minutes=2 * n))
    with pytest.raises(RateLimited, match="Too many codes for this number") as refused:
        ask(db, sms, at=T0 + timedelta(minutes=30))
    assert refused.value.retry_after == 30 * 60
    assert len(sms.sent) == 5
    ask(db, sms, "13912345678", at=T0 + timedelta(minutes=30))  # another phone is not affected
    ask(db, sms, at=T0 + timedelta(hours=1, seconds=1))
    assert len(sms.sent) == 7


def test_at_most_twenty_codes_per_hour_per_network(db, sms):
    phones = [f"139000000{n:02d}" for n in range(21)]
    for n, phone in enumerate(phones[:20]):
        ask(db, sms, phone, at=T0 + timedelta(seconds=n), ip="198.51.100.1")
    with pytest.raises(RateLimited, match="from this network"):
        ask(db, sms, phones[20], at=T0 + timedelta(minutes=1), ip="198.51.100.1")
    assert len(sms.sent) == 20
    ask(db, sms, phones[20], at=T0 + timedelta(minutes=1), ip="198.51.100.2")
    assert sms.sent[-1][0] == "+8613900000020"


def test_only_allowed_countries_get_a_text(db, sms):
    with pytest.raises(InvalidInput, match="this country or region") as refused:
        ask(db, sms, "+447911123456", countries=(86,))
    assert refused.value.field == "phone"
    assert sms.sent == []
    with db.read() as session:
        assert session.exec(select(LoginCode)).all() == []
    ask(db, sms, "+447911123456", countries=(86, 44))
    assert sms.sent[0][0] == "+447911123456"


def test_invalid_and_landline_numbers_are_refused(db, sms):
    for raw in ["", "12345", "02187654321"]:
        with pytest.raises(InvalidInput):
            ask(db, sms, raw)
    assert sms.sent == []


def test_waits_grow_after_repeated_wrong_codes(db, sms):
    """Each wrong code past the fifth in a day doubles the wait (30 s, 60 s, 120 s)."""
    waits = []
    requested_at = T0
    sent = ask(db, sms, at=requested_at)
    tries = 5
    for _round in range(3):
        code = sms.code_for("+8613800138000")
        failed_at = requested_at + timedelta(seconds=100)
        for n in range(tries):
            with pytest.raises(CodeRejected):
                check(db, sent, wrong(code), at=failed_at + timedelta(seconds=n))
        last_failure = failed_at + timedelta(seconds=tries - 1)
        with pytest.raises(RateLimited, match="Too many wrong codes") as refused:
            ask(db, sms, at=last_failure + timedelta(seconds=1))
        waits.append(refused.value.retry_after + 1)
        requested_at = last_failure + timedelta(seconds=waits[-1])
        sent = ask(db, sms, at=requested_at)
        tries = 1
    assert waits == [30, 60, 120]


def test_a_waiting_phone_cannot_verify_an_older_code_either(db, sms):
    first = ask(db, sms, at=T0)
    first_code = sms.code_for("+8613800138000")
    second = ask(db, sms, at=T0 + timedelta(seconds=61))
    second_code = sms.code_for("+8613800138000")
    for n in range(5):
        with pytest.raises(CodeRejected):
            check(db, second, wrong(second_code), at=T0 + timedelta(seconds=70 + n))
    with pytest.raises(RateLimited):
        check(db, first, first_code, at=T0 + timedelta(seconds=80))


def test_answer_does_not_reveal_whether_the_phone_has_orders(db, sms):
    make_order(db, phone=ALICE_PHONE)
    with_orders = ask(db, sms, ALICE_PHONE)
    without_orders = ask(db, sms, NO_ORDERS_PHONE)
    assert type(with_orders) is type(without_orders) is CodeSent
    assert with_orders.expires_at == without_orders.expires_at
    assert with_orders.resend_at == without_orders.resend_at
    assert [to for to, _ in sms.sent] == ["+8613800138000", "+8613700137000"]
    assert check(db, without_orders, sms.code_for("+8613700137000"), at=T0 + timedelta(seconds=5)) == "+8613700137000"


def test_pending_phone_is_found_from_the_challenge_only(db, sms):
    sent = ask(db, sms)
    assert verification.pending_phone(db, challenge=sent.challenge, secret=SECRET) == "+8613800138000"
    assert verification.pending_phone(db, challenge=sent.challenge + "x", secret=SECRET) is None
    assert verification.pending_phone(db, challenge=sent.challenge, secret=SECRET + "other") is None


def test_network_limit_holds_when_requests_for_many_phones_arrive_at_once(db, sms):
    """Eighteen codes already went to this network; of eight requests at the same moment
    for eight other phones, exactly two get a code (the limit is twenty an hour)."""
    import threading

    for n in range(18):
        ask(db, sms, f"1390000{n:04d}", at=T0 + timedelta(seconds=n), ip="198.51.100.9")
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def request(n: int) -> None:
        start.wait()
        try:
            ask(db, sms, f"1370000{n:04d}", at=T0 + timedelta(minutes=5), ip="198.51.100.9")
            outcomes.append("sent")
        except RateLimited:
            outcomes.append("refused")

    threads = [threading.Thread(target=request, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 6 + ["sent"] * 2
    with db.read() as session:
        assert len(session.exec(select(LoginCode).where(LoginCode.client_ip == "198.51.100.9")).all()) == 20
