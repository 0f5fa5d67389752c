"""The shopper's evidence pack download: their own order only, recorded as theirs, not a staff audit entry."""

from __future__ import annotations

from sqlmodel import func, select

from core.models import AuditEntry, EvidenceDownload, EvidencePack
from core.phones import normalize_phone
from tests.factories import ALICE_PHONE


def count(db, model) -> int:  # noqa: ANN001
    with db.read() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_the_owner_downloads_the_signed_pack_and_the_download_is_recorded(alice, db, cast):
    ref = cast.alice_shipped.ref
    response = alice.get(f"/orders/{ref}/evidence.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith(f'attachment; filename="evidence-{ref}-')
    with db.read() as session:
        pack = session.exec(select(EvidencePack)).one()
        [download] = session.exec(select(EvidenceDownload)).all()
    assert response.headers["etag"] == f'"{pack.pdf_sha256}"' and pack.audience == "customer"
    assert (download.actor, download.via, download.pack_id) == (f"customer:{normalize_phone(ALICE_PHONE)}",
                                                                "portal", pack.id)
    assert count(db, AuditEntry) == 0  # the staff audit trail is about staff


def test_another_customers_order_is_404_and_nothing_is_rendered(bob, db, cast):
    assert bob.get(f"/orders/{cast.alice_shipped.ref}/evidence.pdf").status_code == 404
    assert bob.get("/orders/ODNOSUCHREF0/evidence.pdf").status_code == 404
    assert (count(db, EvidencePack), count(db, EvidenceDownload)) == (0, 0)
