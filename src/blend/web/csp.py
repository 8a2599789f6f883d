"""The Content-Security-Policy every response carries (django-csp), and how a deployment
extends it (docs/deployment.md, "Content-Security-Policy"; docs/security.md, section 8).

The policy is strict: scripts only from the platform's own static files (no inline
script, no inline event handler, no ``eval``), styles only from its stylesheets (no
``style=""``, no ``<style>``), no plugins, no ``<base>``, no framing, forms post only to
the platform. Nothing in the templates needs a nonce, so none is issued.

``BLEND_CSP_EXTRA`` adds sources for a hospital's own infrastructure (a proxy that
injects a script or a logo from another host), as ``directive source ...; directive
source ...``. It can add hosts and hashes, never weaken the script rules: an inline
script is allowed only by its ``'sha256-...'`` hash.
"""

from __future__ import annotations

import re
from typing import Any

from csp.constants import NONE, SELF

POLICY: dict[str, list[str]] = {
    "default-src": [SELF],
    "script-src": [SELF],
    "style-src": [SELF],
    # data: for the empty favicon (<link rel="icon" href="data:,">) and Swagger UI's icons.
    "img-src": [SELF, "data:"],
    "object-src": [NONE],
    "base-uri": [NONE],
    "frame-ancestors": [NONE],
    "form-action": [SELF],
}

#: Directives BLEND_CSP_EXTRA may extend (fetch directives and form-action).
EXTENSIBLE = frozenset(
    {
        "default-src",
        "script-src",
        "style-src",
        "img-src",
        "font-src",
        "connect-src",
        "frame-src",
        "media-src",
        "worker-src",
        "manifest-src",
        "form-action",
    }
)
#: Sources that would undo the policy's point; a hash or a host is the way.
REFUSED = {
    "'unsafe-inline'": "an inline script or style is allowed by its 'sha256-...' hash instead",
    "'unsafe-eval'": "the platform runs no eval",
    "'unsafe-hashes'": "inline event handlers are not allowed; use a script file",
    "*": "name the host",
    "data:": "a data: URL is no place for a script or a page",
    "http:": "name the host",
    "https:": "name the host",
}
_SOURCE = re.compile(
    r"'sha(?:256|384|512)-[A-Za-z0-9+/=_-]+'"  # a hash
    r"|'self'|'none'"
    r"|(?:https?|wss?)://[A-Za-z0-9.*-]+(?::[0-9]+)?(?:/[^\s;,']*)?"  # a host source
    r"|[A-Za-z0-9*][A-Za-z0-9.*-]*(?::[0-9]+)?"  # a bare host
    r"|data:|blob:|\*|https?:|'unsafe-[a-z]+'"  # recognised only to be refused or allowed
)


class PolicyError(ValueError):
    """A BLEND_CSP_EXTRA that cannot be used; the message names the variable."""


def parse_extra(text: str, name: str = "BLEND_CSP_EXTRA") -> dict[str, list[str]]:
    """``"img-src https://logo.example; script-src 'sha256-...'"`` as directive -> sources."""
    extra: dict[str, list[str]] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        directive, *sources = part.split()
        directive = directive.lower()
        if directive not in EXTENSIBLE:
            raise PolicyError(
                f"{name}: expected a directive among {', '.join(sorted(EXTENSIBLE))}, "
                f"got {directive!r}"
            )
        if not sources:
            raise PolicyError(f"{name}: expected at least one source after {directive}, got none")
        for source in sources:
            if not _SOURCE.fullmatch(source):
                raise PolicyError(
                    f"{name}: expected a host (https://host), a 'sha256-...' hash or 'self' "
                    f"for {directive}, got {source!r}"
                )
            refused = REFUSED.get(source.lower())
            if refused and (directive in {"script-src", "default-src"} or source != "data:"):
                raise PolicyError(f"{name}: {source} is refused for {directive} ({refused})")
        extra.setdefault(directive, []).extend(sources)
    return extra


def policy(extra: str = "", report_uri: str = "") -> dict[str, Any]:
    """The CONTENT_SECURITY_POLICY setting of django-csp 4 (``{"DIRECTIVES": ...}``)."""
    directives: dict[str, Any] = {key: list(value) for key, value in POLICY.items()}
    for directive, sources in parse_extra(extra).items():
        current = directives.setdefault(directive, list(POLICY["default-src"]))
        current.extend(s for s in sources if s not in current)
    if report_uri:
        directives["report-uri"] = report_uri
    return {"DIRECTIVES": directives}
