"""``atoll sync LOCAL_DIR CUSTOM_FOLDER``: make a custom folder hold a local folder's files.

A plan first, then its execution (``--dry-run`` prints the plan only):

- a local file with no remote file of that name is uploaded (``upload``);
- one whose remote twin differs is replaced (``replace``): a different size decides at once;
  equal sizes are told apart by SHA-256 (atoll lists each file's ``sha256``; against a server
  that does not, such as SeaTable, equal sizes count as unchanged);
- sub-folders are recursed into and created where missing (``mkdir``);
- with ``--delete``, remote files with no local twin are deleted (folders are kept).

Custom-folder uploads never overwrite, so a replacement deletes the remote file and uploads the
new one: between the two the file is missing, and if that is interrupted the next run uploads
it as new.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import click

from atoll.cli.connection import Target, connection_options, errors, open_base
from atoll.cli.files import custom_folder_path, emit, progress_option
from atoll.cli.progress import Quiet, Transfers, transfers
from atoll.client import Base, NotFoundError
from atoll.client._assets_extra import custom_asset_path, delete_asset

Kind = Literal["mkdir", "upload", "replace", "delete"]


@dataclass(frozen=True)
class Action:
    kind: Kind
    #: the custom-folder path: the folder for ``mkdir``, else the file
    remote: str
    local: Path | None = None
    size: int = 0

    def json(self, *, dry_run: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.kind, "path": self.remote}
        if self.local is not None:
            out["local"] = str(self.local)
        if self.kind in ("upload", "replace", "delete"):
            out["size"] = self.size
        if dry_run:
            out["dry_run"] = True
        return out


@dataclass
class Plan:
    actions: list[Action]
    unchanged: int

    def count(self, kind: Kind) -> int:
        return sum(1 for a in self.actions if a.kind == kind)

    @property
    def transfers(self) -> list[Action]:
        return [a for a in self.actions if a.kind in ("upload", "replace")]


def sha256_of(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _listing(base: Base, folder: str) -> dict[str, dict[str, Any]] | None:
    """The files of a custom folder by name, or None if the folder does not exist."""
    try:
        data = base.list_custom_assets(folder)
    except NotFoundError:
        return None
    return {str(f["name"]): f for f in data.get("file", []) if isinstance(f, dict)}


def _remote_size(base: Base, folder: str, entry: dict[str, Any]) -> int:
    size = entry.get("size")
    if isinstance(size, int):
        return size
    info = base.get_custom_file_info(folder, str(entry["name"]))  # a server without sizes
    return int(info["size"] or 0)


def _changed(base: Base, folder: str, local: Path, size: int, entry: dict[str, Any]) -> bool:
    if _remote_size(base, folder, entry) != size:
        return True
    remote_sha = entry.get("sha256")
    return isinstance(remote_sha, str) and remote_sha != sha256_of(local)


def make_plan(base: Base, local_dir: Path, folder: str, *, delete: bool) -> Plan:
    """What to do, folder by folder (parents first), files sorted by name."""
    actions: list[Action] = []
    unchanged = 0
    for here, dirs, names in os.walk(local_dir):
        dirs.sort()
        rel = Path(here).relative_to(local_dir).as_posix()
        remote_dir = folder if rel == "." else posixpath.join(folder, rel)
        remote = _listing(base, remote_dir)
        if remote is None:
            actions.append(Action("mkdir", remote_dir))
            remote = {}
        local_names = set()
        for name in sorted(names):
            path = Path(here) / name
            if not path.is_file():
                continue  # sockets, fifos, broken links
            local_names.add(name)
            size = path.stat().st_size
            target = posixpath.join(remote_dir, name)
            if name not in remote:
                actions.append(Action("upload", target, path, size))
            elif _changed(base, remote_dir, path, size, remote[name]):
                actions.append(Action("replace", target, path, size))
            else:
                unchanged += 1
        if delete:
            for name in sorted(set(remote) - local_names):
                listed = remote[name].get("size")
                actions.append(Action("delete", posixpath.join(remote_dir, name), None,
                                      listed if isinstance(listed, int) else 0))
    return Plan(actions, unchanged)


@click.command(short_help="Upload a local folder's new and changed files into a custom folder.")
@click.argument("local_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("folder", metavar="CUSTOM_FOLDER")
@click.option("--dry-run", "-n", is_flag=True,
              help="Print what would be done (the same JSON lines), change nothing.")
@click.option("--delete", is_flag=True,
              help="Also delete remote files that have no local twin (folders are kept).")
@progress_option
@connection_options
def sync(
    local_dir: Path,
    folder: str,
    dry_run: bool,
    delete: bool,
    progress: bool | None,
    target: Target,
) -> None:
    """Upload a local folder's new and changed files into a custom folder.

    Sub-folders are created as needed. A file counts as changed when its size differs or,
    at equal size, its SHA-256. Prints one JSON line per action ({"action": "mkdir" | "upload"
    | "replace" | "delete", "path": ...}) and a last line {"action": "summary", ...}.
    Interrupted, the same command continues (a partly uploaded file resumes).
    """
    folder = "/" + custom_folder_path(folder).strip("/")
    with errors(target, resumable=True):
        base = open_base(target)
        with base:
            plan = make_plan(base, local_dir, folder, delete=delete)
            moving = plan.transfers
            if dry_run:
                for action in plan.actions:
                    emit(action.json(dry_run=True))
            else:
                with transfers(progress, files=len(moving),
                               total_bytes=sum(a.size for a in moving)) as shown:
                    for action in plan.actions:
                        _run(base, action, shown)
                        emit(action.json(dry_run=False), shown)
    emit({"action": "summary", "folders": plan.count("mkdir"), "uploaded": plan.count("upload"),
          "replaced": plan.count("replace"), "deleted": plan.count("delete"),
          "unchanged": plan.unchanged, "bytes": sum(a.size for a in moving),
          "dry_run": dry_run})


def _run(base: Base, action: Action, shown: Transfers | Quiet) -> None:
    if action.kind == "mkdir":
        base.create_custom_folder(action.remote)
        return
    if action.kind in ("replace", "delete"):
        delete_asset(base, custom_asset_path(action.remote))
    if action.kind == "delete":
        return
    assert action.local is not None
    remote_dir, name = posixpath.split(action.remote)
    with shown.file(action.remote, action.size) as bar:
        base.upload_local_file_to_custom_folder(action.local, remote_dir, name, progress=bar)


def register(group: click.Group) -> None:
    group.add_command(sync)
