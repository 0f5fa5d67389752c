"""Where customer photos live: a local directory by default, S3-compatible object
storage when configured so that several app servers share one store.

Keys are opaque names made by us (never from the upload's filename); the bytes are
never served from a public URL: portal and admin routes read them through here after
checking who is asking."""

from __future__ import annotations

from functools import lru_cache

from core.config import Settings
from core.storage.base import PhotoNotFound, PhotoStorage
from core.storage.local import LocalStorage
from core.storage.s3 import S3Storage


@lru_cache(maxsize=4)
def get_photo_storage(settings: Settings) -> PhotoStorage:
    """One store per process and settings (a boto3 client is thread-safe and costly to build)."""
    if settings.s3_bucket:
        return S3Storage(endpoint_url=settings.s3_endpoint_url, bucket=settings.s3_bucket,
                         access_key_id=settings.s3_access_key_id, secret_access_key=settings.s3_secret_access_key,
                         region=settings.s3_region)
    return LocalStorage(settings.upload_dir)


__all__ = ["PhotoNotFound", "PhotoStorage", "get_photo_storage"]
