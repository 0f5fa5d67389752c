"""A value only the database refuses: a trigger that aborts the insert of one order, on SQLite
and on PostgreSQL alike. What the services checked passes; the database still says no."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text


@contextmanager
def database_refuses_order(db, channel_order_no: str) -> Iterator[None]:  # noqa: ANN001
    assert channel_order_no.isalnum()  # spliced into the trigger's SQL
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.execute(text(f"""CREATE TRIGGER refuse_one_order BEFORE INSERT ON orders
                WHEN NEW.channel_order_no = '{channel_order_no}'
                BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"""))
        else:
            conn.execute(text(f"""CREATE FUNCTION refuse_one_order() RETURNS trigger AS $$
                BEGIN
                    IF NEW.channel_order_no = '{channel_order_no}' THEN
                        RAISE EXCEPTION 'refused by the test trigger';
                    END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql"""))
            conn.execute(text("CREATE TRIGGER refuse_one_order BEFORE INSERT ON orders "
                              "FOR EACH ROW EXECUTE FUNCTION refuse_one_order()"))
    try:
        yield
    finally:
        with db.engine.begin() as conn:
            if db.is_sqlite:
                conn.execute(text("DROP TRIGGER refuse_one_order"))
            else:
                conn.execute(text("DROP TRIGGER refuse_one_order ON orders"))
                conn.execute(text("DROP FUNCTION refuse_one_order()"))
