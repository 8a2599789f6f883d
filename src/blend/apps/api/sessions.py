"""Sessions: an idle timeout without a write per page view, and ending a user's sessions.

Every session engine ends a session ``SESSION_COOKIE_AGE`` (BLEND_SESSION_SECONDS) after it
was last saved: the database engine stores that expiry with the row, the cache engine as
the key's lifetime, the signed-cookie engine checks the signature's age. Saving the session
on every request (``SESSION_SAVE_EVERY_REQUEST``) made that an idle timeout, at the price
of a database write per page view, which on SQLite queues every read behind the one
writer, and which fails every page while the database is read-only.

:class:`IdleSessionMiddleware` saves a session that did not change at most once a
``SESSION_TOUCH_SECONDS`` (60 s): the session still ends ``SESSION_COOKIE_AGE`` after the
last request, to within that minute (never later). That save is its own small write, and
when it fails (a read-only database) the page is still served.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from blend.apps.accounts.models import User

log = logging.getLogger(__name__)

TOUCHED = "_blend_touched"  # when the middleware last saved the session (epoch seconds)


class IdleSessionMiddleware:
    """Placed right after Django's SessionMiddleware, so its answer phase runs first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # A session this request never read is not a sign of activity; an empty one is a
        # visitor who never logged in, for whom no row is created.
        if session is None or not session.accessed or session.is_empty():
            return response
        if response.status_code >= 500:
            return response
        now = int(time.time())
        if session.modified:  # saved anyway by SessionMiddleware: record the touch for free
            session[TOUCHED] = now
            return response
        # Never less often than twice per idle period, however short BLEND_SESSION_SECONDS is.
        every = min(settings.SESSION_TOUCH_SECONDS, settings.SESSION_COOKIE_AGE // 2)
        if now - int(session.get(TOUCHED, 0)) < every:
            return response
        session[TOUCHED] = now
        try:
            with transaction.atomic():
                session.save()
        except (DatabaseError, UpdateError) as error:
            # Read-only database, or the session ended meanwhile (a lockout): the page that
            # only read is served; the session ends at its old expiry instead.
            log.warning("session activity not recorded: %s", error)
        session.modified = False  # saved (or deliberately not): SessionMiddleware need not
        return response


def end_sessions(user: User) -> int:
    """End every open session of ``user`` (the database session engine, the project's),
    so the next request of any of them is logged out. Returns how many ended."""
    mine = str(user.pk)
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == mine
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)
