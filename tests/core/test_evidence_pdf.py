"""The evidence pack PDF: what it says, that every glyph renders, same state same bytes, signed."""

import io
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from fontTools.ttLib import TTCollection, TTFont

from core.carriers.base import NormalizedEvent
from core.config import get_settings
from core.models import Shipment
from core.pdf.evidence import render_evidence
from core.pdf.signing import sign_pdf
from core.services.actors import Actor
from core.services.orders import shipping
from core.services.orders.address_change import change_address
from core.services.tracking import evidence
from core.services.tracking.events import append_events
from tests.factories import add_terms, make_order

CHINESE_TEXT = "【杭州市】快件已到达 杭州转运中心，下一站 上海浦东转运中心"

SYSTEM = Actor.system(via="test")


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


@pytest.fixture
def delivered_order(db):
    add_terms(db, version="2026.2")
    order = make_order(db, paid=True)
    change_address(db, SYSTEM, order.ref, {"recipient": "李四", "phone": "13912345678", "province": "上海市",
                                   "city": "上海市", "district": "浦东新区", "street": "张杨路 500 号 1 栋 1201 室"})
    shipment = shipping.mark_shipped(db, Actor.integration("wh", via="api"), order.ref, carrier="SF",
                                     tracking_no="SF7788", at=datetime.now(UTC) - timedelta(days=3))
    now = datetime.now(UTC)
    with db.write() as session:
        append_events(session, session.get(Shipment, shipment.id), [
            NormalizedEvent(now - timedelta(hours=60), "1", "【杭州市】顺丰速运 已收取快件", "杭州市", "info_received",
                            "picked_up", "{}"),
            NormalizedEvent(now - timedelta(hours=40), "0", CHINESE_TEXT, "杭州市", "in_transit", None, "{}"),
            NormalizedEvent(now - timedelta(hours=2), "301", "快件已签收，签收人：本人", "上海市浦东新区", "delivered",
                            "signed_by_recipient", "{}"),
        ], source="push")
    return order


def content_for(db, ref):
    rendered = {}

    def render(content, audience):
        rendered["content"] = content
        return render_evidence(content, audience, get_settings())

    pack = evidence.get_or_build_pack(db, ref, audience="customer", render=render)
    return pack, rendered.get("content")


def test_pack_contains_what_a_reviewer_needs(db, delivered_order):
    pack, _ = content_for(db, delivered_order.ref)
    text = pdf_text(pack.pdf)
    for expected in [
        "物流证据包", "Logistics evidence pack", delivered_order.ref, "Shipping carrier", "顺丰速运", "Tracking number",
        "SF7788", "Shipping date", "Shipping address", "上海市上海市浦东新区张杨路 500 号 1 栋 1201 室",
        "Refund / cancellation policy", "Customer communication", "Promised vs actual", "On time",
        "快件已签收，签收人：本人", "【杭州市】顺丰速运 已收取快件", "Shipping address changes", "浙江省杭州市西湖区",
        pack.digest, "/verify/" + pack.digest,
    ]:
        assert expected in text.replace("\n", " ") or expected in text, expected
    # The phone is masked for the customer's own pack; the full number is not printed.
    assert "139****5678" in text and "13912345678" not in text


def test_masked_audience_shows_only_the_district(db, delivered_order):
    pack = evidence.get_or_build_pack(db, delivered_order.ref, audience="masked",
                                      render=lambda c, a: render_evidence(c, a, get_settings()))
    text = pdf_text(pack.pdf)
    assert "李*" in text and "上海市上海市浦东新区" in text
    assert "张杨路" not in text and "李四" not in text and "13912345678" not in text


def test_every_character_has_a_glyph_in_the_cjk_font(db, delivered_order):
    pack, _ = content_for(db, delivered_order.ref)
    text = pdf_text(pack.pdf)
    font_file = subprocess.run(["fc-match", "-f", "%{file}", "WenQuanYi Micro Hei"], capture_output=True,
                               text=True, check=True).stdout
    font = TTCollection(font_file).fonts[0] if font_file.endswith(".ttc") else TTFont(font_file)
    cmap = font.getBestCmap()
    missing = {ch for ch in text if not ch.isspace() and ord(ch) not in cmap}
    assert missing == set()
    fonts = subprocess.run(["pdffonts", "-"], input=pack.pdf, capture_output=True).stdout.decode()
    assert "WenQuanYi" in fonts
    assert " no " not in fonts.split("\n", 2)[2].replace("yes yes", "")  # every font embedded


def test_same_chain_state_same_bytes(db, delivered_order):
    _, content = content_for(db, delivered_order.ref)
    first = render_evidence(content, "customer", get_settings())
    second = render_evidence(content, "customer", get_settings())
    assert first == second


def test_pack_is_signed_and_the_signature_covers_the_file(db, delivered_order, tmp_path):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    _, content = content_for(db, delivered_order.ref)
    signed = sign_pdf(render_evidence(content, "customer", get_settings()), var_dir=tmp_path)
    reader = PdfFileReader(io.BytesIO(signed))
    assert len(reader.embedded_signatures) == 1
    from asn1crypto import pem, x509

    _, _, der = pem.unarmor((tmp_path / "evidence-signing.crt").read_bytes())
    status = validate_pdf_signature(reader.embedded_signatures[0],
                                    ValidationContext(trust_roots=[x509.Certificate.load(der)]))
    assert status.intact and status.valid and status.coverage.name == "ENTIRE_FILE"
    # One changed byte inside the signed range (the first page's content) breaks the digest.
    tampered = bytearray(signed)
    position = signed.index(b"stream", len(signed) // 4) + 20
    tampered[position] ^= 0x01
    bad = validate_pdf_signature(PdfFileReader(io.BytesIO(bytes(tampered))).embedded_signatures[0],
                                 ValidationContext(trust_roots=[x509.Certificate.load(der)]))
    assert not bad.intact
