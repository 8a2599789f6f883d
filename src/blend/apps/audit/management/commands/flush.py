"""Django's ``flush``, able to empty the append-only tables only under the test runner.

The test runner empties every table after each transactional test with ``flush``.
The audit tables refuse DELETE (SQLite) and TRUNCATE (PostgreSQL) to everyone else, so
this command lifts that refusal for its own statements, and only while Django's test
environment is set up (``setup_test_environment``). Anywhere else ``blend flush`` meets
the refusal and its transaction rolls back: an audit trail is not flushed.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.core.management.commands import flush
from django.test import utils as test_utils

from blend.apps.audit.append_only import deletes_allowed_for_flush


def _under_test_runner() -> bool:
    # Django's own marker of a set-up test environment (setup_test_environment sets it).
    return hasattr(test_utils._TestState, "saved_data")


class Command(flush.Command):
    help = (
        "Django's flush (remove every row); the append-only audit tables refuse it, except "
        "under the test runner."
    )

    def handle(self, **options: Any) -> None:
        allowed = (
            deletes_allowed_for_flush(options["database"])
            if _under_test_runner()
            else contextlib.nullcontext()
        )
        with allowed:
            super().handle(**options)
