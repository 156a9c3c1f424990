"""``atoll import base.dtable``: SeaTable's own base export -> a new atoll base.

A ``.dtable`` file is a zip (SeaTable's public docs; the layout ``dtable-events``' ``dtable_io``
writes and reads):

``content.json``     the base: ``tables`` (``_id``, ``name``, ``columns``, ``rows``, ``views``),
                     ``links`` (``table1_id``, ``table2_id``, ``table1_table2_map``), ``settings``,
                     ``plugin_settings``; file and image cells point into the bundle with
                     ``file://dtable-bundle/asset/files/<month>/<name>`` (``.../asset/images/...``)
``asset/...``        the base's asset tree (``files/``, ``images/``, custom folders, plugins)
``forms.json``, ``auto_rules.json``, ``workflows.json``, ``external_apps.json``, ...
                     things atoll does not have: listed in the report, not imported

Every asset is stored (its zip CRC checked by ``zipfile`` while it streams); the bundle URLs
in cells become the new base's asset URLs. Columns of a type atoll lacks, formulas atoll
refuses (and their cells), and everything else not carried over are listed in the report.
"""

from __future__ import annotations

import json
import stat
import zipfile
import zlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from atoll.db import links as lq
from atoll.db import rows as rq
from atoll.services import columns as column_service
from atoll.services.archive_io.target import ImportReport, InvalidArchive, Target, new_base
from atoll.services.context import Context
from atoll.services.formula.table import recompute_table
from atoll.timeutil import utcnow
from atoll.wire.columns import COLUMN_TYPES
from atoll.wire.links import asset_url
from atoll.wire.tables import DEFAULT_VIEW_ID, DEFAULT_VIEW_NAME, new_table, new_view

CONTENT = "content.json"
ASSET_DIR = "asset/"
BUNDLE_PREFIX = "file://dtable-bundle/asset/"
#: Top-level members SeaTable writes that atoll has no counterpart for.
NOT_CARRIED = {
    "forms.json": "forms",
    "auto_rules.json": "automation rules",
    "workflows.json": "workflows",
    "external_apps.json": "external apps (universal apps)",
    "dtable_plugins.json": "plugins",
    "scripts.json": "scripts",
    "comments.json": "row comments",
    "notification_rules.json": "notification rules",
}
ROW_SYSTEM_KEYS = (
    "_id",
    "_ctime",
    "_mtime",
    "_creator",
    "_last_modifier",
    "_participants",
    "_locked",
    "_locked_by",
    "_archived",
)
MAX_ROW_ID_CHARS = 22


def _bundle_path(url: str) -> str | None:
    """``files/2020-01/a.txt`` for a bundle URL, else None."""
    if not url.startswith(BUNDLE_PREFIX):
        return None
    return unquote(url[len(BUNDLE_PREFIX) :])


class _Cells:
    """Bundle URLs -> the new base's asset URLs (for the assets the zip really has)."""

    def __init__(self, ctx: Context, target: Target, present: set[str]) -> None:
        self.server, self.base, self.present = ctx.settings.public_url, target.base, present
        self.missing: set[str] = set()

    def url(self, url: str) -> str:
        path = _bundle_path(url)
        if path is None:
            return url
        if path not in self.present:
            self.missing.add(path)
            return url
        folder, _, name = path.rpartition("/")
        return asset_url(
            self.server,
            workspace_id=self.base.workspace_id,
            dtable_uuid=self.base.uuid,
            relative_path=folder,
            name=name,
        )

    def cell(self, kind: str, value: Any) -> Any:
        if kind == "image" and isinstance(value, list):
            return [self.url(v) if isinstance(v, str) else v for v in value]
        if kind == "file" and isinstance(value, list):
            return [
                {**v, "url": self.url(v["url"])}
                if isinstance(v, dict) and isinstance(v.get("url"), str)
                else v
                for v in value
            ]
        if kind == "long-text" and isinstance(value, dict):
            images = [self.url(i) if isinstance(i, str) else i for i in value.get("images") or []]
            text = value.get("text")
            if isinstance(text, str):
                for old, new in zip(value.get("images") or [], images, strict=True):
                    if isinstance(old, str) and old != new:
                        text = text.replace(old, new)
            return {**value, "images": images, "text": text} if "text" in value else value
        return value


def _asset_members(zf: zipfile.ZipFile, report: ImportReport) -> list[zipfile.ZipInfo]:
    out = []
    for info in zf.infolist():
        name = info.filename
        if name.startswith("/") or ".." in name.split("/") or "\\" in name or "\0" in name:
            raise InvalidArchive(f"refused archive member {name!r}: outside the base's files")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InvalidArchive(f"refused archive member {name!r}: a symbolic link")
        if info.is_dir() or name == CONTENT:
            continue
        if name.startswith(ASSET_DIR):
            out.append(info)
        else:
            what = NOT_CARRIED.get(name, "a file atoll does not know")
            report.not_imported.append(f"{name}: {what} (not imported)")
    return out


