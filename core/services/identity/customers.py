"""Shoppers, known by their phone number: an order, a sign-in verified by SMS or a WeChat link
finds the customer, or creates one."""

from __future__ import annotations

from sqlmodel import Session, select

from core.models import Customer
from core.phones import normalize_phone


def get_or_create_customer(session: Session, phone: str, name: str = "", email: str | None = None) -> Customer:
    """The customer with this phone; an e-mail address given with a new order replaces the one on file
    (the newest order knows best where the customer reads mail)."""
    e164 = normalize_phone(phone)
    customer = session.exec(select(Customer).where(Customer.phone == e164)).first()
    if customer is None:
        customer = Customer(phone=e164, name=name, email=email)
        session.add(customer)
        session.flush()
    elif email and customer.email != email:
        customer.email = email
        session.add(customer)
    return customer
