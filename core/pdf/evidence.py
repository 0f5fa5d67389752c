"""The evidence pack: everything a platform, payment provider or court needs, in one PDF."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment

from core import i18n
from core.config import Settings
from core.pdf.render import html_to_pdf
from core.phones import mask_phone
from core.qr import qr_data_uri
from core.rendering.jinja import build_environment
from core.services.orders.addresses import address_of, mask_name, masked_one_line
from core.services.tracking.evidence import GENERATOR, PackContent, address_history, customer_contacts, describe_verdict

AUDIENCES = ("customer", "staff", "masked")


@cache
def _environment() -> Environment:
    return build_environment()


def recipient_for(content: PackContent, audience: str) -> dict[str, str]:
    """Masking by audience: the customer sees their own address, staff with the
    right role everything, anyone else only the district."""
    address = address_of(content.order)
    if audience == "masked":
        return {"name": mask_name(address.recipient), "phone": mask_phone(address.phone),
                "address": masked_one_line(address), "postal_code": ""}
    phone = address.phone if audience == "staff" else mask_phone(address.phone)
    return {"name": address.recipient, "phone": phone, "address": f"{address.one_line}",
            "postal_code": address.postal_code}


def render_evidence(content: PackContent, audience: str, settings: Settings) -> bytes:
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")
    verify_url = f"{settings.public_base_url}/verify/{content.verification.digest}"
    zh, en = i18n.translations_for("zh_CN").gettext, i18n.translations_for("en").gettext
    token = i18n.current_locale.set("zh_CN")
    try:
        html = _environment().get_template("pdf/evidence.html").render(
            c=content,
            order=content.order,
            verdict=content.verdict,
            verdict_zh=describe_verdict(content.verdict, zh, settings.tz),
            verdict_en=describe_verdict(content.verdict, en, settings.tz),
            recipient=recipient_for(content, audience),
            address_changes=address_history(content.order),
            contacts=customer_contacts(content.order),
            audience=audience,
            verify_url=verify_url,
            qr=qr_data_uri(verify_url),
            tz=settings.tz,
            generator=GENERATOR,
        )
    finally:
        i18n.current_locale.reset(token)
    return html_to_pdf(html, identifier=content.verification.digest, created=content.generated_at)
