"""The data-management part of the REST API: a write to locked data is a conflict (409)."""

from __future__ import annotations

from blend.apps.api.core import add_error
from blend.apps.datamanagement.locks import Locked

add_error(Locked, 409)
