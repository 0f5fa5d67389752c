"""Customer photos: checked by their content, re-encoded without metadata.

What the browser says (file name, content type) is ignored: Pillow decides what the
bytes are. Every accepted photo is decoded, turned upright by its EXIF orientation
and saved again as a fresh JPEG, so nothing of the original file survives but its
pixels: no EXIF (GPS position, camera serial), no XMP, no comments, no trailing data."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import InvalidInput, NotFound
from core.i18n import N_
from core.models import DisputePhoto
from core.storage import PhotoNotFound, PhotoStorage

MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 10 * 1024 * 1024
# A 10 MB file can still decode to gigabytes of pixels (a "decompression bomb"). The cost of a photo is
# the pixels its decoder must hold: a JPEG is decoded at 1/2, 1/4 or 1/8 scale near the size we keep,
# every other format (PNG, WebP, HEIF) at full size. Both limits are read from the file's header,
# before anything is decoded.
MAX_PIXELS = 50_000_000  # a JPEG: up to 50 MP (phones take 12-50 MP)
MAX_FULL_DECODE_PIXELS = 16_000_000  # a PNG/WebP/HEIF: 16 MP, 64 MB of RGBA at most
MAX_REPORT_DECODE_PIXELS = 6 * 12_000_000  # six ordinary phone photos, decoded one after the other
# Phones take 12-50 MP; staff need to see a dent, not print a poster.
MAX_EDGE = 2560
JPEG_SCALES = (8, 4, 2)
# Decoding is CPU and memory: at most two photos are decoded at once per process, so a few shoppers
# sending photos at the same moment cannot take every request thread's memory.
_DECODE_SLOTS = threading.BoundedSemaphore(2)
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}  # MPO: a JPEG with a second frame (some phone cameras)
OPENERS = ["JPEG", "PNG", "WEBP"]

try:  # HEIC (iPhone) only where the optional pillow-heif plug-in is installed.
    from pillow_heif import register_heif_opener  # type: ignore[import-not-found]

    register_heif_opener()
    ACCEPTED_FORMATS |= {"HEIF"}
    OPENERS.append("HEIF")
except ImportError:  # pragma: no cover - depends on the installation
    pass


@dataclass(frozen=True)
class Upload:
    """One file as it arrived; `filename` is only ever shown back, never used as a path."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class PreparedPhoto:
    data: bytes
    media_type: str
    width: int
    height: int
    original_name: str


def _name(upload: Upload) -> str:
    return (upload.filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:120] or "?"


def _not_a_photo(name: str) -> InvalidInput:
    return InvalidInput("photos", N_("%(name)s is not a photo (JPEG, PNG or WebP)."), name=name)


def decode_cost(kind: str, width: int, height: int) -> int:
    """Pixels the decoder holds for a photo of this format and size (JPEG: at the reduced scale
    Pillow's draft mode picks, the largest that still leaves both edges at least MAX_EDGE)."""
    if kind in ("JPEG", "MPO"):
        for scale in JPEG_SCALES:
            if width // scale >= MAX_EDGE and height // scale >= MAX_EDGE:
                return (width // scale) * (height // scale)
    return width * height


@dataclass(frozen=True)
class Probed:
    upload: Upload
    name: str
    kind: str
    cost: int


def probe(upload: Upload) -> Probed:
    """What a file is and what decoding it would cost, from its header alone (no pixel is decoded)."""
    name = _name(upload)
    if len(upload.data) > MAX_PHOTO_BYTES:
        raise InvalidInput("photos", N_("%(name)s is larger than %(mb)s MB. Choose a smaller photo."),
                           name=name, mb=MAX_PHOTO_BYTES // (1024 * 1024))
    if not upload.data:
        raise InvalidInput("photos", N_("%(name)s is empty."), name=name)
    try:
        # Only these decoders are even tried: no EPS (Ghostscript), PSD, TIFF or other rarely audited parsers.
        with Image.open(io.BytesIO(upload.data), formats=OPENERS) as header:
            kind, (width, height) = header.format, header.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise _not_a_photo(name) from exc
    if kind not in ACCEPTED_FORMATS:
        raise _not_a_photo(name)
    cost = decode_cost(kind, width, height)
    if width * height > MAX_PIXELS or (kind not in ("JPEG", "MPO") and cost > MAX_FULL_DECODE_PIXELS):
        raise InvalidInput("photos", N_("%(name)s has too many pixels."), name=name)
    return Probed(upload=upload, name=name, kind=kind, cost=cost)


def prepare(upload: Upload) -> PreparedPhoto:
    return _decode(probe(upload))


def _decode(probed: Probed) -> PreparedPhoto:
    name = probed.name
    with _DECODE_SLOTS:
        try:
            with Image.open(io.BytesIO(probed.upload.data), formats=OPENERS) as source:
                # A JPEG is decoded straight at a reduced scale (1/2, 1/4, 1/8) near the size we keep:
                # a 50-megapixel photo never sits in memory at full size.
                source.draft("RGB", (MAX_EDGE, MAX_EDGE))
                image = ImageOps.exif_transpose(source)
                image.load()
                image.thumbnail((MAX_EDGE, MAX_EDGE))
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            raise _not_a_photo(name) from exc
        if image.mode not in ("RGB", "L"):
            # Transparency becomes white, as a photo viewer would show it.
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size, (255, 255, 255))
            image.paste(rgba, mask=rgba.getchannel("A"))
        image.thumbnail((MAX_EDGE, MAX_EDGE))
        # Pillow carries some metadata over from `info` (the ICC profile into a JPEG): drop it all.
        image.info = {}
        out = io.BytesIO()
        # No exif=, icc_profile= or comment=: the new file carries pixels only.
        image.save(out, format="JPEG", quality=85, optimize=True)
    return PreparedPhoto(data=out.getvalue(), media_type="image/jpeg", width=image.width, height=image.height,
                         original_name=name)


def prepare_all(uploads: list[Upload]) -> list[PreparedPhoto]:
    uploads = [u for u in uploads if u.data or u.filename]
    if len(uploads) > MAX_PHOTOS:
        raise InvalidInput("photos", N_("At most %(n)s photos, please."), n=MAX_PHOTOS)
    # Every header is read, and the whole report priced, before the first photo is decoded.
    probed = [probe(u) for u in uploads]
    if sum(p.cost for p in probed) > MAX_REPORT_DECODE_PIXELS:
        raise InvalidInput("photos", N_("These photos are too large together. Send fewer or smaller photos."))
    return [_decode(p) for p in probed]


@dataclass(frozen=True)
class ShownPhoto:
    content: bytes
    media_type: str


def photo_from(storage: PhotoStorage, photo: DisputePhoto) -> ShownPhoto:
    """The stored bytes of a photo whose row the caller found in scope; gone from the store is a 404."""
    try:
        return ShownPhoto(content=storage.get(photo.storage_key), media_type=photo.media_type)
    except PhotoNotFound:
        raise NotFound(N_("No such photo.")) from None
