"""A base with everything an export carries: two tables, columns of every file-bearing type, a
link, rows whose cells point at system and custom-folder assets, and those assets' bytes."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from atoll.cli import main
from atoll.config import Settings
from atoll.db import rows as rq
from atoll.db import schema
from atoll.models import Principal
from atoll.services import columns, links, rows, tables
from atoll.services.access import create_api_token
from atoll.services.context import Context
from atoll.services.structure import TableRef
from atoll.wire.links import asset_url
from atoll.wire.rowlinks import LinkChange
from tests.backends import blob_state, on_postgres_s3
from tests.conftest import App
from tests.services import moto

OLD_URL = "http://old.example"
NEW_URL = "http://new.example"
FILES = {"report.pdf": os.urandom(300_000) + b"end", "empty.txt": b"", "small.txt": b"hello"}
IMAGE = ("sky.png", os.urandom(70_000))
CUSTOM = ("notes.md", b"# custom folder file\n" * 1000)


@dataclass
class Source:
    app: App
    name: str
    uuid: str
    workspace_id: int
    token: str
    #: asset path (relative to the base) -> bytes
    assets: dict[str, bytes] = field(default_factory=dict)
    custom_url: str = ""


def cli_env() -> dict[str, str]:
    return moto().env if on_postgres_s3() else {}


def backend_args(settings: Settings) -> list[str]:
    return ["--data-dir", str(settings.data_dir), "--db-url", settings.db_url, "--storage", settings.storage]


def run_cli(
    argv: list[str], settings: Settings, *, public_url: str | None = None, input: bytes | None = None
) -> Result:
    env = {**cli_env(), "ATOLL_PUBLIC_URL": public_url or settings.public_url}
    return CliRunner().invoke(
        main, [*argv, *backend_args(settings)], env=env, catch_exceptions=False, input=input
    )


def _upload(app: App, token: str, name: str, data: bytes, kind: str = "file") -> None:
    link = app.client.get(
        "/api/v2.1/dtable/app-upload-link/", headers={"Authorization": f"Token {token}"}
    ).json()
    r = app.client.post(
        link["upload_link"] + "?ret-json=1",
        files={"file": (name, data)},
        data={"parent_dir": link["parent_path"], "relative_path": f"{kind}s/2026-11"},
    )
    assert r.status_code == 200, r.text


def _custom(app: App, token: str, name: str, data: bytes) -> str:
    auth = {"Authorization": f"Token {token}"}
    base = "/api/v2.1/dtable/custom"
    assert (
        app.client.post(f"{base}/app-asset-dir/", params={"path": "/Main"}, headers=auth).status_code == 200
    )
    link = app.client.get(f"{base}/app-upload-link/", params={"path": "/Main"}, headers=auth).json()
    up = app.client.post(
        link["upload_link"] + "?ret-json=1",
        files={"file": (name, data)},
        data={"parent_dir": link["parent_path"], "relative_path": link["relative_path"]},
    )
    assert up.status_code == 200, up.text
    info = app.client.get(f"{base}/app-asset-file/", params={"path": "/Main", "name": name}, headers=auth)
    return f"custom-asset://{info.json()['dirent']['uuid']}.{name.rsplit('.', 1)[1]}"


async def _structure(ctx: Context, principal: Principal, cells: dict[str, Any]) -> None:
    await tables.add_table(
        ctx,
        principal,
        table_name="Tasks",
        columns=[
            {"column_name": "Name", "column_type": "text"},
            {"column_name": "Files", "column_type": "file"},
            {"column_name": "Pics", "column_type": "image"},
            {"column_name": "Notes", "column_type": "long-text"},
            {"column_name": "Count", "column_type": "number"},
        ],
    )
    await tables.add_table(
        ctx, principal, table_name="People", columns=[{"column_name": "Name", "column_type": "text"}]
    )
    await columns.insert_column(
        ctx,
        principal,
        TableRef(name="Tasks"),
        column_name="Who",
        column_type="link",
        data={"table": "Tasks", "other_table": "People"},
    )
    await rows.append_rows(
        ctx,
        principal,
        TableRef(name="Tasks"),
        rows=[
            {"Name": "with files", **cells, "Count": 3},
            *({"Name": f"row {i}", "Count": i} for i in range(30)),
        ],
    )
    await rows.append_rows(ctx, principal, TableRef(name="People"), rows=[{"Name": "Ada"}, {"Name": "Bo"}])
    with ctx.engine.connect() as conn:
        doc = rq.load_doc(conn, principal.dtable.uuid).doc
        ids = {
            t["name"]: [r.row_id for r in rq.iter_rows(conn, principal.dtable.uuid, t["_id"])]
            for t in doc["tables"]
        }
    tasks = next(t for t in doc["tables"] if t["name"] == "Tasks")
    link_id = next(c for c in tasks["columns"] if c["name"] == "Who")["data"]["link_id"]
    task_ids, people_ids = ids["Tasks"], ids["People"]
    await links.change_links(
        ctx,
        principal,
        LinkChange(
            link_id=link_id,
            table_name="Tasks",
            table_id=None,
            other_table_name="People",
            other_table_id=None,
            targets={task_ids[0]: people_ids, task_ids[1]: people_ids[:1]},
            row_ids=[],
        ),
        op="add",
    )


def make_source(app: App, name: str = "Projects") -> Source:
    created = create_api_token(app.ctx.engine, base=name, workspace="Team")
    src = Source(app, name, created.dtable.uuid, created.dtable.workspace_id, created.token)
    for file_name, data in FILES.items():
        _upload(app, src.token, file_name, data)
        src.assets[f"files/2026-11/{file_name}"] = data
    _upload(app, src.token, IMAGE[0], IMAGE[1], "image")
    src.assets[f"images/2026-11/{IMAGE[0]}"] = IMAGE[1]
    src.custom_url = _custom(app, src.token, *CUSTOM)
    src.assets[f"custom/Main/{CUSTOM[0]}"] = CUSTOM[1]
    url = app.ctx.settings.public_url

    def sys_url(path: str) -> str:
        folder, _, file_name = path.rpartition("/")
        return asset_url(
            url, workspace_id=src.workspace_id, dtable_uuid=src.uuid, relative_path=folder, name=file_name
        )

    image_url = sys_url(f"images/2026-11/{IMAGE[0]}")
    cells = {
        "Files": [
            {"name": n, "size": len(d), "type": "file", "url": sys_url(f"files/2026-11/{n}")}
            for n, d in FILES.items()
        ]
        + [{"name": CUSTOM[0], "size": len(CUSTOM[1]), "type": "file", "url": src.custom_url}],
        "Pics": [image_url, "https://elsewhere.example/kept.png"],
        "Notes": {
            "text": f"see ![]({image_url})",
            "images": [image_url],
            "links": [],
            "checklist": {"completed": 0, "total": 0},
            "preview": "see",
        },
    }
    principal = Principal(created.dtable, "rw", "test")
    app.client.portal.call(_structure, app.ctx, principal, cells)  # type: ignore[union-attr]
    return src


def counts(ctx: Context) -> dict[str, int]:
    """Rows of every per-base table: an import that failed must leave them as they were."""
    with ctx.engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (
                schema.dtables,
                schema.assets,
                schema.asset_dirs,
                schema.rows,
                schema.row_links,
                schema.dtable_docs,
                schema.row_keys,
                schema.blobs,
                schema.asset_refs,
            )
        }


def blobs(app: App) -> tuple[frozenset[str], frozenset[str]]:
    return app.client.portal.call(blob_state, app.ctx.blobs)  # type: ignore[union-attr]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def export(src: Source, path: Path) -> Result:
    out = run_cli(["export", src.name, "-o", str(path), "--workspace", "Team"], src.app.ctx.settings)
    assert out.exit_code == 0, out.output
    return out


def wait(fn: Any) -> Any:
    return anyio.run(fn)
