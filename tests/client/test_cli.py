"""The file commands as a user meets them: help, errors that say what to do (and their exit
statuses), mkdir, progress."""

from __future__ import annotations

import http.server
import importlib
import io
import json
import os
import pty
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from rich.console import Console

from atoll.cli import COMMAND_MODULES, first_sentence, main
from atoll.cli.lazy import LazyGroup
from atoll.cli.progress import Transfers
from tests.client.cli_env import isolate
from tests.live_server import LiveServer


@pytest.fixture(autouse=True)
def no_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("cli") / "data") as srv:
        yield srv


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    return server.create_token("CLI")


def atoll_cli(*args: str, env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    """``python -m atoll ARGS`` as a user runs it: a real process, stdout and stderr pipes."""
    full = {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "atoll", *args], env=full, text=True,
                          capture_output=True, timeout=60, check=False, **kw)  # type: ignore[call-overload]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- help ------------------------------------------------------------------------------------


Listed = Iterator[tuple[tuple[str, ...], click.Command]]


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Listed:
    commands = group.load_all() if isinstance(group, LazyGroup) else group.commands
    for name, cmd in commands.items():
        yield (*path, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*path, name))


def test_help_is_complete_for_every_command() -> None:
    runner = CliRunner()
    listed = [((), main), *list(_commands(main))]
    assert len(listed) > 15
    for path, cmd in listed:
        out = runner.invoke(main, [*path, "--help"], terminal_width=80)
        assert out.exit_code == 0, (path, out.output)
        body = [line for line in out.output.splitlines() if not line.startswith("Usage:")]
        cut = [line for line in body if line.rstrip().endswith("...")]  # click's mark of a cut
        assert not cut, (path, cut)
        assert cmd.help and cmd.help.strip(), f"atoll {' '.join(path)} has no help"
        if isinstance(cmd, click.Group):
            flat = " ".join(out.output.split())
            for sub in cmd.commands.values():
                assert sub.help is not None
                want = sub.short_help or first_sentence(sub.help)
                assert " ".join(want.split()) in flat, (path, sub.name)
                assert want.endswith((".", ")")), (sub.name, want)


def test_the_lazy_command_table_names_what_each_module_registers() -> None:
    for module_name in set(COMMAND_MODULES.values()):
        staging = click.Group()
        importlib.import_module(module_name).register(staging)
        named = {name for name, module in COMMAND_MODULES.items() if module == module_name}
        assert set(staging.commands) == named, module_name


def test_a_command_loads_only_its_own_module() -> None:
    probe = ("import sys; from atoll.cli import main; main.get_command(None, 'serve'); "
             "print(' '.join(sorted(m for m in sys.modules if m.startswith('atoll.cli.'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    assert "atoll.cli.operator" in loaded
    assert not loaded & {"atoll.cli.files", "atoll.cli.sync", "atoll.cli.archive", "atoll.cli.users"}


def test_file_commands_document_every_option() -> None:
    for name in ("upload", "download", "ls", "mkdir", "rm", "sync"):
        cmd = main.load_all()[name]
        for param in cmd.params:
            if isinstance(param, click.Option):
                assert param.help, f"atoll {name} {param.opts[0]} has no help"


# -- errors ----------------------------------------------------------------------------------


def test_connection_refused_fails_fast_and_names_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    out = atoll_cli("ls", env={"ATOLL_SERVER_URL": url, "ATOLL_API_TOKEN": "0" * 40})
    assert out.returncode == 7  # network / server unavailable
    assert out.stderr.startswith(f"Error: cannot connect to {url}: "), out.stderr
    assert "Is atoll running there" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    # the command's own time (a process start adds the interpreter's, which load varies)
    started = time.monotonic()
    res = CliRunner().invoke(main, ["ls", "--server-url", url, "--api-token", "0" * 40])
    assert time.monotonic() - started < 2.0
    assert res.exit_code == 7 and res.stderr.startswith(f"Error: cannot connect to {url}: ")


def test_server_url_without_scheme_is_a_usage_error() -> None:
    res = CliRunner().invoke(main, ["ls", "--server-url", "127.0.0.1:8000", "--api-token", "x" * 40])
    assert res.exit_code == 2 and "must start with http:// or https://" in res.stderr


def test_wrong_token_names_its_last_4_characters_and_the_server(server: LiveServer) -> None:
    wrong = "0123456789abcdef0123456789abcdef0123abcd"
    out = atoll_cli("ls", env={"ATOLL_SERVER_URL": server.url, "ATOLL_API_TOKEN": wrong})
    assert out.returncode == 3  # auth
    line = out.stderr.strip()
    assert line.startswith("Error: HTTP 403: Permission denied.")
    assert f"The API token …abcd was refused by {server.url}: check ATOLL_API_TOKEN" in line
    assert wrong[:-4] not in line  # never the whole token
    assert len(line.splitlines()) == 1


def test_read_only_token_names_the_base(server: LiveServer, tmp_path: Path) -> None:
    ro = server.create_token("CLI", permission="r")
    f = tmp_path / "x.txt"
    f.write_text("x")
    out = atoll_cli("upload", str(f), env={"ATOLL_SERVER_URL": server.url, "ATOLL_API_TOKEN": ro})
    assert out.returncode == 3
    assert f'(API token …{ro[-4:]} of base "CLI" at {server.url}.)' in out.stderr


class _HtmlHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!DOCTYPE html><html><head><title>Welcome to nginx</title></head><body>" + (
            b"<p>lots of markup</p>" * 500) + b"</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_html_error_page_is_summarised_to_its_status_line() -> None:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HtmlHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        res = CliRunner().invoke(main, ["ls", "--server-url", url, "--api-token", "t" * 40])
        assert res.exit_code == 1  # not "not found": the URL is no server at all
        assert res.stderr.startswith("Error: HTTP 404: Not Found (the answer is an HTML page, not "
                                     "an atoll or SeaTable message).")
        assert f"Is {url} an atoll or SeaTable server?" in res.stderr
        assert "<" not in res.stderr and "markup" not in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
    finally:
        httpd.shutdown()
        httpd.server_close()


