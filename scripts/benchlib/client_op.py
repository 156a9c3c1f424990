"""One client operation, run as its own process by ``scripts/bench --large`` (benchlib.large_clients)
so that its peak RSS and wall time are its own.

    python client_op.py official|atoll upload|download SERVER_URL API_TOKEN PATH ARG

``official``: ``seatable_api.Base`` (the venv's seatable-api); ``atoll``: ``atoll.Base``. Both:
``Base(api_token, server_url).auth()``, then, timed alone:

* upload: ``upload_local_file(PATH, name=ARG, file_type='file', replace=True)``;
* download: ``download_file(ARG, PATH)`` (ARG = the file cell URL the upload returned).

Prints one JSON line: the timed call's seconds, the process's VmRSS before the call and VmHWM
after it (MiB), the returned cell (upload) and, for atoll, whether its ``upload_local_file``
takes ``resumable`` (the tus path above the SDK's threshold). Standard library only, besides
the client under test.
"""

from __future__ import annotations

import inspect
import json
import sys
import time


def status_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str]) -> int:
    kind, op, server_url, token, path, arg = argv
    if kind == "official":
        from seatable_api import Base  # type: ignore[import-not-found,unused-ignore]
    else:
        from atoll import Base  # type: ignore[no-redef,unused-ignore]
    base = Base(token, server_url)
    base.auth()
    out: dict[str, object] = {"kind": kind, "op": op}
    if kind == "atoll":
        out["resumable"] = "resumable" in inspect.signature(base.upload_local_file).parameters
    out["rss_before_mib"] = status_mib("VmRSS")
    t0 = time.perf_counter()
    if op == "upload":
        cell = base.upload_local_file(path, name=arg, file_type="file", replace=True)
        out["cell"] = cell
    else:
        base.download_file(arg, path)
    out["seconds"] = time.perf_counter() - t0
    out["hwm_mib"] = status_mib("VmHWM")
    print(json.dumps(out, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
