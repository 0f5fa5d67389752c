from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from core.models.types import UTCDateTime, utcnow


class ImportRun(SQLModel, table=True):
    """One import of an order file: what came in, what was refused and why, who did it."""

    __tablename__ = "import_run"
    __table_args__ = (Index("ix_import_run_started", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    file_name: str = Field(max_length=255)
    channel: str = Field(max_length=16)
    mapping: str = Field(max_length=64)
    actor: str = Field(max_length=254)
    via: str = Field(max_length=16)  # cli, admin
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    # [{"line": 7, "column": "联系手机", "message": msgid, "params": {...}}, ...] (the first 1000)
    rejections: str = Field(default="[]", sa_type=Text)
    # Set when the run stopped on something other than a bad row (unreadable file, database error).
    failure: str = Field(default="", max_length=500)


class ImportMapping(SQLModel, table=True):
    """A merchant's own column layout: which source column feeds which order field."""

    __tablename__ = "import_mapping"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    channel: str = Field(max_length=16)
    # {"order_no": "单号", "phone": "手机", ...}
    columns: str = Field(default="{}", sa_type=Text)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    updated_by: str = Field(default="", max_length=254)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