# -- mkdir and the folder messages ------------------------------------------------------------


def test_mkdir_then_upload_and_ls(server: LiveServer, token: str, tmp_path: Path) -> None:
    env = {"ATOLL_SERVER_URL": server.url, "ATOLL_API_TOKEN": token}
    runner = CliRunner(env=env)
    missing = runner.invoke(main, ["ls", "/Reports"])
    assert missing.exit_code == 4
    assert missing.stderr.strip() == (
        "Error: HTTP 404: folder /Reports does not exist; create it with `atoll mkdir /Reports` "
        "or POST /api/v2.1/dtable/custom/app-asset-dir/?path=/Reports (API token)")
    no_slash = runner.invoke(main, ["ls", "Reports"])
    assert "custom folder paths start with / (try /Reports)" in no_slash.stderr
    assert "/custom/Reports" not in missing.stderr + no_slash.stderr  # no internal path

    made = runner.invoke(main, ["mkdir", "/Reports/2025", "/Other"])
    assert made.exit_code == 0, made.output
    assert [json.loads(x) for x in made.stdout.splitlines()] == [{"path": "/Reports/2025"},
                                                                 {"path": "/Other"}]
    again = runner.invoke(main, ["mkdir", "/Reports/2025/"])
    assert again.exit_code == 0 and json.loads(again.stdout) == {"path": "/Reports/2025"}
    assert runner.invoke(main, ["mkdir", "Reports"]).exit_code == 2
    assert runner.invoke(main, ["mkdir", "/"]).exit_code == 2

    f = tmp_path / "q1.txt"
    f.write_text("quarter")
    up = runner.invoke(main, ["upload", "--custom-folder", "/Reports/2025", str(f)])
    assert up.exit_code == 0, up.output
    assert json.loads(up.stdout)["name"] == "q1.txt"
    listing = runner.invoke(main, ["ls", "/Reports"])
    assert json.loads(listing.stdout) == {"dir": [{"name": "2025"}], "file": []}
    gone = runner.invoke(main, ["download", "/Reports/2025/nope.txt", "-o", str(tmp_path)])
    assert gone.exit_code == 4  # SeaTable's 400 "does not exist" is a not-found too
    assert gone.stderr.strip() == "Error: HTTP 400: file /Reports/2025/nope.txt does not exist"
    gone = runner.invoke(main, ["download", "files/1999-01/nope.txt", "-o", str(tmp_path)])
    assert gone.exit_code == 4
    assert gone.stderr.strip() == "Error: HTTP 400: file files/1999-01/nope.txt does not exist"


# -- progress --------------------------------------------------------------------------------


def _transfers(terminal: bool, now: list[float], **kw: object) -> tuple[Transfers, io.StringIO]:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=terminal, width=120)
    return Transfers(console, get_time=lambda: now[0], **kw), stream  # type: ignore[arg-type]


MiB = 1024 * 1024


def test_progress_line_has_bytes_rate_and_eta() -> None:
    now = [100.0]
    shown, stream = _transfers(True, now)
    with shown, shown.file("big.iso", 10 * MiB) as bar:
        bar(0, 10 * MiB)
        now[0] += 2.0
        bar(4 * MiB, 10 * MiB)
        shown.bars.refresh()
        drawn = stream.getvalue()
        assert "\x1b[" in drawn  # a terminal: redrawn in place
        assert "big.iso 4.0 MiB / 10.0 MiB 40% 2.0 MiB/s ETA 0:03" in " ".join(drawn.split())
        now[0] += 3.0
        bar(10 * MiB, 10 * MiB)
    # the finished file's line stays, printed once above the (then erased) live lines
    assert "big.iso  10.0 MiB / 10.0 MiB  100%  2.0 MiB/s  in 0:05\n" in stream.getvalue()


