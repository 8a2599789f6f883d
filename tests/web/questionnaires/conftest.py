"""Shared fixtures: tests/web/followup/factories.py."""

from tests.web.followup.factories import allocate, aware, sms_outbox, treat  # noqa: F401
from tests.web.followup.palliate import palliate  # noqa: F401
