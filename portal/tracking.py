"""Tracking links from SMS and QR codes: no sign-in, personal data masked."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from core.config import Settings
from core.qr import qr_svg
from core.services.orders import for_customer as customer_orders
from core.services.orders.addresses import address_of, mask_name, masked_one_line
from core.services.tracking import links as tracking_links
from core.web.deps import DB
from portal.auth import current_phone


@get("/t/{token:str}", name="tracking_link", sync_to_thread=True)
def tracking_view(request: Request, db: DB, token: FromPath[str]) -> Template:
    settings: Settings = request.app.state.settings
    order = tracking_links.resolve(db, token, secret=settings.secret_key)
    address = address_of(order)
    return Template(
        template_name="portal/tracking.html",
        context={
            "order": order,
            "token": token,
            "recipient": mask_name(address.recipient),
            "recipient_phone": address.phone,
            "destination": masked_one_line(address),
            "expected_delivery": customer_orders.expected_delivery(order),
            "late": customer_orders.is_late(order),
            "signed_in": current_phone(request, db) is not None,
        },
    )


@get("/t/{token:str}/qr.svg", name="tracking_qr", sync_to_thread=True)
def tracking_qr(request: Request, db: DB, token: FromPath[str]) -> Response:
    settings: Settings = request.app.state.settings
    tracking_links.resolve(db, token, secret=settings.secret_key)
    return Response(content=qr_svg(f"{settings.public_base_url}/t/{token}"), media_type="image/svg+xml")
