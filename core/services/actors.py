"""Who does something: the Actor every use case takes.

A use case checks what the actor may touch (a customer only their own orders, warehouse staff only
their warehouse's) under the same row lock as the change, and writes the actor into the order's
history and the audit trail in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement

from core.errors import NotFound
from core.i18n import N_
from core.models import Order, Staff
from core.services.identity.permissions import Permission, Role, can


class ActorKind(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"
    INTEGRATION = "integration"


class Forbidden(NotFound):
    """The actor may not do this. Shown as "not found" so nobody learns what exists beyond their scope."""


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    # What the order history and the audit trail show: a staff member's e-mail, "customer:<phone>",
    # "system", or an integration's key name.
    name: str
    via: str  # portal, tracking_link, wechat, admin, api, import, job, cli
    client_ip: str = ""
    staff_id: int | None = None
    role: str | None = None
    warehouse_id: int | None = None
    customer_phone: str | None = None

    @classmethod
    def staff_member(cls, staff: Staff, *, via: str = "admin", client_ip: str = "") -> Actor:
        return cls(ActorKind.STAFF, staff.email, via, client_ip[:45], staff_id=staff.id, role=staff.role,
                   warehouse_id=staff.warehouse_id)

    @classmethod
    def customer(cls, phone: str, *, via: str = "portal", client_ip: str = "") -> Actor:
        return cls(ActorKind.CUSTOMER, f"customer:{phone}", via, client_ip[:45], customer_phone=phone)

    @classmethod
    def system(cls, *, via: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, "system", via)

    @classmethod
    def integration(cls, name: str, *, via: str = "api", client_ip: str = "") -> Actor:
        return cls(ActorKind.INTEGRATION, name, via, client_ip[:45])

    @property
    def is_staff(self) -> bool:
        return self.kind == ActorKind.STAFF

    def can(self, permission: Permission) -> bool:
        """Staff by their role; the system and integrations act on behalf of the merchant."""
        if self.kind == ActorKind.STAFF:
            return self.role is not None and can(self.role, permission)
        return self.kind in (ActorKind.SYSTEM, ActorKind.INTEGRATION)

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(N_("No such order."))

    def orders_in_scope(self) -> ColumnElement[bool] | None:
        """may_see as SQL, for lists and counts: the condition on `orders` rows a staff member may open
        (None: every order, and no condition to pay for)."""
        if self.kind == ActorKind.STAFF and self.role == Role.WAREHOUSE:
            return Order.warehouse_id == self.warehouse_id
        return None

    def limit_to_scope(self, statement):  # noqa: ANN001, ANN201 (a Select over orders)
        """`statement` (which selects from `orders`) limited to the orders the actor may open."""
        scope = self.orders_in_scope()
        return statement if scope is None else statement.where(scope)

    def may_see(self, order: Order, owner_phone: str | None = None) -> bool:
        """The scope rule of every order use case: a customer sees their own orders (`owner_phone` is
        the order's customer's phone), warehouse staff their warehouse's, everyone else all."""
        if self.kind == ActorKind.CUSTOMER:
            return owner_phone is not None and owner_phone == self.customer_phone
        if self.kind == ActorKind.STAFF and self.role == Role.WAREHOUSE:
            return order.warehouse_id == self.warehouse_id
        return True
