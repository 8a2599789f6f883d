"""``make serve`` / ``make demo``: the development server with the background worker
beside it, stopped together.

``python -m blend.web.devserver HOST:PORT`` starts ``blend db-worker`` (the tasks
worker: it retries a failed SAE notification, docs/deployment.md) and then
``blend runserver HOST:PORT`` in the foreground. When the server stops (Ctrl-C, a
SIGTERM to this process, or the server exiting by itself), the worker is stopped too
and waited for; a worker that dies leaves the server running (the cron run still
delivers the outbox). Production runs the two as separate services instead.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

#: How long a process may take to stop by itself (the worker finishes the task in hand)
#: before it is told to, and then again before it is killed.
GRACE_SECONDS = 10


def _blend() -> str:
    script = Path(sys.executable).with_name("blend")
    return str(script) if script.exists() else "blend"


def worker_command() -> list[str]:
    # No autoreload: a reloading worker is two processes, and its child would outlive a
    # SIGTERM to the parent.
    return [_blend(), "db-worker", "--no-reload", "--interval", "2"]


def server_command(address: str) -> list[str]:
    return [_blend(), "runserver", address]


def _stop(process: subprocess.Popen[bytes], *, already_signalled: bool) -> None:
    """Stop ``process``: after a Ctrl-C, which reached it too, give it time to stop by
    itself (a second signal would make the worker abandon a message mid-send); then
    SIGTERM, and SIGKILL if it has still not ended."""
    if already_signalled:
        try:
            process.wait(GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            pass
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(server: Sequence[str], worker: Sequence[str]) -> int:
    """Run ``worker`` in the background and ``server`` in the foreground; return the
    server's exit code once both have stopped."""

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    background = subprocess.Popen(list(worker))
    foreground: subprocess.Popen[bytes] | None = None
    interrupted = False
    try:
        foreground = subprocess.Popen(list(server))
        return foreground.wait()
    except KeyboardInterrupt:  # Ctrl-C reached the whole process group: both are stopping
        interrupted = True
        return 130
    finally:
        if foreground is not None:
            _stop(foreground, already_signalled=interrupted)
        _stop(background, already_signalled=interrupted)
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m blend.web.devserver HOST:PORT", file=sys.stderr)
        return 2
    return run(server_command(args[0]), worker_command())


if __name__ == "__main__":
    sys.exit(main())
