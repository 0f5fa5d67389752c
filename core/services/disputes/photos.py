"""Customer photos: checked by their content, re-encoded without metadata.

What the browser says (file name, content type) is ignored: Pillow decides what the
bytes are. Every accepted photo is decoded, turned upright by its EXIF orientation
and saved again as a fresh JPEG, so nothing of the original file survives but its
pixels: no EXIF (GPS position, camera serial), no XMP, no comments, no trailing data."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import InvalidInput, NotFound
from core.i18n import N_
from core.models import DisputePhoto
from core.storage import PhotoNotFound, PhotoStorage

MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 10 * 1024 * 1024
# A 10 MB file can still decode to gigabytes of pixels (a "decompression bomb").
MAX_PIXELS = 50_000_000
# Phones take 12-50 MP; staff need to see a dent, not print a poster.
MAX_EDGE = 2560
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


def prepare(upload: Upload) -> PreparedPhoto:
    name = (upload.filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:120]
    if len(upload.data) > MAX_PHOTO_BYTES:
        raise InvalidInput("photos", N_("%(name)s is larger than %(mb)s MB. Choose a smaller photo."),
                           name=name or "?", mb=MAX_PHOTO_BYTES // (1024 * 1024))
    if not upload.data:
        raise InvalidInput("photos", N_("%(name)s is empty."), name=name or "?")
    try:
        # Only these decoders are even tried: no EPS (Ghostscript), PSD, TIFF or other rarely audited parsers.
        with Image.open(io.BytesIO(upload.data), formats=OPENERS) as probe:
            kind = probe.format
            width, height = probe.size
            if kind not in ACCEPTED_FORMATS:
                raise InvalidInput("photos", N_("%(name)s is not a photo (JPEG, PNG or WebP)."), name=name or "?")
            if width * height > MAX_PIXELS:
                raise InvalidInput("photos", N_("%(name)s has too many pixels."), name=name or "?")
            # A JPEG is decoded straight at a reduced scale (1/2, 1/4, 1/8) near the size we keep:
            # a 50-megapixel photo never sits in memory at full size.
            probe.draft("RGB", (MAX_EDGE, MAX_EDGE))
            image = ImageOps.exif_transpose(probe)
            image.load()
            image.thumbnail((MAX_EDGE, MAX_EDGE))
    except InvalidInput:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InvalidInput("photos", N_("%(name)s is not a photo (JPEG, PNG or WebP)."), name=name or "?") from exc
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
    return [prepare(u) for u in uploads]


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
