"""Thin Django apps, one per domain concept. Business rules live in each app's
``services.py`` (state changes, in a transaction, with an audit row) or in the
pure core; models store data and views parse and render.

Imports between apps point one way, down the order in ``blend.dependency_graph.LAYERS``
(docs/architecture.md). Where a lower app shows or runs something of a higher
one, the higher one plugs in: a write guard registered with ``audit.guards``, or a
module found by :func:`discover` (``panels``, ``demo``, ``api``, ``editchecks``, ``casebook``),
the way Django finds each app's ``urls``.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType


def discover(submodule: str) -> list[ModuleType]:
    """Each installed BLEND app's ``<app>.<submodule>`` module, in settings.BLEND_APPS order.

    The one place that imports app modules by name: extension points are found by
    this convention, never by a model or service label."""
    from django.conf import settings

    found = []
    for app in settings.BLEND_APPS:
        name = f"{app}.{submodule}"
        if importlib.util.find_spec(name) is not None:
            found.append(importlib.import_module(name))
    return found
