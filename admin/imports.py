"""Staff with IMPORT_ORDERS: upload a channel's order export, see what went in and what was refused,
and keep their own column mappings."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Template
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from admin.auth import current_staff, staff_actor
from core.errors import InvalidInput
from core.i18n import N_, gettext, translate
from core.models import Channel
from core.services.channels.order_import import ImportSummary, find_mapping, import_file, mapping_of, runs
from core.services.channels.order_import.presets import FIELDS, PRESETS
from core.services.channels.order_import.reader import SUFFIXES
from core.services.identity.permissions import Permission
from core.web.deps import DB
from core.web.htmx import render, see_other

P = Permission
MAX_UPLOAD = 200 * 1024 * 1024  # a year of a busy shop's orders as .csv
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _translated(message: str, params: dict | None) -> str:
    return translate(message, params)


def _reasons(rejections: list[dict]) -> list[dict]:
    """Each refused row with its reason in the viewer's language."""
    return [{"line": r["line"], "column": r["column"], "text": _translated(r["message"], r.get("params"))}
            for r in rejections]


def _upload_page(request: Request, db: DB, *, values: dict[str, str] | None = None,
                 errors: dict[str, str] | None = None, summary: ImportSummary | None = None,
                 status_code: int = 200) -> Template:
    return render(request, "admin/imports.html", "admin/_import_form.html", {
        "staff": current_staff(request), "mappings": runs.mapping_choices(db), "channels": list(Channel),
        "values": values or {"mapping": "taobao", "channel": "taobao"}, "errors": errors or {},
        "summary": summary, "counts": summary,
        "reasons": _reasons([r.as_dict() for r in summary.rejections]) if summary else [],
        "failure": _translated(summary.failure, summary.failure_params) if summary and summary.failure else "",
        "recent": runs.recent_runs(db)}, status_code=status_code)


@get("/imports", name="admin_imports", opt={"permission": P.IMPORT_ORDERS}, sync_to_thread=True)
def imports_page(request: Request, db: DB) -> Template:
    return _upload_page(request, db)


def _save_upload(upload: UploadFile, directory: Path) -> Path:
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput("file", N_("Choose a .csv or .xlsx file."))
    path = directory / f"upload{suffix}"
    upload.file.seek(0)
    with path.open("wb") as target:
        shutil.copyfileobj(upload.file, target, 1 << 20)
    return path


@post("/imports", name="admin_import_upload", opt={"permission": P.IMPORT_ORDERS}, sync_to_thread=True,
      request_max_body_size=MAX_UPLOAD, status_code=200)
def upload(request: Request, db: DB, data: Multipart) -> Response | Template:
    values = {key: _text(data.get(key)) for key in ("mapping", "channel", "dry_run")}
    upload_file = data.get("file")
    errors: dict[str, str] = {}
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        errors["file"] = gettext("Choose the file to import.")
    if values["channel"] not in set(Channel):
        errors["channel"] = gettext("Choose a channel from the list.")
    try:
        mapping = find_mapping(db, values["mapping"])
    except InvalidInput as exc:
        errors["mapping"] = exc.translated()
    if errors:
        return _upload_page(request, db, values=values, errors=errors, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
    mapping = replace(mapping, channel=values["channel"])
    with tempfile.TemporaryDirectory(prefix="orderdesk-import-") as directory:
        try:
            path = _save_upload(upload_file, Path(directory))
        except InvalidInput as exc:
            return _upload_page(request, db, values=values, errors={"file": exc.translated()},
                                status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        summary = import_file(db, staff_actor(request), path, mapping=mapping,
                              file_name=Path(upload_file.filename).name, dry_run=values["dry_run"] == "1")
    if summary.failure and not summary.new + summary.updated + summary.unchanged + summary.rejected:
        # The file as a whole could not be read (wrong layout, not a spreadsheet): say so beside the field.
        return _upload_page(request, db, values=values, errors={
            "file": _translated(summary.failure, summary.failure_params)}, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
    if summary.run_id is not None:
        return see_other(request, request.app.route_reverse("admin_import_run", run_id=summary.run_id))
    return _upload_page(request, db, values=values, summary=summary)


@get("/imports/{run_id:int}", name="admin_import_run", opt={"permission": P.IMPORT_ORDERS}, sync_to_thread=True)
def run_page(request: Request, db: DB, run_id: FromPath[int]) -> Template:
    run = runs.get_run(db, run_id)
    return Template(template_name="admin/import_run.html", context={
        "staff": current_staff(request), "run": run, "reasons": _reasons(runs.rejections_of(run)),
        "failure": run.failure})


# ---- custom mappings ----

def _mapping_page(request: Request, db: DB, *, values: dict[str, str], errors: dict[str, str] | None = None,
                  preview: runs.Preview | None = None, saved: str = "", status_code: int = 200) -> Template:
    return render(request, "admin/import_mappings.html", "admin/_import_mapping_form.html", {
        "staff": current_staff(request), "fields": FIELDS, "channels": list(Channel), "values": values,
        "errors": errors or {}, "preview": preview, "saved": saved, "mappings": runs.saved_mappings(db),
        "presets": PRESETS}, status_code=status_code)


@get("/imports/mappings", name="admin_import_mappings", opt={"permission": P.IMPORT_ORDERS}, sync_to_thread=True)
def mappings_page(request: Request, db: DB, edit: FromQuery[int | None] = None,
                  saved: FromQuery[str] = "") -> Template:
    values = {"channel": "own_shop", "timezone": "Asia/Shanghai"}
    if edit is not None:
        mapping = mapping_of(runs.get_mapping(db, edit))
        values = {"name": mapping.name, "channel": mapping.channel, "timezone": mapping.timezone,
                  **{f"col_{field}": column for field, column in mapping.columns.items()}}
    return _mapping_page(request, db, values=values, saved=saved)


def _error_texts(errors: dict[str, str]) -> dict[str, str]:
    return {key: gettext(message) for key, message in errors.items()}


@post("/imports/mappings", name="admin_import_mapping_save", opt={"permission": P.IMPORT_ORDERS},
      sync_to_thread=True, request_max_body_size=MAX_UPLOAD, status_code=200)
def save_mapping(request: Request, db: DB, data: Multipart) -> Response | Template:
    """Save, or (button "preview" with a sample file) show how the file's first rows would be read."""
    values = {key: _text(value) for key, value in data.items() if not isinstance(value, UploadFile)}
    try:
        mapping = runs.parse_mapping(values)
    except runs.MappingErrors as exc:
        return _mapping_page(request, db, values=values, errors=_error_texts(exc.errors),
                             status_code=HTTP_422_UNPROCESSABLE_ENTITY)
    if values.get("action") == "preview":
        sample = data.get("sample")
        if not isinstance(sample, UploadFile) or not sample.filename:
            return _mapping_page(request, db, values=values, status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                                 errors={"sample": gettext("Choose a sample file to preview.")})
        with tempfile.TemporaryDirectory(prefix="orderdesk-preview-") as directory:
            try:
                shown = runs.preview(_save_upload(sample, Path(directory)), mapping)
            except InvalidInput as exc:
                return _mapping_page(request, db, values=values, errors={"sample": exc.translated()},
                                     status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        return _mapping_page(request, db, values=values, preview=shown)
    runs.save_mapping(db, staff_actor(request), mapping)
    return see_other(request, request.app.route_reverse("admin_import_mappings") + "?"
                     + urlencode({"saved": mapping.name}))