def test_progress_total_line_and_plain_lines_off_a_terminal() -> None:
    now = [100.0]
    shown, stream = _transfers(False, now, files=2, total_bytes=20 * MiB)
    with shown:
        with shown.file("a.iso", 10 * MiB) as bar:
            bar(0, 10 * MiB)
            now[0] += 0.5
            bar(1 * MiB, 10 * MiB)  # within the second: no line
            now[0] += 1.5
            bar(4 * MiB, 10 * MiB)
            now[0] += 3.0
            bar(10 * MiB, 10 * MiB)
        with shown.file("[b]:x:.iso", 10 * MiB) as bar:  # a name is no markup, no emoji
            bar(6 * MiB, 10 * MiB)  # resumed at the server's offset: the rate counts new bytes
            now[0] += 1.0
            bar(10 * MiB, 10 * MiB)
    assert stream.getvalue().splitlines() == [
        "a.iso  0 B / 10.0 MiB  0%  0 B/s",
        "a.iso  4.0 MiB / 10.0 MiB  40%  2.0 MiB/s  ETA 0:03",
        "a.iso  10.0 MiB / 10.0 MiB  100%  2.0 MiB/s  in 0:05",
        "[b]:x:.iso  6.0 MiB / 10.0 MiB  60%  0 B/s",
        "[b]:x:.iso  10.0 MiB / 10.0 MiB  100%  4.0 MiB/s  in 0:01",
        "total (2 files)  20.0 MiB / 20.0 MiB  100%  3.3 MiB/s  in 0:06",
    ]
    assert "\x1b" not in stream.getvalue()


def test_progress_unknown_size() -> None:
    now = [100.0]
    shown, stream = _transfers(False, now)
    with shown, shown.file("s") as bar:
        bar(0, None)
    assert stream.getvalue().splitlines() == ["s  0 B  0 B/s", "s  0 B  0 B/s"]


def _big_file(tmp_path: Path) -> Path:
    f = tmp_path / "big.bin"
    f.write_bytes(os.urandom(3 * 1024 * 1024))
    return f


def test_progress_on_a_terminal_only(server: LiveServer, token: str, tmp_path: Path) -> None:
    env = {"ATOLL_SERVER_URL": server.url, "ATOLL_API_TOKEN": token}
    f = _big_file(tmp_path)
    # not a terminal: stderr stays empty, the result (with the stored name) is on stdout
    out = atoll_cli("upload", "--replace", str(f), env=env)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert json.loads(out.stdout)["name"] == "big.bin"
    # asked for: plain lines
    out = atoll_cli("upload", "--replace", "--progress", str(f), env=env)
    assert out.returncode == 0 and "big.bin  3.0 MiB / 3.0 MiB  100%" in out.stderr

    # a pseudo-terminal on stderr: the line is redrawn in place
    cmd = [sys.executable, "-m", "atoll", "upload", "--replace", str(f)]
    seen, stdout = _on_a_terminal(cmd, {**os.environ, **env}, stdout_too=False)
    assert "\x1b[" in seen  # drawn in place
    assert "big.bin  3.0 MiB / 3.0 MiB  100%" in seen and "/s" in seen
    assert json.loads(stdout)["name"] == "big.bin"
    assert "big.bin" not in stdout.split('"name"')[0]  # stdout is only the JSON

    # stdout on the same terminal: each result is one whole line above the bars, never cut
    g = tmp_path / "second.bin"
    g.write_bytes(b"2" * 1024 * 1024)
    seen, _ = _on_a_terminal([*cmd, str(g)], {**os.environ, **env, "COLUMNS": "60"},
                             stdout_too=True)
    results = [json.loads(x) for x in re.findall(r'\{"type": [^\r\n]*\}(?=\r\n)', seen)]
    assert [r["name"] for r in results] == ["big.bin", "second.bin"], seen
    assert "total (2 files)  4.0 MiB / 4.0 MiB  100%" in seen


def _on_a_terminal(cmd: list[str], env: dict[str, str], *, stdout_too: bool) -> tuple[str, str]:
    """Run ``cmd`` with stderr (and with ``stdout_too`` stdout) on a pseudo-terminal; what the
    terminal showed, and the piped stdout."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(cmd, env=env, stderr=slave,
                                stdout=slave if stdout_too else subprocess.PIPE)
        os.close(slave)
        seen = b""
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        stdout, _ = proc.communicate(timeout=30)
    finally:
        os.close(master)
    assert proc.returncode == 0
    return seen.decode(), (stdout or b"").decode()
