"""SMS backends, pluggable like Django's e-mail backends (settings.SMS_BACKEND).

A backend has ``send_messages(messages: list[SMS]) -> int`` (the number sent). A real
gateway backend subclasses ``BaseSMSBackend``; the console backend is for development
and the locmem backend for tests (it keeps what was sent in ``sent``).
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import TextIO

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SMS:
    to: str
    body: str


class BaseSMSBackend:
    def send_messages(self, messages: list[SMS]) -> int:
        raise NotImplementedError


class ConsoleSMSBackend(BaseSMSBackend):
    """Write each SMS to stdout (development)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send_messages(self, messages: list[SMS]) -> int:
        with self._lock:
            for sms in messages:
                self.stream.write(f"SMS to {sms.to}\n{sms.body}\n{'-' * 40}\n")
            self.stream.flush()
        return len(messages)


class LocmemSMSBackend(BaseSMSBackend):
    """Keep sent SMS in memory (tests read ``LocmemSMSBackend.sent``)."""

    sent: list[SMS] = []

    def send_messages(self, messages: list[SMS]) -> int:
        type(self).sent.extend(messages)
        return len(messages)


def get_sms_backend() -> BaseSMSBackend:
    return import_string(settings.SMS_BACKEND)()
