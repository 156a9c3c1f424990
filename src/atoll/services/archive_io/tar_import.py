"""``atoll import base.tar``: an atoll base archive (``layout``) -> a new base, streamed.

The tar is read once, front to back (``tarfile`` ``r|``, so a pipe works too), and never
extracted: documents are read into memory (each at most ``import_max_document_bytes``), blobs
go straight into the blob store. Every member is checked against its PAX SHA-256 as it streams,
blobs also against their asset record, and the manifest at the end against the list of members
read. Refused before anything is read: names outside the layout (``../x``, ``/etc/x``), links,
devices and other non-regular members, documents declared larger than the limit, blobs whose
declared size is not their record's. Any failure leaves nothing (``target.new_base``).
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from atoll.db import rows as rq
from atoll.errors import ChecksumMismatch
from atoll.services.archive_io import layout
from atoll.services.archive_io.target import COPY_CHUNK_BYTES, ImportReport, InvalidArchive, Target, new_base
from atoll.services.archive_io.urls import REWRITTEN_TYPES, UrlRewriter
from atoll.services.context import Context
from atoll.wire.copy_urls import custom_uuids

SHA_RE = re.compile(r"^[0-9a-f]{64}$")
#: The order of the parts of an archive: a member may not come after a later part's.
PHASES = {"base.json": 0, "assets": 1, "blobs": 1, "rows": 2, "links": 3, "manifest.json": 4}


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    try:
        yield from tar
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InvalidArchive(f"the archive is damaged or truncated ({exc})") from None


def _checked(member: tarfile.TarInfo, max_doc: int) -> str:
    name = member.name
    if not layout.MEMBER_RE.match(name):
        raise InvalidArchive(f"refused archive member {name!r}: not part of an atoll base archive")
    if not member.isreg():
        raise InvalidArchive(f"refused archive member {name!r}: not a regular file (link or device)")
    sha = member.pax_headers.get(layout.SHA_PAX, "")
    if not SHA_RE.match(sha):
        raise InvalidArchive(f"archive member {name!r} has no SHA-256 record")
    if not name.startswith("blobs/") and member.size > max_doc:
        raise InvalidArchive(
            f"archive member {name!r} declares {member.size} bytes, more than the "
            f"{max_doc} a document may have (ATOLL_IMPORT_MAX_DOCUMENT_BYTES)"
        )
    return sha


def _read_doc(tar: tarfile.TarFile, member: tarfile.TarInfo, sha: str) -> bytes:
    f = tar.extractfile(member)
    assert f is not None
    try:
        data = f.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InvalidArchive(f"the archive is damaged or truncated ({exc})") from None
    if len(data) != member.size:
        raise InvalidArchive(f"{member.name}: the archive ends inside this member (truncated)")
    if hashlib.sha256(data).hexdigest() != sha:
        raise ChecksumMismatch(f"{member.name}: SHA-256 mismatch; the archive was altered or damaged")
    return data


def _jsonl(data: bytes, name: str) -> list[dict[str, Any]]:
    try:
        out = [json.loads(line) for line in data.splitlines() if line.strip()]
    except ValueError as exc:
        raise InvalidArchive(f"{name}: not JSON lines ({exc})") from None
    if not all(isinstance(r, dict) for r in out):
        raise InvalidArchive(f"{name}: every line must be a JSON object")
    return out


class _Import:
    def __init__(self, ctx: Context, tar: tarfile.TarFile, base_doc: dict[str, Any], target: Target) -> None:
        self.ctx, self.tar, self.target = ctx, tar, target
        self.log = layout.MemberLog()
        self.phase = 0
        self.pending: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.doc: dict[str, Any] = base_doc["doc"]
        self.tables = {t["_id"]: t for t in self.doc.get("tables", []) if isinstance(t, dict) and "_id" in t}
        src = base_doc["base"]
        self.rewriter_args = (str(base_doc.get("server_url", "")), int(src["workspace_id"]), str(src["uuid"]))
        self.manifest: dict[str, Any] | None = None

    def _phase(self, name: str) -> None:
        phase = PHASES[name.split("/")[0]]
        if phase < self.phase or self.manifest is not None:
            raise InvalidArchive(f"archive member {name!r} is out of order")
        if phase > 1 and self.pending:
            raise InvalidArchive(
                f"the archive lacks the bytes of {len(self.pending)} asset(s) "
                f"(first: {next(iter(self.pending))})"
            )
        self.phase = phase

    async def member(self, member: tarfile.TarInfo) -> None:
        sha = _checked(member, self.ctx.settings.import_max_document_bytes)
        name = member.name
        if name == layout.BASE_DOC:
            raise InvalidArchive("the archive has base.json twice")
        self._phase(name)
        if name.startswith("blobs/"):
            await self._blob(member, sha)
        else:
            data = _read_doc(self.tar, member, sha)
            if name == layout.MANIFEST:
                self._manifest(data)
                return
            records = _jsonl(data, name)
            kind = name.split("/")[0]
            if kind == "assets":
                self._asset_records(records, name)
            elif kind == "rows":
                self._rows(records, name)
            else:
                self._links(records, name)
        self.log.add(name, member.size, sha)

    def _asset_records(self, records: list[dict[str, Any]], name: str) -> None:
        if self.pending:
            raise InvalidArchive(f"{name}: the previous assets' bytes are missing")
        for r in records:
            try:
                size, sha = int(r["size"]), str(r["sha256"])
                str(r["uuid"]), str(r["dir_path"]), str(r["name"])
            except (KeyError, TypeError, ValueError):
                raise InvalidArchive(
                    f"{name}: an asset record lacks uuid, dir_path, name, size or sha256"
                ) from None
            if size < 0 or not SHA_RE.match(sha):
                raise InvalidArchive(f"{name}: asset {r['uuid']} has an invalid size or SHA-256")
            self.pending[layout.blob_name(str(r["uuid"]))] = r

    async def _blob(self, member: tarfile.TarInfo, sha: str) -> None:
        if not self.pending or next(iter(self.pending)) != member.name:
            raise InvalidArchive(f"archive member {member.name!r} has no asset record before it")
        record = self.pending.popitem(last=False)[1]
        if member.size != int(record["size"]) or sha != record["sha256"]:
            raise ChecksumMismatch(
                f"{member.name}: size or SHA-256 differ from its asset record; the archive was altered"
            )
        f = self.tar.extractfile(member)
        assert f is not None
        try:
            mtime = datetime.fromisoformat(str(record.get("mtime")))
        except ValueError:
            mtime = None
        try:
            await self.target.add_asset(
                old_uuid=str(record["uuid"]),
                dir_path=str(record["dir_path"]),
                name=str(record["name"]),
                size=member.size,
                sha256=sha,
                mtime=mtime,
                reader=f,
            )
        except (tarfile.TarError, EOFError) as exc:
            raise InvalidArchive(f"the archive is damaged or truncated ({exc})") from None

    def _rewriter(self, wanted: set[str]) -> UrlRewriter:
        mapped = self.target.imported_uuids(wanted)
        base = self.target.base
        return UrlRewriter(
            *self.rewriter_args, self.ctx.settings.public_url, base.workspace_id, base.uuid, mapped.get
        )

    def _rows(self, records: list[dict[str, Any]], name: str) -> None:
        by_table: dict[str, list[rq.StoredRow]] = {}
        try:
            for r in records:
                row = rq.StoredRow(
                    row_id=str(r["row_id"]),
                    table_id=str(r["table_id"]),
                    seq=int(r["seq"]),
                    ctime=str(r["ctime"]),
                    mtime=str(r["mtime"]),
                    creator=str(r["creator"]),
                    last_modifier=str(r["last_modifier"]),
                    data=dict(r["data"]),
                )
                if row.table_id not in self.tables or not 0 < len(row.row_id) <= 22:
                    raise InvalidArchive(
                        f"{name}: row {row.row_id!r} of an unknown table or with an invalid id"
                    )
                by_table.setdefault(row.table_id, []).append(row)
        except (KeyError, TypeError, ValueError):
            raise InvalidArchive(f"{name}: a row record is incomplete") from None
        for table_id, rows in by_table.items():
            table = self.tables[table_id]
            self.target.add_rows(table, self._rewrite(table, rows))

    def _rewrite(self, table: dict[str, Any], rows: list[rq.StoredRow]) -> list[rq.StoredRow]:
        columns = [
            (c["key"], c["type"]) for c in table.get("columns", []) if c.get("type") in REWRITTEN_TYPES
        ]
        if not columns:
            return rows
        wanted = {u for r in rows for key, kind in columns for u in custom_uuids(kind, r.data.get(key))}
        rewriter = self._rewriter(wanted)
        out = []
        for r in rows:
            data = dict(r.data)
            for key, kind in columns:
                if key in data:
                    data[key] = rewriter.cell(kind, data[key])
            out.append(
                rq.StoredRow(r.row_id, r.table_id, r.seq, r.ctime, r.mtime, r.creator, r.last_modifier, data)
            )
        return out

    def _links(self, records: list[dict[str, Any]], name: str) -> None:
        keys = ("link_id", "row_id", "other_row_id", "table_id", "other_table_id")
        try:
            clean = [{k: str(r[k]) for k in keys} for r in records]
        except KeyError:
            raise InvalidArchive(f"{name}: a link record is incomplete") from None
        self.target.add_links(clean)

    def _manifest(self, data: bytes) -> None:
        try:
            manifest = json.loads(data)
        except ValueError:
            raise InvalidArchive("manifest.json is not JSON") from None
        expected = self.log.manifest()
        for key in ("members", "blobs", "blob_bytes", "digest"):
            if not isinstance(manifest, dict) or manifest.get(key) != expected[key]:
                raise ChecksumMismatch(
                    f"the manifest does not match the archive's members ({key}): members "
                    "were removed, added or altered"
                )
        self.manifest = manifest


def _base_doc(
    tar: tarfile.TarFile, members: Iterator[tarfile.TarInfo], max_doc: int
) -> tuple[dict[str, Any], str, int]:
    first = next(members, None)
    if first is None or first.name != layout.BASE_DOC:
        raise InvalidArchive("not an atoll base archive (it does not start with base.json)")
    sha = _checked(first, max_doc)
    try:
        doc = json.loads(_read_doc(tar, first, sha))
        if doc["format"] != layout.FORMAT:
            raise ValueError("format")
        if int(doc["version"]) > layout.FORMAT_VERSION:
            raise InvalidArchive(
                f"archive format version {doc['version']} is newer than this atoll reads "
                f"({layout.FORMAT_VERSION}): upgrade atoll"
            )
        doc["base"]["name"], doc["base"]["uuid"], int(doc["base"]["workspace_id"])
        if not isinstance(doc["doc"], dict):
            raise ValueError("doc")
    except (KeyError, TypeError, ValueError):
        raise InvalidArchive("base.json is not an atoll base description") from None
    return doc, sha, first.size


async def import_tar(
    ctx: Context, stream: IO[bytes], *, name: str | None = None, workspace: str | None = None
) -> ImportReport:
    """Restore an atoll base archive read from ``stream`` as a new base."""
    try:
        tar = tarfile.open(fileobj=stream, mode="r|", bufsize=COPY_CHUNK_BYTES)  # noqa: SIM115 (closed below)
    except tarfile.TarError as exc:
        raise InvalidArchive(f"not a tar archive ({exc})") from None
    max_doc = ctx.settings.import_max_document_bytes
    with tar:
        members = _members(tar)
        base_doc, sha, size = _base_doc(tar, members, max_doc)
        src = base_doc["base"]
        async with new_base(
            ctx, name or str(src["name"]), workspace or str(src.get("workspace") or "Default")
        ) as target:
            target.put_doc(base_doc["doc"], int(base_doc.get("doc_version") or rq.INITIAL_DOC_VERSION))
            target.ensure_dirs(str(p) for p in base_doc.get("asset_dirs", []))
            run = _Import(ctx, tar, base_doc, target)
            run.log.add(layout.BASE_DOC, size, sha)
            for member in members:
                await run.member(member)
            if run.manifest is None:
                raise InvalidArchive("the archive ends before its manifest (truncated)")
            return target.report
