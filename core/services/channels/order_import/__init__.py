"""Importing a channel's order export (.csv or .xlsx): every valid order goes in exactly once,
every refused row is reported with its line, column and reason, and the run is recorded.

Rows are streamed; orders are written in batches (one write transaction each), so a
large file neither sits in memory nor holds the database's write lock for long. A dry
run goes through the same steps and rolls them back (on SQLite batch by batch, see _run).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from core.db import Database
from core.errors import DomainError, InvalidInput
from core.i18n import N_, interpolate
from core.models import Channel, ImportMapping, ImportRun, OrderStatus, utcnow
from core.services.actors import Actor
from core.services.audit import trail as audit
from core.services.channels import ingest, ingest_batch
from core.services.channels.ingest import IncomingOrder
from core.services.channels.order_import.presets import PRESETS, SHOPIFY_STATUS_COLUMNS, Mapping
from core.services.channels.order_import.reader import SUFFIXES, read_rows
from core.services.channels.order_import.rows import (
    Rejection,
    Row,
    RowRejected,
    build_incoming,
    column_for,
    reject,
)
from core.services.identity.permissions import Permission

logger = logging.getLogger("orderdesk.import")

BATCH_SIZE = 500
KEPT_REJECTIONS = 1000


@dataclass
class ImportSummary:
    file_name: str
    channel: str
    mapping: str
    dry_run: bool
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    failure: str = ""
    failure_params: dict = field(default_factory=dict)
    run_id: int | None = None
    # Rows are refused by the reader thread (bad data) and by the writer (refused while written).
    _rejecting: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def reject(self, rejection: Rejection) -> None:
        with self._rejecting:
            self.rejected += 1
            if len(self.rejections) < KEPT_REJECTIONS:
                self.rejections.append(rejection)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


class _RollBack(Exception):
    """Ends a dry run's transaction without writing."""


def find_mapping(db: Database, name: str) -> Mapping:
    """A preset by name, or a mapping saved in the admin."""
    if name in PRESETS:
        return PRESETS[name]
    with db.read() as session:
        saved = session.exec(select(ImportMapping).where(ImportMapping.name == name)).first()
    if saved is None:
        raise InvalidInput("mapping", N_("There is no mapping called %(name)s."), name=name)
    return mapping_of(saved)


def mapping_of(saved: ImportMapping) -> Mapping:
    return Mapping(name=saved.name, channel=saved.channel, columns=json.loads(saved.columns),
                   timezone=saved.timezone, label=saved.name)


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("timezone", N_("Unknown time zone %(name)s."), name=name) from None
    return name


def required_columns(mapping: Mapping) -> list[str]:
    fields = ["order_no", "created_at", "recipient", "phone", "quantity"]
    fields.append("unit_price" if "unit_price" in mapping.columns else "line_total")
    if "full_address" in mapping.columns:
        fields.append("full_address")
    else:
        fields += ["province", "city", "street"]
    if "item_name" not in mapping.columns:
        fields.append("sku")
    columns = [mapping.column(name) for name in fields]
    if mapping.status_rule == "shopify":
        columns += list(SHOPIFY_STATUS_COLUMNS[:2])
    else:
        columns.append(mapping.column("status"))
    return columns


def order_groups(mapping: Mapping, rows: Iterator[Row]) -> Iterator[list[Row]]:
    """One list of rows per order: consecutive rows with the same number when the export has a row per item."""
    number_column = mapping.column("order_no")
    group: list[Row] = []
    for line, row in rows:
        if group and mapping.grouped and row.get(number_column) and row.get(number_column) == group[0][1].get(
                number_column):
            group.append((line, row))
            continue
        if group:
            yield group
        group = [(line, row)]
    if group:
        yield group


# One checked order of the file: the line its rows start on, the order, the status it goes to.
Checked = tuple[int, IncomingOrder, OrderStatus]


def _write_batch(session: Session, batch: list[Checked], summary: ImportSummary, mapping: Mapping,
                 actor: Actor) -> None:
    """One batch in the caller's transaction: an order refused while it is written (by a rule
    or by the database) is one refused row, the others go in."""
    entries = ingest_batch.store_batch(session, [(incoming, target) for _, incoming, target in batch],
                                       via="import", actor=actor.name)
    for (line, _, _), entry in zip(batch, entries, strict=True):
        if entry.refusal is None:
            summary.count(entry.outcome)
            continue
        exc = entry.refusal
        column = column_for(mapping, exc.field) if isinstance(exc, InvalidInput) else ""
        summary.reject(Rejection(line, column, exc.message, dict(exc.params)))


