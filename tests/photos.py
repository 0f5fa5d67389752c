"""Real image files for the upload tests, made with Pillow."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image


def jpeg_with_gps(size: tuple[int, int] = (64, 48), orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: camera make, a GPS position, an orientation."""
    image = Image.new("RGB", size, (200, 30, 30))
    for x in range(size[0] // 2):  # the left half blue: shows which way up the photo was turned
        for y in range(size[1]):
            image.putpixel((x, y), (30, 30, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0112] = orientation  # Orientation
    exif[0x8825] = {1: "N", 2: (30.0, 15.0, 0.0), 3: "E", 4: (120.0, 10.0, 0.0)}  # GPS IFD: Hangzhou
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 0, 128)).save(out, format="PNG")
    return out.getvalue()


def png_of(size: tuple[int, int]) -> bytes:
    """A plain grey PNG: a large canvas compresses to a small file (49 MP in about 50 KB)."""
    out = io.BytesIO()
    Image.new("L", size, 128).save(out, format="PNG")
    return out.getvalue()


@contextmanager
def local_s3_server() -> Iterator[str]:
    """moto's S3-compatible server on loopback (a real HTTP server in a thread); yields its URL."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
