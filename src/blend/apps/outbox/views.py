"""The outbox pages: what was queued, sent, cancelled or failed for participants, and
every message (to participants or staff) whose delivery failed and is being retried.
A participant's address is an identifier: shown only with ``identifiers.view``."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import render

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.outbox.models import Audience, Message, Status
from blend.apps.outbox.services import MAX_ATTEMPTS, undelivered

PAGE_SIZE = 50


@require(Cap.PARTICIPANT_VIEW)
def message_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    messages = Message.objects.filter(audience=Audience.PARTICIPANT).select_related("participant")
    wanted = request.GET.get("status", "")
    if wanted in Status.values:
        messages = messages.filter(status=wanted)
    counts = dict(
        Message.objects.filter(audience=Audience.PARTICIPANT)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    page = Paginator(messages.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "outbox/list.html",
        {
            "page": page,
            "wanted": wanted,
            "statuses": [(s, label, counts.get(s, 0)) for s, label in Status.choices],
            "show_address": request.user.can(Cap.IDENTIFIERS_VIEW),
        },
    )


@require(Cap.PARTICIPANT_VIEW)
def undelivered_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Messages that failed at least once and are not sent: the dashboard card's page."""
    rows = undelivered().select_related("participant").order_by("send_after", "id")[:200]
    return render(
        request,
        "outbox/undelivered.html",
        {
            "rows": rows,
            "max_attempts": MAX_ATTEMPTS,
            "show_address": request.user.can(Cap.IDENTIFIERS_VIEW),
        },
    )
