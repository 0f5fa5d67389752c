from __future__ import annotations

from sqlmodel import Field, SQLModel


class Warehouse(SQLModel, table=True):
    __tablename__ = "warehouse"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=64)
    province: str = Field(max_length=32)
    city: str = Field(max_length=32)
