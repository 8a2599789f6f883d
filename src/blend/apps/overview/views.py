"""The dashboard, the participant list and the participant page: each app adds its
cards and panels (``overview.panels``); this app only composes them."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.allocation import blinding
from blend.apps.audit.services import participant_history
from blend.apps.consent.queries import FILTER_STATES, consent_summary
from blend.apps.consent.services import bulk_consent_states, consent_states
from blend.apps.overview import queries
from blend.apps.overview.panels import collect_dashboard_cards, collect_panels
from blend.apps.overview.trial_status import trial_rows
from blend.apps.registry.forms import ParticipantFilterForm
from blend.apps.registry.models import Participant
from blend.protocol import load_protocol

PAGE_SIZE = 50


@require(Cap.PARTICIPANT_VIEW)
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    protocol = load_protocol()
    summary = consent_summary(list(protocol.consent_codes))
    items = [{"item": item, "counts": summary[item.code]} for item in protocol.consent_items]
    return render(
        request,
        "overview/dashboard.html",
        {
            "cohort_size": Participant.objects.count(),
            "consent_items": items,
            "answers": list(FILTER_STATES),
            "protocol": protocol,
            "cards": collect_dashboard_cards(request),
        },
    )


@require(Cap.PARTICIPANT_VIEW)
def participant_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ParticipantFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    show_identity = request.user.can(Cap.IDENTIFIERS_VIEW)
    qs = queries.filtered_participants(filters, may_search_identifiers=show_identity)
    if show_identity:
        qs = qs.select_related("identity")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    states = bulk_consent_states([p.pk for p in page.object_list])
    rows = [
        {
            "p": p,
            "consent": states[p.pk],
            # Only a role that may see identifiers gets them; the others never load them.
            "identity": getattr(p, "identity", None) if show_identity else None,
        }
        for p in page.object_list
    ]
    query_string = request.GET.copy()
    query_string.pop("page", None)
    template = (
        "overview/_participant_rows.html"
        if request.headers.get("HX-Request")
        else "overview/participant_list.html"
    )
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query_string": query_string.urlencode(),
            "consent_codes": load_protocol().consent_codes,
            "show_identity": show_identity,
        },
    )


@require(Cap.PARTICIPANT_VIEW)
def participant_detail(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant.objects.select_related("site"), study_id=study_id)
    protocol = load_protocol()
    show_identity = request.user.can(Cap.IDENTIFIERS_VIEW)
    states = consent_states(participant)
    context = {
        "participant": participant,
        "identity": participant.identity if show_identity else None,
        "consent_rows": [{"item": i, "state": states[i.code]} for i in protocol.consent_items],
        "consent_history": participant.consents.select_related("form_version", "recorded_by"),
        "history": participant_history(
            participant,
            include_identifiers=show_identity,
            # Per trial: the allocation, offer and treatment rows, the arm-specific
            # fields and forms, of the trials whose arms this user may see.
            include_allocation=blinding.sees_arms_in(request.user),
            hidden_forms=blinding.hidden_forms(request.user),
        )
        if request.user.can(Cap.AUDIT_VIEW)
        else None,
        "panels": collect_panels(request, participant),
        "trial_rows": trial_rows(participant, request.user),
    }
    return render(request, "overview/participant_detail.html", context)
