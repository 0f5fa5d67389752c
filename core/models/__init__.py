"""All table models; importing this package registers them on SQLModel.metadata."""

from core.models.api import ApiIdempotency, ApiIntegration, ApiKey, ApiRateWindow
from core.models.auth import CustomerSession, LoginCode
from core.models.customer import Customer
from core.models.dispute import Dispute, DisputeAction, DisputePhoto, DisputeStatus, DisputeType, ProblemReport
from core.models.evidence import CarrierPush, EvidenceDownload, EvidencePack
from core.models.order import Channel, Order, OrderHistory, OrderLine, OrderStatus, OrderStatusCount
from core.models.order_import import ImportMapping, ImportRun
from core.models.outbox import JobRun, MessageTemplate, OutboxMessage
from core.models.shipment import AppendOnlyViolation, Carrier, Shipment, TrackingEvent, TrackingTag
from core.models.staff import AuditEntry, OrderNote, Staff, StaffSession
from core.models.stock import SkuStock
from core.models.task import WarehouseTask
from core.models.terms import ServiceTerms
from core.models.triage import OrderTag, TriageQueue, TriageRule, TriageTag
from core.models.types import UTCDateTime, utcnow
from core.models.warehouse import Warehouse
from core.models.wechat import WechatAccessToken, WechatBinding, WechatBindingEvent, WechatLogin

__all__ = [
    "ApiIdempotency",
    "ApiIntegration",
    "ApiKey",
    "ApiRateWindow",
    "AppendOnlyViolation",
    "AuditEntry",
    "Dispute",
    "DisputeAction",
    "DisputePhoto",
    "ProblemReport",
    "DisputeStatus",
    "DisputeType",
    "ImportMapping",
    "ImportRun",
    "JobRun",
    "MessageTemplate",
    "OrderNote",
    "OutboxMessage",
    "Staff",
    "StaffSession",
    "Carrier",
    "Channel",
    "CarrierPush",
    "Customer",
    "EvidenceDownload",
    "EvidencePack",
    "CustomerSession",
    "LoginCode",
    "WarehouseTask",
    "Order",
    "OrderHistory",
    "OrderLine",
    "OrderStatus",
    "OrderStatusCount",
    "OrderTag",
    "ServiceTerms",
    "Shipment",
    "SkuStock",
    "TrackingEvent",
    "TrackingTag",
    "TriageQueue",
    "TriageRule",
    "TriageTag",
    "UTCDateTime",
    "Warehouse",
    "WechatAccessToken",
    "WechatBinding",
    "WechatBindingEvent",
    "WechatLogin",
    "utcnow",
]
