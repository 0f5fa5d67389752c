"""QR codes as SVG (no image library needed, scales cleanly in pages and PDFs)."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg


def qr_svg(data: str) -> bytes:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def qr_data_uri(data: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(data)).decode("ascii")