def _content(zf: zipfile.ZipFile, max_doc: int) -> dict[str, Any]:
    try:
        info = zf.getinfo(CONTENT)
    except KeyError:
        raise InvalidArchive("not a SeaTable .dtable file: no content.json") from None
    if info.file_size > max_doc:
        raise InvalidArchive(
            f"content.json declares {info.file_size} bytes, more than the {max_doc} a "
            "document may have (ATOLL_IMPORT_MAX_DOCUMENT_BYTES)"
        )
    try:
        with zf.open(info) as f:
            raw = f.read(max_doc + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise InvalidArchive(f"content.json: damaged in the zip ({exc})") from None
    if len(raw) > max_doc:
        raise InvalidArchive("content.json is larger than it declares")
    try:
        content = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise InvalidArchive("content.json is not JSON") from None
    if not isinstance(content, dict) or not isinstance(content.get("tables", []), list):
        raise InvalidArchive("content.json has no list of tables")
    return content


def _columns(table: dict[str, Any], report: ImportReport) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    formulas = []
    for c in table.get("columns", []):
        if not isinstance(c, dict) or not isinstance(c.get("key"), str) or not isinstance(c.get("name"), str):
            continue
        if c.get("type") not in COLUMN_TYPES:
            report.not_imported.append(
                f"table {table['name']!r}, column {c['name']!r}: type {c.get('type')!r} is not supported "
                "(column and its cells not imported)"
            )
        elif c["type"] == "formula":
            formulas.append(c)
        else:
            kept.append(c)
    for c in formulas:  # one at a time: a refused formula is listed, the others kept
        trial = {"columns": [*kept, c]}
        try:
            column_service.check_formulas(trial)
            kept.append(c)
        except Exception as exc:
            report.not_imported.append(
                f"table {table['name']!r}, formula column {c['name']!r}: atoll "
                f"refuses its formula ({exc}); column not imported"
            )
    return kept


def _views(table: dict[str, Any], keys: set[str], report: ImportReport) -> list[dict[str, Any]]:
    views = []
    for v in table.get("views", []):
        if not isinstance(v, dict) or not isinstance(v.get("_id"), str):
            continue
        base = new_view(v["_id"], str(v.get("name") or v["_id"]), str(v.get("type") or "table"))
        view = {**base, **{k: v[k] for k in base if k in v}}
        for part in ("filters", "sorts", "groupbys"):
            given = view.get(part) or []
            view[part] = [
                x
                for x in given
                if not isinstance(x, dict) or x.get("column_key", "") in keys or "column_key" not in x
            ]
            if len(view[part]) != len(given):
                report.not_imported.append(
                    f"table {table['name']!r}, view {view['name']!r}: {part} on "
                    "columns not imported were dropped"
                )
        view["hidden_columns"] = [k for k in view.get("hidden_columns") or [] if k in keys]
        views.append(view)
    return views or [new_view(DEFAULT_VIEW_ID, DEFAULT_VIEW_NAME)]


def _table(src: dict[str, Any], report: ImportReport) -> dict[str, Any]:
    if not isinstance(src.get("_id"), str) or not isinstance(src.get("name"), str):
        raise InvalidArchive("content.json: a table lacks its _id or name")
    columns = _columns(src, report)
    table = new_table(src["_id"], src["name"], columns)
    views = _views(src, {c["key"] for c in columns}, report)
    table["views"] = views
    table["view_structure"] = {"folders": [], "view_ids": [v["_id"] for v in views]}
    for key in ("header_settings", "summary_configs"):
        if isinstance(src.get(key), dict):
            table[key] = src[key]
    return table


def _time(value: Any, fallback: str) -> str:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).isoformat()
        except ValueError:
            pass
    return fallback


