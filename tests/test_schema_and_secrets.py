"""Scale-out settings: commands refuse a schema other than the code's; every process signs and
verifies with the same secret (setting, file or database), and rotation accepts former ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import anyio
import jwt
import pytest
from sqlalchemy import delete

from atoll.config import Settings
from atoll.db import schema
from atoll.db.engine import make_engine
from atoll.db.migrations import LATEST, SchemaMismatch
from atoll.errors import AuthenticationFailed, InvalidInput, PermissionDenied
from atoll.services import access
from atoll.services.context import Context

SECRET_A = "a" * 40
SECRET_B = "b" * 40


def _ctx(tmp_path: Path, **kw: str) -> Context:
    return Context.open(Settings(data_dir=tmp_path, **kw))  # type: ignore[arg-type]


def _set_version(tmp_path: Path, version: int) -> str:
    url = f"sqlite:///{tmp_path / 'atoll.sqlite3'}"
    _ctx(tmp_path).engine.dispose()
    with make_engine(url).begin() as conn:
        conn.execute(delete(schema.schema_version).where(schema.schema_version.c.version > version))
        if version > LATEST:
            conn.execute(schema.schema_version.insert().values(version=version, applied_at="later"))
    return url


def test_an_older_schema_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    _set_version(tmp_path, LATEST - 1)
    with pytest.raises(SchemaMismatch, match=r"run `atoll db upgrade`"):
        _ctx(tmp_path)
    out = subprocess.run([sys.executable, "-m", "atoll", "serve", "--data-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode != 0 and "atoll db upgrade" in out.stderr
    subprocess.run([sys.executable, "-m", "atoll", "db", "upgrade", "--data-dir", str(tmp_path)],
                   check=True, capture_output=True)
    assert _ctx(tmp_path).engine is not None  # now it opens


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    _set_version(tmp_path, LATEST + 1)
    with pytest.raises(SchemaMismatch, match="newer than this atoll"):
        _ctx(tmp_path)


def test_the_database_secret_is_shared_by_every_process(tmp_path: Path) -> None:
    one, two = _ctx(tmp_path), _ctx(tmp_path)  # two contexts stand for two processes
    assert one.secret == two.secret and len(one.secret) == 32
    ticket = access.issue_ticket("download", "u", "/x", one.secret, 60)
    assert access.verify_ticket(ticket, "download", two.verify_keys).path == "/x"


def test_a_legacy_secret_file_is_imported_once(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("ab" * 32)
    assert _ctx(tmp_path).secret == bytes.fromhex("ab" * 32)
    (tmp_path / "secret.key").unlink()
    assert _ctx(tmp_path).secret == bytes.fromhex("ab" * 32)  # now from the database


def test_secret_setting_and_file_win_over_the_database(tmp_path: Path) -> None:
    assert _ctx(tmp_path, secret=SECRET_A).secret == SECRET_A.encode()
    path = tmp_path / "mounted"
    path.write_text(SECRET_B + "\n")
    assert _ctx(tmp_path, secret_file=str(path)).secret == SECRET_B.encode()
    with pytest.raises(InvalidInput, match="at least 32"):
        _ctx(tmp_path, secret="short")
    with pytest.raises(InvalidInput, match="cannot read ATOLL_SECRET_FILE"):
        _ctx(tmp_path, secret_file=str(tmp_path / "missing"))


def test_rotation_accepts_former_secrets_for_verifying_only(tmp_path: Path) -> None:
    old = _ctx(tmp_path, secret=SECRET_A)
    new = _ctx(tmp_path, secret=SECRET_B, previous_secrets=SECRET_A)
    old_ticket = access.issue_ticket("upload", "u", "/p", old.secret, 60)
    assert access.verify_ticket(old_ticket, "upload", new.verify_keys).path == "/p"
    assert jwt.decode(access.issue_ticket("upload", "u", "/p", new.secret, 60), SECRET_B,
                      algorithms=["HS256"], audience="atoll:ticket")["p"] == "/p"  # signs with the new one
    after = _ctx(tmp_path, secret=SECRET_B)  # rotation finished: the old secret is refused
    with pytest.raises(PermissionDenied):
        access.verify_ticket(old_ticket, "upload", after.verify_keys)
    token = jwt.encode({"exp": 2**31, "dtable_uuid": "x", "permission": "rw"}, SECRET_A, algorithm="HS256")
    with pytest.raises(AuthenticationFailed):
        anyio.run(access.authenticate_access_token, after, token)
