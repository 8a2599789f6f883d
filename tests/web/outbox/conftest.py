"""Shared fixtures: tests/web/followup/factories.py."""

from tests.web.followup.factories import allocate, aware, sms_outbox, treat  # noqa: F401
