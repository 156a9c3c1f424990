#!/usr/bin/env python3
"""Side-by-side file-transfer benchmark: atoll on uvicorn and on granian against nginx.

Run it through ``scripts/bench`` (which installs nginx/wrk, owns the temp dir and the
cleanup trap). Method, after shared/reference/performance-anchors.md:

* every server is up at once, one process/worker each, on 127.0.0.1;
* each round runs the same command against every server in a rotated order, and a
  figure's ratio to nginx is taken round by round; the median of those ratios is quoted;
* big uploads: ``curl -F`` (streams, ``Expect:`` off) of one random file to the
  upload-api link, with one untimed warm-up upload to the same server right before each
  timed one (this VM returns freed memory to its host; without the warm-up the first
  large write after a delete costs 2-4x more kernel time);
* big downloads: ``curl -o /dev/null`` of the download link;
* 4 KiB files: ``wrk -t1 -c32`` with Lua scripts, same scripts against every server,
  and the bare framework (``benchlib/bare_app.py``: Starlette on uvicorn, no auth or
  metadata) as the reference for what the framework alone costs;
* the durable write ceiling: the big payload written with ``dd oflag=direct conv=fsync``
  once per round, the bar for atoll's upload next to nginx's;
* ``--baseline REV``: atoll at an earlier commit (temporary worktree) as server ``before``;
* ``--rows``: the rows API instead of files (``benchlib/rows.py``);
* ``--large``: issue 10's benchmark instead (``benchlib/large.py``): a 10 GiB file through
  tus (one streaming PATCH) and upload-api and back down, nginx alongside, server peak RSS,
  with a 1 GiB warm-up upload before each timed one; then the official client against
  atoll's SDK on 1 GiB, each operation a process of its own (``benchlib/large_clients.py``,
  ``benchlib/client_op.py``); docs/benchmarks-large.md;
* server RSS: VmHWM summed over the server's process tree, reset (clear_refs 5) right
  before each timed big upload; idle = VmRSS summed after start-up.

The code is the ``benchlib`` package next to this file: ``common`` (constants, helpers),
``processes`` (RSS and CPU of process trees), ``servers``, ``load`` (curl, wrk), ``report``,
``rows`` (the rows benchmark), ``large``, ``large_args``, ``large_clients``, ``large_report``
and ``client_op`` (``--large``), ``bare_app`` (the bare-framework server) and ``runner`` (the
phases, ``main``); the nginx configuration and the wrk Lua scripts are files in
``benchlib/templates/``. The harness uses only the standard library (Python >= 3.11);
bare_app runs on the venv's Starlette and uvicorn.
"""

from __future__ import annotations

import sys

from benchlib.runner import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
