from __future__ import annotations

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel


class SkuStock(SQLModel, table=True):
    __tablename__ = "sku_stock"
    __table_args__ = (
        UniqueConstraint("sku", "warehouse_id", name="uq_sku_stock_sku_warehouse"),
        CheckConstraint("on_hand >= 0", name="ck_sku_stock_on_hand_nonneg"),
        CheckConstraint("reserved >= 0", name="ck_sku_stock_reserved_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64, index=True)
    warehouse_id: int = Field(foreign_key="warehouse.id")
    on_hand: int = Field(default=0)
    reserved: int = Field(default=0)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved
