"""Write jobs for the group-commit tests: insert a workspace by name, and read the names back."""

from __future__ import annotations

import threading
from typing import Any

import anyio
from sqlalchemy import Connection, Engine, text


def insert_job(name: str, seen: list[int] | None = None) -> Any:
    """A job inserting workspace ``name`` (returns it); records its thread in ``seen`` if given."""

    def job(conn: Connection) -> str:
        if seen is not None:
            seen.append(threading.get_ident())
        conn.execute(text("INSERT INTO workspaces (name) VALUES (:n)"), {"n": name})
        return name

    return job


def names(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT name FROM workspaces")).scalars())


def submit_all(commits: Any, jobs: list[tuple[Any, bool]]) -> tuple[list[Any], int]:
    """Every (job, quick) submitted at once, as concurrent requests do: each one's result or
    error, and the event loop's thread."""
    results: list[Any] = [None] * len(jobs)

    async def one(i: int) -> None:
        fn, quick = jobs[i]
        try:
            results[i] = await commits.run(fn, quick=quick)
        except Exception as exc:
            results[i] = exc

    async def all_of_them() -> int:
        async with anyio.create_task_group() as tg:
            for i in range(len(jobs)):
                tg.start_soon(one, i)
        return threading.get_ident()

    loop_thread = anyio.run(all_of_them)
    return results, loop_thread
