from litestar import Router
from litestar.exceptions import PermissionDeniedException

from admin.api_keys import api_keys_page, create_api_key, revoke_api_key
from admin.audit_log import audit_export, audit_page
from admin.auth import (
    StaffLoginRequired,
    forbidden_handler,
    login,
    login_page,
    logout,
    staff_guard,
    staff_login_required_handler,
)
from admin.disputes import (
    change_status,
    dispute_list,
    dispute_page,
    dispute_photo,
    download_pack,
    generate_evidence,
    open_dispute,
    reply_to_customer,
)
from admin.health import health_page
from admin.home import admin_home
from admin.imports import imports_page, mappings_page, run_page, save_mapping, upload
from admin.messages import message_page, messages_page, preview_message, reset_message, save_message
from admin.orders import (
    add_note,
    cancel_order,
    change_order_address,
    export_orders,
    mark_shipped,
    order_evidence,
    order_page,
    order_search,
    resend_message,
    reveal_order,
)
from admin.reports import weekly_csv, weekly_page
from admin.triage import assign_tag, resolve_tag, reveal_tag, send_reply, tag_page, triage_queue_page
from admin.triage_rules import preview_rule, rule_page, rules_page, save_rule

admin_router = Router(
    path="/admin",
    guards=[staff_guard],
    route_handlers=[
        login_page, login, logout, admin_home,
        order_search, export_orders, order_page, reveal_order, add_note, change_order_address,
        mark_shipped, cancel_order, order_evidence, resend_message,
        dispute_list, open_dispute, dispute_page, generate_evidence, download_pack, change_status,
        reply_to_customer, dispute_photo,
        audit_page, audit_export, health_page,
        triage_queue_page, tag_page, reveal_tag, resolve_tag, assign_tag, send_reply,
        rules_page, rule_page, preview_rule, save_rule,
        weekly_page, weekly_csv,
        messages_page, message_page, preview_message, save_message, reset_message,
        imports_page, upload, run_page, mappings_page, save_mapping,
        api_keys_page, create_api_key, revoke_api_key,
    ],
    exception_handlers={StaffLoginRequired: staff_login_required_handler,
                        PermissionDeniedException: forbidden_handler},
)

__all__ = ["admin_router"]
