"""What a WeChat template message says for each outbox event.

Template messages are laid out by the template the merchant picks in the
official-account console; orderdesk fills the classic fields: `first` (the
headline), `keyword1` (the order number), `keyword2` (the news), `keyword3`
(more detail, when the event has any) and `remark` (what to do next). Tapping
the message opens the order page, where WeChat signs the shopper in silently.
The outbox row keeps the message and the text message to send instead, so the
SMS fallback needs nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# event -> (first, keyword2, keyword3 or None, remark); {placeholders} as in the SMS texts.
LAYOUTS: dict[str, tuple[str, str, str | None, str]] = {
    "order_confirmed": ("您的订单已付款成功", "已付款", None, "我们将于 {ship_by} 前发货，点击查看订单。"),
    "shipped": ("您的订单已发货", "{carrier}", "运单号 {tracking_no}", "预计 {expected} 前送达，点击查看物流详情。"),
    "address_changed": ("您的收货地址已修改", "{place}", "收件人 {recipient}",
                        "预计 {expected} 前送达。如非本人操作，请联系客服。"),
    "delayed": ("抱歉，您的订单已超过承诺送达时间", "承诺送达 {promised}", None, "我们正在跟进，补偿规则见服务条款。"),
    "out_for_delivery": ("您的包裹正在派送中", "派送中", None, "请保持电话畅通，点击查看物流详情。"),
    "delivered": ("您的包裹已签收", "已签收", None, "如有问题，请在订单页反馈。"),
    "dispute_update": ("您反馈的问题有了新进展", "{status}", None, "点击查看详情。"),
}
# WeChat cuts template fields at about 20 characters for "thing" fields; keep them readable.
FIELD_LIMIT = 60


def _fill(template: str, params: dict[str, str]) -> str:
    try:
        value = template.format(**params)
    except (KeyError, IndexError, ValueError):
        value = template
    return value[:FIELD_LIMIT]


def template_message(event: str, *, openid: str, template_id: str, url: str, ref: str,
                     params: dict[str, str]) -> dict:
    """The JSON body of cgi-bin/message/template/send."""
    first, news, detail, remark = LAYOUTS[event]
    data = {"first": _fill(first, params), "keyword1": ref, "keyword2": _fill(news, params)}
    if detail is not None:
        data["keyword3"] = _fill(detail, params)
    data["remark"] = _fill(remark, params)
    return {"touser": openid, "template_id": template_id, "url": url,
            "data": {key: {"value": value} for key, value in data.items()}}


@dataclass(frozen=True)
class QueuedWechat:
    message: dict
    sms_to: str
    sms_text: str


def outbox_body(message: dict, *, sms_to: str, sms_text: str) -> str:
    return json.dumps({"template": message, "fallback_sms": {"to": sms_to, "text": sms_text}},
                      ensure_ascii=False, sort_keys=True)


def read_outbox_body(body: str) -> QueuedWechat:
    stored = json.loads(body)
    return QueuedWechat(message=stored["template"], sms_to=stored["fallback_sms"]["to"],
                        sms_text=stored["fallback_sms"]["text"])