def _rows(target: Target, src: dict[str, Any], table: dict[str, Any], cells: _Cells) -> None:
    types = {c["key"]: c["type"] for c in table["columns"]}
    batch: list[rq.StoredRow] = []
    for i, r in enumerate(src.get("rows", []), start=1):
        if (
            not isinstance(r, dict)
            or not isinstance(r.get("_id"), str)
            or not 0 < len(r["_id"]) <= MAX_ROW_ID_CHARS
        ):
            raise InvalidArchive(f"content.json: table {table['name']!r} has a row without a valid _id")
        data = {k: cells.cell(types[k], v) for k, v in r.items() if k in types and types[k] != "link"}
        batch.append(
            rq.StoredRow(
                row_id=r["_id"],
                table_id=table["_id"],
                seq=i * rq.SEQ_STEP,
                ctime=_time(r.get("_ctime"), target.now),
                mtime=_time(r.get("_mtime"), target.now),
                creator=str(r.get("_creator") or "import"),
                last_modifier=str(r.get("_last_modifier") or r.get("_creator") or "import"),
                data=data,
            )
        )
        if len(batch) >= rq.BATCH_ROWS:
            target.add_rows(table, batch)
            batch = []
    target.add_rows(table, batch)
    if any(c["type"] == "formula" for c in table["columns"]):
        recompute_table(target.conn, target.base.uuid, table)


def _links(
    target: Target, content: dict[str, Any], tables: dict[str, dict[str, Any]], report: ImportReport
) -> None:
    row_ids = {
        t["_id"]: {r.get("_id") for r in t.get("rows", []) if isinstance(r, dict)}
        for t in content.get("tables", [])
        if isinstance(t, dict) and t.get("_id") in tables
    }
    for link in content.get("links") or []:
        if not isinstance(link, dict):
            continue
        link_id, t1, t2 = link.get("_id"), link.get("table1_id"), link.get("table2_id")
        if not isinstance(link_id, str) or t1 not in tables or t2 not in tables:
            report.not_imported.append(f"link {link_id!r}: its tables are not in the base (not imported)")
            continue
        mapping = link.get("table1_table2_map") or {}
        side = lq.side_of(t1, t2)
        given = {(str(a), str(b)) for a, bs in mapping.items() if isinstance(bs, list) for b in bs}
        known = {(a, b) for a, b in given if a in row_ids.get(t1, ()) and b in row_ids.get(t2, ())}
        if len(known) != len(given):
            report.not_imported.append(
                f"link {link_id!r}: {len(given) - len(known)} pair(s) naming rows the base lacks "
                "(not imported)"
            )
        pairs = {lq.stored_pair(side, a, b) for a, b in known}
        small, large = (t1, t2) if side is not lq.Side.REVERSE else (t2, t1)
        target.add_links(
            [
                {
                    "link_id": link_id,
                    "row_id": a,
                    "other_row_id": b,
                    "table_id": small,
                    "other_table_id": large,
                }
                for a, b in sorted(pairs)
            ]
        )


def _leftovers(content: dict[str, Any], report: ImportReport) -> None:
    plugins = content.get("plugin_settings")
    if plugins:
        report.not_imported.append(f"plugin settings ({', '.join(sorted(map(str, plugins)))}): not imported")
    for table in content.get("tables", []):
        if isinstance(table, dict) and any(
            v.get("type") not in (None, "table") for v in table.get("views", []) if isinstance(v, dict)
        ):
            report.not_imported.append(f"table {table.get('name')!r}: non-grid views imported as plain views")


async def import_dtable(
    ctx: Context,
    path: str,
    *,
    name: str | None = None,
    workspace: str | None = None,
    default_name: str = "Imported",
) -> ImportReport:
    """Import a SeaTable ``.dtable`` file as a new base."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidArchive(f"not a readable .dtable (zip) file ({exc})") from None
    with zf:
        content = _content(zf, ctx.settings.import_max_document_bytes)
        async with new_base(ctx, name or default_name, workspace or "Default") as target:
            report = target.report
            members = _asset_members(zf, report)
            for info in members:
                rel = info.filename[len(ASSET_DIR) :]
                folder, _, file_name = rel.rpartition("/")
                mtime = datetime(*info.date_time, tzinfo=UTC) if info.date_time[0] >= 1980 else utcnow()
                try:
                    with zf.open(info) as f:
                        await target.add_asset(
                            old_uuid=None,
                            dir_path="/" + folder,
                            name=file_name,
                            size=info.file_size,
                            sha256=None,
                            mtime=mtime,
                            reader=f,
                        )
                except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                    raise InvalidArchive(f"{info.filename}: damaged in the zip ({exc})") from None
            cells = _Cells(ctx, target, {i.filename[len(ASSET_DIR) :] for i in members})
            tables = [_table(t, report) for t in content.get("tables", []) if isinstance(t, dict)]
            target.put_doc({"tables": tables, "settings": content.get("settings") or {}})
            by_id = {t["_id"]: t for t in tables}
            for src in content.get("tables", []):
                _rows(target, src, by_id[src["_id"]], cells)
            _links(target, content, by_id, report)
            _leftovers(content, report)
            for missing in sorted(cells.missing):
                report.not_imported.append(
                    f"asset/{missing}: referenced by a cell but not in the file (cell URL kept as it was)"
                )
            return report
