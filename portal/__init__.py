from litestar import Router

from portal.account import account_page, wechat_unlink
from portal.auth import (
    LoginRequired,
    login_page,
    login_required_handler,
    login_resend,
    login_send,
    login_verify,
    login_verify_page,
    logout,
)
from portal.evidence import evidence_pdf, verify_page
from portal.home import home, terms_current
from portal.orders import address_change, address_form, hurry_order, order_detail, order_list, order_terms
from portal.problems import problem_form, problem_photo, problem_submit
from portal.tracking import tracking_qr, tracking_view
from portal.wechat import wechat_authorize, wechat_callback

portal_router = Router(
    path="/",
    route_handlers=[
        home,
        terms_current,
        login_page,
        login_send,
        login_verify_page,
        login_verify,
        login_resend,
        logout,
        order_list,
        order_detail,
        order_terms,
        address_form,
        address_change,
        hurry_order,
        problem_form,
        problem_submit,
        problem_photo,
        tracking_view,
        tracking_qr,
        evidence_pdf,
        verify_page,
        wechat_authorize,
        wechat_callback,
        account_page,
        wechat_unlink,
    ],
    exception_handlers={LoginRequired: login_required_handler},
)

__all__ = ["portal_router"]
