"""Typed environment helpers that fail loudly on bad values.

Secrets come from ``NAME`` or from a file named by ``NAME_FILE`` (Docker/Kubernetes
secrets). No Django imports: ``settings.py`` wraps failures in ImproperlyConfigured.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class EnvError(ValueError):
    """An environment variable holds a value of the wrong shape."""


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise EnvError(
        f"{name}: expected one of {sorted(TRUE_WORDS | FALSE_WORDS - {''})}, got {raw!r}"
    )


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise EnvError(f"{name}: expected an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise EnvError(f"{name}: expected an integer >= {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_secret(name: str, default: str | None = None) -> str | None:
    """Read ``NAME``, or the contents of the file named by ``NAME_FILE``."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        path = Path(file_name)
        if not path.is_file():
            raise EnvError(f"{name}_FILE: expected a readable file, got {file_name!r}")
        return path.read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def trial_secrets(prefix: str) -> dict[str, str]:
    """``{CODE: secret}`` from every ``PREFIX_CODE`` or ``PREFIX_CODE_FILE`` variable
    (``PREFIX_FILE`` itself is the default trial's file, not a trial called FILE)."""
    pattern = re.compile(rf"^{re.escape(prefix)}_([A-Z0-9_]+?)(_FILE)?$")
    found: dict[str, str] = {}
    for name in sorted(os.environ):
        match = pattern.match(name)
        if match is None or name == f"{prefix}_FILE":
            continue
        secret = env_secret(f"{prefix}_{match.group(1)}")
        if secret:  # a trial code's '-' is '_' in a variable name
            found[match.group(1).replace("_", "-")] = secret
    return found


def load_local_settings(path: Path) -> list[str]:
    """Apply a local settings file (``KEY=VALUE`` lines, ``#`` comments) to the
    environment, for the ``BLEND_*`` variables the environment does not set itself,
    and return the names applied. ``make demo`` writes one under ``var/`` so that every
    ``blend`` command typed after it finds the demo's settings; the environment always
    wins, and a production server has no such file (``check --deploy`` refuses one)."""
    if not path.is_file():
        return []
    applied = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, sep, value = text.partition("=")
        name = name.strip()
        if not sep or not name.startswith("BLEND_"):
            raise EnvError(f"{path}:{number}: expected BLEND_NAME=value, got {text!r}")
        if name not in os.environ:
            os.environ[name] = value.strip()
            applied.append(name)
    return applied
