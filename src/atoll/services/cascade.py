"""Cascade settings between two single-select columns (``add_column_cascade_settings``).

A cascade makes the options a child column offers depend on the parent column's value. The
request names options by name (``{"<parent option>": ["<child option>", ...]}``; ids are
accepted too); the child column's ``data`` stores them by option id, as SeaTable does:
``cascade_column_key`` (the parent column's key) and ``cascade_settings``
(``{<parent option id>: [<child option id>, ...]}``). Both come back in the metadata. A new
call replaces the child's previous settings. Nothing is written unless every name resolves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from atoll.errors import InvalidInput
from atoll.models import Principal
from atoll.services.context import Context
from atoll.services.structure import TableRef, change_doc, find_column, find_table

SELECT_TYPE = "single-select"


def _option_id(column: dict[str, Any], ref: Any, what: str) -> str:
    if not isinstance(ref, str):
        raise InvalidInput(f"cascade_settings invalid: {what} must be option names.")
    options = (column.get("data") or {}).get("options") or []
    for option in options:
        if option.get("name") == ref:
            return str(option["id"])
    for option in options:
        if option.get("id") == ref:
            return str(option["id"])
    raise InvalidInput(f"cascade_settings invalid: column {column['name']} has no option {ref}.")


def resolve(parent: dict[str, Any], child: dict[str, Any], settings: Any) -> dict[str, list[str]]:
    """The request's settings by option id; 400 naming the first name that does not resolve."""
    if not isinstance(settings, dict) or not settings:
        raise InvalidInput("cascade_settings invalid: expected {parent option: [child options]}.")
    out: dict[str, list[str]] = {}
    for parent_ref, child_refs in settings.items():
        parent_id = _option_id(parent, parent_ref, "keys")
        if not isinstance(child_refs, list):
            raise InvalidInput(f"cascade_settings invalid: the value of {parent_ref} must be a list.")
        ids: list[str] = []
        for ref in child_refs:
            option_id = _option_id(child, ref, "values")
            if option_id not in ids:
                ids.append(option_id)
        out[parent_id] = ids
    return out


def _column(table: dict[str, Any], ref: Any, what: str) -> dict[str, Any]:
    if not isinstance(ref, str) or not ref:
        raise InvalidInput(f"{what} invalid.")
    column = find_column(table, ref)
    if column.get("type") != SELECT_TYPE:
        raise InvalidInput(f"{what} invalid: column {column['name']} is not a single-select column.")
    return column


async def add_cascade_settings(
    ctx: Context, principal: Principal, ref: TableRef, *, child: object, parent: object, settings: object
) -> None:
    """Store the cascade from ``parent`` to ``child`` (both single-select, same table)."""

    def change(conn: Connection, doc: dict[str, Any]) -> None:
        table = find_table(doc, ref)
        child_column = _column(table, child, "child_column")
        parent_column = _column(table, parent, "parent_column")
        if child_column["key"] == parent_column["key"]:
            raise InvalidInput("parent_column invalid: a column cannot cascade from itself.")
        by_id = resolve(parent_column, child_column, settings)
        data = child_column.get("data")
        if not isinstance(data, dict):
            data = {}
            child_column["data"] = data
        data["cascade_column_key"] = parent_column["key"]
        data["cascade_settings"] = by_id

    await change_doc(ctx, principal, change)
