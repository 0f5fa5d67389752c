"""Getting an order's evidence pack for a download: render + sign + cache + record."""

from __future__ import annotations

from core.config import Settings
from core.db import Database
from core.models import EvidencePack
from core.services.tracking import evidence


def pack_for_download(db: Database, settings: Settings, ref: str, *, audience: str, actor: str, via: str,
                      client_ip: str = "") -> EvidencePack:
    pack = build_pack(db, settings, ref, audience=audience)
    evidence.record_download(db, pack, actor=actor, via=via, client_ip=client_ip)
    return pack


def build_pack(db: Database, settings: Settings, ref: str, *, audience: str) -> EvidencePack:
    """The pack of the order's current state (cached per state), without recording a download."""
    from core.pdf.evidence import render_evidence
    from core.pdf.signing import sign_pdf

    return evidence.get_or_build_pack(
        db, ref, audience=audience,
        render=lambda content, aud: render_evidence(content, aud, settings),
        sign=lambda pdf: sign_pdf(pdf, var_dir=settings.var_dir, p12_path=settings.evidence_signing_p12 or None,
                                  p12_password=settings.evidence_signing_p12_password or None),
    )
