"""What a shopper's browser does in these tests: read the page as text, fill in
the forms it shows (hidden CSRF field included) and sign in with the SMS code."""

from __future__ import annotations

import json
import re

from bs4 import BeautifulSoup, Tag

from core.config import get_settings
from core.phones import normalize_phone
from core.sms.console import read_outbox

HTMX = {"HX-Request": "true"}


def soup(response) -> BeautifulSoup:  # noqa: ANN001
    return BeautifulSoup(response.text, "html.parser")


def text(node: Tag | None) -> str:
    """The words a person reads in an element, whitespace collapsed."""
    assert node is not None, "element not on the page"
    return " ".join(node.get_text(" ", strip=True).split())


def texts(page: BeautifulSoup | Tag, selector: str) -> list[str]:
    return [text(node) for node in page.select(selector)]


def varies_on(response) -> set[str]:  # noqa: ANN001
    """The request headers a cache must key this response on (lower case)."""
    return {name.strip().lower() for name in response.headers.get("vary", "").split(",") if name.strip()}


def is_fragment(page: BeautifulSoup) -> bool:
    return page.find("html") is None and page.find("body") is None


def form_values(form: Tag) -> dict[str, str]:
    """What the browser would send for the form as it is shown."""
    values: dict[str, str] = {}
    for field in form.select("input[name], select[name], textarea[name]"):
        if field.name == "select":
            chosen = field.select_one("option[selected]") or field.select_one("option")
            values[field["name"]] = chosen.get("value", "") if chosen else ""
        elif field.name == "textarea":
            values[field["name"]] = field.get_text()
        elif field.get("type") in ("checkbox", "radio") and not field.has_attr("checked"):
            continue
        else:
            values[field["name"]] = field.get("value", "")
    return values


def submit(client, page: BeautifulSoup, selector: str, *, htmx: bool = False, headers: dict | None = None,  # noqa: ANN001
           **fields: str):
    """Submit the form `selector` of `page` with some fields filled in, as a plain
    browser would (POST to `action`) or as htmx would (POST to `hx-post`, with the
    page's hx-headers, i.e. the CSRF header)."""
    form = page.select_one(selector)
    assert form is not None, f"no form {selector!r} on the page"
    data = {**form_values(form), **fields}
    sent_headers = dict(headers or {})
    if htmx:
        url = form["hx-post"]
        sent_headers.update(HTMX)
        body = page.find("body")
        if body is not None and body.has_attr("hx-headers"):
            sent_headers.update(json.loads(body["hx-headers"]))
    else:
        assert form["method"].lower() == "post"
        url = form["action"]
    return client.post(url, data=data, headers=sent_headers, follow_redirects=False)


def outbox() -> list[dict]:
    return read_outbox(get_settings().var_dir / "sms-outbox.jsonl")


def texts_to(phone: str) -> list[str]:
    """Every text message sent to a phone during the test session, oldest first."""
    e164 = normalize_phone(phone)
    return [message["text"] for message in outbox() if message["to"] == e164]


def latest_code(phone: str) -> str:
    for message in reversed(texts_to(phone)):
        found = re.search(r"Your code: (\d{6})", message)
        if found:
            return found.group(1)
    raise AssertionError(f"no code was texted to {phone}")


def csrf_token(page: BeautifulSoup) -> str:
    return page.select_one("input[name=_csrf_token]")["value"]


def sign_in_by_sms(client, phone: str, next_path: str = "/orders"):  # noqa: ANN001
    """The whole sign-in as a person does it, without JavaScript; returns the
    answer to the code form (a 303 to `next_path` when it worked)."""
    login = soup(client.get("/login", params={"next": next_path}))
    sent = submit(client, login, "form[action='/login']", phone=phone)
    assert sent.status_code == 303, sent.text
    code_form = soup(client.get(sent.headers["location"]))
    return submit(client, code_form, "form[action='/login/verify']", code=latest_code(phone))
