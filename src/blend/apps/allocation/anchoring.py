"""The chain head outside the database: the anchor file and the trial office's receipts.

After each allocation commits, its head (the trial, the sequence number, the record's
MAC and the time) is appended as one signed line (``blend.randomization.anchor``) to
``<BLEND_CHAIN_ANCHOR_DIR>/<TRIAL>.log``: opened with O_APPEND (never rewritten) and
fsynced. The head digest is the record's MAC, not its SHA-256 hash: the hash could be
recomputed by someone who knows the record's other fields for both arms, the MAC only
with the chain key, so neither the file nor a receipt reveals an arm.

When ``BLEND_CHAIN_RECEIPT_EMAIL`` is set, the same line is queued in the outbox, in the
allocation's own transaction, as a staff e-mail to the trial office (a receipt; no
patient is ever contacted), and is sent by the outbox's next run. ``verify --anchor``
reads either: the anchor file, or the trial office's receipts saved to a file.

The anchor file is written after the commit, so it never holds an allocation that was
rolled back; a crash between the commit and the append leaves the file one allocation
behind, which verify accepts (an anchor behind the database is no truncation). A failure
to write it never fails the allocation (that is committed and shown); it is logged.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction

from blend.apps.outbox.models import Audience, Channel
from blend.apps.outbox.services import queue_message
from blend.randomization.anchor import anchor_line

logger = logging.getLogger(__name__)

RECEIPT_TEMPLATE = "allocation.chain-receipt"


def anchor_path(trial: str) -> Path | None:
    """The trial's anchor file; None when anchoring to a file is turned off."""
    folder = getattr(settings, "CHAIN_ANCHOR_DIR", "")
    if not folder:
        return None
    return Path(folder) / f"{trial}.log"


def append_anchor(path: Path, line: str) -> None:
    """Append ``line`` durably: O_APPEND (each write lands at the end, whatever else
    appends at the same time), then fsync before returning."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, line.encode("ascii"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _append(path: Path, line: str) -> None:
    try:
        append_anchor(path, line)
    except OSError:
        logger.exception("allocation chain anchor: could not append to %s", path)


# The lines committed inside ``anchors_after_lock`` on this thread, appended when it ends.
_deferred = threading.local()


@contextmanager
def anchors_after_lock() -> Iterator[None]:
    """Append the anchor lines of the allocations committed inside this block when it
    ends, i.e. after the allocation has left the SQLite writer lock
    (``sequence.durable_commit``), so the anchor's fsync never holds up the next
    allocation. Outside such a block a line is appended as soon as its allocation commits."""
    previous = getattr(_deferred, "pending", None)
    pending: list[tuple[Path, str]] = []
    _deferred.pending = pending
    try:
        yield
    finally:
        _deferred.pending = previous
        # A group commit's lines go to the file in one append and one fsync, in order.
        by_path: dict[Path, list[str]] = {}
        for path, line in pending:
            by_path.setdefault(path, []).append(line)
        for path, lines in by_path.items():
            _append(path, "".join(lines))


def _after_commit(path: Path, line: str) -> None:
    pending = getattr(_deferred, "pending", None)
    if pending is not None:
        pending.append((path, line))
    else:
        _append(path, line)


def anchor_head(key: bytes, *, trial: str, number: int, digest: str, at: datetime) -> None:
    """Anchor the head ``digest`` (the MAC of record ``number``) outside the database:
    the anchor file once the allocation commits, and the trial office's receipt queued
    with the allocation."""
    line = anchor_line(key, trial, number, digest, at)
    path = anchor_path(trial)
    if path is not None:
        transaction.on_commit(lambda: _after_commit(path, line))
    office = getattr(settings, "CHAIN_RECEIPT_EMAIL", "")
    if office:
        queue_message(
            audience=Audience.STAFF,
            channel=Channel.EMAIL,
            to_address=office,
            template_code=RECEIPT_TEMPLATE,
            context={
                "subject": f"BLEND allocation receipt: {trial} #{number}",
                "body": (
                    f"Allocation #{number} of {trial} was recorded. Keep this receipt: the "
                    "line below lets `blend randomization verify --anchor FILE` prove that "
                    "no allocation was later deleted or rewritten. It reveals no arm.\n\n"
                    f"{line}"
                ),
            },
            language="en",
            dedup_key=f"chain-receipt:{trial}:{number}",
        )
