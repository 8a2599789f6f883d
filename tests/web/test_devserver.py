"""`make serve` runs the tasks worker beside the development server
(blend.web.devserver): when the server stops, the worker is stopped too."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from blend.web.devserver import run, server_command, worker_command

# The worker stand-in writes its pid and then waits far longer than any test; the server
# stand-in exits as soon as the worker is up (bounded wait: at most 30 s).
WORKER = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(600)"
SERVER = (
    "import os, sys, time\n"
    "for _ in range(3000):\n"
    "    if os.path.exists(sys.argv[1]) and open(sys.argv[1]).read(): break\n"
    "    time.sleep(0.01)\n"
    "sys.exit(3)"
)


def test_the_worker_stops_when_the_server_stops(tmp_path: Path) -> None:
    pid_file = tmp_path / "worker.pid"
    code = run(
        [sys.executable, "-c", SERVER, str(pid_file)],
        [sys.executable, "-c", WORKER, str(pid_file)],
    )
    assert code == 3  # the server's own exit code
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass  # stopped and reaped
    else:
        raise AssertionError(f"the worker (pid {pid}) still runs after the server stopped")


def test_make_serve_runs_the_database_worker_and_the_server() -> None:
    assert worker_command()[1:3] == ["db-worker", "--no-reload"]
    assert server_command("127.0.0.1:8100")[1:] == ["runserver", "127.0.0.1:8100"]
    makefile = (Path(__file__).parents[2] / "Makefile").read_text()
    assert "$(BIN)/python -m blend.web.devserver $(HOST):$(PORT)" in makefile
