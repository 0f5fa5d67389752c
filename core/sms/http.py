"""A generic HTTP SMS gateway client.

Request: POST {url} with JSON {"to", "text", "sign_name"} and headers
X-Api-Key, X-Timestamp (unix seconds) and X-Signature = hex HMAC-SHA256 of
"{timestamp}\\n{raw body}" under the shared secret. A 2xx answer with JSON
{"message_id": ...} means accepted. Connection errors, timeouts, 429 and 5xx
are retried with exponential backoff; other 4xx are final.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

import httpx

from core.phones import mask_phone
from core.sms.base import SmsError, SmsReceipt

logger = logging.getLogger("orderdesk.sms")


def sign_request(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"\n" + body, hashlib.sha256).hexdigest()


class HttpSms:
    name = "http"

    def __init__(
        self,
        *,
        url: str,
        key: str,
        secret: str,
        timeout: float = 5.0,
        signature: str = "",
        attempts: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        sleep=time.sleep,
    ) -> None:
        self.url = url
        self.key = key
        self.secret = secret
        self.signature = signature
        self.attempts = attempts
        self.backoff = backoff
        self.sleep = sleep
        self.client = httpx.Client(timeout=httpx.Timeout(timeout), transport=transport)

    def send(self, to: str, text: str) -> SmsReceipt:
        body = json.dumps({"to": to, "text": text, "sign_name": self.signature}, ensure_ascii=False).encode()
        last_error = "no attempt made"
        for attempt in range(1, self.attempts + 1):
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "X-Api-Key": self.key,
                "X-Timestamp": timestamp,
                "X-Signature": sign_request(self.secret, timestamp, body),
            }
            try:
                response = self.client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                last_error = f"{exc.__class__.__name__}: {exc}"
            else:
                if response.is_success:
                    try:
                        message_id = str(response.json().get("message_id", ""))
                    except ValueError:
                        message_id = ""
                    return SmsReceipt(provider=self.name, message_id=message_id)
                last_error = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code != 429:
                    break
            logger.warning("SMS to %s failed (attempt %d/%d): %s", mask_phone(to), attempt, self.attempts, last_error)
            if attempt < self.attempts:
                self.sleep(self.backoff * 2 ** (attempt - 1))
        raise SmsError(f"SMS gateway refused the message: {last_error}")
