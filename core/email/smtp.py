"""Plain-text e-mail over SMTP (smtplib): one connection per message, STARTTLS when
configured, AUTH when a user name is given. The outbox worker retries with backoff,
so a failed attempt here is reported, not repeated."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from core.email.base import EmailError, EmailReceipt


class SmtpEmail:
    name = "smtp"

    def __init__(self, *, host: str, port: int, sender: str, username: str = "", password: str = "",
                 starttls: bool = True, timeout: float = 10.0, tls_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout
        self.tls_context = tls_context

    def send(self, to: str, subject: str, text: str) -> EmailReceipt:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        domain = self.sender.rpartition("@")[2].strip(">") or None
        message["Message-ID"] = message_id = make_msgid(domain=domain)
        message.set_content(text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as server:
                if self.starttls:
                    server.starttls(context=self.tls_context or ssl.create_default_context())
                if self.username:
                    server.login(self.username, self.password)
                server.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            # 5xx: the server will never take this address; 4xx (mailbox busy, greylisting) passes.
            raise EmailError(f"SMTP refused the recipient: {codes}", final=all(code >= 500 for code in codes)) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise EmailError(f"SMTP authentication failed: {exc.smtp_code}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise EmailError(f"SMTP: {exc.__class__.__name__}: {exc}") from exc
        return EmailReceipt(provider=self.name, message_id=message_id)
