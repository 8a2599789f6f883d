"""Group commit: the allocations of one trial that arrive together share one transaction.

A trial's allocations form one chain, so they are serialised by design, and each one
alone would hold the chain's lock through its own commit (the fsync). Here the
requests of one trial queue up in arrival order; one of them, the leader, takes every
request waiting at that moment and commits them together in one transaction, each still
its own chain link with its own hash and MAC (``blend.randomization.chain.extend_keyed``).
Nobody is answered before that commit has returned, i.e. is durable; a request that
cannot be allocated (already allocated, an overlap rule) is answered with its own error
and leaves the others alone.

After its group, the leader answers every member and hands the lead to the first request
that arrived meanwhile, so no caller serves more than its own group. Separate trials
(and separate configurations: seed, chain key) have separate queues and run in parallel.
This works within one process (the threads of a gunicorn worker); separate worker
processes each group their own requests and queue on the database's lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: At most this many requests in one transaction (bounds the statement's size).
MAX_GROUP = 64
#: Off: every allocation commits alone (the lean single path; bench/bench_allocation.py
#: measures both).
ENABLED = True


@dataclass(eq=False)
class Pending(Generic[T, R]):
    """One request waiting for its group's commit."""

    item: T
    result: R | None = None
    error: BaseException | None = None
    answered: bool = False
    leads: bool = False
    _wake: threading.Event = field(default_factory=threading.Event)

    def answer(self, result: R) -> None:
        self.result, self.answered = result, True
        self._wake.set()

    def fail(self, error: BaseException) -> None:
        self.error, self.answered = error, True
        self._wake.set()

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


@dataclass(eq=False)
class _Queue(Generic[T, R]):
    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: list[Pending[T, R]] = field(default_factory=list)
    led: bool = False


class Group(Generic[T, R]):
    """The members of one transaction; ``release`` hands the lead on (idempotent)."""

    def __init__(self, members: list[Pending[T, R]], release: Callable[[], None]) -> None:
        self.members = members
        self._release = release
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._release()


class GroupCommit(Generic[T, R]):
    def __init__(self) -> None:
        self._queues: dict[Hashable, _Queue[T, R]] = {}
        self._lock = threading.Lock()

    def _queue(self, key: Hashable) -> _Queue[T, R]:
        with self._lock:
            return self._queues.setdefault(key, _Queue())

    def submit(self, key: Hashable, item: T, run: Callable[[Group[T, R]], None]) -> R:
        """Queue ``item`` under ``key`` and wait for its group's commit. ``run`` commits a
        group, answers each member (after the commit) and may ``release`` the lead early."""
        queue = self._queue(key)
        pending: Pending[T, R] = Pending(item)
        with queue.lock:
            queue.waiting.append(pending)
            pending.leads = not queue.led
            queue.led = True
        while not pending.leads:
            pending._wake.wait()
            pending._wake.clear()
            if pending.answered:
                return pending.outcome()
        self._lead(queue, run)
        return pending.outcome()

    def _lead(self, queue: _Queue[T, R], run: Callable[[Group[T, R]], None]) -> None:
        with queue.lock:
            members = queue.waiting[:MAX_GROUP]
            del queue.waiting[:MAX_GROUP]
        group = Group(members, lambda: self._hand_over(queue))
        try:
            run(group)
        except BaseException as error:  # noqa: BLE001 - every member must hear of it
            for member in members:
                if not member.answered:
                    member.fail(error)
        finally:
            for member in members:
                if not member.answered:
                    member.fail(RuntimeError("allocation: the group ended without an answer"))
            group.release()

    @staticmethod
    def _hand_over(queue: _Queue[T, R]) -> None:
        with queue.lock:
            if queue.waiting:
                successor = queue.waiting[0]
                successor.leads = True
                successor._wake.set()
            else:
                queue.led = False
