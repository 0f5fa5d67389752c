"""The merchant's WeChat official account: HTTP client, simulated server, user-agent check."""

from core.wechat.client import (
    TOKEN_ERRCODES,
    WechatApiError,
    WechatClient,
    WechatError,
    WechatUnavailable,
    authorize_url,
    client_from_settings,
    in_wechat,
)

__all__ = [
    "TOKEN_ERRCODES",
    "WechatApiError",
    "WechatClient",
    "WechatError",
    "WechatUnavailable",
    "authorize_url",
    "client_from_settings",
    "in_wechat",
]
