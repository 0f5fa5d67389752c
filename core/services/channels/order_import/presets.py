"""Column layouts of each platform's order export, and the fields an import can fill.

The column names follow the platforms' back-office exports as merchants download
them (Taobao/Tmall 订单报表, JD 商家后台订单导出, Pinduoduo with its open-platform
field names, Douyin shop 抖店订单导出, Shopify Orders > Export). Platforms rename
columns now and then; a merchant whose file differs saves a custom mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from core.i18n import N_
from core.models import OrderStatus

S = OrderStatus

# field -> (label, what it is); the order of the admin's mapping form.
FIELDS: dict[str, str] = {
    "order_no": N_("Order number"),
    "status": N_("Order status"),
    "created_at": N_("Ordered at"),
    "paid_at": N_("Paid at"),
    "shipped_at": N_("Shipped at"),
    "completed_at": N_("Completed at"),
    "updated_at": N_("Status changed at"),
    "paid_amount": N_("Amount paid"),
    "shipping_fee": N_("Shipping fee"),
    "discount": N_("Discount"),
    "currency": N_("Currency"),
    "sku": N_("SKU"),
    "item_name": N_("Item name"),
    "quantity": N_("Quantity"),
    "unit_price": N_("Unit price"),
    "line_total": N_("Line total"),
    "recipient": N_("Recipient"),
    "phone": N_("Phone"),
    "email": N_("Email"),
    "full_address": N_("Address in one column"),
    "province": N_("Province"),
    "city": N_("City"),
    "district": N_("District"),
    "street": N_("Street"),
    "street2": N_("Street, second line"),
    "postal_code": N_("Postal code"),
}
TIME_FIELDS = ("created_at", "paid_at", "shipped_at", "completed_at", "updated_at")

# What the Chinese platforms write in their status column. Shared by the custom mappings.
CHINESE_STATUS_LABELS: dict[str, OrderStatus] = {
    # Taobao / Tmall
    "等待买家付款": S.PENDING_PAYMENT, "买家已付款，等待卖家发货": S.PAID, "买家已付款,等待卖家发货": S.PAID,
    "等待卖家发货": S.PAID, "卖家已发货，等待买家确认": S.SHIPPED, "卖家已发货,等待买家确认": S.SHIPPED,
    "交易成功": S.DELIVERED, "交易关闭": S.CANCELLED,
    # JD
    "等待付款": S.PENDING_PAYMENT, "等待出库": S.PAID, "等待确认收货": S.SHIPPED, "完成": S.DELIVERED,
    "已取消": S.CANCELLED, "取消": S.CANCELLED,
    # Douyin shop, Pinduoduo (Chinese export)
    "待支付": S.PENDING_PAYMENT, "待付款": S.PENDING_PAYMENT, "备货中": S.PAID, "待发货": S.PAID,
    "已支付": S.PAID, "已发货": S.SHIPPED, "待收货": S.SHIPPED, "已签收": S.DELIVERED, "已完成": S.DELIVERED,
    "已关闭": S.CANCELLED, "已退款": S.REFUNDED, "退款成功": S.REFUNDED,
}


@dataclass(frozen=True)
class Mapping:
    name: str
    channel: str
    columns: dict[str, str]  # field -> source column
    timezone: str = "Asia/Shanghai"
    status_labels: dict[str, OrderStatus] = field(default_factory=lambda: dict(CHINESE_STATUS_LABELS))
    # Rows of one order follow each other and share the order number (one row per line item).
    grouped: bool = False
    # Shopify has no single status column: it is read from several (see rows.shopify_status).
    status_rule: str = "column"
    label: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def column(self, field_name: str) -> str:
        return self.columns.get(field_name, field_name)


PRESETS: dict[str, Mapping] = {
    "taobao": Mapping(
        name="taobao", channel="taobao", label="淘宝/天猫 订单报表",
        columns={
            "order_no": "订单编号", "status": "订单状态", "created_at": "订单创建时间", "paid_at": "订单付款时间",
            "shipped_at": "发货时间", "completed_at": "确认收货时间",
            "paid_amount": "买家实付金额", "line_total": "买家应付货款", "shipping_fee": "买家应付邮费",
            "sku": "商家编码", "item_name": "宝贝标题", "quantity": "宝贝总数量",
            "recipient": "收货人姓名", "phone": "联系手机", "full_address": "收货地址",
        },
    ),
    "jd": Mapping(
        name="jd", channel="jd", label="京东 订单导出", grouped=True,
        columns={
            "order_no": "订单号", "status": "订单状态", "created_at": "下单时间", "paid_at": "付款确认时间",
            "completed_at": "订单完成时间",
            "paid_amount": "应付金额", "shipping_fee": "运费金额", "sku": "商品ID", "item_name": "商品名称",
            "quantity": "订购数量", "unit_price": "京东价",
            "recipient": "客户姓名", "phone": "联系电话", "full_address": "客户地址",
        },
    ),
    "pinduoduo": Mapping(
        name="pinduoduo", channel="pinduoduo", label="拼多多 订单导出",
        # The open platform's numeric order_status: 1 to ship, 2 shipped, 3 signed for.
        status_labels={"1": S.PAID, "2": S.SHIPPED, "3": S.DELIVERED, **CHINESE_STATUS_LABELS},
        columns={
            "order_no": "order_sn", "status": "order_status", "created_at": "created_time", "paid_at": "pay_time",
            "shipped_at": "shipping_time", "completed_at": "receive_time", "updated_at": "updated_at",
            "paid_amount": "pay_amount", "shipping_fee": "postage", "discount": "discount_amount",
            "sku": "outer_id", "item_name": "goods_name", "quantity": "goods_count", "unit_price": "goods_price",
            "recipient": "receiver_name", "phone": "receiver_phone", "province": "province", "city": "city",
            "district": "town", "street": "address",
        },
    ),
    "douyin": Mapping(
        name="douyin", channel="douyin", label="抖店 订单导出", grouped=True,
        columns={
            "order_no": "主订单编号", "status": "订单状态", "created_at": "订单提交时间", "paid_at": "支付完成时间",
            "shipped_at": "发货时间", "completed_at": "订单完成时间",
            "paid_amount": "订单应付金额", "shipping_fee": "运费", "discount": "优惠总金额",
            "sku": "商家编码", "item_name": "选购商品", "quantity": "商品数量", "unit_price": "商品单价",
            "recipient": "收件人", "phone": "收件人手机号", "province": "省", "city": "市", "district": "区",
            "street": "详细地址",
        },
    ),
    "shopify": Mapping(
        name="shopify", channel="shopify", label="Shopify orders export", grouped=True, status_rule="shopify",
        timezone="UTC", status_labels={},
        columns={
            "order_no": "Name", "created_at": "Created at", "paid_at": "Paid at", "shipped_at": "Fulfilled at",
            "updated_at": "Cancelled at", "paid_amount": "Total", "shipping_fee": "Shipping",
            "discount": "Discount Amount", "currency": "Currency",
            "sku": "Lineitem sku", "item_name": "Lineitem name", "quantity": "Lineitem quantity",
            "unit_price": "Lineitem price", "recipient": "Shipping Name", "phone": "Shipping Phone", "email": "Email",
            "province": "Shipping Province", "city": "Shipping City", "street": "Shipping Address1",
            "street2": "Shipping Address2", "postal_code": "Shipping Zip",
        },
    ),
}
# Columns Shopify's status is read from (besides those mapped above).
SHOPIFY_STATUS_COLUMNS = ("Financial Status", "Fulfillment Status", "Cancelled at")
