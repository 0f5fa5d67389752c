"""What staff see of imports: past runs, saved mappings, a preview of a file's first orders."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path

from sqlmodel import func, select

from core.db import Database
from core.errors import InvalidInput, NotFound
from core.i18n import N_
from core.models import Channel, ImportMapping, ImportRun, utcnow
from core.services.actors import Actor
from core.services.audit import trail as audit
from core.services.channels.ingest import check_incoming
from core.services.channels.order_import import check_timezone, order_groups, required_columns
from core.services.channels.order_import.presets import FIELDS, PRESETS, Mapping
from core.services.channels.order_import.reader import read_rows
from core.services.channels.order_import.rows import RowRejected, build_incoming, reject
from core.services.identity.permissions import Permission


class MappingErrors(InvalidInput):
    def __init__(self, errors: dict[str, str]) -> None:
        field, message = next(iter(errors.items()))
        super().__init__(field, message)
        self.errors = errors


def recent_runs(db: Database, limit: int = 20) -> list[ImportRun]:
    with db.read() as session:
        return list(session.exec(select(ImportRun).order_by(ImportRun.started_at.desc(), ImportRun.id.desc())
                                 .limit(limit)))


def get_run(db: Database, run_id: int) -> ImportRun:
    with db.read() as session:
        run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFound(N_("No such import."))
    return run


def rejections_of(run: ImportRun) -> list[dict]:
    return json.loads(run.rejections or "[]")


@dataclass
class ImportErrors:
    rejected_rows: int
    failed_runs: int
    runs: list[ImportRun]  # the recent runs with something refused or a failure


def import_errors(db: Database, now: datetime | None = None, hours: int = 24) -> ImportErrors:
    since = (now or utcnow()) - timedelta(hours=hours)
    with db.read() as session:
        rejected, failed = session.exec(select(
            func.coalesce(func.sum(ImportRun.rejected), 0),
            func.count().filter(ImportRun.failure != ""),
        ).where(ImportRun.started_at >= since)).one()
        runs = list(session.exec(select(ImportRun).where(
            ImportRun.started_at >= since, (ImportRun.rejected > 0) | (ImportRun.failure != ""))
            .order_by(ImportRun.started_at.desc()).limit(10)))
    return ImportErrors(rejected_rows=int(rejected), failed_runs=int(failed), runs=runs)


def saved_mappings(db: Database) -> list[ImportMapping]:
    with db.read() as session:
        return list(session.exec(select(ImportMapping).order_by(ImportMapping.name)))


def mapping_choices(db: Database) -> list[tuple[str, str]]:
    """(name, label) of every preset and saved mapping, for a select."""
    return [(name, preset.label) for name, preset in PRESETS.items()] + [
        (saved.name, saved.name) for saved in saved_mappings(db)]


def parse_mapping(data: dict[str, str]) -> Mapping:
    """A mapping from the admin's form: name, channel, timezone and one source column per field."""
    errors: dict[str, str] = {}
    name = " ".join((data.get("name") or "").split())
    if not name:
        errors["name"] = N_("This field is required.")
    elif name in PRESETS:
        errors["name"] = N_("This name belongs to a built-in preset.")
    elif len(name) > 64:
        errors["name"] = N_("This is too long.")
    channel = data.get("channel", "")
    if channel not in set(Channel):
        errors["channel"] = N_("Choose a channel from the list.")
    timezone = (data.get("timezone") or "Asia/Shanghai").strip()
    try:
        check_timezone(timezone)
    except InvalidInput as exc:
        errors["timezone"] = exc.message
    columns = {field: (data.get(f"col_{field}") or "").strip() for field in FIELDS}
    columns = {field: column for field, column in columns.items() if column}
    needed = ["order_no", "status", "created_at", "recipient", "phone", "quantity"]
    for field in needed:
        if field not in columns:
            errors[f"col_{field}"] = N_("This field is required.")
    if "unit_price" not in columns and "line_total" not in columns:
        errors["col_unit_price"] = N_("Give the unit price or the line total.")
    if "item_name" not in columns and "sku" not in columns:
        errors["col_item_name"] = N_("Give the item name or the SKU.")
    if "full_address" not in columns:
        for field in ("province", "city", "street"):
            if field not in columns:
                errors[f"col_{field}"] = N_("Give this column, or the address in one column.")
    if errors:
        raise MappingErrors(errors)
    return Mapping(name=name, channel=channel, columns=columns, timezone=timezone, label=name)


def save_mapping(db: Database, actor: Actor, mapping: Mapping) -> ImportMapping:
    """Store a column mapping under its name (a second save replaces it), with its audit entry."""
    actor.require(Permission.IMPORT_ORDERS)
    with db.write() as session:
        saved = session.exec(select(ImportMapping).where(ImportMapping.name == mapping.name)).first()
        if saved is None:
            saved = ImportMapping(name=mapping.name, channel=mapping.channel)
        saved.channel = mapping.channel
        saved.columns = json.dumps(mapping.columns, ensure_ascii=False, sort_keys=True)
        saved.timezone = mapping.timezone
        saved.updated_by = actor.name
        saved.updated_at = utcnow()
        session.add(saved)
        session.flush()
        audit.append(session, actor, "import_mapping_save", detail={
            "mapping": mapping.name, "channel": mapping.channel, "columns": mapping.columns,
            "timezone": mapping.timezone})
        return saved


def get_mapping(db: Database, mapping_id: int) -> ImportMapping:
    with db.read() as session:
        saved = session.get(ImportMapping, mapping_id)
    if saved is None:
        raise NotFound(N_("No such mapping."))
    return saved


@dataclass
class PreviewRow:
    line: int
    order_no: str
    status: str
    created_at: datetime | None
    recipient: str
    place: str
    items: int
    total_minor: int
    currency: str
    problem: str = ""
    problem_params: dict | None = None
    problem_column: str = ""


@dataclass
class Preview:
    header: list[str]
    missing: list[str]
    rows: list[PreviewRow]
    first_cells: list[list[str]]


def preview(path: Path, mapping: Mapping, limit: int = 5) -> Preview:
    """The file's columns, which the mapping needs but the file lacks, and its first orders as they would go in."""
    header, rows = read_rows(path)
    cells: list[list[str]] = []
    buffered = []
    for line, row in islice(rows, limit * 4):
        buffered.append((line, row))
        if len(cells) < limit:
            cells.append([row.get(name, "") for name in header])
    rows.close()
    missing = [column for column in required_columns(mapping) if column not in header]
    shown: list[PreviewRow] = []
    if not missing:
        for group in islice(order_groups(mapping, iter(buffered)), limit):
            try:
                try:
                    incoming, _ = check_incoming(build_incoming(mapping, group))
                except InvalidInput as exc:
                    raise reject(mapping, group[0][0], exc) from None
            except RowRejected as refused:
                r = refused.rejection
                shown.append(PreviewRow(line=r.line, order_no=group[0][1].get(mapping.column("order_no"), ""),
                                        status="", created_at=None, recipient="", place="", items=0, total_minor=0,
                                        currency="", problem=r.message, problem_params=r.params,
                                        problem_column=r.column))
                continue
            new = incoming.order
            shown.append(PreviewRow(
                line=group[0][0], order_no=new.channel_order_no, status=incoming.status, created_at=new.created_at,
                recipient=new.address.recipient, place=new.address.one_line, items=len(new.lines),
                total_minor=sum(x.quantity * x.unit_price_minor for x in new.lines) + new.shipping_minor
                - new.discount_minor, currency=new.currency))
    return Preview(header=header, missing=missing, rows=shown, first_cells=cells)
