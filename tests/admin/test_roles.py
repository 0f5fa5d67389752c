"""The role matrix: every role against every action, decided in one place."""

from datetime import UTC, datetime, timedelta

import pytest

from core.services.actors import Actor
from core.services.identity.permissions import ROLE_PERMISSIONS, Permission, Role
from core.services.orders import lifecycle as order_service
from core.services.orders import shipping
from tests.factories import make_order


@pytest.fixture
def order(db, warehouses):
    return make_order(db, paid=True, warehouse_id=warehouses["HZ"].id)


@pytest.fixture
def shipped(db, warehouses):
    order = make_order(db, paid=True, warehouse_id=warehouses["HZ"].id)
    shipping.mark_shipped(db, Actor.integration("t", via="api"), order.ref, carrier="SF", tracking_no="SF55",
                          at=datetime.now(UTC) - timedelta(days=1))
    return order


def actions(ref):
    """(permission, method, path, form) for every guarded action."""
    return [
        (Permission.VIEW_ORDER, "get", f"/admin/orders/{ref}", None),
        (Permission.VIEW_ORDER, "get", "/admin/orders?q=x", None),
        (Permission.VIEW_ORDER, "get", "/admin/disputes", None),
        (Permission.ADD_NOTE, "post", f"/admin/orders/{ref}/notes", {"body": "客户来电"}),
        (Permission.CREATE_DISPUTE, "post", f"/admin/orders/{ref}/disputes", {"kind": "late", "claim": "太慢了"}),
        (Permission.EXPORT, "post", "/admin/orders/export", {}),
        (Permission.VIEW_AUDIT, "get", "/admin/audit", None),
        (Permission.MANAGE_STAFF, "post", "/admin/audit.csv", {}),
        (Permission.CHANGE_ADDRESS, "post", f"/admin/orders/{ref}/address",
         {"recipient": "王五", "phone": "13700000000", "province": "浙江省", "city": "杭州市", "district": "上城区",
          "street": "解放路 1 号 101 室"}),
        (Permission.CANCEL_ORDER, "post", f"/admin/orders/{ref}/cancel", {"reason": "客户要求取消"}),
        (Permission.MANAGE_MESSAGES, "get", "/admin/messages", None),
        (Permission.MANAGE_MESSAGES, "post", "/admin/messages/delivered/en",
         {"body": "Order {ref} arrived. Problems? {link}"}),
    ]


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_role_against_every_action(as_staff, order, role):
    client = as_staff(role)
    allowed = ROLE_PERMISSIONS[Role(role)]
    for permission, method, path, form in actions(order.ref):
        if method == "get":
            response = client.get(path, follow_redirects=False)
        else:
            response = client.post(path, data={**form, "_csrf_token": client.csrf}, follow_redirects=False)
        if permission in allowed:
            assert response.status_code in (200, 303), (role, path, response.status_code)
        else:
            assert response.status_code == 403, (role, path, response.status_code)


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_mark_shipped_by_role(as_staff, db, warehouses, role):
    order = make_order(db, paid=True, warehouse_id=warehouses["HZ"].id)
    client = as_staff(role)
    response = client.post(f"/admin/orders/{order.ref}/ship",
                           data={"carrier": "ZTO", "tracking_no": "7300999", "_csrf_token": client.csrf},
                           follow_redirects=False)
    if Permission.MARK_SHIPPED in ROLE_PERMISSIONS[Role(role)]:
        assert response.status_code == 303
        assert order_service.get_order(db, order.ref).status == "shipped"
    else:
        assert response.status_code == 403
        assert order_service.get_order(db, order.ref).status == "paid"


def test_no_session_goes_to_the_sign_in_page(client, order):
    response = client.get(f"/admin/orders/{order.ref}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/login?next=%2Fadmin%2Forders%2F{order.ref}"


def test_a_customer_session_never_reaches_the_admin(client, db, order):
    from core.services.identity.customer_sessions import start_session

    client.cookies.set("od_session", start_session(db, phone="+8613800138000"))
    response = client.get("/admin/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login")


def test_warehouse_staff_see_only_their_warehouse(as_staff, db, warehouses):
    other = make_order(db, paid=True, warehouse_id=warehouses["GZ"].id)
    mine = make_order(db, paid=True, warehouse_id=warehouses["HZ"].id)
    client = as_staff("warehouse")
    assert client.get(f"/admin/orders/{mine.ref}").status_code == 200
    assert client.get(f"/admin/orders/{other.ref}").status_code == 404
    response = client.post(f"/admin/orders/{other.ref}/ship",
                           data={"carrier": "SF", "tracking_no": "SF123456", "_csrf_token": client.csrf})
    assert response.status_code == 404
    assert order_service.get_order(db, other.ref).status == "paid"


def test_changes_need_the_csrf_token(as_staff, order):
    client = as_staff("admin")
    response = client.post(f"/admin/orders/{order.ref}/notes", data={"body": "x"})
    assert response.status_code == 403


def test_address_change_after_shipping_is_refused_for_staff_too(as_staff, db, shipped):
    client = as_staff("supervisor")
    response = client.post(f"/admin/orders/{shipped.ref}/address", data={
        "recipient": "王五", "phone": "13700000000", "province": "浙江省", "city": "杭州市", "district": "上城区",
        "street": "解放路 1 号 101 室", "_csrf_token": client.csrf})
    assert response.status_code == 409
    assert order_service.get_order(db, shipped.ref).ship_recipient == "张三"
