"""Staff-editable texts of the customer messages, per event and language.

An edited text may use only the placeholders its event fills in ({ref}, {link}, ...),
by plain name: no attribute access, indexing or format specs, which in a Python
format string could reach beyond the values it is given. Resetting removes the
edit and the built-in text applies again. Each save and reset is audited in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from string import Formatter

from sqlmodel import select

from core.db import Database
from core.errors import InvalidInput, NotFound
from core.i18n import N_
from core.models import MessageTemplate, utcnow
from core.services.actors import Actor
from core.services.audit import trail as audit
from core.services.identity.permissions import Permission
from core.services.messaging.outbox import DEFAULT_TEMPLATES

LOCALES = ("zh_CN", "en")
MAX_LENGTH = 500
# What a preview fills in: plausible values of the right length, so the segment count is honest.
SAMPLE_VALUES = {
    "ref": "OD7K2M9QX4TB", "ship_by": "11月23日 18:00", "carrier": "顺丰速运", "tracking_no": "SF1234567890123",
    "expected": "11月25日 18:00", "link": "https://shop.example.com/t/OD7K2M9QX4TB.0.6a1f2c.Xy9", "place": "浙江省杭州市西湖区",
    "recipient": "张*", "promised": "11月24日 18:00", "status": "处理中",
}


def placeholders(event: str) -> list[str]:
    """The names an event's message can use: those its built-in texts use."""
    names: list[str] = []
    for text in DEFAULT_TEMPLATES[event].values():
        for _literal, name, _spec, _conversion in Formatter().parse(text):
            if name and name not in names:
                names.append(name)
    return names


def sms_segments(text: str) -> int:
    """How many SMS a text is billed as: 70 characters in one, 67 per part when longer
    (China's carriers bill Chinese and Latin text alike by character)."""
    length = len(text)
    return 1 if length <= 70 else -(-length // 67)


@dataclass
class TemplateView:
    event: str
    locale: str
    body: str
    custom: bool
    updated_at: datetime | None
    updated_by: str

    @property
    def preview(self) -> str:
        return fill(self.body, SAMPLE_VALUES)

    @property
    def segments(self) -> int:
        return sms_segments(self.preview)


def fill(body: str, values: dict[str, str]) -> str:
    return body.format(**{name: values.get(name, "") for name in _names(body)})


def _names(body: str) -> list[str]:
    return [name for _literal, name, _spec, _conversion in Formatter().parse(body) if name]


def _check_known(event: str, locale: str) -> None:
    if event not in DEFAULT_TEMPLATES or locale not in LOCALES:
        raise NotFound(N_("There is no such message."))


def list_templates(db: Database) -> list[TemplateView]:
    with db.read() as session:
        edited = {(t.event, t.locale): t for t in session.exec(select(MessageTemplate)).all()}
    views = []
    for event in DEFAULT_TEMPLATES:
        for locale in LOCALES:
            row = edited.get((event, locale))
            views.append(TemplateView(
                event=event, locale=locale, body=row.body if row else default_text(event, locale),
                custom=row is not None, updated_at=row.updated_at if row else None,
                updated_by=row.updated_by if row else ""))
    return views


def get_template(db: Database, event: str, locale: str) -> TemplateView:
    _check_known(event, locale)
    return next(v for v in list_templates(db) if v.event == event and v.locale == locale)


def default_text(event: str, locale: str) -> str:
    return DEFAULT_TEMPLATES[event].get(locale) or DEFAULT_TEMPLATES[event]["zh_CN"]


def validate(event: str, body: str) -> str:
    text = body.strip().replace("\r\n", "\n")
    if not text:
        raise InvalidInput("body", N_("The message cannot be empty."))
    if len(text) > MAX_LENGTH:
        raise InvalidInput("body", N_("At most %(n)s characters."), n=MAX_LENGTH)
    allowed = placeholders(event)
    try:
        parts = list(Formatter().parse(text))
    except ValueError as exc:
        raise InvalidInput("body", N_("A brace is not closed. Write {{ and }} for a literal brace.")) from exc
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            raise InvalidInput("body", N_("Unknown placeholder {%(name)s}. This message can use: %(allowed)s."),
                               name=name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else ""),
                               allowed=" ".join("{" + n + "}" for n in allowed))
    if "link" in allowed and "link" not in _names(text):
        # The link is how the customer reaches the order; a message without it strands them.
        raise InvalidInput("body", N_("Keep the {link} placeholder: it is how the customer reaches the order."))
    return text


def save_template(db: Database, actor: Actor, event: str, locale: str, body: str) -> tuple[str, str]:
    """Store an edited text with its audit entry; returns (before, after)."""
    actor.require(Permission.MANAGE_MESSAGES)
    _check_known(event, locale)
    text = validate(event, body)
    with db.write() as session:
        row = session.exec(select(MessageTemplate).where(MessageTemplate.event == event,
                                                         MessageTemplate.locale == locale)).first()
        before = row.body if row else default_text(event, locale)
        if row is None:
            row = MessageTemplate(event=event, locale=locale, body=text)
        row.body, row.updated_at, row.updated_by = text, utcnow(), actor.name
        session.add(row)
        audit.append(session, actor, "message_template_update",
                     detail={"event": event, "locale": locale, "before": before, "after": text})
    return before, text


def reset_template(db: Database, actor: Actor, event: str, locale: str) -> str | None:
    """Back to the built-in text; returns the edited text that was removed, if any (and only
    then is there something to audit)."""
    actor.require(Permission.MANAGE_MESSAGES)
    _check_known(event, locale)
    with db.write() as session:
        row = session.exec(select(MessageTemplate).where(MessageTemplate.event == event,
                                                         MessageTemplate.locale == locale)).first()
        if row is None:
            return None
        session.delete(row)
        audit.append(session, actor, "message_template_reset",
                     detail={"event": event, "locale": locale, "before": row.body})
        return row.body
