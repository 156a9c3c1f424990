"""Asset references are kept in step by every row write that can hold file and image cells."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from atoll.db import schema
from atoll.errors import InvalidInput, NotFound
from atoll.services import asset_refs, bulk_insert, columns, tables
from atoll.services import rows as row_svc
from atoll.services.sql.run import run_sql
from atoll.services.structure import TableRef
from tests.lifecycle.conftest import COLUMNS, Life, T, file_cell, run

A = "files/2026-11/a.txt"
B = "images/2026-11/b.png"


@pytest.fixture
def urls(life: Life) -> tuple[str, str]:
    return life.upload("a.txt", b"A"), life.upload("b.png", b"B", "images/2026-11")


def test_append_insert_and_update(life: Life, urls: tuple[str, str]) -> None:
    a, b = urls
    [r1] = life.append({"Name": "one", "F": [file_cell(a)], "P": [b]})
    assert life.uses(A) == {("T", r1, "F")} and life.uses(B) == {("T", r1, "P")}
    [r2] = [
        r.row_id
        for r in run(row_svc.append_rows(life.ctx, life.base, T, rows=[{"P": [a, b]}], anchor_row_id=r1))
    ]  # insert_row
    assert life.uses(A) == {("T", r1, "F"), ("T", r2, "P")}
    run(row_svc.update_rows(life.ctx, life.base, T, updates=[{"row_id": r1, "row": {"F": []}}]))
    assert life.uses(A) == {("T", r2, "P")} and life.uses(B) == {("T", r1, "P"), ("T", r2, "P")}
    run(
        row_svc.update_rows(
            life.ctx,
            life.base,
            T,
            updates=[  # batch update
                {"row_id": r1, "row": {"F": [file_cell(a)], "P": []}},
                {"row_id": r2, "row": {"Name": "kept"}},
            ],
        )
    )
    assert life.uses(A) == {("T", r1, "F"), ("T", r2, "P")} and life.uses(B) == {("T", r2, "P")}


def test_foreign_and_external_urls_are_no_references(life: Life, urls: tuple[str, str]) -> None:
    a, _ = urls
    other = a.replace(life.env.uuid, "11111111-2222-4333-8444-555555555555")
    life.append({"F": [file_cell(other), file_cell("https://elsewhere.example/files/2026-11/a.txt")]})
    assert life.uses(A) == set()


def test_delete_rows_table_and_column(life: Life, urls: tuple[str, str]) -> None:
    a, b = urls
    r1, r2, r3 = life.append({"F": [file_cell(a)], "P": [b]}, {"F": [file_cell(a)]}, {"P": [b]})
    run(row_svc.delete_rows(life.ctx, life.base, T, row_ids=[r1]))
    assert life.uses(A) == {("T", r2, "F")} and life.uses(B) == {("T", r3, "P")}
    run(columns.delete_column(life.ctx, life.base, T, column_ref="F"))
    assert life.uses(A) == set() and life.uses(B) == {("T", r3, "P")}
    run(tables.add_table(life.ctx, life.base, table_name="U", columns=COLUMNS))
    [u1] = life.append({"F": [file_cell(a)]}, ref=TableRef("U"))
    assert life.uses(A) == {("U", u1, "F")}
    run(tables.delete_table(life.ctx, life.base, T))
    assert life.uses(B) == set() and life.uses(A) == {("U", u1, "F")}


def test_refused_retype_keeps_references(life: Life, urls: tuple[str, str]) -> None:
    """File and image columns are not convertible: the refusal changes nothing."""
    _, b = urls
    [r1] = life.append({"P": [b]})
    with pytest.raises(InvalidInput):
        run(columns.update_column(life.ctx, life.base, T, op_type="modify_column_type", column_ref="P",
                                  args={"new_column_type": "text"}))  # fmt: skip
    assert life.uses(B) == {("T", r1, "P")}


def test_big_data_insert_and_sql(life: Life, urls: tuple[str, str]) -> None:
    a, _ = urls
    assert (
        run(bulk_insert.insert_rows(life.ctx, life.base, T, rows=[{"Name": "x", "F": [file_cell(a)]}])) == 1
    )
    [(table, r1, column)] = life.uses(A)
    assert (table, column) == ("T", "F")
    run(run_sql(life.ctx, life.base, sql="INSERT INTO T (Name) VALUES ('y')", by_name=True))
    run(run_sql(life.ctx, life.base, sql="UPDATE T SET Name = 'z' WHERE Name = 'x'", by_name=True))
    assert life.uses(A) == {("T", r1, "F")}  # a rewrite of the row keeps its other cells' references
    run(run_sql(life.ctx, life.base, sql="DELETE FROM T WHERE Name = 'z'", by_name=True))
    assert life.uses(A) == set()


def test_custom_asset_urls_are_references_by_uuid(life: Life, urls: tuple[str, str]) -> None:
    uuid = life.asset_uuid(A)
    [r1] = life.append({"F": [file_cell(f"custom-asset://{uuid.upper()}.txt")]})
    assert life.uses(A) == {("T", r1, "F")}


def test_backfill_recomputes_every_reference(life: Life, urls: tuple[str, str]) -> None:
    a, b = urls
    life.append({"F": [file_cell(a)], "P": [b]}, {"P": [a]})
    with life.ctx.engine.connect() as conn:
        before = set(conn.execute(select(schema.asset_refs)).all())
    with life.ctx.engine.begin() as conn:
        conn.execute(delete(schema.asset_refs))
    assert life.uses(A) == set()
    assert asset_refs.backfill(life.ctx.engine) == 1
    with life.ctx.engine.connect() as conn:
        after = set(conn.execute(select(schema.asset_refs)).all())
        assert conn.execute(select(func.count()).select_from(schema.asset_refs)).scalar_one() == 3
    assert before == after and len(after) == 3


def test_bad_input(life: Life, urls: tuple[str, str]) -> None:
    with pytest.raises(NotFound):
        run(asset_refs.asset_uses(life.ctx, life.base, "files/2026-11/nope.txt"))
    with pytest.raises(InvalidInput):
        run(asset_refs.asset_uses(life.ctx, life.base, ""))
    with pytest.raises(InvalidInput):
        run(asset_refs.asset_uses(life.ctx, life.base, "files/../../etc/passwd"))


def test_refs_over_http(life: Life, urls: tuple[str, str]) -> None:
    a, _ = urls
    [r1] = life.append({"Name": "one", "F": [file_cell(a)]})
    client, auth = life.env.client, life.env.auth()
    got = client.get("/api/v2.1/dtable/app-asset-refs/", params={"path": A}, headers=auth)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["path"] == A and body["trashed"] is False and body["total"] == 1
    assert [(x["table_name"], x["row_id"], x["column_name"]) for x in body["refs"]] == [("T", r1, "F")]
    assert client.get("/api/v2.1/dtable/app-asset-refs", params={"path": "files/x/none.txt"},
                      headers=auth).status_code == 404  # fmt: skip
    assert client.get("/api/v2.1/dtable/app-asset-refs/", headers=auth).status_code == 400
    assert client.get("/api/v2.1/dtable/app-asset-refs/", params={"path": A}).status_code in (401, 403)


def test_copy_base_has_its_own_references(life: Life, urls: tuple[str, str]) -> None:
    from atoll.db import schema as s
    from atoll.services import accounts
    from atoll.services.accounts_copy import copy_base_sync

    a, b = urls
    uuid = life.asset_uuid(A)
    life.append({"F": [file_cell(a), file_cell(f"custom-asset://{uuid}.txt")], "P": [b]})
    user = accounts.create_user(life.ctx.engine, "copier@example.com", "a long enough password 1")
    with life.ctx.engine.connect() as conn:
        workspace = conn.execute(select(s.workspaces.c.name).where(
            s.workspaces.c.id == life.env.workspace_id)).scalar_one()
    accounts.add_member(life.ctx.engine, workspace, "copier@example.com", "owner")
    copied, _ = copy_base_sync(life.ctx.engine, user, life.env.workspace_id, "Demo", life.env.workspace_id)
    with life.ctx.engine.connect() as conn:
        refs = conn.execute(select(s.asset_refs.c.dtable_uuid, s.asset_refs.c.target)).all()
        copy_uuid = conn.execute(select(s.assets.c.uuid).where(
            s.assets.c.dtable_uuid == copied.dtable.uuid, s.assets.c.name == "a.txt")).scalar_one()
    mine = {t for d, t in refs if d == life.env.uuid}
    theirs = {t for d, t in refs if d == copied.dtable.uuid}
    assert mine == {"/" + A, "/" + B, f"custom-asset://{uuid}"}
    assert theirs == {"/" + A, "/" + B, f"custom-asset://{copy_uuid}"} and copy_uuid != uuid


def test_refs_over_the_gateway_with_the_access_token(life: Life, urls: tuple[str, str]) -> None:
    a, _ = urls
    [r1] = life.append({"F": [file_cell(a)]})
    client = life.env.client
    access = client.get("/api/v2.1/dtable/app-access-token/", headers=life.env.auth()).json()["access_token"]
    url = f"/api-gateway/api/v2/dtables/{life.env.uuid}/asset-refs/"
    bearer = {"Authorization": f"Token {access}"}
    got = client.get(url, params={"path": A}, headers=bearer)
    assert got.status_code == 200, got.text
    assert [(x["table_name"], x["row_id"], x["column_name"]) for x in got.json()["refs"]] == [("T", r1, "F")]
    assert client.get(url, params={"path": A}, headers=life.env.auth()).status_code in (401, 403)  # API token
    other = f"/api-gateway/api/v2/dtables/{'1' * 8}-1111-4111-8111-{'1' * 12}/asset-refs/"
    assert client.get(other, params={"path": A}, headers=bearer).status_code == 403
