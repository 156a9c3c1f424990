"""atoll's native helper (``_durable.c``): a small file's whole durable write in one C call.

From a worker thread, every system call of the Python path (open, write, fsync, close, rename,
open, fsync, close the folder; mkdir and two more folder fsyncs when the folder is new) gives
the GIL back and must win it again from the busy event loop, up to the interpreter's switch
interval (5 ms) each time. Under 32 concurrent 4 KiB uploads that made a 0.7 ms write take 10 ms
or more. ctypes releases the GIL for the whole foreign call, so
the helper costs one hand-over per file.

``scripts/setup`` builds ``_durable.so`` next to this module with the system's C compiler. When it
is missing (no compiler, an installed wheel) or from another version, :func:`load` answers None
and the store runs the same steps in Python: slower under load, the same on disk.
"""

from __future__ import annotations

import ctypes
import enum
import functools
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

#: The built helper; ``scripts/setup`` compiles ``_durable.c`` to it.
LIBRARY = Path(__file__).with_name("_durable.so")
#: The helper's ABI this module speaks (``ATOLL_DURABLE_ABI`` in ``_durable.c``).
ABI = 2


class Step(enum.IntEnum):
    """The step of a native write that failed (``enum step`` in ``_durable.c``)."""

    OPEN = 1
    WRITE = 2
    SYNC = 3
    CLOSE = 4
    MKDIR = 5
    RENAME = 6
    OPEN_DIR = 7
    SYNC_DIR = 8
    CLOSE_DIR = 9


class NativeWriteError(OSError):
    """A native write failed at ``step``: an OSError with the errno the system call gave."""

    def __init__(self, code: int, step: Step, path: Path) -> None:
        super().__init__(code, os.strerror(code), str(path))
        self.step = step

    @property
    def renamed(self) -> bool:
        """The file was already at its final name (only the folder's fsync failed)."""
        return self.step >= Step.OPEN_DIR


class DurableWrite:
    """The loaded ``atoll_durable_write``."""

    def __init__(self, library: ctypes.CDLL) -> None:
        fn = library.atoll_durable_write
        fn.argtypes = [ctypes.c_char_p] * 6 + [ctypes.c_size_t, ctypes.POINTER(ctypes.c_int)]
        fn.restype = ctypes.c_int
        self._fn = fn

    def __call__(self, temp: Path, final: Path, data: bytes, *, folders_known: bool) -> None:
        """Create ``temp`` with ``data``, fsync it, rename it to ``final`` (``root/ab/cd/key``),
        fsync ``final``'s folder. Unless ``folders_known`` (made and synced before), first make
        the two fan-out folders (existing ones are fine) and then fsync the two folders above
        ``final``'s as well. Raises :class:`NativeWriteError`. Blocking: call it on a worker
        thread."""
        step = ctypes.c_int(0)
        leaf = final.parent
        upper = None if folders_known else os.fsencode(leaf.parent)
        root = None if folders_known else os.fsencode(leaf.parent.parent)
        code = self._fn(os.fsencode(temp), os.fsencode(final), os.fsencode(leaf), upper, root,
                        data, len(data), ctypes.byref(step))
        if code:
            failed = Step(step.value)
            raise NativeWriteError(code, failed, temp if failed <= Step.CLOSE else final)


@functools.cache
def load(library: Path = LIBRARY) -> DurableWrite | None:
    """The helper, or None when it is not built or speaks another ABI (logged once)."""
    if not library.exists():
        log.info("native helper %s not built: small files are written by the Python path", library.name)
        return None
    try:
        lib = ctypes.CDLL(str(library))
        abi = int(lib.atoll_durable_abi())
    except (OSError, AttributeError) as exc:
        log.warning("native helper %s not loadable (%s): using the Python path", library, exc)
        return None
    if abi != ABI:
        log.warning("native helper %s has ABI %d, not %d (rerun scripts/setup): using the Python path",
                    library, abi, ABI)
        return None
    return DurableWrite(lib)
