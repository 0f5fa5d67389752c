"""Roles and what each may do: the one table every admin check reads."""

from __future__ import annotations

from enum import StrEnum

from core.i18n import N_


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    SUPPORT = "support"
    WAREHOUSE = "warehouse"
    COMPLIANCE = "compliance"


class Permission(StrEnum):
    VIEW_ORDER = "view_order"
    VIEW_FULL_PII = "view_full_pii"
    CHANGE_ADDRESS = "change_address"
    MARK_SHIPPED = "mark_shipped"
    CANCEL_ORDER = "cancel_order"
    ADD_NOTE = "add_note"
    CREATE_DISPUTE = "create_dispute"
    EXPORT = "export"
    MANAGE_RULES = "manage_rules"
    MANAGE_STAFF = "manage_staff"
    VIEW_AUDIT = "view_audit"
    WORK_TRIAGE = "work_triage"
    VIEW_REPORTS = "view_reports"
    MANAGE_MESSAGES = "manage_messages"
    RESEND_MESSAGE = "resend_message"
    VIEW_CUSTOMER_PHOTOS = "view_customer_photos"
    IMPORT_ORDERS = "import_orders"
    MANAGE_API_KEYS = "manage_api_keys"


ROLE_LABELS = {
    Role.ADMIN: N_("Administrator"),
    Role.SUPERVISOR: N_("Supervisor"),
    Role.SUPPORT: N_("Support agent"),
    Role.WAREHOUSE: N_("Warehouse"),
    Role.COMPLIANCE: N_("Compliance"),
}

P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.SUPERVISOR: frozenset({P.VIEW_ORDER, P.VIEW_FULL_PII, P.CHANGE_ADDRESS, P.MARK_SHIPPED, P.CANCEL_ORDER,
                                P.ADD_NOTE, P.CREATE_DISPUTE, P.EXPORT, P.MANAGE_RULES, P.VIEW_AUDIT,
                                P.WORK_TRIAGE, P.VIEW_REPORTS, P.MANAGE_MESSAGES, P.RESEND_MESSAGE,
                                P.VIEW_CUSTOMER_PHOTOS, P.IMPORT_ORDERS}),
    # Support works the disputes, so it sees the customers' photos (each view is audited).
    Role.SUPPORT: frozenset({P.VIEW_ORDER, P.CHANGE_ADDRESS, P.ADD_NOTE, P.CREATE_DISPUTE, P.WORK_TRIAGE,
                             P.RESEND_MESSAGE, P.VIEW_CUSTOMER_PHOTOS}),
    Role.WAREHOUSE: frozenset({P.VIEW_ORDER, P.VIEW_FULL_PII, P.MARK_SHIPPED, P.ADD_NOTE, P.WORK_TRIAGE}),
    Role.COMPLIANCE: frozenset({P.VIEW_ORDER, P.VIEW_FULL_PII, P.EXPORT, P.MANAGE_RULES, P.VIEW_AUDIT,
                                P.WORK_TRIAGE, P.VIEW_REPORTS, P.VIEW_CUSTOMER_PHOTOS}),
}


def can(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