def import_file(
    db: Database, actor: Actor, path: Path, *, mapping: Mapping, file_name: str | None = None, dry_run: bool = False,
    warehouse_id: int | None = None, batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Import one file. Bad rows are reported, never raised; a file that cannot be read at all
    ends with `failure` set (and what was already written stays). The orders' history names the
    actor; the run is recorded under the actor's name and `via`, with an audit entry when staff ran it."""
    actor.require(Permission.IMPORT_ORDERS)
    summary = ImportSummary(file_name=file_name or path.name, channel=mapping.channel, mapping=mapping.name,
                            dry_run=dry_run)
    started = utcnow()
    if mapping.channel not in set(Channel):
        summary.failure, summary.failure_params = N_("Unknown sales channel %(channel)s."), {"channel": mapping.channel}
    else:
        try:
            _run(db, path, mapping, summary, dry_run=dry_run, actor=actor, warehouse_id=warehouse_id,
                 batch_size=batch_size)
        except _RollBack:
            pass
        except DomainError as exc:
            summary.failure, summary.failure_params = exc.message, dict(exc.params)
        except SQLAlchemyError as exc:
            # E.g. another import wrote the same new order a moment earlier (unique constraint): the
            # batches before this one stay, this one is rolled back; importing the file again finishes it.
            logger.warning("order import of %s stopped: %s", summary.file_name, exc)
            summary.failure = N_("The database refused a batch (%(error)s); the batches before it were "
                                 "written. Import the file again to finish it.")
            summary.failure_params = {"error": exc.__class__.__name__}
    if not dry_run:
        _record(db, actor, summary, started=started)
    return summary


def _run(db: Database, path: Path, mapping: Mapping, summary: ImportSummary, *, dry_run: bool, actor: Actor,
         warehouse_id: int | None, batch_size: int) -> None:
    if path.suffix.lower() not in SUFFIXES:
        raise InvalidInput("file", N_("Choose a .csv or .xlsx file."))
    header, rows = read_rows(path)
    missing = [column for column in required_columns(mapping) if column not in header]
    if missing:
        rows.close()
        raise InvalidInput("file", N_("The file has no column %(columns)s; is it a %(mapping)s export?"),
                           columns="、".join(missing), mapping=mapping.label or mapping.name)

    def checked_batches() -> Iterator[list[Checked]]:
        batch: list[Checked] = []
        for group in order_groups(mapping, rows):
            try:
                incoming = build_incoming(mapping, group, warehouse_id=warehouse_id)
                try:
                    batch.append((group[0][0], *ingest.check_incoming(incoming)))
                except InvalidInput as exc:
                    raise reject(mapping, group[0][0], exc) from None
            except RowRejected as refused:
                summary.reject(refused.rejection)
                continue
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    if dry_run and not db.is_sqlite:
        with db.write() as session:
            for batch in read_ahead(checked_batches()):
                _write_batch(session, batch, summary, mapping, actor)
            raise _RollBack
    if dry_run:
        # SQLite has one write lock for the whole database: a dry run in one transaction would
        # hold up every sign-in and address change until the file is done. Each batch is tried
        # and rolled back on its own instead; an order met again in a later batch of the same
        # file (which the real import would find written) counts as unchanged.
        earlier: set[tuple[str, str]] = set()
        for batch in read_ahead(checked_batches()):
            keys = [(incoming.order.channel, incoming.order.channel_order_no) for _, incoming, _ in batch]
            fresh = [item for item, key in zip(batch, keys, strict=True) if key not in earlier]
            summary.unchanged += len(batch) - len(fresh)
            with contextlib.suppress(_RollBack), db.write() as session:
                _write_batch(session, fresh, summary, mapping, actor)
                raise _RollBack
            earlier.update(keys)
        return
    # One write transaction per batch: a large file never holds the write lock for long.
    for batch in read_ahead(checked_batches()):
        with db.write() as session:
            _write_batch(session, batch, summary, mapping, actor)


def read_ahead(batches: Iterator[list], depth: int = 2) -> Iterator[list]:
    """The next batches are read and checked in a thread while this one is written: the
    database driver lets go of the GIL while the database works, so parsing and writing overlap."""
    done = object()
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        """Hand over, unless the consumer has stopped (then nobody would take it: give up)."""
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    return
            put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(exc)

    reader = threading.Thread(target=produce, name="order-import-reader", daemon=True)
    reader.start()
    try:
        while (item := handoff.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join(timeout=5)


def _record(db: Database, actor: Actor, summary: ImportSummary, *, started: datetime) -> None:
    """The run and its audit entry, in one transaction."""
    with db.write() as session:
        run = ImportRun(
            file_name=summary.file_name[:255], channel=summary.channel[:16], mapping=summary.mapping[:64],
            actor=actor.name[:254], via=actor.via[:16], started_at=started, finished_at=utcnow(), new=summary.new,
            updated=summary.updated, unchanged=summary.unchanged, rejected=summary.rejected,
            rejections=json.dumps([r.as_dict() for r in summary.rejections], ensure_ascii=False),
            failure=interpolate(summary.failure, summary.failure_params)[:500],
        )
        session.add(run)
        session.flush()
        summary.run_id = run.id
        if actor.is_staff:
            audit.append(session, actor, "import_orders", detail={
                "run": run.id, "file": summary.file_name, "channel": summary.channel, "mapping": summary.mapping,
                "new": summary.new, "updated": summary.updated, "unchanged": summary.unchanged,
                "rejected": summary.rejected})
