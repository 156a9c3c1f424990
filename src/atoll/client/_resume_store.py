"""The resume store: which tus upload URL belongs to which local file, so that an upload cut
off by Ctrl-C or a crash continues when the same upload is started again (another ``Base``,
another run of the CLI).

One small JSON file per upload, named by the SHA-256 of what makes it the same upload (server,
base, the file's absolute path, size and mtime, the target folder and name, ``replace``, the
cell it is attached to); written atomically, removed once the upload completes. The default
directory is ``$XDG_STATE_HOME/atoll/uploads`` (``~/.local/state/atoll/uploads``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any


def default_dir() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "atoll" / "uploads"


def upload_key(**identity: Any) -> str:
    """The SHA-256 (hex) of the upload's identity, a canonical JSON of ``identity``."""
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


class ResumeStore:
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory).expanduser()

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def get(self, key: str) -> str | None:
        """The upload URL recorded for ``key``, if any (an unreadable entry counts as none)."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        url = data.get("upload_url") if isinstance(data, dict) else None
        return url if isinstance(url, str) and url else None

    def put(self, key: str, upload_url: str, **about: Any) -> None:
        """Record ``upload_url`` for ``key`` (write to a temp file, then rename over)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        entry = {"upload_url": upload_url, "created": time.time(), **about}
        tmp = self.directory / f".{key}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(entry, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self._path(key))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def remove(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()
